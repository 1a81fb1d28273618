package sandbox

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ppCall sends one PayPal call; token "" sends no Authorization.
func ppCall(t *testing.T, ts *httptest.Server, method, path, token string, query url.Values, body string, header map[string]string) (int, map[string]any) {
	t.Helper()
	target := ts.URL + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	req, err := http.NewRequest(method, target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, raw, err)
	}
	return resp.StatusCode, out
}

func ppToken(t *testing.T, ts *httptest.Server, id, secret string) (int, map[string]any, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/v1/oauth2/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("token: %s: %v", raw, err)
	}
	return resp.StatusCode, out, string(raw)
}

func ppLogin(t *testing.T, ts *httptest.Server) string {
	t.Helper()
	status, out, raw := ppToken(t, ts, PayPalClientID, PayPalSecret)
	if status != http.StatusOK {
		t.Fatalf("token: %d %s", status, raw)
	}
	return out["access_token"].(string)
}

func TestPayPalToken(t *testing.T) {
	_, ts := start(t, Options{Ordinary: -1, PayPalOrdinary: -1, NoScenarios: true})
	tests := []struct {
		name, id, secret string
		status           int
		errCode          string
	}{
		{"the app's credentials", PayPalClientID, PayPalSecret, http.StatusOK, ""},
		{"a wrong secret", PayPalClientID, "not-the-secret", http.StatusUnauthorized, "invalid_client"},
		{"an unknown client", "someone-else", PayPalSecret, http.StatusUnauthorized, "invalid_client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, out, raw := ppToken(t, ts, tt.id, tt.secret)
			if status != tt.status || (tt.errCode != "" && out["error"] != tt.errCode) {
				t.Fatalf("got %d %s, want %d %s", status, raw, tt.status, tt.errCode)
			}
			if strings.Contains(raw, tt.secret) {
				t.Errorf("the answer echoes the secret: %s", raw)
			}
			if tt.status == http.StatusOK && (out["token_type"] != "Bearer" || out["expires_in"] != float64(32400)) {
				t.Errorf("token answer %s", raw)
			}
		})
	}
	// A call without a token, or with a made-up one, is refused.
	for _, token := range []string{"", "A21AAmadeup"} {
		if status, _ := ppCall(t, ts, http.MethodGet, "/v1/reporting/transactions", token, searchQuery(testNow.Add(-24*time.Hour), testNow, nil), "", nil); status != http.StatusUnauthorized {
			t.Errorf("search with token %q: %d, want 401", token, status)
		}
	}
}

func TestPayPalTokenExpires(t *testing.T) {
	s, ts := start(t, Options{Ordinary: -1, PayPalOrdinary: -1, NoScenarios: true})
	token := ppLogin(t, ts)
	q := searchQuery(testNow.Add(-24*time.Hour), testNow, nil)
	if status, _ := ppCall(t, ts, http.MethodGet, "/v1/reporting/transactions", token, q, "", nil); status != http.StatusOK {
		t.Fatalf("fresh token: %d", status)
	}
	s.Advance(PayPalTokenLifetime + time.Second)
	if status, _ := ppCall(t, ts, http.MethodGet, "/v1/reporting/transactions", token, q, "", nil); status != http.StatusUnauthorized {
		t.Fatalf("expired token: %d, want 401", status)
	}
}

func searchQuery(start, end time.Time, extra url.Values) url.Values {
	q := url.Values{"start_date": {start.Format(time.RFC3339)}, "end_date": {end.Format(time.RFC3339)}}
	for k, v := range extra {
		q[k] = v
	}
	return q
}

func details(out map[string]any) []map[string]any {
	var rows []map[string]any
	list, _ := out["transaction_details"].([]any)
	for _, d := range list {
		rows = append(rows, d.(map[string]any))
	}
	return rows
}

func info(row map[string]any) map[string]any { return row["transaction_info"].(map[string]any) }

