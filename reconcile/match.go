package reconcile

import "strings"

// Matches reports whether query occurs, ignoring case, in the customer, email,
// charge id, order ref or idempotency key of any of the group's charges (the
// dashboard's / filter). An empty query matches every group.
func (g *Group) Matches(query string) bool {
	return strings.Contains(g.SearchText(), SearchQuery(query))
}

// SearchText is what Matches searches, lower-cased: the customer, email, charge
// id, order ref and idempotency key of every charge, each field ended by a NUL
// so that no query matches across two of them. The dashboard computes it once
// per load and filters every keystroke against it.
func (g *Group) SearchText() string {
	var b strings.Builder
	for i := range g.Charges {
		m := &g.Charges[i]
		for _, s := range []string{m.Customer, m.Email, m.ID, m.OrderRef, m.IdempotencyKey} {
			if s != "" {
				b.WriteString(strings.ToLower(s))
				b.WriteByte(0)
			}
		}
	}
	return b.String()
}

// SearchQuery is query as SearchText is searched for it: trimmed and
// lower-cased.
func SearchQuery(query string) string { return strings.ToLower(strings.TrimSpace(query)) }
