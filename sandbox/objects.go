package sandbox

import (
	"slices"
	"strconv"
	"strings"
)

// card is the card a charge was paid with.
type card struct {
	Brand       string // visa, mastercard, amex, discover
	Last4       string
	Fingerprint string
	ExpMonth    int
	ExpYear     int
	Country     string
	Funding     string
}

// charge is the sandbox's state of one Stripe charge.
type charge struct {
	ID             string
	Created        int64
	Amount         int64
	Currency       string
	Customer       string // "" for guests
	Name           string
	Email          string // billing_details.email and receipt_email
	Card           card
	Description    string
	Metadata       map[string]string // never mutated after creation (event snapshots share it)
	Failed         bool
	FailureCode    string
	FailureMessage string
	Captured       bool
	AmountCaptured int64 // less than Amount after a partial capture
	PaymentIntent  string
	PaymentMethod  string
	Invoice        string
	BalanceTxn     string
	AmountRefunded int64
	Disputed       bool
	RiskScore      int
	// The API request that created it, as its charge.succeeded/failed event shows.
	RequestID      string
	IdempotencyKey string // "" → null (no key sent)
}

func (c *charge) status() string {
	if c.Failed {
		return "failed"
	}
	return "succeeded"
}

// sortKey orders objects newest first, ties broken by id (descending), which is
// the order every list endpoint returns.
type sortKey struct {
	created int64
	id      string
}

// before reports whether a is listed before b.
func (a sortKey) before(b sortKey) bool {
	if a.created != b.created {
		return a.created > b.created
	}
	return a.id > b.id
}

func (c *charge) key() sortKey { return sortKey{c.Created, c.ID} }

type refund struct {
	ID             string
	Created        int64
	Amount         int64
	Currency       string
	Charge         string
	PaymentIntent  string
	Reason         string
	Metadata       map[string]string
	BalanceTxn     string
	IdempotencyKey string
}

func (r *refund) key() sortKey { return sortKey{r.Created, r.ID} }

// paymentIntent is the sandbox's PaymentIntent: created by the server's
// request (or by Stripe itself for Checkout and invoices), confirmed by the
// server in the same call or later by the browser.
type paymentIntent struct {
	ID           string
	Created      int64
	Amount       int64
	Currency     string
	Customer     string
	Description  string
	Metadata     map[string]string // copied to its charges when confirmed
	LatestCharge string
	Succeeded    bool
}

// checkoutSession is a completed Stripe Checkout Session.
type checkoutSession struct {
	ID                string
	Created           int64
	Amount            int64
	Currency          string
	Customer          string
	ClientReferenceID string
	Metadata          map[string]string // the session's own: not copied to the charge
	PaymentIntent     string
	PaymentLink       string // plink_…, when a Payment Link made the session
}

type dispute struct {
	ID            string
	Created       int64
	Amount        int64
	Currency      string
	Charge        string
	PaymentIntent string
	Reason        string
}

type event struct {
	ID             string
	Type           string
	Created        int64
	RequestID      string  // "" → null (automatic events)
	IdempotencyKey string  // "" → null
	Charge         *charge // snapshot of the charge at the time of the event
	Dispute        *dispute
	Intent         *paymentIntent   // payment_intent.* events: a snapshot
	Session        *checkoutSession // checkout.session.* events
	Previous       map[string]any
}

func (e *event) key() sortKey { return sortKey{e.Created, e.ID} }

// store holds the objects, each list kept sorted newest first.
type store struct {
	charges       []*charge
	chargeByID    map[string]*charge
	refunds       []*refund
	refundByID    map[string]*refund
	events        []*event
	eventByID     map[string]*event
	scenarios     []Scenario
	keyLog        []KeyLogEntry
	nextOrder     int
	paymentIntent map[string][]string // payment intent → charge ids, oldest first
	intents       map[string]*paymentIntent
	sessions      map[string]*checkoutSession
	bulk          bool // generating: append now, sort once at the end
}

func newStore() *store {
	return &store{
		chargeByID:    map[string]*charge{},
		refundByID:    map[string]*refund{},
		eventByID:     map[string]*event{},
		paymentIntent: map[string][]string{},
		intents:       map[string]*paymentIntent{},
		sessions:      map[string]*checkoutSession{},
		nextOrder:     10000,
	}
}

