package stripeapi

import (
	"math"
	"strconv"
	"time"
)

// newPlan slices the ranges a sync starting at start has to fetch: everything
// since opts.Since the first time (or when Since reaches further back than the
// last complete backfill), else only what is newer than the last complete sync
// that cp records (lastSync is when it started, zero when not known).
func newPlan(cp checkpoint, opts SyncOptions, start, lastSync time.Time) *plan {
	now := start.Unix()
	from := opts.Since.Unix()
	incremental := cp.ChargesNewest > 0 && cp.ChargesSince <= from
	// The span that may hold new objects decides how many slices are worth it:
	// for an incremental sync it runs from the last sync (the bounds themselves
	// come from the server's timestamps, so clock skew cannot open a gap).
	fresh := from
	if incremental {
		from = cp.ChargesNewest - int64(overlap/time.Second)
		fresh = from
		if !lastSync.IsZero() {
			fresh = max(from, lastSync.Unix())
		}
	}
	p := &plan{ID: strconv.FormatInt(start.UnixNano(), 36), Started: now, ChargesFrom: from, Incremental: incremental}
	p.Slices = split(kindCharges, from, now, sliceCount(fresh, now, opts.Concurrency))
	if opts.SkipEvents {
		return p
	}
	retained := start.Add(-eventRetention).Unix()
	eventsFrom := max(opts.Since.Unix(), retained)
	evNewest := cp.EventsNewest
	if cp.EventTypes != eventTypesList {
		evNewest = 0 // read before with fewer types: read it all again
	}
	evFresh := eventsFrom
	if evNewest > 0 {
		eventsFrom = max(evNewest-int64(overlap/time.Second), retained)
		evFresh = max(eventsFrom, fresh)
	}
	p.Slices = append(p.Slices, split(kindEvents, eventsFrom, now, sliceCount(evFresh, now, opts.Concurrency))...)
	return p
}

// autoConcurrency is the number of workers that keeps rate requests per second
// in flight when each takes pageLatency: 10 and 20 at the default rates, 25 at 25/s,
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
func split(kind string, from, now int64, n int) []slice {
	span := max(now-from, 1)
	slices := make([]slice, n)
	for i := range slices {
		slices[i].sliceSpec = sliceSpec{Kind: kind, Lo: from + span*int64(i)/int64(n), Hi: from + span*int64(i+1)/int64(n)}
	}
	slices[n-1].Hi = 0
	return slices
}
