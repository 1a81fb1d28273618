package reconcile

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func provider(p Provider) chargeOpt { return func(c *Charge) { c.Provider = p } }

func TestProviderFacts(t *testing.T) {
	cases := []struct {
		p        Provider
		title    string
		lifetime time.Duration
		kept     string
	}{
		{ProviderStripe, "Stripe", 24 * time.Hour, "Stripe keeps keys 24 h"},
		{"", "Stripe", 24 * time.Hour, "Stripe keeps keys 24 h"},
		{ProviderPayPal, "PayPal", 6 * time.Hour, "PayPal keeps PayPal-Request-Id 6 h"},
		{ProviderAdyen, "Adyen", 31 * 24 * time.Hour, "Adyen keeps keys 31 d"},
	}
	for _, tc := range cases {
		if tc.p.Title() != tc.title || tc.p.KeyLifetime() != tc.lifetime || tc.p.keysKept() != tc.kept {
			t.Errorf("%q: %q %s %q, want %q %s %q", tc.p, tc.p.Title(), tc.p.KeyLifetime(), tc.p.keysKept(), tc.title, tc.lifetime, tc.kept)
		}
		if got, err := ParseProvider(strings.ToUpper(string(tc.p))); err != nil || got != tc.p.Resolved() {
			t.Errorf("ParseProvider(%q) = %q, %v", strings.ToUpper(string(tc.p)), got, err)
		}
	}
	if _, err := ParseProvider("square"); err == nil {
		t.Error("ParseProvider accepted an unknown provider")
	}
}

// TestDetectionKeepsProvidersApart: charges alike in every way but their
// provider are never one group, by any kind of evidence, and charges of one
// provider still group as before.
func TestDetectionKeepsProvidersApart(t *testing.T) {
	cases := []struct {
		name    string
		charges []Charge
		keys    []KeyRecord
		want    [][]string
	}{
		{name: "same customer",
			charges: []Charge{charge("ch_a", 0), charge("ch_b", 10*time.Second, provider(ProviderPayPal))}},
		{name: "same card and email",
			charges: []Charge{charge("ch_a", 0, guest, card("fp"), email("a@x.io")),
				charge("ch_b", 10*time.Second, guest, card("fp"), email("a@x.io"), provider(ProviderAdyen))}},
		{name: "same order",
			charges: []Charge{charge("ch_a", 0, guest, order("o-1"), provider(ProviderPayPal)),
				charge("ch_b", 30*time.Hour, guest, order("o-1"), provider(ProviderAdyen))}},
		{name: "same key",
			charges: []Charge{charge("ch_a", 0, guest), charge("ch_b", 30*time.Hour, guest, provider(ProviderPayPal))},
			keys:    []KeyRecord{eventKey("k-1", "ch_a"), eventKey("k-1", "ch_b")}},
		{name: "empty provider is stripe",
			charges: []Charge{charge("ch_a", 0), charge("ch_b", 10*time.Second, provider(ProviderStripe)),
				charge("ch_c", 20*time.Second, provider(ProviderPayPal)), charge("ch_d", 30*time.Second, provider(ProviderPayPal))},
			want: [][]string{{"ch_a", "ch_b"}, {"ch_c", "ch_d"}}},
	}
	for _, tc := range cases {
		for _, collide := range []bool{false, true} {
			for _, workers := range []int{parallelMin, 0} { // one pass over the charges, or two halves at once
				t.Run(tc.name, func(t *testing.T) {
					if collide { // every hash equal: the exact split must keep providers apart
						old := hashString
						hashString = func(string) uint64 { return 7 }
						defer func() { hashString = old }()
					}
					saved := parallelMin
					parallelMin = workers
					defer func() { parallelMin = saved }()
					got := membership(Detect(Input{Charges: tc.charges, Keys: tc.keys}, DefaultOptions()))
					if !slices.EqualFunc(got, tc.want, slices.Equal) {
						t.Errorf("groups %v, want %v", got, tc.want)
					}
				})
			}
		}
	}
}

