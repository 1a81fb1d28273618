package ui

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// exportConfirmedMsg is the operator writing report to path; scope says what
// it holds, for the status line.
type exportConfirmedMsg struct {
	path   string
	base   string // the proposed directory: a relative path is relative to it
	report reconcile.Report
	scope  string
}

func (e exportConfirmedMsg) perform(context.Context, Deps) tea.Msg {
	abs, err := writeReport(e.path, e.base, e.report)
	if err != nil {
		return flashMsg{level: levelError, text: err.Error()}
	}
	return flashMsg{level: levelInfo, kind: flashLink, text: fmt.Sprintf("exported %s (%s) to %s", e.scope, reconcile.Plural(len(e.report.Groups), "group"), abs)}
}

// exportKeys are the export prompt's keys.
type exportKeys struct{ Write, Scope, Cancel key.Binding }

func defaultExportKeys() exportKeys {
	return exportKeys{
		Write:  key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "write")),
		Scope:  key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "whole report / this view")),
		Cancel: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
	}
}

// exportPrompt shows where `e` will write the CSV report, editable, before
// anything is written. By default it writes the whole report (every status,
// with refund ids and decisions); tab switches to the groups the list shows.
type exportPrompt struct {
	styles   *Styles
	keys     exportKeys
	open     bool
	input    textinput.Model
	filtered bool // the listed groups only
	whole    reconcile.Report
	view     reconcile.Report
	label    string // the list's filters, naming the view
	base     string // the directory the proposed path is in
	width    int
	height   int // the body's: the prompt drops its spacing when it is short
}

func newExportPrompt(styles *Styles) exportPrompt {
	in := newInput(styles, "path of the CSV file")
	in.CharLimit = 4096
	return exportPrompt{styles: styles, keys: defaultExportKeys(), input: in}
}

// Open proposes path for the whole report, or for view (the listed groups,
// named by label) after tab. The reports are snapshots: a reload while the
// prompt is open does not change what is written.
func (p *exportPrompt) Open(path string, whole, view reconcile.Report, label string) tea.Cmd {
	p.open, p.filtered = true, false
	p.whole, p.view, p.label = whole, view, label
	p.base = filepath.Dir(path)
	p.input.SetValue(path)
	p.input.CursorEnd()
	return p.input.Focus()
}

// IsOpen is whether the prompt has the keys.
func (p *exportPrompt) IsOpen() bool { return p.open }

func (p *exportPrompt) SetSize(width, height int) {
	p.width, p.height = width, height
	p.input.Width = max(min(width-14, 100), 10)
}

// Update edits the path; enter asks for the export, tab switches the scope,
// esc cancels.
func (p exportPrompt) Update(msg tea.Msg) (exportPrompt, tea.Cmd) {
	if km, ok := msg.(tea.KeyMsg); ok {
		switch {
		case key.Matches(km, p.keys.Write):
			path := strings.TrimSpace(p.input.Value())
			if path == "" {
				return p, flashCmd(levelWarn, "type the path of the CSV file, or esc to cancel")
			}
			p.open = false
			p.input.Blur()
			intent := exportConfirmedMsg{path: path, base: p.base, report: p.whole, scope: "the whole report"}
			if p.filtered {
				intent = exportConfirmedMsg{path: path, base: p.base, report: p.view, scope: "this view [" + p.label + "]"}
			}
			return p, func() tea.Msg { return intent }
		case key.Matches(km, p.keys.Scope):
			p.filtered = !p.filtered
			return p, nil
		case key.Matches(km, p.keys.Cancel):
			p.open = false
			p.input.Blur()
			return p, flashCmd(levelInfo, "export cancelled: nothing written")
		}
	}
	var cmd tea.Cmd
	p.input, cmd = p.input.Update(msg)
	return p, cmd
}

func (p exportPrompt) ShortHelp() []key.Binding {
	return []key.Binding{p.keys.Write, p.keys.Scope, p.keys.Cancel}
}

func (p exportPrompt) FullHelp() [][]key.Binding { return [][]key.Binding{p.ShortHelp()} }

func (p exportPrompt) View() string {
	s := p.styles
	choice := func(on bool, text string) string {
		if on {
			return s.Bold.Render("(•) " + text)
		}
		return s.Muted.Render("( ) " + text)
	}
	lines := []string{
		s.DialogTitle.Render("Export the report as CSV"), "",
		p.input.View(), "",
		choice(!p.filtered, fmt.Sprintf("whole report: %s, every status, with refund ids and decisions",
			reconcile.Plural(len(p.whole.Groups), "group"))),
		choice(p.filtered, fmt.Sprintf("this view: %s (%s)", reconcile.Plural(len(p.view.Groups), "group"), p.label)),
		"",
		s.Muted.Render("enter write · tab whole report / this view · esc cancel"),
	}
	dialog := s.Dialog
	// On a narrow terminal the lines wrap rather than run off the screen.
	if room := p.width - dialog.GetHorizontalBorderSize(); lipgloss.Width(strings.Join(lines, "\n"))+dialog.GetHorizontalPadding() > room {
		dialog = dialog.Width(room)
	}
	// On a short one the spacing and the keys (the footer has them) go first.
	if lipgloss.Height(dialog.Render(strings.Join(lines, "\n"))) > p.height {
		lines = slices.DeleteFunc(lines[:len(lines)-1], func(l string) bool { return l == "" })
	}
	return dialog.Render(strings.Join(lines, "\n"))
}