func TestPayPalSearchDateRange(t *testing.T) {
	_, ts := start(t, Options{Ordinary: -1, PayPalStale: 2 * time.Hour})
	token := ppLogin(t, ts)
	tests := []struct {
		name       string
		start, end string
		status     int
		issue      string
	}{
		{"31 days exactly", testNow.Add(-31 * 24 * time.Hour).Format(time.RFC3339), testNow.Format(time.RFC3339), http.StatusOK, ""},
		{"31 days and a second", testNow.Add(-31*24*time.Hour - time.Second).Format(time.RFC3339), testNow.Format(time.RFC3339), http.StatusBadRequest, "Date range is greater than 31 days"},
		{"end before start", testNow.Format(time.RFC3339), testNow.Add(-time.Hour).Format(time.RFC3339), http.StatusBadRequest, "End date must be after the start date."},
		{"no seconds", "2026-11-20T10:00Z", testNow.Format(time.RFC3339), http.StatusBadRequest, "Invalid date format. Use the Internet date and time format (RFC 3339), seconds required."},
		{"PayPal's offset without a colon", "2026-11-20T10:00:00-0700", testNow.Format(time.RFC3339), http.StatusOK, ""},
		{"more than three years back", testNow.Add(-PayPalHistory - 24*time.Hour).Format(time.RFC3339), testNow.Add(-PayPalHistory).Format(time.RFC3339), http.StatusBadRequest, "Data for the given start date is not available."},
		{"after the data was refreshed", testNow.Add(-time.Hour).Format(time.RFC3339), testNow.Format(time.RFC3339), http.StatusBadRequest, "Data for the given start date is not available."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, out := ppCall(t, ts, http.MethodGet, "/v1/reporting/transactions", token,
				url.Values{"start_date": {tt.start}, "end_date": {tt.end}}, "", nil)
			if status != tt.status {
				t.Fatalf("status %d, want %d: %v", status, tt.status, out)
			}
			if tt.issue == "" {
				return
			}
			if out["name"] != "INVALID_REQUEST" || issueOf(out) != tt.issue && out["message"] != tt.issue {
				t.Errorf("error %v, want INVALID_REQUEST saying %q", out, tt.issue)
			}
		})
	}
}

// allRows pages through one window.
func allRows(t *testing.T, ts *httptest.Server, token string, start, end time.Time, extra url.Values) []map[string]any {
	t.Helper()
	var rows []map[string]any
	for page := 1; ; page++ {
		q := searchQuery(start, end, extra)
		q.Set("page", strconv.Itoa(page))
		status, out := ppCall(t, ts, http.MethodGet, "/v1/reporting/transactions", token, q, "", nil)
		if status != http.StatusOK {
			t.Fatalf("page %d: %d %v", page, status, out)
		}
		rows = append(rows, details(out)...)
		if page >= int(out["total_pages"].(float64)) {
			return rows
		}
	}
}

func TestPayPalSearchPagingAndFields(t *testing.T) {
	_, ts := start(t, Options{})
	token := ppLogin(t, ts)
	from, to := testNow.Add(-30*24*time.Hour), testNow
	all := allRows(t, ts, token, from, to, url.Values{"page_size": {"500"}})
	paged := allRows(t, ts, token, from, to, url.Values{"page_size": {"7"}})
	if len(all) < 50 || len(paged) != len(all) {
		t.Fatalf("%d rows in pages of 7, %d in one page", len(paged), len(all))
	}
	seen := map[string]bool{}
	for i, row := range paged {
		id := info(row)["transaction_id"].(string)
		if seen[id] {
			t.Fatalf("row %d: transaction %s listed twice among balance-affecting rows", i, id)
		}
		seen[id] = true
		if id != info(all[i])["transaction_id"] {
			t.Fatalf("row %d differs between page sizes", i)
		}
		if _, ok := row["payer_info"]; ok {
			t.Fatalf("payer_info without fields=all")
		}
	}
	withPayer := allRows(t, ts, token, from, to, url.Values{"page_size": {"500"}, "fields": {"all"}})
	p := withPayer[0]["payer_info"].(map[string]any)
	if p["account_id"] == "" || !strings.Contains(p["email_address"].(string), "@") {
		t.Errorf("payer_info %v", p)
	}
	if _, err := time.Parse("2006-01-02T15:04:05-0700", info(withPayer[0])["transaction_initiation_date"].(string)); err != nil {
		t.Errorf("initiation date not in PayPal's form: %v", err)
	}
}

