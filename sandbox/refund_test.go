package sandbox

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"
)

type testRefund struct {
	ID       string            `json:"id"`
	Object   string            `json:"object"`
	Amount   int64             `json:"amount"`
	Charge   string            `json:"charge"`
	Currency string            `json:"currency"`
	Reason   string            `json:"reason"`
	Status   string            `json:"status"`
	Metadata map[string]string `json:"metadata"`
	Created  int64             `json:"created"`
}

func (r testRefund) id() string { return r.ID }

// scenarioCharge returns the index-th charge of a scenario instance (-1: the last).
func scenarioCharge(t *testing.T, s *Server, name string, index int) string {
	t.Helper()
	ids, ok := s.Scenarios()[name]
	if !ok || len(ids) == 0 {
		t.Fatalf("no scenario %s", name)
	}
	if index < 0 {
		index = len(ids) + index
	}
	return ids[index]
}

func TestRefundValidation(t *testing.T) {
	s, ts := start(t, Options{Seed: 11, Ordinary: 100})
	partly := scenarioCharge(t, s, "partly_refunded/1", -1)
	partlyCharge := chargeByID(t, s, partly)
	unrefunded := partlyCharge.Amount - partlyCharge.AmountRefunded
	tests := []struct {
		name       string
		params     url.Values
		wantStatus int
		wantCode   string
		wantParam  string
	}{
		{"already refunded", url.Values{"charge": {scenarioCharge(t, s, "already_refunded/1", -1)}}, 400, "charge_already_refunded", ""},
		{"disputed", url.Values{"charge": {scenarioCharge(t, s, "disputed/1", -1)}}, 400, "charge_disputed", ""},
		{"uncaptured", url.Values{"charge": {scenarioCharge(t, s, "uncaptured/1", -1)}}, 400, "charge_not_refundable", ""},
		{"failed", url.Values{"charge": {scenarioCharge(t, s, "declined_then_paid/1", 0)}}, 400, "charge_not_refundable", ""},
		{"no such charge", url.Values{"charge": {"ch_3doesnotexist"}}, 404, "resource_missing", "charge"},
		{"more than unrefunded", url.Values{"charge": {partly}, "amount": {strconv.FormatInt(unrefunded+1, 10)}}, 400, "amount_too_large", "amount"},
		{"no charge", url.Values{"amount": {"100"}}, 400, "parameter_missing", "charge"},
		{"zero amount", url.Values{"charge": {partly}, "amount": {"0"}}, 400, "parameter_invalid_integer", "amount"},
		{"text amount", url.Values{"charge": {partly}, "amount": {"12.50"}}, 400, "parameter_invalid_integer", "amount"},
		{"bad reason", url.Values{"charge": {partly}, "reason": {"oops"}}, 400, "", "reason"},
		{"unknown parameter", url.Values{"charge": {partly}, "colour": {"red"}}, 400, "parameter_unknown", "colour"},
		{"long metadata key", url.Values{"charge": {partly}, "metadata[" + string(bytes.Repeat([]byte("k"), 41)) + "]": {"v"}}, 400, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := request(t, ts, "POST", "/v1/refunds", TestKey, tt.params, nil)
			if rep.status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", rep.status, tt.wantStatus, rep.body)
			}
			e := decode[testError](t, rep)
			if e.Error.Type != "invalid_request_error" || e.Error.Code != tt.wantCode || e.Error.Message == "" ||
				(tt.wantParam != "" && e.Error.Param != tt.wantParam) {
				t.Errorf("error %+v, want code %q param %q", e.Error, tt.wantCode, tt.wantParam)
			}
		})
	}
	if got := s.RefundsFor(partly); len(got) != 1 {
		t.Errorf("rejected refunds changed the charge: %d refunds", len(got))
	}
}

