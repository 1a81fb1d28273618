package sandbox

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // the CET zone on machines without a zone database (Windows)
)

// Adyen is a sandbox of the one Adyen Checkout API v71 call doublecheck makes,
// POST /v71/payments/{paymentPspReference}/refunds, over a merchant account
// whose payments it also writes as Adyen's Received payment details and
// Settlement details reports, and whose refunds it confirms with signed REFUND
// notifications. It models, from Adyen's documentation:
//
//   - authentication by X-API-Key (401 without the right key) and the
//     merchantAccount of the body (403 for another);
//   - PaymentRefundRequest/PaymentRefundResponse of Adyen/adyen-openapi
//     json/CheckoutService-v71.json: the answer is 201 with status "received";
//     the outcome comes later, in a REFUND notification;
//   - idempotency (https://docs.adyen.com/development-resources/api-idempotency):
//     keys of at most 64 characters, per company account, kept at least 31
//     days (AdyenOptions.KeyTTL); a key seen before answers "the response to
//     the first attempt", whatever the new body (the docs name no error for
//     another body, so a client has to compare the answer with what it
//     asked); a key whose first request is still running answers 422 with
//     error code 704 "request already processed or in progress" and the
//     header transient-error: true;
//   - "by default the total refunded value cannot exceed the captured
//     amount" (same page): a refund over what is left is received, and its
//     REFUND notification says success false — Adyen checks modifications
//     after it receives them;
//   - the HMAC signature of notification items: base64 HMAC-SHA256, with the
//     hexadecimal HMAC key's bytes, over pspReference:originalReference:
//     merchantAccountCode:merchantReference:value:currency:eventCode:success.
//
// AdyenOptions.DropAnswers makes the next refund requests commit and then
// answer 500, as when Adyen received a refund but the answer was lost.
type Adyen struct {
	opts AdyenOptions

	mu       sync.Mutex
	now      time.Time
	rng      *rand.Rand
	payments []*AdyenPayment
	byPsp    map[string]*AdyenPayment
	used     map[string]bool // every Psp Reference given out, payments' and refunds'
	keys     map[string]*adyenKey
	pending  []AdyenRefund // refunds received and not yet notified
	refunds  []AdyenRefund
	dropped  int
	requests int
}

// AdyenOptions configure the Adyen sandbox; the zero value works.
type AdyenOptions struct {
	Seed int64
	// Now is the sandbox clock, frozen until Advance; zero: a fixed date.
	Now time.Time
	// APIKey, MerchantAccount and HMACKey default to AdyenTestKey,
	// AdyenMerchantAccount and AdyenHMACKey.
	APIKey, MerchantAccount, HMACKey string
	// KeyTTL is how long an Idempotency-Key is kept; default 31 days.
	KeyTTL time.Duration
	// DropAnswers: the first n refund requests are committed and then
	// answered 500 without the refund.
	DropAnswers int
	// Latency holds each refund request this long (on the wall clock) after
	// its Idempotency-Key is taken and before it runs: a second request with
	// the key meanwhile gets error 704.
	Latency time.Duration
}

// Credentials of the Adyen sandbox. The HMAC key is hexadecimal, as Adyen
// shows webhook HMAC keys.
const (
	AdyenTestKey         = "AQE_sandbox_adyen_test_key"
	AdyenMerchantAccount = "DoublecheckDemoECOM"
	AdyenCompanyAccount  = "DoublecheckDemo"
	AdyenHMACKey         = "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056"
)

// AdyenPayment is one payment of the sandbox's merchant account.
type AdyenPayment struct {
	Psp, MerchantReference, Method string
	ShopperEmail, ShopperReference string
	Created                        time.Time
	Currency                       string // upper case
	Value                          int64  // Adyen minor units
	// Status is the Received payment details Type: Authorised, Settled,
	// Refused…
	Status   string
	Settled  int64 // captured and settled (0 for authorised only)
	Refunded int64 // confirmed refunds
	Scenario string
}

// AdyenRefund is a refund the sandbox received.
type AdyenRefund struct {
	Psp, PaymentPsp, Reference, Key string
	Currency                        string
	Value                           int64
	Received                        time.Time
	// Success is what its REFUND notification says: false when it would
	// take more than was captured and not yet refunded.
	Success bool
	Reason  string
}

type adyenKey struct {
	at      time.Time
	running bool
	status  int
	body    []byte
}

