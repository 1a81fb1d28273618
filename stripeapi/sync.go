package stripeapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	stripe "github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/form"

	"doublecheck/reconcile"
)

// Sink is where a sync puts what it fetched; *store.Store satisfies it.
type Sink interface {
	// SaveSyncBatch saves charges, key records, observations and sync state in one
	// transaction; a state value of "" unsets the name.
	SaveSyncBatch(ctx context.Context, charges []reconcile.Charge, keys []reconcile.KeyRecord, obs reconcile.Observations, state map[string]string) error
	// State reads one sync state value, "" when unset.
	State(ctx context.Context, name string) (string, error)
}

// Sync state names. StateLastSync is an RFC 3339 UTC time, for the dashboard's
// header; the rest is the sync's own bookkeeping.
const (
	StateLastSync = "stripe.last_sync"

	statePlan          = "stripe.sync.plan"            // the sync in progress (JSON plan); "" when none
	stateSlicePrefix   = "stripe.sync.slice."          // + index: one slice's progress (JSON sliceState)
	stateChargesNewest = "stripe.charges.newest"       // created (unix) of the newest charge of the last complete sync
	stateChargesSince  = "stripe.charges.since"        // created (unix) from which a complete backfill holds every charge
	stateEventsNewest  = "stripe.events.newest"        // created (unix) of the newest event of the last complete sync
	stateDisputesSeen  = "stripe.events.disputes_seen" // dispute events in the overlap already handled (JSON id → created)
	stateEventTypes    = "stripe.events.types"         // the event types the last complete sync read, comma-separated
)

const (
	// DefaultSyncSpan is how far back a first sync goes without --since.
	DefaultSyncSpan = 90 * 24 * time.Hour
	// DefaultConcurrency is the least number of slices fetched at once.
	DefaultConcurrency = 8
	maxConcurrency     = 64
	// pageLatency is how long Stripe takes for a page of 100 objects, at the
	// slow end: a worker waits that long per request, so keeping r requests per
	// second in flight takes r × pageLatency workers.
	pageLatency = 750 * time.Millisecond
	// eventRetention is how long Stripe keeps events.
	eventRetention = 30 * 24 * time.Hour
	// overlap is how far before the last high-water mark an incremental sync
	// starts: charges created in the same seconds as the newest one may have
	// become visible only after it was listed. The store's upsert absorbs the
	// repeats.
	overlap = 2 * time.Minute
	// minSliceSpan keeps short ranges (an incremental sync) in one slice, so a
	// sync with nothing new costs one request per list.
	minSliceSpan = 6 * time.Hour
	pageSize     = 100
)

// Kinds of list a slice pages through.
const (
	kindCharges = "charges"
	kindEvents  = "events"
)

// The event types sync reads.
const (
	eventChargeSucceeded = "charge.succeeded"
	eventChargeFailed    = "charge.failed"
	eventChargeRefunded  = "charge.refunded"
	eventChargeCaptured  = "charge.captured"
	eventDisputeCreated  = "charge.dispute.created"
	// The request that created a PaymentIntent: with Stripe.js the charge's
	// own event is the browser's confirmation, and this is the server's call.
	eventIntentCreated = "payment_intent.created"
	// A completed Checkout Session: its client_reference_id names the cart.
	eventCheckoutCompleted = "checkout.session.completed"
)

// SyncOptions tune a sync. The zero value is a sensible sync.
type SyncOptions struct {
	// Since is the oldest creation time a first (or widened) backfill fetches;
	// zero means 90 days ago. Later syncs fetch only what is new.
	Since time.Time
	// Concurrency is the number of time slices of each list (charges, events)
	// fetched at once; 0 means enough to keep the rate busy (see
	// autoConcurrency), at least 8.
	Concurrency int
	// Rate is the client-side request budget per second; 0 means 10 in test
	// mode and 20 in live mode.
	Rate float64
	// SkipEvents fetches charges only: no idempotency keys from events and no
	// capture, refund or dispute updates from them.
	SkipEvents bool
	// Progress, when set, is called after every page, never concurrently.
	Progress func(SyncProgress)
	// Warn, when set, receives problems that do not stop the sync, once each.
	Warn func(string)
}

