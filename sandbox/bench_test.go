package sandbox

import (
	"testing"
	"time"
)

// BenchmarkNew measures generating the default data set (3000 ordinary charges
// plus the scenarios).
func BenchmarkNew(b *testing.B) {
	now := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	for b.Loop() {
		New(Options{Seed: 1, Now: now})
	}
}
