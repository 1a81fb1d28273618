package reconcile

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseMajorAmount reads an amount written in major units, as spreadsheet
// exports write money ("1,234.56", "-10.00", "500" for 500 JPY), into minor
// units of currency by its decimals (FormatAmount's inverse): two for USD, none
// for JPY, three for KWD. Commas are thousands separators only where they
// group three digits; a decimal comma is refused, not guessed. Digits after the
// point beyond the currency's decimals are refused unless they are zeros
// ("1000.00" JPY is 1000; "10.005" USD is no amount of USD).
func ParseMajorAmount(s, currency string) (int64, error) {
	return ParseMajorAmountIn(s, currency, decimals(currency))
}

// ParseMajorAmountIn is ParseMajorAmount with d decimals: for a provider that
// counts currency with other decimals than doublecheck's (Adyen's IDR, CLP).
func ParseMajorAmountIn(s, currency string, d int) (int64, error) {
	text := strings.TrimSpace(s)
	neg := false
	if rest, ok := strings.CutPrefix(text, "-"); ok {
		neg, text = true, rest
	}
	whole, frac, hasPoint := strings.Cut(text, ".")
	if hasPoint && frac == "" || whole == "" || !allDigits(frac) {
		return 0, fmt.Errorf("%q is not an amount", s)
	}
	if strings.Contains(whole, ",") {
		groups := strings.Split(whole, ",")
		for i, g := range groups {
			if !allDigits(g) || len(g) > 3 || i > 0 && len(g) != 3 || g == "" {
				return 0, fmt.Errorf("%q is not an amount (a comma must separate thousands, as in 1,234.56)", s)
			}
		}
		whole = strings.Join(groups, "")
	}
	if !allDigits(whole) {
		return 0, fmt.Errorf("%q is not an amount", s)
	}
	if len(frac) > d {
		if strings.Trim(frac[d:], "0") != "" {
			return 0, fmt.Errorf("%q has %d decimals but %s has %d", s, len(frac), strings.ToUpper(currency), d)
		}
		frac = frac[:d]
	}
	digits := strings.TrimLeft(whole+frac+strings.Repeat("0", d-len(frac)), "0")
	if digits == "" {
		return 0, nil
	}
	if len(digits) > 18 {
		return 0, fmt.Errorf("%q is too large an amount", s)
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not an amount: %w", s, err)
	}
	if neg {
		n = -n
	}
	return n, nil
}

// allDigits is whether s holds only the digits 0–9 (true for "").
func allDigits(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return r < '0' || r > '9' })
}