// SyncProgress is a snapshot of a running sync.
type SyncProgress struct {
	Charges  int     // charges fetched by this run
	Events   int     // events read by this run
	Pages    int     // pages fetched by this run
	Requests int     // HTTP requests sent, retries included
	Retries  int     // requests that were retries (429, 5xx, network)
	Rate     float64 // charges per second so far
	Elapsed  time.Duration
	// EstimatedTotal is the estimated number of charges in the whole sync
	// (including those fetched before a resume); 0 until it can be estimated.
	EstimatedTotal int
	Fraction       float64       // share of the charges fetched, 0..1; 0 when unknown
	ETA            time.Duration // estimated time left; 0 when unknown
}

// SyncResult says what a sync did.
type SyncResult struct {
	Charges, Events, Keys, Pages, Requests, Retries int
	Elapsed                                         time.Duration
	Incremental                                     bool // only what was new since the last complete sync
	Resumed                                         bool // continued an interrupted sync
	EventsSkipped                                   bool // the server has no events (or the key may not read them)
}

// plan is a sync in progress: its slices, saved before any fetch so that an
// interrupted sync resumes exactly where it was.
type plan struct {
	ID          string      `json:"id"` // ties slice states to this plan
	Started     int64       `json:"started"`
	ChargesFrom int64       `json:"charges_from"`
	Incremental bool        `json:"incremental"`
	Slices      []sliceSpec `json:"slices"`
}

// sliceSpec is a range of creation times of one list: created >= Lo and, when
// Hi is set, created < Hi. The newest slice is open-ended, so charges created
// during the sync are caught now or by the next one.
type sliceSpec struct {
	Kind string `json:"kind"`
	Lo   int64  `json:"lo"`
	Hi   int64  `json:"hi,omitempty"`
}

// sliceState is one slice's progress, saved with every page it fetched. Pages
// come newest first, so After (Stripe's starting_after cursor) is where the
// next page starts.
type sliceState struct {
	Plan    string `json:"plan"`
	After   string `json:"after,omitempty"`
	Newest  int64  `json:"newest,omitempty"`
	Oldest  int64  `json:"oldest,omitempty"`
	Fetched int    `json:"fetched,omitempty"`
	Done    bool   `json:"done,omitempty"`
}

// Sync pulls charges (and, unless opts.SkipEvents, charge events) into sink.
// The first sync backfills from opts.Since in time slices fetched concurrently
// under the rate limit; later syncs fetch only what is newer than the last one.
// Every page is saved with its slice's progress in one transaction, so a sync
// that is cancelled or killed continues from there and still ends with exactly
// the server's charges.
func (c *Client) Sync(ctx context.Context, sink Sink, opts SyncOptions) (SyncResult, error) {
	c.syncMu.Lock()
	defer c.syncMu.Unlock()
	start := time.Now()
	if opts.Rate <= 0 {
		opts.Rate = DefaultTestRate
		if c.key.Live {
			opts.Rate = DefaultLiveRate
		}
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = autoConcurrency(opts.Rate)
	}
	c.SetRate(opts.Rate)
	if opts.Since.IsZero() {
		opts.Since = start.Add(-DefaultSyncSpan)
	}

	run := &syncRun{c: c, sink: sink, opts: opts, start: start,
		requests0: c.requests.Load(), retries0: c.retries.Load()}
	if err := run.load(ctx); err != nil {
		return SyncResult{}, err
	}
	if err := run.fetch(ctx); err != nil {
		return run.result(), err
	}
	if err := run.finish(ctx); err != nil {
		return run.result(), err
	}
	return run.result(), nil
}