// insertSorted puts x into the newest-first slice at its place.
// place adds x to list: appended while the store is generated in bulk (sorted
// once at the end), else inserted in order.
func place[T interface{ key() sortKey }](bulk bool, list []T, x T) []T {
	if bulk {
		return append(list, x)
	}
	return insertSorted(list, x)
}

func insertSorted[T interface{ key() sortKey }](list []T, x T) []T {
	k := x.key()
	i, _ := slices.BinarySearchFunc(list, k, func(e T, k sortKey) int {
		if e.key().before(k) {
			return -1
		}
		if k.before(e.key()) {
			return 1
		}
		return 0
	})
	return slices.Insert(list, i, x)
}

func sortNewestFirst[T interface{ key() sortKey }](list []T) {
	slices.SortFunc(list, func(a, b T) int {
		if a.key().before(b.key()) {
			return -1
		}
		if b.key().before(a.key()) {
			return 1
		}
		return 0
	})
}

// --- wire shapes (Stripe's JSON) ---

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func metadataOrEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

type addressJSON struct {
	City       *string `json:"city"`
	Country    *string `json:"country"`
	Line1      *string `json:"line1"`
	Line2      *string `json:"line2"`
	PostalCode *string `json:"postal_code"`
	State      *string `json:"state"`
}

type billingDetailsJSON struct {
	Address addressJSON `json:"address"`
	Email   *string     `json:"email"`
	Name    *string     `json:"name"`
	Phone   *string     `json:"phone"`
}

type outcomeJSON struct {
	NetworkStatus string  `json:"network_status"`
	Reason        *string `json:"reason"`
	RiskLevel     string  `json:"risk_level"`
	RiskScore     int     `json:"risk_score"`
	SellerMessage string  `json:"seller_message"`
	Type          string  `json:"type"`
}

type cardChecksJSON struct {
	AddressLine1Check      *string `json:"address_line1_check"`
	AddressPostalCodeCheck *string `json:"address_postal_code_check"`
	CVCCheck               *string `json:"cvc_check"`
}

type statusJSON struct {
	Status string `json:"status"`
}

type cardDetailsJSON struct {
	AmountAuthorized         *int64         `json:"amount_authorized"`
	Brand                    string         `json:"brand"`
	Checks                   cardChecksJSON `json:"checks"`
	Country                  string         `json:"country"`
	ExpMonth                 int            `json:"exp_month"`
	ExpYear                  int            `json:"exp_year"`
	ExtendedAuthorization    statusJSON     `json:"extended_authorization"`
	Fingerprint              string         `json:"fingerprint"`
	Funding                  string         `json:"funding"`
	IncrementalAuthorization statusJSON     `json:"incremental_authorization"`
	Installments             *string        `json:"installments"`
	Last4                    string         `json:"last4"`
	Mandate                  *string        `json:"mandate"`
	Multicapture             statusJSON     `json:"multicapture"`
	Network                  string         `json:"network"`
	ThreeDSecure             *string        `json:"three_d_secure"`
	Wallet                   *string        `json:"wallet"`
}

type paymentMethodDetailsJSON struct {
	Card cardDetailsJSON `json:"card"`
	Type string          `json:"type"`
}