func TestRefundUpdatesChargeAndEmitsEvent(t *testing.T) {
	s, ts := start(t, Options{Seed: 11, Ordinary: 100})
	id := scenarioCharge(t, s, "partly_refunded/1", -1)
	before := chargeByID(t, s, id)
	rest := before.Amount - before.AmountRefunded

	// Refund the rest in two parts; the third attempt has nothing left.
	first := rest / 3
	steps := []struct {
		amount     int64
		wantStatus int
		wantCode   string
	}{
		{first, 200, ""},
		{rest - first + 1, 400, "amount_too_large"},
		{rest - first, 200, ""},
		{1, 400, "charge_already_refunded"},
	}
	for i, st := range steps {
		s.Advance(time.Minute) // distinct created times: newest first is observable
		params := url.Values{"charge": {id}, "amount": {strconv.FormatInt(st.amount, 10)}, "reason": {"duplicate"},
			"metadata[duplicate_of]": {"ch_kept"}, "metadata[operator]": {"ana"}}
		rep := request(t, ts, "POST", "/v1/refunds", TestKey, params, nil)
		if rep.status != st.wantStatus {
			t.Fatalf("step %d: status %d, want %d: %s", i, rep.status, st.wantStatus, rep.body)
		}
		if st.wantCode != "" {
			if e := decode[testError](t, rep); e.Error.Code != st.wantCode {
				t.Fatalf("step %d: code %q, want %q", i, e.Error.Code, st.wantCode)
			}
			continue
		}
		r := decode[testRefund](t, rep)
		if r.Object != "refund" || r.Amount != st.amount || r.Charge != id || r.Status != "succeeded" ||
			r.Reason != "duplicate" || r.Metadata["duplicate_of"] != "ch_kept" {
			t.Errorf("step %d: refund %+v", i, r)
		}
	}
	after := chargeByID(t, s, id)
	if after.AmountRefunded != after.Amount || !after.Refunded {
		t.Errorf("charge after full refund: amount_refunded=%d of %d, refunded=%v", after.AmountRefunded, after.Amount, after.Refunded)
	}

	// The refund list for the charge: newest first, with metadata, matching RefundsFor.
	listed := walk[testRefund](t, ts, "/v1/refunds", url.Values{"charge": {id}}, 1)
	kept := s.RefundsFor(id)
	if len(listed) != 3 || len(kept) != 3 {
		t.Fatalf("listed %d refunds, RefundsFor %d; want 3 (one seeded, two new)", len(listed), len(kept))
	}
	for i, r := range listed {
		if r.ID != kept[len(kept)-1-i].ID {
			t.Errorf("list position %d is %s, want %s (newest first)", i, r.ID, kept[len(kept)-1-i].ID)
		}
	}
	if listed[0].Metadata["operator"] != "ana" {
		t.Errorf("newest refund metadata %v", listed[0].Metadata)
	}

	// charge.refunded events carry the charge after each refund.
	events := walk[testEvent](t, ts, "/v1/events", url.Values{"type": {"charge.refunded"}}, 100)
	var refundedAfter []int64
	for _, e := range events {
		c := decodeRaw[testCharge](t, e.Data.Object)
		if c.ID == id {
			refundedAfter = append(refundedAfter, c.AmountRefunded)
		}
	}
	want := []int64{after.Amount, before.AmountRefunded + first, before.AmountRefunded}
	if len(refundedAfter) != 3 || refundedAfter[0] != want[0] || refundedAfter[1] != want[1] || refundedAfter[2] != want[2] {
		t.Errorf("charge.refunded amount_refunded values %v, want %v", refundedAfter, want)
	}
	if st := s.Stats(); st.Refunds != 2 {
		t.Errorf("Stats.Refunds %d, want 2", st.Refunds)
	}
}

func TestRefundByPaymentIntent(t *testing.T) {
	s, ts := start(t, Options{Seed: 11, Ordinary: 20})
	id := scenarioCharge(t, s, "double_click/1", -1)
	c := chargeByID(t, s, id)
	rep := request(t, ts, "POST", "/v1/refunds", TestKey, url.Values{"payment_intent": {c.PaymentIntent}}, nil)
	if rep.status != http.StatusOK {
		t.Fatalf("status %d: %s", rep.status, rep.body)
	}
	if r := decode[testRefund](t, rep); r.Charge != id || r.Amount != c.Amount {
		t.Errorf("refund %+v, want the whole of %s", r, id)
	}
}

