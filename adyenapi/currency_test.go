package adyenapi

import (
	"strings"
	"testing"
)

// Adyen's currency table (docs.adyen.com/development-resources/currency-codes)
// against doublecheck's minor units (Stripe's): a refund request, a
// notification and a report amount each in Adyen's decimals.
func TestAdyenCurrencyDecimals(t *testing.T) {
	for _, tc := range []struct {
		cur      string
		decimals int    // Adyen's
		ours     int64  // doublecheck's minor units
		adyen    int64  // the same amount in Adyen's minor units
		report   string // the same amount as a report writes it
		inexact  int64  // an amount of ours Adyen cannot express (0: none)
		badMajor string // a report amount with more decimals than Adyen's (or a fraction of ours)
	}{
		{"IDR", 0, 1500000, 15000, "15000", 1500050, "15000.50"},
		{"CLP", 2, 1000, 100000, "1000.00", 0, "1000.50"},
		{"CVE", 0, 500, 5, "5", 550, "5.5"},
		{"JPY", 0, 1500, 1500, "1500", 0, "1500.5"},
		{"KWD", 3, 1500, 1500, "1.500", 0, "1.5001"},
		{"BHD", 3, 1250, 1250, "1.250", 0, "1.2501"},
		{"IQD", 3, 150, 1500, "1.500", 0, "1.505"},
		{"LYD", 3, 2575, 25750, "25.750", 0, "25.755"},
		{"ISK", 2, 279000, 279000, "2790.00", 0, "2790.001"},
	} {
		if d, err := Decimals(tc.cur); err != nil || d != tc.decimals {
			t.Errorf("Decimals(%s) = %d, %v; Adyen documents %d", tc.cur, d, err, tc.decimals)
		}
		if got, err := AdyenValue(tc.ours, tc.cur); err != nil || got != tc.adyen {
			t.Errorf("AdyenValue(%d, %s) = %d, %v; want %d", tc.ours, tc.cur, got, err, tc.adyen)
		}
		if got, err := FromAdyenValue(tc.adyen, tc.cur); err != nil || got != tc.ours {
			t.Errorf("FromAdyenValue(%d, %s) = %d, %v; want %d", tc.adyen, tc.cur, got, err, tc.ours)
		}
		if got, err := ParseAmount(tc.report, tc.cur); err != nil || got != tc.ours {
			t.Errorf("ParseAmount(%q, %s) = %d, %v; want %d", tc.report, tc.cur, got, err, tc.ours)
		}
		if tc.inexact != 0 {
			if got, err := AdyenValue(tc.inexact, tc.cur); err == nil {
				t.Errorf("AdyenValue(%d, %s) = %d; Adyen counts %s in whole units", tc.inexact, tc.cur, got, tc.cur)
			}
		}
		if got, err := ParseAmount(tc.badMajor, tc.cur); err == nil {
			t.Errorf("ParseAmount(%q, %s) = %d, accepted", tc.badMajor, tc.cur, got)
		}
	}
}

// A currency Adyen does not list is refused, in one sentence that names it,
// whichever way the amount goes.
func TestAdyenCurrencyNotInTable(t *testing.T) {
	for name, err := range map[string]error{
		"refund":       second(AdyenValue(1000, "afn")),
		"notification": second(FromAdyenValue(1000, "AFN")),
		"report":       second(ParseAmount("10.00", "afn")),
	} {
		if err == nil || !strings.Contains(err.Error(), "AFN is not in Adyen's currency table") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s in AFN: %v", name, err)
		}
	}
}

func second(_ int64, err error) error { return err }
