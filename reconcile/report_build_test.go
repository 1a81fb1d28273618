package reconcile

import (
	"bytes"
	"encoding/csv"
	"slices"
	"testing"
	"time"
)

// TestRefundIDSurvivesLaterAttempts: once a refund succeeded, a later refused
// attempt, dry run or dismissal never hides it from the member or the report.
func TestRefundIDSurvivesLaterAttempts(t *testing.T) {
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	attempt := func(status RefundStatus, refundID, operator string, h int) RefundIntent {
		return RefundIntent{
			RefundRequest: RefundRequest{ChargeID: "ch_b", Amount: 500, Currency: "usd"}, Status: status, RefundID: refundID, Operator: operator, CreatedAt: at(h), FinishedAt: at(h).Add(time.Second),
		}
	}
	cases := []struct {
		name      string
		refunds   []RefundIntent
		decisions []Decision
		decision  string
		refundID  string
		operator  string
		decidedAt time.Time
	}{
		{name: "a refused attempt after a refund",
			refunds:  []RefundIntent{attempt(RefundSucceeded, "re_1", "ann", 1), attempt(RefundFailed, "", "bob", 2)},
			decision: string(RefundSucceeded), refundID: "re_1", operator: "ann", decidedAt: at(1).Add(time.Second)},
		{name: "a dry run after a refund",
			refunds:  []RefundIntent{attempt(RefundSucceeded, "re_1", "ann", 1), attempt(RefundWouldRefund, "", "bob", 2)},
			decision: string(RefundSucceeded), refundID: "re_1", operator: "ann", decidedAt: at(1).Add(time.Second)},
		{name: "a refund after a refused attempt",
			refunds:  []RefundIntent{attempt(RefundFailed, "", "bob", 1), attempt(RefundSucceeded, "re_2", "ann", 2)},
			decision: string(RefundSucceeded), refundID: "re_2", operator: "ann", decidedAt: at(2).Add(time.Second)},
		{name: "a dry run older versions recorded is no decision",
			refunds: []RefundIntent{attempt(RefundWouldRefund, "", "bob", 1)}},
		{name: "a refund after a dry run",
			refunds:  []RefundIntent{attempt(RefundWouldRefund, "", "bob", 1), attempt(RefundSucceeded, "re_2", "ann", 2)},
			decision: string(RefundSucceeded), refundID: "re_2", operator: "ann", decidedAt: at(2).Add(time.Second)},
		{name: "two partial refunds name the latest",
			refunds:  []RefundIntent{attempt(RefundSucceeded, "re_2", "bob", 2), attempt(RefundSucceeded, "re_1", "ann", 1)},
			decision: string(RefundSucceeded), refundID: "re_2", operator: "bob", decidedAt: at(2).Add(time.Second)},
		{name: "a refund in flight after a refund",
			refunds: []RefundIntent{attempt(RefundSucceeded, "re_1", "ann", 1),
				{RefundRequest: RefundRequest{ChargeID: "ch_b", Amount: 500, Currency: "usd"}, Status: RefundPending, Operator: "bob", CreatedAt: at(2)}},
			decision: string(RefundPending), refundID: "re_1", operator: "bob", decidedAt: at(2)},
		{name: "a later decision keeps the refund id",
			refunds:   []RefundIntent{attempt(RefundSucceeded, "re_1", "ann", 1)},
			decisions: []Decision{{GroupID: "grp_a", Kind: DecisionUndismissed, Operator: "cat", At: at(3)}},
			decision:  string(DecisionUndismissed), refundID: "re_1", operator: "cat", decidedAt: at(3)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := Input{Charges: []Charge{charge("ch_a", 0), charge("ch_b", time.Minute)}, Refunds: tc.refunds, Decisions: tc.decisions}
			r := Detect(in, DefaultOptions())
			dup := onlyGroup(t, r).Charges[1]
			if dup.Decision != tc.decision || dup.RefundID != tc.refundID || dup.Operator != tc.operator || !dup.DecidedAt.Equal(tc.decidedAt) {
				t.Errorf("member: %q %q %q %v; want %q %q %q %v", dup.Decision, dup.RefundID, dup.Operator, dup.DecidedAt,
					tc.decision, tc.refundID, tc.operator, tc.decidedAt)
			}
			// The audit trail is the CSV: its row for ch_b must say the same.
			var buf bytes.Buffer
			if err := WriteCSV(&buf, r); err != nil {
				t.Fatal(err)
			}
			rows, err := csv.NewReader(&buf).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			col := func(name string) int { return slices.Index(rows[0], name) }
			i := slices.IndexFunc(rows, func(row []string) bool { return row[col("charge_id")] == "ch_b" })
			if i < 0 {
				t.Fatalf("no CSV row for ch_b: %q", rows)
			}
			if got := rows[i][col("decision")] + " " + rows[i][col("refund_id")]; got != tc.decision+" "+tc.refundID {
				t.Errorf("CSV decision and refund_id %q, want %q", got, tc.decision+" "+tc.refundID)
			}
		})
	}
}

func TestKeptFor(t *testing.T) {
	s := time.Second
	cases := []struct {
		name    string
		charges []Charge
		suspect string
		kept    string
	}{
		{"the earliest by default", []Charge{charge("ch_a", 0), charge("ch_b", s)}, "ch_b", "ch_a"},
		{"the first charge of the suspect's order",
			[]Charge{charge("ch_a", 0, order("o-2")), charge("ch_b", s, order("o-1")), charge("ch_c", 2*s, order("o-1"))}, "ch_c", "ch_b"},
		{"a suspect without an order ref: the earliest",
			[]Charge{charge("ch_a", 0, order("o-2")), charge("ch_b", s, order("o-1")), charge("ch_c", 2*s), charge("ch_d", 3*s, order("o-1"))}, "ch_c", "ch_a"},
		{"different orders only: the earliest",
			[]Charge{charge("ch_a", 0, order("o-1")), charge("ch_b", s, order("o-2"))}, "ch_b", "ch_a"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := onlyGroup(t, Detect(Input{Charges: tc.charges}, DefaultOptions()))
			i := slices.IndexFunc(g.Charges, func(m Member) bool { return m.ID == tc.suspect })
			if g.Charges[i].Role != Duplicate {
				t.Fatalf("%s is %s, want a suspect", tc.suspect, g.Charges[i].Role)
			}
			if got := g.KeptFor(&g.Charges[i]); got.ID != tc.kept || got.Role != Keep {
				t.Errorf("KeptFor(%s) = %s (%s), want %s", tc.suspect, got.ID, got.Role, tc.kept)
			}
		})
	}
}
