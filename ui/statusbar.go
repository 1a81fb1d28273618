package ui

import (
	"strings"

	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

type flashLevel int

// flashKind says what a flash may replace: a refund's outcome stays until it
// expires or something the operator did replaces it; a routine message (a
// sync that went as usual, new groups found) never replaces it.
type flashKind int

const (
	flashNormal  flashKind = iota
	flashOutcome           // what became of refunds
	flashRoutine           // background news, said again elsewhere (the header)
	flashLink              // ends with a path or a link the operator needs whole: cut from the left
)

const (
	levelInfo flashLevel = iota
	levelWarn
	levelError
)

// activity is background work shown with the spinner, in a fixed order.
type activity int

const (
	activityLoad activity = iota
	activitySync
	activityRefund
	activityResume
	activityCount
)

// statusBar shows the latest flash message on the left and, on the right, the
// background work in progress (with a spinner) and the list position.
type statusBar struct {
	styles  *Styles
	spinner spinner.Model
	width   int

	flashText  string
	flashLevel flashLevel
	flashKind  flashKind
	flashID    int // bumps on every flash so an old expiry does not clear a newer one

	busy  [activityCount]string // text per running activity, "" when idle
	right string                // the filters, the marks and the position
}

func newStatusBar(styles *Styles) statusBar {
	return statusBar{styles: styles, spinner: spinner.New(spinner.WithSpinner(spinner.MiniDot), spinner.WithStyle(styles.Spinner))}
}

func (s *statusBar) SetSize(width int) { s.width = width }

// SetRight is the right side: the filters, the marks and the position.
func (s *statusBar) SetRight(text string) { s.right = text }

// Spinner is the spinner's frame, for other "loading" lines.
func (s *statusBar) Spinner() string { return s.spinner.View() }

// Tick starts the spinner.
func (s *statusBar) Tick() tea.Cmd { return s.spinner.Tick }

// Flash replaces the message and returns its id for the expiry timer; false
// when it is routine and a refund's outcome is showing.
func (s *statusBar) Flash(level flashLevel, kind flashKind, text string) (int, bool) {
	if kind == flashRoutine && s.flashKind == flashOutcome && s.flashText != "" {
		return 0, false
	}
	s.flashID++
	s.flashText, s.flashLevel, s.flashKind = text, level, kind
	return s.flashID, true
}

// Expire clears the flash if it is still the one with id.
func (s *statusBar) Expire(id int) {
	if id == s.flashID {
		s.flashText = ""
	}
}

// Start marks an activity as running; the returned command starts the spinner
// when nothing else was keeping it going.
func (s *statusBar) Start(a activity, text string) tea.Cmd {
	idle := !s.Busy()
	s.busy[a] = text
	if idle {
		return s.spinner.Tick
	}
	return nil
}

func (s *statusBar) Stop(a activity) { s.busy[a] = "" }

// Set shows text for an activity, or stops it when text is "".
func (s *statusBar) Set(a activity, text string) tea.Cmd {
	if text == "" {
		s.Stop(a)
		return nil
	}
	return s.Start(a, text)
}

func (s *statusBar) Busy() bool {
	for _, t := range s.busy {
		if t != "" {
			return true
		}
	}
	return false
}

// Update clears an expired flash, and advances the spinner while there is work
// in progress and lets it stop otherwise.
func (s statusBar) Update(msg tea.Msg) (statusBar, tea.Cmd) {
	switch msg := msg.(type) {
	case flashExpiredMsg:
		s.Expire(msg.id)
	case spinner.TickMsg:
		if s.Busy() {
			var cmd tea.Cmd
			s.spinner, cmd = s.spinner.Update(msg)
			return s, cmd
		}
	}
	return s, nil
}

func (s statusBar) View() string {
	var work []string
	for _, t := range s.busy {
		if t != "" {
			work = append(work, t)
		}
	}
	// The flash wins over the position when both do not fit: it may be a path
	// the operator needs to copy.
	right := s.right
	if s.flashText != "" && lipgloss.Width(s.flashText)+1+lipgloss.Width(right) > s.width {
		right = ""
	}
	if len(work) > 0 {
		right = strings.TrimSpace(s.spinner.View() + " " + strings.Join(work, " · ") + "  " + right)
	}
	right = s.styles.Muted.Render(right)
	left := ""
	if s.flashText != "" {
		style := s.styles.FlashInfo
		switch s.flashLevel {
		case levelWarn:
			style = s.styles.FlashWarn
		case levelError:
			style = s.styles.FlashError
		}
		room := max(s.width-lipgloss.Width(right)-1, 0)
		text := s.flashText
		if s.flashKind == flashLink {
			text = keepEnd(text, room)
		}
		left = style.Render(cell(text, room))
	}
	gap := max(s.width-lipgloss.Width(left)-lipgloss.Width(right), 0)
	return fit(left+strings.Repeat(" ", gap)+right, s.width)
}

// keepEnd shortens text to room cells keeping its last word (a path or a link
// the operator needs to copy) whole: the words before it are cut short, or,
// when the last word alone is too long, it loses its beginning.
func keepEnd(text string, room int) string {
	if lipgloss.Width(text) <= room || room < 2 {
		return text
	}
	i := strings.LastIndex(text, " ")
	if tail := text[i+1:]; i >= 0 && lipgloss.Width(tail)+2 <= room {
		return ansi.Truncate(text[:i], room-lipgloss.Width(tail)-1, "…") + " " + tail
	}
	return ansi.TruncateLeft(text, lipgloss.Width(text)-room+1, "…")
}
