package stripeapi

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"sort"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// syncRun is one call of Sync.
type syncRun struct {
	c     *Client
	sink  Sink
	opts  SyncOptions
	start time.Time

	resumed, incremental bool

	// mu guards what follows. It is held across every save, so checkpoints
	// reach the store in the order they were made: a later save never carries
	// an older picture of a slice than an earlier one.
	mu      sync.Mutex
	cp      checkpoint
	legacy  []string          // an older version's state names, unset by the first save
	pending []int             // slices no worker has started
	running map[int]*sliceRun // slices a worker is fetching
	stopped bool              // a worker failed: the others stop too
	// idle is where workers without a slice wait for one to become worth
	// splitting, or for the last slice to finish.
	idle                *sync.Cond
	disputes            map[string]int64 // dispute events handled by this run
	charges, events     int
	keys, pages         int
	eventsUnavailable   bool
	warned              map[string]bool
	requests0, retries0 int64
}

// load resumes the saved plan, or makes and saves a new one.
func (r *syncRun) load(ctx context.Context) error {
	cp, legacy, err := readCheckpoint(ctx, r.sink)
	if err != nil {
		return err
	}
	r.cp, r.legacy = cp, legacy
	if cp.Plan != nil {
		r.resumed, r.incremental = true, cp.Plan.Incremental
		return nil
	}
	last, err := r.sink.State(ctx, StateLastSync)
	if err != nil {
		return fmt.Errorf("read sync state: %w", err)
	}
	lastSync, _ := time.Parse(time.RFC3339, last) // unreadable: zero, the plan does without it
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cp.Plan = newPlan(cp, r.opts, r.start, lastSync)
	r.incremental = r.cp.Plan.Incremental
	if err := r.saveLocked(ctx, batch{}, nil); err != nil {
		return fmt.Errorf("save the sync plan: %w", err)
	}
	return nil
}

// saveLocked saves b with the checkpoint, and extra state, in one
// transaction; r.mu is held.
func (r *syncRun) saveLocked(ctx context.Context, b batch, extra map[string]string) error {
	state := map[string]string{stateCheckpoint: string(mustJSON(r.cp))}
	for _, name := range r.legacy {
		state[name] = ""
	}
	maps.Copy(state, extra)
	if err := r.sink.SaveSyncBatch(ctx, b.charges, b.keys, b.obs, state); err != nil {
		return err
	}
	r.legacy = nil
	return nil
}

// fetch runs the unfinished slices, opts.Concurrency workers per list. The
// first error stops the others; what they saved stays saved.
func (r *syncRun) fetch(ctx context.Context) error {
	// Charge and event slices alternate, so both lists finish together rather
	// than events trailing behind with too few slices to fill the rate.
	byKind := map[string][]int{}
	for i, s := range r.cp.Plan.Slices {
		if !s.Done {
			byKind[s.Kind] = append(byKind[s.Kind], i)
		}
	}
	for j := 0; j < max(len(byKind[kindCharges]), len(byKind[kindEvents])); j++ {
		for _, kind := range []string{kindCharges, kindEvents} {
			if j < len(byKind[kind]) {
				r.pending = append(r.pending, byKind[kind][j])
			}
		}
	}
	r.running = map[int]*sliceRun{}
	r.idle = sync.NewCond(&r.mu)
	g, ctx := errgroup.WithContext(ctx)
	for range r.opts.Concurrency * len(byKind) {
		g.Go(func() error {
			for {
				i, ok := r.nextSlice()
				if !ok {
					return nil
				}
				err := r.runSlice(ctx, i)
				r.release(i, err != nil)
				if err != nil {
					return err
				}
			}
		})
	}
	return g.Wait()
}

// sliceRun is what this run learned of a slice a worker is fetching, for
// deciding whether to split it.
type sliceRun struct {
	seen        int   // items accepted by this run
	top, bottom int64 // created of the newest and oldest of them
}

