package stripeapi

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	stripe "github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/form"
)

// TestStripeMockConformance sends the requests sync makes to stripe-mock, which
// validates every parameter against Stripe's OpenAPI spec and answers with
// Stripe's fixtures: our request shapes are Stripe's, and our decoding reads
// Stripe's own objects.
func TestStripeMockConformance(t *testing.T) {
	base := startStripeMock(t)
	c := testClient(t, "sk_test_conformance0000000000", base)
	ctx := context.Background()
	now := time.Now().Unix()

	t.Run("the mock rejects parameters Stripe does not know", func(t *testing.T) {
		// The control: without it, a mock that accepts anything would pass every test below.
		query := &form.Values{}
		query.Add("limit", "100")
		query.Add("types[0]", "charge.succeeded") // an events parameter, not a charges one
		var page rawPage
		err := c.call(ctx, func(ctx context.Context) error {
			return c.backend.CallRaw(http.MethodGet, "/v1/charges", c.key.Secret, query, &stripe.Params{Context: ctx}, &page)
		})
		if !errors.Is(err, ErrRefused) {
			t.Fatalf("types[] on the charges list gave %v, want a refusal", err)
		}
	})
	t.Run("account", func(t *testing.T) {
		acct, err := c.Account(ctx)
		if err != nil || acct.ID == "" || acct.Name == "" {
			t.Fatalf("Account() = %+v, %v", acct, err)
		}
	})
	t.Run("charges page of a bounded slice with a cursor", func(t *testing.T) {
		page, err := c.listPage(ctx, sliceSpec{Kind: kindCharges, Lo: now - 86400, Hi: now}, "ch_previouspage")
		if err != nil {
			t.Fatal(err)
		}
		b, err := chargesBatch(page.Data, page.served, time.Now())
		if err != nil || len(b.charges) == 0 || b.charges[0].ID == "" || b.charges[0].Currency == "" {
			t.Fatalf("stripe-mock's charges decoded to %+v, %v", b.charges, err)
		}
		if page.served.IsZero() {
			t.Error("no server time from the response")
		}
	})
	t.Run("events page filtered by type", func(t *testing.T) {
		page, err := c.listPage(ctx, sliceSpec{Kind: kindEvents, Lo: now - 86400}, "evt_previouspage")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := (&syncRun{c: c, opts: SyncOptions{Now: time.Now}}).eventsBatch(ctx, page.Data); err != nil {
			t.Fatalf("stripe-mock's events: %v", err)
		}
	})
	t.Run("charge retrieve", func(t *testing.T) {
		ch, err := c.getCharge(ctx, "ch_123")
		if err != nil {
			t.Fatal(err)
		}
		if got := chargeFromStripe(ch, nil, time.Now()); got.ID == "" || got.Raw == nil {
			t.Fatalf("retrieved charge converted to %+v", got)
		}
	})
	t.Run("whole sync", func(t *testing.T) {
		res, err := c.Sync(ctx, newMemSink(), SyncOptions{Rate: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if res.Pages == 0 || res.Charges == 0 {
			t.Fatalf("sync against stripe-mock: %+v", res)
		}
	})
}
