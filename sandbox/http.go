package sandbox

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// call is one authenticated request on its way through a handler.
type call struct {
	r         *http.Request
	form      url.Values
	apiKey    string
	livemode  bool
	requestID string
	idemKey   string // Idempotency-Key header of a POST, "" if none
	now       time.Time
}

// response is what a handler produces; it is written as is, or stored under an
// idempotency key and replayed byte for byte.
type response struct {
	status int
	value  any    // encoded by encoded(), outside the lock unless the response is stored
	body   []byte // the encoded value
	// stored: Stripe keeps the result under the idempotency key once the endpoint
	// started executing; parameter validation failures are not kept.
	stored    bool
	requestID string // of the request that produced a stored response
}

type handlerFunc func(s *Server, c *call) response

// permission is what a restricted key needs for a route.
type permission int

const (
	permNone permission = iota
	// permAccount is GET /v1/account: Stripe answers 403 to every restricted
	// key there, since no permission a restricted key can hold grants it
	// (dj-stripe PR #1131, stripe-node issue #2246).
	permAccount
	permRead
	permChargeWrite
	permRefundWrite
)

func (s *Server) routes() *http.ServeMux {
	m := http.NewServeMux()
	handle := func(pattern string, perm permission, h handlerFunc) {
		m.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) { s.serve(w, r, pattern, perm, h) })
	}
	handle("GET /v1/account", permAccount, (*Server).getAccount)
	handle("GET /v1/charges", permRead, (*Server).listCharges)
	handle("GET /v1/charges/{id}", permRead, (*Server).getCharge)
	handle("POST /v1/charges/{id}/capture", permChargeWrite, (*Server).captureCharge)
	handle("GET /v1/payment_intents/{id}", permRead, (*Server).getPaymentIntent)
	handle("GET /v1/checkout/sessions/{id}", permRead, (*Server).getCheckoutSession)
	handle("GET /v1/events", permRead, (*Server).listEvents)
	handle("GET /v1/events/{id}", permRead, (*Server).getEvent)
	handle("GET /v1/refunds", permRead, (*Server).listRefunds)
	handle("GET /v1/refunds/{id}", permRead, (*Server).getRefund)
	handle("POST /v1/refunds", permRefundWrite, (*Server).createRefund)
	s.paypalRoutes(m)
	handle("/", permNone, (*Server).unrecognizedURL)
	return m
}

// ServeHTTP runs a request through auth, injected faults, idempotency and its handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

func (s *Server) serve(w http.ResponseWriter, r *http.Request, pattern string, perm permission, h handlerFunc) {
	arrived := time.Now() // before any lock: the limiter counts arrivals, not when the server got round to them
	s.mu.Lock()
	requestID := s.requestID()
	s.stats.Requests++
	s.stats.ByPath[pattern]++
	s.mu.Unlock()
	w.Header().Set("Request-Id", requestID)
	w.Header().Set("Stripe-Version", APIVersion)

	apiKey, errResp := authenticate(r)
	if errResp != nil {
		s.write(w, *errResp)
		return
	}
	if errResp := authorize(apiKey, perm); errResp != nil {
		s.write(w, *errResp)
		return
	}
	if perm == permAccount && s.opts.NoAccount {
		h = (*Server).unrecognizedURL
	}
	if !s.admit(arrived) {
		s.write(w, rateLimited())
		return
	}
	if !s.wait(r.Context(), s.opts.Latency) {
		return // the client gave up (or the server is closing): nobody to answer
	}
	if !s.takeToken() {
		s.write(w, rateLimited())
		return
	}
	if s.chance(s.opts.TimeoutRate) {
		s.hang(r.Context())
		return
	}
	if s.chance(s.opts.ErrorRate) {
		s.write(w, s.serverError())
		return
	}
	if err := r.ParseForm(); err != nil {
		s.write(w, errorResponse(http.StatusBadRequest, apiError{
			Type: "invalid_request_error", Message: "Invalid request body: " + err.Error(),
		}))
		return
	}
	c := &call{r: r, form: r.Form, apiKey: apiKey, livemode: strings.Contains(apiKey, "_live_"), requestID: requestID}
	if r.Method == http.MethodPost {
		c.idemKey = strings.TrimSpace(r.Header.Get("Idempotency-Key"))
	}
	resp, replayed := s.run(c, h)
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
		w.Header().Set("Request-Id", resp.requestID)
	}
	if c.idemKey != "" {
		w.Header().Set("Idempotency-Key", c.idemKey)
	}
	if !replayed && resp.status == http.StatusOK && pattern == "POST /v1/refunds" && s.chance(s.opts.FailAfterCommitRate) {
		// The refund exists and its result is stored under the key; the client
		// just never hears about it.
		if s.chance(0.5) {
			s.hang(r.Context())
		} else {
			s.write(w, s.serverError())
		}
		return
	}
	s.write(w, resp)
}

