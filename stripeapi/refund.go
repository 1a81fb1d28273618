package stripeapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	stripe "github.com/stripe/stripe-go/v76"

	"github.com/doublecheck-dev/doublecheck/reconcile"
	"github.com/doublecheck-dev/doublecheck/refunding"
)

// Refund metadata keys, so a refund found in Stripe can be matched to its intent.
const (
	metaDuplicateOf = "duplicate_of"
	metaGroup       = "group"
	metaOperator    = "operator"
	metaVersion     = "doublecheck_version"
	// metaKey is the intent's idempotency key: Find tells two equal refunds
	// of one charge apart by it once Stripe has forgotten the key.
	metaKey = "doublecheck_key"
)

// keyTrust is how old an intent may be before its idempotency key is no
// longer trusted: Stripe keeps keys for at least 24 hours, and the hour of
// margin covers clock skew and the time a retry takes.
const keyTrust = 23 * time.Hour

// RefundGateway is Stripe's side of the refund protocol (package refunding):
// refunds created with the intent's idempotency key and metadata naming its
// group, kept charge, operator, version (doublecheck's) and the key itself.
func (c *Client) RefundGateway(version string) refunding.Gateway {
	return &refundGateway{client: c, version: version}
}

type refundGateway struct {
	client  *Client
	version string
}

func (g *refundGateway) Provider() reconcile.Provider { return reconcile.ProviderStripe }

func (g *refundGateway) KeyTrust() time.Duration { return keyTrust }

// Send creates the refund; the receipt carries the charge after it.
func (g *refundGateway) Send(ctx context.Context, it reconcile.RefundIntent) (refunding.Receipt, error) {
	ref, err := g.client.createRefund(ctx, it, g.version)
	if err != nil {
		return refunding.Receipt{}, err
	}
	return refunding.Receipt{RefundID: ref.ID, ChargeAfter: g.chargeAfter(ctx, it.ChargeID, ref)}, nil
}

// Find looks for the intent's refund among Stripe's refunds for its charge
// that could be it (same amount, same group and kept charge in the metadata,
// not failed): the one whose metadata names the intent's key; for a refund
// sent by a version that named none, recorded.Pick's rule (never one the
// ledger records for another intent).
func (g *refundGateway) Find(ctx context.Context, it reconcile.RefundIntent, recorded refunding.Recorded) (refunding.Receipt, bool, error) {
	refunds, err := g.client.listRefunds(ctx, it.ChargeID)
	if err != nil {
		return refunding.Receipt{}, false, err
	}
	var candidates []*stripe.Refund
	for _, ref := range refunds {
		if ref.Amount == it.Amount &&
			ref.Metadata[metaGroup] == it.GroupID &&
			ref.Metadata[metaDuplicateOf] == it.KeptChargeID &&
			ref.Status != stripe.RefundStatusFailed && ref.Status != stripe.RefundStatusCanceled {
			candidates = append(candidates, ref)
		}
	}
	i := recorded.Pick(len(candidates), func(i int) (string, string) {
		return candidates[i].ID, candidates[i].Metadata[metaKey]
	})
	if i < 0 {
		return refunding.Receipt{}, false, nil
	}
	ref := candidates[i]
	return refunding.Receipt{RefundID: ref.ID, ChargeAfter: g.chargeAfter(ctx, it.ChargeID, ref)}, true, nil
}

// Classify reads stripe-go's error: Stripe's code (else its type) and
// message, the API key masked out (a server may echo it, and the ledger never
// holds it). Any other error is no answer, which the protocol words itself.
func (g *refundGateway) Classify(err error) refunding.Failure {
	var se *stripe.Error
	if !errors.As(err, &se) {
		return refunding.Failure{Unknown: true}
	}
	f := refunding.Failure{
		Unknown:     transient(err),
		KeyConflict: se.Type == stripe.ErrorTypeIdempotency && !transient(err),
		Code:        string(se.Code),
		Message:     g.client.mask(se.Msg),
		Reason:      fmt.Sprintf("HTTP %d", se.HTTPStatusCode),
	}
	if f.Code == "" {
		f.Code = string(se.Type)
	}
	if se.Msg != "" {
		f.Reason += ": " + strings.TrimSuffix(f.Message, ".")
	}
	return f
}

