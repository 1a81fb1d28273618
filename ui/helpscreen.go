package ui

import (
	"strings"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
)

// helpKeys are the `?` screen's keys.
type helpKeys struct {
	Close, Up, Down, PageUp, PageDown key.Binding
}

func defaultHelpKeys() helpKeys {
	return helpKeys{
		Close:    key.NewBinding(key.WithKeys("?", "esc", "q"), key.WithHelp("?/esc", "close help")),
		Up:       key.NewBinding(key.WithKeys("k", "up"), key.WithHelp("↑/k", "scroll up")),
		Down:     key.NewBinding(key.WithKeys("j", "down"), key.WithHelp("↓/j", "scroll down")),
		PageUp:   key.NewBinding(key.WithKeys("pgup", "ctrl+b"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+f", " "), key.WithHelp("pgdn", "page down")),
	}
}

// helpScreen is the `?` screen: every key of the list and the detail pane, in
// the columns the components give. Columns that do not fit side by side go
// below, and the screen scrolls when they do not fit in height either.
type helpScreen struct {
	styles   *Styles
	keys     helpKeys
	help     help.Model
	viewport viewport.Model
	open     bool
	columns  [][]key.Binding
	width    int
	height   int
}

func newHelpScreen(styles *Styles) helpScreen {
	h := helpScreen{styles: styles, keys: defaultHelpKeys(), help: help.New(), viewport: viewport.New(0, 0)}
	h.viewport.KeyMap = viewport.KeyMap{} // scrolling goes through the screen's own keys
	h.help.Styles = styles.Help
	h.updateKeys()
	return h
}

// Open shows columns of keys until a close key.
func (h *helpScreen) Open(columns [][]key.Binding) {
	h.open, h.columns = true, columns
	h.render()
	h.viewport.GotoTop()
}

// IsOpen is whether the screen has the keys.
func (h *helpScreen) IsOpen() bool { return h.open }

// SetSize is the room the screen has, its frame included.
func (h *helpScreen) SetSize(width, height int) {
	h.width, h.height = width, height
	h.render()
}

// chrome is the lines around the keys: the title and a blank line above, a
// blank line and the closing hint below.
const helpChrome = 4

// render lays the columns out in the width and fits the viewport to the
// height.
func (h *helpScreen) render() {
	frameW, frameH := h.styles.Dialog.GetFrameSize()
	inner := max(h.width-frameW, 1)
	const gap = "   "
	var rows, row []string
	rowWidth := 0
	for _, col := range h.columns {
		text := h.help.FullHelpView([][]key.Binding{col})
		w := lipgloss.Width(text)
		if len(row) > 0 && rowWidth+len(gap)+w > inner {
			rows = append(rows, lipgloss.JoinHorizontal(lipgloss.Top, row...))
			row, rowWidth = nil, 0
		}
		if len(row) > 0 {
			row, rowWidth = append(row, gap), rowWidth+len(gap)
		}
		row, rowWidth = append(row, text), rowWidth+w
	}
	if len(row) > 0 {
		rows = append(rows, lipgloss.JoinHorizontal(lipgloss.Top, row...))
	}
	content := clip(strings.Join(rows, "\n\n"), inner, lipgloss.Height(strings.Join(rows, "\n\n")))
	h.viewport.Width = min(lipgloss.Width(content), inner)
	h.viewport.Height = max(min(lipgloss.Height(content), h.height-frameH-helpChrome), 1)
	h.viewport.SetContent(content)
	h.updateKeys()
}

// Update closes the screen on ?, esc or q and scrolls it; other keys do
// nothing.
func (h helpScreen) Update(msg tea.Msg) (helpScreen, tea.Cmd) {
	km, ok := msg.(tea.KeyMsg)
	if !ok {
		return h, nil
	}
	switch {
	case key.Matches(km, h.keys.Close):
		h.open = false
	case key.Matches(km, h.keys.Up):
		h.viewport.ScrollUp(1)
	case key.Matches(km, h.keys.Down):
		h.viewport.ScrollDown(1)
	case key.Matches(km, h.keys.PageUp):
		h.viewport.PageUp()
	case key.Matches(km, h.keys.PageDown):
		h.viewport.PageDown()
	}
	h.updateKeys()
	return h, nil
}

// updateKeys enables scrolling only when the keys do not all fit.
func (h *helpScreen) updateKeys() {
	scrolls := h.viewport.TotalLineCount() > h.viewport.Height
	h.keys.Up.SetEnabled(scrolls && !h.viewport.AtTop())
	h.keys.Down.SetEnabled(scrolls && !h.viewport.AtBottom())
	h.keys.PageUp.SetEnabled(scrolls && !h.viewport.AtTop())
	h.keys.PageDown.SetEnabled(scrolls && !h.viewport.AtBottom())
}

func (h helpScreen) ShortHelp() []key.Binding {
	return []key.Binding{h.keys.Down, h.keys.Up, h.keys.Close}
}

func (h helpScreen) FullHelp() [][]key.Binding { return [][]key.Binding{h.ShortHelp()} }

func (h helpScreen) View() string {
	s := h.styles
	hint := "? or esc closes this help"
	if h.viewport.TotalLineCount() > h.viewport.Height {
		hint = "↓/j scrolls, " + hint
	}
	return s.Dialog.Render(s.DialogTitle.Render("Keys") + "\n\n" + h.viewport.View() + "\n\n" + s.Muted.Render(hint))
}
