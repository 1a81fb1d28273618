package stripeapi

import "time"

// progressLocked is a snapshot; r.mu is held. The estimate assumes each
// slice's charges are spread over its time range like the ones already fetched.
func (r *syncRun) progressLocked() SyncProgress {
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
	for _, s := range r.cp.Plan.Slices {
		if s.Kind != kindCharges {
			continue
		}
		fetched += int64(s.Fetched)
		hi := s.Hi
		if hi == 0 {
			hi = r.cp.Plan.Started
		}
		switch {
		case s.Done:
			covered += max(hi-s.Lo, 0)
		case s.Fetched > 0:
			seen := max(hi-s.Oldest, 1)
			covered += seen
			remaining += float64(s.Fetched) * float64(max(s.Oldest-s.Lo, 0)) / float64(seen)
		default:
			unknownSpan += max(hi-s.Lo, 0)
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