// syncRun is one call of Sync.
type syncRun struct {
	c     *Client
	sink  Sink
	opts  SyncOptions
	start time.Time

	plan    plan
	resumed bool

	// disputesSeen are the dispute events the last complete sync handled within
	// the overlap: re-reading them must not cost a charge fetch each time.
	disputesSeen map[string]int64

	mu                  sync.Mutex // guards what follows
	states              []sliceState
	disputes            map[string]int64 // dispute events handled by this run
	charges, events     int
	keys, pages         int
	eventsUnavailable   bool
	warned              map[string]bool
	requests0, retries0 int64
}

// load resumes the saved plan, or makes and saves a new one.
func (r *syncRun) load(ctx context.Context) error {
	seen, err := r.sink.State(ctx, stateDisputesSeen)
	if err != nil {
		return fmt.Errorf("read the sync progress: %w", err)
	}
	_ = json.Unmarshal([]byte(seen), &r.disputesSeen) // unreadable: at worst a few charges are fetched again
	saved, err := r.sink.State(ctx, statePlan)
	if err != nil {
		return fmt.Errorf("read the sync progress: %w", err)
	}
	if saved != "" && json.Unmarshal([]byte(saved), &r.plan) == nil && r.plan.ID != "" {
		r.resumed = true
		r.states = make([]sliceState, len(r.plan.Slices))
		for i := range r.plan.Slices {
			v, err := r.sink.State(ctx, sliceKey(i))
			if err != nil {
				return fmt.Errorf("read the sync progress: %w", err)
			}
			var st sliceState
			if json.Unmarshal([]byte(v), &st) == nil && st.Plan == r.plan.ID {
				r.states[i] = st
			} else {
				r.states[i] = sliceState{Plan: r.plan.ID}
			}
		}
		return nil
	}
	if err := r.newPlan(ctx); err != nil {
		return err
	}
	state := map[string]string{statePlan: string(mustJSON(r.plan))}
	if err := r.sink.SaveSyncBatch(ctx, nil, nil, reconcile.Observations{}, state); err != nil {
		return fmt.Errorf("save the sync plan: %w", err)
	}
	return nil
}

// newPlan slices the ranges this sync has to fetch: everything since
// opts.Since the first time (or when Since reaches further back than the last
// complete backfill), else only what is newer than the last complete sync.
func (r *syncRun) newPlan(ctx context.Context) error {
	newest, err := r.unixState(ctx, stateChargesNewest)
	if err != nil {
		return err
	}
	since, err := r.unixState(ctx, stateChargesSince)
	if err != nil {
		return err
	}
	lastSync, err := r.sink.State(ctx, StateLastSync)
	if err != nil {
		return fmt.Errorf("read sync state: %w", err)
	}
	now := r.start.Unix()
	from := r.opts.Since.Unix()
	incremental := newest > 0 && since <= from
	// The span that may hold new objects decides how many slices are worth it:
	// for an incremental sync it runs from the last sync (the bounds themselves
	// come from the server's timestamps, so clock skew cannot open a gap).
	fresh := from
	if incremental {
		from = newest - int64(overlap/time.Second)
		fresh = from
		if t, err := time.Parse(time.RFC3339, lastSync); err == nil {
			fresh = max(from, t.Unix())
		}
	}
	n := sliceCount(fresh, now, r.opts.Concurrency)
	r.plan = plan{ID: strconv.FormatInt(r.start.UnixNano(), 36), Started: now, ChargesFrom: from, Incremental: incremental}
	r.plan.Slices = split(kindCharges, from, now, n)
	if !r.opts.SkipEvents {
		eventsFrom := max(r.opts.Since.Unix(), r.start.Add(-eventRetention).Unix())
		evNewest, err := r.unixState(ctx, stateEventsNewest)
		if err != nil {
			return err
		}
		types, err := r.sink.State(ctx, stateEventTypes)
		if err != nil {
			return err
		}
		if types != strings.Join(eventTypes, ",") {
			evNewest = 0 // read before with fewer types: read it all again
		}
		evFresh := eventsFrom
		if evNewest > 0 {
			eventsFrom = max(evNewest-int64(overlap/time.Second), r.start.Add(-eventRetention).Unix())
			evFresh = max(eventsFrom, fresh)
		}
		r.plan.Slices = append(r.plan.Slices, split(kindEvents, eventsFrom, now, sliceCount(evFresh, now, r.opts.Concurrency))...)
	}
	r.states = make([]sliceState, len(r.plan.Slices))
	for i := range r.states {
		r.states[i].Plan = r.plan.ID
	}
	return nil
}

