package ui

import (
	"slices"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// TestProvidersShowWhereTheyMatter: a store of Stripe charges keeps today's
// layout; a store mixing providers gets a PROVIDER column and each
// provider's mode in the header, and every detail pane names the provider.
func TestProvidersShowWhereTheyMatter(t *testing.T) {
	tests := []struct {
		name       string
		report     reconcile.Report
		live       bool
		wantHeader []string
		noHeader   []string
		column     bool
		wantDetail string
	}{
		{name: "Stripe only, test", report: fixtureReport(), wantHeader: []string{"TEST"}, noHeader: []string{"Stripe", "LIVE"},
			wantDetail: "provider Stripe"},
		{name: "Stripe only, live", report: fixtureReport(), live: true, wantHeader: []string{"LIVE"}, noHeader: []string{"Stripe", "TEST"},
			wantDetail: "provider Stripe"},
		{name: "Stripe, PayPal sandbox and live Adyen", report: mixedReport(),
			wantHeader: []string{"Stripe TEST PayPal SANDBOX Adyen LIVE"}, column: true, wantDetail: "provider Stripe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Live = tt.live
			m := newHarness(tt.report).start(t, cfg)
			// Badges are padded: compare the words.
			header := strings.Join(strings.Fields(m.header.View()), " ")
			for _, want := range tt.wantHeader {
				if !strings.Contains(header, want) {
					t.Errorf("header lacks %q:\n%s", want, header)
				}
			}
			for _, not := range tt.noHeader {
				if strings.Contains(strings.SplitN(m.header.View(), "\n", 2)[0], not) {
					t.Errorf("header's first line says %q:\n%s", not, header)
				}
			}
			table := m.table.View()
			if got := strings.Contains(table, "PROVIDER"); got != tt.column {
				t.Errorf("PROVIDER column shown %v, want %v:\n%s", got, tt.column, table)
			}
			if tt.column && (!strings.Contains(table, "PayPal") || !strings.Contains(table, "Adyen")) {
				t.Errorf("the column does not name the providers:\n%s", table)
			}
			if d := m.detail.View(); !strings.Contains(d, tt.wantDetail) {
				t.Errorf("detail pane lacks %q:\n%s", tt.wantDetail, d)
			}
		})
	}
}

// TestFilterMatchesProviderNames: "paypal" (any case) lists the PayPal
// group only.
func TestFilterMatchesProviderNames(t *testing.T) {
	for _, query := range []string{"paypal", "PayPal"} {
		m := newHarness(mixedReport()).start(t, testConfig())
		m = press(t, m, "/")
		m = typeText(t, m, query)
		m = press(t, m, "enter")
		if got := listedIDs(m); !slices.Equal(got, []string{"grp_ch_2001"}) {
			t.Errorf("/%s lists %v, want the PayPal group only", query, got)
		}
	}
}

// TestOpenUsesTheChargesProvider: o opens the selected charge at its own
// provider, in the charge's mode, and names where.
func TestOpenUsesTheChargesProvider(t *testing.T) {
	tests := []struct {
		name      string
		keys      []string
		wantURL   string
		wantFlash []string
		wantHelp  string
	}{
		{name: "Stripe", keys: []string{"o"}, wantURL: "https://dashboard.stripe.com/test/payments/ch_1002",
			wantFlash: []string{"in the Stripe Dashboard"}, wantHelp: "open in Stripe"},
		{name: "PayPal sandbox", keys: []string{"j", "o"}, wantURL: "https://www.sandbox.paypal.com/activity/payment/8MC58001LN40711",
			wantFlash: []string{"opened 8MC58001LN40711 in PayPal"}, wantHelp: "open in PayPal"},
		{name: "Adyen live, by PSP reference", keys: []string{"j", "j", "o"},
			wantURL:   "https://ca-live.adyen.com/ca/ca/accounts/showTx.shtml?pspReference=QFPK5D9NXNF28DV1&txType=Payment",
			wantFlash: []string{"in the Adyen Customer Area", "search PSP reference QFPK5D9NXNF28DV1"}, wantHelp: "open in Adyen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(mixedReport())
			browser := &fakeBrowser{}
			deps := h.deps()
			deps.Browser = browser
			m := startWith(t, testConfig(), deps)
			m = press(t, m, tt.keys[:len(tt.keys)-1]...)
			if got := m.links.keys.Open.Help().Desc; got != tt.wantHelp {
				t.Errorf("o's help %q, want %q", got, tt.wantHelp)
			}
			m = press(t, m, "o")
			if got := strings.Join(browser.opened, ","); got != tt.wantURL {
				t.Errorf("opened %q, want %q", got, tt.wantURL)
			}
			for _, want := range tt.wantFlash {
				if !strings.Contains(m.status.flashText, want) {
					t.Errorf("status %q, want it to say %q", m.status.flashText, want)
				}
			}
		})
	}
}