// minSplit is the least number of charges (or events) a slice must have left
// to be split for an idle worker. More than a page left takes two requests one
// after the other; split, the same two go side by side. Less than a page is
// one request either way, and a split would only add one.
const minSplit = pageSize * 3 / 2

// nextSlice hands a worker the next slice to fetch: a planned one, else half
// of the running slice with the most left. Without either it waits while
// other slices run (one may become worth splitting); false when none is left
// or the run stopped.
func (r *syncRun) nextSlice() (int, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		switch {
		case r.stopped:
			return 0, false
		case len(r.pending) > 0:
			i := r.pending[0]
			r.pending = r.pending[1:]
			r.running[i] = &sliceRun{}
			return i, true
		}
		if i, ok := r.splitLocked(); ok {
			r.running[i] = &sliceRun{}
			return i, true
		}
		if len(r.running) == 0 {
			return 0, false
		}
		r.idle.Wait()
	}
}

// release ends a worker's slice; failed stops the run.
func (r *syncRun) release(i int, failed bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.running, i)
	r.stopped = r.stopped || failed
	r.idle.Broadcast()
}

// splitLocked takes the older half of the running slice with the most left,
// as a new slice, so an idle worker shares the work instead of waiting for
// the slowest slice: every worker stays busy to the end of the sync. The
// remainder is estimated from what the slice has delivered so far, as if its
// items were spread over its range like those. The running slice learns of
// its new lower bound before its next page (see accept). r.mu is held.
func (r *syncRun) splitLocked() (int, bool) {
	best, most := -1, float64(minSplit)
	for i, run := range r.running {
		if run.seen == 0 || run.bottom-r.cp.Plan.Slices[i].Lo < 2 {
			continue
		}
		if left := r.leftLocked(i); left >= most {
			best, most = i, left
		}
	}
	if best < 0 {
		return 0, false
	}
	s := &r.cp.Plan.Slices[best]
	mid := s.Lo + (r.running[best].bottom-s.Lo)/2
	older := slice{sliceSpec: sliceSpec{Kind: s.Kind, Lo: s.Lo, Hi: mid}}
	s.Lo = mid
	r.cp.Plan.Slices = append(r.cp.Plan.Slices, older)
	return len(r.cp.Plan.Slices) - 1, true
}

// leftLocked estimates how many items slice i has left, as if those still
// to come were spread over its range like those it delivered so far;
// +Inf before its first page. r.mu is held.
func (r *syncRun) leftLocked(i int) float64 {
	run := r.running[i]
	if run == nil || run.seen == 0 {
		return math.Inf(1)
	}
	return float64(run.seen) * float64(max(run.bottom-r.cp.Plan.Slices[i].Lo, 0)) / float64(max(run.top-run.bottom, 1))
}

// runSlice pages through one slice, saving each page with the checkpoint.
// The next page is requested before the current one is decoded and saved, so
// the slice's chain of requests never waits for local work (which matters when
// the CPU is busy); what is saved, and so what a resume sees, stays in order.
func (r *syncRun) runSlice(ctx context.Context, i int) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // abandons a prefetch when the slice stops on an error
	r.mu.Lock()
	s := r.cp.Plan.Slices[i]
	r.mu.Unlock()
	next := r.prefetch(ctx, i, s.sliceSpec, s.After)
	progress := s.sliceProgress
	for !progress.Done {
		fetched := <-next
		if fetched.err != nil {
			if s.Kind == kindEvents && (errors.Is(fetched.err, ErrNotFound) || errors.Is(fetched.err, ErrPermission)) {
				return r.skipEvents(ctx, i, fetched.err)
			}
			return fmt.Errorf("sync %s: %w", s.Kind, fetched.err)
		}
		data, last, done, err := r.accept(i, fetched)
		if err != nil {
			return fmt.Errorf("sync %s: %w", s.Kind, err)
		}
		progress.Done = done
		if !done {
			if last.ID == progress.After {
				return fmt.Errorf("sync %s: %s sent the same page again after %s; it does not page like Stripe", s.Kind, r.c.APIBase(), last.ID)
			}
			next = r.prefetch(ctx, i, r.spec(i), last.ID)
		}
		var b batch
		switch s.Kind {
		case kindCharges:
			b, err = chargesBatch(data, fetched.page.served, r.opts.Now())
		default:
			b, err = r.eventsBatch(ctx, data)
		}
		if err != nil {
			return fmt.Errorf("sync %s: %w", s.Kind, err)
		}
		if n := len(data); n > 0 {
			progress.After = b.lastID
			progress.Newest = max(progress.Newest, b.newest)
			progress.Oldest = b.oldest
			progress.Fetched += n
		}
		if err := r.pageDone(ctx, i, progress, s.Kind, len(data), b); err != nil {
			return fmt.Errorf("save synced %s: %w", s.Kind, err)
		}
	}
	return nil
}