func TestPayPalSearchTransactionIDNotUnique(t *testing.T) {
	_, ts := start(t, Options{})
	token := ppLogin(t, ts)
	from, to := testNow.Add(-30*24*time.Hour), testNow
	rows := allRows(t, ts, token, from, to, url.Values{"page_size": {"500"}, "balance_affecting_records_only": {"N"}})
	count := map[string]int{}
	for _, row := range rows {
		count[info(row)["transaction_id"].(string)]++
	}
	twins := 0
	for _, n := range count {
		if n == 2 {
			twins++
		}
	}
	if twins == 0 {
		t.Fatalf("no transaction_id listed twice with balance_affecting_records_only=N among %d rows", len(rows))
	}
	if balance := allRows(t, ts, token, from, to, url.Values{"page_size": {"500"}}); len(balance) != len(count) {
		t.Errorf("%d balance-affecting rows, want one per id (%d)", len(balance), len(count))
	}
}

func TestPayPalSearchLag(t *testing.T) {
	s, ts := start(t, Options{Ordinary: -1, PayPalOrdinary: -1, NoScenarios: true, PayPalLag: 2 * time.Hour})
	token := ppLogin(t, ts)
	id := s.AddPayPalCapture(2500, "usd", "late@example.com", "INV-LAG")
	s.Advance(time.Second) // the search window must reach past the capture
	find := func() bool {
		for _, row := range allRows(t, ts, token, testNow.Add(-time.Hour), s.Now(), nil) {
			if info(row)["transaction_id"] == id {
				return true
			}
		}
		return false
	}
	visible := s.PayPalTransactions()[0].Visible
	if !visible.After(testNow) || visible.After(testNow.Add(2*time.Hour)) {
		t.Fatalf("visible at %v, want within the 2 h lag after %v", visible, testNow)
	}
	if visible.After(s.Now()) && find() {
		t.Fatalf("capture listed before its lag passed")
	}
	s.Advance(2 * time.Hour)
	if !find() {
		t.Fatalf("capture not listed after the lag")
	}
}

func refundPath(id string) string { return "/v2/payments/captures/" + id + "/refund" }

func TestPayPalRefundIdempotency(t *testing.T) {
	s, ts := start(t, Options{Ordinary: -1, PayPalOrdinary: -1, NoScenarios: true, PayPalLag: -1})
	token := ppLogin(t, ts)
	capture := s.AddPayPalCapture(10000, "usd", "buyer@example.com", "INV-1")
	partial := `{"amount":{"currency_code":"USD","value":"30.00"}}`
	withID := map[string]string{"PayPal-Request-Id": "doublecheck-refund-x-0-3000"}

	status, first := ppCall(t, ts, http.MethodPost, refundPath(capture), token, nil, partial, withID)
	if status != http.StatusCreated || first["status"] != "COMPLETED" {
		t.Fatalf("first refund: %d %v", status, first)
	}
	// Same PayPal-Request-Id: the first answer, even with another body; no new refund.
	status, again := ppCall(t, ts, http.MethodPost, refundPath(capture), token, nil, `{"amount":{"currency_code":"USD","value":"1.00"}}`, withID)
	if status != http.StatusCreated || again["id"] != first["id"] || len(s.PayPalRefundsOf(capture)) != 1 {
		t.Fatalf("replay: %d %v (first %v), %d refunds", status, again, first["id"], len(s.PayPalRefundsOf(capture)))
	}
	// Without an id, each call is a new refund: PayPal may duplicate.
	for range 2 {
		if status, out := ppCall(t, ts, http.MethodPost, refundPath(capture), token, nil, partial, nil); status != http.StatusCreated {
			t.Fatalf("refund without id: %d %v", status, out)
		}
	}
	if n := len(s.PayPalRefundsOf(capture)); n != 3 {
		t.Fatalf("%d refunds, want 3", n)
	}
	// 90.00 refunded; 30.00 more exceeds what is left.
	status, out := ppCall(t, ts, http.MethodPost, refundPath(capture), token, nil, partial, nil)
	if issue := issueOf(out); status != http.StatusUnprocessableEntity || issue != "REFUND_AMOUNT_EXCEEDED" {
		t.Fatalf("over-refund: %d %v", status, out)
	}
	// An empty body refunds the rest; then the capture is fully refunded.
	if status, out := ppCall(t, ts, http.MethodPost, refundPath(capture), token, nil, "", nil); status != http.StatusCreated {
		t.Fatalf("refund of the rest: %d %v", status, out)
	}
	status, out = ppCall(t, ts, http.MethodPost, refundPath(capture), token, nil, "", nil)
	if issue := issueOf(out); status != http.StatusUnprocessableEntity || issue != "CAPTURE_FULLY_REFUNDED" {
		t.Fatalf("refund of a fully refunded capture: %d %v", status, out)
	}
	// The first id still replays its refund, not the refusal.
	if status, replay := ppCall(t, ts, http.MethodPost, refundPath(capture), token, nil, partial, withID); status != http.StatusCreated || replay["id"] != first["id"] {
		t.Fatalf("replay after full refund: %d %v", status, replay)
	}
}

