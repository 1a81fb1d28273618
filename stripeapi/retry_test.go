package stripeapi

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/doublecheck-dev/doublecheck/sandbox"
)

// The server's Stripe-Should-Retry overrides what the status alone would
// decide, as stripe-go's own retry logic has it.
func TestCallFollowsStripeShouldRetry(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		shouldRetry string
		want        int    // requests sent
		wantMsg     string // in the error
	}{
		{"a 500 is retried", http.StatusInternalServerError, "", maxAttempts, "HTTP 500 8 times in a row"},
		{"a 500 the server says not to retry is sent once", http.StatusInternalServerError, "false", 1, "HTTP 500 (no) and said not to retry"},
		{"a 400 is sent once", http.StatusBadRequest, "", 1, "refused the request (HTTP 400"},
		{"a 400 the server says to retry is retried", http.StatusBadRequest, "true", maxAttempts, "refused the request (HTTP 400"},
		{"a 429 rate_limit is retried", http.StatusTooManyRequests, "", maxAttempts, "after 8 attempts"},
		{"a 429 the server says not to retry is sent once", http.StatusTooManyRequests, "false", 1, "rate limited the key (sk_test_"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var requests atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				if tt.shouldRetry != "" {
					w.Header().Set("Stripe-Should-Retry", tt.shouldRetry)
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				io.WriteString(w, `{"error":{"type":"invalid_request_error","code":"rate_limit","message":"no"}}`)
			}))
			defer srv.Close()
			c := testClient(t, sandbox.TestKey, srv.URL)
			c.SetRate(1000)
			_, err := c.getCharge(context.Background(), "ch_1")
			if err == nil || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("error %v, want it to say %q", err, tt.wantMsg)
			}
			if got := int(requests.Load()); got != tt.want {
				t.Errorf("%d requests, want %d", got, tt.want)
			}
		})
	}
}

// roundTripFunc answers requests in memory, on synctest's fake clock.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// A Retry-After in seconds lengthens the wait before the retry beyond the
// client's own backoff (a few milliseconds in tests).
func TestCallWaitsRetryAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var sent []time.Time
		c := testClient(t, sandbox.TestKey, "http://stripe.invalid")
		c.http.Transport = adviceTransport{next: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			sent = append(sent, time.Now())
			resp := &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
				Body: io.NopCloser(strings.NewReader(`{"id":"ch_1","object":"charge"}`)), Request: r}
			if len(sent) == 1 {
				resp.StatusCode = http.StatusServiceUnavailable
				resp.Header.Set("Retry-After", "3")
				resp.Body = io.NopCloser(strings.NewReader(`{"error":{"type":"api_error","message":"busy"}}`))
			}
			return resp, nil
		})}
		if _, err := c.getCharge(context.Background(), "ch_1"); err != nil {
			t.Fatal(err)
		}
		if len(sent) != 2 {
			t.Fatalf("%d requests, want 2", len(sent))
		}
		if gap := sent[1].Sub(sent[0]); gap < 3*time.Second {
			t.Errorf("retried %v after a Retry-After of 3 s", gap)
		}
	})
}

// A 429 to a request the pacer sent at its window's edge is the arrivals'
// jitter: the pacer widens its margin for every request, and the refused one
// takes its next turn instead of backing off. A 429 with the window far from
// full (another sender spends the budget) is retried after the backoff.
func TestCallRetriesAtTheWindowsEdgeAtItsNextTurn(t *testing.T) {
	for _, tt := range []struct {
		name     string
		before   int  // requests answered before the refused one
		atOnce   bool // retried at the next turn, not after the backoff
		wantNote string
	}{
		{"at the edge", 1, true, "the pacer's own request left a second before"},
		{"inside the window", 0, false, "nothing left in the second before"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var sent []time.Time
				c := testClient(t, sandbox.TestKey, "http://stripe.invalid")
				c.retryBase = 20 * time.Second // a backoff of 5 s or more (half the cap, at least)
				c.SetRate(1)                   // a window of one request a second
				c.http.Transport = adviceTransport{next: roundTripFunc(func(r *http.Request) (*http.Response, error) {
					sent = append(sent, time.Now())
					resp := &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
						Body: io.NopCloser(strings.NewReader(`{"id":"ch_1","object":"charge"}`)), Request: r}
					if len(sent) == tt.before+1 {
						resp.StatusCode = http.StatusTooManyRequests
						resp.Body = io.NopCloser(strings.NewReader(`{"error":{"type":"invalid_request_error","code":"rate_limit","message":"too many"}}`))
					}
					return resp, nil
				})}
				for range tt.before + 1 {
					if _, err := c.getCharge(context.Background(), "ch_1"); err != nil {
						t.Fatal(err)
					}
				}
				gap := sent[len(sent)-1].Sub(sent[len(sent)-2])
				if atOnce := gap < 2*time.Second; atOnce != tt.atOnce {
					t.Errorf("%s: retried %v after the 429, want at the next turn: %v", tt.wantNote, gap, tt.atOnce)
				}
			})
		})
	}
}
