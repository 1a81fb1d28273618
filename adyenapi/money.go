package adyenapi

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // IANA zone names in reports work on machines without a zone database (Windows)

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// ParseMajor reads an amount in major units as the reports write it ("12.50",
// "-3.00", "1500" for a currency without decimals) as minor units of currency,
// refusing more decimals than the currency has, thousands separators and
// anything else.
func ParseMajor(v, currency string) (int64, error) {
	decimals := reconcile.Decimals(currency)
	s, neg := strings.CutPrefix(v, "-")
	whole, frac, hasPoint := strings.Cut(s, ".")
	switch {
	case v == "":
		return 0, fmt.Errorf("empty; an amount is needed")
	case whole == "" || !digits(whole) || hasPoint && (frac == "" || !digits(frac)):
		return 0, fmt.Errorf("%.30q is not an amount (digits with a decimal point, such as 12.50)", v)
	case len(frac) > decimals:
		return 0, fmt.Errorf("%q has %d decimals but %s has %d", v, len(frac), strings.ToUpper(currency), decimals)
	case len(whole) > 12:
		return 0, fmt.Errorf("%.30q is too large for an amount", v)
	}
	frac += strings.Repeat("0", decimals-len(frac))
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%.30q is not an amount: %w", v, err)
	}
	if neg {
		n = -n
	}
	return n, nil
}

func digits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// zoneOffsets are the zone abbreviations Adyen's reports write in their
// TimeZone column ("CET" in Adyen's sample Settlement details report), each as
// the fixed offset from UTC it names: CET is UTC+1 and CEST UTC+2 whatever
// the date, since the report names which of the two applies.
var zoneOffsets = map[string]time.Duration{
	"UTC": 0, "GMT": 0, "WET": 0, "WEST": 1 * time.Hour, "BST": 1 * time.Hour,
	"CET": 1 * time.Hour, "CEST": 2 * time.Hour, "EET": 2 * time.Hour, "EEST": 3 * time.Hour,
	"MSK": 3 * time.Hour, "GST": 4 * time.Hour, "IST": 5*time.Hour + 30*time.Minute,
	"SGT": 8 * time.Hour, "HKT": 8 * time.Hour, "AWST": 8 * time.Hour, "JST": 9 * time.Hour,
	"KST": 9 * time.Hour, "AEST": 10 * time.Hour, "AEDT": 11 * time.Hour, "NZST": 12 * time.Hour, "NZDT": 13 * time.Hour,
	"BRT": -3 * time.Hour, "EST": -5 * time.Hour, "EDT": -4 * time.Hour, "CST": -6 * time.Hour,
	"CDT": -5 * time.Hour, "MST": -7 * time.Hour, "MDT": -6 * time.Hour, "PST": -8 * time.Hour, "PDT": -7 * time.Hour,
}

// Zone is the time zone a report's TimeZone column names: an abbreviation of
// zoneOffsets or an IANA name (Europe/Amsterdam). Anything else is refused:
// a wrong guess would move every payment of the file by hours and change
// which charges look like one payment taken twice.
func Zone(name string) (*time.Location, error) {
	if off, ok := zoneOffsets[strings.ToUpper(name)]; ok {
		return time.FixedZone(strings.ToUpper(name), int(off/time.Second)), nil
	}
	if strings.Contains(name, "/") {
		if loc, err := time.LoadLocation(name); err == nil {
			return loc, nil
		}
	}
	if name == "" {
		return nil, fmt.Errorf("empty; the Creation Date means nothing without its time zone")
	}
	return nil, fmt.Errorf("time zone %.40q is not one doublecheck knows (an abbreviation such as CET, CEST, UTC, EST, or an IANA name such as Europe/Amsterdam)", name)
}
