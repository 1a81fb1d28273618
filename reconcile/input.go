package reconcile

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// utf8BOM is the byte-order mark spreadsheet programs and some editors put at
// the start of a UTF-8 file.
var utf8BOM = []byte("\xef\xbb\xbf")

// TextFile checks that data, the whole of a file named name, is UTF-8 text, and
// returns it without a leading byte-order mark. Invalid UTF-8 is refused with
// its line: decoders would otherwise turn it into U+FFFD and store a changed
// value without a word.
func TextFile(data []byte, name string) ([]byte, error) {
	data = bytes.TrimPrefix(data, utf8BOM)
	if utf8.Valid(data) {
		return data, nil
	}
	for n, line := range bytes.Split(data, []byte("\n")) {
		if err := TextLine(line, name, n+1); err != nil {
			return nil, err
		}
	}
	return data, nil // not reached: some line was invalid
}

// MaxAmount is the largest amount of a charge, in minor units: "The amount
// value supports up to eight digits (e.g., a value of 99999999 for a USD charge
// of $999,999.99)" (Stripe's API reference for a charge's amount, also in
// stripe-go v76 charge.go; https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts).
const MaxAmount = 99_999_999

// TrimLineBOM returns a JSONL line without a leading byte-order mark: files
// joined with cat carry each one's mark at the start of a later line.
func TrimLineBOM(line []byte) []byte { return bytes.TrimPrefix(line, utf8BOM) }

// TextLine refuses line n of the file name unless it is UTF-8, naming the
// byte of the line where the text goes wrong.
func TextLine(line []byte, name string, n int) error {
	if utf8.Valid(line) {
		return nil
	}
	col := 0
	for len(line) > 0 {
		r, size := utf8.DecodeRune(line)
		if r == utf8.RuneError && size <= 1 {
			break
		}
		col += size
		line = line[size:]
	}
	return fmt.Errorf("%s line %d (byte %d of the line): not valid UTF-8 text; save the file as UTF-8", name, n, col+1)
}

// Place is where a record sits in a file, for messages: a line of a file of
// lines (Element < 0), or an element of a JSON array, which starts at Byte on
// Line.
type Place struct {
	File    string
	Line    int
	Element int
	Byte    int64
}

func (p Place) String() string {
	if p.Element < 0 {
		return fmt.Sprintf("%s line %d", p.File, p.Line)
	}
	return fmt.Sprintf("%s: element %d (line %d, byte %d)", p.File, p.Element, p.Line, p.Byte)
}

// Charge statuses Stripe documents for a charge object; every provider's
// readers map their payment statuses onto them.
var chargeStatuses = []string{"succeeded", "pending", "failed"}

// maxClockSkew is how far in the future a created time may be, for clocks that
// disagree a little.
const maxClockSkew = 24 * time.Hour

// maxIDLength bounds an object id: Stripe's are a few dozen characters; 255
// leaves room for any format to come and refuses a pasted document.
const maxIDLength = 255

