package ui

import (
	"context"
	"fmt"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// ioIntent is a component's request for I/O that needs nothing from the root
// but its Deps (copy, open, export): the root runs perform in a tea.Cmd and
// delivers the message it returns.
type ioIntent interface {
	perform(ctx context.Context, deps Deps) tea.Msg
}

// copyRequestedMsg asks for text on the clipboard; what says what it is.
type copyRequestedMsg struct{ text, what string }

func (r copyRequestedMsg) perform(_ context.Context, deps Deps) tea.Msg {
	if deps.Clipboard == nil { // c is off then
		return flashMsg{level: levelWarn, text: "no clipboard here"}
	}
	if err := deps.Clipboard.Copy(r.text); err != nil {
		return flashMsg{level: levelError, text: fmt.Sprintf("could not copy %s: %v", r.text, err)}
	}
	// OSC 52 is fire and forget: a terminal that does not allow it says
	// nothing, so the line says what was sent, and how.
	return flashMsg{level: levelInfo, text: fmt.Sprintf("copied %s %s (sent to the terminal's clipboard, OSC 52)", r.what, r.text)}
}

// openRequestedMsg asks for a charge's page in the Stripe Dashboard.
type openRequestedMsg struct{ url, chargeID string }

func (r openRequestedMsg) perform(ctx context.Context, deps Deps) tea.Msg {
	why := "no browser can open here"
	if deps.Browser != nil {
		err := deps.Browser.Open(ctx, r.url)
		if err == nil {
			return flashMsg{level: levelInfo, kind: flashLink, text: "opened " + r.chargeID + " in the Stripe Dashboard: " + r.url}
		}
		why = err.Error()
	}
	// Over SSH the browser is on the operator's side of the connection: the
	// link goes to their clipboard when there is one, and shows either way.
	if deps.Clipboard != nil && deps.Clipboard.Copy(r.url) == nil {
		return flashMsg{level: levelWarn, kind: flashLink, text: fmt.Sprintf("%s; link copied (OSC 52): %s", why, r.url)}
	}
	return flashMsg{level: levelWarn, kind: flashLink, text: fmt.Sprintf("%s; open %s", why, r.url)}
}

// dashboardURL is a charge's page in the Stripe Dashboard; test-mode pages
// live under /test.
func dashboardURL(chargeID string, live bool) string {
	if live {
		return "https://dashboard.stripe.com/payments/" + chargeID
	}
	return "https://dashboard.stripe.com/test/payments/" + chargeID
}

// linkKeys are c and o.
type linkKeys struct{ Copy, Open key.Binding }

func defaultLinkKeys() linkKeys {
	return linkKeys{
		Copy: key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "copy id")),
		Open: key.NewBinding(key.WithKeys("o"), key.WithHelp("o", "open in Stripe")),
	}
}

// linkActions copies the selected id and opens the selected charge in the
// Stripe Dashboard. In the list the selection is the group (c copies its id,
// o opens its first duplicate); in the detail pane it is the selected charge.
type linkActions struct {
	keys     linkKeys
	live     bool
	copyOK   bool // a clipboard is wired
	copyText string
	copyWhat string // "group id", "charge id"
	chargeID string // the charge o opens
}

func newLinkActions(live, copyOK bool) linkActions {
	l := linkActions{keys: defaultLinkKeys(), live: live, copyOK: copyOK}
	l.SetTarget(false, nil, nil)
	return l
}

// SetTarget says what is selected: the charge when the detail pane has the
// keys, else the group. browsing is whether no dialog or input has the keys.
func (l *linkActions) SetTarget(browsing bool, g *reconcile.Group, charge *reconcile.Member) {
	l.copyText, l.copyWhat, l.chargeID = "", "", ""
	switch {
	case charge != nil:
		l.copyText, l.copyWhat, l.chargeID = charge.ID, "charge id", charge.ID
	case g != nil:
		l.copyText, l.copyWhat = g.ID, "group id"
		l.chargeID = firstDuplicate(g)
	}
	l.keys.Copy.SetEnabled(browsing && l.copyOK && l.copyText != "")
	l.keys.Open.SetEnabled(browsing && l.chargeID != "")
}

// firstDuplicate is the charge worth opening for a group: its first
// duplicate, else its first charge.
func firstDuplicate(g *reconcile.Group) string {
	for _, c := range g.Charges {
		if c.Role == reconcile.Duplicate {
			return c.ID
		}
	}
	if len(g.Charges) > 0 {
		return g.Charges[0].ID
	}
	return ""
}

// Wants is whether msg is c or o while they act.
func (l *linkActions) Wants(msg tea.KeyMsg) bool { return key.Matches(msg, l.keys.Copy, l.keys.Open) }

// Update turns c and o into intents.
func (l linkActions) Update(msg tea.Msg) (linkActions, tea.Cmd) {
	km, ok := msg.(tea.KeyMsg)
	if !ok {
		return l, nil
	}
	var intent tea.Msg
	switch {
	case key.Matches(km, l.keys.Copy):
		intent = copyRequestedMsg{text: l.copyText, what: l.copyWhat}
	case key.Matches(km, l.keys.Open):
		intent = openRequestedMsg{url: dashboardURL(l.chargeID, l.live), chargeID: l.chargeID}
	default:
		return l, nil
	}
	return l, func() tea.Msg { return intent }
}

func (l linkActions) ShortHelp() []key.Binding { return []key.Binding{l.keys.Copy, l.keys.Open} }

// FullHelp lists c whenever a clipboard is wired, and o.
func (l linkActions) FullHelp() [][]key.Binding {
	k := defaultLinkKeys()
	k.Copy.SetEnabled(l.copyOK)
	return [][]key.Binding{{k.Copy, k.Open}}
}