func TestIdempotency(t *testing.T) {
	s, ts := start(t, Options{Seed: 11, Ordinary: 20})
	id := scenarioCharge(t, s, "double_click/1", -1)
	amount := chargeByID(t, s, id).Amount
	params := url.Values{"charge": {id}, "reason": {"duplicate"}}
	key := map[string]string{"Idempotency-Key": "doublecheck-refund-" + id}

	first := request(t, ts, "POST", "/v1/refunds", TestKey, params, key)
	if first.status != http.StatusOK || first.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("first: %d replayed=%q %s", first.status, first.header.Get("Idempotent-Replayed"), first.body)
	}
	replay := request(t, ts, "POST", "/v1/refunds", TestKey, params, key)
	if replay.status != http.StatusOK || replay.header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(replay.body, first.body) {
		t.Fatalf("replay: %d replayed=%q, same body=%v", replay.status, replay.header.Get("Idempotent-Replayed"), bytes.Equal(replay.body, first.body))
	}
	if replay.header.Get("Request-Id") != first.header.Get("Request-Id") {
		t.Errorf("replay Request-Id %q, want the original %q", replay.header.Get("Request-Id"), first.header.Get("Request-Id"))
	}
	if got := s.RefundsFor(id); len(got) != 1 || got[0].Amount != amount || got[0].IdempotencyKey != key["Idempotency-Key"] {
		t.Fatalf("refunds after replay: %+v", got)
	}

	conflict := request(t, ts, "POST", "/v1/refunds", TestKey, url.Values{"charge": {id}, "amount": {"100"}}, key)
	if e := decode[testError](t, conflict); conflict.status != 400 || e.Error.Type != "idempotency_error" {
		t.Errorf("different params: %d %+v", conflict.status, e.Error)
	}

	// Keys are scoped per API key: the live key's request with the same key runs.
	other := request(t, ts, "POST", "/v1/refunds", LiveKey, params, key)
	if e := decode[testError](t, other); other.header.Get("Idempotent-Replayed") != "" || e.Error.Code != "charge_already_refunded" {
		t.Errorf("other API key: replayed=%q %s", other.header.Get("Idempotent-Replayed"), other.body)
	}

	// Business errors are kept under the key and replayed too.
	again := request(t, ts, "POST", "/v1/refunds", LiveKey, params, key)
	if again.header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(again.body, other.body) {
		t.Errorf("stored error not replayed: %q", again.header.Get("Idempotent-Replayed"))
	}

	// After the key lifetime the same key is a brand-new request.
	s.Advance(24*time.Hour + time.Minute)
	expired := request(t, ts, "POST", "/v1/refunds", TestKey, params, key)
	if e := decode[testError](t, expired); expired.header.Get("Idempotent-Replayed") != "" || e.Error.Code != "charge_already_refunded" {
		t.Errorf("after 24 h: replayed=%q %s", expired.header.Get("Idempotent-Replayed"), expired.body)
	}
	if st := s.Stats(); st.Replays != 2 {
		t.Errorf("Stats.Replays %d, want 2", st.Replays)
	}
}

func TestIdempotencyDoesNotKeepValidationErrors(t *testing.T) {
	s, ts := start(t, Options{Seed: 11, Ordinary: 20})
	id := scenarioCharge(t, s, "double_click/3", -1)
	key := map[string]string{"Idempotency-Key": "k-validation"}
	bad := request(t, ts, "POST", "/v1/refunds", TestKey, url.Values{"charge": {id}, "reason": {"because"}}, key)
	if bad.status != 400 {
		t.Fatalf("bad reason: %d", bad.status)
	}
	good := request(t, ts, "POST", "/v1/refunds", TestKey, url.Values{"charge": {id}, "reason": {"duplicate"}}, key)
	if good.status != 200 || good.header.Get("Idempotent-Replayed") != "" {
		t.Errorf("fixed request with the same key: %d replayed=%q %s", good.status, good.header.Get("Idempotent-Replayed"), good.body)
	}
	long := map[string]string{"Idempotency-Key": string(bytes.Repeat([]byte("x"), 256))}
	if rep := request(t, ts, "POST", "/v1/refunds", TestKey, url.Values{"charge": {id}}, long); rep.status != 400 {
		t.Errorf("256-character key: %d", rep.status)
	}
}
