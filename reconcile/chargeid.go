package reconcile

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// The forms of the ids providers give a charge. Ids are told apart by form
// alone (a key log's charge_id says nothing else), and the forms do not
// overlap: Stripe's carry an underscore, PayPal's are 17 characters, Adyen's 16.

// stripeChargePrefixes are the ids Stripe gives charge objects: ch_ for card
// and most other charges, py_ for charges of some payment methods (such as
// bank debits) and of connected accounts' payments.
var stripeChargePrefixes = []string{"ch_", "py_"}

// isStripeChargeID is whether id has the form of a Stripe charge id.
func isStripeChargeID(id string) bool {
	return slices.ContainsFunc(stripeChargePrefixes, func(p string) bool { return strings.HasPrefix(id, p) }) &&
		len(id) > 3 && len(id) <= maxIDLength && !strings.ContainsFunc(id, notIDRune)
}

// notIDRune is a character Stripe never puts in an object id.
func notIDRune(r rune) bool {
	return r != '_' && notAlphanumeric(r)
}

func notAlphanumeric(r rune) bool {
	return !('0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z')
}

// PayPalTransactionIDLength is the length of a PayPal transaction id: "A
// valid transaction ID is 17 characters long" (the transaction_id parameter
// of Transaction Search, reporting_transactions_v1.json in
// paypal/paypal-rest-api-specifications), letters and digits (the pattern
// ^[a-zA-Z0-9]*$ of its transaction_info.transaction_id; the NVP API's
// TRANSACTIONID: "17 single-byte alphanumeric characters"). A capture's id, which
// a refund names, is its transaction id.
const PayPalTransactionIDLength = 17

// IsPayPalTransactionID is whether id has the form of a PayPal transaction id.
func IsPayPalTransactionID(id string) bool {
	return len(id) == PayPalTransactionIDLength && !strings.ContainsFunc(id, notAlphanumeric)
}

// IsPspReference is whether id has the form of an Adyen Psp Reference, which
// is Adyen's payment (charge) id: "Adyen's 16-character unique reference"
// (the column description of Adyen's reports), letters and digits.
func IsPspReference(id string) bool {
	return len(id) == 16 && !strings.ContainsFunc(id, notAlphanumeric)
}

// IsChargeID is whether id has the form of the provider's id of a charge: a
// Stripe charge id (ch_… or py_…), a PayPal transaction id (17 letters and
// digits) or an Adyen Psp Reference (16).
func (p Provider) IsChargeID(id string) bool {
	switch p.Resolved() {
	case ProviderStripe:
		return isStripeChargeID(id)
	case ProviderPayPal:
		return IsPayPalTransactionID(id)
	case ProviderAdyen:
		return IsPspReference(id)
	}
	return false
}

// ChargeIDForm names the provider's charge id and its form, for messages: "a
// Stripe charge id (ch_… or py_…)".
func (p Provider) ChargeIDForm() string {
	switch p.Resolved() {
	case ProviderStripe:
		return "a Stripe charge id (ch_… or py_…)"
	case ProviderPayPal:
		return fmt.Sprintf("a PayPal transaction id (%d letters and digits)", PayPalTransactionIDLength)
	case ProviderAdyen:
		return "an Adyen Psp Reference (16 letters and digits)"
	}
	return "a charge id of " + string(p)
}

// ProviderOfChargeID is the provider whose charge ids have id's form; false
// when none has.
func ProviderOfChargeID(id string) (Provider, bool) {
	for _, p := range Providers {
		if p.IsChargeID(id) {
			return p, true
		}
	}
	return "", false
}

// chargeIDForms names every provider's charge id, for a message about an id
// of no provider: "a Stripe charge id (ch_… or py_…), a PayPal transaction id
// (17 letters and digits) or an Adyen Psp Reference (16 letters and digits)".
func chargeIDForms() string {
	forms := make([]string, len(Providers))
	for i, p := range Providers {
		forms[i] = p.ChargeIDForm()
	}
	return strings.Join(forms[:len(forms)-1], ", ") + " or " + forms[len(forms)-1]
}

// founded is a floor for the time of anything the provider made: Stripe
// charged nothing before 2009 (stripe-mock's fixtures date from February
// 2009), PayPal was founded in 1998, Adyen in 2006. For a provider not known,
// the earliest of them.
func (p Provider) founded() time.Time {
	year := 1998
	switch p.Resolved() {
	case ProviderStripe:
		year = 2009
	case ProviderAdyen:
		year = 2006
	}
	return time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC)
}

// maxAmountOwner says whose limit MaxAmount is for the provider's charges:
// Stripe's own; for PayPal and Adyen, whose APIs state none (PayPal's money
// value is any decimal of up to 32 characters, payments_payment_v2.json;
// Adyen's Amount.value any int64, CheckoutService-v71.json in Adyen/adyen-openapi),
// doublecheck's, which keeps sums of amounts far from overflowing.
func (p Provider) maxAmountOwner() string {
	switch p.Resolved() {
	case ProviderStripe:
		return "Stripe's maximum (8 digits)"
	case ProviderAdyen:
		return "doublecheck's maximum for an Adyen charge (Adyen states none)"
	}
	return fmt.Sprintf("doublecheck's maximum for a %s charge (%[1]s states none)", p.Title())
}
