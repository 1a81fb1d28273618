package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// dismissConfirmedMsg is the operator dismissing groups as legitimate, with
// an optional note; the root stores the decisions through its Decider.
type dismissConfirmedMsg struct {
	groups  []string
	charges map[string][]string // group id → the charges on screen when the note opened
	note    string
}

// noteKeys are the dismiss dialog's keys.
type noteKeys struct{ Submit, Cancel key.Binding }

func defaultNoteKeys() noteKeys {
	return noteKeys{
		Submit: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "dismiss")),
		Cancel: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
	}
}

// noteDialog asks for the optional note of a dismissal of some groups.
type noteDialog struct {
	styles  *Styles
	keys    noteKeys
	open    bool
	groups  []string            // the groups to dismiss
	charges map[string][]string // group id → the charges on screen when the note opened
	input   textinput.Model
	width   int
}

func newNoteDialog(styles *Styles) noteDialog {
	return noteDialog{styles: styles, keys: defaultNoteKeys(),
		input: newInput(styles, "optional note, e.g. repeat purchase confirmed by customer")}
}

// Open asks about groups, whose charges on screen now are what the dismissal
// will cover; the returned command starts the input.
func (d *noteDialog) Open(groups []string, charges map[string][]string) tea.Cmd {
	d.open, d.groups, d.charges = true, groups, charges
	d.input.SetValue("")
	return d.input.Focus()
}

// IsOpen is whether the dialog has the keys.
func (d *noteDialog) IsOpen() bool { return d.open }

func (d *noteDialog) SetSize(width, _ int) {
	d.width = width
	d.input.Width = max(min(width-12, 70), 10)
}

// Update types the note; enter asks for the dismissal, esc cancels.
func (d noteDialog) Update(msg tea.Msg) (noteDialog, tea.Cmd) {
	if km, ok := msg.(tea.KeyMsg); ok {
		switch {
		case key.Matches(km, d.keys.Submit):
			d.open = false
			d.input.Blur()
			dismiss := dismissConfirmedMsg{groups: d.groups, charges: d.charges, note: strings.TrimSpace(d.input.Value())}
			return d, func() tea.Msg { return dismiss }
		case key.Matches(km, d.keys.Cancel):
			d.open = false
			d.input.Blur()
			return d, flashCmd(levelInfo, "dismiss cancelled")
		}
	}
	var cmd tea.Cmd
	d.input, cmd = d.input.Update(msg)
	return d, cmd
}

func (d noteDialog) ShortHelp() []key.Binding { return []key.Binding{d.keys.Submit, d.keys.Cancel} }

func (d noteDialog) FullHelp() [][]key.Binding { return [][]key.Binding{d.ShortHelp()} }

func (d noteDialog) View() string {
	s := d.styles
	title := fmt.Sprintf("Dismiss %s as legitimate", reconcile.Plural(len(d.groups), "group"))
	return s.Dialog.Render(strings.Join([]string{
		s.DialogTitle.Render(title), "", d.input.View(), "",
		s.Muted.Render("enter dismiss · esc cancel"),
	}, "\n"))
}