func issueOf(out map[string]any) string {
	d, _ := out["details"].([]any)
	if len(d) == 0 {
		return ""
	}
	issue, _ := d[0].(map[string]any)["issue"].(string)
	return issue
}

func TestPayPalRequestIDKept45Days(t *testing.T) {
	s, ts := start(t, Options{Ordinary: -1, PayPalOrdinary: -1, NoScenarios: true, PayPalLag: -1})
	capture := s.AddPayPalCapture(10000, "usd", "buyer@example.com", "INV-1")
	body := `{"amount":{"currency_code":"USD","value":"10.00"}}`
	withID := map[string]string{"PayPal-Request-Id": "key-1"}
	_, first := ppCall(t, ts, http.MethodPost, refundPath(capture), ppLogin(t, ts), nil, body, withID)
	s.Advance(44 * 24 * time.Hour)
	if _, out := ppCall(t, ts, http.MethodPost, refundPath(capture), ppLogin(t, ts), nil, body, withID); out["id"] != first["id"] {
		t.Fatalf("after 44 days: %v, want the first refund %v", out["id"], first["id"])
	}
	s.Advance(2 * 24 * time.Hour)
	if _, out := ppCall(t, ts, http.MethodPost, refundPath(capture), ppLogin(t, ts), nil, body, withID); out["id"] == first["id"] || len(s.PayPalRefundsOf(capture)) != 2 {
		t.Fatalf("after 46 days the id is forgotten: got %v, %d refunds", out, len(s.PayPalRefundsOf(capture)))
	}
}

func TestPayPalRefundRefusals(t *testing.T) {
	s, ts := start(t, Options{Ordinary: -1, PayPalOrdinary: -1, NoScenarios: true, PayPalLag: -1})
	old := s.AddPayPalCapture(5000, "usd", "old@example.com", "INV-OLD")
	s.Advance(PayPalRefundWindow + 24*time.Hour)
	fresh := s.AddPayPalCapture(5000, "eur", "new@example.com", "INV-NEW")
	token := ppLogin(t, ts)
	tests := []struct {
		name, capture, body string
		status              int
		issue               string
	}{
		{"older than 180 days", old, "", http.StatusUnprocessableEntity, "REFUND_TIME_LIMIT_EXCEEDED"},
		{"unknown capture", "0000000000000000X", "", http.StatusNotFound, "INVALID_RESOURCE_ID"},
		{"other currency", fresh, `{"amount":{"currency_code":"USD","value":"1.00"}}`, http.StatusUnprocessableEntity, "REFUND_CAPTURE_CURRENCY_MISMATCH"},
		{"more than captured", fresh, `{"amount":{"currency_code":"EUR","value":"50.01"}}`, http.StatusUnprocessableEntity, "REFUND_AMOUNT_EXCEEDED"},
		{"zero", fresh, `{"amount":{"currency_code":"EUR","value":"0.00"}}`, http.StatusBadRequest, "INVALID_PARAMETER_VALUE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, out := ppCall(t, ts, http.MethodPost, refundPath(tt.capture), token, nil, tt.body, nil)
			if status != tt.status || issueOf(out) != tt.issue {
				t.Fatalf("got %d %v, want %d %s", status, out, tt.status, tt.issue)
			}
		})
	}
	if n := len(s.PayPalRefundsOf(fresh)) + len(s.PayPalRefundsOf(old)); n != 0 {
		t.Fatalf("%d refunds made by refused requests", n)
	}
}

