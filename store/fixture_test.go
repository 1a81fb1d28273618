package store

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/doublecheck-dev/doublecheck/internal/pgtest"
	"github.com/doublecheck-dev/doublecheck/reconcile"
)

var baseTime = time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)

// openTemp opens a new store in a test directory and closes it at the end.
func openTemp(t testing.TB) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "store.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// rawPadding makes raw JSON about the size of a real Stripe charge object.
var rawPadding = strings.Repeat("x", 1300)

// fakeCharge is charge number i of a realistic-looking account: most charges carry
// an order id, a fifth are guest checkouts, and rawSize chooses the raw JSON.
func fakeCharge(i int, withRaw bool) reconcile.Charge {
	c := reconcile.Charge{
		ID:              fmt.Sprintf("ch_%024d", i),
		Created:         baseTime.Add(time.Duration(i) * 7 * time.Second),
		Amount:          int64(500 + i%50*100),
		Currency:        []string{"usd", "eur", "gbp", "jpy"}[i%4],
		Status:          "succeeded",
		Captured:        true,
		Customer:        fmt.Sprintf("cus_%014d", i%40000),
		Email:           fmt.Sprintf("customer%d@example.com", i%40000),
		CardFingerprint: fmt.Sprintf("fp%014d", i%50000),
		CardBrand:       []string{"visa", "mastercard", "amex"}[i%3],
		CardLast4:       fmt.Sprintf("%04d", i%10000),
		PaymentIntent:   fmt.Sprintf("pi_%024d", i),
		Description:     fmt.Sprintf("Order %d", i),
		Observed:        baseTime.Add(100 * 24 * time.Hour),
	}
	if i%5 == 0 {
		c.Customer = ""
	}
	if i%10 != 0 {
		c.Metadata = map[string]string{"order_id": fmt.Sprintf("o-%d", i)}
	}
	if i%97 == 0 {
		c.Status = "failed"
		c.Captured = false
	}
	if withRaw {
		c.Raw = []byte(`{"id":"` + c.ID + `","object":"charge","amount":` + strconv.FormatInt(c.Amount, 10) +
			`,"currency":"` + c.Currency + `","padding":"` + rawPadding + `"}`)
	}
	return c
}

func fakeCharges(from, n int, withRaw bool) []reconcile.Charge {
	out := make([]reconcile.Charge, n)
	for i := range out {
		out[i] = fakeCharge(from+i, withRaw)
	}
	return out
}

// testDialect is one of the databases a store lives in. The conformance suite
// runs each store test once per dialect (forEachDialect).
type testDialect struct {
	name string
	// location is where a new, empty store can be made: a file path, or the
	// URL of an empty PostgreSQL schema. The test is skipped, saying why,
	// when the dialect has no database here.
	location func(t testing.TB) string
}

var testDialects = []testDialect{
	{name: "sqlite", location: func(t testing.TB) string { return filepath.Join(t.TempDir(), "store.db") }},
	{name: "postgres", location: pgtest.URL},
}

// forEachDialect runs test as a subtest per dialect.
func forEachDialect(t *testing.T, test func(t *testing.T, d testDialect)) {
	t.Helper()
	for _, d := range testDialects {
		t.Run(d.name, func(t *testing.T) { test(t, d) })
	}
}

// open opens a new store of the dialect and closes it at the end.
func (d testDialect) open(t testing.TB) *Store {
	t.Helper()
	s, err := Open(context.Background(), d.location(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
