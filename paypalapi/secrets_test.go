package paypalapi

import (
	"context"
	"encoding/base64"
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

const (
	echoID     = "AcL1entIdOfTheApp"
	echoSecret = "EC-S3cr3t-client-secret-value"
	echoToken  = "A21AAtoken-value-1234567890"
)

// echoServer is a PayPal that refuses every call with the credentials it was
// sent in every field doublecheck reads: the Authorization header (Bearer
// token or Basic id:secret) and the secret itself. refuseToken makes the
// token endpoint the one that refuses (401, the Basic header echoed).
func echoServer(t *testing.T, refuseToken bool) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		status := http.StatusUnprocessableEntity
		if r.URL.Path == "/v1/oauth2/token" {
			if !refuseToken {
				fmt.Fprintf(w, `{"access_token":%q,"token_type":"Bearer","expires_in":32400}`, echoToken)
				return
			}
			status = http.StatusUnauthorized
		}
		if r.URL.Path == "/v1/reporting/transactions" {
			status = http.StatusBadRequest
		}
		echo := func(field string) string { return field + " " + auth + " secret " + echoSecret }
		body, _ := json.Marshal(map[string]any{"name": echo("NAME"), "message": echo("message"), "debug_id": echo("debug"),
			"details": []map[string]string{{"issue": echo("ISSUE"), "description": echo("description"), "field": echo("field")}}})
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// leaks names the credentials found in texts.
func leaks(texts ...string) []string {
	basic := base64.StdEncoding.EncodeToString([]byte(echoID + ":" + echoSecret))
	var found []string
	for name, secret := range map[string]string{"client secret": echoSecret, "access token": echoToken, "base64(id:secret)": basic} {
		for _, s := range texts {
			if strings.Contains(s, secret) {
				found = append(found, name+" in "+s)
			}
		}
	}
	return found
}

// TestAnswersNeverCarryCredentials: whatever PayPal's answer echoes, no
// credential reaches a refund's error, its Failure (the ledger's code and
// message), the ledger, or a sync's error.
func TestAnswersNeverCarryCredentials(t *testing.T) {
	for _, tc := range []struct {
		name        string
		refuseToken bool
	}{
		{"an API call refused, the Bearer token echoed", false},
		{"the credentials refused, the Basic header echoed", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(Config{ClientID: echoID, Secret: echoSecret, Env: Sandbox, BaseURL: echoServer(t, tc.refuseToken)})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			g := c.RefundGateway("test")
			it := intent("1AB23456CD7890123", 0, 2500, "usd", testNow)
			it.Provider = reconcile.ProviderPayPal
			_, sendErr := g.Send(ctx, it)
			if sendErr == nil {
				t.Fatal("the refund was accepted")
			}
			f := g.Classify(sendErr)
			texts := []string{sendErr.Error(), f.Code, f.Message, f.Reason}

			ledger := refundtest.NewLedger(nil)
			r := &refunding.Refunder{Gateways: map[reconcile.Provider]refunding.Gateway{reconcile.ProviderPayPal: g},
				Ledger: ledger, Operator: "tester", Now: func() time.Time { return testNow }}
			out, err := r.Refund(ctx, []reconcile.RefundRequest{it.RefundRequest}, nil)
			if err != nil || len(out) != 1 || out[0].Err == nil {
				t.Fatalf("Refund: %+v, %v; want one refused refund", out, err)
			}
			stored, err := ledger.RefundIntents(ctx)
			if err != nil || len(stored) != 1 || stored[0].ErrorCode == "" {
				t.Fatalf("ledger: %+v, %v; want the refusal recorded", stored, err)
			}
			texts = append(texts, out[0].Err.Error(), fmt.Sprintf("%+v", stored), fmt.Sprintf("%+v", ledger.Attempts(it.Key)))

			_, syncErr := c.Sync(ctx, openStore(t), SyncOptions{Now: func() time.Time { return testNow }})
			if syncErr == nil {
				t.Fatal("the sync succeeded")
			}
			texts = append(texts, syncErr.Error())
			if found := leaks(texts...); len(found) > 0 {
				t.Errorf("credentials leak:\n%s", strings.Join(found, "\n"))
			}
		})
	}
}

// TestHostsMatchTheEnvironment: PayPal's own live hosts only with live, its
// sandbox hosts only with sandbox; other hosts (doublecheck's sandbox, a
// proxy) with the environment as said; live only over https or to this
// machine.
func TestHostsMatchTheEnvironment(t *testing.T) {
	for _, tc := range []struct {
		env  Environment
		base string
		want string // "" for accepted
	}{
		{Sandbox, "", ""},
		{Live, "", ""},
		{Sandbox, "https://api-m.paypal.com", "the PayPal environment is sandbox (--paypal-env or PAYPAL_ENV) but api-m.paypal.com is PayPal's live host"},
		{Sandbox, "https://api.paypal.com/", "api.paypal.com is PayPal's live host"},
		{Live, "https://api-m.sandbox.paypal.com", "the PayPal environment is live (--paypal-env or PAYPAL_ENV) but api-m.sandbox.paypal.com is PayPal's sandbox host"},
		{Live, "https://api.sandbox.paypal.com", "api.sandbox.paypal.com is PayPal's sandbox host"},
		{Live, "https://api-m.paypal.com", ""},
		{Sandbox, "https://api-m.sandbox.paypal.com", ""},
		{Live, "https://paypal-proxy.example.com", ""},
		{Sandbox, "http://127.0.0.1:4000", ""},
		{Live, "http://127.0.0.1:4000", ""},
		{Live, "http://paypal.example", "refusing to send live PayPal credentials over plain http to paypal.example; use https"},
		{Sandbox, "api-m.paypal.com", "is not an http(s) URL"},
	} {
		_, err := New(Config{ClientID: "id", Secret: "secret", Env: tc.env, BaseURL: tc.base})
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s %q: %v", tc.env, tc.base, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s %q: %v, want %q", tc.env, tc.base, err, tc.want)
		}
	}
}