func TestPayPalScenariosSeeded(t *testing.T) {
	s, _ := start(t, Options{Ordinary: -1})
	byScenario := map[string][]PayPalTransaction{}
	for _, tx := range s.PayPalTransactions() {
		if tx.Scenario != "" && tx.BalanceAffecting && tx.Amount > 0 && strings.HasPrefix(tx.EventCode, "T00") {
			byScenario[tx.Scenario] = append(byScenario[tx.Scenario], tx)
		}
	}
	for _, k := range paypalScenarios {
		for inst := 1; inst <= k.instances; inst++ {
			name := k.kind + "/" + strconv.Itoa(inst)
			txs := byScenario[name]
			if len(txs) != 2 || txs[0].PayerID != txs[1].PayerID || txs[0].Amount != txs[1].Amount {
				t.Errorf("%s: %+v, want two payments of one payer and amount", name, txs)
			}
		}
	}
	if ts := byScenario["paypal_same_invoice/1"]; ts[0].InvoiceID != ts[1].InvoiceID {
		t.Errorf("same_invoice: invoices %s and %s", ts[0].InvoiceID, ts[1].InvoiceID)
	}
	// A dispute hold and its cancellation are rows linked to the capture, and
	// no refund.
	for inst, want := range map[string][]string{"1": {PayPalEventDisputeHold}, "2": {PayPalEventDisputeHold, PayPalEventHoldRelease}} {
		second := byScenario["paypal_dispute_hold/"+inst][1]
		var codes []string
		for _, tx := range s.PayPalTransactions() {
			if tx.ReferenceID == second.ID {
				codes = append(codes, tx.EventCode)
			}
		}
		if !slices.Equal(codes, want) || len(s.PayPalRefundsOf(second.ID)) != 0 || second.Refunded != 0 {
			t.Errorf("dispute_hold/%s: linked rows %v, want %v; refunds %v", inst, codes, want, s.PayPalRefundsOf(second.ID))
		}
	}
	if ts := byScenario["paypal_already_refunded/1"]; ts[1].Status != "V" || len(s.PayPalRefundsOf(ts[1].ID)) != 1 {
		t.Errorf("already_refunded: status %s, refunds %v", ts[1].Status, s.PayPalRefundsOf(ts[1].ID))
	}
}

