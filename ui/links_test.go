package ui

import (
	"context"
	"errors"
	"strings"
	"testing"
)

type fakeClipboard struct{ copied []string }

func (c *fakeClipboard) Copy(text string) error { c.copied = append(c.copied, text); return nil }

type fakeBrowser struct {
	opened []string
	err    error
}

func (b *fakeBrowser) Open(_ context.Context, url string) error {
	b.opened = append(b.opened, url)
	return b.err
}

func TestCopyAndOpen(t *testing.T) {
	noDisplay := errors.New("no browser can open here: DISPLAY is not set")
	tests := []struct {
		name        string
		live        bool
		browserErr  error
		noBrowser   bool
		noClipboard bool
		keys        []string
		wantCopied  string
		wantOpened  string
		wantFlash   string
	}{
		{name: "c in the list copies the group id", keys: []string{"j", "c"},
			wantCopied: "grp_ch_2001", wantFlash: "copied group id grp_ch_2001 (sent to the terminal's clipboard, OSC 52)"},
		{name: "c in the detail pane copies the selected charge id", keys: []string{"j", "enter", "]", "]", "c"},
			wantCopied: "ch_2003", wantFlash: "copied charge id ch_2003"},
		{name: "[ goes back a charge and stops at the first", keys: []string{"enter", "]", "[", "[", "c"},
			wantCopied: "ch_1001"},
		{name: "o in the list opens the group's first duplicate in test mode", keys: []string{"o"},
			wantOpened: "https://dashboard.stripe.com/test/payments/ch_1002", wantFlash: "opened ch_1002 in the Stripe Dashboard"},
		{name: "o in live mode opens the live page", live: true, keys: []string{"o"},
			wantOpened: "https://dashboard.stripe.com/payments/ch_1002"},
		{name: "o in the detail pane opens the selected charge", keys: []string{"enter", "o"},
			wantOpened: "https://dashboard.stripe.com/test/payments/ch_1001"},
		{name: "a failing opener shows the link and copies it", browserErr: noDisplay, keys: []string{"o"},
			wantOpened: "https://dashboard.stripe.com/test/payments/ch_1002", wantCopied: "https://dashboard.stripe.com/test/payments/ch_1002",
			wantFlash: "no browser can open here: DISPLAY is not set; link copied (OSC 52): https://dashboard.stripe.com/test/payments/ch_1002"},
		{name: "without a browser o shows the link", noBrowser: true, keys: []string{"o"},
			wantCopied: "https://dashboard.stripe.com/test/payments/ch_1002",
			wantFlash:  "link copied (OSC 52): https://dashboard.stripe.com/test/payments/ch_1002"},
		{name: "without a browser or a clipboard o shows the link", noBrowser: true, noClipboard: true, keys: []string{"o"},
			wantFlash: "no browser can open here; open https://dashboard.stripe.com/test/payments/ch_1002"},
		{name: "c while typing a filter is text, not a copy", keys: []string{"/", "c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(fixtureReport())
			clip, browser := &fakeClipboard{}, &fakeBrowser{err: tt.browserErr}
			deps := h.deps()
			deps.Clipboard, deps.Browser = clip, browser
			if tt.noBrowser {
				deps.Browser = nil
			}
			if tt.noClipboard {
				deps.Clipboard = nil
			}
			cfg := testConfig()
			cfg.Live = tt.live
			m := press(t, startWith(t, cfg, deps), tt.keys...)
			if got := strings.Join(clip.copied, ","); got != tt.wantCopied {
				t.Errorf("copied %q, want %q", got, tt.wantCopied)
			}
			if got := strings.Join(browser.opened, ","); got != tt.wantOpened {
				t.Errorf("opened %q, want %q", got, tt.wantOpened)
			}
			if !strings.Contains(m.status.flashText, tt.wantFlash) {
				t.Errorf("status %q, want it to say %q", m.status.flashText, tt.wantFlash)
			}
		})
	}
}

// TestCopyNeedsAClipboard: without one, c is not offered and does nothing.
func TestCopyNeedsAClipboard(t *testing.T) {
	h := newHarness(fixtureReport())
	m := press(t, h.start(t, testConfig()), "c")
	if m.status.flashText != "" {
		t.Errorf("c without a clipboard flashed %q", m.status.flashText)
	}
	if m.links.keys.Copy.Enabled() {
		t.Error("c is live without a clipboard")
	}
}
