//go:build !unix

package ui

import (
	"testing"
	"time"
)

// processCPU is not measured here: the benchmarks report wall time only.
func processCPU(*testing.B) (time.Duration, bool) { return 0, false }
