package store

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// TestChargeProviderRoundTrip: a charge's provider is stored (column and
// load record) and loads back, whether saved or imported; an empty provider
// is Stripe's; an unknown one is refused and nothing is stored.
func TestChargeProviderRoundTrip(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d testDialect) {
		ctx := context.Background()
		t0 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
		charge := func(id string, p reconcile.Provider) reconcile.Charge {
			return reconcile.Charge{ID: id, Amount: 1000, Currency: "usd", Status: "succeeded", Captured: true,
				Created: t0, Observed: t0, Livemode: true, Disputed: true, Provider: p}
		}
		cases := []struct {
			name string
			in   reconcile.Provider
			want reconcile.Provider
		}{
			{"stripe", reconcile.ProviderStripe, reconcile.ProviderStripe},
			{"empty is stripe", "", reconcile.ProviderStripe},
			{"paypal", reconcile.ProviderPayPal, reconcile.ProviderPayPal},
			{"adyen", reconcile.ProviderAdyen, reconcile.ProviderAdyen},
		}
		for _, tc := range cases {
			for _, how := range []string{"save", "import"} {
				t.Run(tc.name+"/"+how, func(t *testing.T) {
					s := d.open(t)
					c := charge("ch_1", tc.in)
					if err := storeCharge(ctx, s, how, c); err != nil {
						t.Fatal(err)
					}
					got := loadedCharges(t, s)["ch_1"]
					if got.Provider != tc.want || !got.Livemode || !got.Disputed {
						t.Errorf("loads with provider %q, livemode %v, disputed %v; want %q, true, true", got.Provider, got.Livemode, got.Disputed, tc.want)
					}
					var column string
					if err := s.reader.QueryRow(`SELECT provider FROM charges WHERE id = 'ch_1'`).Scan(&column); err != nil || column != string(tc.want) {
						t.Errorf("provider column = %q (%v), want %q", column, err, tc.want)
					}
				})
			}
		}
		for _, how := range []string{"save", "import"} {
			t.Run("unknown/"+how, func(t *testing.T) {
				s := d.open(t)
				err := storeCharge(ctx, s, how, charge("ch_1", "square"))
				if err == nil || !strings.Contains(err.Error(), `unknown payment provider "square"`) {
					t.Errorf("err = %v, want the unknown provider named", err)
				}
				if n := countRows(t, s)["charges"]; n != 0 {
					t.Errorf("%d charges stored, want none", n)
				}
			})
		}
	})
}

func storeCharge(ctx context.Context, s *Store, how string, c reconcile.Charge) error {
	if how == "save" {
		return s.SaveCharges(ctx, []reconcile.Charge{c})
	}
	return s.ImportCharges(ctx, func(imp *ChargeImport) error {
		return imp.Add(c, reconcile.Place{File: "f", Line: 1, Element: -1}, [16]byte{1})
	})
}

// TestRefundIntentProvider: an intent keeps the provider it is sent through
// (empty is Stripe), so a resume finds its gateway; an unknown one is refused.
func TestRefundIntentProvider(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d testDialect) {
		ctx := context.Background()
		cases := []struct {
			in, want reconcile.Provider
			wantErr  string
		}{
			{in: reconcile.ProviderPayPal, want: reconcile.ProviderPayPal},
			{in: reconcile.ProviderAdyen, want: reconcile.ProviderAdyen},
			{in: "", want: reconcile.ProviderStripe},
			{in: "square", wantErr: `unknown payment provider "square"`},
		}
		for _, tc := range cases {
			t.Run(string(tc.in), func(t *testing.T) {
				s := d.open(t)
				it := intentFor("ch_dup", 2000, "ann")
				it.Provider = tc.in
				begun, _, err := s.BeginRefund(ctx, it)
				if tc.wantErr != "" {
					if err == nil || !strings.Contains(err.Error(), tc.wantErr) || len(allIntents(t, s)) != 0 {
						t.Errorf("err = %v and %d intents, want %q and none", err, len(allIntents(t, s)), tc.wantErr)
					}
					return
				}
				pending, perr := s.PendingRefunds(ctx)
				if err != nil || perr != nil || begun.Provider != tc.want || len(pending) != 1 || pending[0].Provider != tc.want {
					t.Errorf("begun %q (%v), pending %+v (%v); want %q", begun.Provider, err, pending, perr, tc.want)
				}
			})
		}
	})
}
