package reconcile

import (
	"strings"
	"testing"
	"time"
)

func TestTextFile(t *testing.T) {
	cases := []struct {
		name, in, want, err string
	}{
		{"plain", "a\nb\n", "a\nb\n", ""},
		{"byte-order mark dropped", "\ufeff{\"a\":1}\n", "{\"a\":1}\n", ""},
		{"only the leading mark", "a\ufeff\n", "a\ufeff\n", ""},
		{"invalid UTF-8 names its line", "ok\nfine\nbad \xff here\n", "", "f.jsonl line 3 (byte 5 of the line): not valid UTF-8"},
		{"truncated sequence", "caf\xc3", "", "f.jsonl line 1 (byte 4 of the line)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := TextFile([]byte(tc.in), "f.jsonl")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || string(got) != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestValidateCharge(t *testing.T) {
	now := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	good := Charge{ID: "ch_1", Amount: 3000, AmountRefunded: 1000, AmountCaptured: 3000, Currency: "usd", Status: "succeeded",
		Created: now.Add(-time.Hour)}
	cases := []struct {
		name   string
		change func(*Charge)
		want   string // empty: valid
	}{
		{"valid", func(*Charge) {}, ""},
		{"py_ id", func(c *Charge) { c.ID = "py_3Abc" }, ""},
		{"zero-decimal currency upper case", func(c *Charge) { c.Currency = "JPY" }, ""},
		{"fully refunded", func(c *Charge) { c.AmountRefunded, c.Refunded = 3000, true }, ""},
		{"pending", func(c *Charge) { c.Status = "pending" }, ""},
		{"a few minutes ahead", func(c *Charge) { c.Created = now.Add(5 * time.Minute) }, ""},
		{"negative amount", func(c *Charge) { c.Amount = -5000; c.AmountRefunded = 0 }, "amount -5000 is negative"},
		{"zero amount", func(c *Charge) { c.Amount, c.AmountRefunded = 0, 0 }, "amount is 0 or missing"},
		{"Stripe's maximum", func(c *Charge) { c.Amount = 99_999_999 }, ""},
		{"above Stripe's maximum", func(c *Charge) { c.Amount = 4e18 }, "Stripe charge ch_1: amount 4000000000000000000 (40000000000000000.00 USD) is more than 99999999 minor units, Stripe's maximum (8 digits)"},
		{"refunded flag without the amount", func(c *Charge) { c.AmountRefunded, c.Refunded = 0, true }, "refunded is true but amount_refunded 0 of amount 3000"},
		{"fully refunded without the flag", func(c *Charge) { c.AmountRefunded, c.Refunded = 3000, false }, "refunded is false but amount_refunded 3000"},
		{"captured above the amount", func(c *Charge) { c.AmountCaptured = 3001 }, "amount_captured 3001 is more than its amount 3000"},
		{"negative captured", func(c *Charge) { c.AmountCaptured = -1 }, "amount_captured -1 is negative"},
		{"uncaptured", func(c *Charge) { c.AmountCaptured = 0 }, ""},
		{"an id of 255 characters", func(c *Charge) { c.ID = "ch_" + strings.Repeat("a", 252) }, ""},
		{"an id of 5000 characters", func(c *Charge) { c.ID = "ch_" + strings.Repeat("a", 4997) }, "is 5000 characters long; Stripe ids are at most 255"},
		{"negative refunded", func(c *Charge) { c.AmountRefunded = -1 }, "amount_refunded -1 is negative"},
		{"refunded above amount", func(c *Charge) { c.AmountRefunded = 3001 }, "amount_refunded 3001 is more than its amount 3000"},
		{"unknown currency", func(c *Charge) { c.Currency = "xyz" }, `currency "xyz" is not an ISO 4217 currency code`},
		{"markup currency", func(c *Charge) { c.Currency = "<script>" }, `currency "<script>"`},
		{"test currency", func(c *Charge) { c.Currency = "xts" }, `currency "xts"`},
		{"unknown status", func(c *Charge) { c.Status = "hacked" }, `status "hacked" is not one of succeeded, pending, failed`},
		{"refund id", func(c *Charge) { c.ID = "re_1" }, `id "re_1" is not a Stripe charge id`},
		{"bare prefix", func(c *Charge) { c.ID = "ch_" }, `id "ch_"`},
		{"id with markup", func(c *Charge) { c.ID = "ch_<b>" }, `id "ch_<b>"`},
		{"created at the epoch", func(c *Charge) { c.Created = time.Unix(0, 0) }, "created 1970-01-01T00:00:00Z is before Stripe existed"},
		{"created in 2008", func(c *Charge) { c.Created = time.Date(2008, 6, 1, 0, 0, 0, 0, time.UTC) }, "Stripe charge ch_1: created 2008-06-01T00:00:00Z is before Stripe existed"},
		{"a PayPal transaction id", func(c *Charge) { c.ID = "5TY05013RG002845M" }, `id "5TY05013RG002845M" is not a Stripe charge id`},
		{"an Adyen Psp Reference", func(c *Charge) { c.ID = "8815000000000001" }, `id "8815000000000001" is not a Stripe charge id`},
		{"created next year", func(c *Charge) { c.Created = now.AddDate(1, 0, 0) }, "created 2027-11-29T10:00:00Z is in the future"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			tc.change(&c)
			err := ValidateCharge(c, now)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused a valid charge: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// TestValidateChargeByProvider: the charge's provider decides the form of its
// id, the floor of its created time and whose maximum its amount is held to;
// the message names the provider.
func TestValidateChargeByProvider(t *testing.T) {
	now := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		provider Provider
		id       string
		amount   int64
		created  time.Time
		want     string // empty: valid
	}{
		{"Stripe: ch_", ProviderStripe, "ch_3Abc", 3000, now, ""},
		{"Stripe: the empty provider of older stores", "", "py_3Abc", 3000, now, ""},
		{"Stripe: a PayPal id", ProviderStripe, "5TY05013RG002845M", 3000, now, `id "5TY05013RG002845M" is not a Stripe charge id (ch_… or py_…)`},
		{"Stripe: 2008", ProviderStripe, "ch_1", 3000, time.Date(2008, 1, 1, 0, 0, 0, 0, time.UTC), "Stripe charge ch_1: created 2008-01-01T00:00:00Z is before Stripe existed"},

		{"PayPal: a transaction id", ProviderPayPal, "5TY05013RG002845M", 3000, now, ""},
		{"PayPal: lower case letters", ProviderPayPal, "5ty05013rg002845m", 3000, now, ""},
		{"PayPal: 2000", ProviderPayPal, "5TY05013RG002845M", 3000, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), ""},
		{"PayPal: a Stripe id", ProviderPayPal, "ch_3Abc", 3000, now, `id "ch_3Abc" is not a PayPal transaction id (17 letters and digits)`},
		{"PayPal: 16 characters", ProviderPayPal, "5TY05013RG002845", 3000, now, `is not a PayPal transaction id`},
		{"PayPal: 18 characters", ProviderPayPal, "5TY05013RG002845MM", 3000, now, `is not a PayPal transaction id`},
		{"PayPal: a dash", ProviderPayPal, "5TY05013-G002845M", 3000, now, `is not a PayPal transaction id`},
		{"PayPal: above the maximum", ProviderPayPal, "5TY05013RG002845M", 100_000_000, now,
			"PayPal charge 5TY05013RG002845M: amount 100000000 (1000000.00 USD) is more than 99999999 minor units, doublecheck's maximum for a PayPal charge (PayPal states none)"},
		{"PayPal: 1997", ProviderPayPal, "5TY05013RG002845M", 3000, time.Date(1997, 1, 1, 0, 0, 0, 0, time.UTC), "PayPal charge 5TY05013RG002845M: created 1997-01-01T00:00:00Z is before PayPal existed"},
		{"PayPal: in the future", ProviderPayPal, "5TY05013RG002845M", 3000, now.AddDate(0, 1, 0), "PayPal charge 5TY05013RG002845M: created 2026-12-29T10:00:00Z is in the future"},

		{"Adyen: a Psp Reference", ProviderAdyen, "8815000000000001", 3000, now, ""},
		{"Adyen: letters", ProviderAdyen, "JM5FQX9ZJ3GWKR82", 3000, now, ""},
		{"Adyen: a Stripe id", ProviderAdyen, "ch_3Abc", 3000, now, `id "ch_3Abc" is not an Adyen Psp Reference (16 letters and digits)`},
		{"Adyen: a PayPal id", ProviderAdyen, "5TY05013RG002845M", 3000, now, `is not an Adyen Psp Reference`},
		{"Adyen: above the maximum", ProviderAdyen, "8815000000000001", 100_000_000, now,
			"Adyen charge 8815000000000001: amount 100000000 (1000000.00 USD) is more than 99999999 minor units, doublecheck's maximum for an Adyen charge (Adyen states none)"},
		{"Adyen: 2005", ProviderAdyen, "8815000000000001", 3000, time.Date(2005, 1, 1, 0, 0, 0, 0, time.UTC), "Adyen charge 8815000000000001: created 2005-01-01T00:00:00Z is before Adyen existed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Charge{Provider: tc.provider, ID: tc.id, Amount: tc.amount, AmountCaptured: tc.amount, Currency: "usd",
				Status: "succeeded", Created: tc.created}
			err := ValidateCharge(c, now)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused a valid charge: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// TestProviderOfChargeID: the forms of the providers' ids do not overlap, so
// an id alone says whose it is.
func TestProviderOfChargeID(t *testing.T) {
	for id, want := range map[string]Provider{
		"ch_3Abc": ProviderStripe, "py_1": ProviderStripe, "5TY05013RG002845M": ProviderPayPal,
		"8815000000000001": ProviderAdyen, "pi_1": "", "cus_1": "", "5TY05013RG002845": ProviderAdyen,
		"5TY05013RG00284": "", "": "", "O-5TY05013RG002845M": "",
	} {
		got, ok := ProviderOfChargeID(id)
		if got != want || ok != (want != "") {
			t.Errorf("ProviderOfChargeID(%q) = %q, %t; want %q", id, got, ok, want)
		}
	}
}

func TestCurrencyDecimals(t *testing.T) {
	for _, tc := range []struct {
		code  string
		known bool
		want  int
	}{
		{"usd", true, 2}, {"EUR", true, 2}, {"jpy", true, 0}, {"krw", true, 0}, {"kwd", true, 3},
		{"hrk", true, 2}, {"ves", true, 2}, {"xyz", false, 2}, {"xts", false, 2}, {"", false, 2},
	} {
		if KnownCurrency(tc.code) != tc.known || decimals(tc.code) != tc.want {
			t.Errorf("%q: known %v, decimals %d; want %v, %d", tc.code, KnownCurrency(tc.code), decimals(tc.code), tc.known, tc.want)
		}
	}
}
