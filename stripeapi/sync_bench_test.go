package stripeapi

import (
	"context"
	"errors"
	"testing"
	"time"

	stripe "github.com/stripe/stripe-go/v76"

	"doublecheck/sandbox"
)

// BenchmarkSync pulls ~20k charges spread over 90 days from a sandbox that
// answers every request after 500 ms and allows 25 requests per second, like
// Stripe's test mode. "sliced" is Sync at --rate 25; "sequential" is what a
// hand-written script does: stripe-go's auto-paging iterator over the same
// range, one page after another (it is timed over its first 2,000 charges:
// every page costs the same 500 ms, so the rate is steady and the full run
// would take minutes). "sliced+events" is a complete first sync, 30 days of
// charge events included. Run with -benchtime=1x:
//
//	go test ./stripeapi -run '^$' -bench BenchmarkSync -benchtime=1x
func BenchmarkSync(b *testing.B) {
	const (
		latency   = 500 * time.Millisecond
		rateLimit = 25
		span      = 90 * 24 * time.Hour
	)
	sb, base := newSandbox(b, sandbox.Options{Seed: 11, Span: span - time.Hour, Ordinary: 20000,
		Latency: latency, RateLimit: rateLimit})
	since := time.Now().Add(-span)
	total := 0 // the charges in range (a few seeded scenarios lie further back)
	for _, raw := range sb.Charges() {
		if c, err := decodeCharge(raw, time.Time{}); err == nil && !c.Created.Before(since) {
			total++
		}
	}

	runSync := func(b *testing.B, skipEvents bool) {
		for b.Loop() {
			c := testClient(b, sandbox.TestKey, base)
			c.retryBase, c.http.Timeout = retryBase, requestTimeout
			limited := sb.Stats().RateLimited
			start := time.Now()
			res, err := c.Sync(context.Background(), newMemSink(), SyncOptions{Since: since, Rate: rateLimit, SkipEvents: skipEvents})
			elapsed := time.Since(start)
			surfaced := 0
			if errors.Is(err, ErrRateLimited) {
				surfaced++
			}
			if err != nil {
				b.Fatalf("sync: %v (429s surfaced: %d)", err, surfaced)
			}
			if res.Charges != total {
				b.Fatalf("synced %d charges, the sandbox has %d", res.Charges, total)
			}
			b.ReportMetric(float64(res.Charges)/elapsed.Seconds(), "charges/s")
			b.ReportMetric(float64(res.Requests)/elapsed.Seconds(), "req/s")
			b.ReportMetric(float64(surfaced), "429s-surfaced")
			b.ReportMetric(float64(sb.Stats().RateLimited-limited), "429s-retried")
		}
	}
	b.Run("sliced", func(b *testing.B) { runSync(b, true) })
	b.Run("sliced+events", func(b *testing.B) { runSync(b, false) })
	b.Run("sequential", func(b *testing.B) {
		const sample = 2000
		for b.Loop() {
			c := testClient(b, sandbox.TestKey, base)
			params := &stripe.ChargeListParams{CreatedRange: &stripe.RangeQueryParams{GreaterThanOrEqual: since.Unix()}}
			params.Limit = stripe.Int64(pageSize)
			params.Context = context.Background()
			start := time.Now()
			it := c.api.Charges.List(params)
			n := 0
			for n < sample && it.Next() {
				n++
			}
			elapsed := time.Since(start)
			surfaced := 0
			var se *stripe.Error
			if errors.As(it.Err(), &se) && se.HTTPStatusCode == 429 {
				surfaced++
			} else if it.Err() != nil {
				b.Fatal(it.Err())
			}
			b.ReportMetric(float64(n)/elapsed.Seconds(), "charges/s")
			b.ReportMetric(float64(surfaced), "429s-surfaced")
		}
	})
}
