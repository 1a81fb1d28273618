package sandbox

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

var libraryKeyShape = regexp.MustCompile(`^[0-9]{19}_[A-Za-z0-9_-]{6}$`)

func TestEventsFilters(t *testing.T) {
	s, ts := start(t, Options{Seed: 5, Ordinary: 600})
	all := walk[testEvent](t, ts, "/v1/events", nil, 100)
	cutoff := s.Now().Add(-EventRetention).Unix()
	byType := map[string]int{}
	for i, e := range all {
		byType[e.Type]++
		if e.Created < cutoff {
			t.Fatalf("event %s is older than 30 days", e.ID)
		}
		if e.Object != "event" {
			t.Fatalf("event object %q", e.Object)
		}
		if i > 0 && (all[i-1].Created < e.Created || (all[i-1].Created == e.Created && all[i-1].ID <= e.ID)) {
			t.Fatalf("events not newest first at %d", i)
		}
	}
	for _, typ := range []string{"charge.succeeded", "charge.failed", "charge.refunded", "charge.dispute.created"} {
		if byType[typ] == 0 {
			t.Errorf("no %s events within 30 days", typ)
		}
	}
	tests := []struct {
		name   string
		params url.Values
		want   func(e testEvent) bool
	}{
		{"type", url.Values{"type": {"charge.refunded"}}, func(e testEvent) bool { return e.Type == "charge.refunded" }},
		{"type wildcard", url.Values{"type": {"charge.dispute.*"}}, func(e testEvent) bool { return e.Type == "charge.dispute.created" }},
		{"types[]", url.Values{"types[]": {"charge.failed", "charge.dispute.created"}},
			func(e testEvent) bool { return e.Type == "charge.failed" || e.Type == "charge.dispute.created" }},
		{"types[n] as stripe-go sends", url.Values{"types[0]": {"charge.failed"}, "types[1]": {"charge.refunded"}},
			func(e testEvent) bool { return e.Type == "charge.failed" || e.Type == "charge.refunded" }},
		{"created", url.Values{"created[gte]": {i64(all[len(all)/2].Created)}, "type": {"charge.succeeded"}},
			func(e testEvent) bool { return e.Created >= all[len(all)/2].Created && e.Type == "charge.succeeded" }},
		{"created before retention", url.Values{"created[lt]": {i64(cutoff)}}, func(e testEvent) bool { return false }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []string
			for _, e := range all {
				if tt.want(e) {
					want = append(want, e.ID)
				}
			}
			var got []string
			for _, e := range walk[testEvent](t, ts, "/v1/events", tt.params, 37) {
				got = append(got, e.ID)
			}
			if len(got) != len(want) {
				t.Fatalf("got %d events, want %d", len(got), len(want))
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("position %d: %s, want %s", i, got[i], want[i])
				}
			}
		})
	}
}

func TestEventsAgeOut(t *testing.T) {
	s, ts := start(t, Options{Seed: 5, Ordinary: 300})
	before := len(walk[testEvent](t, ts, "/v1/events", nil, 100))
	s.Advance(15 * 24 * time.Hour)
	after := len(walk[testEvent](t, ts, "/v1/events", nil, 100))
	if before == 0 || after >= before {
		t.Errorf("events: %d before, %d 15 days later; older ones must drop out", before, after)
	}
	s.Advance(16 * 24 * time.Hour)
	if n := len(walk[testEvent](t, ts, "/v1/events", nil, 100)); n != 0 {
		t.Errorf("%d events listed 31 days after the last one", n)
	}
}

func TestNoEvents(t *testing.T) {
	_, ts := start(t, Options{Seed: 5, Ordinary: 10, NoEvents: true})
	if rep := get(t, ts, "/v1/events", nil); rep.status != http.StatusNotFound {
		t.Errorf("/v1/events with NoEvents: %d", rep.status)
	}
	if rep := get(t, ts, "/v1/charges", nil); rep.status != http.StatusOK {
		t.Errorf("/v1/charges with NoEvents: %d", rep.status)
	}
}

