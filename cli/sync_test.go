package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/doublecheck-dev/doublecheck/stripeapi"
)

func TestSyncMeter(t *testing.T) {
	t.Parallel()
	progress := stripeapi.SyncProgress{Charges: 1200, Pages: 12, Rate: 2250, Fraction: 0.5, ETA: 3 * time.Second}
	for _, tc := range []struct {
		name     string
		terminal bool
		want     []string
		unwanted []string
	}{
		{"terminal: a bar redrawn in place", true, []string{"\r\x1b[2K", "1200 charges · 12 pages · 2250 charges/s · ETA 3s", "█"}, []string{"sync: "}},
		{"log: plain lines", false, []string{"sync: 1200 charges · 12 pages · 2250 charges/s · ETA 3s\n"}, []string{"\r", "\x1b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			clock := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
			m := newSyncMeter(&out, tc.terminal, func() time.Time { return clock })
			m.update(progress) // too soon after the start: nothing yet
			if out.Len() != 0 {
				t.Errorf("progress drawn before the first interval: %q", out.String())
			}
			clock = clock.Add(5 * time.Second) // an interval later
			m.update(progress)
			m.update(progress) // throttled: at most one line per interval
			m.warn("events skipped")
			m.done()
			text := out.String()
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("output lacks %q: %q", w, text)
				}
			}
			for _, u := range tc.unwanted {
				if strings.Contains(text, u) {
					t.Errorf("output has %q: %q", u, text)
				}
			}
			if n := strings.Count(text, "1200 charges"); n != 1 {
				t.Errorf("progress drawn %d times within one interval, want 1", n)
			}
			if !strings.Contains(text, "warning: events skipped\n") {
				t.Errorf("the warning is not on a line of its own: %q", text)
			}
		})
	}
}

func TestParseSince(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"90d":                  now.AddDate(0, 0, -90),
		"36h":                  now.Add(-36 * time.Hour),
		"2026-01-31":           time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC),
		"2026-01-31T10:00:00Z": time.Date(2026, 1, 31, 10, 0, 0, 0, time.UTC),
	} {
		if got, err := parseSince(in, now); err != nil || !got.Equal(want) {
			t.Errorf("parseSince(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "0d", "-3h", "yesterday", "90"} {
		if _, err := parseSince(bad, now); err == nil {
			t.Errorf("parseSince(%q) accepted", bad)
		}
	}
}
