package adyenapi

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/doublecheck-dev/doublecheck/sandbox"
)

func TestEndpoints(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string // "" for refused
	}{
		{Config{Env: EnvTest, APIKey: "k", MerchantAccount: "m"}, "https://checkout-test.adyen.com/v71"},
		{Config{Env: EnvLive, LivePrefix: "1797a841fbb37ca7-AdyenDemo", APIKey: "k", MerchantAccount: "m"},
			"https://1797a841fbb37ca7-AdyenDemo-checkout-live.adyenpayments.com/checkout/v71"},
		{Config{Env: EnvLive, APIKey: "k", MerchantAccount: "m"}, ""},                                  // live needs the prefix
		{Config{Env: EnvLive, LivePrefix: "evil.com/x?", APIKey: "k", MerchantAccount: "m"}, ""},       // not a prefix
		{Config{APIKey: "k", MerchantAccount: "m"}, ""},                                                // no environment: no default
		{Config{Env: EnvTest, MerchantAccount: "m"}, ""},                                               // no key
		{Config{Env: EnvTest, APIKey: "k"}, ""},                                                        // no merchant account
		{Config{Env: "staging", APIKey: "k", MerchantAccount: "m", BaseURL: "http://127.0.0.1:1"}, ""}, // environment checked even with a base URL
	} {
		c, err := NewClient(tc.cfg)
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("%+v accepted (%s)", tc.cfg, c.BaseURL())
		case tc.want != "" && err != nil:
			t.Errorf("%+v: %v", tc.cfg, err)
		case tc.want != "" && c.BaseURL() != tc.want:
			t.Errorf("%+v: base %s, want %s", tc.cfg, c.BaseURL(), tc.want)
		}
	}
}

func sandboxClient(t *testing.T, opts sandbox.AdyenOptions) (*sandbox.Adyen, *Client) {
	t.Helper()
	sb := sandbox.NewAdyen(opts)
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	c, err := NewClient(Config{Env: EnvTest, APIKey: sandbox.AdyenTestKey, MerchantAccount: sandbox.AdyenMerchantAccount, BaseURL: srv.URL + "/v71"})
	if err != nil {
		t.Fatal(err)
	}
	return sb, c
}

// settledDuplicate is the second payment of the sandbox's double_click.
func settledDuplicate(t *testing.T, sb *sandbox.Adyen) sandbox.AdyenPayment {
	t.Helper()
	var found []sandbox.AdyenPayment
	for _, p := range sb.Payments() {
		if p.Scenario == "double_click/1" {
			found = append(found, p)
		}
	}
	if len(found) != 2 {
		t.Fatalf("double_click: %d payments", len(found))
	}
	return found[1]
}

func refundsOf(sb *sandbox.Adyen, psp string) int {
	n := 0
	for _, r := range sb.Refunds() {
		if r.PaymentPsp == psp {
			n++
		}
	}
	return n
}

func TestRefundIdempotency(t *testing.T) {
	ctx := context.Background()
	sb, c := sandboxClient(t, sandbox.AdyenOptions{})
	p := settledDuplicate(t, sb)
	key := "doublecheck-refund-" + p.Psp + "-0-8900"
	first, err := c.Refund(ctx, p.Psp, 8900, "eur", "dup", key)
	if err != nil {
		t.Fatal(err)
	}
	if first.Status != "received" || first.PaymentPspReference != p.Psp || first.PspReference == "" {
		t.Fatalf("answer %+v", first)
	}
	again, err := c.Refund(ctx, p.Psp, 8900, "eur", "dup", key)
	if err != nil || again.PspReference != first.PspReference {
		t.Fatalf("resend with the same key: %+v, %v; want refund %s again", again, err, first.PspReference)
	}
	if n := refundsOf(sb, p.Psp); n != 1 {
		t.Fatalf("%d refunds after a resend, want 1", n)
	}
	// Another amount under the same key: Adyen answers the first refund,
	// which the client must not take for this one.
	_, err = c.Refund(ctx, p.Psp, 100, "eur", "dup", key)
	var mismatch *KeyMismatchError
	if !errors.As(err, &mismatch) || mismatch.RefundPsp != first.PspReference {
		t.Fatalf("same key, other amount: %v; want a KeyMismatchError naming %s", err, first.PspReference)
	}
	if n := refundsOf(sb, p.Psp); n != 1 {
		t.Fatalf("%d refunds, want 1", n)
	}
	if _, err := c.Refund(ctx, p.Psp, 8900, "eur", "dup", strings.Repeat("k", 65)); err == nil || sb.Requests() != 3 {
		t.Fatalf("a 65-character key: %v after %d requests; want refused before sending", err, sb.Requests())
	}
}