// TestReceivedRefundIsNotShownAsRefunded: a refund Adyen received and has not
// confirmed reads "received, awaiting Adyen confirmation" in the detail
// pane, its group stays in the unsettled view and out of resolved.
func TestReceivedRefundIsNotShownAsRefunded(t *testing.T) {
	m := newHarness(mixedReport()).start(t, testConfig())
	m = send(t, m, tea.WindowSizeMsg{Width: 100, Height: 60}) // the whole detail pane
	if !slices.Contains(listedIDs(m), "grp_ch_3001") {
		t.Fatalf("the unsettled view lists %v, without the group awaiting confirmation", listedIDs(m))
	}
	m = press(t, m, "j", "j")
	if selectedID(m) != "grp_ch_3001" {
		t.Fatalf("selected %s", selectedID(m))
	}
	d := m.detail.View()
	for _, want := range []string{"received, awaiting Adyen confirmation", "decision received, awaiting Adyen confirmation JQ38WZVM2G8B8P65 by sam"} {
		if !strings.Contains(d, want) {
			t.Errorf("detail pane lacks %q:\n%s", want, d)
		}
	}
	if strings.Contains(d, "decision refunded") || strings.Contains(d, " resolved ") {
		t.Errorf("detail pane calls the received refund done:\n%s", d)
	}
	if h := strings.Join(strings.Fields(m.header.View()), " "); !strings.Contains(h, "1 received 4 open") || !strings.Contains(h, "awaiting confirmation 15.00 USD") {
		t.Errorf("header does not count the received refund apart:\n%s", h)
	}
	m = press(t, m, "s", "s") // dismissed, then resolved
	if got := listedIDs(m); slices.Contains(got, "grp_ch_3001") || !slices.Contains(got, "grp_ch_6001") {
		t.Errorf("the resolved view lists %v: the received group is not resolved yet", got)
	}
}

// TestRefundReceivedInThisSession: a refund the provider accepted for later
// confirmation is reported as received, not refunded.
func TestRefundReceivedInThisSession(t *testing.T) {
	r := newRefundFlow(nil, testConfig(), false)
	var tally refundCounts
	_, text, _ := r.record(RefundResult{ChargeID: "QFPK5D9NXNF28DV1", RefundID: "JQ38WZVM2G8B8P65", Received: true, Provider: reconcile.ProviderAdyen}, &tally)
	if text != "received, awaiting Adyen confirmation: JQ38WZVM2G8B8P65" || r.Outcomes()["QFPK5D9NXNF28DV1"] != text {
		t.Errorf("outcome %q", text)
	}
	if _, summary := tally.summary(false); summary != "0 refunded, 1 received (the provider confirms them later)" {
		t.Errorf("summary %q", summary)
	}
}

// TestProviderModesAreNeverCut: on a narrow terminal the modes of a mixed
// store move to a line of their own rather than lose a provider's badge.
func TestProviderModesAreNeverCut(t *testing.T) {
	for _, width := range []int{60, 80, 100, 120} {
		m := newHarness(mixedReport()).start(t, testConfig())
		m = send(t, m, tea.WindowSizeMsg{Width: width, Height: 30})
		if h := strings.Join(strings.Fields(m.header.View()), " "); !strings.Contains(h, "Stripe TEST PayPal SANDBOX Adyen LIVE") {
			t.Errorf("at %d columns the header cuts the modes:\n%s", width, m.header.View())
		}
	}
}

// TestPayPalChargesAreDescribedAsPayPals: nothing the detail pane or the
// refund dialog says of a PayPal charge speaks of Stripe's events or
// libraries: an unknown key is PayPal's records not carrying it, a UUID key
// is the application's, a dry run sends nothing to PayPal.
func TestPayPalChargesAreDescribedAsPayPals(t *testing.T) {
	r := fixtureReport()
	for i := range r.Groups {
		for k := range r.Groups[i].Charges {
			m := &r.Groups[i].Charges[k]
			m.Provider, m.IdempotencyKey, m.KeyEvidence, m.KeySources = reconcile.ProviderPayPal, "", reconcile.EvidenceUnknown, nil
			if k == 1 {
				m.IdempotencyKey, m.KeyEvidence, m.KeySources = "5f0c7a3e-8d1b-4c2a-9e6f-1b2c3d4e5f60", reconcile.EvidenceAppKey, []string{reconcile.SourceLog}
			}
		}
	}
	cfg := testConfig()
	cfg.DryRun = true
	m := newHarness(withSummary(r.Groups)).start(t, cfg)
	d := m.detail.View()
	if !strings.Contains(d, "key — not known: PayPal's records do not carry it") {
		t.Errorf("the detail pane does not say PayPal's records carry no key:\n%s", d)
	}
	for _, not := range []string{"event", "Stripe"} {
		if strings.Contains(d, not) {
			t.Errorf("the detail pane of PayPal charges says %q:\n%s", not, d)
		}
	}
	m = press(t, m, "r")
	if v := m.refund.View(); !strings.Contains(v, "dry run: nothing will be sent to PayPal or recorded") {
		t.Errorf("the dry-run dialog does not name PayPal:\n%s", v)
	}
}
