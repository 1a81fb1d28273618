package ui

import "github.com/charmbracelet/bubbles/key"

// rootKeys are the keys the root model answers itself: those that act on the
// dashboard as a whole (help, quit) or on the targeted groups from either pane
// (dismiss, undo, export). Every component owns its other keys (tableKeys,
// detailKeys, filterKeys, refundKeys, confirmKeys, noteKeys, syncKeys,
// helpKeys), by value, and enables them from its own state, so that help only
// ever lists keys that work right now.
type rootKeys struct {
	Dismiss    key.Binding
	DismissOff key.Binding // `d` where nothing can be dismissed: explains why
	Undo       key.Binding
	Export     key.Binding
	Help       key.Binding
	Quit       key.Binding
	ForceQuit  key.Binding
}

func defaultRootKeys() rootKeys {
	return rootKeys{
		Dismiss:    key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "dismiss")),
		DismissOff: key.NewBinding(key.WithKeys("d")),
		Undo:       key.NewBinding(key.WithKeys("u"), key.WithHelp("u", "undo dismiss")),
		Export:     key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "export report")),
		Help:       key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:       key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),
		ForceQuit:  key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
	}
}

// rootState is what decides which of the root's keys are live.
type rootState struct {
	browsing   bool // no dialog and no filter input has the keys
	canDismiss bool // a target group is open
	canUndo    bool // a target group is dismissed
	canExport  bool // a report is loaded
}

// update enables exactly the keys that act in state s.
func (k *rootKeys) update(s rootState) {
	k.Dismiss.SetEnabled(s.browsing && s.canDismiss)
	k.DismissOff.SetEnabled(s.browsing && !s.canDismiss)
	k.Undo.SetEnabled(s.browsing && s.canUndo)
	k.Export.SetEnabled(s.browsing && s.canExport)
	k.Help.SetEnabled(s.browsing)
	k.Quit.SetEnabled(s.browsing)
	k.ForceQuit.SetEnabled(true)
}

// Essentials are the keys the footer always shows, at its right end.
func (k rootKeys) Essentials() []key.Binding { return []key.Binding{k.Help, k.Quit} }