// spec is slice i's range now: a split may have raised its lower bound.
func (r *syncRun) spec(i int) sliceSpec {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cp.Plan.Slices[i].sliceSpec
}

// itemHead is what paging needs of a listed object.
type itemHead struct {
	ID      string `json:"id"`
	Created int64  `json:"created"`
}

func headOf(raw json.RawMessage) (itemHead, error) {
	var h itemHead
	if err := json.Unmarshal(raw, &h); err != nil || h.ID == "" {
		return itemHead{}, errors.New("the server sent an object without an id")
	}
	return h, nil
}

// accept takes the items of a fetched page that still belong to slice i (a
// prefix of the page), says whether the slice is done and returns the last
// item taken. A page requested before a split raised the slice's lower bound
// ends where the split-off slice begins: its older items are that slice's, so
// nothing is fetched twice. The oldest item taken is recorded in the same
// step, so a later split never cuts above it.
func (r *syncRun) accept(i int, fetched fetchedPage) (data []json.RawMessage, last itemHead, done bool, err error) {
	data = fetched.page.Data
	done = !fetched.page.HasMore || len(data) == 0
	if len(data) == 0 {
		return data, itemHead{}, done, nil
	}
	if last, err = headOf(data[len(data)-1]); err != nil {
		return nil, itemHead{}, false, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if lo := r.cp.Plan.Slices[i].Lo; lo > fetched.lo && last.Created < lo {
		// Pages list newest first: the split-off items are a suffix.
		var bad error
		keep := sort.Search(len(data), func(k int) bool {
			h, err := headOf(data[k])
			bad = cmp.Or(bad, err)
			return h.Created < lo
		})
		if bad != nil {
			return nil, itemHead{}, false, bad
		}
		data, done = data[:keep], true
		if keep == 0 {
			return data, itemHead{}, done, nil
		}
		if last, err = headOf(data[keep-1]); err != nil {
			return nil, itemHead{}, false, err
		}
	}
	if run := r.running[i]; run != nil {
		if run.seen == 0 {
			first, err := headOf(data[0])
			if err != nil {
				return nil, itemHead{}, false, err
			}
			run.top = first.Created
		}
		run.seen += len(data)
		run.bottom = last.Created
		r.idle.Broadcast()
	}
	if done {
		delete(r.running, i) // nothing left to split
	}
	return data, last, done, nil
}

type fetchedPage struct {
	page *rawPage
	lo   int64 // the lower bound it was requested with
	err  error
}

// prefetch requests a page of slice i in the background. Its turn at the
// pacer comes the sooner the more the slice has left: the slices with the
// longest chains of pages ahead go first, so all of them end together.
func (r *syncRun) prefetch(ctx context.Context, i int, spec sliceSpec, after string) <-chan fetchedPage {
	r.mu.Lock()
	ctx = withPriority(ctx, r.leftLocked(i))
	r.mu.Unlock()
	out := make(chan fetchedPage, 1)
	go func() {
		page, err := r.c.listPage(ctx, spec, after)
		out <- fetchedPage{page, spec.Lo, err}
	}()
	return out
}

// pageDone saves a page with slice i's new progress and reports it.
func (r *syncRun) pageDone(ctx context.Context, i int, progress sliceProgress, kind string, items int, b batch) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.setProgressLocked(ctx, i, progress, b); err != nil {
		return err
	}
	r.pages++
	r.keys += len(b.keys)
	if kind == kindCharges {
		r.charges += items
	} else {
		r.events += items
	}
	if r.opts.Progress != nil {
		r.opts.Progress(r.progressLocked())
	}
	return nil
}

