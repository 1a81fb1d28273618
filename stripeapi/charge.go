package stripeapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	stripe "github.com/stripe/stripe-go/v76"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// chargeFromStripe converts a stripe-go charge to what detection needs. Sync,
// event handling, refunds and `doublecheck import` all use it, so a charge looks
// the same however it arrived. raw is the charge's JSON; when nil, the JSON of the
// response that carried the charge is used, if it was a single charge.
func chargeFromStripe(ch *stripe.Charge, raw []byte, observed time.Time) reconcile.Charge {
	if raw == nil && ch.LastResponse != nil {
		raw = ch.LastResponse.RawJSON
	}
	c := reconcile.Charge{
		ID:             ch.ID,
		Created:        time.Unix(ch.Created, 0).UTC(),
		Amount:         ch.Amount,
		AmountRefunded: ch.AmountRefunded,
		AmountCaptured: ch.AmountCaptured,
		Currency:       strings.ToLower(string(ch.Currency)),
		Status:         string(ch.Status),
		Captured:       ch.Captured,
		Refunded:       ch.Refunded,
		Disputed:       ch.Disputed,
		Description:    ch.Description,
		Email:          ch.ReceiptEmail,
		Metadata:       maps.Clone(ch.Metadata),
		Livemode:       ch.Livemode,
		Provider:       reconcile.ProviderStripe,
		Observed:       observed.UTC(),
		Raw:            raw,
	}
	if ch.Customer != nil {
		c.Customer = ch.Customer.ID
	}
	if ch.BillingDetails != nil && ch.BillingDetails.Email != "" {
		c.Email = ch.BillingDetails.Email
	}
	if ch.PaymentMethodDetails != nil && ch.PaymentMethodDetails.Card != nil {
		card := ch.PaymentMethodDetails.Card
		c.CardFingerprint, c.CardBrand, c.CardLast4 = card.Fingerprint, string(card.Brand), card.Last4
	}
	if ch.PaymentIntent != nil {
		c.PaymentIntent = ch.PaymentIntent.ID
	}
	return c
}

// decodeCharge decodes one Stripe charge object, from a file or from Stripe. It
// refuses anything that is not a charge, so a file of refunds or customers is
// not imported as empty charges, and any charge reconcile.ValidateCharge finds
// impossible (a negative amount, an unknown currency or status, created after
// now, the command's clock…).
func decodeCharge(raw []byte, observed, now time.Time) (reconcile.Charge, error) {
	var ch stripe.Charge
	// Decoded as the plain struct: stripe.Charge's own UnmarshalJSON only adds
	// the case of a bare id string (which is no charge object) at the price of
	// a second pass over every charge.
	if err := json.Unmarshal(raw, (*plainCharge)(&ch)); err != nil {
		return reconcile.Charge{}, fmt.Errorf("not a Stripe charge object: %w", err)
	}
	return checkedCharge(&ch, raw, observed, now)
}

// decodeFileCharge is decodeCharge for a charge object of a file, which must
// be valid JSON: most go through fastCharge, the others through
// encoding/json, with the same result. fast says which: encoding/json may
// read an object otherwise than its canonical form says (a member given
// twice, objects merged; a key matched without regard to case).
func decodeFileCharge(raw []byte, now time.Time) (c reconcile.Charge, fast bool, err error) {
	if ch, ok := fastCharge(raw); ok {
		c, err = checkedCharge(&ch, raw, time.Time{}, now)
		return c, true, err
	}
	c, err = decodeCharge(raw, time.Time{}, now)
	return c, false, err
}

// checkedCharge converts ch, decoded from raw, after checking that it is a
// charge doublecheck can hold.
func checkedCharge(ch *stripe.Charge, raw []byte, observed, now time.Time) (reconcile.Charge, error) {
	switch {
	case ch.Object != "charge":
		if ch.Object == "" {
			return reconcile.Charge{}, errors.New(`not a Stripe charge object (it has no "object": "charge")`)
		}
		return reconcile.Charge{}, fmt.Errorf("a %q object, not a charge", ch.Object)
	case ch.ID == "":
		return reconcile.Charge{}, errors.New("a charge without an id")
	case ch.Created <= 0:
		return reconcile.Charge{}, fmt.Errorf("charge %s has no created time", ch.ID)
	case ch.Currency == "":
		return reconcile.Charge{}, fmt.Errorf("charge %s has no currency", ch.ID)
	}
	if observed.IsZero() {
		observed = knownAsOf(ch)
	}
	c := chargeFromStripe(ch, raw, observed)
	if err := reconcile.ValidateCharge(c, now); err != nil {
		return reconcile.Charge{}, err
	}
	return c, nil
}

type plainCharge stripe.Charge

// knownAsOf is the latest time a charge object from a file is known to describe:
// its creation, or its newest embedded refund. An imported file therefore never
// overrides a state synced from Stripe later.
func knownAsOf(ch *stripe.Charge) time.Time {
	t := ch.Created
	if ch.Refunds != nil {
		for _, r := range ch.Refunds.Data {
			t = max(t, r.Created)
		}
	}
	return time.Unix(t, 0).UTC()
}
