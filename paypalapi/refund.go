package paypalapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	paypal "github.com/plutov/paypal/v4"

	"github.com/doublecheck-dev/doublecheck/reconcile"
	"github.com/doublecheck-dev/doublecheck/refunding"
)

// RequestIDLifetime is how long PayPal keeps a refund's PayPal-Request-Id and
// answers a repeat with the first request's result ("The server stores keys
// for 45 days", payments_payment_v2.json, captures.refund; the idempotency
// guide, https://developer.paypal.com/reference/guidelines/idempotency).
const RequestIDLifetime = 45 * 24 * time.Hour

// keyTrust is how old an intent may be before its PayPal-Request-Id is no
// longer trusted: a day less than PayPal keeps it, for clock skew and the time
// a resume takes.
const keyTrust = RequestIDLifetime - 24*time.Hour

// Gateway refunds PayPal captures for the refund protocol: the intent's key
// is the PayPal-Request-Id, so a resend within 45 days gets the first refund
// back instead of a second one.
type Gateway struct {
	c *Client
	// Now is the clock Find searches up to; nil means time.Now.
	Now func() time.Time
}

// RefundGateway is the client's refund side. version, doublecheck's, is not
// sent: a PayPal refund keeps no metadata (only a note the payer reads).
func (c *Client) RefundGateway(version string) *Gateway { return &Gateway{c: c} }

var (
	_ refunding.Gateway   = (*Gateway)(nil)
	_ refunding.Explainer = (*Gateway)(nil)
)

// Provider is PayPal.
func (g *Gateway) Provider() reconcile.Provider { return reconcile.ProviderPayPal }

// KeyTrust is how long an intent's PayPal-Request-Id is relied on.
func (g *Gateway) KeyTrust() time.Duration { return keyTrust }

// noteToPayer is shown to the payer with the refund.
const noteToPayer = "Refund of a duplicate payment"

// refundRequest is PayPal's refund_request (payments_payment_v2.json). Its
// custom_id, which PayPal says "Appears in transaction and settlement
// reports", carries the intent's key, so Find can tell the intent's refund
// row from another refund of the same amount. plutov/paypal v4.8.0's
// RefundCaptureRequest has no custom_id, so Send builds the request itself
// and sends it through the library's NewRequest and SendWithAuth, as its
// RefundCaptureWithPaypalRequestId does.
type refundRequest struct {
	Amount      *paypal.Money `json:"amount"`
	CustomID    string        `json:"custom_id"`
	NoteToPayer string        `json:"note_to_payer"`
}

// Send refunds it.Amount of capture it.ChargeID with it.Key as the
// PayPal-Request-Id and the custom_id. The amount is always named, so a
// resend is the same request (an empty body would refund whatever is left by
// then).
func (g *Gateway) Send(ctx context.Context, it reconcile.RefundIntent) (refunding.Receipt, error) {
	value, err := payPalValue(it.Amount, it.Currency)
	if err != nil {
		return refunding.Receipt{}, err
	}
	body := refundRequest{
		Amount:      &paypal.Money{Currency: strings.ToUpper(it.Currency), Value: value},
		CustomID:    it.Key,
		NoteToPayer: noteToPayer,
	}
	var resp *paypal.RefundResponse
	err = g.c.once(ctx, func(api *paypal.Client) error {
		req, err := api.NewRequest(ctx, http.MethodPost, api.APIBase+"/v2/payments/captures/"+url.PathEscape(it.ChargeID)+"/refund", body)
		if err != nil {
			return err
		}
		req.Header.Set("PayPal-Request-Id", it.Key)
		resp = &paypal.RefundResponse{}
		return api.SendWithAuth(req, resp)
	})
	if err != nil {
		return refunding.Receipt{}, err
	}
	switch resp.Status {
	case "COMPLETED":
		return refunding.Receipt{RefundID: resp.ID}, nil
	case "PENDING":
		// PayPal took the refund and completes it later (an eCheck payment,
		// a balance too low): a sync shows when it did.
		return refunding.Receipt{RefundID: resp.ID, AwaitingConfirmation: true}, nil
	}
	e := &APIError{Status: http.StatusCreated, Name: "REFUND_" + resp.Status,
		Message: fmt.Sprintf("PayPal made refund %s and reports it %s", resp.ID, resp.Status)}
	g.c.maskFields(e)
	return refunding.Receipt{}, e
}

