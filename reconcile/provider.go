package reconcile

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Provider is the payment provider a charge was taken through. Detection
// never groups charges of different providers: one payment is taken by one.
type Provider string

// The providers doublecheck reads. The empty Provider, as stores and files
// written before providers existed hold, is read as ProviderStripe.
const (
	ProviderStripe Provider = "stripe"
	ProviderPayPal Provider = "paypal"
	ProviderAdyen  Provider = "adyen"
)

// Providers lists every provider doublecheck knows, in the order it shows them.
var Providers = []Provider{ProviderStripe, ProviderPayPal, ProviderAdyen}

// ParseProvider reads a provider's name as stores and files write it (any
// case; empty is Stripe).
func ParseProvider(s string) (Provider, error) {
	for _, p := range Providers {
		if strings.EqualFold(s, string(p)) {
			return p, nil
		}
	}
	if s == "" {
		return ProviderStripe, nil
	}
	return "", unknownProvider(s)
}

func unknownProvider(name string) error {
	return fmt.Errorf("unknown payment provider %q (known: stripe, paypal, adyen)", name)
}

// Resolved is p with the empty provider of older stores and files read as
// Stripe.
func (p Provider) Resolved() Provider {
	if p == "" {
		return ProviderStripe
	}
	return p
}

// KeyLifetime is how long the provider keeps an idempotency key, so that a
// request repeated with the key within it is answered with the first result
// instead of charging again:
//   - Stripe: keys may be pruned once at least 24 hours old
//     (https://docs.stripe.com/idempotency).
//   - PayPal: PayPal-Request-Id on order create, authorize and capture, 6 hours
//     (https://developer.paypal.com/reference/guidelines/idempotency); its
//     refunds keep it 45 days, but the charges detection reads are captures.
//   - Adyen: at least 31 days
//     (https://docs.adyen.com/development-resources/api-idempotency/).
//
// 0 for a provider doublecheck does not know: no lifetime is claimed.
func (p Provider) KeyLifetime() time.Duration {
	switch p.Resolved() {
	case ProviderStripe:
		return 24 * time.Hour
	case ProviderPayPal:
		return 6 * time.Hour
	case ProviderAdyen:
		return 31 * 24 * time.Hour
	}
	return 0
}

// Title is the provider's name as its users write it.
func (p Provider) Title() string {
	switch p.Resolved() {
	case ProviderStripe:
		return "Stripe"
	case ProviderPayPal:
		return "PayPal"
	case ProviderAdyen:
		return "Adyen"
	}
	return string(p)
}

// KeyHeader is the HTTP header that carries the provider's idempotency key.
func (p Provider) KeyHeader() string {
	if p.Resolved() == ProviderPayPal {
		return "PayPal-Request-Id"
	}
	return "Idempotency-Key"
}

// aKeyHeader is KeyHeader with its article: "an Idempotency-Key".
func (p Provider) aKeyHeader() string {
	if h := p.KeyHeader(); h != "Idempotency-Key" {
		return "a " + h
	}
	return "an Idempotency-Key"
}

// keysKept names the provider's idempotency keys and how long it keeps them:
// "Stripe keeps keys 24 h", "PayPal keeps PayPal-Request-Id 6 h".
func (p Provider) keysKept() string {
	what := "keys"
	if h := p.KeyHeader(); h != "Idempotency-Key" {
		what = h
	}
	return fmt.Sprintf("%s keeps %s %s", p.Title(), what, HumanDuration(p.KeyLifetime()))
}

// MaxKeyLength is the longest idempotency key the provider's refund call
// takes, 0 for a provider doublecheck does not know:
//   - Stripe: Idempotency-Key up to 255 characters
//     (https://docs.stripe.com/api/idempotent_requests).
//   - PayPal: the refund call's spec (payments_payment_v2.json in
//     paypal/paypal-rest-api-specifications) states no maximum for
//     PayPal-Request-Id; the Orders v2 spec caps it at 108, the bound
//     doublecheck keeps to.
//   - Adyen: Idempotency-Key up to 64 characters
//     (https://docs.adyen.com/development-resources/api-idempotency/).
func (p Provider) MaxKeyLength() int {
	switch p.Resolved() {
	case ProviderStripe:
		return 255
	case ProviderPayPal:
		return 108
	case ProviderAdyen:
		return 64
	}
	return 0
}

// CheckRefundKey refuses a refund key the provider would not take: empty, or
// longer than its idempotency header allows. The error names the header and
// the provider's own limit.
func (p Provider) CheckRefundKey(key string) error {
	switch limit := p.MaxKeyLength(); {
	case key == "":
		return errors.New("the idempotency key is empty")
	case limit == 0:
		return unknownProvider(string(p))
	case len(key) > limit:
		return fmt.Errorf("the %s is %d characters long; %s accepts at most %d", p.KeyHeader(), len(key), p.Title(), limit)
	}
	return nil
}
