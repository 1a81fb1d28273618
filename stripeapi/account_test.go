package stripeapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// accountServer answers every GET /v1/account with status and a Stripe error
// carrying msg, and counts those requests.
func accountServer(t *testing.T, status int, msg string) (base string, requests *atomic.Int64) {
	t.Helper()
	requests = new(atomic.Int64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/account" {
			requests.Add(1)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"type": "invalid_request_error", "message": msg}})
	}))
	t.Cleanup(srv.Close)
	return srv.URL, requests
}

// Every command starts with the account lookup, so it is one attempt: a
// server failing it costs one request, not half a minute of retries.
func TestAccountLookupIsOneAttempt(t *testing.T) {
	for _, tt := range []struct {
		name   string
		status int
		kind   error
	}{
		{"server error", http.StatusInternalServerError, ErrServer},
		{"rate limited", http.StatusTooManyRequests, ErrRateLimited},
	} {
		t.Run(tt.name, func(t *testing.T) {
			base, requests := accountServer(t, tt.status, "try later")
			_, err := testClient(t, "sk_test_doublecheck_sandbox", base).Account(context.Background())
			if !errors.Is(err, tt.kind) {
				t.Errorf("error %v, want %v", err, tt.kind)
			}
			if n := requests.Load(); n != 1 {
				t.Errorf("%d requests to /v1/account, want 1", n)
			}
		})
	}
}
