package cli

import (
	"context"
	"os"
	"testing"

	"github.com/doublecheck-dev/doublecheck/internal/cputime"
	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// BenchmarkDashboardLoad is the dashboard's path from launch to the data of its
// first frame on an existing store: open it as the offline dashboard does,
// load it and run detection (the Loader the ui calls first). The store is
// DOUBLECHECK_BENCH_STORE (scripts/bench-scale.sh makes stores of 10k, 100k
// and 1M charges); without it the benchmark is skipped.
func BenchmarkDashboardLoad(b *testing.B) {
	path := os.Getenv("DOUBLECHECK_BENCH_STORE")
	if path == "" {
		b.Skip("set DOUBLECHECK_BENCH_STORE to a store, as scripts/bench-scale.sh does")
	}
	ctx := context.Background()
	var groups int
	cpuBefore := cputime.Used(b)
	for b.Loop() {
		st, err := openOffline(ctx, path)
		if err != nil {
			b.Fatal(err)
		}
		report, err := detector{st, reconcile.DefaultOptions()}.Load(ctx)
		st.Close()
		if err != nil {
			b.Fatal(err)
		}
		groups = len(report.Groups)
	}
	b.ReportMetric(float64(groups), "groups")
	b.ReportMetric((cputime.Used(b)-cpuBefore).Seconds()/float64(b.N), "cpu-s/op")
}
