package ui

import (
	"cmp"
	"slices"
	"time"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// sortOrder is the order the table lists the groups in, cycled by S.
type sortOrder int

const (
	// sortTriage is the report's own order: pending, then open, then the most
	// certain, then the newest.
	sortTriage     sortOrder = iota
	sortAtRisk               // per currency (amounts are never converted), the most at risk first
	sortNewest               // the latest charge, newest first
	sortSpan                 // first to last charge, tightest first: the likeliest double submits
	sortConfidence           // the most certain first, then the newest, whatever the status
	sortCount
)

// label is the order's name in the status bar and the flash.
func (o sortOrder) label() string {
	return [...]string{"triage", "at risk", "newest", "span", "confidence"}[o]
}

// description is the order in a sentence, for the flash.
func (o sortOrder) description() string {
	return [...]string{
		"triage: pending, then open, then the most certain, then the newest",
		"money at risk, the most first, per currency (amounts in different currencies are not converted)",
		"the latest charge, newest first",
		"span, from the tightest (the likeliest double submits) to the widest",
		"confidence, the most certain first, then the newest",
	}[o]
}

// column is the table column the order sorts by, and its arrow; "" for triage,
// which sorts by several.
func (o sortOrder) column() (col, arrow string) {
	switch o {
	case sortAtRisk:
		return "AT RISK", "↓"
	case sortNewest:
		return latestColumn, "↓"
	case sortSpan:
		return "SPAN", "↑"
	case sortConfidence:
		return "CONF", "↓"
	}
	return "", ""
}

// sortedGroups is a report's groups in an order, sorted in the load's
// command, off the event loop, like the search index.
type sortedGroups struct {
	order sortOrder
	rows  []int
}

// permutation is the indices of groups in order o; ties keep the report's
// order. Keys are computed once per group, not once per comparison.
func (o sortOrder) permutation(groups []reconcile.Group) []int {
	perm := make([]int, len(groups))
	for i := range perm {
		perm[i] = i
	}
	if o == sortTriage {
		return perm
	}
	type sortKey struct {
		currency string
		a, b     int64 // ascending
	}
	keys := make([]sortKey, len(groups))
	for i := range groups {
		g := &groups[i]
		switch o {
		case sortAtRisk:
			keys[i] = sortKey{currency: g.Currency, a: -g.AtRisk()}
		case sortNewest:
			keys[i] = sortKey{a: -latest(g).UnixNano()}
		case sortSpan:
			keys[i] = sortKey{a: int64(g.Span())}
		case sortConfidence:
			keys[i] = sortKey{a: -int64(g.Confidence.Rank()), b: -latest(g).UnixNano()}
		}
	}
	slices.SortStableFunc(perm, func(a, b int) int {
		return cmp.Or(cmp.Compare(keys[a].currency, keys[b].currency), cmp.Compare(keys[a].a, keys[b].a), cmp.Compare(keys[a].b, keys[b].b))
	})
	return perm
}

// latest is when the group's last charge was made (charges are in created
// order); zero for a group without charges.
func latest(g *reconcile.Group) time.Time {
	if len(g.Charges) == 0 {
		return time.Time{}
	}
	return g.Charges[len(g.Charges)-1].Created
}
