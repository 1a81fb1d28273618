package sandbox

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func adyenPost(t *testing.T, url, key, body string) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("X-API-Key", AdyenTestKey)
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp, out
}

func settledPayment(t *testing.T, a *Adyen) AdyenPayment {
	t.Helper()
	for _, p := range a.Payments() {
		if p.Scenario == "double_click/1" {
			return p
		}
	}
	t.Fatal("no double_click payment")
	return AdyenPayment{}
}

// A second request with a key whose first request still runs gets Adyen's
// error 704 with transient-error: true.
func TestAdyenKeyInProgress(t *testing.T) {
	a := NewAdyen(AdyenOptions{Latency: 300 * time.Millisecond})
	srv := httptest.NewServer(a)
	defer srv.Close()
	p := settledPayment(t, a)
	url := srv.URL + "/v71/payments/" + p.Psp + "/refunds"
	body := `{"amount":{"currency":"EUR","value":100},"merchantAccount":"` + AdyenMerchantAccount + `"}`
	var wg sync.WaitGroup
	wg.Add(1)
	var first *http.Response
	go func() {
		defer wg.Done()
		first, _ = adyenPost(t, url, "k-1", body)
	}()
	for a.Requests() == 0 {
		time.Sleep(time.Millisecond)
	}
	resp, out := adyenPost(t, url, "k-1", body)
	wg.Wait()
	if resp.StatusCode != 422 || out["errorCode"] != "704" || resp.Header.Get("transient-error") != "true" {
		t.Fatalf("second request while the first runs: %d %v %v", resp.StatusCode, out, resp.Header)
	}
	if first.StatusCode != 201 {
		t.Fatalf("first request: %d", first.StatusCode)
	}
}

func TestAdyenKeyLifetime(t *testing.T) {
	a := NewAdyen(AdyenOptions{})
	srv := httptest.NewServer(a)
	defer srv.Close()
	p := settledPayment(t, a)
	url := srv.URL + "/v71/payments/" + p.Psp + "/refunds"
	body := `{"amount":{"currency":"EUR","value":100},"merchantAccount":"` + AdyenMerchantAccount + `"}`
	_, first := adyenPost(t, url, "k-1", body)
	a.Advance(30 * 24 * time.Hour)
	_, again := adyenPost(t, url, "k-1", strings.Replace(body, "100", "200", 1))
	if again["pspReference"] != first["pspReference"] {
		t.Fatalf("within 31 days, another body: %v; want the first answer %v", again, first)
	}
	a.Advance(2 * 24 * time.Hour)
	_, later := adyenPost(t, url, "k-1", body)
	if later["pspReference"] == first["pspReference"] || len(a.Refunds()) != 3 { // the seeded one and two
		t.Fatalf("after 32 days the key is new: %v, refunds %d", later, len(a.Refunds()))
	}
	for name, tc := range map[string]struct {
		key, body string
		status    int
	}{
		"wrong merchant": {"k-2", strings.Replace(body, AdyenMerchantAccount, "Other", 1), 403},
		"no amount":      {"k-3", `{"merchantAccount":"` + AdyenMerchantAccount + `"}`, 422},
		"long key":       {strings.Repeat("k", 65), body, 422},
		"not json":       {"k-4", "{", 400},
	} {
		if resp, _ := adyenPost(t, url, tc.key, tc.body); resp.StatusCode != tc.status {
			t.Errorf("%s: %d, want %d", name, resp.StatusCode, tc.status)
		}
	}
}

func TestAdyenReportsHaveBothLayouts(t *testing.T) {
	a := NewAdyen(AdyenOptions{})
	for _, layout := range []ReportLayout{LayoutPre2023, Layout2023} {
		var rpd, sdr bytes.Buffer
		if err := a.WriteReceivedPaymentDetails(&rpd, layout); err != nil {
			t.Fatal(err)
		}
		if err := a.WriteSettlementDetails(&sdr, layout); err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(rpd.String(), "\n"); n != len(a.Payments())+1 {
			t.Errorf("layout %d: %d lines for %d payments", layout, n, len(a.Payments()))
		}
		if !strings.Contains(sdr.String(), ",Refunded,") || !strings.Contains(sdr.String(), ",MerchantPayout,") {
			t.Errorf("layout %d settlement report lacks refunds or the payout:\n%s", layout, sdr.String())
		}
	}
}
