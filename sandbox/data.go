package sandbox

import (
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"slices"
	"sort"
	"time"
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// prefixed returns prefix followed by n random base62 characters, in a single
// allocation: ids are most of the generation work.
func prefixed(rng *rand.Rand, prefix string, n int) string {
	var buf [48]byte
	b := buf[:0]
	if len(prefix)+n > len(buf) {
		b = make([]byte, 0, len(prefix)+n)
	}
	b = append(b, prefix...)
	var v uint64
	for i := range n {
		if i%10 == 0 { // ten base62 digits per 64-bit draw
			v = rng.Uint64()
		}
		b = append(b, base62[v%62])
		v /= 62
	}
	return string(b)
}

// newID returns a Stripe-style id: prefix plus n random base62 characters (n ≥ 14
// makes a collision among a few million ids practically impossible). Callers
// hold s.mu.
func (s *Server) newID(prefix string, n int) string { return prefixed(s.idRNG, prefix, n) }

// requestID draws from the fault RNG so that answering requests never changes
// the ids of the data. Callers hold s.mu.
func (s *Server) requestID() string { return prefixed(s.faultRNG, "req_", 14) }

// libraryKey is shaped like the key stripe-go and other Stripe libraries generate
// when the application supplies none: <unix nanoseconds>_<6 base64url chars>.
func (s *Server) libraryKey(at int64) string {
	buf := make([]byte, 4)
	for i := range buf {
		buf[i] = byte(s.idRNG.IntN(256))
	}
	return fmt.Sprintf("%d_%s", at*1e9+s.idRNG.Int64N(1e9), base64.URLEncoding.EncodeToString(buf)[:6])
}

// appKey is a key the application supplied: a UUID v4.
func (s *Server) appKey() string {
	const hex = "0123456789abcdef"
	b := make([]byte, 36)
	for i := range b {
		switch i {
		case 8, 13, 18, 23:
			b[i] = '-'
		case 14:
			b[i] = '4'
		case 19:
			b[i] = "89ab"[s.idRNG.IntN(4)]
		default:
			b[i] = hex[s.idRNG.IntN(16)]
		}
	}
	return string(b)
}

// ChargeSpec describes a charge for AddCharge. Zero fields get defaults.
type ChargeSpec struct {
	Created         time.Time // zero → the server clock's Now
	Amount          int64     // zero → 2400
	Currency        string    // "" → "usd"
	Customer        string    // "" → a guest checkout
	Name            string
	Email           string
	CardBrand       string // "" → visa
	CardLast4       string // "" → 4242
	CardFingerprint string // "" → a new card
	Description     string
	Metadata        map[string]string
	// IdempotencyKey is the key of the creating request as its charge.succeeded /
	// charge.failed event shows it; "" → null (no key sent).
	IdempotencyKey string
	PaymentIntent  string // "" → a new PaymentIntent
	Failed         bool   // a declined charge (failure_code card_declined)
	Uncaptured     bool   // authorised only (captured=false)
}

// AddCharge creates a charge (by default at the server clock's Now) with its
// charge.succeeded or charge.failed event, and returns its id. For
// incremental-sync tests.
func (s *Server) AddCharge(spec ChargeSpec) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	at := s.nowLocked().Unix()
	if !spec.Created.IsZero() {
		at = spec.Created.Unix()
	}
	cd := s.newCard("US")
	if spec.CardFingerprint != "" {
		cd.Fingerprint = spec.CardFingerprint
		cd.Brand, cd.Last4 = "visa", "4242"
	}
	if spec.CardBrand != "" {
		cd.Brand = spec.CardBrand
	}
	if spec.CardLast4 != "" {
		cd.Last4 = spec.CardLast4
	}
	if spec.Amount == 0 {
		spec.Amount = 2400
	}
	if spec.Currency == "" {
		spec.Currency = "usd"
	}
	p := person{customer: spec.Customer, name: spec.Name, email: spec.Email, card: cd}
	c := s.createCharge(p, at, spec.Amount, spec.Currency, chargeOpts{
		description: spec.Description, metadata: spec.Metadata, key: spec.IdempotencyKey,
		pi: spec.PaymentIntent, failed: spec.Failed, uncaptured: spec.Uncaptured, request: true,
	})
	return c.ID
}

