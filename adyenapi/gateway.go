package adyenapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/doublecheck-dev/doublecheck/reconcile"
	"github.com/doublecheck-dev/doublecheck/refunding"
)

// keyTrustMargin is how long before Adyen's key lifetime an intent stops being
// resent blindly and is looked up first: clocks differ, and "at least 31
// days" is counted from Adyen's first submission, which may be after the
// intent was written.
const keyTrustMargin = 24 * time.Hour

// RefundGateway is the Adyen side of the exactly-once refund protocol.
func (c *Client) RefundGateway() refunding.Gateway { return &gateway{c: c, now: time.Now} }

type gateway struct {
	c   *Client
	now func() time.Time
}

func (g *gateway) Provider() reconcile.Provider { return reconcile.ProviderAdyen }

// KeyTrust is Adyen's 31 days less a day.
func (g *gateway) KeyTrust() time.Duration { return KeyLifetime - keyTrustMargin }

// Send asks for the refund with the intent's key as the Idempotency-Key and
// the key as the refund's reference (it comes back in the REFUND
// notification's merchantReference). Adyen's answer is "received": the refund
// is confirmed or refused later, by its REFUND notification.
func (g *gateway) Send(ctx context.Context, it reconcile.RefundIntent) (refunding.Receipt, error) {
	resp, err := g.c.Refund(ctx, it.ChargeID, it.Amount, it.Currency, it.Key, it.Key)
	if err != nil {
		return refunding.Receipt{}, err
	}
	return refunding.Receipt{RefundID: resp.PspReference, AwaitingConfirmation: true}, nil
}

// ErrNotKnown is Find for an intent older than Adyen keeps its key: Adyen has
// no API that lists a payment's refunds, so whether the intent's refund was
// made cannot be looked up from here.
var ErrNotKnown = errors.New("not known whether Adyen made this refund")

// Find looks the intent's refund up the only way Adyen allows: within the
// key's lifetime a request with the same Idempotency-Key answers "the
// response to the first attempt" and makes nothing new, so resending it is
// the lookup (and, if the first request never reached Adyen, makes the one
// refund the intent is for). Past the lifetime a resend could refund twice,
// so the answer is ErrNotKnown and the intent stays pending. The answer is
// this key's own refund, so what the ledger records of other intents does
// not matter here.
func (g *gateway) Find(ctx context.Context, it reconcile.RefundIntent, _ refunding.Recorded) (refunding.Receipt, bool, error) {
	if age := g.now().Sub(it.CreatedAt); age >= KeyLifetime {
		return refunding.Receipt{}, false, fmt.Errorf("%w: the intent is %s old and Adyen keeps Idempotency-Keys at least 31 days, so a resend could refund charge %s twice; look in the Customer Area for a refund of payment %s with reference %s, then import its REFUND notification or settle it by hand",
			ErrNotKnown, reconcile.HumanDuration(age), it.ChargeID, it.ChargeID, it.Key)
	}
	r, err := g.Send(ctx, it)
	if err != nil {
		return refunding.Receipt{}, false, err
	}
	return r, true, nil
}

// Classify reads a Send or Find error. No answer, 5xx, 429 and Adyen's 704
// (a request with this key still in progress) leave the intent pending;
// another request's answer to the key is a refusal, never adopted: it is a
// refund of another payment or amount.
func (g *gateway) Classify(err error) refunding.Failure {
	var (
		api      *APIError
		net      *NetworkError
		mismatch *KeyMismatchError
	)
	switch {
	case errors.Is(err, ErrNotKnown):
		return refunding.Failure{Unknown: true, Reason: "not known: Adyen keeps keys 31 days and lists no refunds"}
	case errors.As(err, &net):
		return refunding.Failure{Unknown: true}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return refunding.Failure{Unknown: true}
	case errors.As(err, &mismatch):
		return refunding.Failure{Code: "idempotency_key_reused", Message: mismatch.Error()}
	case errors.As(err, &api):
		f := refunding.Failure{Code: api.ErrorCode, Message: api.Message}
		if f.Code == "" {
			f.Code = fmt.Sprintf("http_%d", api.HTTPStatus)
		}
		if f.Message == "" {
			f.Message = http.StatusText(api.HTTPStatus)
		}
		switch {
		case api.ErrorCode == ErrKeyInProgress:
			f.Unknown, f.Reason = true, "a request with this Idempotency-Key is still in progress at Adyen (error 704): resume later"
		case api.HTTPStatus >= 500 || api.HTTPStatus == http.StatusTooManyRequests || api.Transient:
			f.Unknown, f.Reason = true, fmt.Sprintf("HTTP %d: try again", api.HTTPStatus)
		}
		return f
	}
	return refunding.Failure{Code: "invalid_request", Message: strings.TrimSpace(err.Error())}
}