// autoConcurrency is the number of workers that keeps rate requests per second
// in flight when each takes pageLatency: 8 at the default rates, 19 at 25/s,
// and never more than maxConcurrency (every slice costs a partial page).
func autoConcurrency(rate float64) int {
	return min(maxConcurrency, max(DefaultConcurrency, int(math.Ceil(rate*pageLatency.Seconds()))))
}

// sliceCount is how many slices [from, now) is worth: at most workers, each at
// least minSliceSpan long.
func sliceCount(from, now int64, workers int) int {
	perSlice := int64(minSliceSpan / time.Second)
	return int(max(min(int64(workers), (now-from+perSlice-1)/perSlice), 1))
}

// split cuts [from, now) into n slices of equal time; the last is open-ended.
func split(kind string, from, now int64, n int) []sliceSpec {
	span := max(now-from, 1)
	slices := make([]sliceSpec, n)
	for i := range slices {
		slices[i] = sliceSpec{Kind: kind, Lo: from + span*int64(i)/int64(n), Hi: from + span*int64(i+1)/int64(n)}
	}
	slices[n-1].Hi = 0
	return slices
}

// fetch runs the unfinished slices, opts.Concurrency workers per list. The
// first error stops the others; what they saved stays saved.
func (r *syncRun) fetch(ctx context.Context) error {
	// Charge and event slices alternate, so both lists finish together rather
	// than events trailing behind with too few slices to fill the rate.
	byKind := map[string][]int{}
	for i, st := range r.states {
		if !st.Done {
			kind := r.plan.Slices[i].Kind
			byKind[kind] = append(byKind[kind], i)
		}
	}
	queue := make(chan int, len(r.plan.Slices))
	for j := 0; j < max(len(byKind[kindCharges]), len(byKind[kindEvents])); j++ {
		for _, kind := range []string{kindCharges, kindEvents} {
			if j < len(byKind[kind]) {
				queue <- byKind[kind][j]
			}
		}
	}
	close(queue)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	for range min(r.opts.Concurrency*len(byKind), len(queue)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range queue {
				if err := r.runSlice(ctx, i); err != nil {
					errOnce.Do(func() { firstErr = err; cancel() })
					return
				}
			}
		}()
	}
	wg.Wait()
	return firstErr
}