// Capture captures an uncaptured charge in full at the server clock's Now, as
// the Dashboard would (a request without an idempotency key), with its
// charge.captured event. It refuses what POST /v1/charges/{id}/capture refuses.
func (s *Server) Capture(chargeID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.nowLocked()
	c, ok := s.data.chargeByID[chargeID]
	if !ok {
		return fmt.Errorf("sandbox: capture: no such charge %s", chargeID)
	}
	if refusal := captureRefusal(c, c.Amount, now); refusal != nil {
		return fmt.Errorf("sandbox: capture: %s", refusal.Message)
	}
	s.applyCapture(c, c.Amount, now.Unix(), s.newID("req_", 14), "")
	return nil
}

type person struct {
	customer string // "" for guests
	name     string
	email    string
	card     card
}

type chargeOpts struct {
	description string
	metadata    map[string]string
	key         string // idempotency key of the creating request ("" → null)
	request     bool   // created by an API request (false: automatic, e.g. an invoice)
	pi          string
	invoice     string
	failed      bool
	failureCode string
	uncaptured  bool
	confirm     confirmation
	// checkout: the Checkout Session's client_reference_id and own metadata
	// (confirm == byCheckout).
	clientRef   string
	sessionMeta map[string]string
	paymentLink string // the Payment Link whose session it is, if any
}

// confirmation is who confirmed a new PaymentIntent, which decides what its
// payment_intent.created and its charge's charge.succeeded events record.
type confirmation int

const (
	// byServer: the server creates and confirms in one call (confirm=true):
	// both events show that request and its key.
	byServer confirmation = iota
	// byBrowser: the server creates the PaymentIntent with its key; Stripe.js
	// confirms it from the browser, so charge.succeeded shows the browser's
	// request, with no idempotency key.
	byBrowser
	// byCheckout: Stripe Checkout creates the PaymentIntent itself (no API
	// request of the merchant's) and the customer confirms on Stripe's page;
	// checkout.session.completed follows.
	byCheckout
)

var failureMessages = map[string]string{
	"card_declined":      "Your card was declined.",
	"insufficient_funds": "Your card has insufficient funds.",
	"expired_card":       "Your card has expired.",
	"incorrect_cvc":      "Your card's security code is incorrect.",
}

// createCharge stores a charge and its creation event. Callers hold s.mu.
func (s *Server) createCharge(p person, at, amount int64, currency string, o chargeOpts) *charge {
	c := &charge{
		ID:            s.newID("ch_3", 23),
		Created:       at,
		Amount:        amount,
		Currency:      currency,
		Customer:      p.customer,
		Name:          p.name,
		Email:         p.email,
		Card:          p.card,
		Description:   o.description,
		Metadata:      o.metadata,
		Captured:      !o.failed && !o.uncaptured,
		PaymentIntent: o.pi,
		PaymentMethod: s.newID("pm_1", 23),
		Invoice:       o.invoice,
		RiskScore:     5 + s.idRNG.IntN(50),
	}
	var pi *paymentIntent
	if c.PaymentIntent == "" {
		c.PaymentIntent = s.newID("pi_3", 23)
		pi = &paymentIntent{ID: c.PaymentIntent, Created: at, Amount: amount, Currency: currency, Customer: p.customer,
			Description: o.description, Metadata: o.metadata}
		s.data.intents[pi.ID] = pi
	}
	if c.Captured {
		c.AmountCaptured = amount
	}
	if o.failed {
		c.Failed = true
		c.FailureCode = o.failureCode
		if c.FailureCode == "" {
			c.FailureCode = "card_declined"
		}
		c.FailureMessage = failureMessages[c.FailureCode]
	} else {
		c.BalanceTxn = s.newID("txn_3", 23)
	}
	if o.request {
		c.RequestID = s.newID("req_", 14)
		c.IdempotencyKey = o.key
	}
	if pi != nil {
		s.createIntentEvents(c, pi, at, o)
	}
	s.data.add(c)
	s.data.paymentIntent[c.PaymentIntent] = append(s.data.paymentIntent[c.PaymentIntent], c.ID)
	typ := "charge.succeeded"
	if c.Failed {
		typ = "charge.failed"
	}
	s.addEvent(typ, at, c.RequestID, c.IdempotencyKey, c, nil, nil)
	return c
}

