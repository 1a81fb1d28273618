package ui

import (
	"context"
	"errors"
	"fmt"
	"os"

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
	if _, err := tea.NewProgram(m, tea.WithAltScreen(), tea.WithMouseCellMotion(), tea.WithContext(ctx)).Run(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("running the dashboard: %w", err)
	}
	return nil
}
