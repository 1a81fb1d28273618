// Package cputime reads the CPU time the process has used, for benchmarks on a
// shared machine: CPU time moves far less with other work than wall time does.
package cputime

import (
	"testing"
	"time"
)

// Used is the user+system CPU time of this process so far (all threads); the
// benchmark is skipped where that is not measured.
func Used(tb testing.TB) time.Duration {
	t, err := process()
	if err != nil {
		tb.Skip(err)
	}
	return t
}