// createIntentEvents records payment_intent.created for c's new PaymentIntent
// as o.confirm says, and makes c's own request the browser's when the browser
// confirmed it; with Checkout, the session and checkout.session.completed too.
// Callers hold s.mu.
func (s *Server) createIntentEvents(c *charge, pi *paymentIntent, at int64, o chargeOpts) {
	created := *pi
	requestID, key := c.RequestID, c.IdempotencyKey
	switch o.confirm {
	case byBrowser, byCheckout:
		created.Created = at - 3 - int64(s.idRNG.IntN(20)) // the customer types their card meanwhile
		pi.Created = created.Created
		requestID, key = "", ""
		if o.confirm == byBrowser {
			requestID, key = s.newID("req_", 14), c.IdempotencyKey
		}
		if c.RequestID != "" {
			// Stripe.js's confirm takes no idempotency key, and Stripe's staff say
			// the API accepts none with a publishable key (stripe/react-stripe-js
			// issue #85); whether Stripe.js sends one of its own is not verified
			// (its source is not public), so reconcile never reads this event's
			// key as the create call's.
			c.RequestID, c.IdempotencyKey = s.newID("req_", 14), ""
		}
	}
	s.data.addEvent(&event{ID: s.newID("evt_3", 23), Type: "payment_intent.created", Created: created.Created,
		RequestID: requestID, IdempotencyKey: key, Intent: &created})
	pi.LatestCharge, pi.Succeeded = c.ID, c.Captured
	if o.confirm == byCheckout {
		cs := &checkoutSession{ID: s.newID("cs_test_a1", 50), Created: created.Created - 60, Amount: c.Amount, Currency: c.Currency,
			Customer: c.Customer, ClientReferenceID: o.clientRef, Metadata: o.sessionMeta, PaymentIntent: pi.ID, PaymentLink: o.paymentLink}
		s.data.sessions[cs.ID] = cs
		s.data.addEvent(&event{ID: s.newID("evt_1", 23), Type: "checkout.session.completed", Created: at + 1, Session: cs})
	}
}

// addEvent records an event with a snapshot of the charge as it is now.
func (s *Server) addEvent(typ string, at int64, requestID, idemKey string, c *charge, d *dispute, prev map[string]any) {
	snapshot := *c
	e := &event{ID: s.newID("evt_3", 23), Type: typ, Created: at, RequestID: requestID,
		IdempotencyKey: idemKey, Charge: &snapshot, Dispute: d, Previous: prev}
	s.data.addEvent(e)
}

func (st *store) add(c *charge) {
	st.chargeByID[c.ID] = c
	st.charges = place(st.bulk, st.charges, c)
}

func (st *store) addEvent(e *event) {
	st.eventByID[e.ID] = e
	st.events = place(st.bulk, st.events, e)
}

func (st *store) addRefund(r *refund) {
	st.refundByID[r.ID] = r
	st.refunds = place(st.bulk, st.refunds, r)
}

