package store

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// BenchmarkSaveCharges upserts batches of charges carrying about 1.5 KB of raw JSON
// each: "insert" adds new charges, "update" re-observes stored ones.
func BenchmarkSaveCharges(b *testing.B) {
	const batch = 1000
	ctx := context.Background()
	b.Run("insert", func(b *testing.B) {
		s := openTemp(b)
		next := 0
		var cpu time.Duration
		for b.Loop() {
			b.StopTimer()
			charges := fakeCharges(next, batch, true)
			b.StartTimer()
			before := processCPU(b)
			if err := s.SaveCharges(ctx, charges); err != nil {
				b.Fatal(err)
			}
			cpu += processCPU(b) - before
			next += batch
		}
		reportRates(b, next, cpu)
	})
	b.Run("update", func(b *testing.B) {
		s := openTemp(b)
		const stored = 20 * batch
		if err := s.SaveCharges(ctx, fakeCharges(0, stored, true)); err != nil {
			b.Fatal(err)
		}
		saved := 0
		var cpu time.Duration
		observed := baseTime.Add(200 * 24 * time.Hour)
		for b.Loop() {
			b.StopTimer()
			charges := fakeCharges(saved%stored, batch, true)
			observed = observed.Add(time.Second)
			for i := range charges {
				charges[i].Observed = observed
				charges[i].AmountRefunded = charges[i].Amount
			}
			b.StartTimer()
			before := processCPU(b)
			if err := s.SaveCharges(ctx, charges); err != nil {
				b.Fatal(err)
			}
			cpu += processCPU(b) - before
			saved += batch
		}
		reportRates(b, saved, cpu)
	})
}

// reportRates reports charges saved per second of wall time and, since the
// machine is shared, per second of CPU time (what an idle machine would reach).
func reportRates(b *testing.B, charges int, cpu time.Duration) {
	b.ReportMetric(float64(charges)/b.Elapsed().Seconds(), "charges/s")
	b.ReportMetric(float64(charges)/cpu.Seconds(), "charges/cpu-s")
}

// BenchmarkLoadInput loads stores of 10k, 100k and 1M charges for detection.
// Each fixture is built once per run (b.Loop runs the function body once).
func BenchmarkLoadInput(b *testing.B) {
	const batch = 10_000
	ctx := context.Background()
	for _, size := range []struct {
		name  string
		total int
	}{{"10k", 10_000}, {"100k", 100_000}, {"1M", 1_000_000}} {
		b.Run(size.name, func(b *testing.B) {
			s := openTemp(b)
			for from := 0; from < size.total; from += batch {
				if err := s.SaveCharges(ctx, fakeCharges(from, min(batch, size.total-from), true)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			cpuBefore := processCPU(b)
			for b.Loop() {
				in, err := s.LoadInput(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if len(in.Charges) != size.total {
					b.Fatalf("loaded %d charges, want %d", len(in.Charges), size.total)
				}
			}
			// The machine is shared: CPU time per load says what wall time
			// would be on an idle machine better than ns/op does.
			b.ReportMetric((processCPU(b)-cpuBefore).Seconds()/float64(b.N), "cpu-s/op")
		})
	}
}

// processCPU is the user+system CPU time the test process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkBeginRefund is the cost of committing one refund intent with
// synchronous=FULL: the floor under every refund.
func BenchmarkBeginRefund(b *testing.B) {
	ctx := context.Background()
	s := openTemp(b)
	n := 0
	for b.Loop() {
		n++
		if _, _, err := s.BeginRefund(ctx, intentFor(fmt.Sprintf("ch_%d", n), 100, "bench")); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadDetect is what a scan or a dashboard reload costs from each
// dialect: load every charge (LoadInput) and run detection on them, at 100k
// and 1M charges. The stores are filled without raw JSON (loads never read
// it), once per size. The PostgreSQL figures are the test server's (the
// throwaway cluster on this machine: no network, fsync off).
func BenchmarkLoadDetect(b *testing.B) {
	const batch = 10_000
	ctx := context.Background()
	for _, d := range testDialects {
		for _, size := range []struct {
			name  string
			total int
		}{{"100k", 100_000}, {"1M", 1_000_000}} {
			b.Run(d.name+"/"+size.name, func(b *testing.B) {
				s, err := Open(ctx, d.location(b))
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				for from := 0; from < size.total; from += batch {
					if err := s.SaveCharges(ctx, fakeCharges(from, min(batch, size.total-from), false)); err != nil {
						b.Fatal(err)
					}
				}
				var load, detect time.Duration
				cpuBefore := processCPU(b)
				for b.Loop() {
					start := time.Now()
					in, err := s.LoadInput(ctx)
					if err != nil {
						b.Fatal(err)
					}
					loaded := time.Now()
					report := reconcile.Detect(in, reconcile.DefaultOptions())
					load, detect = load+loaded.Sub(start), detect+time.Since(loaded)
					if len(in.Charges) != size.total || report.Summary.Charges != size.total {
						b.Fatalf("loaded %d charges, detected over %d, want %d", len(in.Charges), report.Summary.Charges, size.total)
					}
				}
				b.ReportMetric(load.Seconds()/float64(b.N), "load-s/op")
				b.ReportMetric(detect.Seconds()/float64(b.N), "detect-s/op")
				b.ReportMetric((processCPU(b)-cpuBefore).Seconds()/float64(b.N), "cpu-s/op")
			})
		}
	}
}
