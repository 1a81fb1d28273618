package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// detailPane explains the selected group: every charge with its evidence, all the
// reasons, and why a suspect cannot be refunded. It scrolls when focused.
type detailPane struct {
	styles   *Styles
	keys     detailKeys
	viewport viewport.Model
	width    int
	groupID  string // the group shown, to keep the scroll position across reloads

	// What render draws, kept to redraw when the focus or the selected charge
	// changes: c and o act on the selected charge while the pane has the focus.
	group      *reconcile.Group
	outcomes   map[string]string
	charge     int    // index into group.Charges
	focused    bool   // the selected charge is marked only while the pane has the keys
	chargeLine int    // the selected charge's first line, to scroll it into view
	resume     string // the command that finishes a pending refund
}

// detailKeys are the pane's keys while it has the focus.
type detailKeys struct {
	Up, Down, Top, Bottom, PageUp, PageDown key.Binding
	Back                                    key.Binding // to the list
	NextCharge, PrevCharge                  key.Binding // which charge c and o act on
}

func defaultDetailKeys() detailKeys {
	return detailKeys{
		Up:       key.NewBinding(key.WithKeys("k", "up"), key.WithHelp("↑/k", "scroll up")),
		Down:     key.NewBinding(key.WithKeys("j", "down"), key.WithHelp("↓/j", "scroll down")),
		Top:      key.NewBinding(key.WithKeys("g", "home"), key.WithHelp("g", "top")),
		Bottom:   key.NewBinding(key.WithKeys("G", "end"), key.WithHelp("G", "bottom")),
		PageUp:   key.NewBinding(key.WithKeys("pgup", "ctrl+b"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+f"), key.WithHelp("pgdn", "page down")),
		Back:     key.NewBinding(key.WithKeys("esc", "tab"), key.WithHelp("esc/tab", "back to list")),
		// [ and ] as in vim's "previous/next section": j/k already scroll.
		NextCharge: key.NewBinding(key.WithKeys("]"), key.WithHelp("[/]", "select charge")),
		PrevCharge: key.NewBinding(key.WithKeys("[")),
	}
}

func newDetailPane(styles *Styles, resume string) detailPane {
	vp := viewport.New(0, 0)
	vp.KeyMap = viewport.KeyMap{} // scrolling goes through the pane's own keys (d/u are taken)
	return detailPane{styles: styles, keys: defaultDetailKeys(), viewport: vp, resume: resume}
}

// SetSize sets the inner size (inside the pane border).
func (d *detailPane) SetSize(width, height int) {
	d.width = width
	d.viewport.Width, d.viewport.Height = width, max(height, 1)
}

// Height is the pane's inner height.
func (d *detailPane) Height() int { return d.viewport.Height }

// Wants is whether msg is one of the pane's keys; the root asks only while the
// pane has the focus.
func (d *detailPane) Wants(msg tea.KeyMsg) bool {
	k := &d.keys
	return key.Matches(msg, k.Up, k.Down, k.Top, k.Bottom, k.PageUp, k.PageDown, k.Back, k.NextCharge, k.PrevCharge)
}

// Update scrolls the pane; back reports esc/tab, which returns to the list.
func (d detailPane) Update(msg tea.Msg) (_ detailPane, back bool) {
	km, ok := msg.(tea.KeyMsg)
	if !ok {
		d.mouse(msg)
		return d, false
	}
	switch {
	case key.Matches(km, d.keys.Back):
		return d, true
	case key.Matches(km, d.keys.Up):
		d.viewport.ScrollUp(1)
	case key.Matches(km, d.keys.Down):
		d.viewport.ScrollDown(1)
	case key.Matches(km, d.keys.PageUp):
		d.viewport.PageUp()
	case key.Matches(km, d.keys.PageDown):
		d.viewport.PageDown()
	case key.Matches(km, d.keys.Top):
		d.viewport.GotoTop()
	case key.Matches(km, d.keys.Bottom):
		d.viewport.GotoBottom()
	case key.Matches(km, d.keys.NextCharge):
		d.selectCharge(d.charge + 1)
	case key.Matches(km, d.keys.PrevCharge):
		d.selectCharge(d.charge - 1)
	}
	return d, false
}

// selectCharge selects charge i (clamped) and scrolls its lines into view.
func (d *detailPane) selectCharge(i int) {
	if d.group == nil {
		return
	}
	d.charge = clamp(i, 0, max(len(d.group.Charges)-1, 0))
	d.redraw()
	const chargeLines = 4 // a charge's first lines: amount, card, key, decision
	if y := d.viewport.YOffset; d.chargeLine < y || d.chargeLine+chargeLines > y+d.viewport.Height {
		d.viewport.SetYOffset(d.chargeLine)
	}
}

// SelectedCharge is the charge c and o act on while the pane has the focus,
// nil when no group is shown.
func (d *detailPane) SelectedCharge() *reconcile.Member {
	if d.group == nil || d.charge >= len(d.group.Charges) {
		return nil
	}
	return &d.group.Charges[d.charge]
}

// SetFocus marks the selected charge while the pane has the keys.
func (d *detailPane) SetFocus(focused bool) {
	if focused != d.focused {
		d.focused = focused
		d.redraw()
	}
}

func (d *detailPane) redraw() {
	y := d.viewport.YOffset
	d.viewport.SetContent(d.render(d.group, d.outcomes))
	d.viewport.SetYOffset(y)
}

func (d detailPane) View() string { return d.viewport.View() }

// SetGroup shows g (nil for none). outcomes are this session's refund outcomes by
// charge id, shown until the store's own state says more. The scroll position
// stays when the same group is shown again (a background reload, a resize).
func (d *detailPane) SetGroup(g *reconcile.Group, outcomes map[string]string) {
	id := ""
	if g != nil {
		id = g.ID
	}
	if id != d.groupID {
		d.charge = 0
	}
	d.group, d.outcomes = g, outcomes
	if g != nil {
		d.charge = min(d.charge, max(len(g.Charges)-1, 0))
	}
	d.viewport.SetContent(d.render(g, outcomes))
	if id != d.groupID {
		d.viewport.GotoTop()
	}
	d.groupID = id
}

// ShortHelp is the pane's keys for the footer: the arrows scroll here.
func (d detailPane) ShortHelp() []key.Binding {
	return []key.Binding{d.keys.Up, d.keys.Down, d.keys.NextCharge, d.keys.Back}
}

// FullHelp is the pane's own column entry of the `?` screen: its moving keys
// are the list's.
func (d detailPane) FullHelp() [][]key.Binding {
	return [][]key.Binding{{d.keys.Back, d.keys.NextCharge}}
}

func (d *detailPane) render(g *reconcile.Group, outcomes map[string]string) string {
	s := d.styles
	if g == nil {
		return s.Muted.Render("no group selected")
	}
	var b strings.Builder
	line := func(parts ...string) {
		b.WriteString(fit(strings.Join(parts, ""), d.width))
		b.WriteByte('\n')
	}
	wrapped := func(prefix, text string) {
		width := max(d.width-lipgloss.Width(prefix), 10)
		for i, l := range strings.Split(ansi.Wrap(text, width, ""), "\n") {
			if i > 0 {
				prefix = strings.Repeat(" ", lipgloss.Width(prefix))
			}
			line(prefix, l)
		}
	}

	line(s.Title.Render(g.ID), "  ", confidenceStyle(s, g.Confidence).Render(string(g.Confidence)),
		"  ", statusStyle(s, g.Status).Render(groupStatusText(g)), s.Muted.Render("  cause "), string(g.Cause),
		s.Muted.Render("  provider "), g.Provider().Title())
	line(s.Muted.Render("identity "), g.Identity, s.Muted.Render(fmt.Sprintf(" · %d charges of %s in %s",
		len(g.Charges), reconcile.FormatMoney(g.Amount, g.Currency), reconcile.HumanDuration(g.Span()))))
	// The refunds first, where they show without scrolling: the stored
	// ones, else what this session saw happen.
	var refunds []string
	for i := range g.Charges {
		switch m := &g.Charges[i]; {
		case m.RefundID != "":
			refunds = append(refunds, m.ID+" "+m.RefundID)
		case outcomes[m.ID] != "":
			refunds = append(refunds, m.ID+" "+outcomes[m.ID])
		}
	}
	if len(refunds) > 0 {
		wrapped(s.Muted.Render("refunds "), strings.Join(refunds, " · "))
	}
	if next := g.NextStep(d.resume); next != "" {
		wrapped("", s.Warn.Render(next+" (the dashboard resumes it at start and after each sync)"))
	}
	if d := dismissal(g); d != nil {
		text := decisionText(d)
		if d.Note != "" {
			text += ": " + d.Note
		}
		wrapped("", s.Dismissed.Render(text))
	}
	line()
	line(s.Bold.Render("Reasons"))
	for _, r := range g.Reasons {
		wrapped("  • ", r)
	}
	line()
	line(s.Bold.Render("Charges"), s.Muted.Render(" (times in UTC)"))
	for i := range g.Charges {
		m := &g.Charges[i]
		role := s.Keep.Render(cell("KEEP", 10))
		if m.Role == reconcile.Duplicate {
			role = s.Duplicate.Render(cell("DUPLICATE", 10))
		}
		const indent = "             "
		pointer := "  "
		if d.focused && i == d.charge {
			pointer, d.chargeLine = "▸ ", strings.Count(b.String(), "\n")
		}
		line(pointer, role, " ", m.ID, "  ", m.Created.UTC().Format("2006-01-02 15:04:05"), "  ",
			reconcile.FormatMoney(m.Amount, m.Currency),
			s.Muted.Render("  refunded "), reconcile.FormatMoney(m.AmountRefunded, m.Currency))
		line(indent, cardText(m), s.Muted.Render(" · "), orDash(m.Email), s.Muted.Render(" · order "), orDash(m.OrderRef))
		switch {
		case m.KeyEvidence == reconcile.EvidenceCheckout:
			line(indent, s.Muted.Render("key — none: made by Stripe Checkout (session "+m.CheckoutSession+"), which created its PaymentIntent"))
			if m.OrderRef == "" {
				line(indent, s.Muted.Render("    the session has no client_reference_id: set it to the cart id to tell one cart paid twice"))
			}
		case m.IdempotencyKey == "" && m.KeyEvidence == reconcile.EvidenceUnknown && m.Provider.Resolved() != reconcile.ProviderStripe:
			line(indent, s.Muted.Render("key — not known: "+m.Provider.Title()+"'s records do not carry it and no key-log entry recorded the request"))
		case m.IdempotencyKey == "" && m.KeyEvidence == reconcile.EvidenceUnknown:
			line(indent, s.Muted.Render("key — not known: no event or key-log entry recorded the request"))
		case m.IdempotencyKey == "":
			line(indent, s.Muted.Render("key — none: its event recorded the request without one"))
		case m.KeyEvidence == reconcile.EvidenceUnknown:
			line(indent, s.Muted.Render("key "), m.IdempotencyKey, s.Muted.Render(" (from "+strings.Join(m.KeySources, ", ")+")"))
			line(indent, s.Muted.Render("    the confirmation's, not the create call's: not known, as its PaymentIntent's create request is not"))
		default:
			line(indent, s.Muted.Render("key "), m.IdempotencyKey, s.Muted.Render(" (from "+strings.Join(m.KeySources, ", ")+")"))
			switch {
			case m.Provider.Resolved() != reconcile.ProviderStripe:
				// Only Stripe's libraries are known to make keys of their own.
			case reconcile.LibraryGeneratedKey(m.IdempotencyKey):
				line(indent, s.Warn.Render("    generated by a Stripe library: the application sent no key of its own"))
			case reconcile.AmbiguousKey(m.IdempotencyKey):
				line(indent, s.Muted.Render("    a UUID: the application's, or one a Stripe library put on a call sent without a key (Python, Java, .NET do on every POST)"))
			}
		}
		line(indent, s.Muted.Render("decision "), decisionText(m))
		if m.NotRefundable != "" {
			wrapped(indent+"cannot refund: ", m.NotRefundable)
		}
		if o := outcomes[m.ID]; o != "" {
			wrapped(indent+"this session: ", o)
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// dismissal is the member carrying a dismissed group's decision (the group-wide
// one, on every member), nil when the group is not dismissed.
func dismissal(g *reconcile.Group) *reconcile.Member {
	if g.Status != reconcile.Dismissed {
		return nil
	}
	for i := range g.Charges {
		if m := &g.Charges[i]; m.Decision == string(reconcile.DecisionDismissed) {
			return m
		}
	}
	return nil
}

func cardText(m *reconcile.Member) string {
	if m.CardLast4 == "" {
		return "no card"
	}
	return strings.TrimSpace(m.CardBrand + " ••••" + m.CardLast4)
}

// groupStatusText is the group's status as the detail pane says it: a group
// whose refunds await confirmation names the provider that will confirm them.
func groupStatusText(g *reconcile.Group) string {
	if g.Status == reconcile.Received {
		return reconcile.RefundReceived.Describe(g.Provider())
	}
	return string(g.Status)
}

func decisionText(m *reconcile.Member) string {
	if m.Decision == "" {
		return "—"
	}
	// A received refund is not refunded yet: "received, awaiting Adyen confirmation".
	parts := []string{reconcile.RefundStatus(m.Decision).Describe(m.Provider)}
	if m.RefundID != "" {
		parts = append(parts, m.RefundID)
	}
	if m.Operator != "" {
		parts = append(parts, "by "+m.Operator)
	}
	if !m.DecidedAt.IsZero() {
		parts = append(parts, "at "+m.DecidedAt.UTC().Format("2006-01-02 15:04"))
	}
	return strings.Join(parts, " ")
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func confidenceStyle(s *Styles, c reconcile.Confidence) *lipgloss.Style {
	switch c {
	case reconcile.High:
		return &s.High
	case reconcile.Medium:
		return &s.Medium
	}
	return &s.Low
}

func statusStyle(s *Styles, st reconcile.Status) *lipgloss.Style {
	switch st {
	case reconcile.Resolved:
		return &s.Resolved
	case reconcile.Dismissed:
		return &s.Dismissed
	case reconcile.Pending, reconcile.Received:
		return &s.Warn
	}
	return &s.Open
}
