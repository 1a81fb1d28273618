package stripeapi

import (
	"context"
	"time"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// The sync is split by job: sync.go is its API and entry point, sync_plan.go
// decides what to fetch, sync_run.go runs the workers, sync_page.go pages
// through one list, sync_decode.go turns pages into store rows, sync_progress.go
// estimates how far it got, and sync_checkpoint.go is what it remembers between
// runs.

// Sink is where a sync puts what it fetched; *store.Store satisfies it.
type Sink interface {
	// SaveSyncBatch saves charges, key records, observations and sync state in one
	// transaction; a state value of "" unsets the name.
	SaveSyncBatch(ctx context.Context, charges []reconcile.Charge, keys []reconcile.KeyRecord, obs reconcile.Observations, state map[string]string) error
	// State reads one sync state value, "" when unset.
	State(ctx context.Context, name string) (string, error)
}

// StateLastSync is the sync state name of the last complete sync's start, an
// RFC 3339 UTC time, for the dashboard's header. The sync's own bookkeeping is
// one checkpoint (see stateCheckpoint).
const StateLastSync = "stripe.last_sync"

const (
	// DefaultSyncSpan is how far back a first sync goes without --since.
	DefaultSyncSpan = 90 * 24 * time.Hour
	// DefaultConcurrency is the least number of slices fetched at once.
	DefaultConcurrency = 8
	maxConcurrency     = 64
	// pageLatency is how long a worker takes per page of 100 objects, at the
	// slow end: Stripe's answer and the worker reading it before it asks for
	// the next. Keeping r requests per second in flight takes r × pageLatency
	// workers; with fewer, a turn the pacer offers finds nobody ready.
	pageLatency = time.Second
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
	// Now is the clock a charge's created time is checked against (a charge
	// from the future is refused); nil means time.Now.
	Now func() time.Time
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

// Sync pulls charges (and, unless opts.SkipEvents, charge events) into sink.
// The first sync backfills from opts.Since in time slices fetched concurrently
// under the rate limit; later syncs fetch only what is newer than the last one.
// Every page is saved with the sync's checkpoint in one transaction, so a sync
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
	if opts.Now == nil {
		opts.Now = time.Now
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
