package cli

import (
	"runtime/debug"
	"sync"
)

// gcPause counts the loads under way that paused the garbage collector, and
// holds the setting to restore when the last ends.
var gcPause struct {
	sync.Mutex
	n       int
	percent int
	limit   int64
}

// pausedGCLimit bounds the heap while the collector is paused: near it the
// collector runs again (as with GOGC=off and GOMEMLIMIT), so a store larger
// than the machine expects still loads, more slowly, instead of exhausting
// its memory. A million charges, fully loaded, stay well under it.
const pausedGCLimit = 4 << 30

// pauseGC stops the garbage collector until resume is called; with several
// pauses at once (a dashboard reload while another runs), it runs again when
// the last one ends.
func pauseGC() (resume func()) {
	gcPause.Lock()
	if gcPause.n == 0 {
		gcPause.percent = debug.SetGCPercent(-1)
		gcPause.limit = debug.SetMemoryLimit(min(pausedGCLimit, debug.SetMemoryLimit(-1)))
	}
	gcPause.n++
	gcPause.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			gcPause.Lock()
			defer gcPause.Unlock()
			if gcPause.n--; gcPause.n == 0 {
				debug.SetGCPercent(gcPause.percent)
				debug.SetMemoryLimit(gcPause.limit)
			}
		})
	}
}
