package sandbox

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// authorised adds an uncaptured charge authorised age ago.
func authorised(s *Server, age time.Duration, amount int64) string {
	return s.AddCharge(ChargeSpec{Created: s.Now().Add(-age), Amount: amount, Uncaptured: true})
}

func TestCaptureValidation(t *testing.T) {
	s, ts := start(t, Options{Seed: 21, Ordinary: 50})
	open := authorised(s, time.Hour, 3000)
	tests := []struct {
		name       string
		key        string
		chargeID   string
		params     url.Values
		wantStatus int
		wantType   string
		wantCode   string
		wantParam  string
	}{
		{"already captured", TestKey, s.AddCharge(ChargeSpec{}), nil, 400, "invalid_request_error", "charge_already_captured", ""},
		{"failed", TestKey, s.AddCharge(ChargeSpec{Failed: true}), nil, 400, "invalid_request_error", "", ""},
		{"authorisation expired", TestKey, authorised(s, authorizationLifetime+time.Hour, 3000), nil, 400, "invalid_request_error", "charge_expired_for_capture", ""},
		{"more than authorised", TestKey, open, url.Values{"amount": {"3001"}}, 400, "invalid_request_error", "amount_too_large", "amount"},
		{"zero amount", TestKey, open, url.Values{"amount": {"0"}}, 400, "invalid_request_error", "parameter_invalid_integer", "amount"},
		{"text amount", TestKey, open, url.Values{"amount": {"12.50"}}, 400, "invalid_request_error", "parameter_invalid_integer", "amount"},
		{"unknown parameter", TestKey, open, url.Values{"reason": {"duplicate"}}, 400, "invalid_request_error", "parameter_unknown", "reason"},
		{"no such charge", TestKey, "ch_3doesnotexist", nil, 404, "invalid_request_error", "resource_missing", "id"},
		{"restricted key without write access", NoReadKey, open, nil, 403, "permission_error", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := request(t, ts, http.MethodPost, "/v1/charges/"+tt.chargeID+"/capture", tt.key, tt.params, nil)
			if rep.status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", rep.status, tt.wantStatus, rep.body)
			}
			e := decode[testError](t, rep)
			if e.Error.Type != tt.wantType || e.Error.Code != tt.wantCode || e.Error.Message == "" ||
				(tt.wantParam != "" && e.Error.Param != tt.wantParam) {
				t.Errorf("error %+v, want type %q code %q param %q", e.Error, tt.wantType, tt.wantCode, tt.wantParam)
			}
		})
	}
	if c := chargeByID(t, s, open); c.Captured || c.AmountCaptured != 0 || c.AmountRefunded != 0 {
		t.Errorf("refused captures changed the charge: %+v", c)
	}
	if got := walk[testEvent](t, ts, "/v1/events", url.Values{"type": {"charge.captured"}}, 100); len(got) != 0 {
		t.Errorf("refused captures emitted %d charge.captured events", len(got))
	}
}

