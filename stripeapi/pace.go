package stripeapi

import (
	"context"
	"sync"
	"time"
)

// pacer spaces requests evenly at a rate that adapts to what the server
// allows. Even spacing, never a burst: Stripe's limits are per second (25
// requests in test mode, 100 in live mode, 25 per endpoint by default;
// docs.stripe.com/rate-limits), a server may count them over a strict sliding
// second, and requests that wait for a slot together must not leave together.
// On top of the spacing, no more than the configured rate's worth of
// requests leave in any second and a little (paceMargin): a sender the
// scheduler woke late cannot make the next ones crowd into one window.
//
// The rate follows additive increase, multiplicative decrease, on the signal
// the server gives: a 429 rate_limit to a request sent after the last cut
// cuts it by a fifth (Stripe's advice is to back off; the account's own
// production traffic may be using the budget). The first cut in a second
// marks where the limit was met; the cuts after it in the same second may be
// echoes of the same full window, so they lower the rate but not that mark.
// Each answered request raises the rate again, quickly up to just below the
// mark, then slowly (a quarter of a percent of the target per second at the
// target rate), so probing for the edge of the limit costs few 429s; never
// past the configured rate.
type pacer struct {
	mu      sync.Mutex
	target  float64     // the configured rate, requests per second: never exceeded
	rate    float64     // the current rate
	ceiling float64     // the rate the limit was last met at; target before any
	next    time.Time   // the earliest start of the next request
	sent    []time.Time // the latest turns, oldest first, at most the target's worth
	cut     time.Time   // when the rate was last cut
}

const (
	paceDecrease = 0.8 // the rate after a 429, as a share of the rate before
	// paceNear is how close to the ceiling the fast increase goes; above it,
	// the rate creeps by paceProbe of the target per answered request.
	paceNear  = 0.97
	paceFast  = 0.02
	paceProbe = 0.0001
	paceFloor = 0.5 // requests per second: a sync never stops altogether
	// paceWindow is the span over which the server counts requests: a cut
	// within it of the last one may be that one's echo.
	paceWindow = time.Second
	// paceMargin is added to the second no more than the configured rate's
	// worth of requests may leave in, for the jitter between leaving and
	// arriving.
	paceMargin = 30 * time.Millisecond
)

func newPacer(target float64) *pacer {
	p := &pacer{}
	p.setTarget(target)
	return p
}

// setTarget sets the configured rate. The pace starts just below it: nothing
// the server said is known yet, and a start at the very edge of the limit is
// where the first 429 comes from.
func (p *pacer) setTarget(target float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if target == p.target {
		return
	}
	p.target, p.ceiling, p.rate = target, target, target*paceNear
}

// wait blocks until the caller's turn to send and returns when that was; the
// caller hands it back to report. Turns follow a grid 1/rate apart, so a
// sender the scheduler wakes a little late costs no throughput; one woken
// later than half a turn starts the grid again from when it actually went,
// so the turns after it are never closer than half the spacing.
func (p *pacer) wait(ctx context.Context) (time.Time, error) {
	for {
		p.mu.Lock()
		now := time.Now()
		interval := time.Duration(float64(time.Second) / p.rate)
		at := p.next
		if perSecond := max(int(p.target), 1); len(p.sent) >= perSecond {
			at = latest(at, p.sent[len(p.sent)-perSecond].Add(paceWindow+paceMargin))
		}
		if !now.Before(at) {
			due := at
			if now.Sub(due) > interval/2 {
				due = now
			}
			p.next = due.Add(interval)
			if len(p.sent) >= max(int(p.target), 1) {
				p.sent = p.sent[1:]
			}
			p.sent = append(p.sent, now)
			p.mu.Unlock()
			return now, nil
		}
		p.mu.Unlock()
		if err := sleep(ctx, at.Sub(now)); err != nil {
			return now, err
		}
	}
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// report adapts the rate to the answer to a request sent at sent: limited
// is a 429 rate_limit, answered any other answer from the server.
func (p *pacer) report(sent time.Time, limited, answered bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case limited && sent.After(p.cut):
		now := time.Now()
		if now.Sub(p.cut) >= paceWindow {
			p.ceiling = p.rate
		}
		p.rate = max(p.rate*paceDecrease, paceFloor)
		p.cut = now
	case limited:
		// Sent before the cut: the cut already answers it.
	case answered && p.rate < p.ceiling*paceNear:
		p.rate = min(p.rate+p.target*paceFast, p.ceiling*paceNear)
	case answered:
		p.rate = min(p.rate+p.target*paceProbe, p.target)
	}
}
