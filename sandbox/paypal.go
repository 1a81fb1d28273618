package sandbox

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The sandbox also plays one PayPal merchant account: the OAuth2 token
// endpoint, Transaction Search and captures' refunds, modelled from PayPal's
// OpenAPI descriptions (paypal/paypal-rest-api-specifications,
// openapi/reporting_transactions_v1.json and openapi/payments_payment_v2.json),
// its idempotency guide (https://developer.paypal.com/reference/guidelines/idempotency)
// and the requests plutov/paypal v4.8.0 sends (client.go, transaction_search.go, order.go).

// PayPal REST app credentials the sandbox accepts (client credentials grant).
const (
	PayPalClientID = "doublecheck-sandbox-client"
	PayPalSecret   = "doublecheck-sandbox-secret"
	// PayPalAccountNumber is the merchant's account number in search responses.
	PayPalAccountNumber = "DCSBXMERCHANT01"
	PayPalAccountName   = "Acme Coffee Roasters (PayPal sandbox)"
)

const (
	// PayPalTokenLifetime is an access token's expires_in (PayPal answers 32400 s).
	PayPalTokenLifetime = 9 * time.Hour
	// PayPalRequestIDLifetime is how long PayPal keeps a refund's PayPal-Request-Id
	// ("The server stores keys for 45 days", payments_payment_v2.json).
	PayPalRequestIDLifetime = 45 * 24 * time.Hour
	// PayPalMaxSearchSpan is the widest start_date..end_date Transaction Search
	// accepts ("The maximum supported range is 31 days").
	PayPalMaxSearchSpan = 31 * 24 * time.Hour
	// PayPalHistory is how far back Transaction Search lists ("transaction for
	// the previous three years").
	PayPalHistory = 3 * 365 * 24 * time.Hour
	// PayPalDefaultLag is the most a transaction waits before search lists it
	// ("It takes a maximum of three hours for executed transactions to appear").
	PayPalDefaultLag = 3 * time.Hour
	// PayPalRefundWindow is how long after a payment PayPal lets the merchant
	// refund it (180 days, PayPal's user agreement); later refunds answer
	// REFUND_TIME_LIMIT_EXCEEDED.
	PayPalRefundWindow = 180 * 24 * time.Hour
)

// PayPal transaction event codes the sandbox uses (PayPal's "Transaction event
// codes" reference, developer.paypal.com/docs/transaction-search/transaction-event-codes:
// "T1107 Payment refund, initiated by merchant", "T1110 Hold for dispute
// investigation", "T1111 Cancellation of hold for dispute resolution").
const (
	PayPalEventCheckout    = "T0006" // PayPal Checkout (express checkout) payment
	PayPalEventPreapproved = "T0003" // preapproved payment (billing agreement)
	PayPalEventRefund      = "T1107" // payment refund, initiated by the merchant
	PayPalEventDisputeHold = "T1110" // the disputed amount held from the merchant's balance: no refund
	PayPalEventHoldRelease = "T1111" // that hold cancelled: the dispute resolved for the merchant
)

// ppTxn is one row of PayPal's reporting system.
type ppTxn struct {
	ID        string
	EventCode string
	Initiated time.Time
	Updated   time.Time
	Visible   time.Time // search lists it from then on (the lag)
	Amount    int64     // minor units; negative for a refund
	Fee       int64
	Currency  string // upper case, as PayPal writes it
	Status    string // S, P, D or V
	InvoiceID string
	Custom    string
	RefID     string // paypal_reference_id: a refund's capture
	RefIDType string
	Payer     ppPayer
	Refunded  int64 // captures: total refunded so far
	Disputed  bool
	// NonBalance marks the second, non-balance-affecting row PayPal's reporting
	// may hold under the same transaction_id. Which field tells the two apart
	// is not documented; the sandbox leaves the balances off it.
	NonBalance bool
	Scenario   string
	// A refund answered PENDING: at Settles its status becomes SettlesAs
	// (S completed, D denied), and a denied one gives the capture its
	// amount back.
	Settles   time.Time
	SettlesAs string
}

// payment is whether the row is money a payer sent the merchant (T00xx, money
// in): a capture, as opposed to a refund, a dispute hold or its release.
func (t *ppTxn) payment() bool { return strings.HasPrefix(t.EventCode, "T00") && t.Amount > 0 }

type ppPayer struct {
	AccountID, Email, Given, Surname, Country string
}

// ppRefund is a refund made through the API.
type ppRefund struct {
	ID, CaptureID string
	Amount        int64
	Currency      string
	Created       time.Time
}