// setProgressLocked saves b with slice i's new progress; on failure the
// checkpoint in memory stays as saved. r.mu is held.
func (r *syncRun) setProgressLocked(ctx context.Context, i int, progress sliceProgress, b batch) error {
	before := r.cp.Plan.Slices[i].sliceProgress
	r.cp.Plan.Slices[i].sliceProgress = progress
	if err := r.saveLocked(ctx, b, nil); err != nil {
		r.cp.Plan.Slices[i].sliceProgress = before
		return err
	}
	return nil
}

// skipEvents gives up on events for this sync: the server has no /v1/events or
// the key may not read them. Charges still sync; the next sync asks again.
func (r *syncRun) skipEvents(ctx context.Context, i int, cause error) error {
	r.warn("events", fmt.Sprintf("no events from %s (%v): idempotency keys from events and capture, refund and dispute updates are skipped this time", r.c.APIBase(), cause))
	r.mu.Lock()
	defer r.mu.Unlock()
	r.eventsUnavailable = true
	progress := r.cp.Plan.Slices[i].sliceProgress
	progress.Done = true
	if err := r.setProgressLocked(ctx, i, progress, batch{}); err != nil {
		return fmt.Errorf("save sync progress: %w", err)
	}
	return nil
}

func (r *syncRun) warn(topic, msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.warned[topic] {
		return
	}
	if r.warned == nil {
		r.warned = map[string]bool{}
	}
	r.warned[topic] = true
	if r.opts.Warn != nil {
		r.opts.Warn(msg)
	}
}

// finish records the completed sync: the high-water marks the next incremental
// sync starts from, the last sync time, and no plan in progress.
func (r *syncRun) finish(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	done := r.cp
	p := done.Plan
	done.Plan = nil
	var chargesNewest, eventsNewest int64
	hasEvents := false
	evFrom := p.Started
	for _, s := range p.Slices {
		if s.Kind == kindCharges {
			chargesNewest = max(chargesNewest, s.Newest)
		} else {
			hasEvents = true
			eventsNewest = max(eventsNewest, s.Newest)
			evFrom = min(evFrom, s.Lo)
		}
	}
	// With no charge at all, the start of the range stands in for the newest
	// one: the next sync looks again from there and costs one request.
	done.ChargesNewest = max(done.ChargesNewest, chargesNewest, p.ChargesFrom)
	if !p.Incremental {
		done.ChargesSince = p.ChargesFrom
	}
	if hasEvents && !r.eventsUnavailable {
		done.EventsNewest = max(done.EventsNewest, eventsNewest, evFrom)
		done.EventTypes = eventTypesList
		inOverlap := map[string]int64{}
		for _, m := range []map[string]int64{r.cp.DisputesSeen, r.disputes} {
			for id, created := range m {
				if created >= done.EventsNewest-int64(overlap/time.Second) {
					inOverlap[id] = created
				}
			}
		}
		done.DisputesSeen = inOverlap
	}
	saved := r.cp
	r.cp = done
	if err := r.saveLocked(ctx, batch{}, map[string]string{StateLastSync: r.start.UTC().Format(time.RFC3339)}); err != nil {
		r.cp = saved
		return fmt.Errorf("save the sync's completion: %w", err)
	}
	return nil
}

func (r *syncRun) result() SyncResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	return SyncResult{
		Charges: r.charges, Events: r.events, Keys: r.keys, Pages: r.pages,
		Requests:    int(r.c.requests.Load() - r.requests0),
		Retries:     int(r.c.retries.Load() - r.retries0),
		Elapsed:     time.Since(r.start),
		Incremental: r.incremental, Resumed: r.resumed, EventsSkipped: r.eventsUnavailable,
	}
}
