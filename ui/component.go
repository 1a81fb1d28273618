package ui

import "github.com/charmbracelet/bubbles/help"

// component is the shape of the dashboard's parts, after soft-serve's
// common.Component (pkg/ui/common/component.go: a model with help.KeyMap and
// SetSize): each is sized by the root, renders itself, and lists the keys that
// work now. Unlike soft-serve, whose components share one *keymap.KeyMap
// through common.Common, each owns its key map by value and enables it from
// its own state, so a copy of the model never changes another's keys. Update
// is not part of the interface: each returns its own type, as Bubble Tea's
// value semantics want, and some say what a key did (the table's tableEvent,
// the detail pane's back). A component that needs
// I/O sends an intent message (refundConfirmedMsg, dismissConfirmedMsg,
// syncRequestedMsg, storeChangedMsg, flashMsg, or an ioIntent: copy, open,
// export) and the root makes the call on the Deps it was given.
//
// The sync status is not a component of its own size: its view is the
// header's freshness line. Nor are the link actions (c, o): they draw
// nothing, their outcome is a flash.
type component interface {
	help.KeyMap
	SetSize(width, height int)
	View() string
}

var (
	_ component = (*groupTable)(nil)
	_ component = (*detailPane)(nil)
	_ component = (*groupFilter)(nil)
	_ component = (*refundFlow)(nil)
	_ component = (*noteDialog)(nil)
	_ component = (*helpScreen)(nil)
	_ component = (*exportPrompt)(nil)
	_ component = (*trendView)(nil)
)