// eventsFor returns the charge events of one charge, oldest first.
func eventsFor(t *testing.T, events []testEvent, chargeID string) []testEvent {
	t.Helper()
	var out []testEvent
	for i := len(events) - 1; i >= 0; i-- {
		ref := decodeRaw[struct {
			ID     string `json:"id"`
			Charge string `json:"charge"`
		}](t, events[i].Data.Object)
		if ref.ID == chargeID || ref.Charge == chargeID {
			out = append(out, events[i])
		}
	}
	return out
}

func TestEventRequestKeys(t *testing.T) {
	s, ts := start(t, Options{Seed: 5, Ordinary: 200})
	events := walk[testEvent](t, ts, "/v1/events", nil, 100)
	keyOf := func(name string, index int) *string {
		t.Helper()
		for _, e := range eventsFor(t, events, scenarioCharge(t, s, name, index)) {
			if e.Type == "charge.succeeded" {
				if e.Request.ID == nil {
					t.Fatalf("%s: charge.succeeded without request id", name)
				}
				return e.Request.IdempotencyKey
			}
		}
		t.Fatalf("%s: no charge.succeeded event", name)
		return nil
	}
	// Library-generated keys: one per request, <19 digits>_<6 chars>.
	for i := range 2 {
		if k := keyOf("double_click/1", i); k == nil || !libraryKeyShape.MatchString(*k) {
			t.Errorf("double_click/1 charge %d key %v, want a library-shaped key", i, k)
		}
	}
	// No key at all.
	if k := keyOf("double_click/3", 0); k != nil {
		t.Errorf("double_click/3 key %q, want null", *k)
	}
	// Application keys: different per attempt, in the merchant's log, the first without a charge id.
	k1, k2 := keyOf("retry_new_key/1", 0), keyOf("retry_new_key/1", 1)
	if k1 == nil || k2 == nil || *k1 == *k2 || libraryKeyShape.MatchString(*k1) {
		t.Fatalf("retry_new_key/1 keys %v %v", k1, k2)
	}
	logged := map[string]KeyLogEntry{}
	for _, e := range s.KeyLog() {
		logged[e.IdempotencyKey] = e
	}
	if e, ok := logged[*k1]; !ok || e.ChargeID != "" || e.OrderRef == "" {
		t.Errorf("first retry key in log: %+v %v", e, ok)
	}
	if e, ok := logged[*k2]; !ok || e.ChargeID != scenarioCharge(t, s, "retry_new_key/1", 1) {
		t.Errorf("second retry key in log: %+v %v", e, ok)
	}
	// The same key 26 hours apart.
	if a, b := keyOf("key_reused_after_expiry/1", 0), keyOf("key_reused_after_expiry/1", 1); a == nil || b == nil || *a != *b {
		t.Errorf("key_reused_after_expiry/1 keys %v %v", a, b)
	}
}

func TestDisputeEvent(t *testing.T) {
	s, ts := start(t, Options{Seed: 5, Ordinary: 50})
	id := scenarioCharge(t, s, "disputed/1", -1)
	if !chargeByID(t, s, id).Disputed {
		t.Fatalf("charge %s of disputed/1 is not disputed", id)
	}
	events := walk[testEvent](t, ts, "/v1/events", url.Values{"type": {"charge.dispute.created"}}, 100)
	found := false
	for _, e := range eventsFor(t, events, id) {
		d := decodeRaw[struct {
			Object string `json:"object"`
			Charge string `json:"charge"`
			Amount int64  `json:"amount"`
		}](t, e.Data.Object)
		found = d.Object == "dispute" && d.Charge == id && d.Amount > 0
	}
	if !found {
		t.Errorf("no charge.dispute.created event with the dispute of %s", id)
	}
}

