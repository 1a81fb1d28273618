package stripeapi

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	stripe "github.com/stripe/stripe-go/v76"

	"github.com/doublecheck-dev/doublecheck/sandbox"
)

// BenchmarkSync pulls 16k and 54k charges spread over 90 days from a sandbox
// that answers every page after 500 ms and enforces Stripe's test-mode limit,
// 25 requests per second, as a strict sliding window: a 26th request within
// any second is answered 429. "paced" is Sync at --rate 25, the stated limit;
// "paced+events" also reads 30 days of events, as a first sync does;
// "sequential" is what a hand-written script does: stripe-go's auto-paging
// iterator, one page after another (timed over its first 2,000 charges: every
// page costs the same 500 ms, so its rate is steady and a full run would take
// minutes). Figures, from the server's own counts:
//
//	charges/s       charges stored per second of the whole sync
//	%limit-useful   requests answered with a page, per second, as a share of the limit
//	%limit-charges  charges per second as a share of the limit's 2,500 (25 full pages)
//	%429            requests answered 429, as a share of all requests
//	x-sequential    charges/s over the sequential iterator's
//
// Run with -benchtime=1x:
//
//	go test ./stripeapi -run '^$' -bench BenchmarkSync -benchtime=1x
func BenchmarkSync(b *testing.B) {
	const (
		latency   = 500 * time.Millisecond
		rateLimit = 25
		span      = 90 * 24 * time.Hour
	)
	for _, size := range []int{16000, 54000} {
		sb, base := newSandbox(b, sandbox.Options{Seed: 11, Span: span - time.Hour, Ordinary: size,
			Latency: latency, WindowLimit: rateLimit})
		since := time.Now().Add(-span)
		total := 0 // the charges in range (a few seeded scenarios lie further back)
		for _, raw := range sb.Charges() {
			if c, err := decodeCharge(raw, time.Time{}, time.Now()); err == nil && !c.Created.Before(since) {
				total++
			}
		}
		var sequential float64 // charges/s of the iterator
		b.Run(fmt.Sprintf("%dk/sequential", size/1000), func(b *testing.B) {
			const sample = 2000
			for b.Loop() {
				c := testClient(b, sandbox.TestKey, base)
				params := &stripe.ChargeListParams{CreatedRange: &stripe.RangeQueryParams{GreaterThanOrEqual: since.Unix()}}
				params.Limit = stripe.Int64(pageSize)
				params.Context = context.Background()
				before := sb.Stats()
				start := time.Now()
				it := c.api.Charges.List(params)
				n := 0
				for n < sample && it.Next() {
					n++
				}
				elapsed := time.Since(start)
				if it.Err() != nil {
					b.Fatal(it.Err())
				}
				sequential = float64(n) / elapsed.Seconds()
				reportServer(b, sb.Stats(), before, n, elapsed, rateLimit)
			}
		})
		runSync := func(b *testing.B, skipEvents bool) {
			for b.Loop() {
				c := testClient(b, sandbox.TestKey, base)
				c.retryBase, c.http.Timeout = retryBase, requestTimeout
				before := sb.Stats()
				start := time.Now()
				res, err := c.Sync(context.Background(), newMemSink(), SyncOptions{Since: since, Rate: rateLimit, SkipEvents: skipEvents})
				elapsed := time.Since(start)
				if err != nil {
					b.Fatalf("sync: %v", err)
				}
				if res.Charges != total {
					b.Fatalf("synced %d charges, the sandbox has %d", res.Charges, total)
				}
				reportServer(b, sb.Stats(), before, res.Charges, elapsed, rateLimit)
				if sequential > 0 {
					b.ReportMetric(float64(res.Charges)/elapsed.Seconds()/sequential, "x-sequential")
				}
			}
		}
		b.Run(fmt.Sprintf("%dk/paced", size/1000), func(b *testing.B) { runSync(b, true) })
		if size == 16000 {
			b.Run(fmt.Sprintf("%dk/paced+events", size/1000), func(b *testing.B) { runSync(b, false) })
		}
	}
}

// reportServer reports what the server saw between before and after.
func reportServer(b *testing.B, after, before sandbox.Stats, charges int, elapsed time.Duration, limit float64) {
	answered := after.ByStatus[http.StatusOK] - before.ByStatus[http.StatusOK]
	limited := after.RateLimited - before.RateLimited
	requests := after.Requests - before.Requests
	b.ReportMetric(float64(charges)/elapsed.Seconds(), "charges/s")
	b.ReportMetric(100*float64(answered)/elapsed.Seconds()/limit, "%limit-useful")
	b.ReportMetric(100*float64(charges)/elapsed.Seconds()/(limit*pageSize), "%limit-charges")
	b.ReportMetric(100*float64(limited)/float64(max(requests, 1)), "%429")
	b.ReportMetric(float64(limited), "429s")
	b.ReportMetric(float64(requests), "requests")
}
