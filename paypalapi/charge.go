package paypalapi

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	paypal "github.com/plutov/paypal/v4"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// Metadata fields a PayPal charge carries. The order reference is the
// payment's invoice_id, else its custom_field, under the field detection reads
// by default (order_id), so PayPal's orders group like Stripe's.
const (
	MetaInvoiceID   = "invoice_id"
	MetaCustomField = "custom_field"
	MetaOrderRef    = "order_id"
	MetaEventCode   = "transaction_event_code"
)

// rowKind is what a Transaction Search row is to doublecheck, by its event
// code (PayPal's "Transaction event codes",
// developer.paypal.com/docs/transaction-search/transaction-event-codes):
// T00xx payments; of the T11xx reversals only T1106 "Payment reversal,
// initiated by PayPal" and T1107 "Payment refund, initiated by merchant" give
// the payer money back, while T1110 "Hold for dispute investigation" holds
// the amount during a dispute and T1111 "Cancellation of hold for dispute
// resolution" releases it; T12xx chargebacks and adjustments. Other codes
// (fee reversals and refunds, holds, transfers…) are no refund of a payment.
type rowKind int

const (
	rowOther       rowKind = iota // fees, transfers, withdrawals…: not a payment
	rowPayment                    // money taken from a payer, when its amount is positive
	rowRefund                     // money returned on a payment (paypal_reference_id names it)
	rowDispute                    // a chargeback on a payment
	rowDisputeHold                // a payment's amount held for a dispute investigation
	rowHoldRelease                // that hold cancelled: the dispute resolved
)

// Event codes of the rows linked to a payment that are read one by one.
const (
	eventReversal    = "T1106"
	eventRefund      = "T1107"
	eventDisputeHold = "T1110"
	eventHoldRelease = "T1111"
)

func kindOf(info *paypal.SearchTransactionInfo) rowKind {
	code := info.TransactionEventCode
	if strings.HasPrefix(code, "T00") {
		return rowPayment
	}
	if info.PayPalReferenceID == "" {
		return rowOther
	}
	switch {
	case code == eventReversal || code == eventRefund:
		return rowRefund
	case code == eventDisputeHold:
		return rowDisputeHold
	case code == eventHoldRelease:
		return rowHoldRelease
	case strings.HasPrefix(code, "T12"):
		return rowDispute
	}
	return rowOther
}

// record is what the store keeps as a PayPal charge's raw JSON: the payment's
// row as Transaction Search returned it, and the refund and dispute rows
// linked to it through paypal_reference_id. A refund is reported as a row of
// its own, often in a later sync than its payment, so the charge is rebuilt
// from this record whenever one arrives; keyed by transaction id, a row seen
// twice counts once.
type record struct {
	Row      json.RawMessage  `json:"transaction_detail,omitempty"` // none in the record of a payment only an activity download gave
	Refunds  map[string]int64 `json:"refunds,omitempty"`            // refund transaction id → minor units returned
	Disputes []string         `json:"disputes,omitempty"`           // chargeback rows
	Holds    []string         `json:"dispute_holds,omitempty"`      // T1110 rows
	Released []string         `json:"hold_releases,omitempty"`      // T1111 rows
	// Undone are refund rows PayPal denied (D) or reversed (V): no money
	// went back to the payer, so they never count under Refunds, even when
	// an earlier sync linked them while pending (P).
	Undone []string `json:"undone_refunds,omitempty"`
}

