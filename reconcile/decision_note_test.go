package reconcile

import (
	"testing"
	"time"
)

// TestDecisionNoteReachesMembers: the note an operator gave with a decision
// travels with it to the members, and a later refund state (which has none)
// replaces it.
func TestDecisionNoteReachesMembers(t *testing.T) {
	dismissal := Decision{GroupID: "grp_a", Kind: DecisionDismissed, Operator: "ann", At: t0.Add(time.Hour), Note: "repeat purchase, confirmed by phone"}
	cases := []struct {
		name     string
		in       Input
		wantKeep string
		wantDup  string
	}{
		{"dismissed with a note", Input{Decisions: []Decision{dismissal}}, dismissal.Note, dismissal.Note},
		{"undone later", Input{Decisions: []Decision{dismissal, {GroupID: "grp_a", Kind: DecisionUndismissed, At: t0.Add(2 * time.Hour)}}}, "", ""},
		{"refunded after the dismissal", Input{Decisions: []Decision{dismissal},
			Refunds: []RefundIntent{{RefundRequest: RefundRequest{ChargeID: "ch_b", Amount: 2000}, Status: RefundSucceeded, RefundID: "re_1", CreatedAt: t0.Add(2 * time.Hour)}}},
			dismissal.Note, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.Charges = []Charge{charge("ch_a", 0), charge("ch_b", time.Minute)}
			g := onlyGroup(t, Detect(tc.in, DefaultOptions()))
			if keep, dup := g.Charges[0].Note, g.Charges[1].Note; keep != tc.wantKeep || dup != tc.wantDup {
				t.Errorf("notes: kept %q, duplicate %q; want %q and %q", keep, dup, tc.wantKeep, tc.wantDup)
			}
		})
	}
}
