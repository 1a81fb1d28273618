package stripeapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
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
	mu                  sync.Mutex
	cp                  checkpoint
	legacy              []string         // an older version's state names, unset by the first save
	pending             []int            // slices no worker has started
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
	g, ctx := errgroup.WithContext(ctx)
	for range min(r.opts.Concurrency*len(byKind), len(r.pending)) {
		g.Go(func() error {
			for {
				i, ok := r.nextSlice()
				if !ok {
					return nil
				}
				if err := r.runSlice(ctx, i); err != nil {
					return err
				}
			}
		})
	}
	return g.Wait()
}

// nextSlice hands a worker the next slice to fetch; false when none is left.
func (r *syncRun) nextSlice() (int, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.pending) == 0 {
		return 0, false
	}
	i := r.pending[0]
	r.pending = r.pending[1:]
	return i, true
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
	spec := s.sliceSpec
	next := r.prefetch(ctx, spec, s.After)
	for !s.Done {
		fetched := <-next
		page, err := fetched.page, fetched.err
		if err != nil {
			if spec.Kind == kindEvents && (errors.Is(err, ErrNotFound) || errors.Is(err, ErrPermission)) {
				return r.skipEvents(ctx, i, err)
			}
			return fmt.Errorf("sync %s: %w", spec.Kind, err)
		}
		s.Done = !page.HasMore || len(page.Data) == 0
		if !s.Done {
			var last struct {
				ID string `json:"id"`
			}
			if err := json.Unmarshal(page.Data[len(page.Data)-1], &last); err != nil || last.ID == "" {
				return fmt.Errorf("sync %s: the server sent an object without an id", spec.Kind)
			}
			if last.ID == s.After {
				return fmt.Errorf("sync %s: %s sent the same page again after %s; it does not page like Stripe", spec.Kind, r.c.APIBase(), last.ID)
			}
			next = r.prefetch(ctx, spec, last.ID)
		}
		var b batch
		switch spec.Kind {
		case kindCharges:
			b, err = chargesBatch(page.Data, page.served)
		default:
			b, err = r.eventsBatch(ctx, page.Data)
		}
		if err != nil {
			return fmt.Errorf("sync %s: %w", spec.Kind, err)
		}
		if n := len(page.Data); n > 0 {
			s.After = b.lastID
			s.Newest = max(s.Newest, b.newest)
			s.Oldest = b.oldest
			s.Fetched += n
		}
		if err := r.pageDone(ctx, i, s.sliceProgress, spec.Kind, len(page.Data), b); err != nil {
			return fmt.Errorf("save synced %s: %w", spec.Kind, err)
		}
	}
	return nil
}

type fetchedPage struct {
	page *rawPage
	err  error
}

// prefetch requests a page in the background.
func (r *syncRun) prefetch(ctx context.Context, spec sliceSpec, after string) <-chan fetchedPage {
	out := make(chan fetchedPage, 1)
	go func() {
		page, err := r.c.listPage(ctx, spec, after)
		out <- fetchedPage{page, err}
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
