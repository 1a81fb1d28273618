package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// The load record (charges.load_record) holds every charge field detection reads
// as one string of fields, each written as <length in bytes>:<bytes>. Integers
// are decimal; the flags field holds the booleans as bits. It is written from
// the same values as the typed columns, in the same statement.
const loadRecordFields = 16

// Bits of the flags field.
const (
	flagCaptured = 1 << iota
	flagRefunded
	flagDisputed
	flagLivemode
	// flagPayPal and flagAdyen say the provider; neither is Stripe, so the
	// records written before providers existed read as Stripe's unchanged.
	flagPayPal
	flagAdyen
)

// providerFlags are the provider bits of the flags field.
var providerFlags = map[reconcile.Provider]int64{reconcile.ProviderPayPal: flagPayPal, reconcile.ProviderAdyen: flagAdyen}

// loadRecord packs c; provider, created, observed and metadata are the values
// stored in the typed columns.
func loadRecord(c *reconcile.Charge, provider reconcile.Provider, created, observed int64, metadata string) string {
	flags := boolInt(c.Captured)*flagCaptured | boolInt(c.Refunded)*flagRefunded |
		boolInt(c.Disputed)*flagDisputed | boolInt(c.Livemode)*flagLivemode | providerFlags[provider]
	ints := [...]int64{created, observed, c.Amount, c.AmountRefunded, flags}
	texts := [...]string{c.ID, c.Currency, c.Status, c.Customer, c.Email, c.CardFingerprint,
		c.CardBrand, c.CardLast4, c.PaymentIntent, c.Description, metadata}
	buf := make([]byte, 0, 128+len(metadata)+len(c.Description))
	var num [20]byte
	for _, n := range ints {
		digits := strconv.AppendInt(num[:0], n, 10)
		buf = strconv.AppendInt(buf, int64(len(digits)), 10)
		buf = append(buf, ':')
		buf = append(buf, digits...)
	}
	for _, t := range texts {
		buf = strconv.AppendInt(buf, int64(len(t)), 10)
		buf = append(buf, ':')
		buf = append(buf, t...)
	}
	return string(buf)
}

// parseLoadRecords fills charges from that many load records, concatenated.
func parseLoadRecords(records string, charges []reconcile.Charge) error {
	for i := range charges {
		var err error
		if records, err = parseLoadRecord(records, &charges[i]); err != nil {
			return err
		}
	}
	if records != "" {
		return errors.New("load records have trailing bytes")
	}
	return nil
}

// parseLoadRecord fills c from the load record at the start of recs and returns
// the records after it. The strings of c are substrings of recs and share its
// memory.
func parseLoadRecord(recs string, c *reconcile.Charge) (rest string, err error) {
	var f [loadRecordFields]string
	rest = recs
	for i := range f {
		colon := strings.IndexByte(rest, ':')
		if colon < 0 {
			return "", fmt.Errorf("load record is cut short at field %d", i+1)
		}
		n, err := strconv.Atoi(rest[:colon])
		if err != nil || n < 0 || n > len(rest)-colon-1 {
			return "", fmt.Errorf("load record has a bad length at field %d", i+1)
		}
		f[i], rest = rest[colon+1:colon+1+n], rest[colon+1+n:]
	}
	var ints [5]int64
	for i := range ints {
		n, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			return "", fmt.Errorf("load record field %d: %w", i+1, err)
		}
		ints[i] = n
	}
	flags := ints[4]
	provider := reconcile.ProviderStripe
	switch {
	case flags&flagPayPal != 0:
		provider = reconcile.ProviderPayPal
	case flags&flagAdyen != 0:
		provider = reconcile.ProviderAdyen
	}
	*c = reconcile.Charge{
		Provider: provider,
		Created:  decodeTime(ints[0]), Observed: decodeTime(ints[1]),
		Amount: ints[2], AmountRefunded: ints[3],
		Captured: flags&flagCaptured != 0, Refunded: flags&flagRefunded != 0,
		Disputed: flags&flagDisputed != 0, Livemode: flags&flagLivemode != 0,
		ID: f[5], Currency: f[6], Status: f[7], Customer: f[8], Email: f[9],
		CardFingerprint: f[10], CardBrand: f[11], CardLast4: f[12], PaymentIntent: f[13],
		Description: f[14],
	}
	if f[15] != "" {
		m, err := decodeMetadata(f[15])
		if err != nil {
			return "", fmt.Errorf("charge %s: metadata: %w", c.ID, err)
		}
		c.Metadata = m
	}
	return rest, nil
}

// decodeMetadata decodes the metadata JSON the store wrote. Most metadata is a
// few plain strings ({"order_id":"o-12"}); those are split here without
// encoding/json, which would otherwise cost a third of a million-charge load.
// Anything else (escapes, whitespace) goes to encoding/json: same result.
func decodeMetadata(s string) (map[string]string, error) {
	if m, ok := decodePlainObject(s); ok {
		return m, nil
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, err
	}
	return m, nil
}

// decodePlainObject decodes {"k":"v",…} whose strings hold no escapes; ok is
// false for any other input.
func decodePlainObject(s string) (m map[string]string, ok bool) {
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' || strings.IndexByte(s, '\\') >= 0 || !utf8.ValidString(s) {
		return nil, false
	}
	body := s[1 : len(s)-1]
	m = make(map[string]string, 1+strings.Count(body, ","))
	for body != "" {
		k, rest, ok := plainString(body)
		if !ok || rest == "" || rest[0] != ':' {
			return nil, false
		}
		v, rest, ok := plainString(rest[1:])
		if !ok {
			return nil, false
		}
		m[k] = v
		if rest == "" {
			break
		}
		if rest[0] != ',' || len(rest) == 1 {
			return nil, false
		}
		body = rest[1:]
	}
	return m, true
}

// plainString cuts a JSON string without escapes off the front of s.
func plainString(s string) (str, rest string, ok bool) {
	if s == "" || s[0] != '"' {
		return "", "", false
	}
	end := strings.IndexByte(s[1:], '"')
	if end < 0 {
		return "", "", false
	}
	str = s[1 : 1+end]
	for i := 0; i < len(str); i++ {
		if str[i] < 0x20 {
			return "", "", false // a raw control byte is invalid JSON
		}
	}
	return str, s[2+end:], true
}
