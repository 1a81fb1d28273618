package stripeapi

import (
	"context"
	"math"
	"net/http/httptrace"
	"slices"
	"sync"
	"time"
)

// pacer spaces requests evenly at a rate that adapts to what the server
// allows, and keeps its own sliding record of when requests left, so that it
// can use a strict server's whole window without bursting. Stripe's limits
// are per second (25 requests in test mode, 100 in live mode, 25 per endpoint
// by default; docs.stripe.com/rate-limits); a server may count them over a
// strict sliding second, and requests that wait for a slot together must not
// leave together.
//
// Two rules give a caller its turn. Turns follow a grid 1/rate apart. And no
// more than the configured rate's worth of requests leave in any second and
// a margin, counted from when each request actually left (the moment its
// headers were written, see traced), not from when its turn came: the margin
// only has to cover the jitter between leaving here and arriving there. It
// starts small and grows by half on a 429 rate_limit that is news (sent after
// the last cut) to a request near the window's edge (the rate's worth of the
// pacer's own requests had left in the second and paceMarginMax before it,
// so they alone could have filled the server's second had they arrived with
// that much jitter), then shrinks back slowly while the server answers.
//
// The rate follows additive increase, multiplicative decrease, on the signal
// the server gives: any other 429 rate_limit that is news cuts it by a fifth
// (Stripe's advice is to back off; the account's own production traffic may
// be using the budget). So does one at the window's edge once the margin is
// at its widest: the margin is the first answer, the rate the second. The
// first cut in a second marks where the limit was met; the cuts after it in
// the same second may be echoes of the same full window, so they lower the
// rate but not that mark.
// Each answered request raises the rate again, quickly up to just below the
// mark, then slowly, so probing for the edge of the limit costs few 429s;
// never past the configured rate.
//
// When several callers wait, the turn goes to the one with the most work
// behind it (its priority: a sync slice's estimated items left), so the
// longest chains of pages start first and the sync ends with its slices
// together instead of a tail of one slice's pages one after another.
//
// x/time/rate does not fit: its reservations are slots computed ahead of
// time, while a strict window must count when requests really left, and it
// has no priorities among waiters.
type pacer struct {
	mu      sync.Mutex
	target  float64 // the configured rate, requests per second: never exceeded
	rate    float64 // the current rate
	ceiling float64 // the rate the limit was last met at; target before any
	margin  time.Duration
	next    time.Time   // the next turn's place on the grid
	spaced  time.Time   // the earliest start of the next turn: half a turn after the last
	left    []time.Time // when the latest turns left, in turn order, at most the target's worth
	turns   uint64      // turns given so far
	cut     time.Time   // when the rate was last cut
	waiting []*paceWaiter
	// changed is closed, and replaced, whenever a turn is taken or a waiter
	// gives up: the waiters look again at who is first and when.
	changed chan struct{}
	seq     uint64
}

// turn is a caller's permission to send one request.
type turn struct {
	n  uint64    // its number among the pacer's turns
	at time.Time // when it was given
	// edge says it came near the window's edge: the rate's worth of this
	// pacer's own requests had left in the second and paceMarginMax before
	// it. A 429 to it can be the jitter of their arrivals, not another
	// sender.
	edge bool
}

type paceWaiter struct {
	priority float64
	seq      uint64 // arrival order breaks ties
}

const (
	paceDecrease = 0.8 // the rate after a 429, as a share of the rate before
	// paceNear is how close to the ceiling the fast increase goes; above it,
	// the rate creeps by paceProbe of the target per answered request (about
	// 4 s at 25 requests a second from paceNear back to the ceiling).
	paceNear  = 0.97
	paceFast  = 0.02
	paceProbe = 0.0003
	paceFloor = 0.5 // requests per second: a sync never stops altogether
	// paceWindow is the span over which the server counts requests: a cut
	// within it of the last one may be that one's echo.
	paceWindow = time.Second
	// paceCatchUp is how many turns a late sender's followers may make up.
	paceCatchUp = 3
	// The window's margin: from paceMarginMin, grown by half by each 429 at
	// the edge that is news, up to paceMarginMax, and shrunk by
	// paceMarginDecay of what it has above the minimum per answered request
	// (half of it in about 140).
	paceMarginMin   = 10 * time.Millisecond
	paceMarginMax   = 200 * time.Millisecond
	paceMarginDecay = 0.005
)

func newPacer(target float64) *pacer {
	p := &pacer{margin: paceMarginMin, changed: make(chan struct{})}
	p.setTarget(target)
	return p
}

// setTarget sets the configured rate. The pace starts at it: the window's
// record keeps even a strict server's second to the rate's worth.
func (p *pacer) setTarget(target float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if target == p.target {
		return
	}
	p.target, p.ceiling, p.rate = target, target, target
}

// perWindow is how many requests may leave in any window.
func (p *pacer) perWindow() int { return max(int(p.target), 1) }