// runSlice pages through one slice, saving each page with the slice's progress.
// The next page is requested before the current one is decoded and saved, so
// the slice's chain of requests never waits for local work (which matters when
// the CPU is busy); what is saved, and so what a resume sees, stays in order.
func (r *syncRun) runSlice(ctx context.Context, i int) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // abandons a prefetch when the slice stops on an error
	spec := r.plan.Slices[i]
	r.mu.Lock()
	st := r.states[i]
	r.mu.Unlock()
	next := r.prefetch(ctx, spec, st.After)
	for !st.Done {
		fetched := <-next
		page, err := fetched.page, fetched.err
		if err != nil {
			if spec.Kind == kindEvents && (errors.Is(err, ErrNotFound) || errors.Is(err, ErrPermission)) {
				return r.skipEvents(ctx, i, err)
			}
			return fmt.Errorf("sync %s: %w", spec.Kind, err)
		}
		st.Done = !page.HasMore || len(page.Data) == 0
		if !st.Done {
			var last struct {
				ID string `json:"id"`
			}
			if err := json.Unmarshal(page.Data[len(page.Data)-1], &last); err != nil || last.ID == "" {
				return fmt.Errorf("sync %s: the server sent an object without an id", spec.Kind)
			}
			if last.ID == st.After {
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
			st.After = b.lastID
			st.Newest = max(st.Newest, b.newest)
			st.Oldest = b.oldest
			st.Fetched += n
		}
		state := map[string]string{sliceKey(i): string(mustJSON(st))}
		if err := r.sink.SaveSyncBatch(ctx, b.charges, b.keys, b.obs, state); err != nil {
			return fmt.Errorf("save synced %s: %w", spec.Kind, err)
		}
		r.pageDone(i, st, spec.Kind, len(page.Data), len(b.keys))
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

// skipEvents gives up on events for this sync: the server has no /v1/events or
// the key may not read them. Charges still sync; the next sync asks again.
func (r *syncRun) skipEvents(ctx context.Context, i int, cause error) error {
	r.warn("events", fmt.Sprintf("no events from %s (%v): idempotency keys from events and capture, refund and dispute updates are skipped this time", r.c.APIBase(), cause))
	r.mu.Lock()
	r.eventsUnavailable = true
	st := r.states[i]
	r.mu.Unlock()
	st.Done = true
	if err := r.sink.SaveSyncBatch(ctx, nil, nil, reconcile.Observations{}, map[string]string{sliceKey(i): string(mustJSON(st))}); err != nil {
		return fmt.Errorf("save sync progress: %w", err)
	}
	r.mu.Lock()
	r.states[i] = st
	r.mu.Unlock()
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

// pageDone records a saved page and reports progress.
func (r *syncRun) pageDone(i int, st sliceState, kind string, items, keys int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.states[i] = st
	r.pages++
	r.keys += keys
	if kind == kindCharges {
		r.charges += items
	} else {
		r.events += items
	}
	if r.opts.Progress != nil {
		r.opts.Progress(r.progress())
	}
}

// progress is a snapshot; r.mu is held. The estimate assumes each slice's
// charges are spread over its time range like the ones already fetched.
func (r *syncRun) progress() SyncProgress {
	elapsed := time.Since(r.start)
	p := SyncProgress{
		Charges: r.charges, Events: r.events, Pages: r.pages,
		Requests: int(r.c.requests.Load() - r.requests0), Retries: int(r.c.retries.Load() - r.retries0),
		Elapsed: elapsed,
	}
	if elapsed > 0 {
		p.Rate = float64(r.charges) / elapsed.Seconds()
	}
	var fetched, covered, unknownSpan int64
	var remaining float64
	for i, spec := range r.plan.Slices {
		st := r.states[i]
		if spec.Kind != kindCharges {
			continue
		}
		fetched += int64(st.Fetched)
		hi := spec.Hi
		if hi == 0 {
			hi = r.plan.Started
		}
		switch {
		case st.Done:
			covered += max(hi-spec.Lo, 0)
		case st.Fetched > 0:
			seen := max(hi-st.Oldest, 1)
			covered += seen
			remaining += float64(st.Fetched) * float64(max(st.Oldest-spec.Lo, 0)) / float64(seen)
		default:
			unknownSpan += max(hi-spec.Lo, 0)
		}
	}
	if covered == 0 || fetched == 0 {
		return p
	}
	remaining += float64(fetched) * float64(unknownSpan) / float64(covered)
	p.EstimatedTotal = int(fetched) + int(remaining+0.5)
	p.Fraction = float64(fetched) / float64(p.EstimatedTotal)
	if p.Rate > 0 {
		p.ETA = time.Duration(remaining / p.Rate * float64(time.Second))
	}
	return p
}

// finish records the completed sync: the high-water marks the next incremental
// sync starts from, the last sync time, and no plan in progress.
func (r *syncRun) finish(ctx context.Context) error {
	state := map[string]string{statePlan: "", StateLastSync: r.start.UTC().Format(time.RFC3339)}
	var chargesNewest, eventsNewest int64
	hasEvents := false
	for i, spec := range r.plan.Slices {
		state[sliceKey(i)] = ""
		if spec.Kind == kindCharges {
			chargesNewest = max(chargesNewest, r.states[i].Newest)
		} else {
			hasEvents = true
			eventsNewest = max(eventsNewest, r.states[i].Newest)
		}
	}
	prev, err := r.unixState(ctx, stateChargesNewest)
	if err != nil {
		return err
	}
	// With no charge at all, the start of the range stands in for the newest
	// one: the next sync looks again from there and costs one request.
	state[stateChargesNewest] = strconv.FormatInt(max(prev, chargesNewest, r.plan.ChargesFrom), 10)
	if !r.plan.Incremental {
		state[stateChargesSince] = strconv.FormatInt(r.plan.ChargesFrom, 10)
	}
	if hasEvents && !r.eventsUnavailable {
		prevEv, err := r.unixState(ctx, stateEventsNewest)
		if err != nil {
			return err
		}
		evFrom := r.plan.Slices[len(r.plan.Slices)-1].Lo
		for _, s := range r.plan.Slices {
			if s.Kind == kindEvents {
				evFrom = min(evFrom, s.Lo)
			}
		}
		evNewest := max(prevEv, eventsNewest, evFrom)
		state[stateEventsNewest] = strconv.FormatInt(evNewest, 10)
		state[stateEventTypes] = strings.Join(eventTypes, ",")
		inOverlap := map[string]int64{}
		for _, m := range []map[string]int64{r.disputesSeen, r.disputes} {
			for id, created := range m {
				if created >= evNewest-int64(overlap/time.Second) {
					inOverlap[id] = created
				}
			}
		}
		state[stateDisputesSeen] = string(mustJSON(inOverlap))
	}
	if err := r.sink.SaveSyncBatch(ctx, nil, nil, reconcile.Observations{}, state); err != nil {
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
		Incremental: r.plan.Incremental, Resumed: r.resumed, EventsSkipped: r.eventsUnavailable,
	}
}

func (r *syncRun) unixState(ctx context.Context, name string) (int64, error) {
	v, err := r.sink.State(ctx, name)
	if err != nil {
		return 0, fmt.Errorf("read sync state %s: %w", name, err)
	}
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, nil // unreadable bookkeeping: behave as if never synced (a full, idempotent backfill)
	}
	return n, nil
}

func sliceKey(i int) string { return stateSlicePrefix + strconv.Itoa(i) }

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("stripeapi: marshal %T: %v", v, err)) // plain structs of strings and numbers
	}
	return b
}

