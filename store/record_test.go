package store

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// A damaged load record is refused with the field it fails at, never read as
// another charge.
func TestParseLoadRecordsRefusesDamage(t *testing.T) {
	good := loadRecord(&reconcile.Charge{ID: "ch_1", Currency: "usd", Status: "succeeded", Amount: 500},
		reconcile.ProviderStripe, 1700000000000000000, 1700000000000000001, `{"order_id":"o-1"}`)
	var c [1]reconcile.Charge
	if err := parseLoadRecords(good, c[:]); err != nil || c[0].ID != "ch_1" || c[0].Amount != 500 ||
		c[0].MetadataJSON != `{"order_id":"o-1"}` || c[0].Created.UnixNano() != 1700000000000000000 {
		t.Fatalf("parseLoadRecords(good) = %+v, %v", c[0], err)
	}
	for _, tt := range []struct {
		name, records, wantErr string
	}{
		{"empty", "", "field 1"},
		{"cut short", good[:len(good)-3], "field 16"},
		{"no colon", "19", "field 1"},
		{"no length", ":5", "field 1"},
		{"signed length", "+2:17" + good[4:], "field 1"},
		{"length past the end", "99:1", "field 1"},
		{"huge length", "99999999999999999999999:1", "field 1"},
		{"letter in a number", strings.Replace(good, "3:500", "3:5x0", 1), "field 3"},
		{"number too long", "20:12345678901234567890" + good[strings.Index(good, "19:1700000000000000001"):], "field 1"},
		{"trailing bytes", good + "x", "trailing bytes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var c [1]reconcile.Charge
			err := parseLoadRecords(tt.records, c[:])
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parseLoadRecords(%q) = %v, want an error naming %q", tt.records, err, tt.wantErr)
			}
		})
	}
}

// canonical is how strconv.AppendInt, and so loadRecord, writes an integer.
var canonical = regexp.MustCompile(`^(0|-?[1-9][0-9]*)$`)

// parseDecimal reads every integer loadRecord writes as strconv.ParseInt does,
// and anything it accepts besides is a number strconv.ParseInt reads the same.
func FuzzParseDecimal(f *testing.F) {
	for _, seed := range []string{"0", "-1", "9223372036854775807", "-9223372036854775808", "9223372036854775808",
		"-9223372036854775809", "99999999999999999999", "+1", "", "-", "1a", "007"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseDecimal(s)
		want, err := strconv.ParseInt(s, 10, 64)
		if ok && (err != nil || got != want) || !ok && err == nil && canonical.MatchString(s) {
			t.Fatalf("parseDecimal(%q) = %d, %v; strconv says %d, %v", s, got, ok, want, err)
		}
	})
}

// metadataJSON writes what json.Marshal writes, byte for byte: the stored
// form of metadata, which an earlier version wrote with json.Marshal.
func TestMetadataJSONIsJSONMarshal(t *testing.T) {
	for _, m := range []map[string]string{
		{"order_id": "o-1"},
		{"b": "2", "a": "1", "c": "", "": "empty key", "A": "upper first"},
		{"note": `say "hi"`},
		{"path": `C:\tmp`},
		{"html": "<b>&</b>"},
		{"ctl": "line\nbreak\ttab\x01"},
		{"utf8": "café ☕"},
		{"bad": "\xff\xfe"},
		{"sep": "\u2028\u2029"},
		{"del": "\x7f", "tilde": "~"},
	} {
		want, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := metadataJSON(m); err != nil || got != string(want) {
			t.Errorf("metadataJSON(%q) = %q, %v; want %q", m, got, err, want)
		}
	}
	if got, err := metadataJSON(nil); got != "" || err != nil {
		t.Errorf("metadataJSON(nil) = %q, %v; want \"\"", got, err)
	}
}

func FuzzMetadataJSON(f *testing.F) {
	f.Add("order_id", "o-1", "a", "<&>")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		m := map[string]string{k1: v1, k2: v2}
		want, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := metadataJSON(m); err != nil || got != string(want) {
			t.Errorf("metadataJSON(%q) = %q, %v; want %q", m, got, err, want)
		}
	})
}
