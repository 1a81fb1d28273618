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

func TestPauseGCRestoresAfterTheLastPause(t *testing.T) {
	before := debug.SetGCPercent(150)
	t.Cleanup(func() { debug.SetGCPercent(before) })
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
				if p := gcPercent(); p != -1 {
					t.Fatalf("GC percent %d during a pause, want -1 (off)", p)
				}
			}
			ended := map[int]bool{}
			for _, i := range tt.order {
				resumes[i]()
				ended[i] = true
				want := -1
				if len(ended) == len(resumes) {
					want = 150
				}
				if p := gcPercent(); p != want {
					t.Fatalf("after resuming pause %d: GC percent %d, want %d", i, p, want)
				}
			}
		})
	}
}
