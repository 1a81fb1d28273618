package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/term"
)

// ErrNoTerminal is returned by Run when stdin or stdout is not a terminal.
var ErrNoTerminal = errors.New("the dashboard needs a terminal; use `doublecheck scan` for scripts and pipes")

// Run shows the dashboard full screen until the operator quits or ctx ends.
// Cancelling ctx (e.g. on SIGTERM) ends the dashboard and returns ctx's error.
func Run(ctx context.Context, m Model) error {
	if !term.IsTerminal(os.Stdin.Fd()) || !term.IsTerminal(os.Stdout.Fd()) {
		return ErrNoTerminal
	}
	m.ctx = ctx
	out := terminalOutput{File: os.Stdout, mu: new(sync.Mutex)}
	if c, ok := m.deps.Clipboard.(TerminalClipboard); ok {
		m.deps.Clipboard = c.WithOutput(out)
	}
	p := tea.NewProgram(m, tea.WithOutput(out), tea.WithAltScreen(), tea.WithMouseCellMotion(), tea.WithContext(ctx))
	if _, err := p.Run(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("running the dashboard: %w", err)
	}
	return nil
}

// TerminalClipboard is a Clipboard that writes to the terminal (OSC 52): Run
// hands it the dashboard's own output, so its sequences never land in the
// middle of a frame.
type TerminalClipboard interface {
	Clipboard
	WithOutput(w io.Writer) Clipboard
}

// terminalOutput serializes writes to the terminal: the renderer draws frames
// from its goroutine while a command may write an OSC 52 sequence from
// another. Through the embedded *os.File it is still a terminal to Bubble Tea
// (size, raw mode).
type terminalOutput struct {
	*os.File
	mu *sync.Mutex
}

func (t terminalOutput) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.File.Write(p)
}
