package adyenapi

import (
	"fmt"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // IANA zone names in reports work on machines without a zone database (Windows)
)

// dstZones are the zone names a report's TimeZone column may hold that name
// a zone with daylight saving time, not one offset: Adyen's sample Settlement
// details report labels a row of 2013-06-03 (summer) "CET", so "CET" is the
// account's time zone setting (Customer Area > Settings > Account settings,
// https://docs.adyen.com/reporting/time-zone-setting), Central European
// Time with its summer time, as the IANA zone of that name is.
var dstZones = []string{"CET", "EET", "WET", "MET"}

// zoneOffsets are the abbreviations that name one side of the year (CEST is
// UTC+2 whatever the date), each the fixed offset from UTC it names.
var zoneOffsets = map[string]time.Duration{
	"UTC": 0, "GMT": 0, "WEST": 1 * time.Hour, "BST": 1 * time.Hour,
	"CEST": 2 * time.Hour, "EEST": 3 * time.Hour, "MEST": 2 * time.Hour,
	"MSK": 3 * time.Hour, "GST": 4 * time.Hour, "IST": 5*time.Hour + 30*time.Minute,
	"SGT": 8 * time.Hour, "HKT": 8 * time.Hour, "AWST": 8 * time.Hour, "JST": 9 * time.Hour,
	"KST": 9 * time.Hour, "AEST": 10 * time.Hour, "AEDT": 11 * time.Hour, "NZST": 12 * time.Hour, "NZDT": 13 * time.Hour,
	"BRT": -3 * time.Hour, "EST": -5 * time.Hour, "EDT": -4 * time.Hour, "CST": -6 * time.Hour,
	"CDT": -5 * time.Hour, "MST": -7 * time.Hour, "MDT": -6 * time.Hour, "PST": -8 * time.Hour, "PDT": -7 * time.Hour,
}

// Zone is the time zone a report's TimeZone column names: a zone of dstZones,
// an abbreviation of zoneOffsets or an IANA name (Europe/Amsterdam). In the
// hour a zone's clocks go back, a time happens twice and is read as one of
// the two (time.Date does not say which). Anything else is refused:
// a wrong guess would move every payment of the file by hours and change
// which charges look like one payment taken twice.
func Zone(name string) (*time.Location, error) {
	if slices.Contains(dstZones, strings.ToUpper(name)) {
		return time.LoadLocation(strings.ToUpper(name))
	}
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
