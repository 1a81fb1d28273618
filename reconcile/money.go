package reconcile

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// RefundKeyPrefix begins every refund key RefundKey makes: a provider's
// record that carries a text of its own (PayPal's custom_field) tells a
// doublecheck key from the merchant's text by it.
const RefundKeyPrefix = "doublecheck-refund-"

// RefundKey is the Stripe Idempotency-Key of doublecheck's refund of amount on a
// charge of which refundedBefore was already refunded. It is deterministic, so a
// retry after a crash replays the first refund; and each part of a charge
// refunded in parts has a key of its own, since refundedBefore grows with every
// part. The key is computed once, when the refund is planned, and stored with
// the intent: a pending intent is always resent with its stored key.
func RefundKey(chargeID string, refundedBefore, amount int64) string {
	return RefundKeyPrefix + chargeID + "-" + strconv.FormatInt(refundedBefore, 10) + "-" + strconv.FormatInt(amount, 10)
}

// askedAgainKey is the key of a refund whose deterministic key is base, given
// the keys of the charge's refunds that ended without moving money (ended):
// base itself when none of them is base's, else base-r<n>, n the number of
// them that are base or an earlier base-r<i>. Each new ask after a refusal
// (or a reversal) so has a key of its own, and the same ask planned twice
// (the dashboard and the refund command) the same key. At most 4 characters
// more than base for 999 asks, within Adyen's 64 for its 16-character
// references.
func askedAgainKey(base string, ended []string) string {
	n := 0
	for _, k := range ended {
		if k == base || isAskedAgain(k, base) {
			n++
		}
	}
	if n == 0 {
		return base
	}
	return base + "-r" + strconv.Itoa(n)
}

// isAskedAgain is whether key is base-r<n>.
func isAskedAgain(key, base string) bool {
	n, ok := strings.CutPrefix(key, base+"-r")
	if !ok || n == "" {
		return false
	}
	for i := range len(n) {
		if n[i] < '0' || n[i] > '9' {
			return false
		}
	}
	return true
}

// decimals is the number of digits after the point in the currency's major
// unit, as Stripe counts amounts (see currencies); two for a code it does not
// know.
func decimals(currency string) int {
	if d, ok := currencies[strings.ToLower(currency)]; ok {
		return d
	}
	return 2
}

// FormatAmount writes a minor-unit amount in major units with the currency's own
// decimals: 2000 usd → "20.00", 2000 jpy → "2000", 1500 kwd → "1.500".
func FormatAmount(minor int64, currency string) string {
	d := decimals(currency)
	sign := ""
	u := uint64(minor)
	if minor < 0 {
		sign, u = "-", uint64(-minor) // wraps correctly for math.MinInt64 too
	}
	digits := strconv.FormatUint(u, 10)
	if d == 0 {
		return sign + digits
	}
	if len(digits) <= d {
		digits = strings.Repeat("0", d-len(digits)+1) + digits
	}
	return sign + digits[:len(digits)-d] + "." + digits[len(digits)-d:]
}

// FormatMoney is FormatAmount followed by the upper-case currency code: "20.00 USD".
func FormatMoney(minor int64, currency string) string {
	return FormatAmount(minor, currency) + " " + strings.ToUpper(currency)
}

// FormatTotals is one FormatMoney per currency, in currency order, joined by sep:
// "120.00 EUR · 49.99 USD". Amounts in different currencies are never added up.
func FormatTotals(totals map[string]int64, sep string) string {
	currencies := make([]string, 0, len(totals))
	for cur := range totals {
		currencies = append(currencies, cur)
	}
	slices.Sort(currencies)
	parts := make([]string, len(currencies))
	for i, cur := range currencies {
		parts[i] = FormatMoney(totals[cur], cur)
	}
	return strings.Join(parts, sep)
}

// LibraryGeneratedKey reports whether an idempotency key has a shape only a
// Stripe library gives the keys it makes when the application supplied none,
// so the request carried no key of the application's:
//   - stripe-go: NewIdempotencyKey is fmt.Sprintf("%v_%v", time.Now().UnixNano(),
//     base64.URLEncoding.EncodeToString(4 random bytes)[:6]) (stripe-go v76
//     params.go): 19 digits, '_', 6 characters of A–Z a–z 0–9 - _;
//   - stripe-node: `stripe-node-retry-${uuid4()}` on a POST when network
//     retries are on (stripe-node RequestSender._defaultIdempotencyKey).
//
// Other libraries send a bare UUID: see AmbiguousKey.
func LibraryGeneratedKey(key string) bool {
	if uuid, ok := strings.CutPrefix(key, "stripe-node-retry-"); ok {
		return isUUID(uuid)
	}
	if len(key) != 26 || key[19] != '_' {
		return false
	}
	for i := range 19 {
		if key[i] < '0' || key[i] > '9' {
			return false
		}
	}
	for i := 20; i < 26; i++ {
		c := key[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// libraryKey is whether key, on a charge of provider p, was made by the
// provider's library rather than the application: only Stripe's libraries are
// known to make keys of a shape of their own, so on another provider's charge
// any key is the application's.
func (p Provider) libraryKey(key string) bool {
	return p.Resolved() == ProviderStripe && LibraryGeneratedKey(key)
}

// AmbiguousKey reports whether a key is a bare UUID, which cannot be told
// apart from a library's automatic key. A library makes it once per call and
// reuses it on that call's retries. stripe-python puts str(uuid.uuid4()) on
// every POST without a key (_api_requestor.py request_headers); stripe-java
// UUID.randomUUID() on every POST without one (StripeRequest.buildHeaders);
// stripe-dotnet Guid.NewGuid() likewise (StripeRequest.BuildStripeHeaders);
// stripe-php $randomGenerator->uuid() on a POST when Stripe::$maxNetworkRetries
// > 0 (HttpClient/CurlClient.php); stripe-ruby SecureRandom.uuid when retries
// are on (api_requestor.rb). An application may use a UUID too, so causes that
// count application keys say so rather than guess.
func AmbiguousKey(key string) bool { return isUUID(key) }

// isUUID is the 8-4-4-4-12 hexadecimal form, either case.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// HumanDuration is a short duration for people: "41 s", "4 min 10 s", "26 h", "3 d".
func HumanDuration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int64(d/time.Second))
	case d < time.Hour:
		m, s := int64(d/time.Minute), int64(d%time.Minute/time.Second)
		if s == 0 {
			return fmt.Sprintf("%d min", m)
		}
		return fmt.Sprintf("%d min %d s", m, s)
	case d < 72*time.Hour:
		return fmt.Sprintf("%d h", int64(d/time.Hour))
	}
	return fmt.Sprintf("%d d", int64(d/(24*time.Hour)))
}
