package stripeapi

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
)

// stateCheckpoint is the sync state name of the checkpoint, JSON.
const stateCheckpoint = "stripe.sync.checkpoint"

// checkpoint is everything the sync remembers between runs. It is one value, so
// each page is saved with the whole of it in the page's transaction and what a
// resume reads is always one consistent picture.
type checkpoint struct {
	// Where the last complete sync got to; the next one starts from there.
	ChargesNewest int64 `json:"charges_newest,omitempty"` // created (unix) of the newest charge
	ChargesSince  int64 `json:"charges_since,omitempty"`  // from when a complete backfill holds every charge
	EventsNewest  int64 `json:"events_newest,omitempty"`  // created (unix) of the newest event
	// EventTypes are the event types that sync read, comma-separated.
	EventTypes string `json:"event_types,omitempty"`
	// DisputesSeen are the dispute events in the overlap already handled (id →
	// created): reading them again must not cost a charge fetch each time.
	DisputesSeen map[string]int64 `json:"disputes_seen,omitempty"`

	// Plan is the sync in progress, nil when none.
	Plan *plan `json:"plan,omitempty"`
}

// plan is a sync in progress: its slices and how far each got, saved before
// any fetch so that an interrupted sync resumes exactly where it was.
type plan struct {
	ID          string  `json:"id"`
	Started     int64   `json:"started"`
	ChargesFrom int64   `json:"charges_from"`
	Incremental bool    `json:"incremental"`
	Slices      []slice `json:"slices"`
}

// slice is a range of one list and how far it has been fetched.
type slice struct {
	sliceSpec
	sliceProgress
}

// sliceSpec is a range of creation times of one list: created >= Lo and, when
// Hi is set, created < Hi. The newest slice is open-ended, so charges created
// during the sync are caught now or by the next one.
type sliceSpec struct {
	Kind string `json:"kind"`
	Lo   int64  `json:"lo"`
	Hi   int64  `json:"hi,omitempty"`
}

// sliceProgress is how far a slice got. Pages come newest first, so After
// (Stripe's starting_after cursor) is where the next page starts.
type sliceProgress struct {
	After   string `json:"after,omitempty"`
	Newest  int64  `json:"newest,omitempty"`
	Oldest  int64  `json:"oldest,omitempty"`
	Fetched int    `json:"fetched,omitempty"`
	Done    bool   `json:"done,omitempty"`
}

// readCheckpoint reads the checkpoint. A store last synced by a version that
// kept its bookkeeping under several names is read from those (see
// readLegacyCheckpoint); legacy lists the names to unset with the first save.
// An unreadable checkpoint reads as none: the sync then backfills again, which
// the store's upserts make harmless.
func readCheckpoint(ctx context.Context, sink Sink) (cp checkpoint, legacy []string, err error) {
	v, err := sink.State(ctx, stateCheckpoint)
	if err != nil {
		return checkpoint{}, nil, fmt.Errorf("read the sync checkpoint: %w", err)
	}
	if v == "" {
		return readLegacyCheckpoint(ctx, sink)
	}
	if json.Unmarshal([]byte(v), &cp) != nil {
		return checkpoint{}, nil, nil
	}
	if cp.Plan != nil && (cp.Plan.ID == "" || len(cp.Plan.Slices) == 0) {
		cp.Plan = nil
	}
	return cp, nil, nil
}

// The names an older version kept its bookkeeping under, one value each.
const (
	legacyPlan          = "stripe.sync.plan"            // the sync in progress (JSON legacyPlanValue)
	legacySlicePrefix   = "stripe.sync.slice."          // + index: one slice's progress (JSON legacySliceValue)
	legacyChargesNewest = "stripe.charges.newest"       // unix seconds
	legacyChargesSince  = "stripe.charges.since"        // unix seconds
	legacyEventsNewest  = "stripe.events.newest"        // unix seconds
	legacyDisputesSeen  = "stripe.events.disputes_seen" // JSON id → created
	legacyEventTypes    = "stripe.events.types"         // comma-separated
)

// legacyPlanValue and legacySliceValue are the older version's plan and slice
// progress; a slice's progress names the plan it belongs to.
type legacyPlanValue struct {
	ID          string      `json:"id"`
	Started     int64       `json:"started"`
	ChargesFrom int64       `json:"charges_from"`
	Incremental bool        `json:"incremental"`
	Slices      []sliceSpec `json:"slices"`
}

type legacySliceValue struct {
	Plan string `json:"plan"`
	sliceProgress
}

// readLegacyCheckpoint builds a checkpoint from the older version's names, so
// a sync it left half done resumes and a complete one stays incremental.
// Values it cannot read count as unset, as the older version treated them.
func readLegacyCheckpoint(ctx context.Context, sink Sink) (checkpoint, []string, error) {
	var (
		cp     checkpoint
		legacy []string
	)
	read := func(name string) (string, error) {
		v, err := sink.State(ctx, name)
		if err != nil {
			return "", fmt.Errorf("read the sync progress: %w", err)
		}
		if v != "" {
			legacy = append(legacy, name)
		}
		return v, nil
	}
	for name, dst := range map[string]*int64{legacyChargesNewest: &cp.ChargesNewest,
		legacyChargesSince: &cp.ChargesSince, legacyEventsNewest: &cp.EventsNewest} {
		v, err := read(name)
		if err != nil {
			return checkpoint{}, nil, err
		}
		*dst, _ = strconv.ParseInt(v, 10, 64)
	}
	var err error
	if cp.EventTypes, err = read(legacyEventTypes); err != nil {
		return checkpoint{}, nil, err
	}
	seen, err := read(legacyDisputesSeen)
	if err != nil {
		return checkpoint{}, nil, err
	}
	_ = json.Unmarshal([]byte(seen), &cp.DisputesSeen)
	saved, err := read(legacyPlan)
	if err != nil || saved == "" {
		return cp, legacy, err
	}
	var old legacyPlanValue
	readable := json.Unmarshal([]byte(saved), &old) == nil && old.ID != "" && len(old.Slices) > 0
	if readable {
		cp.Plan = &plan{ID: old.ID, Started: old.Started, ChargesFrom: old.ChargesFrom, Incremental: old.Incremental,
			Slices: make([]slice, len(old.Slices))}
	}
	// The older version never planned more than maxConcurrency slices per list.
	for i := range 2 * maxConcurrency {
		v, err := read(legacySlicePrefix + strconv.Itoa(i))
		if err != nil {
			return checkpoint{}, nil, err
		}
		if !readable || i >= len(old.Slices) {
			continue
		}
		cp.Plan.Slices[i].sliceSpec = old.Slices[i]
		var st legacySliceValue
		if json.Unmarshal([]byte(v), &st) == nil && st.Plan == old.ID {
			cp.Plan.Slices[i].sliceProgress = st.sliceProgress
		}
	}
	return cp, legacy, nil
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("stripeapi: marshal %T: %v", v, err)) // plain structs of strings and numbers
	}
	return b
}
