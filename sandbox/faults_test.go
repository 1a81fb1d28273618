package sandbox

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"
)

func TestRateLimit(t *testing.T) {
	s, ts := start(t, Options{Seed: 1, Ordinary: 10, RateLimit: 1, RateBurst: 5})
	ok, limited := 0, 0
	for range 20 {
		rep := get(t, ts, "/v1/account", nil)
		switch rep.status {
		case http.StatusOK:
			ok++
		case http.StatusTooManyRequests:
			limited++
			if e := decode[testError](t, rep); e.Error.Type != "invalid_request_error" || e.Error.Code != "rate_limit" {
				t.Errorf("429 error %+v", e.Error)
			}
			// stripe-go retries a 429 only when told to; a plain rate limit says nothing.
			if h := rep.header.Get("Stripe-Should-Retry"); h != "" {
				t.Errorf("429 with Stripe-Should-Retry %q", h)
			}
		default:
			t.Fatalf("status %d", rep.status)
		}
	}
	// A burst of 5, refilled at 1/s while 20 quick requests run.
	if ok < 5 || ok > 7 {
		t.Errorf("%d of 20 immediate requests passed a burst of 5 at 1 req/s", ok)
	}
	if st := s.Stats(); st.RateLimited != limited || limited == 0 {
		t.Errorf("Stats.RateLimited %d, saw %d", st.RateLimited, limited)
	}
}

// The strict limiter admits WindowLimit requests in any second, refuses the
// rest with Stripe's rate_limit error, and does not count what it refused.
func TestWindowLimit(t *testing.T) {
	s, ts := start(t, Options{Seed: 1, Ordinary: 10, WindowLimit: 5})
	burst := func() (ok, limited int) {
		for range 8 {
			rep := get(t, ts, "/v1/charges", nil)
			switch rep.status {
			case http.StatusOK:
				ok++
			case http.StatusTooManyRequests:
				limited++
				if e := decode[testError](t, rep); e.Error.Type != "invalid_request_error" || e.Error.Code != "rate_limit" {
					t.Errorf("429 error %+v", e.Error)
				}
			default:
				t.Fatalf("status %d", rep.status)
			}
		}
		return ok, limited
	}
	for round := range 2 {
		if ok, limited := burst(); ok != 5 || limited != 3 {
			t.Errorf("burst %d: %d of 8 immediate requests admitted, %d refused; want 5 and 3", round, ok, limited)
		}
		// The window empties a second after the last admitted request: the
		// refused ones left nothing behind.
		time.Sleep(time.Second + 50*time.Millisecond)
	}
	if st := s.Stats(); st.RateLimited != 6 {
		t.Errorf("Stats.RateLimited %d, want 6", st.RateLimited)
	}
}

func TestErrorRate(t *testing.T) {
	s, ts := start(t, Options{Seed: 1, Ordinary: 10, ErrorRate: 0.3})
	const n = 400
	failed := map[int]int{}
	for range n {
		rep := get(t, ts, "/v1/charges", url.Values{"limit": {"1"}})
		if rep.status == http.StatusOK {
			continue
		}
		failed[rep.status]++
		if e := decode[testError](t, rep); e.Error.Type != "api_error" {
			t.Fatalf("%d with error %+v", rep.status, e.Error)
		}
	}
	total := failed[500] + failed[503]
	if len(failed) > 2 || failed[500] == 0 || failed[503] == 0 {
		t.Errorf("failures by status %v, want only 500s and 503s", failed)
	}
	if frac := float64(total) / n; frac < 0.22 || frac > 0.38 {
		t.Errorf("%.2f of requests failed, configured 0.30", frac)
	}
	if st := s.Stats(); st.ServerErrors != total {
		t.Errorf("Stats.ServerErrors %d, saw %d", st.ServerErrors, total)
	}
}

// TestFaultsReproducible: the same seed injects the same faults into the same
// sequence of requests.
func TestFaultsReproducible(t *testing.T) {
	run := func() []int {
		_, ts := start(t, Options{Seed: 99, Ordinary: 10, ErrorRate: 0.5})
		var statuses []int
		for range 40 {
			statuses = append(statuses, get(t, ts, "/v1/account", nil).status)
		}
		return statuses
	}
	a, b := run(), run()
	if !slices.Equal(a, b) {
		t.Errorf("same seed, different faults:\n%v\n%v", a, b)
	}
}