// NewAdyen builds the sandbox and its payments.
func NewAdyen(opts AdyenOptions) *Adyen {
	if opts.Now.IsZero() {
		opts.Now = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	}
	if opts.APIKey == "" {
		opts.APIKey = AdyenTestKey
	}
	if opts.MerchantAccount == "" {
		opts.MerchantAccount = AdyenMerchantAccount
	}
	if opts.HMACKey == "" {
		opts.HMACKey = AdyenHMACKey
	}
	if opts.KeyTTL <= 0 {
		opts.KeyTTL = 31 * 24 * time.Hour
	}
	a := &Adyen{opts: opts, now: opts.Now.UTC(), rng: rand.New(rand.NewSource(opts.Seed)),
		byPsp: map[string]*AdyenPayment{}, used: map[string]bool{}, keys: map[string]*adyenKey{}, dropped: opts.DropAnswers}
	a.generate()
	return a
}

// Now is the sandbox clock.
func (a *Adyen) Now() time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.now
}

// Advance moves the clock.
func (a *Adyen) Advance(d time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.now = a.now.Add(d)
}

// Payments are the account's payments, oldest first.
func (a *Adyen) Payments() []AdyenPayment {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]AdyenPayment, len(a.payments))
	for i, p := range a.payments {
		out[i] = *p
	}
	return out
}

// Refunds are the refunds received, in order.
func (a *Adyen) Refunds() []AdyenRefund {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.refunds)
}

// Requests counts refund requests answered.
func (a *Adyen) Requests() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.requests
}

// psp is a new 16-digit Psp Reference.
func (a *Adyen) psp() string {
	for {
		s := strconv.FormatInt(8800000000000000+a.rng.Int63n(99999999999999), 10)
		if !a.used[s] {
			a.used[s] = true
			return s
		}
	}
}

func (a *Adyen) add(p AdyenPayment) *AdyenPayment {
	p.Psp = a.psp()
	if p.Method == "" {
		p.Method = "visa"
	}
	if p.Currency == "" {
		p.Currency = "EUR"
	}
	if p.Status == "Settled" && p.Settled == 0 {
		p.Settled = p.Value
	}
	a.payments = append(a.payments, &p)
	a.byPsp[p.Psp] = &p
	return &p
}