// run executes the handler under the lock, with Stripe's idempotency semantics
// for POSTs that carry a key.
func (s *Server) run(c *call, h handlerFunc) (response, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c.now = s.nowLocked()
	s.arrive(c.now)
	if c.idemKey == "" {
		return h(s, c), false
	}
	if len(c.idemKey) > 255 {
		return errorResponse(http.StatusBadRequest, apiError{
			Type: "invalid_request_error", Param: "Idempotency-Key",
			Message: fmt.Sprintf("Idempotency keys may be at most 255 characters long; this one has %d.", len(c.idemKey)),
		}), false
	}
	scope := c.apiKey + "\x00" + c.idemKey
	fingerprint := c.r.Method + " " + c.r.URL.Path + "?" + c.form.Encode()
	if prev, ok := s.idem[scope]; ok && c.now.Sub(prev.created) < s.opts.KeyTTL {
		if prev.fingerprint != fingerprint {
			return errorResponse(http.StatusBadRequest, apiError{
				Type: "idempotency_error",
				Message: fmt.Sprintf("Keys for idempotent requests can only be used with the same parameters they were first used with. "+
					"Try using a key other than '%s' if you meant to execute a different request.", c.idemKey),
			}), false
		}
		s.stats.Replays++
		return prev.resp, true
	}
	resp := h(s, c)
	if resp.stored {
		resp = resp.encoded() // replays must be byte for byte
		resp.requestID = c.requestID
		s.idem[scope] = &idemEntry{fingerprint: fingerprint, resp: resp, created: c.now}
	}
	return resp, false
}

// idemEntry is the first result of a POST under one idempotency key.
type idemEntry struct {
	fingerprint string
	resp        response
	created     time.Time
}

func (s *Server) write(w http.ResponseWriter, resp response) {
	resp = resp.encoded()
	s.mu.Lock()
	s.stats.ByStatus[resp.status]++
	switch {
	case resp.status == http.StatusTooManyRequests:
		s.stats.RateLimited++
	case resp.status >= 500:
		s.stats.ServerErrors++
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(resp.status)
	_, _ = w.Write(resp.body) // a client that went away is not the server's error
}

// rateLimited is Stripe's answer to a request over the rate limit.
func rateLimited() response {
	return errorResponse(http.StatusTooManyRequests, apiError{
		Type: "invalid_request_error", Code: "rate_limit",
		Message: "Too many requests hit the API too quickly. We recommend an exponential backoff of your requests.",
	})
}

func (s *Server) serverError() response {
	s.mu.Lock()
	unavailable := s.faultRNG.IntN(2) == 0
	s.mu.Unlock()
	if unavailable {
		return errorResponse(http.StatusServiceUnavailable, apiError{
			Type: "api_error", Message: "The server is temporarily unavailable. Please try again later.",
		})
	}
	return errorResponse(http.StatusInternalServerError, apiError{
		Type: "api_error", Message: "An unknown error occurred. Please try again later.",
	})
}

// apiError is Stripe's error object.
type apiError struct {
	Type    string `json:"type"`
	Code    string `json:"code,omitempty"`
	DocURL  string `json:"doc_url,omitempty"`
	Message string `json:"message"`
	Param   string `json:"param,omitempty"`
}

// errorResponse wraps e in Stripe's envelope. Errors are kept under idempotency
// keys only when the handler says so (see response.stored).
func errorResponse(status int, e apiError) response {
	if e.Code != "" {
		e.DocURL = "https://stripe.com/docs/error-codes/" + strings.ReplaceAll(e.Code, "_", "-")
	}
	return jsonResponse(status, map[string]apiError{"error": e})
}

// jsonResponse answers v as JSON. v must be a snapshot (wire structs are copies)
// because it is encoded after the lock is released.
func jsonResponse(status int, v any) response { return response{status: status, value: v} }

// encoded returns r with its body: pretty-printed JSON like Stripe's.
func (r response) encoded() response {
	if r.body != nil {
		return r
	}
	body, err := json.MarshalIndent(r.value, "", "  ")
	if err != nil {
		// Every value passed here is built from plain structs and maps; failing to
		// encode one is a bug in the sandbox, reported as Stripe reports its own.
		body = []byte(`{"error":{"type":"api_error","message":"sandbox: cannot encode response"}}`)
		r.status = http.StatusInternalServerError
	}
	r.body, r.value = append(body, '\n'), nil
	return r
}

// authenticate accepts the secret key as a Bearer token or as the basic-auth user.
func authenticate(r *http.Request) (string, *response) {
	header := r.Header.Get("Authorization")
	var key string
	switch {
	case strings.HasPrefix(header, "Bearer "):
		key = strings.TrimSpace(strings.TrimPrefix(header, "Bearer "))
	case strings.HasPrefix(header, "Basic "):
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(strings.TrimPrefix(header, "Basic ")))
		if err == nil {
			key, _, _ = strings.Cut(string(raw), ":")
		}
	}
	if key == "" {
		resp := errorResponse(http.StatusUnauthorized, apiError{
			Type: "invalid_request_error",
			Message: "You did not provide an API key. You need to provide your API key in the Authorization header, " +
				"using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
		})
		return "", &resp
	}
	switch key {
	case TestKey, LiveKey, RestrictedKey, NoReadKey, NoRefundKey, NoIntentKey:
		return key, nil
	}
	resp := errorResponse(http.StatusUnauthorized, apiError{
		Type: "invalid_request_error", Message: "Invalid API Key provided: " + redactKey(key),
	})
	return "", &resp
}

