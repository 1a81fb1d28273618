//go:build unix

package ui

import (
	"syscall"
	"testing"
	"time"
)

// processCPU is the user+system CPU time the test process has used: on a
// shared machine it says what a keystroke costs better than wall time does.
func processCPU(b *testing.B) (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
