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
