package reconcile

import (
	"maps"
	"slices"
	"testing"
	"time"
)

// trendGroup is a group of status and cause whose first member is kept and
// the others are duplicates.
func trendGroup(status Status, cause Cause, members ...Charge) Group {
	g := Group{ID: "grp_" + members[0].ID, Status: status, Verdict: Verdict{Cause: cause}, Currency: members[0].Currency}
	for i, c := range members {
		role := Duplicate
		if i == 0 {
			role = Keep
		}
		g.Charges = append(g.Charges, Member{Charge: c, Role: role})
	}
	return g
}

func TestBuildTrend(t *testing.T) {
	day := 24 * time.Hour
	eur := func(c *Charge) { c.Currency = "eur" }
	report := Report{
		Groups: []Group{
			trendGroup(Open, CauseNoKey, charge("ch_1", 0), charge("ch_2", time.Minute)),
			// Two duplicates on two days: the group counts once, on its first
			// duplicate's day; the money on each duplicate's day.
			trendGroup(Resolved, CauseNoKey, charge("ch_3", 11*time.Hour), charge("ch_4", 11*time.Hour+time.Minute, refunded(2000)),
				charge("ch_5", 12*time.Hour+time.Minute)),
			trendGroup(Open, CauseDoubleSubmit, charge("ch_6", 3*day, eur, amount(500)), charge("ch_7", 3*day+time.Second, eur, amount(500))),
			trendGroup(Dismissed, CauseUnknown, charge("ch_8", 3*day), charge("ch_9", 3*day+time.Minute)),
		},
		Summary: Summary{FirstCharge: t0.Add(-2 * time.Hour), LastCharge: t0.Add(3*day + time.Hour)},
	}
	trend := BuildTrend(report)

	// t0 is 12:00 UTC: ch_4 (23:01) is on the first day, ch_5 (00:01) on the next.
	type want struct {
		groups     map[Cause]int
		taken, ref map[string]int64
	}
	wants := []want{
		{map[Cause]int{CauseNoKey: 2}, map[string]int64{"usd": 4000}, map[string]int64{"usd": 2000}},
		{map[Cause]int{}, map[string]int64{"usd": 2000}, map[string]int64{"usd": 0}},
		{map[Cause]int{}, map[string]int64{}, map[string]int64{}}, // a day without duplicates is still a day
		{map[Cause]int{CauseDoubleSubmit: 1}, map[string]int64{"eur": 500}, map[string]int64{"eur": 0}},
	}
	if len(trend.Days) != len(wants) {
		t.Fatalf("%d days, want %d", len(trend.Days), len(wants))
	}
	for i, w := range wants {
		d := trend.Days[i]
		if wantDay := time.Date(2026, 11, 1+i, 0, 0, 0, 0, time.UTC); !d.Day.Equal(wantDay) {
			t.Errorf("day %d is %v, want %v", i, d.Day, wantDay)
		}
		if !maps.Equal(d.Groups, w.groups) || !maps.Equal(d.TakenTwice, w.taken) || !maps.Equal(d.Refunded, w.ref) {
			t.Errorf("day %d: groups %v taken %v refunded %v, want %v %v %v", i, d.Groups, d.TakenTwice, d.Refunded, w.groups, w.taken, w.ref)
		}
	}
	if want := []Cause{CauseNoKey, CauseDoubleSubmit}; !slices.Equal(trend.Causes, want) {
		t.Errorf("causes %v, want %v (dismissed ones left out)", trend.Causes, want)
	}
	if want := []string{"usd", "eur"}; !slices.Equal(trend.Currencies, want) {
		t.Errorf("currencies %v, want %v", trend.Currencies, want)
	}
	if trend.Dismissed != 1 {
		t.Errorf("dismissed %d, want 1", trend.Dismissed)
	}
}

func TestBuildTrendWithoutCharges(t *testing.T) {
	if trend := BuildTrend(Report{}); len(trend.Days) != 0 || len(trend.Causes) != 0 {
		t.Errorf("an empty store has a trend: %+v", trend)
	}
}

// TestSummaryBoundsTheCharges: the trend's range is every charge detection
// saw, not only the grouped ones.
func TestSummaryBoundsTheCharges(t *testing.T) {
	in := Input{Charges: []Charge{charge("ch_b", 5*time.Hour), charge("ch_a", -3*time.Hour, customer("cus_2")), charge("ch_c", time.Hour, customer("cus_3"))}}
	s := Detect(in, DefaultOptions()).Summary
	if !s.FirstCharge.Equal(t0.Add(-3*time.Hour)) || !s.LastCharge.Equal(t0.Add(5*time.Hour)) {
		t.Errorf("summary spans %v to %v", s.FirstCharge, s.LastCharge)
	}
}