// ppIdem is the first answer under a PayPal-Request-Id.
type ppIdem struct {
	status  int
	body    []byte
	created time.Time
}

// paypalState is the PayPal account's data; it lives under Server.mu.
type paypalState struct {
	txns    []*ppTxn // initiation order
	byID    map[string]*ppTxn
	refunds map[string]*ppRefund
	tokens  map[string]time.Time // access token → expiry (server clock)
	stale   time.Duration        // how far behind the reporting data is (Options.PayPalStale)
	idem    map[string]ppIdem    // PayPal-Request-Id → first answer
	lag     time.Duration
	// pendingAfter > 0: API refunds are answered PENDING and settle that
	// long after (SetPayPalRefundsPending); pendingFail: they are denied.
	pendingAfter time.Duration
	pendingFail  bool
	// inFlight are the PayPal-Request-Ids of refund requests being served.
	inFlight map[string]bool
}

func (s *Server) paypalRoutes(m *http.ServeMux) {
	m.HandleFunc("POST /v1/oauth2/token", s.ppToken)
	m.HandleFunc("GET /v1/reporting/transactions", s.ppSearch)
	m.HandleFunc("POST /v2/payments/captures/{id}/refund", s.ppRefund)
	m.HandleFunc("GET /v2/payments/refunds/{id}", s.ppGetRefund)
}

