package stripeapi

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"
)

// The pacer's rate after a sequence of answers: cut by a fifth on a 429 that
// is news, up quickly to just below where the limit was met, then slowly,
// never past the target.
func TestPacerAdaptsToTheServer(t *testing.T) {
	type answer struct {
		limited  bool
		early    bool // sent before the last cut
		answered int  // this many answered requests instead
	}
	const target = 25.0
	tests := []struct {
		name    string
		answers []answer
		want    float64 // within the probe's steps above it: answers past the quick climb creep
	}{
		{"starts just below the target", nil, target * paceNear},
		{"creeps up to the target and no further", []answer{{answered: 5000}}, target},
		{"a 429 cuts by a fifth", []answer{{limited: true}}, target * paceNear * paceDecrease},
		{"a 429 to a request sent before the cut is the same news", []answer{{limited: true}, {limited: true, early: true}},
			target * paceNear * paceDecrease},
		{"another 429 after the cut cuts again", []answer{{limited: true}, {limited: true}},
			target * paceNear * paceDecrease * paceDecrease},
		{"recovers quickly to just below where the limit was met", []answer{{limited: true}, {answered: 20}},
			target * paceNear * paceNear},
		{"an echo in the same second keeps that mark", []answer{{limited: true}, {limited: true}, {answered: 40}},
			target * paceNear * paceNear},
		{"then probes slowly above it", []answer{{limited: true}, {answered: 20}, {answered: 100}},
			target*paceNear*paceNear + 100*target*paceProbe},
		{"a server error is not a rate signal", []answer{{answered: 0}}, target * paceNear},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPacer(target)
			for _, a := range tt.answers {
				switch {
				case a.limited && a.early:
					p.report(p.cut.Add(-time.Millisecond), true, false)
				case a.limited:
					p.report(time.Now(), true, false)
				default:
					for range a.answered {
						p.report(time.Now(), false, true)
					}
				}
			}
			// A quick climb ends with creeping steps of paceProbe each.
			const climbSteps = 40
			if p.rate < tt.want-1e-9 || p.rate > tt.want+climbSteps*target*paceProbe {
				t.Errorf("rate %.4f, want %.4f (or a few probe steps above)", p.rate, tt.want)
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
			at, err := p.wait(context.Background())
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
