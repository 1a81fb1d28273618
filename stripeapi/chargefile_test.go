package stripeapi

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestStreamChargesLargeFiles: in files far larger than a batch or a read, a
// bad object late in the file is named by its line (and element), every
// charge before it was handed over in order, and nothing after it.
func TestStreamChargesLargeFiles(t *testing.T) {
	const n, bad = 3000, 2777
	charge := func(i int) string {
		return strings.Replace(chargeGuest, `"ch_2guest"`, fmt.Sprintf(`"ch_%d"`, i), 1)
	}
	badCharge := strings.Replace(charge(bad), `"jpy"`, `"xyz"`, 1)
	var jsonl, pretty strings.Builder
	pretty.WriteString("{\n  \"object\": \"list\",\n  \"data\": [\n")
	for i := range n {
		c := charge(i)
		if i == bad {
			c = badCharge
		}
		jsonl.WriteString(c + "\n\n") // a blank line after each
		// Pretty-printed: each element spans two lines, the first field alone.
		sep := ","
		if i == n-1 {
			sep = ""
		}
		pretty.WriteString("    " + strings.Replace(c, `,"object"`, ",\n      \"object\"", 1) + sep + "\n")
	}
	pretty.WriteString("  ]\n}\n")
	for _, tc := range []struct {
		name, input string
		want        string
	}{
		{"JSONL", jsonl.String(), fmt.Sprintf("big.json line %d: Stripe charge ch_%d: currency \"xyz\"", 2*bad+1, bad)},
		{"list response", pretty.String(), fmt.Sprintf("big.json: element %d (line %d, byte", bad, 4+2*bad)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ids []string
			err := StreamCharges(strings.NewReader(tc.input), "big.json", time.Now(), func(rec *ChargeRecord) error {
				ids = append(ids, rec.Charge.ID)
				return nil
			})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
			if len(ids) != bad {
				t.Fatalf("handed over %d charges before the bad one, want %d", len(ids), bad)
			}
			for i, id := range ids {
				if id != fmt.Sprintf("ch_%d", i) {
					t.Fatalf("charge %d is %s: out of order", i, id)
				}
			}
		})
	}
}

// TestStreamChargesStopsOnEmitError: an error from emit ends the stream with
// that error and no further charges.
func TestStreamChargesStopsOnEmitError(t *testing.T) {
	input := strings.Repeat(chargeGuest+"\n", 2000)
	calls := 0
	err := StreamCharges(strings.NewReader(input), "in.json", time.Now(), func(*ChargeRecord) error {
		calls++
		if calls == 700 {
			return fmt.Errorf("store refused")
		}
		return nil
	})
	if err == nil || err.Error() != "store refused" || calls != 700 {
		t.Fatalf("error %v after %d calls, want the emitter's after 700", err, calls)
	}
}

// TestStreamChargesChecksCreatedAgainstTheGivenClock: a charge created after
// the clock the command runs by is refused, naming its line and field; the
// clock is the caller's, not the machine's.
func TestStreamChargesChecksCreatedAgainstTheGivenClock(t *testing.T) {
	created := time.Unix(1700000000, 0) // chargeFull's
	for _, tc := range []struct {
		name string
		now  time.Time
		want string // the error, "" for none
	}{
		{"created a day before now", created.Add(24 * time.Hour), ""},
		{"created within the clock skew allowed", created.Add(-23 * time.Hour), ""},
		{"created two days after now", created.Add(-48 * time.Hour), "in.json line 1: Stripe charge ch_1full: created 2023-11-14T22:13:20Z is in the future"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := StreamCharges(strings.NewReader(chargeFull), "in.json", tc.now, func(*ChargeRecord) error { return nil })
			if got := fmt.Sprint(err); (tc.want == "" && err != nil) || (tc.want != "" && got != tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}
