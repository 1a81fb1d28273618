package stripeapi

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"
)

// The pacer's rate after a sequence of answers: it starts at the target; a
// 429 that is news cuts it by a fifth, unless the window held that request
// back (the pacer's own requests filled the second before it: the arrivals'
// jitter, which widens the margin instead); then up quickly to just below
// where the limit was met, then slowly, never past the target.
func TestPacerAdaptsToTheServer(t *testing.T) {
	type answer struct {
		limited  bool
		early    bool // sent before the last cut
		edge     bool // held back by the window
		answered int  // this many answered requests instead
	}
	const target = 25.0
	// 429s at the edge until the margin is at its widest, and one more.
	var widest []answer
	for m := paceMarginMin; m < paceMarginMax; m = m * 3 / 2 {
		widest = append(widest, answer{limited: true, edge: true})
	}
	widest = append(widest, answer{limited: true, edge: true})
	tests := []struct {
		name       string
		answers    []answer
		want       float64 // within the probe's steps above it: answers past the quick climb creep
		wantMargin time.Duration
	}{
		{"starts at the target", nil, target, paceMarginMin},
		{"stays at the target", []answer{{answered: 5000}}, target, paceMarginMin},
		{"a 429 cuts by a fifth", []answer{{limited: true}}, target * paceDecrease, paceMarginMin},
		{"a 429 to a request sent before the cut is the same news", []answer{{limited: true}, {limited: true, early: true}},
			target * paceDecrease, paceMarginMin},
		{"another 429 after the cut cuts again", []answer{{limited: true}, {limited: true}},
			target * paceDecrease * paceDecrease, paceMarginMin},
		{"recovers quickly to just below where the limit was met", []answer{{limited: true}, {answered: 20}},
			target * paceNear, paceMarginMin},
		{"an echo in the same second keeps that mark", []answer{{limited: true}, {limited: true}, {answered: 40}},
			target * paceNear, paceMarginMin},
		{"then probes slowly above it", []answer{{limited: true}, {answered: 20}, {answered: 30}},
			target*paceNear + 30*target*paceProbe, paceMarginMin},
		{"a server error is not a rate signal", []answer{{answered: 0}}, target, paceMarginMin},
		{"a 429 at the window's edge widens the margin, not the rate", []answer{{limited: true, edge: true}},
			target, paceMarginMin * 3 / 2},
		{"and again", []answer{{limited: true, edge: true}, {limited: true, edge: true}},
			target, paceMarginMin * 3 / 2 * 3 / 2},
		{"at the widest margin, a 429 at the edge cuts the rate", widest,
			target * paceDecrease, paceMarginMax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPacer(target)
			for _, a := range tt.answers {
				switch {
				case a.limited && a.early:
					p.report(turn{at: p.cut.Add(-time.Millisecond)}, true, false)
				case a.limited:
					p.report(turn{at: time.Now(), edge: a.edge}, true, false)
				default:
					for range a.answered {
						p.report(turn{at: time.Now()}, false, true)
					}
				}
			}
			// A quick climb ends with creeping steps of paceProbe each.
			const climbSteps = 40
			if p.rate < tt.want-1e-9 || p.rate > tt.want+climbSteps*target*paceProbe {
				t.Errorf("rate %.4f, want %.4f (or a few probe steps above)", p.rate, tt.want)
			}
			if p.margin != tt.wantMargin {
				t.Errorf("margin %v, want %v", p.margin, tt.wantMargin)
			}
		})
	}
}

// Requests that wait together leave one by one, 1/rate apart (less the
// lateness the grid forgives, half a turn), never as a burst, and never more
// than the rate's worth in a second.
func TestPacerSpacesRequests(t *testing.T) {
	const rate = 20.0 // 50 ms apart
	p := newPacer(rate / paceNear)
	var (
		mu   sync.Mutex
		sent []time.Time
		wg   sync.WaitGroup
	)
	for range 45 {
		wg.Go(func() {
			got, err := p.wait(context.Background(), 0)
			at := got.at
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			sent = append(sent, at)
			mu.Unlock()
		})
	}
	wg.Wait()
	slices.SortFunc(sent, time.Time.Compare)
	for i := int(rate); i < len(sent); i++ {
		if span := sent[i].Sub(sent[i-int(rate)]); span < time.Second {
			t.Fatalf("requests %d to %d left within %v, want at most %d in a second", i-int(rate), i, span, int(rate))
		}
	}
	interval := time.Duration(float64(time.Second) / rate)
	for i := 1; i < len(sent); i++ {
		if gap := sent[i].Sub(sent[i-1]); gap < interval/2 {
			t.Fatalf("requests %d and %d left %v apart, want at least %v", i-1, i, gap, interval/2)
		}
	}
}
