package reconcile

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDetectMembership(t *testing.T) {
	min := time.Minute
	cases := []struct {
		name    string
		charges []Charge
		keys    []KeyRecord
		opts    func(*Options)
		want    [][]string
	}{
		{name: "same customer within the window",
			charges: []Charge{charge("ch_a", 0), charge("ch_b", 3*min)},
			want:    [][]string{{"ch_a", "ch_b"}}},
		{name: "window is inclusive",
			charges: []Charge{charge("ch_a", 0), charge("ch_b", 10*min)},
			want:    [][]string{{"ch_a", "ch_b"}}},
		{name: "outside the window",
			charges: []Charge{charge("ch_a", 0), charge("ch_b", 10*min+time.Second)}},
		{name: "a negative window means the same instant",
			charges: []Charge{charge("ch_a", 0), charge("ch_b", 0), charge("ch_c", time.Second)},
			opts:    func(o *Options) { o.Window = -time.Minute },
			want:    [][]string{{"ch_a", "ch_b"}}},
		{name: "a wider window",
			charges: []Charge{charge("ch_a", 0), charge("ch_b", 30*min)},
			opts:    func(o *Options) { o.Window = time.Hour },
			want:    [][]string{{"ch_a", "ch_b"}}},
		{name: "different amount",
			charges: []Charge{charge("ch_a", 0), charge("ch_b", min, amount(2001))}},
		{name: "different currency",
			charges: []Charge{charge("ch_a", 0), charge("ch_b", min, currency("eur"))}},
		{name: "failed charge never a duplicate",
			charges: []Charge{charge("ch_a", 0), charge("ch_b", min, status("failed"))}},
		{name: "uncaptured charge never a duplicate",
			charges: []Charge{charge("ch_a", 0), charge("ch_b", min, uncaptured)}},
		{name: "pending charge never a duplicate",
			charges: []Charge{charge("ch_a", 0), charge("ch_b", min, status("pending"))}},
		{name: "same PaymentIntent is a retry of one intent",
			charges: []Charge{charge("ch_a", 0, intent("pi_1")), charge("ch_b", min, intent("pi_1"))}},
		{name: "empty PaymentIntents never count as the same",
			charges: []Charge{charge("ch_a", 0, intent("")), charge("ch_b", min, intent(""))},
			want:    [][]string{{"ch_a", "ch_b"}}},
		{name: "card fingerprint of a guest",
			charges: []Charge{charge("ch_a", 0, guest, card("fp1")), charge("ch_b", min, guest, card("fp1"))},
			want:    [][]string{{"ch_a", "ch_b"}}},
		{name: "email trimmed and case-insensitive",
			charges: []Charge{charge("ch_a", 0, guest, email(" Ann@Example.COM ")), charge("ch_b", min, guest, email("ann@example.com"))},
			want:    [][]string{{"ch_a", "ch_b"}}},
		{name: "empty identities never match",
			charges: []Charge{charge("ch_a", 0, guest), charge("ch_b", min, guest)}},
		{name: "different identities",
			charges: []Charge{charge("ch_a", 0, customer("cus_1")), charge("ch_b", min, customer("cus_2"))}},
		{name: "transitive: a~b and b~c though a and c are 16 min apart",
			charges: []Charge{charge("ch_a", 0), charge("ch_b", 8*min), charge("ch_c", 16*min)},
			want:    [][]string{{"ch_a", "ch_b", "ch_c"}}},
		{name: "across identities: customer then email",
			charges: []Charge{
				charge("ch_a", 0, customer("cus_1"), email("x@y.z")),
				charge("ch_b", min, customer("cus_1")),
				charge("ch_c", 2*min, customer("cus_9"), email("X@y.z")),
			},
			want: [][]string{{"ch_a", "ch_b", "ch_c"}}},
		{name: "same idempotency key days apart, whatever the identity",
			charges: []Charge{charge("ch_a", 0, customer("cus_1")), charge("ch_b", 72*time.Hour, customer("cus_2"))},
			keys:    []KeyRecord{eventKey("k1", "ch_a"), eventKey("k1", "ch_b")},
			want:    [][]string{{"ch_a", "ch_b"}}},
		{name: "same key but different amounts",
			charges: []Charge{charge("ch_a", 0), charge("ch_b", 72*time.Hour, amount(999))},
			keys:    []KeyRecord{eventKey("k1", "ch_a"), eventKey("k1", "ch_b")}},
		{name: "same key on the same PaymentIntent",
			charges: []Charge{charge("ch_a", 0, intent("pi_1")), charge("ch_b", 72*time.Hour, intent("pi_1"))},
			keys:    []KeyRecord{eventKey("k1", "ch_a"), eventKey("k1", "ch_b")}},
		{name: "key from a metadata field",
			charges: []Charge{charge("ch_a", 0, meta("idempotency_key", "k1")), charge("ch_b", 48*time.Hour, customer("cus_2"), meta("idempotency_key", "k1"))},
			want:    [][]string{{"ch_a", "ch_b"}}},
		{name: "metadata key fields are configurable",
			charges: []Charge{charge("ch_a", 0, meta("req", "k1")), charge("ch_b", 48*time.Hour, meta("req", "k1"))},
			opts:    func(o *Options) { o.KeyFields = []string{"req"} },
			want:    [][]string{{"ch_a", "ch_b"}}},
		{name: "same order reference days apart",
			charges: []Charge{charge("ch_a", 0, order("o-1")), charge("ch_b", 48*time.Hour, customer("cus_2"), order("o-1"))},
			want:    [][]string{{"ch_a", "ch_b"}}},
		{name: "order field is configurable",
			charges: []Charge{charge("ch_a", 0, meta("cart", "c-1")), charge("ch_b", 48*time.Hour, meta("cart", "c-1"))},
			opts:    func(o *Options) { o.OrderField = "cart" },
			want:    [][]string{{"ch_a", "ch_b"}}},
		{name: "order reference from a key record",
			charges: []Charge{charge("ch_a", 0), charge("ch_b", 48*time.Hour)},
			keys: []KeyRecord{
				{Key: "k1", ChargeID: "ch_a", OrderRef: "o-7", Sources: []string{SourceLog}},
				{Key: "k2", ChargeID: "ch_b", OrderRef: "o-7", Sources: []string{SourceLog}},
			},
			want: [][]string{{"ch_a", "ch_b"}}},
		{name: "metadata order wins over a key record's",
			charges: []Charge{charge("ch_a", 0, order("o-1")), charge("ch_b", 48*time.Hour)},
			keys:    []KeyRecord{{Key: "k2", ChargeID: "ch_b", OrderRef: "o-2", Sources: []string{SourceLog}}, {Key: "k1", ChargeID: "ch_a", OrderRef: "o-2", Sources: []string{SourceLog}}}},
		{name: "two on one intent plus one on another: the third joins both",
			charges: []Charge{charge("ch_a", 0, intent("pi_1")), charge("ch_b", min, intent("pi_1")), charge("ch_c", 2*min, intent("pi_2"))},
			want:    [][]string{{"ch_a", "ch_b", "ch_c"}}},
		{name: "intent run then a charge outside the first's window",
			charges: []Charge{charge("ch_a", 0, intent("pi_1")), charge("ch_b", 8*min, intent("pi_1")), charge("ch_c", 12*min, intent("pi_2"))},
			want:    [][]string{{"ch_b", "ch_c"}}},
		{name: "times beyond what nanoseconds hold are clamped, not wrapped",
			charges: []Charge{
				charge("ch_a", 0, func(c *Charge) { c.Created = time.Time{} }),
				charge("ch_b", 0, func(c *Charge) { c.Created = time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC) }),
				charge("ch_c", 0, func(c *Charge) { c.Created = time.Date(3000, 1, 1, 0, 1, 0, 0, time.UTC) }),
			},
			want: [][]string{{"ch_b", "ch_c"}}},
		{name: "components stay apart",
			charges: []Charge{charge("ch_a", 0), charge("ch_b", min), charge("ch_c", time.Hour), charge("ch_d", time.Hour+min)},
			want:    [][]string{{"ch_a", "ch_b"}, {"ch_c", "ch_d"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts := DefaultOptions()
			if tc.opts != nil {
				tc.opts(&opts)
			}
			got := membership(Detect(Input{Charges: tc.charges, Keys: tc.keys}, opts))
			if !slices.EqualFunc(got, tc.want, func(a, b []string) bool { return slices.Equal(a, b) }) {
				t.Errorf("groups = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestGroupShape(t *testing.T) {
	// Given out of order: the earliest charge is kept, ties broken by id.
	in := Input{Charges: []Charge{
		charge("ch_c", 2*time.Minute, card("fp1")),
		charge("ch_b", 0, card("fp1")),
		charge("ch_a", 0, card("fp1")),
	}}
	g := onlyGroup(t, Detect(in, DefaultOptions()))
	if g.ID != "grp_a" {
		t.Errorf("ID = %q, want grp_a", g.ID)
	}
	var ids []string
	for _, m := range g.Charges {
		ids = append(ids, m.ID+":"+string(m.Role))
	}
	if want := []string{"ch_a:keep", "ch_b:duplicate", "ch_c:duplicate"}; !slices.Equal(ids, want) {
		t.Errorf("charges = %v, want %v", ids, want)
	}
	if g.Amount != 2000 || g.Currency != "usd" || g.Identity != "cus_1" {
		t.Errorf("amount/currency/identity = %d %s %q", g.Amount, g.Currency, g.Identity)
	}
	if g.Span() != 2*time.Minute {
		t.Errorf("span = %v", g.Span())
	}
}

func TestGroupID(t *testing.T) {
	for in, want := range map[string]string{"ch_3Abc": "grp_3Abc", "py_9x": "grp_9x", "other": "grp_other"} {
		if got := GroupID(in); got != want {
			t.Errorf("GroupID(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIdentityLabel(t *testing.T) {
	cases := []struct {
		name    string
		charges []Charge
		want    string
	}{
		{"shared customer", []Charge{charge("ch_a", 0, email("a@x")), charge("ch_b", time.Minute, email("b@x"))}, "cus_1"},
		{"shared email", []Charge{charge("ch_a", 0, guest, email("A@x.io")), charge("ch_b", time.Minute, guest, email("a@x.io "))}, "a@x.io"},
		{"card", []Charge{charge("ch_a", 0, guest, card("fp")), charge("ch_b", time.Minute, guest, card("fp"))}, "visa …4242"},
		{"order", []Charge{charge("ch_a", 0, guest, order("o-5")), charge("ch_b", 30*time.Hour, guest, order("o-5"))}, "order o-5"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := onlyGroup(t, Detect(Input{Charges: tc.charges}, DefaultOptions())).Identity; got != tc.want {
				t.Errorf("identity = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestStatusAndRefundability(t *testing.T) {
	pair := func(opts ...chargeOpt) []Charge {
		return []Charge{charge("ch_a", 0), charge("ch_b", time.Minute, opts...)}
	}
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Hour) }
	cases := []struct {
		name          string
		in            Input
		status        Status
		refundable    int64
		notRefundable string
		decision      string
	}{
		{name: "open", in: Input{Charges: pair()}, status: Open, refundable: 2000},
		{name: "partly refunded stays open for the remainder", in: Input{Charges: pair(refunded(500))}, status: Open, refundable: 1500},
		{name: "fully refunded is resolved", in: Input{Charges: pair(refunded(2000))}, status: Resolved, notRefundable: notRefundableDone},
		{name: "Stripe's refunded flag counts as fully refunded", in: Input{Charges: pair(func(c *Charge) { c.Refunded = true })}, status: Resolved, notRefundable: notRefundableDone},
		{name: "disputed cannot be refunded", in: Input{Charges: pair(disputed)}, status: Open, notRefundable: notRefundableDisputed},
		{name: "dismissed", status: Dismissed, refundable: 2000, decision: string(DecisionDismissed), in: Input{Charges: pair(),
			Decisions: []Decision{{GroupID: "grp_a", Kind: DecisionDismissed, Operator: "ann", At: at(1)}}}},
		{name: "dismissal undone", status: Open, refundable: 2000, decision: string(DecisionUndismissed), in: Input{Charges: pair(),
			Decisions: []Decision{{GroupID: "grp_a", Kind: DecisionUndismissed, At: at(2)}, {GroupID: "grp_a", Kind: DecisionDismissed, At: at(1)}}}},
		{name: "dismissal of another group does not count", status: Open, refundable: 2000, in: Input{Charges: pair(),
			Decisions: []Decision{{GroupID: "grp_b", Kind: DecisionDismissed, At: at(1)}}}},
		{name: "dismissed wins over refunded", status: Dismissed, notRefundable: notRefundableDone, decision: string(DecisionDismissed), in: Input{Charges: pair(refunded(2000)),
			Decisions: []Decision{{GroupID: "grp_a", Kind: DecisionDismissed, At: at(1)}}}},
		{name: "pending refund intent", status: Pending, notRefundable: notRefundablePending, decision: string(RefundPending), in: Input{Charges: pair(),
			Refunds: []RefundIntent{{RefundRequest: RefundRequest{Key: RefundKey("ch_b", 0, 2000), ChargeID: "ch_b", Amount: 2000, Currency: "usd"}, Status: RefundPending, CreatedAt: at(1)}}}},
		{name: "refund in the ledger before the next sync resolves", status: Resolved, notRefundable: notRefundableDone, decision: string(RefundSucceeded), in: Input{Charges: pair(),
			Refunds: []RefundIntent{{RefundRequest: RefundRequest{ChargeID: "ch_b", Amount: 2000, Currency: "usd"}, Status: RefundSucceeded, RefundID: "re_1", CreatedAt: at(1), FinishedAt: at(2)}}}},
		{name: "failed refund stays refundable", status: Open, refundable: 2000, decision: string(RefundFailed), in: Input{Charges: pair(),
			Refunds: []RefundIntent{{RefundRequest: RefundRequest{ChargeID: "ch_b", Amount: 2000}, Status: RefundFailed, CreatedAt: at(1)}}}},
		{name: "dry run stays refundable and decides nothing", status: Open, refundable: 2000, in: Input{Charges: pair(),
			Refunds: []RefundIntent{{RefundRequest: RefundRequest{ChargeID: "ch_b", Amount: 2000}, Status: RefundWouldRefund, CreatedAt: at(1)}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := onlyGroup(t, Detect(tc.in, DefaultOptions()))
			dup := g.Charges[1]
			if g.Status != tc.status || dup.Refundable != tc.refundable || dup.NotRefundable != tc.notRefundable || dup.Decision != tc.decision {
				t.Errorf("status %s refundable %d %q decision %q; want %s %d %q %q",
					g.Status, dup.Refundable, dup.NotRefundable, dup.Decision, tc.status, tc.refundable, tc.notRefundable, tc.decision)
			}
			if keep := g.Charges[0]; keep.Refundable != 0 || keep.NotRefundable != "" {
				t.Errorf("kept charge refundable %d %q, want 0 and no sentence", keep.Refundable, keep.NotRefundable)
			}
		})
	}
}

func TestMemberDecisionIsTheLatest(t *testing.T) {
	in := Input{
		Charges: []Charge{charge("ch_a", 0), charge("ch_b", time.Minute)},
		Decisions: []Decision{
			{GroupID: "grp_a", Kind: DecisionDismissed, Operator: "ann", At: t0.Add(time.Hour)},
			{GroupID: "grp_a", Kind: DecisionUndismissed, Operator: "bob", At: t0.Add(2 * time.Hour)},
		},
		Refunds: []RefundIntent{{
			RefundRequest: RefundRequest{ChargeID: "ch_b", Amount: 2000}, Status: RefundSucceeded, RefundID: "re_9", Operator: "cat", CreatedAt: t0.Add(3 * time.Hour), FinishedAt: t0.Add(3*time.Hour + time.Second),
		}},
	}
	g := onlyGroup(t, Detect(in, DefaultOptions()))
	keep, dup := g.Charges[0], g.Charges[1]
	if dup.Decision != string(RefundSucceeded) || dup.RefundID != "re_9" || dup.Operator != "cat" || !dup.DecidedAt.Equal(t0.Add(3*time.Hour+time.Second)) {
		t.Errorf("duplicate: %q %q %q %v", dup.Decision, dup.RefundID, dup.Operator, dup.DecidedAt)
	}
	if keep.Decision != string(DecisionUndismissed) || keep.Operator != "bob" {
		t.Errorf("kept: %q by %q, want the group-wide undismissal by bob", keep.Decision, keep.Operator)
	}
}

func TestMemberKeyAndSources(t *testing.T) {
	lib := "1234567890123456789_AbC123"
	in := Input{
		Charges: []Charge{charge("ch_a", 0, meta("idempotency_key", "app-1")), charge("ch_b", time.Minute)},
		Keys: []KeyRecord{
			eventKey(lib, "ch_b"),
			eventKey("app-1", "ch_a"),
			{Key: "app-1", ChargeID: "ch_a", OrderRef: "o-1", Sources: []string{SourceLog}},
		},
	}
	g := onlyGroup(t, Detect(in, DefaultOptions()))
	a, b := g.Charges[0], g.Charges[1]
	if a.IdempotencyKey != "app-1" || !slices.Equal(a.KeySources, []string{SourceEvent, SourceLog, SourceMetadata}) || a.OrderRef != "o-1" {
		t.Errorf("ch_a key %q sources %v order %q", a.IdempotencyKey, a.KeySources, a.OrderRef)
	}
	if b.IdempotencyKey != lib || !slices.Equal(b.KeySources, []string{SourceEvent}) {
		t.Errorf("ch_b key %q sources %v", b.IdempotencyKey, b.KeySources)
	}
}

func TestVerdicts(t *testing.T) {
	h := time.Hour
	lib1, lib2 := "1111111111111111111_aaaaaa", "2222222222222222222_bbbbbb"
	cases := []struct {
		name       string
		charges    []Charge
		keys       []KeyRecord
		requests   []RequestRecord
		checkouts  []CheckoutRecord
		confidence Confidence
		cause      Cause
		headline   string
		reason     string // another reason that must be present
	}{
		{name: "no key, tight timing on one customer",
			charges:    []Charge{charge("ch_a", 0, intent("")), charge("ch_b", 20*time.Second, intent("")), charge("ch_c", 41*time.Second, intent(""))},
			requests:   []RequestRecord{{Object: "ch_a"}, {Object: "ch_b"}, {Object: "ch_c"}},
			confidence: High, cause: CauseNoKey, headline: "3 charges in 41 s, no idempotency key",
			reason: "no_key: the application sent no Idempotency-Key"},
		{name: "no event and no log entry: not known, never no_key",
			charges:    []Charge{charge("ch_a", 0), charge("ch_b", 20*time.Second), charge("ch_c", 41*time.Second)},
			confidence: High, cause: CauseUnknown, headline: "3 charges in 41 s, keys not known",
			reason: "unknown: nothing recorded the requests that created ch_a, ch_b, ch_c, so whether they carried an idempotency key is not known (Stripe lists events for 30 days only, and imported files carry none); import the application's key log with `doublecheck keys import`, or run `doublecheck sync` within 30 days of the charges"},
		{name: "an event of a charge without a PaymentIntent saw no key: no_key",
			charges:    []Charge{charge("ch_a", 0, intent("")), charge("ch_b", 20*time.Second, intent(""))},
			requests:   []RequestRecord{{Object: "ch_a"}, {Object: "ch_b"}},
			confidence: High, cause: CauseNoKey, headline: "2 charges in 20 s, no idempotency key"},
		{name: "a browser-confirmed charge's keyless event is not evidence: the PaymentIntent's is",
			charges:    []Charge{charge("ch_a", 0), charge("ch_b", 20*time.Second)},
			requests:   []RequestRecord{{Object: "ch_a"}, {Object: "ch_b"}},
			confidence: High, cause: CauseUnknown, headline: "2 charges in 20 s, keys not known"},
		{name: "only library keys count as no key",
			charges:    []Charge{charge("ch_a", 0, intent("")), charge("ch_b", 5*time.Second, intent(""))},
			keys:       []KeyRecord{eventKey(lib1, "ch_a"), eventKey(lib2, "ch_b")},
			confidence: High, cause: CauseNoKey, headline: "2 charges in 5 s, no idempotency key from the application (only keys generated by the Stripe library)"},
		{name: "stripe-go keys with - and _ are library keys, not a new key per retry",
			charges: []Charge{charge("ch_a", 0, intent(""), order("o-5")), charge("ch_b", 5*time.Second, intent(""), order("o-5")), charge("ch_c", 9*time.Second, intent(""), order("o-5"))},
			keys: []KeyRecord{eventKey("1732871234567890123_Ab-x9z", "ch_a"), eventKey("1732871234567890124_q_Rt4w", "ch_b"),
				eventKey("stripe-node-retry-954fc873-dce4-416c-8692-4043909caba5", "ch_c")},
			confidence: High, cause: CauseNoKey,
			headline: "same order_id o-5 on 3 charges, no idempotency key from the application (only keys generated by the Stripe library)"},
		{name: "UUID keys per retry: new key per retry, and it says the keys are ambiguous",
			charges:    []Charge{charge("ch_a", 0, intent(""), order("o-6")), charge("ch_b", 5*time.Second, intent(""), order("o-6"))},
			keys:       []KeyRecord{eventKey("954fc873-dce4-416c-8692-4043909caba5", "ch_a"), eventKey("0b7e2c1a-41f3-4f0e-9d2b-8a1c3e5f7a90", "ch_b")},
			confidence: High, cause: CauseNewKeyPerRetry, headline: "same order_id o-6 with 2 different idempotency keys",
			reason: "ambiguous: 2 of the keys are bare UUIDs, which stripe-python, -java and -dotnet put on every POST sent without a key (stripe-ruby and -php when their retries are on); " +
				"if these are library keys, the library made one key per call, so the application created the charge twice without a key of its own; the cause is then no_key"},
		{name: "a retry without a key is no key",
			charges:    []Charge{charge("ch_a", 0), charge("ch_b", 12*time.Second)},
			requests:   append([]RequestRecord{{Object: "pi_a", Key: "k-1"}}, bare("ch_b")...),
			confidence: High, cause: CauseNoKey, headline: "2 charges in 12 s, 1 of 2 charges without an idempotency key"},
		{name: "a keyed charge and one not known: not known",
			charges:    []Charge{charge("ch_a", 0, intent("")), charge("ch_b", 12*time.Second, intent(""))},
			keys:       []KeyRecord{eventKey("k-1", "ch_a")},
			confidence: High, cause: CauseUnknown, headline: "2 charges in 12 s, keys not known",
			reason: "unknown: nothing recorded the requests that created ch_b,"},
		{name: "email only is medium",
			charges:    []Charge{charge("ch_a", 0, guest, email("a@x.io")), charge("ch_b", 30*time.Second, guest, email("a@x.io"))},
			requests:   bare("ch_a", "ch_b"),
			confidence: Medium, cause: CauseNoKey, headline: "2 charges in 30 s, no idempotency key", reason: "same email a@x.io"},
		{name: "minutes apart is medium",
			charges:    []Charge{charge("ch_a", 0), charge("ch_b", 7*time.Minute)},
			requests:   bare("ch_a", "ch_b"),
			confidence: Medium, cause: CauseNoKey, headline: "2 charges in 7 min, no idempotency key"},
		{name: "new key per retry of one order",
			charges:    []Charge{charge("ch_a", 0, intent(""), order("o-1234")), charge("ch_b", 40*time.Second, intent(""), order("o-1234"))},
			keys:       []KeyRecord{eventKey("k-1", "ch_a"), eventKey("k-2", "ch_b")},
			confidence: High, cause: CauseNewKeyPerRetry, headline: "same order_id o-1234 with 2 different idempotency keys",
			reason: "new_key_per_retry: the client generated a new Idempotency-Key for each retry of order_id o-1234; reuse one key per order"},
		{name: "new key per retry: the first attempt's key is logged without its charge",
			charges: []Charge{charge("ch_a", 0, order("o-77")), charge("ch_b", 40*time.Second, order("o-77"))},
			keys: []KeyRecord{{Key: "k-1", OrderRef: "o-77", Sources: []string{SourceLog}},
				{Key: "k-2", ChargeID: "ch_b", OrderRef: "o-77", Sources: []string{SourceLog}}},
			confidence: High, cause: CauseNewKeyPerRetry, headline: "same order_id o-77 with 2 different idempotency keys"},
		{name: "key reused after expiry",
			charges:    []Charge{charge("ch_a", 0, intent(""), customer("cus_1")), charge("ch_b", 26*h, intent(""), customer("cus_2"))},
			keys:       []KeyRecord{eventKey("k-9", "ch_a"), eventKey("k-9", "ch_b")},
			confidence: High, cause: CauseKeyReusedExpiry, headline: "idempotency key reused 26 h later — key had expired (Stripe keeps keys 24 h)",
			reason: "key_reused_after_expiry: the client retried with idempotency key k-9 after Stripe had pruned it"},
		{name: "double submit",
			charges:    []Charge{charge("ch_a", 0, intent(""), card("fp")), charge("ch_b", 3*time.Second, intent(""), card("fp"))},
			keys:       []KeyRecord{eventKey("k-1", "ch_a"), eventKey("k-2", "ch_b")},
			confidence: High, cause: CauseDoubleSubmit, headline: "2 charges in 3 s with 2 different idempotency keys and no order_id",
			reason: "double_submit: the checkout was submitted twice"},
		{name: "different keys 30 s apart without orders is unknown",
			charges:    []Charge{charge("ch_a", 0, intent("")), charge("ch_b", 30*time.Second, intent(""))},
			keys:       []KeyRecord{eventKey("k-1", "ch_a"), eventKey("k-2", "ch_b")},
			confidence: High, cause: CauseUnknown, headline: "2 charges in 30 s"},
		{name: "same key within 24 h is unknown",
			charges:    []Charge{charge("ch_a", 0, intent("")), charge("ch_b", 2*h, intent(""), customer("cus_2"))},
			keys:       []KeyRecord{eventKey("k-1", "ch_a"), eventKey("k-1", "ch_b")},
			confidence: High, cause: CauseUnknown, headline: "same idempotency key k-1 on charges 2 h apart",
			reason: "unknown: Stripe should have replayed the first charge"},
		{name: "same order without keys is no key",
			charges:    []Charge{charge("ch_a", 0, order("o-12")), charge("ch_b", 30*h, order("o-12"))},
			requests:   bare("ch_a", "ch_b"),
			confidence: High, cause: CauseNoKey, headline: "same order_id o-12 on 2 charges, no idempotency key"},
		{name: "different orders: likely legitimate",
			charges:    []Charge{charge("ch_a", 0, order("o-1")), charge("ch_b", 20*time.Second, order("o-2"))},
			confidence: Low, cause: CauseUnknown, headline: "likely legitimate: different order_id on each charge"},
		{name: "disputed suspect explained",
			charges:    []Charge{charge("ch_a", 0), charge("ch_b", 20*time.Second, disputed)},
			requests:   bare("ch_a", "ch_b"),
			confidence: High, cause: CauseNoKey, headline: "2 charges in 20 s, no idempotency key",
			reason: "ch_b is disputed: Stripe won't refund a charge under dispute; answer the dispute instead"},
		{name: "two PaymentIntents for one order, each created with its own key",
			charges:    []Charge{charge("ch_a", 0, order("o-31")), charge("ch_b", 50*time.Second, order("o-31"))},
			requests:   []RequestRecord{{Object: "pi_a", Key: "pi-create-o-31-1"}, {Object: "pi_b", Key: "pi-create-o-31-2"}, {Object: "ch_a"}, {Object: "ch_b"}},
			confidence: High, cause: CauseNewKeyPerRetry, headline: "same order_id o-31 on 2 PaymentIntents created with 2 different idempotency keys (ch_a, ch_b)",
			reason: "new_key_per_retry: the server created a new PaymentIntent for each attempt at order_id o-31 (ch_a, ch_b); reuse the order's PaymentIntent instead of creating one per attempt"},
		{name: "two PaymentIntents for one order, created without an application key",
			charges:    []Charge{charge("ch_a", 0, order("o-32")), charge("ch_b", 50*time.Second, order("o-32"))},
			requests:   []RequestRecord{{Object: "pi_a"}, {Object: "pi_b", Key: "1732871234567890123_Ab-x9z"}},
			confidence: High, cause: CauseNoKey, headline: "same order_id o-32 on 2 charges, no idempotency key from the application (only keys generated by the Stripe library)",
			reason: "no_key: the server created the PaymentIntents of ch_a, ch_b without an Idempotency-Key of its own"},
		{name: "two charges on one PaymentIntent created without a key: no claim of a PaymentIntent per retry",
			charges:    []Charge{charge("ch_a", 0, intent("pi_x")), charge("ch_b", 20*time.Second, intent("pi_y")), charge("ch_c", 50*time.Second, intent("pi_x"))},
			requests:   []RequestRecord{{Object: "pi_x"}},
			confidence: High, cause: CauseNoKey, headline: "3 charges in 50 s, 2 of 3 charges without an idempotency key (not known for ch_b)",
			reason: "no_key: the application sent no Idempotency-Key of its own, so a retry charged again (the PaymentIntent of ch_a, ch_c was created without one)"},
		{name: "one PaymentIntent's create key and a logged key: new key per retry, without claiming PaymentIntents",
			charges:    []Charge{charge("ch_a", 0, order("o-36")), charge("ch_b", 50*time.Second, order("o-36"))},
			keys:       []KeyRecord{{Key: "k-2", ChargeID: "ch_b", OrderRef: "o-36", Sources: []string{SourceLog}}},
			requests:   []RequestRecord{{Object: "pi_a", Key: "pi-create-o-36"}},
			confidence: High, cause: CauseNewKeyPerRetry, headline: "same order_id o-36 with 2 different idempotency keys",
			reason: "new_key_per_retry: the client generated a new Idempotency-Key for each retry of order_id o-36"},
		{name: "one PaymentIntent created without a key and a plain charge without one: no_key names the PaymentIntent's charge only",
			charges:    []Charge{charge("ch_a", 0, order("o-37")), charge("ch_b", 50*time.Second, order("o-37"), intent(""))},
			requests:   []RequestRecord{{Object: "pi_a"}, {Object: "ch_b"}},
			confidence: High, cause: CauseNoKey, headline: "same order_id o-37 on 2 charges, no idempotency key",
			reason: "no_key: the application sent no Idempotency-Key of its own, so a retry charged again (the PaymentIntent of ch_a was created without one)"},
		{name: "the browser's confirmation keys do not count: the PaymentIntents were created without one",
			charges:    []Charge{charge("ch_a", 0, order("o-33")), charge("ch_b", 50*time.Second, order("o-33"))},
			keys:       []KeyRecord{eventKey("browser-1", "ch_a"), eventKey("browser-2", "ch_b")},
			requests:   []RequestRecord{{Object: "pi_a"}, {Object: "pi_b"}},
			confidence: High, cause: CauseNoKey, headline: "same order_id o-33 on 2 charges, no idempotency key"},
		{name: "a charge event's key on a PaymentIntent whose create request is not known is the confirmation's: not known",
			charges:    []Charge{charge("ch_a", 0, order("o-34")), charge("ch_b", 50*time.Second, order("o-34"))},
			keys:       []KeyRecord{eventKey("browser-1", "ch_a"), eventKey("browser-2", "ch_b")},
			confidence: High, cause: CauseUnknown, headline: "same order_id o-34 on 2 charges, keys not known"},
		{name: "a logged key on a PaymentIntent's charge still counts without the create request",
			charges: []Charge{charge("ch_a", 0, order("o-35")), charge("ch_b", 50*time.Second, order("o-35"))},
			keys: []KeyRecord{{Key: "k-1", ChargeID: "ch_a", OrderRef: "o-35", Sources: []string{SourceLog}},
				{Key: "k-2", ChargeID: "ch_b", OrderRef: "o-35", Sources: []string{SourceLog}}},
			confidence: High, cause: CauseNewKeyPerRetry, headline: "same order_id o-35 with 2 different idempotency keys"},
		{name: "charges Stripe Checkout made, without client_reference_id: unknown, and it says to set one",
			charges:  []Charge{charge("ch_a", 0), charge("ch_b", 90*time.Second)},
			requests: []RequestRecord{{Object: "pi_a"}, {Object: "pi_b"}},
			checkouts: []CheckoutRecord{{Session: "cs_1", PaymentIntent: "pi_a"},
				{Session: "cs_2", PaymentIntent: "pi_b"}},
			confidence: High, cause: CauseUnknown, headline: "2 charges in 1 min 30 s, made by Stripe Checkout (sessions cs_1, cs_2)",
			reason: "unknown: Stripe Checkout created these PaymentIntents (sessions cs_1, cs_2), so no request or idempotency key of the application's is involved; " +
				"cs_1, cs_2 carry no client_reference_id, so whether they were one cart paid twice (double_checkout) is not known: set client_reference_id"},
		{name: "Checkout charges of different carts: likely legitimate",
			charges: []Charge{charge("ch_a", 0), charge("ch_b", 90*time.Second)},
			checkouts: []CheckoutRecord{{Session: "cs_1", PaymentIntent: "pi_a", ClientReferenceID: "cart-1"},
				{Session: "cs_2", PaymentIntent: "pi_b", ClientReferenceID: "cart-2"}},
			confidence: Low, cause: CauseUnknown, headline: "likely legitimate: different order_id on each charge"},
		{name: "two Checkout Sessions completed for one client_reference_id",
			charges:  []Charge{charge("ch_a", 0), charge("ch_b", 90*time.Second)},
			requests: []RequestRecord{{Object: "pi_a"}, {Object: "pi_b"}},
			checkouts: []CheckoutRecord{{Session: "cs_1", PaymentIntent: "pi_a", ClientReferenceID: "cart-9"},
				{Session: "cs_2", PaymentIntent: "pi_b", Metadata: map[string]string{"order_id": "cart-9"}}},
			confidence: High, cause: CauseDoubleCheckout, headline: "2 Checkout Sessions completed for one cart, cart-9",
			reason: "double_checkout: the customer completed 2 Checkout Sessions for cart-9; before creating a session for a cart, reuse its open session, or expire it"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := onlyGroup(t, Detect(Input{Charges: tc.charges, Keys: tc.keys, Requests: tc.requests, Checkouts: tc.checkouts}, DefaultOptions()))
			if g.Confidence != tc.confidence || g.Cause != tc.cause {
				t.Errorf("confidence %s cause %s, want %s %s (reasons %q)", g.Confidence, g.Cause, tc.confidence, tc.cause, g.Reasons)
			}
			if g.Reasons[0] != tc.headline {
				t.Errorf("headline %q, want %q", g.Reasons[0], tc.headline)
			}
			if tc.reason != "" && !slices.ContainsFunc(g.Reasons, func(r string) bool { return strings.HasPrefix(r, tc.reason) }) {
				t.Errorf("no reason starting %q in %q", tc.reason, g.Reasons)
			}
			if !slices.ContainsFunc(g.Reasons, func(r string) bool { return strings.HasPrefix(r, string(g.Cause)+": ") }) {
				t.Errorf("no reason says what to fix for %s: %q", g.Cause, g.Reasons)
			}
		})
	}
}

func TestLibraryGeneratedKey(t *testing.T) {
	cases := map[string]bool{
		"1234567890123456789_AbC123":  true,
		"1234567890123456789_AbC12":   false,
		"123456789012345678_AbC1234":  false,
		"1234567890123456789-AbC123":  false,
		"12345678901234567x9_AbC123":  false,
		"1234567890123456789_AbC!23":  false,
		"order-17-attempt-1":          false,
		"":                            false,
		"1234567890123456789_AbC1234": false,
		// base64.URLEncoding has - and _: about one stripe-go key in six has one
		"1732871234567890123_Ab-_9z":                             true,
		"1732871234567890123_-----_":                             true,
		"1732871234567890123_AbC+23":                             false, // standard base64, not stripe-go's
		"stripe-node-retry-954fc873-dce4-416c-8692-4043909caba5": true,
		"stripe-node-retry-954fc873-dce4-416c-8692-4043909cab":   false,
		"stripe-node-retry-order-17":                             false,
		"954fc873-dce4-416c-8692-4043909caba5":                   false, // ambiguous, not known to be a library's
	}
	for key, want := range cases {
		if got := LibraryGeneratedKey(key); got != want {
			t.Errorf("LibraryGeneratedKey(%q) = %v, want %v", key, got, want)
		}
	}
}

func TestAmbiguousKey(t *testing.T) {
	cases := map[string]bool{
		"954fc873-dce4-416c-8692-4043909caba5":                   true,
		"954FC873-DCE4-416C-8692-4043909CABA5":                   true,
		"954fc873dce4416c86924043909caba5":                       false,
		"954fc873-dce4-416c-8692-4043909caba":                    false,
		"954fc873-dce4-416c-8692-4043909cabag":                   false,
		"stripe-node-retry-954fc873-dce4-416c-8692-4043909caba5": false,
		"checkout-o-10005":                                       false,
	}
	for key, want := range cases {
		if got := AmbiguousKey(key); got != want {
			t.Errorf("AmbiguousKey(%q) = %v, want %v", key, got, want)
		}
	}
}

func TestMinConfidenceAndOrder(t *testing.T) {
	in := Input{Charges: []Charge{
		// high, open, 20.00 at risk
		charge("ch_h1", 0), charge("ch_h2", 10*time.Second),
		// medium (email only), open, 50.00 at risk
		charge("ch_m1", time.Hour, guest, email("m@x"), amount(5000)), charge("ch_m2", time.Hour+time.Minute, guest, email("m@x"), amount(5000)),
		// low (different orders), open, 30.00 at risk
		charge("ch_l1", 2*time.Hour, customer("cus_l"), amount(3000), order("o-1")), charge("ch_l2", 2*time.Hour+time.Minute, customer("cus_l"), amount(3000), order("o-2")),
		// high, resolved
		charge("ch_r1", 3*time.Hour, customer("cus_r"), amount(9000)), charge("ch_r2", 3*time.Hour+time.Second, customer("cus_r"), amount(9000), refunded(9000)),
		// high, open, the newest: amounts in other currencies do not rank against USD
		charge("ch_j1", 4*time.Hour, customer("cus_j"), currency("jpy"), amount(30)), charge("ch_j2", 4*time.Hour+time.Second, customer("cus_j"), currency("jpy"), amount(30)),
	}}
	ids := func(r Report) []string {
		var out []string
		for _, g := range r.Groups {
			out = append(out, g.ID)
		}
		return out
	}
	all := Detect(in, DefaultOptions())
	// Open first, then high → low confidence, then the newest.
	if want := []string{"grp_j1", "grp_h1", "grp_m1", "grp_l1", "grp_r1"}; !slices.Equal(ids(all), want) {
		t.Errorf("order = %v, want %v", ids(all), want)
	}
	for _, tc := range []struct {
		min  Confidence
		want []string
	}{
		{High, []string{"grp_j1", "grp_h1", "grp_r1"}},
		{Medium, []string{"grp_j1", "grp_h1", "grp_m1", "grp_r1"}},
		{Low, []string{"grp_j1", "grp_h1", "grp_m1", "grp_l1", "grp_r1"}},
	} {
		opts := DefaultOptions()
		opts.MinConfidence = tc.min
		r := Detect(in, opts)
		if !slices.Equal(ids(r), tc.want) {
			t.Errorf("min %s: %v, want %v", tc.min, ids(r), tc.want)
		}
		if r.Summary.Groups != len(tc.want) {
			t.Errorf("min %s: summary counts %d groups, want %d", tc.min, r.Summary.Groups, len(tc.want))
		}
	}
}

func TestParseConfidence(t *testing.T) {
	for in, want := range map[string]Confidence{"high": High, " Medium ": Medium, "LOW": Low, "": ""} {
		if got, err := ParseConfidence(in); err != nil || got != want {
			t.Errorf("ParseConfidence(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseConfidence("certain"); err == nil || !strings.Contains(err.Error(), `"certain"`) {
		t.Errorf("ParseConfidence(certain) error = %v", err)
	}
}

func TestFindings(t *testing.T) {
	in := Input{
		Charges: []Charge{
			charge("ch_a", 0, order("o-1")),
			charge("ch_b", 5*time.Hour, customer("cus_2"), amount(500), order("o-1")),
			charge("ch_c", 6*time.Hour, customer("cus_3"), order("o-1"), status("failed")),
			charge("ch_d", 7*time.Hour, customer("cus_4")),
			charge("ch_e", 8*time.Hour, customer("cus_5"), meta("idempotency_key", "meta-k")),
		},
		Keys: []KeyRecord{
			eventKey("k-a", "ch_a"),
			eventKey("k-b", "ch_b"),
			{Key: "lost-1", OrderRef: "o-9", Sources: []string{SourceLog}, SeenAt: t0.Add(time.Hour)},
			{Key: "lost-2", ChargeID: "ch_gone", Sources: []string{SourceLog}, SeenAt: t0.Add(2 * time.Hour)},
		},
	}
	type row struct{ kind, charge, key, order string }
	rows := func(r Report) []row {
		var out []row
		for _, f := range r.Findings {
			out = append(out, row{f.Kind, f.ChargeID, f.Key, f.OrderRef})
		}
		return out
	}
	r := Detect(in, DefaultOptions())
	want := []row{
		{KindKeyWithoutCharge, "", "lost-1", "o-9"},
		{KindKeyWithoutCharge, "ch_gone", "lost-2", ""},
		{KindOrderMultiCharge, "ch_a", "", "o-1"},
	}
	if !slices.Equal(rows(r), want) {
		t.Errorf("findings = %v, want %v", rows(r), want)
	}
	if f := r.Findings[2]; !slices.Equal(f.ChargeIDs, []string{"ch_a", "ch_b"}) || f.Amount != 2500 || f.Currency != "usd" {
		t.Errorf("order finding %v %d %s", f.ChargeIDs, f.Amount, f.Currency)
	}
	if r.Summary.ChargesWithoutKey != 1 {
		t.Errorf("charges without key = %d, want 1 (ch_d; failed ch_c does not count)", r.Summary.ChargesWithoutKey)
	}
	opts := DefaultOptions()
	opts.ListChargesWithoutKey = true
	r = Detect(in, opts)
	if got := rows(r); len(got) != 4 || got[3] != (row{KindChargeWithoutKey, "ch_d", "", ""}) {
		t.Errorf("with listing: %v", got)
	}
}

func TestSummary(t *testing.T) {
	in := Input{
		Charges: []Charge{
			charge("ch_a", 0), charge("ch_b", time.Second, refunded(500)), charge("ch_c", 2*time.Second), // open
			charge("ch_d", time.Hour, customer("cus_d")), charge("ch_e", time.Hour+time.Second, customer("cus_d")), // dismissed
			charge("ch_f", 2*time.Hour, customer("cus_f"), currency("eur")), charge("ch_g", 2*time.Hour+time.Second, customer("cus_f"), currency("eur"), refunded(2000)), // resolved
			charge("ch_x", 9*time.Hour, customer("cus_x"), status("failed")),
		},
		Decisions: []Decision{{GroupID: "grp_d", Kind: DecisionDismissed, At: t0, Charges: []string{"ch_d", "ch_e"}}},
		Requests:  bare("ch_a", "ch_b", "ch_c", "ch_d", "ch_e", "ch_f", "ch_g"),
		Refunds: []RefundIntent{
			{RefundRequest: RefundRequest{ChargeID: "ch_c", Amount: 2000, Currency: "usd"}, Status: RefundPending, CreatedAt: t0},
			{RefundRequest: RefundRequest{ChargeID: "ch_g", Amount: 2000, Currency: "eur"}, Status: RefundSucceeded, CreatedAt: t0},
		},
	}
	s := Detect(in, DefaultOptions()).Summary
	// ch_c's refund in flight makes its group pending, not open: it still
	// counts in the money at risk.
	if s.Charges != 8 || s.Groups != 3 || s.Open != 0 || s.Pending != 1 || s.Resolved != 1 || s.Dismissed != 1 {
		t.Errorf("counts %+v", s)
	}
	want := []CurrencyTotals{
		{Currency: "eur", RefundedByUs: 2000, ResolvedGroups: 1},
		// at risk: ch_b's 1500 left + ch_c's pending 2000; dismissed: ch_e.
		{Currency: "usd", AtRisk: 3500, Dismissed: 2000, OpenGroups: 1, DismissedGroups: 1},
	}
	if !slices.Equal(s.ByCurrency, want) {
		t.Errorf("by currency %+v, want %+v", s.ByCurrency, want)
	}
	if s.Causes[CauseNoKey] != 3 {
		t.Errorf("causes %v", s.Causes)
	}
	// Without the events, nothing says the requests carried no key: the same
	// groups are counted unknown, never no_key.
	in.Requests = nil
	if s := Detect(in, DefaultOptions()).Summary; s.Causes[CauseNoKey] != 0 || s.Causes[CauseUnknown] != 3 {
		t.Errorf("causes without evidence %v, want unknown 3", s.Causes)
	}
}

// TestChargeWithoutKeyFindingSaysWhatIsKnown: a charge with no key on record
// was sent without one only when an event saw its request; otherwise whether
// it had one is not known, and the finding says so.
func TestChargeWithoutKeyFindingSaysWhatIsKnown(t *testing.T) {
	in := Input{
		Charges:  []Charge{charge("ch_seen", 0, intent("")), charge("ch_old", time.Hour, customer("cus_2"), intent(""))},
		Requests: []RequestRecord{{Object: "ch_seen"}},
	}
	opts := DefaultOptions()
	opts.ListChargesWithoutKey = true
	want := map[string]string{
		"ch_seen": "its event recorded the request without an idempotency key",
		"ch_old":  "whether it had one is not known",
	}
	for _, f := range Detect(in, opts).Findings {
		if f.Kind != KindChargeWithoutKey {
			continue
		}
		if !strings.Contains(f.Detail, want[f.ChargeID]) {
			t.Errorf("%s: detail %q, want it to say %q", f.ChargeID, f.Detail, want[f.ChargeID])
		}
		delete(want, f.ChargeID)
	}
	if len(want) != 0 {
		t.Errorf("no finding for %v", want)
	}
}
