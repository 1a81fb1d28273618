package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

func TestRawCharges(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d testDialect) { testRawCharges(t, d.open(t)) })
}

func testRawCharges(t *testing.T, s *Store) {
	ctx := context.Background()
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var charges []reconcile.Charge
	// More than one query's worth, one without raw JSON.
	for i := range rawChunk + 3 {
		c := reconcile.Charge{ID: fmt.Sprintf("TX%05d", i), Created: at, Amount: 100, Currency: "usd",
			Status: "succeeded", Captured: true, Observed: at, Raw: []byte(fmt.Sprintf(`{"n":%d}`, i))}
		if i == 7 {
			c.Raw = nil
		}
		charges = append(charges, c)
	}
	if err := s.SaveCharges(ctx, charges); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range charges {
		ids = append(ids, c.ID)
	}
	ids = append(ids, "MISSING")
	raw, err := s.RawCharges(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) != len(charges)-1 {
		t.Fatalf("%d raw charges, want %d", len(raw), len(charges)-1)
	}
	if got := string(raw[fmt.Sprintf("TX%05d", rawChunk+2)]); got != fmt.Sprintf(`{"n":%d}`, rawChunk+2) {
		t.Errorf("raw of the last charge: %s", got)
	}
	if _, ok := raw["TX00007"]; ok {
		t.Errorf("a charge saved without raw JSON has some")
	}
}
