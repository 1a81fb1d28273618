package stripeapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"strings"
	"time"

	stripe "github.com/stripe/stripe-go/v76"

	"doublecheck/reconcile"
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
// impossible (a negative amount, an unknown currency or status…).
func decodeCharge(raw []byte, observed time.Time) (reconcile.Charge, error) {
	var ch stripe.Charge
	// Decoded as the plain struct: stripe.Charge's own UnmarshalJSON only adds
	// the case of a bare id string (which is no charge object) at the price of
	// a second pass over every charge.
	if err := json.Unmarshal(raw, (*plainCharge)(&ch)); err != nil {
		return reconcile.Charge{}, fmt.Errorf("not a Stripe charge object: %w", err)
	}
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
		observed = knownAsOf(&ch)
	}
	c := chargeFromStripe(&ch, raw, observed)
	if err := reconcile.ValidateCharge(c, time.Now()); err != nil {
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

// DecodeCharges reads Stripe charge objects from a Stripe list response
// ({"object":"list","data":[…]}), a bare JSON array, or JSONL (one charge per
// line; blank lines are fine; a byte-order mark may start any line). It returns
// every charge once, with the number of repeats it left out (the same charge
// again, whatever the order of its keys and its spacing), or,
// on the first problem, none and one sentence naming the file and the line, or
// the element and its byte offset. A charge repeated with other contents is such
// a problem: which one is right is not for an import to guess. Each object goes
// through stripe-go's Charge type and the same conversion sync uses.
func DecodeCharges(r io.Reader, name string) (charges []reconcile.Charge, repeated int, err error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, 0, fmt.Errorf("read %s: %w", name, err)
	}
	if data, err = reconcile.TextFile(data, name); err != nil {
		return nil, 0, err
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, 0, fmt.Errorf("%s is empty: expected Stripe charges as a JSON list response or JSONL", name)
	}
	f := chargeFile{repeats: reconcile.NewRepeats("charge")}
	switch {
	case trimmed[0] == '[':
		err = f.decodeArray(data, name)
	case isJSONL(trimmed):
		err = f.decodeLines(data, name)
	default:
		err = f.decodeList(data, name)
	}
	if err != nil {
		return nil, 0, err
	}
	return f.charges, f.repeats.Repeated, nil
}

// isJSONL tells JSONL, which has a whole JSON value on its first line, from a
// list response, which is either on one line (then its object says "list") or
// spread over many.
func isJSONL(trimmed []byte) bool {
	first, _, _ := bytes.Cut(trimmed, []byte("\n"))
	var head struct {
		Object string `json:"object"`
	}
	return json.Valid(first) && (json.Unmarshal(first, &head) != nil || head.Object != "list")
}

// chargeFile collects the charges of one file, each once.
type chargeFile struct {
	charges []reconcile.Charge
	repeats *reconcile.Repeats
}

// add decodes the charge object raw, found on line, and keeps it unless it
// repeats one already kept.
func (f *chargeFile) add(raw []byte, line int) error {
	c, err := decodeCharge(raw, time.Time{})
	if err != nil {
		return err
	}
	content, err := canonicalJSON(raw)
	if err != nil {
		return err
	}
	repeat, err := f.repeats.Seen(c.ID, content, line)
	if err != nil || repeat {
		return err
	}
	f.charges = append(f.charges, c)
	return nil
}

// canonicalJSON is raw with its object keys sorted and no spacing, numbers
// as written: the same charge with its keys in another order, or spaced
// differently, is the same record.
func canonicalJSON(raw []byte) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", fmt.Errorf("invalid JSON: %w", err)
	}
	out, err := json.Marshal(v) // maps marshal with sorted keys
	if err != nil {
		return "", fmt.Errorf("invalid JSON: %w", err)
	}
	return string(out), nil
}

// decodeLines reads JSONL: one charge object per line.
func (f *chargeFile) decodeLines(data []byte, name string) error {
	for n, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimSpace(reconcile.TrimLineBOM(bytes.TrimSpace(line)))
		if len(line) == 0 {
			continue
		}
		if !json.Valid(line) {
			return fmt.Errorf("%s line %d: %s", name, n+1, jsonProblem(line))
		}
		if err := f.add(line, n+1); err != nil {
			return fmt.Errorf("%s line %d: %w", name, n+1, err)
		}
	}
	return nil
}

// decodeList reads a Stripe list response and decodes its data array.
func (f *chargeFile) decodeList(data []byte, name string) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil { // the '{' DecodeCharges saw
		return syntaxProblem(name, data, dec, err)
	}
	var object string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return syntaxProblem(name, data, dec, err)
		}
		if tok == "object" {
			if err := dec.Decode(&object); err != nil {
				return syntaxProblem(name, data, dec, err)
			}
			continue
		}
		if tok != "data" {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return syntaxProblem(name, data, dec, err)
			}
			continue
		}
		if err := f.decodeElements(dec, data, name); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return syntaxProblem(name, data, dec, err)
	}
	if object != "list" {
		return fmt.Errorf(`%s: a JSON object that is not a Stripe list response (its "object" is %q); expected {"object":"list","data":[…]}, a JSON array or JSONL`, name, object)
	}
	return trailing(dec, data, name)
}

// decodeArray reads a bare JSON array of charges.
func (f *chargeFile) decodeArray(data []byte, name string) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := f.decodeElements(dec, data, name); err != nil {
		return err
	}
	return trailing(dec, data, name)
}

// decodeElements decodes the array at the decoder's position, one element at a
// time so an error can name the element and where it starts.
func (f *chargeFile) decodeElements(dec *json.Decoder, data []byte, name string) error {
	tok, err := dec.Token()
	if err != nil {
		return syntaxProblem(name, data, dec, err)
	}
	if tok != json.Delim('[') {
		return fmt.Errorf("%s: expected an array of charges at byte %d", name, dec.InputOffset())
	}
	for i := 0; dec.More(); i++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return syntaxProblem(name, data, dec, err)
		}
		start := dec.InputOffset() - int64(len(raw))
		line := lineAt(data, start)
		if err := f.add(raw, line); err != nil {
			return fmt.Errorf("%s: element %d (line %d, byte %d): %w", name, i, line, start, err)
		}
	}
	if _, err := dec.Token(); err != nil { // ']'
		return syntaxProblem(name, data, dec, err)
	}
	return nil
}

// trailing refuses anything after the JSON document.
func trailing(dec *json.Decoder, data []byte, name string) error {
	if _, err := dec.Token(); err != io.EOF {
		off := dec.InputOffset()
		return fmt.Errorf("%s: unexpected data after the JSON document at line %d (byte %d)", name, lineAt(data, off), off)
	}
	return nil
}

// syntaxProblem names where malformed JSON went wrong.
func syntaxProblem(name string, data []byte, dec *json.Decoder, err error) error {
	off := dec.InputOffset()
	var se *json.SyntaxError
	if errors.As(err, &se) {
		off = se.Offset
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%s: the JSON ends too early (byte %d): the file may be truncated", name, len(data))
	}
	return fmt.Errorf("%s line %d (byte %d): invalid JSON: %w", name, lineAt(data, off), off, err)
}

// jsonProblem describes why a line is not JSON.
func jsonProblem(line []byte) string {
	var v any
	if err := json.Unmarshal(line, &v); err != nil {
		return "invalid JSON: " + err.Error()
	}
	return "invalid JSON"
}

// lineAt is the 1-based line of byte offset off.
func lineAt(data []byte, off int64) int {
	off = min(max(off, 0), int64(len(data)))
	return bytes.Count(data[:off], []byte("\n")) + 1
}
