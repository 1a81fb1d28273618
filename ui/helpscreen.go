package ui

import (
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// helpKeys are the `?` screen's keys.
type helpKeys struct{ Close key.Binding }

func defaultHelpKeys() helpKeys {
	return helpKeys{Close: key.NewBinding(key.WithKeys("?", "esc", "q"), key.WithHelp("?/esc", "close help"))}
}

// helpScreen is the `?` screen: every key of the list and the detail pane, in
// the columns the components give.
type helpScreen struct {
	styles  *Styles
	keys    helpKeys
	help    help.Model
	open    bool
	columns [][]key.Binding
}

func newHelpScreen(styles *Styles) helpScreen {
	h := helpScreen{styles: styles, keys: defaultHelpKeys(), help: help.New()}
	h.help.Styles = styles.Help
	return h
}

// Open shows columns of keys until a close key.
func (h *helpScreen) Open(columns [][]key.Binding) { h.open, h.columns = true, columns }

// IsOpen is whether the screen has the keys.
func (h *helpScreen) IsOpen() bool { return h.open }

func (h *helpScreen) SetSize(width, _ int) { h.help.Width = width }

// Update closes the screen on ?, esc or q; other keys do nothing.
func (h helpScreen) Update(msg tea.Msg) (helpScreen, tea.Cmd) {
	if km, ok := msg.(tea.KeyMsg); ok && key.Matches(km, h.keys.Close) {
		h.open = false
	}
	return h, nil
}

func (h helpScreen) ShortHelp() []key.Binding { return []key.Binding{h.keys.Close} }

func (h helpScreen) FullHelp() [][]key.Binding { return [][]key.Binding{h.ShortHelp()} }

func (h helpScreen) View() string {
	s := h.styles
	return s.Dialog.Render(s.DialogTitle.Render("Keys") + "\n\n" +
		h.help.FullHelpView(h.columns) + "\n\n" + s.Muted.Render("? or esc closes this help"))
}
