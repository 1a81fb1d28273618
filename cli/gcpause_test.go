package cli

import (
	"runtime/debug"
	"testing"
)

// gcPercent reads the collector's setting without changing it.
func gcPercent() int {
	p := debug.SetGCPercent(-1)
	debug.SetGCPercent(p)
	return p
}

// memoryLimit reads the soft memory limit without changing it.
func memoryLimit() int64 { return debug.SetMemoryLimit(-1) }

func TestPauseGCRestoresAfterTheLastPause(t *testing.T) {
	before := debug.SetGCPercent(150)
	limitBefore := debug.SetMemoryLimit(64 << 30)
	t.Cleanup(func() { debug.SetGCPercent(before); debug.SetMemoryLimit(limitBefore) })
	for _, tt := range []struct {
		name  string
		order []int // which pause ends when
	}{
		{"one", []int{0}},
		{"nested", []int{1, 0}},
		{"overlapping", []int{0, 1}},
		{"three, one resumed twice", []int{1, 1, 0, 2}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var resumes []func()
			for range max(tt.order[0], tt.order[len(tt.order)-1]) + 1 {
				resumes = append(resumes, pauseGC())
				if p, l := gcPercent(), memoryLimit(); p != -1 || l != pausedGCLimit {
					t.Fatalf("GC percent %d, memory limit %d during a pause, want -1 (off) and %d", p, l, int64(pausedGCLimit))
				}
			}
			ended := map[int]bool{}
			for _, i := range tt.order {
				resumes[i]()
				ended[i] = true
				want, wantLimit := -1, int64(pausedGCLimit)
				if len(ended) == len(resumes) {
					want, wantLimit = 150, 64<<30
				}
				if p, l := gcPercent(), memoryLimit(); p != want || l != wantLimit {
					t.Fatalf("after resuming pause %d: GC percent %d, memory limit %d, want %d and %d", i, p, l, want, wantLimit)
				}
			}
		})
	}
}

// TestTightenGCBesidePauses: a narrowed load lowers GOGC to
// narrowedGCPercent, never raises it (nor turns a collector that is off on),
// yields to a pause while one runs, and the setting before the first load
// comes back after the last.
func TestTightenGCBesidePauses(t *testing.T) {
	limitBefore := debug.SetMemoryLimit(64 << 30)
	percentBefore := gcPercent()
	t.Cleanup(func() { debug.SetGCPercent(percentBefore); debug.SetMemoryLimit(limitBefore) })
	type setting struct {
		percent int
		limit   int64
	}
	for _, tt := range []struct {
		name     string
		original int
		tight    int // the percent while only narrowed loads run
	}{
		{"default", 100, narrowedGCPercent},
		{"already lower", 50, 50},
		{"collector off", -1, -1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			debug.SetGCPercent(tt.original)
			check := func(when string, want setting) {
				t.Helper()
				if got := (setting{gcPercent(), memoryLimit()}); got != want {
					t.Fatalf("%s: GC percent %d, limit %d; want %d, %d", when, got.percent, got.limit, want.percent, want.limit)
				}
			}
			tight, paused, original := setting{tt.tight, 64 << 30}, setting{-1, pausedGCLimit}, setting{tt.original, 64 << 30}
			endNarrowed := tightenGC()
			check("a narrowed load", tight)
			endPause := pauseGC()
			check("a pause beside it", paused)
			endOther := tightenGC()
			check("another narrowed load during the pause", paused)
			endPause()
			check("the pause ended", tight)
			endNarrowed()
			endNarrowed() // a second call changes nothing
			check("one narrowed load left", tight)
			endOther()
			check("all ended", original)
		})
	}
}
