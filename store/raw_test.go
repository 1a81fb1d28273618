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

// An import reads the charges it adds to inside its transaction: typed
// fields and raw JSON as stored, nothing for an id the store lacks.
func TestImportStoredCharges(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d testDialect) {
		s := d.open(t)
		ctx := context.Background()
		at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		stored := []reconcile.Charge{
			{ID: "8815000000000001", Provider: reconcile.ProviderAdyen, Created: at, Amount: 4999, AmountRefunded: 1000, Currency: "eur",
				Status: "succeeded", Captured: true, Disputed: true, Email: "a@example.com", Customer: "shopper-a", Observed: at,
				Metadata: map[string]string{"order_id": "o-1"}, Raw: []byte(`{"received":true}`)},
			{ID: "PAYPAL0000000001X", Provider: reconcile.ProviderPayPal, Created: at, Amount: 500, Currency: "usd",
				Status: "succeeded", Captured: true, Observed: at},
		}
		if err := s.SaveCharges(ctx, stored); err != nil {
			t.Fatal(err)
		}
		var got map[string]reconcile.Charge
		err := s.ImportCharges(ctx, func(imp *ChargeImport) error {
			var err error
			got, err = imp.StoredCharges([]string{"8815000000000001", "PAYPAL0000000001X", "MISSING"})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 {
			t.Fatalf("%d charges, want 2: %+v", len(got), got)
		}
		a := got["8815000000000001"]
		if a.Provider != reconcile.ProviderAdyen || !a.Created.Equal(at) || a.Amount != 4999 || a.AmountRefunded != 1000 ||
			!a.Disputed || a.Email != "a@example.com" || a.Customer != "shopper-a" || string(a.Raw) != `{"received":true}` ||
			a.MetadataJSON != `{"order_id":"o-1"}` {
			t.Errorf("Adyen charge read back as %+v", a)
		}
		if p := got["PAYPAL0000000001X"]; p.Provider != reconcile.ProviderPayPal || p.Raw != nil || p.Amount != 500 {
			t.Errorf("PayPal charge read back as %+v", p)
		}
	})
}