func TestTimeoutRate(t *testing.T) {
	s, ts := start(t, Options{Seed: 1, Ordinary: 10, TimeoutRate: 0.2})
	const n = 60
	// All at once, each giving up after a second: a hung request never answers,
	// an ordinary one answers well within that even on a busy machine.
	errs := make(chan error, n)
	for range n {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			_, err := requestCtx(ctx, ts.URL, "GET", "/v1/account", TestKey, nil, nil)
			errs <- err
		}()
	}
	timedOut := 0
	for range n {
		if err := <-errs; err != nil {
			timedOut++
		}
	}
	if frac := float64(timedOut) / n; frac < 0.07 || frac > 0.4 {
		t.Errorf("%d of %d requests hung, configured 0.2", timedOut, n)
	}
	if st := s.Stats(); st.Timeouts != timedOut {
		t.Errorf("Stats.Timeouts %d, clients saw %d", st.Timeouts, timedOut)
	}
}

func TestLatencyHonoursCancel(t *testing.T) {
	s, ts := start(t, Options{Seed: 1, Ordinary: 10, Latency: 5 * time.Second})
	// The client gives up once the server holds the request, however long a
	// busy machine takes to deliver it (a fixed deadline could expire first).
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for s.Stats().Requests == 0 && ctx.Err() == nil {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(20 * time.Millisecond)
		cancel()
	}()
	if _, err := requestCtx(ctx, ts.URL, "GET", "/v1/account", TestKey, nil, nil); err == nil {
		t.Fatal("a request slower than the client's deadline succeeded")
	}
	// The handler notices the cancel instead of sleeping out its 5 s.
	deadline := time.Now().Add(2 * time.Second)
	for s.Stats().Abandoned == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if st := s.Stats(); st.Abandoned != 1 || len(st.ByStatus) != 0 {
		t.Errorf("abandoned %d, answered %v; want the request abandoned unanswered", st.Abandoned, st.ByStatus)
	}
}

// TestFailAfterCommit models "Stripe succeeded but the client never heard": the
// refund exists, and a retry with the same key gets the stored success.
func TestFailAfterCommit(t *testing.T) {
	s, ts := start(t, Options{Seed: 1, Ordinary: 10, FailAfterCommitRate: 1})
	id := scenarioCharge(t, s, "double_click/1", -1)
	params := url.Values{"charge": {id}, "reason": {"duplicate"}}
	key := map[string]string{"Idempotency-Key": "doublecheck-refund-" + id}
	for attempt := range 3 { // 500 or hang, whichever the RNG picks; never a success
		timeout := 5 * time.Second
		if attempt == 0 {
			timeout = 300 * time.Millisecond // long enough to tell a hang
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		rep, err := requestCtx(ctx, ts.URL, "POST", "/v1/refunds", TestKey, params, key)
		cancel()
		if attempt == 0 {
			if err == nil && rep.status < 500 {
				t.Fatalf("first attempt: %d %s, want a 5xx or a hang", rep.status, rep.body)
			}
			continue
		}
		if err != nil || rep.status != http.StatusOK || rep.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("retry %d: err=%v status=%d replayed=%q", attempt, err, rep.status, rep.header.Get("Idempotent-Replayed"))
		}
		refunds := s.RefundsFor(id)
		if r := decode[testRefund](t, rep); len(refunds) != 1 || r.ID != refunds[0].ID {
			t.Fatalf("retry %d: refund %s, server has %+v", attempt, r.ID, refunds)
		}
	}
}

// The limiter alone, on given arrival times: the limit in any second, the
// second counted from each admitted arrival, refusals not counted, arrivals
// stamped out of order counted where they belong.
func TestSlidingWindow(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ms := func(n int) time.Time { return base.Add(time.Duration(n) * time.Millisecond) }
	tests := []struct {
		name     string
		arrivals []int // milliseconds
		want     []bool
	}{
		{"three in a second, the fourth refused", []int{0, 10, 20, 30}, []bool{true, true, true, false}},
		{"a second after the first, a place is free", []int{0, 10, 20, 999, 1000}, []bool{true, true, true, false, true}},
		{"refusals leave nothing behind", []int{0, 10, 20, 500, 600, 1010}, []bool{true, true, true, false, false, true}},
		{"spaced a third of a second, all pass", []int{0, 334, 668, 1002, 1336, 1670}, []bool{true, true, true, true, true, true}},
		{"out of order within the window", []int{0, 20, 10, 1005, 1015, 1019}, []bool{true, true, true, true, true, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := NewSlidingWindow(3)
			for i, at := range tt.arrivals {
				if got := w.Admit(ms(at)); got != tt.want[i] {
					t.Errorf("arrival %d at %d ms admitted %v, want %v", i, at, got, tt.want[i])
				}
			}
		})
	}
}
