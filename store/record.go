package store

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// The load record (charges.detect_record) holds every charge field detection reads
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
		var ok bool
		if f[i], rest, ok = cutField(rest); !ok {
			return "", fmt.Errorf("load record is cut short or has a bad length at field %d", i+1)
		}
	}
	var ints [5]int64
	for i := range ints {
		n, ok := parseDecimal(f[i])
		if !ok {
			return "", fmt.Errorf("load record field %d: %q is not a 64-bit integer", i+1, f[i])
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
		Description: f[14], MetadataJSON: f[15],
	}
	return rest, nil
}

// cutField cuts one <length>:<bytes> field off the front of s. Loading a
// million charges parses twenty million of these numbers, so they are read
// here rather than with strings.IndexByte and strconv (a tenth of a scan's
// CPU time).
func cutField(s string) (field, rest string, ok bool) {
	n, i := 0, 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		if n > len(s) { // longer than what is left (and far from overflowing)
			return "", "", false
		}
		n = n*10 + int(s[i]-'0')
	}
	if i == 0 || i == len(s) || s[i] != ':' || n > len(s)-i-1 {
		return "", "", false
	}
	return s[i+1 : i+1+n], s[i+1+n:], true
}

// parseDecimal reads a decimal int64 as loadRecord writes it: an optional
// minus sign, then digits.
func parseDecimal(s string) (int64, bool) {
	neg := s != "" && s[0] == '-'
	if neg {
		s = s[1:]
	}
	if s == "" || len(s) > 19 { // 19 digits cannot overflow a uint64
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		d := s[i] - '0'
		if d > 9 {
			return 0, false
		}
		n = n*10 + uint64(d)
	}
	switch {
	case neg && n <= 1<<63:
		return int64(-n), true
	case !neg && n < 1<<63:
		return int64(n), true
	}
	return 0, false
}
