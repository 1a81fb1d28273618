package stripeapi

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/doublecheck-dev/doublecheck/sandbox"
)

// paceWorld runs workers against the sandbox's strict sliding-window limiter
// on synctest's fake clock: each sends requests one after another, in its
// pacer turn; the i-th request sent leaves build(i) after its turn (the time
// to build and write it, which the pacer learns through departed) and
// arrives trip(i) after that (which it does not), is admitted or refused at
// arrival, and a worker waits latency for the answer before its next
// request. It returns the admitted arrivals and the number refused.
type paceWorld struct {
	limit, workers, requests int // requests per worker
	latency                  time.Duration
	build, trip              func(i int) time.Duration
}

func none(int) time.Duration { return 0 }

func (w paceWorld) run(t *testing.T, p *pacer) (admitted []time.Time, refused int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	window := sandbox.NewSlidingWindow(w.limit)
	var (
		mu   sync.Mutex
		sent int
		wg   sync.WaitGroup
	)
	for range w.workers {
		wg.Go(func() {
			for done := 0; done < w.requests; {
				tk, err := p.wait(ctx, 0)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				i := sent
				sent++
				mu.Unlock()
				time.Sleep(w.build(i))
				p.departed(tk, time.Now())
				time.Sleep(w.trip(i))
				ok := window.Admit(time.Now())
				p.report(tk, !ok, ok)
				mu.Lock()
				if ok {
					admitted = append(admitted, time.Now())
					done++
				} else {
					refused++
				}
				mu.Unlock()
				if ok {
					time.Sleep(w.latency)
				}
			}
		})
	}
	wg.Wait()
	return admitted, refused
}

// The pacer's own record of departures keeps a strict server's second to
// the limit, so nothing is refused, while it uses the window: with enough
// workers waiting, the requests keep within a sliver of the limit's pace.
// On synctest's fake clock, so the run is the same every time.
func TestPacerKeepsAStrictWindow(t *testing.T) {
	tests := []struct {
		name        string
		build, trip func(i int) time.Duration
		use         float64 // the least share of the limit used
	}{
		{"requests arrive as they leave", none, none, 0.98},
		// Counted from when they left, not from their turns (which costs
		// some of the window: a turn waits for the request a second before
		// it to have left).
		{"requests leave up to 45 ms after their turn", func(i int) time.Duration { return time.Duration(i*7%10) * 5 * time.Millisecond }, none, 0.9},
		// Within the starting margin: some late, some not, so neighbours
		// in the window arrive closer together than they left.
		{"arrivals wander by up to 9 ms", none, func(i int) time.Duration { return time.Duration(i*7%10) * time.Millisecond }, 0.98},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				const limit = 25
				w := paceWorld{limit: limit, workers: 30, requests: 20, latency: 500 * time.Millisecond, build: tt.build, trip: tt.trip}
				admitted, refused := w.run(t, newPacer(limit))
				if refused > 0 {
					t.Errorf("%d requests refused by a strict window of %d a second", refused, limit)
				}
				// From the first arrival to the last, each second held the
				// limit's worth, less the margin's share (1%).
				span := admitted[len(admitted)-1].Sub(admitted[0]).Seconds()
				if used := float64(len(admitted)-1) / span / limit; used < tt.use {
					t.Errorf("%d requests in %.2f s of the fake clock: %.1f%% of the limit, want at least %.0f%%", len(admitted), span, 100*used, 100*tt.use)
				}
			})
		})
	}
}

// A 429 at the window's edge, with the pacer's own requests filling the
// second before it, is the jitter of arrivals: the margin widens, the rate
// stands, and the requests after it are admitted. One inside the window
// (another sender spends the budget) cuts the rate.
func TestPacerTellsJitterFromAnotherSender(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const limit = 25
		// Every seventh request arrives 15 ms after it left, more than the
		// starting margin: the window after it is crowded.
		w := paceWorld{limit: limit, workers: 30, requests: 20, latency: 500 * time.Millisecond, build: none,
			trip: func(i int) time.Duration {
				if i%7 == 0 {
					return 15 * time.Millisecond
				}
				return 0
			}}
		p := newPacer(limit)
		admitted, refused := w.run(t, p)
		if refused == 0 || refused > 5 {
			t.Errorf("%d of %d requests refused, want a few until the margin allows for the jitter", refused, len(admitted)+refused)
		}
		if p.rate != limit || p.margin <= paceMarginMin {
			t.Errorf("after jitter: rate %.2f, margin %v; want the rate %d kept and the margin widened", p.rate, p.margin, limit)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		p := newPacer(25)
		ctx := context.Background()
		tk, err := p.wait(ctx, 0) // the window is empty: not at its edge
		if err != nil {
			t.Fatal(err)
		}
		p.report(tk, true, false)
		if p.rate >= 25 || p.margin != paceMarginMin {
			t.Errorf("a 429 inside the window: rate %.2f, margin %v; want the rate cut and the margin kept", p.rate, p.margin)
		}
	})
}

// When several callers wait for a turn, the one with the most work behind
// it goes first, then the others in the order they came.
func TestPacerServesTheLongestChainFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPacer(10)
		ctx := context.Background()
		if _, err := p.wait(ctx, 0); err != nil { // the grid's next turn is 100 ms away
			t.Fatal(err)
		}
		var (
			mu    sync.Mutex
			order []float64
			wg    sync.WaitGroup
		)
		for _, priority := range []float64{1, 7, 3, 7, priorityFirst} {
			wg.Go(func() {
				if _, err := p.wait(ctx, priority); err != nil {
					t.Error(err)
				}
				mu.Lock()
				order = append(order, priority)
				mu.Unlock()
			})
			synctest.Wait() // each waits before the next comes
		}
		wg.Wait()
		want := []float64{priorityFirst, 7, 7, 3, 1}
		for i := range want {
			if order[i] != want[i] {
				t.Fatalf("turns went to priorities %v, want %v", order, want)
			}
		}
	})
}
