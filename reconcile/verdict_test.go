package reconcile

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// TestSharedOrderAmongOtherOrders covers groups where one order ref is carried by
// two or more charges and others by one: the verdict follows the duplicated order
// and a charge of another order is a separate purchase, kept.
func TestSharedOrderAmongOtherOrders(t *testing.T) {
	s := time.Second
	dismissA := []Decision{{GroupID: "grp_a", Kind: DecisionDismissed, At: t0.Add(time.Hour)}}
	cases := []struct {
		name       string
		charges    []Charge
		decisions  []Decision
		roles      []Role
		confidence Confidence
		status     Status
		atRisk     int64
		dismissed  int64
		reasons    []string // reasons that must be present
	}{
		{name: "a third order does not hide the duplicated one",
			charges:    []Charge{charge("ch_a", 0, order("o-1")), charge("ch_b", 20*s, order("o-1")), charge("ch_c", 40*s, order("o-2"))},
			roles:      []Role{Keep, Duplicate, Keep},
			confidence: High, status: Open, atRisk: 2000,
			reasons: []string{"same order_id o-1 on 2 charges, no idempotency key", "ch_c is order_id o-2, a separate purchase: kept", "2 charges in 20 s"}},
		{name: "the separate purchase is the earliest charge",
			charges:    []Charge{charge("ch_a", 0, order("o-2")), charge("ch_b", 20*s, order("o-1")), charge("ch_c", 40*s, order("o-1"))},
			roles:      []Role{Keep, Keep, Duplicate},
			confidence: High, status: Open, atRisk: 2000,
			reasons: []string{"ch_a is order_id o-2, a separate purchase: kept", "ch_b is the first charge of order_id o-1: kept"}},
		{name: "two duplicated orders keep the first charge of each",
			charges: []Charge{charge("ch_a", 0, order("o-1")), charge("ch_b", 10*s, order("o-1")),
				charge("ch_c", 20*s, order("o-2")), charge("ch_d", 30*s, order("o-2"))},
			roles:      []Role{Keep, Duplicate, Keep, Duplicate},
			confidence: High, status: Open, atRisk: 4000,
			reasons: []string{"ch_c is the first charge of order_id o-2: kept"}},
		{name: "a charge without an order ref stays a suspect",
			charges:    []Charge{charge("ch_a", 0, order("o-1")), charge("ch_b", 10*s), charge("ch_c", 20*s, order("o-1"))},
			roles:      []Role{Keep, Duplicate, Duplicate},
			confidence: High, status: Open, atRisk: 4000},
		{name: "resolved once the duplicate is refunded, whatever the separate purchase",
			charges:    []Charge{charge("ch_a", 0, order("o-1")), charge("ch_b", 20*s, order("o-1"), refunded(2000)), charge("ch_c", 40*s, order("o-2"))},
			roles:      []Role{Keep, Duplicate, Keep},
			confidence: High, status: Resolved},
		{name: "dismissed counts only the suspects",
			charges:    []Charge{charge("ch_a", 0, order("o-1")), charge("ch_b", 20*s, order("o-1")), charge("ch_c", 40*s, order("o-2"))},
			decisions:  dismissA,
			roles:      []Role{Keep, Duplicate, Keep},
			confidence: High, status: Dismissed, dismissed: 2000},
		{name: "no shared order is still likely legitimate",
			charges:    []Charge{charge("ch_a", 0, order("o-1")), charge("ch_b", 20*s, order("o-2")), charge("ch_c", 40*s, order("o-3"))},
			roles:      []Role{Keep, Duplicate, Duplicate},
			confidence: Low, status: Open, atRisk: 4000,
			reasons: []string{"likely legitimate: different order_id on each charge"}},
	}
	medium := DefaultOptions()
	medium.MinConfidence = Medium
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := Input{Charges: tc.charges, Decisions: tc.decisions, Requests: bare("ch_a", "ch_b", "ch_c", "ch_d")}
			r := Detect(in, DefaultOptions())
			g := onlyGroup(t, r)
			var roles []Role
			for _, m := range g.Charges {
				roles = append(roles, m.Role)
				if m.Role == Keep && (m.Refundable != 0 || m.NotRefundable != "") {
					t.Errorf("kept %s: refundable %d %q, want 0 and no sentence", m.ID, m.Refundable, m.NotRefundable)
				}
			}
			if !slices.Equal(roles, tc.roles) {
				t.Errorf("roles %v, want %v", roles, tc.roles)
			}
			if g.Confidence != tc.confidence || g.Status != tc.status {
				t.Errorf("confidence %s status %s, want %s %s (reasons %q)", g.Confidence, g.Status, tc.confidence, tc.status, g.Reasons)
			}
			for _, want := range tc.reasons {
				if !slices.Contains(g.Reasons, want) {
					t.Errorf("no reason %q in %q", want, g.Reasons)
				}
			}
			tot := r.Summary.ByCurrency[0]
			if tot.AtRisk != tc.atRisk || tot.Dismissed != tc.dismissed {
				t.Errorf("at risk %d dismissed %d, want %d %d", tot.AtRisk, tot.Dismissed, tc.atRisk, tc.dismissed)
			}
			if visible := len(Detect(in, medium).Groups) == 1; visible != (tc.confidence != Low) {
				t.Errorf("shown with --min-confidence medium: %v", visible)
			}
		})
	}
}

func TestNoKeyReasonNamesTheRequestWithoutKey(t *testing.T) {
	cases := []struct {
		name   string
		keys   []KeyRecord
		reason string
	}{
		{name: "the retry dropped the key",
			keys:   []KeyRecord{eventKey("k-1", "ch_a")},
			reason: "no_key: the retry ch_b was sent without the Idempotency-Key k-1 that the first attempt ch_a used"},
		{name: "the first attempt had no key",
			keys:   []KeyRecord{eventKey("k-2", "ch_b")},
			reason: "no_key: the first attempt ch_a was sent without an Idempotency-Key, unlike ch_b (k-2)"},
		{name: "a library key is no key of the application's",
			keys:   []KeyRecord{eventKey("k-1", "ch_a"), eventKey("1234567890123456789_AbC123", "ch_b")},
			reason: "no_key: the retry ch_b was sent without the Idempotency-Key k-1 that the first attempt ch_a used"},
		{name: "no key at all",
			reason: "no_key: the application sent no Idempotency-Key of its own"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := Input{Charges: []Charge{charge("ch_a", 0, intent("")), charge("ch_b", 12*time.Second, intent(""))}, Keys: tc.keys,
				Requests: []RequestRecord{{Object: "ch_a"}, {Object: "ch_b"}}}
			g := onlyGroup(t, Detect(in, DefaultOptions()))
			if g.Cause != CauseNoKey {
				t.Fatalf("cause %s, want no_key", g.Cause)
			}
			if !slices.ContainsFunc(g.Reasons, func(r string) bool { return strings.HasPrefix(r, tc.reason) }) {
				t.Errorf("no reason starting %q in %q", tc.reason, g.Reasons)
			}
		})
	}
}