// rawPage is one page of a Stripe list with its items kept as JSON, so each
// charge is stored exactly as Stripe sent it.
type rawPage struct {
	Data    []json.RawMessage `json:"data"`
	HasMore bool              `json:"has_more"`
	served  time.Time         // when the server answered, by its own clock
}

func (p *rawPage) SetLastResponse(resp *stripe.APIResponse) { p.served = servedAt(resp) }

// servedAt is the server's Date header: list pages are then observed on the
// same clock as the events' created times, so the store's newest-wins rule
// orders them without trusting the local clock. Without the header, it is now.
func servedAt(resp *stripe.APIResponse) time.Time {
	if resp != nil {
		if t, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
			return t.UTC()
		}
	}
	return time.Now().UTC()
}

// listPage fetches one page of a slice, newest first, with stripe-go's list
// parameters and form encoding (as its list iterators do).
func (c *Client) listPage(ctx context.Context, spec sliceSpec, after string) (*rawPage, error) {
	list := stripe.ListParams{Context: ctx, Limit: stripe.Int64(pageSize)}
	if after != "" {
		list.StartingAfter = stripe.String(after)
	}
	created := &stripe.RangeQueryParams{GreaterThanOrEqual: spec.Lo, LesserThan: spec.Hi}
	var (
		params stripe.ListParamsContainer
		path   string
	)
	switch spec.Kind {
	case kindCharges:
		params, path = &stripe.ChargeListParams{ListParams: list, CreatedRange: created}, "/v1/charges"
	default:
		params, path = &stripe.EventListParams{ListParams: list, CreatedRange: created, Types: stripe.StringSlice(eventTypes)}, "/v1/events"
	}
	query := &form.Values{}
	form.AppendTo(query, params)
	page := &rawPage{}
	err := c.call(ctx, func() error {
		*page = rawPage{}
		return c.backend.CallRaw(http.MethodGet, path, c.key.Secret, query, params.GetListParams().GetParams(), page)
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", spec.Kind, err)
	}
	return page, nil
}

// eventTypes are the events sync reads. A store whose last sync read other
// types reads the whole 30 days again, so the new kinds of evidence reach
// every charge Stripe still has events for.
var eventTypes = []string{eventChargeSucceeded, eventChargeFailed, eventChargeCaptured, eventChargeRefunded,
	eventDisputeCreated, eventIntentCreated, eventCheckoutCompleted}

// batch is what one page turns into.
type batch struct {
	charges        []reconcile.Charge
	keys           []reconcile.KeyRecord
	obs            reconcile.Observations
	lastID         string
	newest, oldest int64
}

func (b *batch) saw(id string, created int64) {
	if b.lastID == "" {
		b.newest, b.oldest = created, created
	}
	b.lastID = id
	b.newest, b.oldest = max(b.newest, created), min(b.oldest, created)
}

func chargesBatch(items []json.RawMessage, fetchedAt time.Time) (batch, error) {
	b := batch{charges: make([]reconcile.Charge, 0, len(items))}
	for _, raw := range items {
		ch, err := decodeCharge(raw, fetchedAt)
		if err != nil {
			return batch{}, fmt.Errorf("the server sent %w", err)
		}
		b.charges = append(b.charges, ch)
		b.saw(ch.ID, ch.Created.Unix())
	}
	return b, nil
}

// eventsBatch turns events into key records and charge updates. A
// charge.succeeded or charge.failed event's request.idempotency_key is the key
// the application sent when it created the charge (a charge.captured or
// charge.refunded event's key belongs to the capture or refund request, so it is
// not one). Capture and refund events are how a change to an old charge arrives:
// incremental syncs list only new charges, so an authorisation captured later
// would otherwise stay uncaptured in the store. Charge objects in events are
// saved as observed at the event's time, so the store's newest-wins rule keeps a
// later list or event from being overwritten. A dispute event carries
// the dispute, not the charge: the charge is fetched again (one request per
// dispute, which are rare) so its stored state is Stripe's own, not a guess.
func (r *syncRun) eventsBatch(ctx context.Context, items []json.RawMessage) (batch, error) {
	var (
		b        batch
		disputes []disputeEvent
	)
	for _, raw := range items {
		var ev stripe.Event
		if err := json.Unmarshal(raw, &ev); err != nil {
			return batch{}, fmt.Errorf("the server sent an unreadable event: %w", err)
		}
		b.saw(ev.ID, ev.Created)
		if ev.Data == nil {
			continue
		}
		observed := time.Unix(ev.Created, 0).UTC()
		switch ev.Type {
		case eventChargeSucceeded, eventChargeFailed, eventChargeCaptured, eventChargeRefunded:
			ch, err := decodeCharge(ev.Data.Raw, observed)
			if err != nil {
				return batch{}, fmt.Errorf("event %s (%s): %w", ev.ID, ev.Type, err)
			}
			b.charges = append(b.charges, ch)
			createdByRequest := ev.Type == eventChargeSucceeded || ev.Type == eventChargeFailed
			if createdByRequest && ev.Request != nil && ev.Request.IdempotencyKey != "" {
				b.keys = append(b.keys, reconcile.KeyRecord{Key: ev.Request.IdempotencyKey, ChargeID: ch.ID,
					Sources: []string{reconcile.SourceEvent}, SeenAt: observed})
			}
			if createdByRequest {
				b.seeRequest(&ev, ch.ID, observed)
			}
		case eventIntentCreated:
			var pi struct {
				ID string `json:"id"`
			}
			if err := json.Unmarshal(ev.Data.Raw, &pi); err != nil || pi.ID == "" {
				return batch{}, fmt.Errorf("event %s (%s): not a PaymentIntent: %v", ev.ID, ev.Type, err)
			}
			b.seeRequest(&ev, pi.ID, observed)
		case eventCheckoutCompleted:
			var cs stripe.CheckoutSession
			if err := json.Unmarshal(ev.Data.Raw, &cs); err != nil || cs.ID == "" {
				return batch{}, fmt.Errorf("event %s (%s): not a Checkout Session: %v", ev.ID, ev.Type, err)
			}
			if cs.PaymentIntent == nil || cs.PaymentIntent.ID == "" {
				continue // a subscription or setup session: no payment of its own
			}
			b.obs.Checkouts = append(b.obs.Checkouts, reconcile.CheckoutRecord{Session: cs.ID, PaymentIntent: cs.PaymentIntent.ID,
				ClientReferenceID: cs.ClientReferenceID, Metadata: cs.Metadata, CompletedAt: observed})
		case eventDisputeCreated:
			var d stripe.Dispute
			if err := json.Unmarshal(ev.Data.Raw, &d); err != nil {
				return batch{}, fmt.Errorf("event %s (%s): %w", ev.ID, ev.Type, err)
			}
			if _, seen := r.disputesSeen[ev.ID]; seen || d.Charge == nil || d.Charge.ID == "" {
				continue
			}
			disputes = append(disputes, disputeEvent{id: ev.ID, created: ev.Created, charge: d.Charge.ID})
		}
	}
	charges, err := r.disputedCharges(ctx, disputes)
	if err != nil {
		return batch{}, err
	}
	b.charges = append(b.charges, charges...)
	return b, nil
}

// seeRequest records what the event says about the API request that created
// object: its key, or that it carried none. An event with no request id was
// not caused by an API request (Stripe made the object itself, as for an
// invoice's charge), so it says nothing about keys.
func (b *batch) seeRequest(ev *stripe.Event, object string, at time.Time) {
	if ev.Request == nil || ev.Request.ID == "" {
		return
	}
	b.obs.Requests = append(b.obs.Requests, reconcile.RequestRecord{Object: object, Key: ev.Request.IdempotencyKey, SeenAt: at})
}

type disputeEvent struct {
	id      string
	created int64
	charge  string
}

// disputedCharges fetches the charges of a page's dispute events, all at once
// (the limiter still spaces them), so a page full of disputes costs one round
// trip of waiting rather than one per dispute.
func (r *syncRun) disputedCharges(ctx context.Context, disputes []disputeEvent) ([]reconcile.Charge, error) {
	charges := make([]reconcile.Charge, len(disputes))
	errs := make([]error, len(disputes))
	var wg sync.WaitGroup
	for i, d := range disputes {
		wg.Go(func() {
			ch, err := r.c.getCharge(ctx, d.charge)
			if err != nil {
				errs[i] = fmt.Errorf("event %s (%s): %w", d.id, eventDisputeCreated, err)
				return
			}
			c := chargeFromStripe(ch, nil, servedAt(ch.LastResponse))
			// Checked as every charge that comes in is: an impossible one
			// would count in the money at risk.
			if err := reconcile.ValidateCharge(c, time.Now()); err != nil {
				errs[i] = fmt.Errorf("event %s (%s): the server sent %w", d.id, eventDisputeCreated, err)
				return
			}
			charges[i] = c
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err // the first is enough: the sync stops and resumes from here
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.disputes == nil {
		r.disputes = map[string]int64{}
	}
	for _, d := range disputes {
		r.disputes[d.id] = d.created
	}
	return charges, nil
}