// TestPaymentIntentAndCheckoutEvents: a PaymentIntent the server creates and
// Stripe.js confirms has a payment_intent.created event with the server's
// request and key, while its charge.succeeded shows the browser's request
// without a key; Checkout creates the PaymentIntent itself (no request of the
// merchant's), and checkout.session.completed names the cart.
func TestPaymentIntentAndCheckoutEvents(t *testing.T) {
	s, ts := start(t, Options{Seed: 5, Ordinary: 50})
	events := walk[testEvent](t, ts, "/v1/events", nil, 100)
	byObject := map[string][]testEvent{}
	for _, e := range events {
		ref := decodeRaw[struct {
			ID            string `json:"id"`
			PaymentIntent string `json:"payment_intent"`
		}](t, e.Data.Object)
		byObject[ref.ID] = append(byObject[ref.ID], e)
		if e.Type == "checkout.session.completed" {
			byObject[ref.PaymentIntent] = append(byObject[ref.PaymentIntent], e)
		}
	}
	only := func(id, typ string) testEvent {
		t.Helper()
		for _, e := range byObject[id] {
			if e.Type == typ {
				return e
			}
		}
		t.Fatalf("no %s event for %s", typ, id)
		return testEvent{}
	}
	str := func(p *string) string {
		if p == nil {
			return "null"
		}
		return *p
	}
	for i := range 2 {
		ch := chargeByID(t, s, scenarioCharge(t, s, "intent_per_attempt/1", i))
		created, succeeded := only(ch.PaymentIntent, "payment_intent.created"), only(ch.ID, "charge.succeeded")
		if created.Request.ID == nil || created.Request.IdempotencyKey == nil || !strings.HasPrefix(*created.Request.IdempotencyKey, "pi-o-") {
			t.Errorf("intent_per_attempt/1 #%d: payment_intent.created request %s key %s, want the server's key", i, str(created.Request.ID), str(created.Request.IdempotencyKey))
		}
		if succeeded.Request.ID == nil || *succeeded.Request.ID == *created.Request.ID || succeeded.Request.IdempotencyKey != nil {
			t.Errorf("intent_per_attempt/1 #%d: charge.succeeded request %s key %s, want the browser's request without a key",
				i, str(succeeded.Request.ID), str(succeeded.Request.IdempotencyKey))
		}
		pi := decode[struct {
			ID           string            `json:"id"`
			Object       string            `json:"object"`
			Status       string            `json:"status"`
			LatestCharge string            `json:"latest_charge"`
			Metadata     map[string]string `json:"metadata"`
		}](t, get(t, ts, "/v1/payment_intents/"+ch.PaymentIntent, nil))
		if pi.Object != "payment_intent" || pi.Status != "succeeded" || pi.LatestCharge != ch.ID || pi.Metadata["order_id"] != order(ch) {
			t.Errorf("GET the PaymentIntent: %+v", pi)
		}
	}
	if k := only(chargeByID(t, s, scenarioCharge(t, s, "intent_without_key/1", 0)).PaymentIntent, "payment_intent.created").Request; k.ID == nil || k.IdempotencyKey != nil {
		t.Errorf("intent_without_key/1: request %s key %s, want a request without a key", str(k.ID), str(k.IdempotencyKey))
	}
	var carts []string
	for i := range 2 {
		ch := chargeByID(t, s, scenarioCharge(t, s, "double_checkout/1", i))
		if r := only(ch.PaymentIntent, "payment_intent.created").Request; r.ID != nil {
			t.Errorf("double_checkout/1: Checkout's PaymentIntent has request %s, want none of the merchant's", *r.ID)
		}
		cs := decodeRaw[struct {
			ID                string `json:"id"`
			ClientReferenceID string `json:"client_reference_id"`
			Status            string `json:"status"`
		}](t, only(ch.PaymentIntent, "checkout.session.completed").Data.Object)
		if cs.Status != "complete" || cs.ClientReferenceID == "" {
			t.Errorf("double_checkout/1: session %+v", cs)
		}
		if got := decode[struct {
			ID string `json:"id"`
		}](t, get(t, ts, "/v1/checkout/sessions/"+cs.ID, nil)); got.ID != cs.ID {
			t.Errorf("GET the session: %+v", got)
		}
		carts = append(carts, cs.ClientReferenceID)
	}
	if carts[0] != carts[1] {
		t.Errorf("double_checkout/1: carts %v, want one", carts)
	}
}