// generate makes ordinary payments and the duplicate scenarios, all within
// the ten days before the clock.
func (a *Adyen) generate() {
	start := a.now.Add(-10 * 24 * time.Hour)
	at := func(h float64) time.Time {
		return start.Add(time.Duration(h * float64(time.Hour))).Truncate(time.Second)
	}
	for i := range 40 {
		status := "Settled"
		switch i % 10 {
		case 3:
			status = "Refused"
		case 7:
			status = "Authorised"
		}
		a.add(AdyenPayment{MerchantReference: fmt.Sprintf("web-%05d", 3000+i), ShopperEmail: fmt.Sprintf("shopper%02d@example.net", i),
			ShopperReference: fmt.Sprintf("cust-%03d", i), Created: at(float64(i) * 5.5), Value: int64(1500 + 137*i), Status: status})
	}
	// double_click: one order paid twice, seconds apart.
	p := a.add(AdyenPayment{MerchantReference: "web-order-7001", ShopperEmail: "mia@example.com", ShopperReference: "cust-mia",
		Created: at(50), Value: 8900, Status: "Settled", Scenario: "double_click/1"})
	a.add(AdyenPayment{MerchantReference: p.MerchantReference, ShopperEmail: p.ShopperEmail, ShopperReference: p.ShopperReference,
		Created: p.Created.Add(4 * time.Second), Value: p.Value, Status: "Settled", Scenario: "double_click/1"})
	// retry_new_reference: the shop retried with a new merchant reference.
	p = a.add(AdyenPayment{MerchantReference: "web-order-7002", ShopperEmail: "noah@example.com", ShopperReference: "cust-noah",
		Created: at(80), Value: 12550, Status: "Settled", Method: "mc", Scenario: "retry_new_reference/1"})
	a.add(AdyenPayment{MerchantReference: "web-order-7002-retry", ShopperEmail: p.ShopperEmail, ShopperReference: p.ShopperReference,
		Created: p.Created.Add(70 * time.Second), Value: p.Value, Status: "Settled", Method: "mc", Scenario: "retry_new_reference/1"})
	// other_currency: a zero-decimal duplicate.
	p = a.add(AdyenPayment{MerchantReference: "web-order-7003", ShopperEmail: "yui@example.jp", ShopperReference: "cust-yui",
		Created: at(120), Currency: "JPY", Value: 4800, Status: "Settled", Scenario: "other_currency/1"})
	a.add(AdyenPayment{MerchantReference: p.MerchantReference, ShopperEmail: p.ShopperEmail, ShopperReference: p.ShopperReference,
		Created: p.Created.Add(9 * time.Second), Currency: "JPY", Value: p.Value, Status: "Settled", Scenario: "other_currency/1"})
	// declined_then_paid: not a duplicate.
	p = a.add(AdyenPayment{MerchantReference: "web-order-7004", ShopperEmail: "lea@example.com", ShopperReference: "cust-lea",
		Created: at(150), Value: 3999, Status: "Refused", Scenario: "declined_then_paid/1"})
	a.add(AdyenPayment{MerchantReference: p.MerchantReference, ShopperEmail: p.ShopperEmail, ShopperReference: p.ShopperReference,
		Created: p.Created.Add(40 * time.Second), Value: p.Value, Status: "Settled", Scenario: "declined_then_paid/1"})
	// authorised_only: the second is authorised, never captured.
	p = a.add(AdyenPayment{MerchantReference: "web-order-7005", ShopperEmail: "sam@example.com", ShopperReference: "cust-sam",
		Created: at(180), Value: 2500, Status: "Settled", Scenario: "authorised_only/1"})
	a.add(AdyenPayment{MerchantReference: p.MerchantReference, ShopperEmail: p.ShopperEmail, ShopperReference: p.ShopperReference,
		Created: p.Created.Add(6 * time.Second), Value: p.Value, Status: "Authorised", Scenario: "authorised_only/1"})
	// partly_refunded: the duplicate already has a quarter refunded.
	p = a.add(AdyenPayment{MerchantReference: "web-order-7006", ShopperEmail: "ola@example.com", ShopperReference: "cust-ola",
		Created: at(200), Value: 6000, Status: "Settled", Scenario: "partly_refunded/1"})
	dup := a.add(AdyenPayment{MerchantReference: p.MerchantReference, ShopperEmail: p.ShopperEmail, ShopperReference: p.ShopperReference,
		Created: p.Created.Add(3 * time.Second), Value: p.Value, Status: "Settled", Scenario: "partly_refunded/1"})
	dup.Refunded = 1500
	a.refunds = append(a.refunds, AdyenRefund{Psp: a.psp(), PaymentPsp: dup.Psp, Currency: dup.Currency, Value: 1500,
		Received: dup.Created.Add(2 * time.Hour), Success: true, Reference: "support-ticket-88"})
}