// charge builds the doublecheck charge of a payment record, observed at
// observed. live marks charges of the live environment.
func (r *record) charge(observed time.Time, live bool) (reconcile.Charge, error) {
	var d paypal.SearchTransactionDetails
	if err := json.Unmarshal(r.Row, &d); err != nil {
		return reconcile.Charge{}, fmt.Errorf("read transaction row: %w", err)
	}
	info := d.TransactionInfo
	amount, currency, err := money(info.TransactionAmount)
	if err != nil {
		return reconcile.Charge{}, fmt.Errorf("transaction %s: %w", info.TransactionID, err)
	}
	c := reconcile.Charge{
		Provider: reconcile.ProviderPayPal,
		ID:       info.TransactionID,
		Created:  time.Time(info.TransactionInitiationDate).UTC(),
		Amount:   amount,
		Currency: currency,
		Livemode: live,
		Observed: observed.UTC(),
		Metadata: map[string]string{MetaEventCode: info.TransactionEventCode},
	}
	if c.ID == "" || c.Created.IsZero() {
		return reconcile.Charge{}, fmt.Errorf("transaction row without an id or initiation date")
	}
	// D denied, P pending, S success, V fully reversed (refunded to the sender):
	// reporting_transactions_v1.json, transaction_status.
	switch info.TransactionStatus {
	case "S", "V":
		c.Status, c.Captured = "succeeded", true
	case "P":
		c.Status = "pending"
	default:
		c.Status = "failed"
	}
	c.AmountRefunded = r.refundedSum()
	if info.TransactionStatus == "V" {
		c.AmountRefunded = amount // reversed in full, whatever refund rows were seen
	}
	c.AmountRefunded = min(c.AmountRefunded, amount)
	c.AmountCaptured = amount
	c.Refunded = c.Captured && c.AmountRefunded >= amount
	c.Disputed = r.disputed()
	if p := d.PayerInfo; p != nil {
		c.Customer, c.Email = p.AccountID, p.EmailAddress
	}
	if c.Customer == "" {
		c.Customer = info.PayPalAccountID
	}
	c.Description = info.TransactionSubject
	c.Metadata = withOrderRefs(c.Metadata, info.InvoiceID, info.CustomField)
	c.Raw, err = json.Marshal(r)
	if err != nil {
		return reconcile.Charge{}, fmt.Errorf("transaction %s: encode: %w", c.ID, err)
	}
	return c, nil
}

// withOrderRefs is meta (made when nil and there is something to add) with a
// payment's invoice id and custom field under PayPal's names and its order
// reference, the invoice id else the custom field, under MetaOrderRef: one
// naming for the sync and the activity download.
func withOrderRefs(meta map[string]string, invoice, custom string) map[string]string {
	for field, v := range map[string]string{MetaInvoiceID: invoice, MetaCustomField: custom, MetaOrderRef: cmp.Or(invoice, custom)} {
		if v == "" {
			continue
		}
		if meta == nil {
			meta = map[string]string{}
		}
		meta[field] = v
	}
	return meta
}

// refundedSum is the sum of the record's refunds.
func (r *record) refundedSum() int64 {
	var sum int64
	for _, v := range r.Refunds {
		sum += v
	}
	return sum
}

// disputed: a chargeback, or a dispute hold not (yet) cancelled; each T1111
// cancels one T1110 hold.
func (r *record) disputed() bool {
	return len(r.Disputes) > 0 || len(r.Holds) > len(r.Released)
}

// merge adds what another record of the same payment knows: the newer row
// (by transaction_updated_date; the stored one on a tie) and every linked row.
func (r *record) merge(other record) {
	if len(other.Row) > 0 && (len(r.Row) == 0 || updated(other.Row).After(updated(r.Row))) {
		r.Row = other.Row
	}
	if len(other.Refunds) > 0 && r.Refunds == nil {
		r.Refunds = map[string]int64{}
	}
	maps.Copy(r.Refunds, other.Refunds)
	r.Disputes = union(r.Disputes, other.Disputes)
	r.Holds = union(r.Holds, other.Holds)
	r.Released = union(r.Released, other.Released)
	r.Undone = union(r.Undone, other.Undone)
	for _, id := range r.Undone {
		delete(r.Refunds, id)
	}
	// Versions that counted every T11xx row as a refund stored holds and
	// their cancellations under Refunds: a sync listing them again heals it.
	for _, id := range slices.Concat(r.Holds, r.Released) {
		delete(r.Refunds, id)
	}
}

// undoneRefund is whether a refund row's transaction_status says no money
// went back: D, denied, or V, reversed (reporting_transactions_v1.json,
// transaction_status).
func undoneRefund(info *paypal.SearchTransactionInfo) bool {
	return info.TransactionStatus == "D" || info.TransactionStatus == "V"
}

// union is ids with those of more it lacks appended.
func union(ids, more []string) []string {
	for _, id := range more {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids
}

func updated(row json.RawMessage) time.Time {
	var d paypal.SearchTransactionDetails
	if json.Unmarshal(row, &d) != nil {
		return time.Time{}
	}
	return time.Time(d.TransactionInfo.TransactionUpdatedDate)
}