// TestPayPalRefundCustomID: a refund's custom_id ("Appears in transaction and
// settlement reports", payments_payment_v2.json refund_request) is its row's
// custom_field in Transaction Search; without one the row keeps the
// capture's; longer than 127 characters it is refused.
func TestPayPalRefundCustomID(t *testing.T) {
	tests := []struct {
		name       string
		customID   string
		wantStatus int
		wantField  string
	}{
		{"named: on the refund's row", "doublecheck-refund-x-0-1000", http.StatusCreated, "doublecheck-refund-x-0-1000"},
		{"none: the capture's", "", http.StatusCreated, "order-77"},
		{"longer than 127 characters: refused", strings.Repeat("k", 128), http.StatusBadRequest, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ts := start(t, Options{Ordinary: -1, PayPalOrdinary: -1, NoScenarios: true, PayPalLag: -1})
			token := ppLogin(t, ts)
			capture := s.AddPayPalCapture(10000, "usd", "buyer@example.com", "INV-1")
			s.mu.Lock()
			s.pp.byID[capture].Custom = "order-77"
			s.mu.Unlock()
			body := map[string]any{"amount": map[string]string{"currency_code": "USD", "value": "10.00"}}
			if tt.customID != "" {
				body["custom_id"] = tt.customID
			}
			raw, _ := json.Marshal(body)
			status, out := ppCall(t, ts, http.MethodPost, refundPath(capture), token, nil, string(raw), nil)
			if status != tt.wantStatus {
				t.Fatalf("refund: %d %v, want %d", status, out, tt.wantStatus)
			}
			if status != http.StatusCreated {
				if n := len(s.PayPalRefundsOf(capture)); n != 0 {
					t.Fatalf("%d refunds after a refusal", n)
				}
				return
			}
			s.Advance(time.Second)
			for _, row := range allRows(t, ts, token, testNow.Add(-time.Hour), s.Now(), nil) {
				if info(row)["transaction_id"] == out["id"] {
					if got, _ := info(row)["custom_field"].(string); got != tt.wantField {
						t.Fatalf("refund row custom_field = %q, want %q", got, tt.wantField)
					}
					return
				}
			}
			t.Fatalf("refund %v not listed", out["id"])
		})
	}
}

// A refund answered PENDING keeps a row of status P until it settles: S and
// COMPLETED when it completes; D and FAILED when it is denied, and the
// capture can be refunded again.
func TestPayPalRefundPendingSettles(t *testing.T) {
	for _, tt := range []struct {
		name            string
		fail            bool
		rowAfter, after string
		leftAfter       int64
	}{
		{"completes", false, "S", "COMPLETED", 7000},
		{"denied", true, "D", "FAILED", 10000},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, ts := start(t, Options{Ordinary: -1, PayPalOrdinary: -1, NoScenarios: true, PayPalLag: -1})
			s.SetPayPalRefundsPending(2*time.Hour, tt.fail)
			capture := s.AddPayPalCapture(10000, "usd", "buyer@example.com", "INV-1")
			status, out := ppCall(t, ts, http.MethodPost, refundPath(capture), ppLogin(t, ts), nil, `{"amount":{"currency_code":"USD","value":"30.00"}}`, nil)
			details, _ := out["status_details"].(map[string]any)
			if status != http.StatusCreated || out["status"] != "PENDING" || details["reason"] != "ECHECK" {
				t.Fatalf("refund: %d %v, want 201 PENDING with reason ECHECK", status, out)
			}
			id := out["id"].(string)
			rowStatus := func() string {
				rows := s.PayPalRefundsOf(capture)
				if len(rows) != 1 || rows[0].ID != id {
					t.Fatalf("refund rows %+v, want one with id %s", rows, id)
				}
				return rows[0].Status
			}
			if got := rowStatus(); got != "P" {
				t.Fatalf("row status %s before settling, want P", got)
			}
			s.Advance(2*time.Hour + time.Second)
			if got := rowStatus(); got != tt.rowAfter {
				t.Fatalf("row status %s after settling, want %s", got, tt.rowAfter)
			}
			if _, got := ppCall(t, ts, http.MethodGet, "/v2/payments/refunds/"+id, ppLogin(t, ts), nil, "", nil); got["status"] != tt.after {
				t.Fatalf("GET refund: %v, want status %s", got, tt.after)
			}
			// What is left to refund: the whole capture again after a denial.
			s.SetPayPalRefundsPending(0, false)
			status, out = ppCall(t, ts, http.MethodPost, refundPath(capture), ppLogin(t, ts), nil,
				fmt.Sprintf(`{"amount":{"currency_code":"USD","value":"%s"}}`, formatMajor(tt.leftAfter, "USD")), nil)
			if status != http.StatusCreated || out["status"] != "COMPLETED" {
				t.Fatalf("refund of what is left (%d): %d %v", tt.leftAfter, status, out)
			}
		})
	}
}
