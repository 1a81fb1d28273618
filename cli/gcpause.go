package cli

import (
	"runtime/debug"
	"sync"
)

// gcLoads counts the loads under way that set the garbage collector, by how
// they set it, and holds the setting to restore when the last ends.
var gcLoads struct {
	sync.Mutex
	paused, narrowed int
	percent          int
	limit            int64
}

// pausedGCLimit bounds the heap while the collector is paused: near it the
// collector runs again (as with GOGC=off and GOMEMLIMIT), so a store larger
// than the machine expects still loads, more slowly, instead of exhausting
// its memory. A million charges, fully loaded, stay well under it.
const pausedGCLimit = 4 << 30

// narrowedGCPercent is GOGC during a narrowed load, which leaves the facts of
// every charge as garbage (70 MB for 1M charges) beside about 120 MB that
// stay live: at the default 100 the heap doubles the live one before a
// collection, a 1M scan's peak 274–307 MB; at 70 it is 265 MB, in the same time.
const narrowedGCPercent = 70

// pauseGC stops the garbage collector until resume is called; with several
// pauses at once (a dashboard reload while another runs), it runs again when
// the last one ends.
func pauseGC() (resume func()) { return holdGC(&gcLoads.paused) }

// tightenGC collects at narrowedGCPercent (or the setting's own, if lower)
// until resume is called, unless a pause is under way meanwhile.
func tightenGC() (resume func()) { return holdGC(&gcLoads.narrowed) }

func holdGC(count *int) (resume func()) {
	gcLoads.Lock()
	if gcLoads.paused+gcLoads.narrowed == 0 {
		gcLoads.percent = debug.SetGCPercent(-1)
		gcLoads.limit = debug.SetMemoryLimit(-1) // reads it
	}
	*count++
	applyGC()
	gcLoads.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			gcLoads.Lock()
			defer gcLoads.Unlock()
			*count--
			applyGC()
		})
	}
}

// applyGC sets the collector for the loads under way; gcLoads is locked.
func applyGC() {
	percent, limit := gcLoads.percent, gcLoads.limit
	switch {
	case gcLoads.paused > 0:
		percent, limit = -1, min(pausedGCLimit, limit)
	case gcLoads.narrowed > 0 && percent > narrowedGCPercent:
		percent = narrowedGCPercent
	}
	debug.SetGCPercent(percent)
	debug.SetMemoryLimit(limit)
}