// Explain words the refusals an operator can act on (refunding.Explainer).
func (g *refundGateway) Explain(it reconcile.RefundIntent, err error) string {
	var se *stripe.Error
	if !errors.As(err, &se) {
		return ""
	}
	switch {
	case se.Code == stripe.ErrorCodeChargeDisputed:
		return fmt.Sprintf("charge %s is disputed, so it cannot be refunded; answer the dispute in the Stripe Dashboard instead", it.ChargeID)
	case se.Code == stripe.ErrorCodeChargeAlreadyRefunded:
		return fmt.Sprintf("charge %s was already refunded elsewhere (outside doublecheck), so nothing was refunded", it.ChargeID)
	case se.Code == stripe.ErrorCodeAmountTooLarge:
		return fmt.Sprintf("charge %s was already partly refunded elsewhere, so %s is more than is left to refund",
			it.ChargeID, reconcile.FormatMoney(it.Amount, it.Currency))
	case se.HTTPStatusCode == http.StatusForbidden:
		return fmt.Sprintf("the API key is a restricted key without write permission on refunds, so charge %s was not refunded; use a key with Refunds: Write", it.ChargeID)
	}
	return "" // the client's own sentence (a bad key, any other refusal) says it
}

// chargeAfter is the charge as Stripe holds it after the refund: the refund's
// expanded charge, else a fresh retrieve. It is observed at the server time of
// the response that carried it (as sync's charges are), so the store's
// newest-wins rule orders it against sync's on one clock. It is best effort:
// when neither is available the next sync brings the refund state.
func (g *refundGateway) chargeAfter(ctx context.Context, chargeID string, ref *stripe.Refund) *reconcile.Charge {
	ch, resp := ref.Charge, ref.LastResponse
	if ch == nil || ch.Amount == 0 || resp == nil {
		var err error
		if ch, err = g.client.getCharge(ctx, chargeID); err != nil {
			return nil
		}
		resp = ch.LastResponse
	}
	c := chargeFromStripe(ch, nil, servedAt(resp))
	return &c
}

// transient reports whether Stripe's answer is unknown or may change on a retry
// with the same key: no response, a timeout, a 5xx, a 429 or a concurrent
// request with the same key still in flight.
func transient(err error) bool {
	var se *stripe.Error
	if !errors.As(err, &se) {
		return true // network failure, timeout, cancelled request: no answer from Stripe
	}
	return se.HTTPStatusCode >= 500 || se.HTTPStatusCode == http.StatusTooManyRequests ||
		se.HTTPStatusCode == http.StatusConflict || se.Code == stripe.ErrorCodeIdempotencyKeyInUse ||
		se.HTTPStatusCode == 0
}

// createRefund sends the refund of an intent with its idempotency key. call
// retries failures that may pass on a second try; the key makes every retry
// safe, and Stripe replays the first result.
func (c *Client) createRefund(ctx context.Context, it reconcile.RefundIntent, version string) (*stripe.Refund, error) {
	params := refundParams(ctx, it, version)
	var ref *stripe.Refund
	err := c.call(ctx, func(ctx context.Context) (err error) {
		params.Context = ctx
		ref, err = c.api.Refunds.New(params)
		return err
	})
	if err != nil {
		return nil, err // explained per charge by the Refunder
	}
	return ref, nil
}

// listRefunds lists every refund of a charge through stripe-go's paging
// iterator; a failed page restarts the listing, which only reads.
func (c *Client) listRefunds(ctx context.Context, chargeID string) ([]*stripe.Refund, error) {
	params := &stripe.RefundListParams{Charge: stripe.String(chargeID)}
	params.Limit = stripe.Int64(100)
	var refunds []*stripe.Refund
	err := c.call(ctx, func(ctx context.Context) error {
		params.Context = ctx
		refunds = refunds[:0]
		iter := c.api.Refunds.List(params)
		for iter.Next() {
			refunds = append(refunds, iter.Refund())
		}
		return iter.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("list the refunds of charge %s: %w", chargeID, err)
	}
	return refunds, nil
}

// refundParams are the refund request for an intent. They depend only on the
// intent (and the version), so a retry sends the same parameters with the same
// key and Stripe replays the first result.
func refundParams(ctx context.Context, it reconcile.RefundIntent, version string) *stripe.RefundParams {
	p := &stripe.RefundParams{
		Charge: stripe.String(it.ChargeID),
		Amount: stripe.Int64(it.Amount),
		Reason: stripe.String(string(stripe.RefundReasonDuplicate)),
	}
	p.Context = ctx
	p.SetIdempotencyKey(it.Key)
	for k, v := range map[string]string{metaDuplicateOf: it.KeptChargeID, metaGroup: it.GroupID,
		metaOperator: it.Operator, metaVersion: version, metaKey: it.Key} {
		if v != "" { // an empty metadata value would unset the key
			p.AddMetadata(k, v)
		}
	}
	p.AddExpand("charge")
	return p
}