// Find looks for the intent's refund among the capture's refund rows in
// Transaction Search since the intent was recorded: the refund rows (T1106,
// T1107; never a T1110 dispute hold) whose
// paypal_reference_id is the capture, of the intent's amount; of those,
// recorded.Pick's: the row whose custom_field is the intent's key (Send's
// custom_id), never one naming another intent's key, else the first row
// naming none that the ledger does not record for another intent (a refund
// sent by an older version, which sent no custom_id; or, if PayPal reports
// the capture's custom_field on a refund's row rather than the refund's
// custom_id, every row); never a row PayPal denied (D) or reversed (V); a
// row still pending (P) is received, not refunded. PayPal keeps no trace of the PayPal-Request-Id in
// reporting, so a refund of the same amount made outside doublecheck in that
// time could be taken for one naming no key. Rows appear up to three hours
// late: the protocol only looks for intents older than KeyTrust.
func (g *Gateway) Find(ctx context.Context, it reconcile.RefundIntent, recorded refunding.Recorded) (refunding.Receipt, bool, error) {
	if it.CreatedAt.IsZero() {
		return refunding.Receipt{}, false, fmt.Errorf("the refund intent of capture %s has no creation time to search PayPal from", it.ChargeID)
	}
	// CreatedAt is this machine's clock and PayPal dates its rows by its own:
	// a day of margin keeps a fast local clock from starting the search after
	// the intent's own refund row.
	from := it.CreatedAt.Add(-findClockMargin).UTC().Truncate(time.Second)
	now := time.Now()
	if g.Now != nil {
		now = g.Now()
	}
	now = now.UTC().Truncate(time.Second)
	var candidates []paypal.SearchTransactionInfo
	for start := from; start.Before(now); start = start.Add(MaxWindow) {
		end := minTime(start.Add(MaxWindow), now)
		for page, pages := 1, 1; page <= pages; page++ {
			resp, err := g.c.listPage(ctx, start, end, page, MaxPageSize)
			if err != nil {
				return refunding.Receipt{}, false, fmt.Errorf("look for the refund of capture %s: %w", it.ChargeID, err)
			}
			pages = resp.TotalPages
			for _, d := range resp.TransactionDetails {
				info := d.TransactionInfo
				// A denied or reversed refund row returned no money: never the
				// intent's refund to adopt.
				if kindOf(&info) != rowRefund || info.PayPalReferenceID != it.ChargeID || undoneRefund(&info) {
					continue
				}
				amount, currency, err := money(info.TransactionAmount)
				if err == nil && -amount == it.Amount && currency == strings.ToLower(it.Currency) {
					candidates = append(candidates, info)
				}
			}
		}
	}
	i := recorded.Pick(len(candidates), func(i int) (string, string) {
		return candidates[i].TransactionID, keyIn(candidates[i].CustomField)
	})
	if i < 0 {
		return refunding.Receipt{}, false, nil
	}
	// A row still pending (P) is a refund PayPal answered PENDING: received,
	// confirmed by a later sync.
	return refunding.Receipt{RefundID: candidates[i].TransactionID, AwaitingConfirmation: candidates[i].TransactionStatus == "P"}, true, nil
}

// findClockMargin is how long before an intent's CreatedAt Find searches.
const findClockMargin = 24 * time.Hour

// keyIn is the refund key a row's custom_field names, "" when it is the
// merchant's own text (or empty).
func keyIn(customField string) string {
	if strings.HasPrefix(customField, reconcile.RefundKeyPrefix) {
		return customField
	}
	return ""
}

// Classify reads a Send or Find error. No answer, a 5xx, a 429 or a 409 (the
// first request with this PayPal-Request-Id still in progress) leave the
// outcome unknown. PayPal answers a repeated id with the first result
// whatever the body, so there is no key conflict to adopt.
func (g *Gateway) Classify(err error) refunding.Failure {
	var ae *APIError
	var unsendable *unsendableError
	switch {
	case errors.As(err, &unsendable):
		return refunding.Failure{Code: "not_sent", Message: unsendable.msg, Reason: unsendable.msg}
	case !errors.As(err, &ae):
		return refunding.Failure{Unknown: true} // no answer: the protocol words why (the error is masked)
	}
	// An APIError's fields are masked where it is made (explain, Send).
	f := refunding.Failure{Code: ae.Name, Message: ae.Message,
		Unknown: ae.Status >= 500 || ae.Status == http.StatusTooManyRequests || ae.Status == http.StatusConflict,
		Reason:  fmt.Sprintf("HTTP %d: %s", ae.Status, strings.TrimSuffix(ae.Message, "."))}
	if ae.Issue != "" {
		f.Code = ae.Issue
	}
	return f
}

// Explain words PayPal's refusals an operator can act on; "" leaves the
// general sentence.
func (g *Gateway) Explain(it reconcile.RefundIntent, err error) string {
	var ae *APIError
	if !errors.As(err, &ae) {
		return ""
	}
	money := reconcile.FormatMoney(it.Amount, it.Currency)
	switch ae.Issue {
	case "REFUND_TIME_LIMIT_EXCEEDED":
		return fmt.Sprintf("PayPal capture %s is past PayPal's refund time limit, so it cannot be refunded through the API; send the payer %s from PayPal instead", it.ChargeID, money)
	case "CAPTURE_FULLY_REFUNDED":
		return fmt.Sprintf("PayPal capture %s was already fully refunded elsewhere (outside doublecheck), so nothing was refunded", it.ChargeID)
	case "REFUND_AMOUNT_EXCEEDED":
		return fmt.Sprintf("PayPal capture %s was already partly refunded elsewhere, so %s is more than is left to refund", it.ChargeID, money)
	case "TRANSACTION_DISPUTED", "REFUND_NOT_PERMITTED_DUE_TO_CHARGEBACK":
		return fmt.Sprintf("PayPal capture %s is disputed, so it cannot be refunded; answer the case in PayPal's Resolution Center instead", it.ChargeID)
	case "INVALID_RESOURCE_ID":
		return fmt.Sprintf("PayPal has no capture %s in the %s environment, so nothing was refunded", it.ChargeID, g.c.env)
	}
	if ae.Status == http.StatusForbidden {
		return fmt.Sprintf("the PayPal app may not refund (%s), so capture %s was not refunded; give the REST app the refund permission", ae.Name, it.ChargeID)
	}
	return ""
}