type chargeJSON struct {
	ID                            string                   `json:"id"`
	Object                        string                   `json:"object"`
	Amount                        int64                    `json:"amount"`
	AmountCaptured                int64                    `json:"amount_captured"`
	AmountRefunded                int64                    `json:"amount_refunded"`
	Application                   *string                  `json:"application"`
	ApplicationFee                *string                  `json:"application_fee"`
	ApplicationFeeAmount          *int64                   `json:"application_fee_amount"`
	BalanceTransaction            *string                  `json:"balance_transaction"`
	BillingDetails                billingDetailsJSON       `json:"billing_details"`
	CalculatedStatementDescriptor string                   `json:"calculated_statement_descriptor"`
	Captured                      bool                     `json:"captured"`
	Created                       int64                    `json:"created"`
	Currency                      string                   `json:"currency"`
	Customer                      *string                  `json:"customer"`
	Description                   *string                  `json:"description"`
	Disputed                      bool                     `json:"disputed"`
	FailureBalanceTransaction     *string                  `json:"failure_balance_transaction"`
	FailureCode                   *string                  `json:"failure_code"`
	FailureMessage                *string                  `json:"failure_message"`
	FraudDetails                  struct{}                 `json:"fraud_details"`
	Invoice                       *string                  `json:"invoice"`
	Livemode                      bool                     `json:"livemode"`
	Metadata                      map[string]string        `json:"metadata"`
	OnBehalfOf                    *string                  `json:"on_behalf_of"`
	Outcome                       outcomeJSON              `json:"outcome"`
	Paid                          bool                     `json:"paid"`
	PaymentIntent                 *string                  `json:"payment_intent"`
	PaymentMethod                 string                   `json:"payment_method"`
	PaymentMethodDetails          paymentMethodDetailsJSON `json:"payment_method_details"`
	ReceiptEmail                  *string                  `json:"receipt_email"`
	ReceiptNumber                 *string                  `json:"receipt_number"`
	ReceiptURL                    string                   `json:"receipt_url"`
	Refunded                      bool                     `json:"refunded"`
	Review                        *string                  `json:"review"`
	Shipping                      *string                  `json:"shipping"`
	Source                        *string                  `json:"source"`
	SourceTransfer                *string                  `json:"source_transfer"`
	StatementDescriptor           *string                  `json:"statement_descriptor"`
	StatementDescriptorSuffix     *string                  `json:"statement_descriptor_suffix"`
	Status                        string                   `json:"status"`
	TransferData                  *string                  `json:"transfer_data"`
	TransferGroup                 *string                  `json:"transfer_group"`
}

const statementDescriptor = "ACME COFFEE ROASTERS"

func (c *charge) wire(livemode bool) chargeJSON {
	out := chargeJSON{
		ID:                            c.ID,
		Object:                        "charge",
		Amount:                        c.Amount,
		AmountCaptured:                c.AmountCaptured,
		AmountRefunded:                c.AmountRefunded,
		BalanceTransaction:            nullable(c.BalanceTxn),
		CalculatedStatementDescriptor: statementDescriptor,
		Captured:                      c.Captured,
		Created:                       c.Created,
		Currency:                      c.Currency,
		Customer:                      nullable(c.Customer),
		Description:                   nullable(c.Description),
		Disputed:                      c.Disputed,
		FailureCode:                   nullable(c.FailureCode),
		FailureMessage:                nullable(c.FailureMessage),
		Invoice:                       nullable(c.Invoice),
		Livemode:                      livemode,
		Metadata:                      metadataOrEmpty(c.Metadata),
		Paid:                          !c.Failed,
		PaymentIntent:                 nullable(c.PaymentIntent),
		PaymentMethod:                 c.PaymentMethod,
		ReceiptEmail:                  nullable(c.Email),
		ReceiptURL:                    "https://pay.stripe.com/receipts/payment/" + strings.TrimPrefix(c.ID, "ch_"),
		Refunded:                      c.Captured && !c.Failed && c.AmountRefunded >= c.Amount,
		Status:                        c.status(),
	}
	country := c.Card.Country
	out.BillingDetails = billingDetailsJSON{
		Address: addressJSON{Country: nullable(country), PostalCode: nullable(postalCode(c.Card.Fingerprint))},
		Email:   nullable(c.Email),
		Name:    nullable(c.Name),
	}
	pass := "pass"
	checks := cardChecksJSON{AddressPostalCodeCheck: &pass, CVCCheck: &pass}
	var authorized *int64
	if !c.Failed {
		amount := c.Amount
		authorized = &amount
	}
	if c.Failed {
		out.Outcome = outcomeJSON{
			NetworkStatus: "declined_by_network",
			Reason:        nullable(declineReason(c.FailureCode)),
			RiskLevel:     "normal",
			RiskScore:     c.RiskScore,
			SellerMessage: "The bank did not return any further details with this decline.",
			Type:          "issuer_declined",
		}
	} else {
		out.Outcome = outcomeJSON{
			NetworkStatus: "approved_by_network",
			RiskLevel:     "normal",
			RiskScore:     c.RiskScore,
			SellerMessage: "Payment complete.",
			Type:          "authorized",
		}
	}
	out.PaymentMethodDetails = paymentMethodDetailsJSON{
		Type: "card",
		Card: cardDetailsJSON{
			AmountAuthorized:         authorized,
			Brand:                    c.Card.Brand,
			Checks:                   checks,
			Country:                  country,
			ExpMonth:                 c.Card.ExpMonth,
			ExpYear:                  c.Card.ExpYear,
			ExtendedAuthorization:    statusJSON{"disabled"},
			Fingerprint:              c.Card.Fingerprint,
			Funding:                  c.Card.Funding,
			IncrementalAuthorization: statusJSON{"unavailable"},
			Last4:                    c.Card.Last4,
			Multicapture:             statusJSON{"unavailable"},
			Network:                  c.Card.Brand,
		},
	}
	return out
}