func TestCaptureUpdatesChargeAndEmitsEvent(t *testing.T) {
	tests := []struct {
		name         string
		amount       string // "" → all of it
		wantCaptured int64
	}{
		{"in full", "", 3000},
		{"partly: the rest is released", "1800", 1800},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ts := start(t, Options{Seed: 22, Ordinary: 50})
			id := authorised(s, 2*time.Hour, 3000)
			if c := chargeByID(t, s, id); c.Captured || c.AmountCaptured != 0 {
				t.Fatalf("an authorisation shows as captured: %+v", c)
			}
			params := url.Values{}
			if tt.amount != "" {
				params.Set("amount", tt.amount)
			}
			key := map[string]string{"Idempotency-Key": "capture-" + strconv.Itoa(i)}
			path := "/v1/charges/" + id + "/capture"
			rep := request(t, ts, http.MethodPost, path, TestKey, params, key)
			if rep.status != http.StatusOK {
				t.Fatalf("capture: %d %s", rep.status, rep.body)
			}
			wantRefunded := 3000 - tt.wantCaptured
			for source, c := range map[string]testCharge{"response": decode[testCharge](t, rep), "stored": chargeByID(t, s, id)} {
				if c.ID != id || !c.Captured || c.AmountCaptured != tt.wantCaptured || c.AmountRefunded != wantRefunded ||
					c.Refunded || c.Status != "succeeded" {
					t.Errorf("%s charge %+v: want captured %d, %d released", source, c, tt.wantCaptured, wantRefunded)
				}
			}

			events := walk[testEvent](t, ts, "/v1/events", url.Values{"type": {"charge.captured"}}, 100)
			if len(events) != 1 {
				t.Fatalf("%d charge.captured events, want 1", len(events))
			}
			ev := events[0]
			obj := decodeRaw[testCharge](t, ev.Data.Object)
			if ev.Created != s.Now().Unix() || obj.ID != id || !obj.Captured || obj.AmountCaptured != tt.wantCaptured ||
				ev.Data.PreviousAttributes["captured"] != false {
				t.Errorf("event %+v with charge %+v: want the charge after capture, created now", ev, obj)
			}
			if ev.Request.ID == nil || *ev.Request.ID != rep.header.Get("Request-Id") ||
				ev.Request.IdempotencyKey == nil || *ev.Request.IdempotencyKey != key["Idempotency-Key"] {
				t.Errorf("event request %+v: want the capture request %s with its key", ev.Request, rep.header.Get("Request-Id"))
			}

			// The same request again is a replay, not a second capture; a new one is refused.
			replay := request(t, ts, http.MethodPost, path, TestKey, params, key)
			if replay.status != http.StatusOK || replay.header.Get("Idempotent-Replayed") != "true" || string(replay.body) != string(rep.body) {
				t.Errorf("replay: %d replayed=%q", replay.status, replay.header.Get("Idempotent-Replayed"))
			}
			again := request(t, ts, http.MethodPost, path, TestKey, params, nil)
			if e := decode[testError](t, again); again.status != 400 || e.Error.Code != "charge_already_captured" {
				t.Errorf("second capture: %d %s", again.status, again.body)
			}
			if n := len(walk[testEvent](t, ts, "/v1/events", url.Values{"type": {"charge.captured"}}, 100)); n != 1 {
				t.Errorf("%d charge.captured events after a replay and a refusal, want 1", n)
			}

			// Only what was captured can be refunded.
			refund := request(t, ts, http.MethodPost, "/v1/refunds", TestKey, url.Values{"charge": {id}}, nil)
			if r := decode[testRefund](t, refund); refund.status != http.StatusOK || r.Amount != tt.wantCaptured {
				t.Errorf("refund after capture: %d %s, want %d refunded", refund.status, refund.body, tt.wantCaptured)
			}
		})
	}
}

func TestCaptureHook(t *testing.T) {
	s, ts := start(t, Options{Seed: 23, Ordinary: 50})
	id := authorised(s, time.Hour, 4200)
	if err := s.Capture(id); err != nil {
		t.Fatal(err)
	}
	if c := chargeByID(t, s, id); !c.Captured || c.AmountCaptured != 4200 || c.AmountRefunded != 0 {
		t.Errorf("captured charge %+v", c)
	}
	events := walk[testEvent](t, ts, "/v1/events", url.Values{"type": {"charge.captured"}}, 100)
	if len(events) != 1 || events[0].Request.IdempotencyKey != nil || events[0].Request.ID == nil {
		t.Errorf("events %+v: want one charge.captured from a request without a key", events)
	}
	for _, tt := range []struct{ id, want string }{
		{id, "already been captured"},
		{"ch_3doesnotexist", "no such charge"},
		{s.AddCharge(ChargeSpec{Failed: true}), "failed"},
	} {
		if err := s.Capture(tt.id); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Capture(%s) = %v, want an error saying %q", tt.id, err, tt.want)
		}
	}
}
