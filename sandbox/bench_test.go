package sandbox

import (
	"net/http/httptest"
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

// BenchmarkListChargesPage measures one GET /v1/charges page of 100 through the
// handler (auth, paging, JSON), the unit of work of a sync.
func BenchmarkListChargesPage(b *testing.B) {
	s := New(Options{Seed: 1, Now: time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)})
	ids := s.Scenarios()["double_click/1"]
	req := httptest.NewRequest("GET", "/v1/charges?limit=100&starting_after="+ids[0], nil)
	req.Header.Set("Authorization", "Bearer "+TestKey)
	for b.Loop() {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}