// postalCode derives a stable five-digit postal code from the card, so billing
// details look real without more state.
func postalCode(fingerprint string) string {
	n := 0
	for _, r := range fingerprint {
		n = (n*31 + int(r)) % 90000
	}
	return strconv.Itoa(10000 + n)
}

func declineReason(code string) string {
	switch code {
	case "card_declined":
		return "generic_decline"
	case "":
		return ""
	default:
		return code
	}
}

type refundJSON struct {
	ID                     string            `json:"id"`
	Object                 string            `json:"object"`
	Amount                 int64             `json:"amount"`
	BalanceTransaction     *string           `json:"balance_transaction"`
	Charge                 string            `json:"charge"`
	Created                int64             `json:"created"`
	Currency               string            `json:"currency"`
	DestinationDetails     *string           `json:"destination_details"`
	Metadata               map[string]string `json:"metadata"`
	PaymentIntent          *string           `json:"payment_intent"`
	Reason                 *string           `json:"reason"`
	ReceiptNumber          *string           `json:"receipt_number"`
	SourceTransferReversal *string           `json:"source_transfer_reversal"`
	Status                 string            `json:"status"`
	TransferReversal       *string           `json:"transfer_reversal"`
}

func (r *refund) wire() refundJSON {
	return refundJSON{
		ID:                 r.ID,
		Object:             "refund",
		Amount:             r.Amount,
		BalanceTransaction: nullable(r.BalanceTxn),
		Charge:             r.Charge,
		Created:            r.Created,
		Currency:           r.Currency,
		Metadata:           metadataOrEmpty(r.Metadata),
		PaymentIntent:      nullable(r.PaymentIntent),
		Reason:             nullable(r.Reason),
		Status:             "succeeded",
	}
}

type disputeJSON struct {
	ID                  string            `json:"id"`
	Object              string            `json:"object"`
	Amount              int64             `json:"amount"`
	BalanceTransactions []string          `json:"balance_transactions"`
	Charge              string            `json:"charge"`
	Created             int64             `json:"created"`
	Currency            string            `json:"currency"`
	IsChargeRefundable  bool              `json:"is_charge_refundable"`
	Livemode            bool              `json:"livemode"`
	Metadata            map[string]string `json:"metadata"`
	PaymentIntent       *string           `json:"payment_intent"`
	Reason              string            `json:"reason"`
	Status              string            `json:"status"`
}

func (d *dispute) wire(livemode bool) disputeJSON {
	return disputeJSON{
		ID:                  d.ID,
		Object:              "dispute",
		Amount:              d.Amount,
		BalanceTransactions: []string{},
		Charge:              d.Charge,
		Created:             d.Created,
		Currency:            d.Currency,
		Livemode:            livemode,
		Metadata:            map[string]string{},
		PaymentIntent:       nullable(d.PaymentIntent),
		Reason:              d.Reason,
		Status:              "needs_response",
	}
}

type eventRequestJSON struct {
	ID             *string `json:"id"`
	IdempotencyKey *string `json:"idempotency_key"`
}

type eventDataJSON struct {
	Object             any            `json:"object"`
	PreviousAttributes map[string]any `json:"previous_attributes,omitempty"`
}

