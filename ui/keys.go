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
	Refund           key.Binding
	RefundOff        key.Binding // `r` where nothing can be refunded (or read-only): explains why
	StopRefunds      key.Binding // while a batch runs: send no more, leave the one in flight pending
	Export           key.Binding

	// dialogs
	Confirm, ConfirmTyped, Cancel, SwitchButton, Press, Submit key.Binding
	DialogUp, DialogDown, DialogPageUp, DialogPageDown         key.Binding // the refund listing

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

		Mark:        b(k(" "), "space", "mark"),
		ClearMarks:  b(k("esc"), "esc", "clear marks"),
		Dismiss:     b(k("d"), "d", "dismiss"),
		DismissOff:  key.NewBinding(key.WithKeys("d")),
		Undo:        b(k("u"), "u", "undo dismiss"),
		Refund:      b(k("r"), "r", "refund"),
		RefundOff:   key.NewBinding(key.WithKeys("r")),
		StopRefunds: b(k("x"), "x", "stop refunds"),
		Export:      b(k("e"), "e", "export csv"),

		Confirm:      b(k("y", "Y"), "y", "refund"),
		ConfirmTyped: b(k("enter"), "enter", "confirm (type refund)"),
		Cancel:       b(k("esc", "n", "N"), "n/esc", "cancel"),
		SwitchButton: b(k("tab", "shift+tab", "left", "right", "h", "l"), "tab", "switch"),
		Press:        b(k("enter"), "enter", "press button"),
		Submit:       b(k("enter"), "enter", "dismiss"),

		DialogUp:       b(k("k", "up"), "↑/k", "scroll up"),
		DialogDown:     b(k("j", "down"), "↑/↓", "scroll"),
		DialogPageUp:   b(k("pgup"), "pgup", "page up"),
		DialogPageDown: b(k("pgdown"), "pgdn", "page down"),

		Help:      b(k("?"), "?", "help"),
		CloseHelp: b(k("?", "esc", "q"), "?/esc", "close help"),
		Quit:      b(k("q"), "q", "quit"),
		ForceQuit: b(k("ctrl+c"), "ctrl+c", "quit"),
	}
}

// keyState is what decides which bindings are live.
type keyState struct {
	mode        mode
	hasRows     bool // the list shows at least one group
	canDismiss  bool // a target group is open
	canRefund   bool // a target group is open with a refundable duplicate
	canUndo     bool // a target group is dismissed
	hasQuery    bool // a filter is applied
	hasMarks    bool // some groups are marked
	readOnly    bool
	canExport   bool // a report is loaded
	typed       bool // the refund dialog wants the typed word (live mode, low confidence)
	seenAll     bool // the refund dialog's listing was seen to its end
	scrollable  bool // the refund dialog's listing does not fit
	refundReady bool // no refund batch is running
	refunding   bool // a refund batch is running
	// reference lists every key of the list and the detail pane, whatever is
	// selected: the `?` screen is where an operator learns the keys.
	reference bool
}

// setState enables exactly the bindings that act in state s.
func (k *KeyMap) setState(s keyState) {
	list, detail := s.mode == modeList, s.mode == modeDetail
	if s.reference {
		list, detail = true, true
		s.hasRows, s.canDismiss, s.canUndo, s.hasQuery, s.hasMarks, s.canRefund = true, true, true, true, true, true
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
	k.Refund.SetEnabled(browsing && s.hasRows && s.canRefund && !s.readOnly && s.refundReady)
	k.RefundOff.SetEnabled(browsing && !k.Refund.Enabled())
	k.StopRefunds.SetEnabled(browsing && s.refunding)
	k.Export.SetEnabled(browsing && s.canExport)

	confirm := s.mode == modeConfirm
	k.Confirm.SetEnabled(confirm && !s.typed && s.seenAll)
	k.ConfirmTyped.SetEnabled(confirm && s.typed)
	k.Cancel.SetEnabled(confirm || s.mode == modeNote)
	k.SwitchButton.SetEnabled(confirm && !s.typed)
	k.Press.SetEnabled(confirm && !s.typed)
	for _, b := range []*key.Binding{&k.DialogUp, &k.DialogDown, &k.DialogPageUp, &k.DialogPageDown} {
		b.SetEnabled(confirm && s.scrollable)
	}
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
		{k.Dismiss, k.Undo, k.Refund, k.StopRefunds, k.Export},
		{k.Help, k.Quit, k.ForceQuit},
	}
}
