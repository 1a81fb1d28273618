package reconcile

import (
	"strings"
	"unicode/utf8"
)

// Matches reports whether query occurs, ignoring case, in the customer, email,
// charge id, order ref or idempotency key of any of the group's charges (the
// dashboard's / filter). An empty query matches every group.
func (g *Group) Matches(query string) bool {
	query = strings.TrimSpace(query)
	if query == "" {
		return true
	}
	for i := range g.Charges {
		m := &g.Charges[i]
		for _, s := range []string{m.Customer, m.Email, m.ID, m.OrderRef, m.IdempotencyKey} {
			if containsFold(s, query) {
				return true
			}
		}
	}
	return false
}

// containsFold is a case-insensitive strings.Contains that allocates nothing: the
// filter runs over every group on each keystroke.
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return false
}
