package reconcile

import (
	"strings"
	"testing"
	"time"
)

// TestDismissalCoversTheChargesSeen: a dismissal covers the charges the
// operator saw. A suspect that joins the group later reopens it, headed by
// what is new since the dismissal, and counts in the money at risk (the
// suspects judged legitimate do not), and the refund plan refunds only it. A
// dismissal recorded before the charges were kept covers what existed by its
// time. A dismissal applies to whichever group holds the charges it covers,
// under whatever id.
func TestDismissalCoversTheChargesSeen(t *testing.T) {
	seen := []Charge{charge("ch_a", 0), charge("ch_b", time.Minute)}
	later := charge("ch_c", 2*time.Minute)
	older := charge("ch_0", -time.Minute) // kept once it arrives: the group's id becomes grp_0
	dismissal := func(at time.Duration, ids ...string) []Decision {
		return []Decision{{GroupID: "grp_a", Kind: DecisionDismissed, Operator: "ann", At: t0.Add(at), Charges: ids}}
	}
	tests := []struct {
		name      string
		charges   []Charge
		decisions []Decision
		status    Status
		atRisk    int64
		headline  string
		refunds   []string
	}{
		{"the charges seen stay dismissed", seen, dismissal(time.Hour, "ch_a", "ch_b"), Dismissed, 0, "", nil},
		{"a new suspect reopens the group", append(seen, later), dismissal(time.Hour, "ch_a", "ch_b"), Open, 2000,
			"new since dismissed by ann 2026-11-01 13:00 UTC: ch_c", []string{"ch_c"}},
		{"an older dismissal covers what existed by its time", append(seen, later), dismissal(time.Hour), Dismissed, 0, "", nil},
		{"a dismissal finds its charges under another group id", seen,
			[]Decision{{GroupID: "grp_old", Kind: DecisionDismissed, Operator: "ann", At: t0.Add(time.Hour), Charges: []string{"ch_a", "ch_b"}}},
			Dismissed, 0, "", nil},
		{"an older charge changes the group id and reopens it", append([]Charge{older}, seen...), dismissal(time.Hour, "ch_a", "ch_b"), Open, 0,
			"new since dismissed by ann 2026-11-01 13:00 UTC: ch_0", nil},
		{"an undismissal under the new id wins", append([]Charge{older}, seen...),
			append(dismissal(time.Hour, "ch_a", "ch_b"), Decision{GroupID: "grp_0", Kind: DecisionUndismissed, Operator: "ann", At: t0.Add(2 * time.Hour)}),
			Open, 4000, "", []string{"ch_a", "ch_b"}},
		{"an older dismissal does not cover a later charge", append(seen, later), dismissal(90 * time.Second), Open, 2000,
			"new since dismissed by ann 2026-11-01 12:01 UTC: ch_c", []string{"ch_c"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Detect(Input{Charges: tc.charges, Decisions: tc.decisions}, DefaultOptions())
			g := onlyGroup(t, r)
			if g.Status != tc.status || r.Summary.ByCurrency[0].AtRisk != tc.atRisk {
				t.Fatalf("status %s, at risk %d; want %s, %d", g.Status, r.Summary.ByCurrency[0].AtRisk, tc.status, tc.atRisk)
			}
			if tc.status == Open && (r.Summary.Open != 1 || !strings.HasPrefix(g.Headline(), tc.headline)) {
				t.Errorf("open %d, headline %q; want 1 open, %q", r.Summary.Open, g.Headline(), tc.headline)
			}
			plan, err := PlanRefunds([]*Group{&g}, AllThatIsLeft)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, rq := range plan.Requests {
				ids = append(ids, rq.ChargeID)
			}
			if strings.Join(ids, " ") != strings.Join(tc.refunds, " ") {
				t.Errorf("plan refunds %v, want %v", ids, tc.refunds)
			}
		})
	}
}