// redactKey keeps only the key's prefix: the server never echoes a secret.
func redactKey(key string) string {
	prefix := ""
	for _, p := range []string{"sk_test_", "sk_live_", "rk_test_", "rk_live_", "pk_test_", "pk_live_"} {
		if strings.HasPrefix(key, p) {
			prefix = p
		}
	}
	return prefix + "********"
}

func authorize(key string, perm permission) *response {
	var missing string
	switch {
	case perm == permAccount && strings.HasPrefix(key, "rk_"):
		// Stripe's words for it, naming the account, as of 2025 (stripe-node
		// issue #2246; dj-stripe PR #1131 shows the 2020 form): no permission
		// a restricted key can have grants it.
		resp := errorResponse(http.StatusForbidden, apiError{
			Type: "invalid_request_error",
			Message: fmt.Sprintf("The provided key '%s' does not have the required permissions for this endpoint on account '%s'. "+
				"Having the 'rak_accounts_kyc_id_numbers_read' permission would allow this request to continue.", redactKey(key), AccountID),
		})
		return &resp
	case key == NoReadKey && perm != permNone:
		missing = map[permission]string{permRead: "rak_charge_read", permChargeWrite: "rak_charge_write",
			permRefundWrite: "rak_refund_write"}[perm]
	case key == NoRefundKey && perm == permRefundWrite:
		missing = "rak_refund_write"
	default:
		return nil
	}
	resp := lacksPermission(key, missing)
	return &resp
}

// lacksPermission is Stripe's 403 to a restricted key without the permission
// missing.
func lacksPermission(key, missing string) response {
	return errorResponse(http.StatusForbidden, apiError{
		Type: "permission_error",
		Message: fmt.Sprintf("The provided key '%s' does not have the required permissions for this endpoint on account '%s'. "+
			"Having the '%s' permission would allow this request to continue.", redactKey(key), AccountID, missing),
	})
}

// intentsRefused is the 403 to NoIntentKey where PaymentIntents are read: a
// PaymentIntent, or events that may carry one (payment_intent.* requested, or
// every type). How Stripe lists events to a key lacking the permission of
// their objects is not documented; the sandbox refuses, as for the object.
func intentsRefused(c *call, types []string) *response {
	if c.apiKey != NoIntentKey {
		return nil
	}
	if types != nil && !slices.ContainsFunc(types, func(t string) bool { return strings.HasPrefix(t, "payment_intent.") }) {
		return nil
	}
	resp := lacksPermission(c.apiKey, "rak_payment_intent_read")
	return &resp
}

func (s *Server) unrecognizedURL(c *call) response {
	return errorResponse(http.StatusNotFound, apiError{
		Type: "invalid_request_error",
		Message: fmt.Sprintf("Unrecognized request URL (%s: %s). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.",
			c.r.Method, c.r.URL.Path),
	})
}

func (s *Server) getAccount(c *call) response {
	return jsonResponse(http.StatusOK, map[string]any{
		"id":     AccountID,
		"object": "account",
		"business_profile": map[string]any{
			"mcc":                 "5499",
			"name":                AccountName,
			"product_description": "Specialty coffee roaster: beans, subscriptions and brewing gear.",
			"support_email":       "support@acme-coffee.example",
			"support_phone":       nil,
			"support_url":         "https://acme-coffee.example/help",
			"url":                 "https://acme-coffee.example",
		},
		"business_type":     "company",
		"charges_enabled":   true,
		"country":           "US",
		"created":           1546300800,
		"default_currency":  "usd",
		"details_submitted": true,
		"email":             "finance@acme-coffee.example",
		"metadata":          map[string]string{},
		"payouts_enabled":   true,
		"settings": map[string]any{
			"dashboard": map[string]any{"display_name": AccountName, "timezone": "America/Los_Angeles"},
		},
		"type": "standard",
	})
}
