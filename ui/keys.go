package ui

import "github.com/charmbracelet/bubbles/key"

// KeyMap is every key the dashboard answers to. Bindings are switched on and off
// per state (see setState) so that help only ever lists keys that work right now.
type KeyMap struct {
	// list and detail pane
	Up, Down, Top, Bottom, PageUp, PageDown key.Binding
	Focus, Back                             key.Binding

	// actions
	Mark, ClearMarks key.Binding
	Dismiss, Undo    key.Binding
	DismissOff       key.Binding // `d` where nothing can be dismissed: explains why
	Export           key.Binding

	// dialogs
	Cancel, Submit key.Binding

	Help, CloseHelp, Quit, ForceQuit key.Binding
}

// DefaultKeyMap is the dashboard's key table (README, "The dashboard"),
// the refund dialog's keys included.
func DefaultKeyMap() KeyMap {
	b := func(keys []string, helpKey, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(helpKey, desc))
	}
	k := func(keys ...string) []string { return keys }
	return KeyMap{
		Up:       b(k("k", "up"), "↑/k", "up"),
		Down:     b(k("j", "down"), "↓/j", "down"),
		Top:      b(k("g", "home"), "g", "top"),
		Bottom:   b(k("G", "end"), "G", "bottom"),
		PageUp:   b(k("pgup", "ctrl+b"), "pgup", "page up"),
		PageDown: b(k("pgdown", "ctrl+f"), "pgdn", "page down"),
		Focus:    b(k("enter", "tab"), "enter/tab", "details"),
		Back:     b(k("esc", "tab"), "esc/tab", "back to list"),

		Mark:       b(k(" "), "space", "mark"),
		ClearMarks: b(k("esc"), "esc", "clear marks"),
		Dismiss:    b(k("d"), "d", "dismiss"),
		DismissOff: key.NewBinding(key.WithKeys("d")),
		Undo:       b(k("u"), "u", "undo dismiss"),
		Export:     b(k("e"), "e", "export csv"),

		Cancel: b(k("esc", "n", "N"), "n/esc", "cancel"),
		Submit: b(k("enter"), "enter", "dismiss"),

		Help:      b(k("?"), "?", "help"),
		CloseHelp: b(k("?", "esc", "q"), "?/esc", "close help"),
		Quit:      b(k("q"), "q", "quit"),
		ForceQuit: b(k("ctrl+c"), "ctrl+c", "quit"),
	}
}

// keyState is what decides which bindings are live.
type keyState struct {
	mode       mode
	hasRows    bool // the list shows at least one group
	canDismiss bool // a target group is open
	canUndo    bool // a target group is dismissed
	hasQuery   bool // a filter is applied
	hasMarks   bool // some groups are marked
	readOnly   bool
	canExport  bool // a report is loaded
	// reference lists every key of the list and the detail pane, whatever is
	// selected: the `?` screen is where an operator learns the keys.
	reference bool
}

// setState enables exactly the bindings that act in state s.
func (k *KeyMap) setState(s keyState) {
	list, detail := s.mode == modeList, s.mode == modeDetail
	if s.reference {
		list, detail = true, true
		s.hasRows, s.canDismiss, s.canUndo, s.hasQuery, s.hasMarks = true, true, true, true, true
	}
	browsing := list || detail
	for _, b := range []*key.Binding{&k.Up, &k.Down, &k.Top, &k.Bottom, &k.PageUp, &k.PageDown} {
		b.SetEnabled(browsing && (s.hasRows || detail))
	}
	k.Focus.SetEnabled(list && s.hasRows)
	k.Back.SetEnabled(detail)

	k.Mark.SetEnabled(browsing && s.hasRows)
	k.ClearMarks.SetEnabled(list && (s.reference || !s.hasQuery) && s.hasMarks) // esc clears the filter first
	k.Dismiss.SetEnabled(browsing && s.canDismiss)
	k.DismissOff.SetEnabled(browsing && !s.canDismiss)
	k.Undo.SetEnabled(browsing && s.canUndo)
	k.Export.SetEnabled(browsing && s.canExport)

	k.Cancel.SetEnabled(s.mode == modeNote)
	k.Submit.SetEnabled(s.mode == modeNote)

	k.Help.SetEnabled(browsing)
	k.CloseHelp.SetEnabled(s.mode == modeHelp)
	k.Quit.SetEnabled(browsing)
	k.ForceQuit.SetEnabled(true)
}

// Essentials are the keys the footer always shows, at its right end.
func (k KeyMap) Essentials() []key.Binding { return []key.Binding{k.Help, k.Quit} }

// FullHelp is the `?` screen, one column per kind of key.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.Top, k.Bottom, k.PageUp, k.PageDown, k.Focus, k.Back},
		{k.Mark, k.ClearMarks},
		{k.Dismiss, k.Undo, k.Export},
		{k.Help, k.Quit, k.ForceQuit},
	}
}
