package sandbox

import (
	"fmt"
	"math"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// listQuery is Stripe's list parameters.
type listQuery struct {
	limit         int
	startingAfter string
	endingBefore  string
	lo, hi        int64 // created bounds, inclusive
}

// arrayIndex folds Stripe's array and hash parameter spellings ("types[0]",
// "types[]", "metadata[order_id]") into one name for validation.
var arrayIndex = regexp.MustCompile(`\[[^\]]*\]$`)

func paramClass(name string) string {
	switch {
	case strings.HasPrefix(name, "created["):
		return name
	case strings.HasPrefix(name, "metadata["):
		return "metadata[]"
	}
	return arrayIndex.ReplaceAllString(name, "[]")
}

// checkParams rejects parameters the endpoint does not know, as Stripe does.
func checkParams(c *call, allowed ...string) *response {
	base := []string{"expand[]", "limit", "starting_after", "ending_before",
		"created", "created[gt]", "created[gte]", "created[lt]", "created[lte]"}
	names := make([]string, 0, len(c.form))
	for name := range c.form {
		names = append(names, name)
	}
	sort.Strings(names) // report the same parameter every time
	for _, name := range names {
		class := paramClass(name)
		if !slices.Contains(base, class) && !slices.Contains(allowed, class) {
			resp := invalidParam(name, "parameter_unknown", "Received unknown parameter: "+name)
			return &resp
		}
	}
	return nil
}

func invalidParam(param, code, msg string) response {
	return errorResponse(http.StatusBadRequest, apiError{Type: "invalid_request_error", Code: code, Param: param, Message: msg})
}

func parseInt(c *call, name string) (int64, bool, *response) {
	v := c.form.Get(name)
	if v == "" {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		resp := invalidParam(name, "parameter_invalid_integer", "Invalid integer: "+v)
		return 0, false, &resp
	}
	return n, true, nil
}

func parseList(c *call) (listQuery, *response) {
	// Nothing dated after the server clock is listed yet.
	q := listQuery{limit: 10, lo: math.MinInt64, hi: c.now.Unix()}
	limit, ok, errResp := parseInt(c, "limit")
	if errResp != nil {
		return q, errResp
	}
	if ok {
		if limit < 1 || limit > 100 {
			resp := invalidParam("limit", "", fmt.Sprintf("Invalid limit: %d. The limit must be between 1 and 100.", limit))
			return q, &resp
		}
		q.limit = int(limit)
	}
	q.startingAfter = c.form.Get("starting_after")
	q.endingBefore = c.form.Get("ending_before")
	if q.startingAfter != "" && q.endingBefore != "" {
		resp := invalidParam("ending_before", "", "You may only specify one of these parameters: starting_after, ending_before.")
		return q, &resp
	}
	for _, bound := range []struct {
		name  string
		apply func(n int64)
	}{
		{"created", func(n int64) { q.lo, q.hi = max(q.lo, n), min(q.hi, n) }},
		{"created[gt]", func(n int64) { q.lo = max(q.lo, n+1) }},
		{"created[gte]", func(n int64) { q.lo = max(q.lo, n) }},
		{"created[lt]", func(n int64) { q.hi = min(q.hi, n-1) }},
		{"created[lte]", func(n int64) { q.hi = min(q.hi, n) }},
	} {
		n, ok, errResp := parseInt(c, bound.name)
		if errResp != nil {
			return q, errResp
		}
		if ok {
			bound.apply(n)
		}
	}
	return q, nil
}

type keyed interface{ key() sortKey }

// paginate applies Stripe's list semantics to a newest-first slice: the created
// range, a cursor (starting_after: older than it; ending_before: the items
// just newer than it), the limit and has_more. keep filters further (type,
// charge, customer). cursor resolves an id to its sort key.
func paginate[T keyed](items []T, q listQuery, keep func(T) bool, cursor func(id string) (sortKey, bool), noun string) ([]T, bool, *response) {
	from := sort.Search(len(items), func(i int) bool { return items[i].key().created <= q.hi })
	to := sort.Search(len(items), func(i int) bool { return items[i].key().created < q.lo })
	if to < from {
		to = from
	}
	window := items[from:to]
	var out []T
	switch {
	case q.endingBefore != "":
		ck, ok := cursor(q.endingBefore)
		if !ok {
			resp := errorResponse(http.StatusBadRequest, apiError{Type: "invalid_request_error", Code: "resource_missing",
				Param: "ending_before", Message: fmt.Sprintf("No such %s: '%s'", noun, q.endingBefore)})
			return nil, false, &resp
		}
		end := sort.Search(len(window), func(i int) bool { return !window[i].key().before(ck) })
		for i := end - 1; i >= 0 && len(out) <= q.limit; i-- {
			if keep(window[i]) {
				out = append(out, window[i])
			}
		}
		hasMore := len(out) > q.limit
		out = out[:min(len(out), q.limit)]
		slices.Reverse(out)
		return out, hasMore, nil
	case q.startingAfter != "":
		ck, ok := cursor(q.startingAfter)
		if !ok {
			resp := errorResponse(http.StatusBadRequest, apiError{Type: "invalid_request_error", Code: "resource_missing",
				Param: "starting_after", Message: fmt.Sprintf("No such %s: '%s'", noun, q.startingAfter)})
			return nil, false, &resp
		}
		window = window[sort.Search(len(window), func(i int) bool { return ck.before(window[i].key()) }):]
	}
	for _, it := range window {
		if len(out) > q.limit {
			break
		}
		if keep(it) {
			out = append(out, it)
		}
	}
	hasMore := len(out) > q.limit
	return out[:min(len(out), q.limit)], hasMore, nil
}

type listJSON struct {
	Object  string `json:"object"`
	Data    []any  `json:"data"`
	HasMore bool   `json:"has_more"`
	URL     string `json:"url"`
}

func listResponse[T any](items []T, hasMore bool, url string, wire func(T) any) response {
	data := make([]any, len(items))
	for i, it := range items {
		data[i] = wire(it)
	}
	return jsonResponse(http.StatusOK, listJSON{Object: "list", Data: data, HasMore: hasMore, URL: url})
}

func missing(noun, id, param string) response {
	return errorResponse(http.StatusNotFound, apiError{Type: "invalid_request_error", Code: "resource_missing",
		Param: param, Message: fmt.Sprintf("No such %s: '%s'", noun, id)})
}

func (s *Server) chargeCursor(id string) (sortKey, bool) {
	c, ok := s.data.chargeByID[id]
	if !ok {
		return sortKey{}, false
	}
	return c.key(), true
}

func (s *Server) listCharges(c *call) response {
	if errResp := checkParams(c, "customer", "payment_intent", "transfer_group"); errResp != nil {
		return *errResp
	}
	q, errResp := parseList(c)
	if errResp != nil {
		return *errResp
	}
	customer, pi := c.form.Get("customer"), c.form.Get("payment_intent")
	keep := func(ch *charge) bool {
		return (customer == "" || ch.Customer == customer) && (pi == "" || ch.PaymentIntent == pi)
	}
	items, hasMore, errResp := paginate(s.data.charges, q, keep, s.chargeCursor, "charge")
	if errResp != nil {
		return *errResp
	}
	return listResponse(items, hasMore, "/v1/charges", func(ch *charge) any { return ch.wire(c.livemode) })
}

func (s *Server) getCharge(c *call) response {
	id := c.r.PathValue("id")
	ch, ok := s.data.chargeByID[id]
	if !ok || ch.Created > c.now.Unix() {
		return missing("charge", id, "id")
	}
	return jsonResponse(http.StatusOK, ch.wire(c.livemode))
}

func (s *Server) getPaymentIntent(c *call) response {
	if errResp := intentsRefused(c, nil); errResp != nil {
		return *errResp
	}
	id := c.r.PathValue("id")
	pi, ok := s.data.intents[id]
	if !ok || pi.Created > c.now.Unix() {
		return missing("payment_intent", id, "intent")
	}
	return jsonResponse(http.StatusOK, pi.wire(c.livemode))
}

func (s *Server) getCheckoutSession(c *call) response {
	id := c.r.PathValue("id")
	cs, ok := s.data.sessions[id]
	if !ok || cs.Created > c.now.Unix() {
		return missing("checkout.session", id, "session")
	}
	return jsonResponse(http.StatusOK, cs.wire(c.livemode))
}

// stored marks a response of an endpoint that began executing: Stripe keeps
// it under the idempotency key, error or not.
func stored(r response) response {
	r.stored = true
	return r
}

// authorizationLifetime is how long an uncaptured charge can be captured
// (Stripe's default for card payments).
const authorizationLifetime = 7 * 24 * time.Hour

// captureCharge is POST /v1/charges/{id}/capture: amount (default all of it)
// is captured and the rest of the authorisation released, which Stripe shows as
// refunded.
func (s *Server) captureCharge(c *call) response {
	if errResp := checkParams(c, "amount"); errResp != nil {
		return *errResp
	}
	amount, hasAmount, errResp := positiveAmount(c)
	if errResp != nil {
		return *errResp
	}
	id := c.r.PathValue("id")
	ch, ok := s.data.chargeByID[id]
	if !ok || ch.Created > c.now.Unix() {
		return stored(missing("charge", id, "id"))
	}
	if !hasAmount {
		amount = ch.Amount
	}
	if refusal := captureRefusal(ch, amount, c.now); refusal != nil {
		return stored(errorResponse(http.StatusBadRequest, *refusal))
	}
	s.applyCapture(ch, amount, c.now.Unix(), c.requestID, c.idemKey)
	return stored(jsonResponse(http.StatusOK, ch.wire(c.livemode)))
}

// captureRefusal is Stripe's answer to capturing amount of ch at now, or nil
// when the capture goes through.
func captureRefusal(ch *charge, amount int64, now time.Time) *apiError {
	refusal := func(code, param, msg string) *apiError {
		return &apiError{Type: "invalid_request_error", Code: code, Param: param, Message: msg}
	}
	switch {
	case ch.Captured:
		return refusal("charge_already_captured", "", fmt.Sprintf("Charge %s has already been captured.", ch.ID))
	case ch.Failed:
		return refusal("", "", fmt.Sprintf("Charge %s failed, so there is nothing to capture.", ch.ID))
	case now.Sub(time.Unix(ch.Created, 0)) > authorizationLifetime:
		return refusal("charge_expired_for_capture", "", fmt.Sprintf(
			"Charge %s has expired for capture: its authorization is older than %d days.", ch.ID, int(authorizationLifetime.Hours()/24)))
	case amount > ch.Amount:
		return refusal("amount_too_large", "amount", fmt.Sprintf(
			"The capture amount (%s) is greater than the amount authorized (%s).", money(amount, ch.Currency), money(ch.Amount, ch.Currency)))
	}
	return nil
}

// applyCapture captures amount of ch, releases the rest of the authorisation
// and emits charge.captured with the charge after the capture.
func (s *Server) applyCapture(ch *charge, amount int64, at int64, requestID, idemKey string) {
	prev := map[string]any{"captured": false, "amount_captured": ch.AmountCaptured}
	ch.Captured, ch.AmountCaptured = true, amount
	if released := ch.Amount - amount; released > 0 {
		prev["amount_refunded"] = ch.AmountRefunded
		ch.AmountRefunded += released
	}
	s.addEvent("charge.captured", at, requestID, idemKey, ch, nil, prev)
}

func (s *Server) eventsGone(c *call) *response {
	if !s.opts.NoEvents {
		return nil
	}
	resp := s.unrecognizedURL(c)
	return &resp
}

// eventVisible reports whether an event can be retrieved: Stripe keeps 30 days,
// and nothing dated after the server clock exists yet.
func eventVisible(c *call, e *event) bool {
	return e.Created >= c.now.Add(-EventRetention).Unix() && e.Created <= c.now.Unix()
}

func (s *Server) listEvents(c *call) response {
	if errResp := s.eventsGone(c); errResp != nil {
		return *errResp
	}
	if errResp := checkParams(c, "type", "types[]", "delivery_success"); errResp != nil {
		return *errResp
	}
	q, errResp := parseList(c)
	if errResp != nil {
		return *errResp
	}
	q.lo = max(q.lo, c.now.Add(-EventRetention).Unix())
	typ := c.form.Get("type")
	var types []string
	for name, vs := range c.form {
		if paramClass(name) == "types[]" {
			types = append(types, vs...)
		}
	}
	if typ != "" && len(types) > 0 {
		return invalidParam("types", "", "You may only specify one of these parameters: type, types.")
	}
	requested := types
	if typ != "" {
		requested = []string{strings.TrimSuffix(typ, "*")}
	}
	if errResp := intentsRefused(c, requested); errResp != nil {
		return *errResp
	}
	keep := func(e *event) bool {
		switch {
		case len(types) > 0:
			return slices.Contains(types, e.Type)
		case strings.HasSuffix(typ, "*"):
			return strings.HasPrefix(e.Type, strings.TrimSuffix(typ, "*"))
		case typ != "":
			return e.Type == typ
		}
		return true
	}
	cursor := func(id string) (sortKey, bool) {
		e, ok := s.data.eventByID[id]
		if !ok {
			return sortKey{}, false
		}
		return e.key(), true
	}
	items, hasMore, errResp := paginate(s.data.events, q, keep, cursor, "event")
	if errResp != nil {
		return *errResp
	}
	return listResponse(items, hasMore, "/v1/events", func(e *event) any { return e.wire(c.livemode) })
}

func (s *Server) getEvent(c *call) response {
	if errResp := s.eventsGone(c); errResp != nil {
		return *errResp
	}
	id := c.r.PathValue("id")
	e, ok := s.data.eventByID[id]
	if !ok || !eventVisible(c, e) {
		return missing("event", id, "id")
	}
	return jsonResponse(http.StatusOK, e.wire(c.livemode))
}

func (s *Server) listRefunds(c *call) response {
	if errResp := checkParams(c, "charge", "payment_intent"); errResp != nil {
		return *errResp
	}
	q, errResp := parseList(c)
	if errResp != nil {
		return *errResp
	}
	chargeID, pi := c.form.Get("charge"), c.form.Get("payment_intent")
	keep := func(r *refund) bool {
		return (chargeID == "" || r.Charge == chargeID) && (pi == "" || r.PaymentIntent == pi)
	}
	cursor := func(id string) (sortKey, bool) {
		r, ok := s.data.refundByID[id]
		if !ok {
			return sortKey{}, false
		}
		return r.key(), true
	}
	items, hasMore, errResp := paginate(s.data.refunds, q, keep, cursor, "refund")
	if errResp != nil {
		return *errResp
	}
	return listResponse(items, hasMore, "/v1/refunds", func(r *refund) any { return r.wire() })
}

func (s *Server) getRefund(c *call) response {
	id := c.r.PathValue("id")
	r, ok := s.data.refundByID[id]
	if !ok {
		return missing("refund", id, "id")
	}
	return jsonResponse(http.StatusOK, r.wire())
}

var refundReasons = []string{"duplicate", "fraudulent", "requested_by_customer"}

// createRefund is POST /v1/refunds with Stripe's validation and errors.
func (s *Server) createRefund(c *call) response {
	if errResp := checkParams(c, "charge", "payment_intent", "amount", "reason", "metadata[]",
		"instructions_email", "refund_application_fee", "reverse_transfer"); errResp != nil {
		return *errResp
	}
	amount, hasAmount, errResp := positiveAmount(c)
	if errResp != nil {
		return *errResp
	}
	reason := c.form.Get("reason")
	if reason != "" && !slices.Contains(refundReasons, reason) {
		return invalidParam("reason", "", "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer")
	}
	metadata, errResp := parseMetadata(c)
	if errResp != nil {
		return *errResp
	}
	chargeID, pi := c.form.Get("charge"), c.form.Get("payment_intent")
	if chargeID == "" && pi == "" {
		return invalidParam("charge", "parameter_missing",
			"One of the following params should be provided for this request: payment_intent or charge.")
	}

	// From here on the endpoint is executing: Stripe keeps the result, error or
	// not, under the idempotency key.
	var ch *charge
	if chargeID != "" {
		var ok bool
		if ch, ok = s.data.chargeByID[chargeID]; !ok {
			return stored(missing("charge", chargeID, "charge"))
		}
	} else {
		ids := s.data.paymentIntent[pi]
		for i := len(ids) - 1; i >= 0 && ch == nil; i-- {
			if cand := s.data.chargeByID[ids[i]]; !cand.Failed {
				ch = cand
			}
		}
		if ch == nil {
			return stored(missing("payment_intent", pi, "payment_intent"))
		}
	}
	refusal := func(code, msg string) response {
		return stored(errorResponse(http.StatusBadRequest, apiError{Type: "invalid_request_error", Code: code, Message: msg}))
	}
	unrefunded := ch.Amount - ch.AmountRefunded
	switch {
	case ch.Failed:
		return refusal("charge_not_refundable", fmt.Sprintf("Charge %s failed, so there is nothing to refund.", ch.ID))
	case !ch.Captured:
		return refusal("charge_not_refundable", fmt.Sprintf(
			"Charge %s has not been captured; cancel its authorization instead of refunding it.", ch.ID))
	case ch.Disputed:
		return refusal("charge_disputed", fmt.Sprintf("Charge %s has been charged back; cannot issue a refund.", ch.ID))
	case unrefunded <= 0:
		return refusal("charge_already_refunded", fmt.Sprintf("Charge %s has already been refunded.", ch.ID))
	}
	if !hasAmount {
		amount = unrefunded
	}
	if amount > unrefunded {
		return stored(errorResponse(http.StatusBadRequest, apiError{
			Type: "invalid_request_error", Code: "amount_too_large", Param: "amount",
			Message: fmt.Sprintf("Refund amount (%s) is greater than unrefunded amount on charge (%s)",
				money(amount, ch.Currency), money(unrefunded, ch.Currency)),
		}))
	}
	r := s.applyRefund(ch, amount, reason, metadata, c.now.Unix(), c.requestID, c.idemKey)
	s.stats.Refunds++
	return stored(jsonResponse(http.StatusOK, r.wire()))
}

// applyRefund records a refund on ch and emits charge.refunded with the charge
// after the refund.
func (s *Server) applyRefund(ch *charge, amount int64, reason string, metadata map[string]string, at int64, requestID, idemKey string) *refund {
	r := &refund{
		ID:             s.newID("re_3", 23),
		Created:        at,
		Amount:         amount,
		Currency:       ch.Currency,
		Charge:         ch.ID,
		PaymentIntent:  ch.PaymentIntent,
		Reason:         reason,
		Metadata:       metadata,
		BalanceTxn:     s.newID("txn_3", 23),
		IdempotencyKey: idemKey,
	}
	s.data.addRefund(r)
	prevRefunded, prevFull := ch.AmountRefunded, ch.AmountRefunded >= ch.Amount
	ch.AmountRefunded += amount
	s.addEvent("charge.refunded", at, requestID, idemKey, ch, nil,
		map[string]any{"amount_refunded": prevRefunded, "refunded": prevFull})
	return r
}

func parseMetadata(c *call) (map[string]string, *response) {
	var md map[string]string
	for name, vs := range c.form {
		if !strings.HasPrefix(name, "metadata[") || !strings.HasSuffix(name, "]") {
			continue
		}
		k := strings.TrimSuffix(strings.TrimPrefix(name, "metadata["), "]")
		v := vs[len(vs)-1]
		switch {
		case k == "" || len(k) > 40:
			resp := invalidParam(name, "", "Metadata keys must be 1 to 40 characters long.")
			return nil, &resp
		case len(v) > 500:
			resp := invalidParam(name, "", "Metadata values can have up to 500 characters, but you passed in a value that is "+
				strconv.Itoa(len(v))+" characters.")
			return nil, &resp
		}
		if md == nil {
			md = map[string]string{}
		}
		if v != "" { // Stripe: an empty value unsets the key
			md[k] = v
		}
	}
	if len(md) > 50 {
		resp := invalidParam("metadata", "", "You can specify up to 50 keys in metadata.")
		return nil, &resp
	}
	return md, nil
}

// zeroDecimal lists the currencies Stripe counts in major units.
var zeroDecimal = map[string]bool{"bif": true, "clp": true, "djf": true, "gnf": true, "jpy": true, "kmf": true,
	"krw": true, "mga": true, "pyg": true, "rwf": true, "ugx": true, "vnd": true, "vuv": true, "xaf": true, "xof": true, "xpf": true}

var currencySymbol = map[string]string{"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "cad": "CA$", "aud": "A$"}

// money formats an amount the way Stripe's error messages do ("$20.00", "¥3200").
func money(minor int64, currency string) string {
	sym, ok := currencySymbol[currency]
	if !ok {
		sym = strings.ToUpper(currency) + " "
	}
	if zeroDecimal[currency] {
		return fmt.Sprintf("%s%d", sym, minor)
	}
	return fmt.Sprintf("%s%d.%02d", sym, minor/100, minor%100)
}

// positiveAmount reads the optional amount parameter, which must be a positive
// integer when given.
func positiveAmount(c *call) (int64, bool, *response) {
	amount, given, errResp := parseInt(c, "amount")
	if errResp == nil && given && amount <= 0 {
		r := invalidParam("amount", "parameter_invalid_integer", "Invalid positive integer")
		errResp = &r
	}
	return amount, given, errResp
}