// dispute opens a dispute on c and emits charge.dispute.created.
func (s *Server) dispute(c *charge, at int64, reason string) {
	d := &dispute{ID: s.newID("dp_1", 23), Created: at, Amount: c.Amount, Currency: c.Currency,
		Charge: c.ID, PaymentIntent: c.PaymentIntent, Reason: reason}
	c.Disputed = true
	s.addEvent("charge.dispute.created", at, "", "", c, d, nil)
}

// Refund is a refund as tests inspect it.
type Refund struct {
	ID             string
	Charge         string
	Amount         int64
	Currency       string
	Reason         string
	Metadata       map[string]string
	Created        time.Time
	IdempotencyKey string // the key of the request that created it ("" for seeded refunds)
}

// RefundsFor returns the refunds of a charge, oldest first.
func (s *Server) RefundsFor(chargeID string) []Refund {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Refund
	for i := len(s.data.refunds) - 1; i >= 0; i-- {
		r := s.data.refunds[i]
		if r.Charge != chargeID {
			continue
		}
		out = append(out, Refund{ID: r.ID, Charge: r.Charge, Amount: r.Amount, Currency: r.Currency, Reason: r.Reason,
			Metadata: maps.Clone(r.Metadata), Created: time.Unix(r.Created, 0).UTC(), IdempotencyKey: r.IdempotencyKey})
	}
	return out
}

// Charges returns every charge as Stripe JSON (test mode), newest first.
func (s *Server) Charges() []json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]json.RawMessage, len(s.data.charges))
	for i, c := range s.data.charges {
		out[i] = jsonResponse(200, c.wire(false)).encoded().body
	}
	return out
}

// ChargeJSON returns one charge as Stripe JSON (test mode).
func (s *Server) ChargeJSON(id string) (json.RawMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.data.chargeByID[id]
	if !ok {
		return nil, false
	}
	return jsonResponse(200, c.wire(false)).encoded().body, true
}

// Scenario is one seeded instance of a DESIGN.md duplicate case.
type Scenario struct {
	Name      string   // "double_click/1": kind and instance number
	Kind      string   // "double_click", "retry_new_key", …
	Charges   []string // charge ids, earliest first
	Duplicate bool     // whether a correct detector reports its later charges as duplicates
	Note      string   // what happened, in one sentence
}

// Scenarios maps each scenario instance ("double_click/1") to its charge ids,
// earliest first.
func (s *Server) Scenarios() map[string][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string][]string, len(s.data.scenarios))
	for _, sc := range s.data.scenarios {
		out[sc.Name] = slices.Clone(sc.Charges)
	}
	return out
}

// ScenarioList returns the scenario instances with their expectations, by name.
func (s *Server) ScenarioList() []Scenario {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Scenario, len(s.data.scenarios))
	for i, sc := range s.data.scenarios {
		sc.Charges = slices.Clone(sc.Charges)
		out[i] = sc
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// KeyLogEntry is one line of the merchant's own idempotency-key log, as the
// application wrote it: the charge id is empty when the request timed out on the
// client side (even if Stripe created the charge) or never reached Stripe.
type KeyLogEntry struct {
	IdempotencyKey string
	OrderRef       string
	ChargeID       string
	CreatedAt      time.Time
}

// KeyLog returns the merchant's key log for the seeded data, oldest first.
func (s *Server) KeyLog() []KeyLogEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.data.keyLog)
}

// WriteKeyLogCSV writes the key log as CSV with the header doublecheck imports:
// idempotency_key,order_ref,charge_id,created_at (RFC 3339).
func (s *Server) WriteKeyLogCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	rows := [][]string{{"idempotency_key", "order_ref", "charge_id", "created_at"}}
	for _, e := range s.KeyLog() {
		rows = append(rows, []string{e.IdempotencyKey, e.OrderRef, e.ChargeID, e.CreatedAt.UTC().Format(time.RFC3339)})
	}
	if err := cw.WriteAll(rows); err != nil {
		return fmt.Errorf("sandbox: write key log: %w", err)
	}
	return nil
}