// TestVerdictsNameTheProvider: what a verdict says of keys, their lifetime and
// disputes is the charges' provider's.
func TestVerdictsNameTheProvider(t *testing.T) {
	pp := provider(ProviderPayPal)
	cases := []struct {
		name     string
		charges  []Charge
		keys     []KeyRecord
		cause    Cause
		headline string
		reason   string
	}{
		{name: "paypal key reused after 6 h",
			charges:  []Charge{charge("ch_a", 0, intent(""), pp), charge("ch_b", 7*time.Hour, intent(""), customer("cus_2"), pp)},
			keys:     []KeyRecord{eventKey("k-9", "ch_a"), eventKey("k-9", "ch_b")},
			cause:    CauseKeyReusedExpiry,
			headline: "idempotency key reused 7 h later — key had expired (PayPal keeps PayPal-Request-Id 6 h)",
			reason:   "key_reused_after_expiry: the client retried with idempotency key k-9 after PayPal had pruned it; stop retrying after 6 h and look the payment up instead"},
		{name: "stripe key reused after 7 h is not expired",
			charges:  []Charge{charge("ch_a", 0, intent("")), charge("ch_b", 7*time.Hour, intent(""), customer("cus_2"))},
			keys:     []KeyRecord{eventKey("k-9", "ch_a"), eventKey("k-9", "ch_b")},
			cause:    CauseUnknown,
			headline: "same idempotency key k-9 on charges 7 h apart",
			reason:   "unknown: Stripe should have replayed the first charge"},
		{name: "adyen key reused after 26 h is not expired",
			charges:  []Charge{charge("ch_a", 0, intent(""), provider(ProviderAdyen)), charge("ch_b", 26*time.Hour, intent(""), customer("cus_2"), provider(ProviderAdyen))},
			keys:     []KeyRecord{eventKey("k-9", "ch_a"), eventKey("k-9", "ch_b")},
			cause:    CauseUnknown,
			headline: "same idempotency key k-9 on charges 26 h apart",
			reason:   "unknown: Adyen should have replayed the first charge"},
		{name: "paypal new key per retry names its header",
			charges: []Charge{charge("ch_a", 0, intent(""), order("o-1"), pp), charge("ch_b", 40*time.Second, intent(""), order("o-1"), pp)},
			keys:    []KeyRecord{eventKey("k-1", "ch_a"), eventKey("k-2", "ch_b")},
			cause:   CauseNewKeyPerRetry, headline: "same order_id o-1 with 2 different idempotency keys",
			reason: "new_key_per_retry: the client generated a new PayPal-Request-Id for each retry of order_id o-1"},
		{name: "paypal keys shaped like a Stripe library's are the application's",
			charges: []Charge{charge("ch_a", 0, intent(""), order("o-1"), pp), charge("ch_b", 40*time.Second, intent(""), order("o-1"), pp)},
			keys: []KeyRecord{eventKey("stripe-node-retry-5f0c7a3e-8d1b-4c2a-9e6f-1b2c3d4e5f60", "ch_a"),
				eventKey("stripe-node-retry-6a1d8b4f-9e2c-4d3b-8f7a-2c3d4e5f6a71", "ch_b")},
			cause: CauseNewKeyPerRetry, headline: "same order_id o-1 with 2 different idempotency keys",
			reason: "new_key_per_retry: the client generated a new PayPal-Request-Id for each retry of order_id o-1"},
		{name: "paypal keys not known: no Stripe events to wait for",
			charges: []Charge{charge("ch_a", 0, pp), charge("ch_b", 20*time.Second, pp)},
			cause:   CauseUnknown, headline: "2 charges in 20 s, keys not known",
			reason: "unknown: nothing recorded the requests that created ch_a, ch_b, so whether they carried a PayPal-Request-Id is not known (PayPal's records do not carry it); import the application's key log with `doublecheck keys import`"},
		{name: "paypal disputed",
			charges: []Charge{charge("ch_a", 0, pp), charge("ch_b", 20*time.Second, disputed, pp)},
			cause:   CauseUnknown, headline: "2 charges in 20 s, keys not known",
			reason: "ch_b is disputed: doublecheck does not refund a charge under dispute; answer the dispute in PayPal instead"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := onlyGroup(t, Detect(Input{Charges: tc.charges, Keys: tc.keys}, DefaultOptions()))
			if g.Cause != tc.cause || g.Reasons[0] != tc.headline {
				t.Errorf("cause %s headline %q, want %s %q", g.Cause, g.Reasons[0], tc.cause, tc.headline)
			}
			if !slices.Contains(g.Reasons, tc.reason) && !slices.ContainsFunc(g.Reasons, func(r string) bool { return strings.HasPrefix(r, tc.reason) }) {
				t.Errorf("no reason starting %q in %q", tc.reason, g.Reasons)
			}
			if slices.ContainsFunc(g.Reasons, func(r string) bool { return strings.Contains(r, "Stripe") }) != (tc.charges[0].Provider.Resolved() == ProviderStripe) {
				t.Errorf("reasons %q: Stripe named for a %s group, or not for a Stripe one", g.Reasons, tc.charges[0].Provider.Title())
			}
		})
	}
}

// TestReceivedRefundIsNotPlannedAgain: a refund the provider received and
// has not confirmed blocks another refund of the charge, and says so.
func TestReceivedRefundIsNotPlannedAgain(t *testing.T) {
	at := t0.Add(time.Hour)
	intent := func(st RefundStatus) []RefundIntent {
		return []RefundIntent{{RefundRequest: RefundRequest{Key: RefundKey("ch_b", 0, 2000), ChargeID: "ch_b", Amount: 2000, Currency: "usd"},
			Status: st, RefundID: "psp_1", CreatedAt: at, FinishedAt: at}}
	}
	cases := []struct {
		name          string
		refunds       []RefundIntent
		refundable    int64
		notRefundable string
	}{
		{"received", intent(RefundReceived), 0, "received, awaiting Adyen confirmation"},
		{"confirmed", intent(RefundSucceeded), 0, notRefundableDone},
		{"refused on confirmation", intent(RefundFailed), 2000, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ad := provider(ProviderAdyen)
			g := onlyGroup(t, Detect(Input{Charges: []Charge{charge("ch_a", 0, ad), charge("ch_b", time.Minute, ad)}, Refunds: tc.refunds}, DefaultOptions()))
			if dup := g.Charges[1]; dup.Refundable != tc.refundable || dup.NotRefundable != tc.notRefundable {
				t.Errorf("refundable %d %q, want %d %q", dup.Refundable, dup.NotRefundable, tc.refundable, tc.notRefundable)
			}
		})
	}
}