// ValidateCharge refuses a charge its provider (c.Provider; empty is Stripe)
// cannot hold: one whose id is not the provider's charge id (Stripe ch_… or
// py_…, a PayPal transaction id, an Adyen Psp Reference; see
// Provider.IsChargeID) or is over 255 characters, whose currency is not an
// ISO 4217 currency, whose amount is not 1 to 99999999 (MaxAmount: Stripe's
// maximum, and doublecheck's for the providers that state none), whose
// refunded or captured amounts are negative or above the amount, whose
// refunded flag disagrees with its refunded amount, whose status is unknown,
// or which was created before the provider existed or after now. The bounds
// also keep sums of amounts (the money at risk) far from overflowing int64:
// 9.2e18 / 1e8 is 9.2e10 charges. The error names the provider and the field,
// so that with its file and line an operator can find it. Every way charges
// come in, from a file or a provider's API, goes through here: an impossible
// charge would otherwise count in the money at risk or make a group look
// resolved.
func ValidateCharge(c Charge, now time.Time) error {
	p := c.Provider.Resolved()
	what := p.Title() + " charge " + c.ID
	switch {
	case len(c.ID) > maxIDLength:
		return fmt.Errorf("id %.20q… is %d characters long; %s ids are at most %d", c.ID, len(c.ID), p.Title(), maxIDLength)
	case !p.IsChargeID(c.ID):
		return fmt.Errorf("id %q is not %s", c.ID, p.ChargeIDForm())
	case !KnownCurrency(c.Currency):
		return fmt.Errorf("%s: currency %q is not an ISO 4217 currency code", what, c.Currency)
	case c.Amount < 0:
		return fmt.Errorf("%s: amount %d is negative", what, c.Amount)
	case c.Amount == 0:
		return fmt.Errorf("%s: amount is 0 or missing; a charge takes 1 minor unit or more", what)
	case c.Amount > MaxAmount:
		return fmt.Errorf("%s: amount %d (%s) is more than %d minor units, %s", what, c.Amount,
			FormatMoney(c.Amount, c.Currency), MaxAmount, p.maxAmountOwner())
	case c.AmountRefunded < 0:
		return fmt.Errorf("%s: amount_refunded %d is negative", what, c.AmountRefunded)
	case c.AmountRefunded > c.Amount:
		return fmt.Errorf("%s: amount_refunded %d is more than its amount %d", what, c.AmountRefunded, c.Amount)
	case c.Refunded != (c.AmountRefunded == c.Amount):
		return fmt.Errorf("%s: refunded is %t but amount_refunded %d of amount %d disagrees (refunded means all of it)", what, c.Refunded, c.AmountRefunded, c.Amount)
	case c.AmountCaptured < 0:
		return fmt.Errorf("%s: amount_captured %d is negative", what, c.AmountCaptured)
	case c.AmountCaptured > c.Amount:
		return fmt.Errorf("%s: amount_captured %d is more than its amount %d", what, c.AmountCaptured, c.Amount)
	case !slices.Contains(chargeStatuses, c.Status):
		return fmt.Errorf("%s: status %q is not one of %s", what, c.Status, strings.Join(chargeStatuses, ", "))
	}
	if err := checkCreated(p, c.Created, now); err != nil {
		return fmt.Errorf("%s: created %w", what, err)
	}
	return nil
}

// checkCreated refuses a time nothing of the provider's can have: before it
// existed or in the future.
func checkCreated(p Provider, t, now time.Time) error {
	switch {
	case t.Before(p.founded()):
		return fmt.Errorf("%s is before %s existed", t.UTC().Format(time.RFC3339), p.Title())
	case t.After(now.Add(maxClockSkew)):
		return fmt.Errorf("%s is in the future", t.UTC().Format(time.RFC3339))
	}
	return nil
}

// Repeats finds records that occur more than once in one file. A record
// repeated with the same contents is counted (Repeated) and kept once; a record
// whose id comes back with different contents is a conflict nobody can settle
// by picking one, so the file is refused.
type Repeats struct {
	what     string // "charge", "key record": for messages
	first    map[string]firstSeen
	Repeated int
}

type firstSeen struct {
	line    int
	content string
}

// NewRepeats tracks repeats of records called what ("charge").
func NewRepeats(what string) *Repeats {
	return &Repeats{what: what, first: map[string]firstSeen{}}
}

// Seen records that the record id, with content, is on line. It reports whether
// the record is a repeat to skip; an error when the same id came earlier with
// other contents, naming both lines.
func (r *Repeats) Seen(id, content string, line int) (repeat bool, err error) {
	prev, ok := r.first[id]
	if !ok {
		r.first[id] = firstSeen{line: line, content: content}
		return false, nil
	}
	if prev.content != content {
		return false, ConflictError(r.what, id, prev.line)
	}
	r.Repeated++
	return true, nil
}

// ConflictError is the refusal of a record, called what, whose id came on
// firstLine with other contents: which one is right is not for an import to
// guess.
func ConflictError(what, id string, firstLine int) error {
	return fmt.Errorf("%s %s is also on line %d, with different contents; keep the right one and import again", what, id, firstLine)
}