func TestRefundErrors(t *testing.T) {
	ctx := context.Background()
	sb, c := sandboxClient(t, sandbox.AdyenOptions{DropAnswers: 1})
	p := settledDuplicate(t, sb)
	key := "doublecheck-refund-" + p.Psp + "-0-8900"
	// The answer is lost after Adyen received the refund: an API error (5xx),
	// then the resend with the same key gets the refund.
	_, err := c.Refund(ctx, p.Psp, 8900, "eur", "", key)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.HTTPStatus != 500 {
		t.Fatalf("dropped answer: %v", err)
	}
	got, err := c.Refund(ctx, p.Psp, 8900, "eur", "", key)
	if err != nil || refundsOf(sb, p.Psp) != 1 {
		t.Fatalf("resend: %+v, %v; refunds %+v", got, err, sb.Refunds())
	}
	bad, err := NewClient(Config{Env: EnvTest, APIKey: "AQE_wrong_secret_key", MerchantAccount: sandbox.AdyenMerchantAccount, BaseURL: c.BaseURL()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.Refund(ctx, p.Psp, 100, "eur", "", "k-1")
	if !errors.As(err, &apiErr) || apiErr.HTTPStatus != 401 || strings.Contains(err.Error(), "wrong_secret") {
		t.Fatalf("wrong key: %v", err)
	}
	_, err = c.Refund(ctx, "8800000000000000", 100, "eur", "", "k-2")
	if !errors.As(err, &apiErr) || apiErr.HTTPStatus != 422 {
		t.Fatalf("unknown payment: %v", err)
	}
	unreachable, _ := NewClient(Config{Env: EnvTest, APIKey: "k", MerchantAccount: "m", BaseURL: "http://127.0.0.1:1/v71"})
	_, err = unreachable.Refund(ctx, p.Psp, 100, "eur", "", "k-3")
	var netErr *NetworkError
	if !errors.As(err, &netErr) {
		t.Fatalf("no server: %v", err)
	}
}

// Adyen's documented vector: the Go library's hmacvalidator test
// (Adyen/adyen-go-api-library src/hmacvalidator/hmacvalidator_test.go).
func TestHMACKnownVector(t *testing.T) {
	const key = "DFB1EB5485895CFA84146406857104ABB4CBCABDC8AAF103A624C8F6A3EAAB00"
	it := NotificationRequestItem{
		Amount: Amount{Currency: "EUR", Value: 1000}, EventCode: "EVENT", MerchantAccountCode: "merchantAccount",
		MerchantReference: "reference", OriginalReference: "originalReference", PspReference: "pspReference", Success: "true",
	}
	if got, want := it.SigningString(), "pspReference:originalReference:merchantAccount:reference:1000:EUR:EVENT:true"; got != want {
		t.Fatalf("signing string %q, want %q", got, want)
	}
	sig, err := it.Sign(key)
	if err != nil || sig != "ipnxGCaUZ4l8TUW75a71/ghd2Fe5ffvX0pV4TLTntIc=" {
		t.Fatalf("signature %q, %v", sig, err)
	}
	it.AdditionalData = map[string]string{"hmacSignature": sig}
	if err := it.Verify(key); err != nil {
		t.Fatal(err)
	}
	for name, change := range map[string]func(*NotificationRequestItem){
		"amount":    func(it *NotificationRequestItem) { it.Amount.Value = 100000 },
		"success":   func(it *NotificationRequestItem) { it.Success = "false" },
		"reference": func(it *NotificationRequestItem) { it.PspReference = "other" },
		"unsigned":  func(it *NotificationRequestItem) { it.AdditionalData = nil },
	} {
		changed := it
		changed.AdditionalData = map[string]string{"hmacSignature": sig}
		change(&changed)
		if err := changed.Verify(key); !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s changed: %v, want ErrBadSignature", name, err)
		}
	}
	if err := it.Verify(strings.Repeat("0", 64)); !errors.Is(err, ErrBadSignature) {
		t.Errorf("another key: %v", err)
	}
}

func TestReadNotifications(t *testing.T) {
	ctx := context.Background()
	sb, c := sandboxClient(t, sandbox.AdyenOptions{})
	p := settledDuplicate(t, sb)
	ok, err := c.Refund(ctx, p.Psp, 8900, "eur", "", "key-ok")
	if err != nil {
		t.Fatal(err)
	}
	// More than is left: received, then refused in the notification.
	over, err := c.Refund(ctx, p.Psp, 100, "eur", "", "key-over")
	if err != nil {
		t.Fatal(err)
	}
	bodies := sb.Notify()
	file := bytes.Join(bodies, []byte("\n"))
	events, sum, err := ReadNotifications(bytes.NewReader(file), "n.jsonl", sandbox.AdyenHMACKey)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 || sum.Items != 2 {
		t.Fatalf("events %+v, summary %+v", events, sum)
	}
	if e := events[0]; e.RefundPsp != ok.PspReference || !e.Succeeded || e.Amount != 8900 || e.PaymentPsp != p.Psp || e.Live {
		t.Errorf("first event %+v", e)
	}
	if e := events[1]; e.RefundPsp != over.PspReference || e.Succeeded || !strings.Contains(e.Reason, "captured") || e.Line != 2 {
		t.Errorf("second event %+v: want a failure on line 2", e)
	}
	reversed, err := sb.Reverse(ok.PspReference)
	if err != nil {
		t.Fatal(err)
	}
	events, _, err = ReadNotifications(bytes.NewReader(reversed), "r.json", sandbox.AdyenHMACKey)
	if err != nil || len(events) != 1 || events[0].Succeeded || events[0].EventCode != EventRefundedReversed {
		t.Fatalf("REFUNDED_REVERSED: %+v, %v", events, err)
	}

	tampered := bytes.Replace(file, []byte(`"value":100}`), []byte(`"value":1}`), 1)
	for name, tc := range map[string]struct {
		data []byte
		key  string
		want []string
	}{
		"tampered":    {tampered, sandbox.AdyenHMACKey, []string{"n.jsonl line 2", "item 1", "HMAC signature does not match", "nothing was recorded"}},
		"other key":   {file, strings.Repeat("AB", 32), []string{"line 1", "HMAC"}},
		"key not hex": {file, "not-hex-secret", []string{"not hexadecimal"}},
		"empty":       {nil, sandbox.AdyenHMACKey, []string{"n.jsonl is empty"}},
		"not json":    {[]byte("{\"live\":\"false\"}\nhello\n"), sandbox.AdyenHMACKey, []string{"n.jsonl line 2", "not JSON"}},
		"no items":    {[]byte(`{"live":"false","notificationItems":[]}`), sandbox.AdyenHMACKey, []string{"line 1", "no notificationItems"}},
	} {
		_, _, err := ReadNotifications(bytes.NewReader(tc.data), "n.jsonl", tc.key)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not say %q", name, err, w)
			}
		}
		if strings.Contains(err.Error(), tc.key) && tc.key != "" {
			t.Errorf("%s: the error shows the HMAC key: %q", name, err)
		}
	}
}

func TestConfigFromEnv(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	if _, ok, err := ConfigFromEnv(env(nil)); ok || err != nil {
		t.Errorf("nothing set: configured %t, %v", ok, err)
	}
	_, ok, err := ConfigFromEnv(env(map[string]string{EnvAPIKey: "AQE_secret"}))
	if !ok || err == nil || !strings.Contains(err.Error(), "ADYEN_ENV") || strings.Contains(err.Error(), "AQE_secret") {
		t.Errorf("a key without ADYEN_ENV: %t, %v", ok, err)
	}
	if _, _, err := ConfigFromEnv(env(map[string]string{EnvAPIKey: "k", EnvEnvironment: "prod"})); err == nil {
		t.Errorf("ADYEN_ENV=prod accepted")
	}
	cfg, ok, err := ConfigFromEnv(env(map[string]string{EnvAPIKey: "k", EnvEnvironment: "Live", EnvLivePrefix: "abc-Co", EnvMerchantAccount: "M"}))
	if !ok || err != nil || cfg.Env != EnvLive || cfg.LivePrefix != "abc-Co" || cfg.MerchantAccount != "M" {
		t.Errorf("live: %+v %t %v", cfg, ok, err)
	}
}
