package reconcile

import "testing"

func TestParseMajorAmount(t *testing.T) {
	for _, tc := range []struct {
		in, currency string
		want         int64
		wantErr      bool
	}{
		{"20.00", "usd", 2000, false},
		{"20.5", "usd", 2050, false},
		{"20", "usd", 2000, false},
		{"1,234.56", "usd", 123456, false},
		{"12,345,678.90", "eur", 1234567890, false},
		{"-10.00", "usd", -1000, false},
		{" 0.01 ", "gbp", 1, false},
		{"5000", "jpy", 5000, false},
		{"5,000", "jpy", 5000, false},
		{"5000.00", "jpy", 5000, false}, // zeros beyond the decimals change nothing
		{"1.500", "kwd", 1500, false},
		{"1.5", "kwd", 1500, false},
		{"0", "usd", 0, false},
		{"5000.5", "jpy", 0, true},  // JPY has no decimals
		{"10.005", "usd", 0, true},  // more decimals than USD has
		{"1.2345", "kwd", 0, true},  // more than KWD's three
		{"1,23.00", "usd", 0, true}, // a comma that does not group thousands
		{"1234,56", "eur", 0, true}, // a decimal comma
		{",100", "usd", 0, true},
		{"12.", "usd", 0, true},
		{".5", "usd", 0, true},
		{"", "usd", 0, true},
		{"-", "usd", 0, true},
		{"$10.00", "usd", 0, true},
		{"1e3", "usd", 0, true},
		{"10.00 USD", "usd", 0, true},
		{"99999999999999999999", "usd", 0, true},
	} {
		got, err := ParseMajorAmount(tc.in, tc.currency)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("ParseMajorAmount(%q, %s) = %d, %v; want %d, error %t", tc.in, tc.currency, got, err, tc.want, tc.wantErr)
		}
	}
}