// wait blocks until the caller's turn to send. Turns follow a grid 1/rate
// apart, so a sender the scheduler wakes late costs no throughput: the
// turns after it come half a turn apart until they are back on the grid
// (the window's record still keeps any second to the rate's worth). A turn
// taken more than paceCatchUp turns late starts the grid again from now: the
// pacer was idle, or the turns missed are too many to make up without a
// burst. Among callers waiting at once, the one with the highest priority
// goes first (the earliest of equals).
func (p *pacer) wait(ctx context.Context, priority float64) (turn, error) {
	p.mu.Lock()
	w := &paceWaiter{priority: priority, seq: p.seq}
	p.seq++
	p.waiting = append(p.waiting, w)
	for {
		now := time.Now()
		at := p.dueLocked()
		if !now.Before(at) && p.firstLocked() == w {
			t := p.takeLocked(now, at, w)
			p.mu.Unlock()
			return t, nil
		}
		changed := p.changed
		p.mu.Unlock()
		var timer *time.Timer
		var due <-chan time.Time
		if now.Before(at) {
			timer = time.NewTimer(at.Sub(now))
			due = timer.C
		}
		select {
		case <-ctx.Done():
			if timer != nil {
				timer.Stop()
			}
			p.mu.Lock()
			p.leaveLocked(w)
			p.mu.Unlock()
			return turn{}, ctx.Err()
		case <-due:
		case <-changed:
		}
		if timer != nil {
			timer.Stop()
		}
		p.mu.Lock()
	}
}

// dueLocked is the earliest time the next turn may start: on the grid, and
// not before the oldest departure in the record has left the window.
func (p *pacer) dueLocked() time.Time {
	at := latest(p.next, p.spaced)
	if len(p.left) >= p.perWindow() {
		if oldest := slices.MinFunc(p.left, time.Time.Compare).Add(paceWindow + p.margin); oldest.After(at) {
			at = oldest
		}
	}
	return at
}

// firstLocked is the waiter whose turn is next.
func (p *pacer) firstLocked() *paceWaiter {
	var first *paceWaiter
	for _, w := range p.waiting {
		if first == nil || w.priority > first.priority || w.priority == first.priority && w.seq < first.seq {
			first = w
		}
	}
	return first
}

// takeLocked gives w the turn due at, now.
func (p *pacer) takeLocked(now, at time.Time, w *paceWaiter) turn {
	interval := time.Duration(float64(time.Second) / p.rate)
	due := at
	if now.Sub(due) > paceCatchUp*interval {
		due = now // idle, or too late to make up without a burst
	}
	p.next, p.spaced = due.Add(interval), now.Add(interval/2)
	edge := false
	if len(p.left) >= p.perWindow() {
		edge = now.Sub(slices.MinFunc(p.left, time.Time.Compare)) < paceWindow+paceMarginMax
		p.left = p.left[len(p.left)-p.perWindow()+1:]
	}
	p.left = append(p.left, now)
	t := turn{n: p.turns, at: now, edge: edge}
	p.turns++
	p.leaveLocked(w)
	return t
}

// leaveLocked takes w off the waiting list and wakes the others.
func (p *pacer) leaveLocked(w *paceWaiter) {
	p.waiting = slices.DeleteFunc(p.waiting, func(o *paceWaiter) bool { return o == w })
	close(p.changed)
	p.changed = make(chan struct{})
}

// departed records that turn t's request left at: later than its turn when
// the caller took a while to build and write it.
func (p *pacer) departed(t turn, at time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	first := p.turns - uint64(len(p.left))
	if t.n < first || t.n >= p.turns {
		return // out of the record: long past the window
	}
	if i := t.n - first; at.After(p.left[i]) {
		p.left[i] = at
	}
}

// traced is ctx with an HTTP trace that records when t's request left (its
// headers written, which is when the server sees it arrive).
func (p *pacer) traced(ctx context.Context, t turn) context.Context {
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteHeaders: func() { p.departed(t, time.Now()) },
	})
}

// report adapts the pace to the answer to the request of turn t: limited is
// a 429 rate_limit, answered any other answer from the server. It says
// whether a 429 came at the window's edge, which the margin answers for
// every request (see Client.call).
func (p *pacer) report(t turn, limited, answered bool) (atEdge bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case limited && t.at.After(p.cut) && t.edge && p.margin < paceMarginMax:
		// Refused at the window's edge: the arrivals were closer together
		// than the departures. Allow for more jitter; the rate stands.
		p.margin = min(p.margin*3/2, paceMarginMax)
		p.cut = time.Now()
	case limited && t.at.After(p.cut):
		// Refused inside the window: someone else spends the budget too, or
		// the limit is lower than the configured rate.
		now := time.Now()
		if now.Sub(p.cut) >= paceWindow {
			p.ceiling = p.rate
		}
		p.rate = max(p.rate*paceDecrease, paceFloor)
		p.cut = now
	case limited:
		// Sent before the cut: the cut already answers it.
	case answered:
		p.margin -= time.Duration(float64(p.margin-paceMarginMin) * paceMarginDecay)
		if p.rate < p.ceiling*paceNear {
			p.rate = min(p.rate+p.target*paceFast, p.ceiling*paceNear)
		} else {
			p.rate = min(p.rate+p.target*paceProbe, p.target)
		}
	}
	return limited && t.edge
}

// Priorities of callers of wait: a sync's page asks with its slice's
// estimated items left; requests outside the sync (a refund, a charge
// looked up) go before any page.
var priorityFirst = math.Inf(1)

type priorityKey struct{}

// withPriority tells the pacer, through ctx, how much work waits behind a
// request (see wait).
func withPriority(ctx context.Context, priority float64) context.Context {
	return context.WithValue(ctx, priorityKey{}, priority)
}

func priorityOf(ctx context.Context) float64 {
	if p, ok := ctx.Value(priorityKey{}).(float64); ok {
		return p
	}
	return priorityFirst
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