// ppWrite answers v as JSON and counts it.
func (s *Server) ppWrite(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"name":"INTERNAL_SERVER_ERROR","message":"sandbox: cannot encode response"}`)
	}
	s.ppWriteBody(w, status, body)
}

func (s *Server) ppWriteBody(w http.ResponseWriter, status int, body []byte) {
	s.mu.Lock()
	s.stats.ByStatus[status]++
	if status >= 500 {
		s.stats.ServerErrors++
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Paypal-Debug-Id", "dcsbx"+strconv.FormatInt(time.Now().UnixNano()%1e9, 16))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// ppError is PayPal's v2 error body: name, message, details[{issue, description}].
func ppError(name, message, issue, description string) map[string]any {
	e := map[string]any{"name": name, "message": message, "debug_id": "dcsbx0000",
		"links": []map[string]string{{"href": "https://developer.paypal.com/docs/api/payments/v2/#error-" + issue, "rel": "information_link"}}}
	if issue != "" {
		e["details"] = []map[string]string{{"issue": issue, "description": description}}
	}
	return e
}

func (s *Server) ppCount(pattern string) {
	s.mu.Lock()
	s.stats.Requests++
	s.stats.ByPath[pattern]++
	s.mu.Unlock()
}

// ppToken is POST /v1/oauth2/token: client id and secret as basic auth,
// grant_type=client_credentials. A bad pair answers 401 invalid_client, as
// PayPal does; the secret is never echoed.
func (s *Server) ppToken(w http.ResponseWriter, r *http.Request) {
	s.ppCount("POST /v1/oauth2/token")
	id, secret, ok := r.BasicAuth()
	if !ok || subtle.ConstantTimeCompare([]byte(id), []byte(PayPalClientID)) != 1 ||
		subtle.ConstantTimeCompare([]byte(secret), []byte(PayPalSecret)) != 1 {
		s.ppWrite(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client", "error_description": "Client Authentication failed"})
		return
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" {
		s.ppWrite(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type", "error_description": "Grant Type is NULL"})
		return
	}
	s.mu.Lock()
	now := s.nowLocked()
	token := prefixed(s.ppRNG, "A21AA", 40)
	s.pp.tokens[token] = now.Add(PayPalTokenLifetime)
	s.mu.Unlock()
	s.ppWrite(w, http.StatusOK, map[string]any{
		"scope":        "https://uri.paypal.com/services/reporting/search/read https://uri.paypal.com/services/payments/refund",
		"access_token": token, "token_type": "Bearer", "app_id": "APP-80W284485P519543T",
		"expires_in": int(PayPalTokenLifetime / time.Second), "nonce": now.Format(time.RFC3339) + "dcsbx",
	})
}

// ppBearer checks the access token; false means a 401 was written.
func (s *Server) ppBearer(w http.ResponseWriter, r *http.Request, v2 bool) bool {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	expiry, known := s.pp.tokens[strings.TrimSpace(token)]
	valid := ok && known && s.nowLocked().Before(expiry)
	s.mu.Unlock()
	if valid {
		return true
	}
	if v2 {
		s.ppWrite(w, http.StatusUnauthorized, ppError("AUTHENTICATION_FAILURE",
			"Authentication failed due to invalid authentication credentials or a missing Authorization header.", "", ""))
	} else {
		s.ppWrite(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": "Token signature verification failed"})
	}
	return false
}

// paypalTime is how PayPal writes times in reporting responses
// ("2014-07-11T04:03:52+0000"; plutov/paypal's JSONTime parses this form).
const paypalTime = "2006-01-02T15:04:05-0700"

// parseSearchTime reads start_date / end_date: RFC 3339 with seconds; the
// offset may also be written without its colon, as PayPal's examples do.
func parseSearchTime(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	return time.Parse("2006-01-02T15:04:05Z0700", v)
}

// invalidSearch is the 400 INVALID_REQUEST Transaction Search answers to bad
// query parameters, naming the field and the issue.
func invalidSearch(field, value, issue string) map[string]any {
	return map[string]any{"name": "INVALID_REQUEST", "message": "Request is not well-formed, syntactically incorrect, or violates schema.",
		"debug_id": "dcsbx0000", "information_link": "https://developer.paypal.com/docs/api/transaction-search/v1/#errors",
		"details": []map[string]string{{"field": field, "value": value, "location": "query", "issue": issue}}}
}

// ppSearch is GET /v1/reporting/transactions.
func (s *Server) ppSearch(w http.ResponseWriter, r *http.Request) {
	s.ppCount("GET /v1/reporting/transactions")
	if !s.ppBearer(w, r, false) {
		return
	}
	if s.ppFault(w, r) {
		return
	}
	q := r.URL.Query()
	start, err := parseSearchTime(q.Get("start_date"))
	if err != nil {
		s.ppWrite(w, http.StatusBadRequest, invalidSearch("start_date", q.Get("start_date"), "Invalid date format. Use the Internet date and time format (RFC 3339), seconds required."))
		return
	}
	end, err := parseSearchTime(q.Get("end_date"))
	if err != nil {
		s.ppWrite(w, http.StatusBadRequest, invalidSearch("end_date", q.Get("end_date"), "Invalid date format. Use the Internet date and time format (RFC 3339), seconds required."))
		return
	}
	switch {
	case end.Before(start):
		s.ppWrite(w, http.StatusBadRequest, invalidSearch("end_date", q.Get("end_date"), "End date must be after the start date."))
		return
	case end.Sub(start) > PayPalMaxSearchSpan:
		s.ppWrite(w, http.StatusBadRequest, invalidSearch("end_date", q.Get("end_date"), "Date range is greater than 31 days"))
		return
	}
	pageSize, page := 100, 1
	if v := q.Get("page_size"); v != "" {
		if pageSize, err = strconv.Atoi(v); err != nil || pageSize < 1 || pageSize > 500 {
			s.ppWrite(w, http.StatusBadRequest, invalidSearch("page_size", v, "page_size must be between 1 and 500."))
			return
		}
	}
	if v := q.Get("page"); v != "" {
		if page, err = strconv.Atoi(v); err != nil || page < 1 {
			s.ppWrite(w, http.StatusBadRequest, invalidSearch("page", v, "page must be at least 1."))
			return
		}
	}
	balanceOnly := q.Get("balance_affecting_records_only") != "N" // "Y. The default."
	fields := strings.Split(q.Get("fields"), ",")
	withPayer := slices.Contains(fields, "all") || slices.Contains(fields, "payer_info")

	s.mu.Lock()
	now := s.nowLocked()
	s.pp.settle(now)
	refreshed := now.Add(-s.pp.stale)
	if start.Before(now.Add(-PayPalHistory)) || start.After(refreshed) {
		s.mu.Unlock()
		// PayPal's words, at the top level with no details (PayPal-node-SDK
		// issue #452): for a start before its three years, and for one its
		// reporting has not refreshed yet.
		s.ppWrite(w, http.StatusBadRequest, map[string]any{"name": "INVALID_REQUEST", "debug_id": "dcsbx0000",
			"message": "Data for the given start date is not available.", "details": []any{}, "links": []any{}})
		return
	}
	var rows []map[string]any
	total := 0
	for _, t := range s.pp.txns {
		if t.Initiated.Before(start) || t.Initiated.After(end) || t.Initiated.After(refreshed) || now.Before(t.Visible) ||
			balanceOnly && t.NonBalance || q.Has("transaction_id") && t.ID != q.Get("transaction_id") {
			continue
		}
		total++
		if total > (page-1)*pageSize && total <= page*pageSize {
			rows = append(rows, t.detail(withPayer))
		}
	}
	s.mu.Unlock()
	pages := (total + pageSize - 1) / pageSize
	s.ppWrite(w, http.StatusOK, map[string]any{
		"transaction_details":     ensureSlice(rows),
		"account_number":          PayPalAccountNumber,
		"start_date":              start.UTC().Format(paypalTime),
		"end_date":                minTime(end, refreshed).UTC().Format(paypalTime), // "or the last date when the data can be served"
		"last_refreshed_datetime": refreshed.UTC().Format(paypalTime),
		"page":                    page,
		"total_items":             total,
		"total_pages":             pages,
		"links":                   []map[string]string{{"href": r.URL.String(), "rel": "self", "method": "GET"}},
	})
}

func ensureSlice(rows []map[string]any) []map[string]any {
	if rows == nil {
		return []map[string]any{}
	}
	return rows
}

// ppMoney is PayPal's money object: upper-case code, value in major units.
func ppMoney(minor int64, currency string) map[string]string {
	return map[string]string{"currency_code": currency, "value": formatMajor(minor, currency)}
}

// detail is the row as Transaction Search writes it (transaction_detail).
func (t *ppTxn) detail(withPayer bool) map[string]any {
	info := map[string]any{
		"paypal_account_id":           t.Payer.AccountID,
		"transaction_id":              t.ID,
		"transaction_event_code":      t.EventCode,
		"transaction_initiation_date": t.Initiated.UTC().Format(paypalTime),
		"transaction_updated_date":    t.Updated.UTC().Format(paypalTime),
		"transaction_amount":          ppMoney(t.Amount, t.Currency),
		"transaction_status":          t.Status,
		"protection_eligibility":      "01",
	}
	if t.Fee != 0 {
		info["fee_amount"] = ppMoney(-t.Fee, t.Currency)
	}
	if !t.NonBalance {
		info["available_balance"] = ppMoney(0, t.Currency)
		info["ending_balance"] = ppMoney(0, t.Currency)
	}
	for k, v := range map[string]string{"invoice_id": t.InvoiceID, "custom_field": t.Custom,
		"paypal_reference_id": t.RefID, "paypal_reference_id_type": t.RefIDType} {
		if v != "" {
			info[k] = v
		}
	}
	d := map[string]any{"transaction_info": info}
	if withPayer {
		d["payer_info"] = map[string]any{
			"account_id": t.Payer.AccountID, "email_address": t.Payer.Email, "address_status": "Y",
			"payer_status": "Y", "country_code": t.Payer.Country,
			"payer_name": map[string]string{"given_name": t.Payer.Given, "surname": t.Payer.Surname,
				"alternate_full_name": t.Payer.Given + " " + t.Payer.Surname},
		}
		d["shipping_info"] = map[string]any{}
		d["cart_info"] = map[string]any{}
	}
	return d
}

// ppFault draws the injected faults of a PayPal call before it runs (Options:
// Latency, ErrorRate, TimeoutRate); true means the request was answered or
// abandoned.
func (s *Server) ppFault(w http.ResponseWriter, r *http.Request) bool {
	if !s.wait(r.Context(), s.opts.Latency) {
		return true
	}
	if s.chance(s.opts.TimeoutRate) {
		s.hang(r.Context())
		return true
	}
	if s.chance(s.opts.ErrorRate) {
		s.ppWrite(w, http.StatusInternalServerError, ppError("INTERNAL_SERVER_ERROR",
			"An internal server error occurred.", "INTERNAL_SERVICE_ERROR", "An internal service error has occurred."))
		return true
	}
	return false
}

// ppRefund is POST /v2/payments/captures/{id}/refund. With a PayPal-Request-Id
// the first answer is kept for 45 days and returned again for the same id
// (whatever the body); without one, every call is a new request, so a retry
// refunds again (PayPal's idempotency guide: "If you do not include the
// PayPal-Request-Id header, PayPal may duplicate the request"). An empty body
// refunds what is left; amount refunds part, several parts up to the capture.
//
// A request arriving while another with its PayPal-Request-Id is still being
// served is answered 409 RESOURCE_CONFLICT, issue PREVIOUS_REQUEST_IN_PROGRESS
// (payments v2 errors, developer.paypal.com/api/payments/v2/errors/previous_request_in_progress;
// the idempotency guide: "When you send two simultaneous API requests with
// same PayPal-Request-Id header, PayPal processes the first request and might
// fail the second request"): nothing is refunded, nothing is kept.
func (s *Server) ppRefund(w http.ResponseWriter, r *http.Request) {
	s.ppCount("POST /v2/payments/captures/{id}/refund")
	if !s.ppBearer(w, r, true) {
		return
	}
	if requestID := strings.TrimSpace(r.Header.Get("PayPal-Request-Id")); requestID != "" {
		s.mu.Lock()
		busy := s.pp.inFlight[requestID]
		if !busy {
			if s.pp.inFlight == nil {
				s.pp.inFlight = map[string]bool{}
			}
			s.pp.inFlight[requestID] = true
		}
		s.mu.Unlock()
		if busy {
			s.ppWrite(w, http.StatusConflict, map[string]any{"name": "RESOURCE_CONFLICT",
				"message": "The server has detected a conflict while processing this request.", "debug_id": "dcsbx0000",
				"details": []map[string]string{{"issue": "PREVIOUS_REQUEST_IN_PROGRESS",
					"description": "A previous request on this resource is currently in progress. Please wait for sometime and try again. It is best to space out the initial and the subsequent request(s) to avoid receiving this error."}}})
			return
		}
		defer func() {
			s.mu.Lock()
			delete(s.pp.inFlight, requestID)
			s.mu.Unlock()
		}()
	}
	if s.ppFault(w, r) {
		return
	}
	var body struct {
		Amount *struct {
			Currency string `json:"currency_code"`
			Value    string `json:"value"`
		} `json:"amount"`
		InvoiceID   string `json:"invoice_id"`
		CustomID    string `json:"custom_id"`
		NoteToPayer string `json:"note_to_payer"`
	}
	raw, err := io.ReadAll(r.Body)
	if err == nil && len(strings.TrimSpace(string(raw))) > 0 {
		err = json.Unmarshal(raw, &body)
	}
	if err != nil {
		s.ppWrite(w, http.StatusBadRequest, ppError("INVALID_REQUEST", "Request is not well-formed, syntactically incorrect, or violates schema.",
			"MALFORMED_REQUEST_JSON", "The request JSON is not well formed."))
		return
	}
	if len(body.CustomID) > ppMaxCustomID {
		s.ppWrite(w, http.StatusBadRequest, ppError("INVALID_REQUEST", "Request is not well-formed, syntactically incorrect, or violates schema.",
			"INVALID_STRING_LENGTH", "The value of a field is either too short or too long."))
		return
	}
	requestID := strings.TrimSpace(r.Header.Get("PayPal-Request-Id"))
	representation := strings.Contains(r.Header.Get("Prefer"), "return=representation")

	s.mu.Lock()
	now := s.nowLocked()
	if prev, ok := s.pp.idem[requestID]; requestID != "" && ok && now.Sub(prev.created) < PayPalRequestIDLifetime {
		s.stats.Replays++
		s.mu.Unlock()
		s.ppWriteBody(w, prev.status, prev.body)
		return
	}
	status, v := s.ppRefundLocked(r.PathValue("id"), body.Amount, body.CustomID, now, representation)
	encoded, _ := json.Marshal(v)
	// Validation failures (400) are not kept; a refund or a business refusal is.
	if requestID != "" && status != http.StatusBadRequest {
		s.pp.idem[requestID] = ppIdem{status: status, body: encoded, created: now}
	}
	commitThenFail := status == http.StatusCreated && s.faultRNG.Float64() < s.opts.FailAfterCommitRate
	s.mu.Unlock()
	if commitThenFail {
		// PayPal refunded; the client never hears about it.
		s.hang(r.Context())
		return
	}
	s.ppWriteBody(w, status, encoded)
}

func (s *Server) ppRefundLocked(captureID string, amount *struct {
	Currency string `json:"currency_code"`
	Value    string `json:"value"`
}, customID string, now time.Time, representation bool) (int, any) {
	capture, ok := s.pp.byID[captureID]
	if !ok || !capture.payment() || now.Before(capture.Initiated) {
		return http.StatusNotFound, ppError("RESOURCE_NOT_FOUND", "The specified resource does not exist.",
			"INVALID_RESOURCE_ID", "Specified resource ID does not exist. Please check the resource ID and try again.")
	}
	unprocessable := func(issue, description string) (int, any) {
		return http.StatusUnprocessableEntity, ppError("UNPROCESSABLE_ENTITY",
			"The requested action could not be performed, semantically incorrect, or failed business validation.", issue, description)
	}
	left := capture.Amount - capture.Refunded
	switch {
	case capture.Status == "D" || capture.Status == "P":
		return unprocessable("REFUND_NOT_ALLOWED", "Refund cannot be issued for this capture.")
	case capture.Disputed:
		return unprocessable("TRANSACTION_DISPUTED", "Partial refunds cannot be offered at this time because there is an open case on this transaction.")
	case left <= 0:
		return unprocessable("CAPTURE_FULLY_REFUNDED", "The capture has already been fully refunded.")
	case now.Sub(capture.Initiated) > PayPalRefundWindow:
		return unprocessable("REFUND_TIME_LIMIT_EXCEEDED", "You are over the time limit to perform a refund on this capture.")
	}
	refund := left
	if amount != nil {
		if !strings.EqualFold(amount.Currency, capture.Currency) {
			return unprocessable("REFUND_CAPTURE_CURRENCY_MISMATCH", "Refund must be in the same currency as the capture.")
		}
		v, err := parseMajor(amount.Value, capture.Currency)
		if err != nil || v <= 0 {
			return http.StatusBadRequest, ppError("INVALID_REQUEST", "Request is not well-formed, syntactically incorrect, or violates schema.",
				"INVALID_PARAMETER_VALUE", "The value of a field is invalid.")
		}
		if v > left {
			return unprocessable("REFUND_AMOUNT_EXCEEDED", "The refund amount must be less than or equal to the capture amount that has not yet been refunded.")
		}
		refund = v
	}
	t := s.ppAddRefundLocked(capture, refund, customID, now)
	s.stats.Refunds++
	status, reason := ppRefundStatus(t)
	out := map[string]any{"id": t.ID, "status": status, "links": []map[string]string{
		{"href": "https://api-m.sandbox.paypal.com/v2/payments/refunds/" + t.ID, "rel": "self", "method": "GET"},
		{"href": "https://api-m.sandbox.paypal.com/v2/payments/captures/" + capture.ID, "rel": "up", "method": "GET"}}}
	if reason != nil {
		out["status_details"] = reason
	}
	if representation {
		out["amount"] = ppMoney(refund, capture.Currency)
		if customID != "" {
			out["custom_id"] = customID
		}
		out["create_time"] = now.UTC().Format(time.RFC3339)
		out["update_time"] = now.UTC().Format(time.RFC3339)
	}
	return http.StatusCreated, out
}

// AddPayPalDisputeHold opens a dispute on capture now: a T1110 row holding its
// amount (visible after the lag), and the capture refuses refunds
// (TRANSACTION_DISPUTED); released also cancels the hold an hour later (a
// T1111 row giving the amount back), which ends the dispute.
func (s *Server) AddPayPalDisputeHold(captureID string, released bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.pp.byID[captureID]
	if c == nil {
		return
	}
	now := s.nowLocked()
	for _, t := range ppDisputeRows(c, now, released, s.ppTxnID, func(at time.Time) time.Time { return at.Add(s.ppLagLocked()) }) {
		s.pp.add(t)
	}
}

// ppDisputeRows are the rows of a dispute hold on c at at (and of its
// cancellation an hour later when released), marking c disputed while the
// hold stands. PayPal's reporting links them to the capture through
// paypal_reference_id, as it does refunds.
func ppDisputeRows(c *ppTxn, at time.Time, released bool, id func() string, visible func(time.Time) time.Time) []*ppTxn {
	row := func(code string, at time.Time, amount int64) *ppTxn {
		return &ppTxn{ID: id(), EventCode: code, Initiated: at, Updated: at, Visible: visible(at), Amount: amount,
			Currency: c.Currency, Status: "S", InvoiceID: c.InvoiceID, Custom: c.Custom, RefID: c.ID, RefIDType: "TXN",
			Payer: c.Payer, Scenario: c.Scenario}
	}
	rows := []*ppTxn{row(PayPalEventDisputeHold, at, -c.Amount)}
	c.Disputed = !released
	if released {
		rows = append(rows, row(PayPalEventHoldRelease, at.Add(time.Hour), c.Amount))
	}
	return rows
}

// ppMaxCustomID is the longest custom_id a refund request takes (maxLength
// 127, payments_payment_v2.json refund_request).
const ppMaxCustomID = 127

// ppAddRefundLocked records a refund of amount on capture at now: a T1107 row
// pointing at the capture (visible after the lag), and the capture's status V
// once nothing is left. The row's custom_field is the refund request's
// custom_id: PayPal says a refund's custom_id "Appears in transaction and
// settlement reports" (payments_payment_v2.json, refund_request.custom_id),
// and custom_field, "The merchant-provided custom text", is the only such
// field of a Transaction Search row (reporting_transactions_v1.json). That
// it lands there is this model's reading, not PayPal's words; without one
// the row keeps the capture's, as its invoice_id does.
func (s *Server) ppAddRefundLocked(capture *ppTxn, amount int64, customID string, now time.Time) *ppTxn {
	custom := capture.Custom
	if customID != "" {
		custom = customID
	}
	t := &ppTxn{ID: s.ppTxnID(), EventCode: PayPalEventRefund, Initiated: now, Updated: now,
		Visible: now.Add(s.ppLagLocked()), Amount: -amount, Currency: capture.Currency, Status: "S",
		InvoiceID: capture.InvoiceID, Custom: custom, RefID: capture.ID, RefIDType: "TXN",
		Payer: capture.Payer, Scenario: capture.Scenario}
	if s.pp.pendingAfter > 0 {
		t.Status, t.Settles, t.SettlesAs = "P", now.Add(s.pp.pendingAfter), "S"
		if s.pp.pendingFail {
			t.SettlesAs = "D"
		}
	}
	capture.Refunded += amount
	if capture.Refunded >= capture.Amount {
		capture.Status, capture.Updated = "V", now
	}
	s.pp.add(t)
	s.pp.refunds[t.ID] = &ppRefund{ID: t.ID, CaptureID: capture.ID, Amount: amount, Currency: capture.Currency, Created: now}
	return t
}

// ppGetRefund is GET /v2/payments/refunds/{id}.
func (s *Server) ppGetRefund(w http.ResponseWriter, r *http.Request) {
	s.ppCount("GET /v2/payments/refunds/{id}")
	if !s.ppBearer(w, r, true) {
		return
	}
	s.mu.Lock()
	s.pp.settle(s.nowLocked())
	ref, ok := s.pp.refunds[r.PathValue("id")]
	var status string
	var reason any
	if ok {
		status, reason = ppRefundStatus(s.pp.byID[ref.ID])
	}
	s.mu.Unlock()
	if !ok {
		s.ppWrite(w, http.StatusNotFound, ppError("RESOURCE_NOT_FOUND", "The specified resource does not exist.",
			"INVALID_RESOURCE_ID", "Specified resource ID does not exist. Please check the resource ID and try again."))
		return
	}
	out := map[string]any{"id": ref.ID, "status": status, "amount": ppMoney(ref.Amount, ref.Currency),
		"create_time": ref.Created.UTC().Format(time.RFC3339),
		"links":       []map[string]string{{"href": "https://api-m.sandbox.paypal.com/v2/payments/captures/" + ref.CaptureID, "rel": "up", "method": "GET"}}}
	if reason != nil {
		out["status_details"] = reason
	}
	s.ppWrite(w, http.StatusOK, out)
}

// ppRefundStatus is a refund's v2 status (payments_payment_v2.json, refund
// status: CANCELLED, FAILED, PENDING, COMPLETED) from its row, and its
// status_details for a pending one (reason ECHECK: "The customer's account is
// funded through an eCheck, which has not yet cleared").
func ppRefundStatus(t *ppTxn) (string, any) {
	switch t.Status {
	case "P":
		return "PENDING", map[string]string{"reason": "ECHECK"}
	case "D":
		return "FAILED", nil
	}
	return "COMPLETED", nil
}

// settle completes or denies the pending refunds whose time has come: the
// refund's row keeps its transaction_id and initiation date and takes the
// new status and an updated date, as Transaction Search reports a status
// change (transaction_updated_date).
func (p *paypalState) settle(now time.Time) {
	for _, t := range p.txns {
		if t.Settles.IsZero() || now.Before(t.Settles) {
			continue
		}
		t.Status, t.Updated = t.SettlesAs, t.Settles
		if t.SettlesAs == "D" {
			if c := p.byID[t.RefID]; c != nil {
				c.Refunded += t.Amount // t.Amount is negative
				if c.Status == "V" && c.Refunded < c.Amount {
					c.Status, c.Updated = "S", t.Settles
				}
			}
		}
		t.Settles, t.SettlesAs = time.Time{}, ""
	}
}

// SetPayPalRefundsPending makes the refunds made through the API from now on
// answer 201 with status PENDING (status_details.reason ECHECK) and a row of
// status P, which after settle becomes S (completed) or, when fail, D
// (denied: the capture has the amount back). settle <= 0 turns it off.
// PayPal answers PENDING for a refund it completes later, such as one of an
// eCheck payment that has not cleared (payments_payment_v2.json,
// refund_status_details.reason); its sandbox does not on its own.
func (s *Server) SetPayPalRefundsPending(settle time.Duration, fail bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pp.pendingAfter, s.pp.pendingFail = settle, fail
}

// ppLagLocked draws how long a new transaction waits before search lists it:
// up to the configured lag.
func (s *Server) ppLagLocked() time.Duration {
	if s.pp.lag <= 0 {
		return 0
	}
	return time.Duration(1 + s.ppRNG.Int64N(int64(s.pp.lag)))
}

// ppTxnID is a 17-character PayPal transaction id.
func (s *Server) ppTxnID() string {
	const alphabet = "0123456789ABCDEFGHJKLMNPRSTUVWXY"
	b := make([]byte, 17)
	for i := range b {
		b[i] = alphabet[s.ppRNG.IntN(len(alphabet))]
	}
	return string(b)
}

func (p *paypalState) add(t *ppTxn) {
	i, _ := slices.BinarySearchFunc(p.txns, t, func(a, b *ppTxn) int {
		if c := a.Initiated.Compare(b.Initiated); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	p.txns = slices.Insert(p.txns, i, t)
	if !t.NonBalance {
		p.byID[t.ID] = t
	}
}

// formatMajor writes minor units as PayPal's value string: "10.50", JPY "1050".
func formatMajor(minor int64, currency string) string {
	d := ppDecimals(currency)
	neg := minor < 0
	if neg {
		minor = -minor
	}
	s := strconv.FormatInt(minor, 10)
	if d > 0 {
		for len(s) <= d {
			s = "0" + s
		}
		s = s[:len(s)-d] + "." + s[len(s)-d:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// parseMajor reads a value string written with the currency's decimals.
func parseMajor(v, currency string) (int64, error) {
	d := ppDecimals(currency)
	whole, frac, _ := strings.Cut(v, ".")
	if len(frac) > d || whole == "" {
		return 0, fmt.Errorf("%q is not an amount of %s", v, currency)
	}
	n, err := strconv.ParseInt(whole+frac+strings.Repeat("0", d-len(frac)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not an amount of %s", v, currency)
	}
	return n, nil
}

// ppDecimals: PayPal's currencies without decimals (HUF, JPY, TWD take none).
func ppDecimals(currency string) int {
	switch strings.ToUpper(currency) {
	case "JPY", "HUF", "TWD":
		return 0
	}
	return 2
}

// PayPalTransaction is one row of the PayPal account's reporting, for tests.
type PayPalTransaction struct {
	ID, EventCode, Status, Currency, InvoiceID, CustomField, ReferenceID string
	Amount, Refunded                                                     int64
	Initiated, Visible                                                   time.Time
	PayerID, PayerEmail                                                  string
	BalanceAffecting                                                     bool
	Scenario                                                             string
}

// PayPalTransactions lists every row of the PayPal account, visible to search
// yet or not, in initiation order.
func (s *Server) PayPalTransactions() []PayPalTransaction {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pp.settle(s.nowLocked())
	out := make([]PayPalTransaction, 0, len(s.pp.txns))
	for _, t := range s.pp.txns {
		out = append(out, PayPalTransaction{ID: t.ID, EventCode: t.EventCode, Status: t.Status, Currency: t.Currency,
			InvoiceID: t.InvoiceID, CustomField: t.Custom, ReferenceID: t.RefID, Amount: t.Amount, Refunded: t.Refunded,
			Initiated: t.Initiated, Visible: t.Visible, PayerID: t.Payer.AccountID, PayerEmail: t.Payer.Email,
			BalanceAffecting: !t.NonBalance, Scenario: t.Scenario})
	}
	return out
}

// PayPalRefundsOf lists the refunds of a capture (API-made and seeded).
func (s *Server) PayPalRefundsOf(captureID string) []PayPalTransaction {
	var out []PayPalTransaction
	for _, t := range s.PayPalTransactions() {
		if t.EventCode == PayPalEventRefund && t.ReferenceID == captureID {
			out = append(out, t)
		}
	}
	return out
}

// AddPayPalCapture adds a completed checkout payment now (visible after the
// lag) and returns its transaction id: a test's fresh capture.
func (s *Server) AddPayPalCapture(amount int64, currency, payerEmail, invoiceID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.nowLocked()
	t := &ppTxn{ID: s.ppTxnID(), EventCode: PayPalEventCheckout, Initiated: now, Updated: now, Visible: now.Add(s.ppLagLocked()),
		Amount: amount, Currency: strings.ToUpper(currency), Status: "S", InvoiceID: invoiceID,
		Payer: ppPayer{AccountID: s.ppPayerID(), Email: payerEmail, Given: "Test", Surname: "Payer", Country: "US"}}
	s.pp.add(t)
	return t.ID
}

// ppPayerID is a 13-character PayPal payer (account) id.
func (s *Server) ppPayerID() string { return s.ppTxnID()[:13] }

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// SetPayPalStale moves how far behind PayPal's reporting data is refreshed
// (Options.PayPalStale): 0 is caught up.
func (s *Server) SetPayPalStale(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pp.stale = d
}

// PayPalRefundsInFlight is how many refund requests with a PayPal-Request-Id
// are being served (a held one counts until its client gives up).
func (s *Server) PayPalRefundsInFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pp.inFlight)
}
