package reconcile

import (
	"regexp"
	"strings"
)

// Matches reports whether query occurs, ignoring case, in what the dashboard
// shows of the group (see SearchText). An empty query matches every group.
func (g *Group) Matches(query string) bool {
	return strings.Contains(g.SearchText(), SearchQuery(query))
}

// SearchText is what Matches searches, lower-cased, each field ended by a NUL
// so a query never matches across two: the group id, its provider ("paypal"),
// its cause and headline
// (the REASON column), what ties the charges,
// the amount and the money at risk as the dashboard writes them ("113.45 usd",
// so "113.45" matches too), and per charge its id, customer, email, order ref,
// key and card ("visa 3733", "visa …3733", "visa ••••3733", so "3733" and
// "…3733" match). A field that several charges share is written once: the
// filter scans this text on every keystroke.
func (g *Group) SearchText() string {
	var (
		b       strings.Builder
		written []string
	)
	add := func(s string) {
		if s == "" {
			return
		}
		for _, w := range written {
			if w == s {
				return
			}
		}
		written = append(written, s)
		b.WriteString(strings.ToLower(s))
		b.WriteByte(0)
	}
	add(g.ID)
	add(string(g.Provider()))
	add(string(g.Cause))
	add(g.Headline())
	add(g.Identity)
	add(FormatMoney(g.Amount, g.Currency))
	if risk := g.AtRisk(); risk != 0 {
		add(FormatMoney(risk, g.Currency))
	}
	for i := range g.Charges {
		m := &g.Charges[i]
		for _, s := range []string{m.ID, m.Customer, m.Email, m.OrderRef, m.IdempotencyKey} {
			add(s)
		}
		if m.CardLast4 != "" {
			brand := m.CardBrand
			if brand != "" {
				brand += " "
			}
			add(brand + m.CardLast4 + "\x00" + brand + "…" + m.CardLast4 + "\x00" + brand + "••••" + m.CardLast4)
		}
	}
	return b.String()
}

// SearchQuery is query as SearchText is searched for it: trimmed and
// lower-cased.
func SearchQuery(query string) string {
	q := strings.ToLower(strings.TrimSpace(query))
	// Amounts as people write them: "$95.45", "51,000 jpy". The dashboard
	// writes neither the symbol nor the thousands separator.
	q = strings.TrimLeft(q, "$€£¥")
	if groupedAmount.MatchString(q) {
		q = strings.ReplaceAll(q, ",", "")
	}
	return q
}

// groupedAmount is an amount with thousands separators, and maybe a currency.
var groupedAmount = regexp.MustCompile(`^\d{1,3}(,\d{3})+(\.\d+)?( [a-z]{3})?$`)

// AtRisk is the money the group's duplicates may have taken twice and that is
// not given back yet, in the group's currency: what is left to refund on each
// suspect an operator has not judged legitimate, plus refunds begun and not
// finished (the money may not have moved). A 3-charge group of 113.45 puts
// 226.90 at risk. Zero for a resolved or dismissed group.
func (g *Group) AtRisk() int64 {
	if !g.NeedsAction() {
		return 0
	}
	var sum int64
	for i := range g.Charges {
		m := &g.Charges[i]
		if m.Role != Duplicate || m.DismissedAsLegitimate() {
			continue
		}
		sum += m.Refundable
		for _, r := range m.InFlight {
			sum += r.Amount
		}
	}
	return sum
}
