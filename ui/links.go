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

// openRequestedMsg asks for a charge's page at its provider: where names the
// place ("the Stripe Dashboard"), and note, when set, says what to do when the
// page does not show the charge.
type openRequestedMsg struct{ url, chargeID, where, note string }

func (r openRequestedMsg) perform(ctx context.Context, deps Deps) tea.Msg {
	why := "no browser can open here"
	if deps.Browser != nil {
		err := deps.Browser.Open(ctx, r.url)
		if err == nil {
			return flashMsg{level: levelInfo, kind: flashLink, text: "opened " + r.chargeID + " in " + r.where + ": " + r.url + r.note}
		}
		why = err.Error()
	}
	// Over SSH the browser is on the operator's side of the connection: the
	// link goes to their clipboard when there is one, and shows either way.
	if deps.Clipboard != nil && deps.Clipboard.Copy(r.url) == nil {
		return flashMsg{level: levelWarn, kind: flashLink, text: fmt.Sprintf("%s; link copied (OSC 52): %s%s", why, r.url, r.note)}
	}
	return flashMsg{level: levelWarn, kind: flashLink, text: fmt.Sprintf("%s; open %s%s", why, r.url, r.note)}
}

// chargePage is where o opens charge c: its page at its provider, the place's
// name, and a note when the link's form is not documented.
//   - Stripe: the Dashboard's payment page; test-mode pages live under /test.
//     Stripe's mode is the account's (live), as for every Stripe command.
//   - PayPal: the activity page of the transaction, on www.sandbox.paypal.com
//     for a sandbox charge.
//   - Adyen: the Customer Area's payment page by PSP reference, on ca-test or
//     ca-live. Adyen's docs name no link form; this is the one Adyen's own
//     plugins build (Adyen/adyen-magento2 tests it in
//     Test/Unit/Helper/DataTest.php), so the note says where to look when it
//     does not open.
func chargePage(c *reconcile.Charge, live bool) (url, where, note string) {
	switch p := c.Provider.Resolved(); p {
	case reconcile.ProviderPayPal:
		host := "www.sandbox.paypal.com"
		if c.Livemode {
			host = "www.paypal.com"
		}
		return "https://" + host + "/activity/payment/" + c.ID, "PayPal", ""
	case reconcile.ProviderAdyen:
		env := "test"
		if c.Livemode {
			env = "live"
		}
		return "https://ca-" + env + ".adyen.com/ca/ca/accounts/showTx.shtml?pspReference=" + c.ID + "&txType=Payment",
			"the Adyen Customer Area",
			" (if it does not show the payment: Customer Area → Transactions → Payments, search PSP reference " + c.ID + ")"
	}
	if live {
		return "https://dashboard.stripe.com/payments/" + c.ID, "the Stripe Dashboard", ""
	}
	return "https://dashboard.stripe.com/test/payments/" + c.ID, "the Stripe Dashboard", ""
}

// linkKeys are c and o.
type linkKeys struct{ Copy, Open key.Binding }

func defaultLinkKeys() linkKeys {
	return linkKeys{
		Copy: key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "copy id")),
		Open: key.NewBinding(key.WithKeys("o"), key.WithHelp("o", "open in Stripe")),
	}
}

// linkActions copies the selected id and opens the selected charge at its
// provider. In the list the selection is the group (c copies its id, o opens
// its first duplicate); in the detail pane it is the selected charge.
type linkActions struct {
	keys     linkKeys
	live     bool
	copyOK   bool // a clipboard is wired
	copyText string
	copyWhat string            // "group id", "charge id"
	charge   *reconcile.Charge // the charge o opens; read only
}

func newLinkActions(live, copyOK bool) linkActions {
	l := linkActions{keys: defaultLinkKeys(), live: live, copyOK: copyOK}
	l.SetTarget(false, nil, nil)
	return l
}

// SetTarget says what is selected: the charge when the detail pane has the
// keys, else the group. browsing is whether no dialog or input has the keys.
func (l *linkActions) SetTarget(browsing bool, g *reconcile.Group, charge *reconcile.Member) {
	l.copyText, l.copyWhat, l.charge = "", "", nil
	switch {
	case charge != nil:
		l.copyText, l.copyWhat, l.charge = charge.ID, "charge id", &charge.Charge
	case g != nil:
		l.copyText, l.copyWhat = g.ID, "group id"
		l.charge = firstDuplicate(g)
	}
	l.keys.Copy.SetEnabled(browsing && l.copyOK && l.copyText != "")
	l.keys.Open.SetEnabled(browsing && l.charge != nil)
	provider := reconcile.ProviderStripe
	if l.charge != nil {
		provider = l.charge.Provider.Resolved()
	}
	l.keys.Open.SetHelp("o", "open in "+provider.Title())
}

// firstDuplicate is the charge worth opening for a group: its first
// duplicate, else its first charge.
func firstDuplicate(g *reconcile.Group) *reconcile.Charge {
	for i := range g.Charges {
		if c := &g.Charges[i]; c.Role == reconcile.Duplicate {
			return &c.Charge
		}
	}
	if len(g.Charges) > 0 {
		return &g.Charges[0].Charge
	}
	return nil
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
		url, where, note := chargePage(l.charge, l.live)
		intent = openRequestedMsg{url: url, chargeID: l.charge.ID, where: where, note: note}
	default:
		return l, nil
	}
	return l, func() tea.Msg { return intent }
}

func (l linkActions) ShortHelp() []key.Binding { return []key.Binding{l.keys.Copy, l.keys.Open} }

// FullHelp lists c whenever a clipboard is wired, and o with the selected
// charge's provider.
func (l linkActions) FullHelp() [][]key.Binding {
	k := defaultLinkKeys()
	k.Copy.SetEnabled(l.copyOK)
	k.Open.SetHelp(l.keys.Open.Help().Key, l.keys.Open.Help().Desc)
	return [][]key.Binding{{k.Copy, k.Open}}
}
