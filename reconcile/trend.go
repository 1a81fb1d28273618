package reconcile

import (
	"cmp"
	"slices"
	"time"
)

// TrendDay is one UTC day of the trend. A group counts on the day of its
// first duplicate (the moment the payment was taken twice); money counts on
// the day each duplicate was charged, refunded or not, so a day's bar shows how
// much of what was taken twice that day has been given back since.
type TrendDay struct {
	Day        time.Time        // midnight UTC
	Groups     map[Cause]int    // duplicate groups by cause
	TakenTwice map[string]int64 // per currency, minor units: the duplicates' amounts
	Refunded   map[string]int64 // per currency: what of those was refunded, by anyone
}

// Trend is the duplicates per day over the synced range, for an engineer to
// see whether a fix worked: after it, the days stay empty.
type Trend struct {
	Days       []TrendDay // every day from the first to the last charge, empty ones too
	Causes     []Cause    // the causes seen, most groups first
	Currencies []string   // the currencies seen, most taken twice first
	Dismissed  int        // groups left out: an operator judged them legitimate
}

// BuildTrend counts r's groups per day. Dismissed groups are left out (counted
// in Dismissed); every other status is a payment taken twice, refunded or not.
func BuildTrend(r Report) Trend {
	var t Trend
	first, last := r.Summary.FirstCharge, r.Summary.LastCharge
	if first.IsZero() || last.IsZero() {
		return t
	}
	start, end := utcDay(first), utcDay(last)
	for d := start; !d.After(end); d = d.AddDate(0, 0, 1) {
		t.Days = append(t.Days, TrendDay{Day: d, Groups: map[Cause]int{}, TakenTwice: map[string]int64{}, Refunded: map[string]int64{}})
	}
	day := func(at time.Time) *TrendDay {
		i := int(utcDay(at).Sub(start).Hours() / 24)
		if i < 0 || i >= len(t.Days) {
			return nil // outside the range: cannot happen for a report's own charges
		}
		return &t.Days[i]
	}
	causes, taken := map[Cause]int{}, map[string]int64{}
	for gi := range r.Groups {
		g := &r.Groups[gi]
		if g.Status == Dismissed {
			t.Dismissed++
			continue
		}
		counted := false
		for ci := range g.Charges {
			c := &g.Charges[ci]
			if c.Role != Duplicate {
				continue
			}
			d := day(c.Created)
			if d == nil {
				continue
			}
			if !counted {
				d.Groups[g.Cause]++
				causes[g.Cause]++
				counted = true
			}
			d.TakenTwice[c.Currency] += c.Amount
			d.Refunded[c.Currency] += c.AmountRefunded
			taken[c.Currency] += c.Amount
		}
	}
	for c := range causes {
		t.Causes = append(t.Causes, c)
	}
	slices.SortFunc(t.Causes, func(a, b Cause) int { return cmp.Or(causes[b]-causes[a], cmp.Compare(a, b)) })
	for c := range taken {
		t.Currencies = append(t.Currencies, c)
	}
	slices.SortFunc(t.Currencies, func(a, b string) int { return cmp.Or(cmp.Compare(taken[b], taken[a]), cmp.Compare(a, b)) })
	return t
}

func utcDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