type eventJSON struct {
	ID              string           `json:"id"`
	Object          string           `json:"object"`
	APIVersion      string           `json:"api_version"`
	Created         int64            `json:"created"`
	Data            eventDataJSON    `json:"data"`
	Livemode        bool             `json:"livemode"`
	PendingWebhooks int              `json:"pending_webhooks"`
	Request         eventRequestJSON `json:"request"`
	Type            string           `json:"type"`
}

func (e *event) wire(livemode bool) eventJSON {
	out := eventJSON{
		ID:         e.ID,
		Object:     "event",
		APIVersion: APIVersion,
		Created:    e.Created,
		Livemode:   livemode,
		Request:    eventRequestJSON{ID: nullable(e.RequestID), IdempotencyKey: nullable(e.IdempotencyKey)},
		Type:       e.Type,
		Data:       eventDataJSON{PreviousAttributes: e.Previous},
	}
	switch {
	case e.Intent != nil:
		out.Data.Object = e.Intent.wire(livemode)
	case e.Session != nil:
		out.Data.Object = e.Session.wire(livemode)
	case e.Dispute != nil:
		out.Data.Object = e.Dispute.wire(livemode)
	default:
		out.Data.Object = e.Charge.wire(livemode)
	}
	return out
}

type paymentIntentJSON struct {
	ID                 string            `json:"id"`
	Object             string            `json:"object"`
	Amount             int64             `json:"amount"`
	AmountReceived     int64             `json:"amount_received"`
	CaptureMethod      string            `json:"capture_method"`
	ConfirmationMethod string            `json:"confirmation_method"`
	Created            int64             `json:"created"`
	Currency           string            `json:"currency"`
	Customer           *string           `json:"customer"`
	Description        *string           `json:"description"`
	LatestCharge       *string           `json:"latest_charge"`
	Livemode           bool              `json:"livemode"`
	Metadata           map[string]string `json:"metadata"`
	Status             string            `json:"status"`
}

func (p *paymentIntent) wire(livemode bool) paymentIntentJSON {
	out := paymentIntentJSON{
		ID: p.ID, Object: "payment_intent", Amount: p.Amount, CaptureMethod: "automatic", ConfirmationMethod: "automatic",
		Created: p.Created, Currency: p.Currency, Customer: nullable(p.Customer), Description: nullable(p.Description),
		LatestCharge: nullable(p.LatestCharge), Livemode: livemode, Metadata: p.Metadata, Status: "requires_payment_method",
	}
	if out.Metadata == nil {
		out.Metadata = map[string]string{}
	}
	if p.Succeeded {
		out.AmountReceived, out.Status = p.Amount, "succeeded"
	}
	return out
}

type checkoutSessionJSON struct {
	ID                string            `json:"id"`
	Object            string            `json:"object"`
	AmountTotal       int64             `json:"amount_total"`
	ClientReferenceID *string           `json:"client_reference_id"`
	Created           int64             `json:"created"`
	Currency          string            `json:"currency"`
	Customer          *string           `json:"customer"`
	Livemode          bool              `json:"livemode"`
	Metadata          map[string]string `json:"metadata"`
	Mode              string            `json:"mode"`
	PaymentIntent     *string           `json:"payment_intent"`
	PaymentLink       *string           `json:"payment_link"`
	PaymentStatus     string            `json:"payment_status"`
	Status            string            `json:"status"`
	URL               *string           `json:"url"`
}

func (cs *checkoutSession) wire(livemode bool) checkoutSessionJSON {
	out := checkoutSessionJSON{
		ID: cs.ID, Object: "checkout.session", AmountTotal: cs.Amount, ClientReferenceID: nullable(cs.ClientReferenceID),
		Created: cs.Created, Currency: cs.Currency, Customer: nullable(cs.Customer), Livemode: livemode, Metadata: cs.Metadata,
		Mode: "payment", PaymentIntent: nullable(cs.PaymentIntent), PaymentLink: nullable(cs.PaymentLink), PaymentStatus: "paid", Status: "complete",
	}
	if out.Metadata == nil {
		out.Metadata = map[string]string{}
	}
	return out
}