// Listen serves the sandbox on addr ("127.0.0.1:0" for any port) until the
// returned stop is called; base is its Checkout endpoint, ending in /v71.
func (a *Adyen) Listen(addr string) (base string, stop func(context.Context) error, err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("adyen sandbox: listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: a, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String() + "/v71", srv.Shutdown, nil
}

// adyenError is Adyen's ServiceError.
type adyenError struct {
	Status       int    `json:"status"`
	ErrorCode    string `json:"errorCode"`
	Message      string `json:"message"`
	ErrorType    string `json:"errorType"`
	PspReference string `json:"pspReference,omitempty"`
}

func writeAdyen(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
}

func adyenErrorBody(status int, code, errType, msg string) []byte {
	b, _ := json.Marshal(adyenError{Status: status, ErrorCode: code, Message: msg, ErrorType: errType})
	return b
}

// ServeHTTP answers POST /v71/payments/{psp}/refunds.
func (a *Adyen) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/v71/payments/")
	psp, tail, _ := strings.Cut(rest, "/")
	if !ok || tail != "refunds" || psp == "" {
		writeAdyen(w, http.StatusNotFound, adyenErrorBody(404, "000", "validation", "Not found: the sandbox serves POST /v71/payments/{paymentPspReference}/refunds"))
		return
	}
	if r.Method != http.MethodPost {
		writeAdyen(w, http.StatusMethodNotAllowed, adyenErrorBody(405, "000", "validation", "Method not allowed"))
		return
	}
	if r.Header.Get("X-API-Key") != a.opts.APIKey {
		writeAdyen(w, http.StatusUnauthorized, adyenErrorBody(401, "000", "security", "HTTP Status Response - Unauthorized"))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if len(key) > 64 {
		writeAdyen(w, http.StatusUnprocessableEntity, adyenErrorBody(422, "702", "validation", "Idempotency-Key is longer than 64 characters"))
		return
	}
	status, out, transient := a.refund(r.Context(), psp, key, body)
	if transient {
		w.Header().Set("transient-error", "true")
	}
	if key != "" && status < 500 {
		w.Header().Set("Idempotency-Key", key)
	}
	writeAdyen(w, status, out)
}

func (a *Adyen) refund(ctx context.Context, psp, key string, body []byte) (status int, out []byte, transient bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.requests++
	if key != "" {
		if k, ok := a.keys[key]; ok && a.now.Sub(k.at) < a.opts.KeyTTL {
			if k.running {
				return http.StatusUnprocessableEntity, adyenErrorBody(422, "704", "validation", "request already processed or in progress"), true
			}
			return k.status, k.body, false // the response to the first attempt, whatever this body says
		}
		k := &adyenKey{at: a.now, running: true}
		a.keys[key] = k
		if a.opts.Latency > 0 {
			a.mu.Unlock()
			select {
			case <-time.After(a.opts.Latency):
			case <-ctx.Done():
			}
			a.mu.Lock()
		}
		defer func() {
			// Every answer but a lost one is what the key replays; a lost
			// answer replays the refund it made.
			k.running = false
			if status != http.StatusInternalServerError {
				k.status, k.body = status, out
			}
		}()
	}
	status, out = a.makeRefund(psp, key, body)
	return status, out, false
}

// makeRefund validates and receives a refund; a dropped answer (DropAnswers)
// stores the refund's answer under the key and answers 500.
func (a *Adyen) makeRefund(psp, key string, body []byte) (status int, out []byte) {
	var req struct {
		Amount struct {
			Currency string `json:"currency"`
			Value    *int64 `json:"value"`
		} `json:"amount"`
		MerchantAccount      string `json:"merchantAccount"`
		Reference            string `json:"reference"`
		MerchantRefundReason string `json:"merchantRefundReason"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return http.StatusBadRequest, adyenErrorBody(400, "702", "validation", "Structure of PaymentRefundRequest contains the following unknown fields or is not valid JSON")
	}
	switch {
	case req.MerchantAccount == "" || req.Amount.Value == nil || req.Amount.Currency == "":
		return http.StatusUnprocessableEntity, adyenErrorBody(422, "100", "validation", "Required field 'amount' or 'merchantAccount' is missing")
	case req.MerchantAccount != a.opts.MerchantAccount:
		return http.StatusForbidden, adyenErrorBody(403, "901", "security", "Invalid Merchant Account")
	case *req.Amount.Value <= 0:
		return http.StatusUnprocessableEntity, adyenErrorBody(422, "137", "validation", "Invalid amount specified")
	case len(req.Reference) > 80:
		return http.StatusUnprocessableEntity, adyenErrorBody(422, "702", "validation", "reference is longer than 80 characters")
	}
	p := a.byPsp[psp]
	if p == nil {
		return http.StatusUnprocessableEntity, adyenErrorBody(422, "167", "validation", "Original pspReference required for this operation")
	}
	if !strings.EqualFold(req.Amount.Currency, p.Currency) {
		return http.StatusUnprocessableEntity, adyenErrorBody(422, "138", "validation", "Refund currency must match the payment's currency")
	}
	ref := AdyenRefund{Psp: a.psp(), PaymentPsp: psp, Reference: req.Reference, Key: key, Currency: p.Currency,
		Value: *req.Amount.Value, Received: a.now, Success: true}
	// Adyen checks a modification after it receives it: a refund over what
	// was captured and not yet refunded is received, then refused in its
	// REFUND notification.
	var inFlight int64
	for _, q := range a.pending {
		if q.PaymentPsp == psp && q.Success {
			inFlight += q.Value
		}
	}
	switch {
	case p.Settled == 0:
		ref.Success, ref.Reason = false, "Payment not captured: a refund needs a captured payment (cancel or reverse an authorisation instead)"
	case p.Refunded+inFlight+ref.Value > p.Settled:
		ref.Success, ref.Reason = false, "Insufficient in-process funds on the payment: refunds cannot exceed the captured amount"
	}
	a.refunds = append(a.refunds, ref)
	a.pending = append(a.pending, ref)
	resp, _ := json.Marshal(map[string]any{
		"amount":              map[string]any{"currency": p.Currency, "value": ref.Value},
		"merchantAccount":     a.opts.MerchantAccount,
		"paymentPspReference": psp,
		"pspReference":        ref.Psp,
		"reference":           req.Reference,
		"status":              "received",
	})
	if a.dropped > 0 {
		if k := a.keys[key]; k != nil {
			k.status, k.body = http.StatusCreated, resp
		}
		a.dropped--
		return http.StatusInternalServerError, adyenErrorBody(500, "905", "internal", "Internal error: the answer was lost after the refund was received")
	}
	return http.StatusCreated, resp
}

// Notify settles the refunds received since the last call and returns their
// REFUND notification request bodies, signed with the HMAC key, one body per
// refund, as Adyen posts them.
func (a *Adyen) Notify() [][]byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out [][]byte
	for _, ref := range a.pending {
		if ref.Success {
			a.byPsp[ref.PaymentPsp].Refunded += ref.Value
		}
		out = append(out, a.notification(ref, "REFUND"))
	}
	a.pending = nil
	return out
}

// Reverse returns a confirmed refund's money to the merchant and its
// REFUNDED_REVERSED notification body.
func (a *Adyen) Reverse(refundPsp string) ([]byte, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, ref := range a.refunds {
		if ref.Psp == refundPsp && ref.Success {
			a.byPsp[ref.PaymentPsp].Refunded -= ref.Value
			return a.notification(ref, "REFUNDED_REVERSED"), nil
		}
	}
	return nil, fmt.Errorf("no successful refund %s", refundPsp)
}

func (a *Adyen) notification(ref AdyenRefund, event string) []byte {
	success := strconv.FormatBool(ref.Success)
	if event != "REFUND" {
		success = "true"
	}
	item := map[string]any{
		"amount":              map[string]any{"currency": ref.Currency, "value": ref.Value},
		"eventCode":           event,
		"eventDate":           a.now.Format(time.RFC3339),
		"merchantAccountCode": a.opts.MerchantAccount,
		"merchantReference":   ref.Reference,
		"originalReference":   ref.PaymentPsp,
		"pspReference":        ref.Psp,
		"reason":              ref.Reason,
		"success":             success,
	}
	signing := strings.Join([]string{ref.Psp, ref.PaymentPsp, a.opts.MerchantAccount, ref.Reference,
		strconv.FormatInt(ref.Value, 10), ref.Currency, event, success}, ":")
	item["additionalData"] = map[string]string{"hmacSignature": adyenSign(a.opts.HMACKey, signing)}
	b, _ := json.Marshal(map[string]any{
		"live":              "false",
		"notificationItems": []any{map[string]any{"NotificationRequestItem": item}},
	})
	return b
}

// adyenSign is Adyen's notification signature: base64 HMAC-SHA256 with the
// hexadecimal key's bytes.
func adyenSign(hexKey, data string) string {
	key, _ := hex.DecodeString(hexKey)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// ReportLayout is a report's column order: Adyen changed the default order in
// its 2023 reporting migration.
type ReportLayout int

// The two column orders the sandbox writes.
const (
	LayoutPre2023 ReportLayout = iota
	Layout2023
)

// WriteReceivedPaymentDetails writes the account's payments as a Received
// payment details report, in the account's time zone, CET.
func (a *Adyen) WriteReceivedPaymentDetails(w io.Writer, layout ReportLayout) error {
	cols := []string{"Company Account", "Merchant Account", "Psp Reference", "Merchant Reference", "Payment Method",
		"Creation Date", "TimeZone", "Currency", "Amount", "Type", "Risk Scoring", "Shopper Interaction", "Shopper Email", "Shopper Reference"}
	if layout == Layout2023 {
		cols = []string{"Company Account", "Merchant Account", "Psp Reference", "Merchant Reference", "Type",
			"Creation Date", "TimeZone", "Currency", "Amount", "Payment Method", "Shopper Reference", "Shopper Email", "Shopper Interaction", "Risk Scoring"}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	var rows []map[string]string
	for _, p := range a.payments {
		rows = append(rows, map[string]string{
			"Company Account": AdyenCompanyAccount, "Merchant Account": a.opts.MerchantAccount, "Psp Reference": p.Psp,
			"Merchant Reference": p.MerchantReference, "Payment Method": p.Method, "Creation Date": cet(p.Created),
			"TimeZone": "CET", "Currency": p.Currency, "Amount": major(p.Value, p.Currency), "Type": p.Status,
			"Risk Scoring": "0", "Shopper Interaction": "Ecommerce", "Shopper Email": p.ShopperEmail, "Shopper Reference": p.ShopperReference,
		})
	}
	return writeCSV(w, cols, rows)
}

// WriteSettlementDetails writes the settlements and confirmed refunds as a
// Settlement details report with one batch, and the batch's payout.
func (a *Adyen) WriteSettlementDetails(w io.Writer, layout ReportLayout) error {
	cols := []string{"Company Account", "Merchant Account", "Psp Reference", "Merchant Reference", "Payment Method",
		"Creation Date", "TimeZone", "Type", "Modification Reference", "Gross Currency", "Gross Debit (GC)", "Gross Credit (GC)",
		"Exchange Rate", "Net Currency", "Net Debit (NC)", "Net Credit (NC)", "Commission (NC)", "Batch Number"}
	if layout == Layout2023 {
		cols = []string{"Company Account", "Merchant Account", "Psp Reference", "Merchant Reference", "Payment Method",
			"Creation Date", "TimeZone", "Type", "Modification Reference", "Gross Currency", "Gross Credit (GC)", "Gross Debit (GC)",
			"Net Currency", "Net Credit (NC)", "Net Debit (NC)", "Exchange Rate", "Batch Number", "Commission (NC)"}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	var rows []map[string]string
	for _, p := range a.payments {
		if p.Settled == 0 {
			continue
		}
		rows = append(rows, map[string]string{
			"Company Account": AdyenCompanyAccount, "Merchant Account": a.opts.MerchantAccount, "Psp Reference": p.Psp,
			"Merchant Reference": p.MerchantReference, "Payment Method": p.Method, "Creation Date": cet(p.Created.Add(12 * time.Hour)),
			"TimeZone": "CET", "Type": "Settled", "Modification Reference": p.Psp, "Gross Currency": p.Currency,
			"Gross Credit (GC)": major(p.Settled, p.Currency), "Exchange Rate": "1", "Net Currency": p.Currency,
			"Net Credit (NC)": major(p.Settled, p.Currency), "Commission (NC)": "0", "Batch Number": "1",
		})
	}
	for _, ref := range a.refunds {
		if !ref.Success || slices.ContainsFunc(a.pending, func(q AdyenRefund) bool { return q.Psp == ref.Psp }) {
			continue
		}
		p := a.byPsp[ref.PaymentPsp]
		rows = append(rows, map[string]string{
			"Company Account": AdyenCompanyAccount, "Merchant Account": a.opts.MerchantAccount, "Psp Reference": ref.PaymentPsp,
			"Merchant Reference": p.MerchantReference, "Payment Method": p.Method, "Creation Date": cet(ref.Received),
			"TimeZone": "CET", "Type": "Refunded", "Modification Reference": ref.Psp, "Gross Currency": ref.Currency,
			"Gross Debit (GC)": major(ref.Value, ref.Currency), "Exchange Rate": "1", "Net Currency": ref.Currency,
			"Net Debit (NC)": major(ref.Value, ref.Currency), "Batch Number": "1",
		})
	}
	rows = append(rows, map[string]string{"Company Account": AdyenCompanyAccount, "Merchant Account": a.opts.MerchantAccount,
		"Creation Date": cet(a.now), "TimeZone": "CET", "Type": "MerchantPayout", "Gross Currency": "EUR", "Net Currency": "EUR", "Batch Number": "1"})
	return writeCSV(w, cols, rows)
}

// cet writes t as the reports do with TimeZone CET: Central European Time,
// with its summer time (Adyen's sample report labels a June row CET).
func cet(t time.Time) string {
	return t.In(centralEurope).Format("2006-01-02 15:04:05")
}

var centralEurope = func() *time.Location {
	loc, err := time.LoadLocation("CET")
	if err != nil {
		panic(err) // time/tzdata is linked in: the zone is always there
	}
	return loc
}()

// adyenZeroDecimal are the sandbox's currencies without decimals.
var adyenZeroDecimal = []string{"JPY", "KRW", "CVE"}

// major writes minor units as the reports' major units.
func major(v int64, currency string) string {
	if slices.Contains(adyenZeroDecimal, currency) {
		return strconv.FormatInt(v, 10)
	}
	return fmt.Sprintf("%d.%02d", v/100, v%100)
}

func writeCSV(w io.Writer, cols []string, rows []map[string]string) error {
	var b strings.Builder
	b.WriteString(strings.Join(cols, ",") + "\n")
	for _, r := range rows {
		vals := make([]string, len(cols))
		for i, c := range cols {
			vals[i] = r[c]
		}
		b.WriteString(strings.Join(vals, ",") + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
