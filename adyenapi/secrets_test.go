package adyenapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/doublecheck-dev/doublecheck/reconcile"
	"github.com/doublecheck-dev/doublecheck/refunding"
	"github.com/doublecheck-dev/doublecheck/refunding/refundtest"
)

const echoKey = "AQEyhmfxK4-very-secret-api-key-1234567890"

// TestAnswersNeverCarryTheKey: whatever Adyen's answer echoes of the
// X-API-Key it was sent, the key reaches neither the refund's error, its
// Failure (the ledger's code and message), nor the ledger.
func TestAnswersNeverCarryTheKey(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		answer func(key string) map[string]any
	}{
		{"a refusal", http.StatusUnprocessableEntity, func(key string) map[string]any {
			return map[string]any{"status": 422, "errorCode": "C-" + key, "errorType": "T-" + key, "message": "key " + key, "pspReference": "P-" + key}
		}},
		{"another request's refund under the key", http.StatusCreated, func(key string) map[string]any {
			return map[string]any{"paymentPspReference": "P-" + key, "pspReference": "R-" + key, "status": "received",
				"amount": map[string]any{"currency": "E" + key, "value": 1}}
		}},
		{"an answer with an odd status", http.StatusCreated, func(key string) map[string]any {
			return map[string]any{"paymentPspReference": "ABCDEFGHIJKLMNOP", "pspReference": "R-" + key, "status": "S-" + key,
				"amount": map[string]any{"currency": "EUR", "value": 8900}}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := json.Marshal(tc.answer(r.Header.Get("X-API-Key")))
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				w.Write(body)
			}))
			defer srv.Close()
			c, err := NewClient(Config{APIKey: echoKey, MerchantAccount: "M", Env: EnvTest, BaseURL: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			now := func() time.Time { return time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC) }
			g := &gateway{c: c, now: now}
			plan := reconcile.RefundRequest{Key: reconcile.RefundKey("ABCDEFGHIJKLMNOP", 0, 8900), ChargeID: "ABCDEFGHIJKLMNOP",
				Amount: 8900, Currency: "eur", Provider: reconcile.ProviderAdyen}
			_, sendErr := g.Send(ctx, reconcile.RefundIntent{RefundRequest: plan})
			if sendErr == nil {
				t.Fatal("the refund was accepted")
			}
			f := g.Classify(sendErr)
			ledger := refundtest.NewLedger(nil)
			ledger.Now = now
			r := &refunding.Refunder{Gateways: map[reconcile.Provider]refunding.Gateway{reconcile.ProviderAdyen: g},
				Ledger: ledger, Operator: "ops", Now: now}
			out, err := r.Refund(ctx, []reconcile.RefundRequest{plan}, nil)
			if err != nil || len(out) != 1 || out[0].Err == nil {
				t.Fatalf("Refund: %+v, %v; want one refund not made", out, err)
			}
			stored, err := ledger.RefundIntents(ctx)
			if err != nil || len(stored) != 1 {
				t.Fatalf("ledger: %+v, %v", stored, err)
			}
			for _, s := range []string{sendErr.Error(), f.Code, f.Message, f.Reason, out[0].Err.Error(),
				fmt.Sprintf("%+v", stored), fmt.Sprintf("%+v", ledger.Attempts(plan.Key))} {
				if strings.Contains(s, echoKey) {
					t.Errorf("the API key leaks: %s", s)
				}
			}
		})
	}
}

// TestHostsMatchTheEnvironment: Adyen's live hosts only with ADYEN_ENV=live,
// its test host only with test; other hosts (the sandbox, a proxy) with the
// environment as said; live only over https or to this machine.
func TestHostsMatchTheEnvironment(t *testing.T) {
	for _, tc := range []struct {
		env  Environment
		base string
		want string // "" for accepted
	}{
		{EnvTest, "https://1797a841fbb37ca7-AdyenDemo-checkout-live.adyenpayments.com/checkout/v71",
			"the Adyen environment is test (ADYEN_ENV) but 1797a841fbb37ca7-adyendemo-checkout-live.adyenpayments.com is Adyen's live host"},
		{EnvTest, "https://checkout-live.adyen.com/v71", "checkout-live.adyen.com is Adyen's live host"},
		{EnvLive, "https://checkout-test.adyen.com/v71", "the Adyen environment is live (ADYEN_ENV) but checkout-test.adyen.com is Adyen's test host"},
		{EnvTest, "https://checkout-test.adyen.com/v71", ""},
		{EnvLive, "https://1797a841fbb37ca7-TestCorp-checkout-live.adyenpayments.com/checkout/v71", ""},
		{EnvLive, "http://example.invalid", "refusing to send live Adyen credentials over plain http to example.invalid; use https"},
		{EnvLive, "https://adyen-proxy.example.com", ""},
		{EnvLive, "http://127.0.0.1:4000", ""},
		{EnvTest, "http://example.invalid", ""},
		{EnvTest, "example.invalid", "is not an http(s) URL"},
	} {
		_, err := NewClient(Config{APIKey: "k", MerchantAccount: "m", Env: tc.env, LivePrefix: "1797a841fbb37ca7-AdyenDemo", BaseURL: tc.base})
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s %q: %v", tc.env, tc.base, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s %q: %v, want %q", tc.env, tc.base, err, tc.want)
		}
	}
}
