package stripeapi

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// readDashboard reads a Dashboard export whole, as the import would stream it.
func readDashboard(t *testing.T, data, name string) ([]ChargeRecord, error) {
	t.Helper()
	var out []ChargeRecord
	err := StreamDashboardCSV(strings.NewReader(data), name, time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC), func(rec *ChargeRecord) error {
		out = append(out, *rec)
		return nil
	})
	return out, err
}

func TestDashboardExportHeaders(t *testing.T) {
	for _, tc := range []struct {
		file  string
		count int
		live  bool
		// want holds charges expected, by id, with the fields compared.
		want []reconcile.Charge
	}{
		{"../testdata/stripe_unified_payments.csv", 8, true, []reconcile.Charge{
			{ID: "ch_3PdashA1aaaaaaaa01", Created: time.Date(2026, 11, 2, 10, 15, 3, 0, time.UTC), Amount: 124900, AmountCaptured: 124900,
				Currency: "usd", Status: "succeeded", Captured: true, Customer: "cus_QdashAlice", Email: "alice@example.com",
				CardFingerprint: "fpAbc123XyZ", CardBrand: "visa", CardLast4: "4242", PaymentIntent: "pi_3PdashA1aaaaaaaa01",
				Description: "Order o-2001", Metadata: map[string]string{"order_id": "o-2001", "cart": "c-77"}},
			{ID: "ch_3PdashA1aaaaaaaa03", Amount: 4000, AmountRefunded: 1500, Currency: "eur", Status: "succeeded", Captured: true},
			{ID: "ch_3PdashA1aaaaaaaa04", Amount: 5000, AmountRefunded: 5000, Refunded: true, Currency: "jpy", Status: "succeeded", Captured: true},
			{ID: "ch_3PdashA1aaaaaaaa05", Amount: 12500, Currency: "kwd", Status: "succeeded", Captured: true},
			{ID: "ch_3PdashA1aaaaaaaa06", Amount: 9900, Currency: "usd", Status: "failed"},
			{ID: "ch_3PdashA1aaaaaaaa07", Amount: 7500, Currency: "usd", Status: "succeeded", Captured: true, Disputed: true},
			{ID: "ch_3PdashA1aaaaaaaa08", Amount: 2000, Currency: "gbp", Status: "succeeded"},
		}},
		{"../testdata/stripe_unified_payments_old.csv", 4, false, []reconcile.Charge{
			{ID: "ch_3PdashA1aaaaaaaa01", Created: time.Date(2026, 11, 2, 10, 15, 0, 0, time.UTC), Amount: 124900, AmountCaptured: 124900,
				Currency: "usd", Status: "succeeded", Captured: true, Customer: "cus_QdashAlice", Email: "alice@example.com",
				CardFingerprint: "fpAbc123XyZ", CardBrand: "visa", CardLast4: "4242", PaymentIntent: "pi_3PdashA1aaaaaaaa01",
				Description: "Order o-2001", Metadata: map[string]string{"order_id": "o-2001"}},
			{ID: "ch_3PdashA1aaaaaaaa04", Amount: 5000, AmountRefunded: 5000, Refunded: true, Currency: "jpy", Status: "succeeded", Captured: true},
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			if !IsDashboardExport(reconcile.CSVHeaderRow(data)) {
				t.Fatalf("the header of %s is not recognised", tc.file)
			}
			recs, err := readDashboard(t, string(data), tc.file)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != tc.count {
				t.Fatalf("%d charges, want %d", len(recs), tc.count)
			}
			byID := map[string]ChargeRecord{}
			for i, r := range recs {
				byID[r.Charge.ID] = r
				if r.Charge.Provider != reconcile.ProviderStripe {
					t.Errorf("%s: provider %q, want stripe", r.Charge.ID, r.Charge.Provider)
				}
				if r.Charge.Livemode != tc.live {
					t.Errorf("%s: livemode %t, want %t", r.Charge.ID, r.Charge.Livemode, tc.live)
				}
				if r.Place.Line != i+2 {
					t.Errorf("%s: line %d, want %d", r.Charge.ID, r.Place.Line, i+2)
				}
			}
			for _, w := range tc.want {
				got, ok := byID[w.ID]
				if !ok {
					t.Errorf("%s missing", w.ID)
					continue
				}
				c := got.Charge
				if c.Amount != w.Amount || c.AmountRefunded != w.AmountRefunded || c.Currency != w.Currency ||
					c.Status != w.Status || c.Captured != w.Captured || c.Refunded != w.Refunded || c.Disputed != w.Disputed {
					t.Errorf("%s: amount %d refunded %d %s %s captured %t refunded %t disputed %t; want %d %d %s %s %t %t %t", w.ID,
						c.Amount, c.AmountRefunded, c.Currency, c.Status, c.Captured, c.Refunded, c.Disputed,
						w.Amount, w.AmountRefunded, w.Currency, w.Status, w.Captured, w.Refunded, w.Disputed)
				}
				if w.Customer == "" {
					continue // only the amounts and states compared
				}
				if !c.Created.Equal(w.Created) || c.AmountCaptured != w.AmountCaptured || c.Customer != w.Customer || c.Email != w.Email ||
					c.CardFingerprint != w.CardFingerprint || c.CardBrand != w.CardBrand || c.CardLast4 != w.CardLast4 ||
					c.PaymentIntent != w.PaymentIntent || c.Description != w.Description || len(c.Metadata) != len(w.Metadata) {
					t.Errorf("%s:\n got %+v\nwant %+v", w.ID, c, w)
				}
				for k, v := range w.Metadata {
					if c.Metadata[k] != v {
						t.Errorf("%s: metadata %s = %q, want %q", w.ID, k, c.Metadata[k], v)
					}
				}
				if !strings.Contains(string(c.Raw), `"order_id (metadata)":"o-2001"`) {
					t.Errorf("%s: raw row %s does not keep the export's columns", w.ID, c.Raw)
				}
			}
			if recs[0].Digest == recs[1].Digest {
				t.Error("two different rows have one digest")
			}
		})
	}
}

// TestDashboardExportRefusesBadInput: every problem is one sentence with the
// file, the line and the column, and nothing after it is emitted.
func TestDashboardExportRefusesBadInput(t *testing.T) {
	const header = "id,Created date (UTC),Amount,Amount Refunded,Currency,Status,Mode,Captured\n"
	const good = "ch_1,2026-11-02 10:15:03,10.00,0.00,usd,Paid,Live,true\n"
	for _, tc := range []struct {
		name, data string
		want       string
	}{
		{"no Mode column", "id,Created date (UTC),Amount,Currency,Status\nch_1,2026-11-02 10:15:03,10.00,usd,Paid\n",
			"f.csv line 1: the header has no Mode column"},
		{"no created column", "id,Amount,Currency,Status,Mode\n", "no Created date (UTC) or Created (UTC) column"},
		{"more decimals than JPY has", header + good + "ch_2,2026-11-02 10:15:03,500.5,0,jpy,Paid,Live,true\n",
			"f.csv line 3, Amount: \"500.5\" has 1 decimals but JPY has 0"},
		{"more decimals than USD has", header + "ch_2,2026-11-02 10:15:03,10.001,0,usd,Paid,Live,true\n",
			"f.csv line 2, Amount: \"10.001\" has 3 decimals but USD has 2"},
		{"a decimal comma", header + "ch_2,2026-11-02 10:15:03,\"10,5\",0,eur,Paid,Live,true\n",
			"f.csv line 2, Amount: \"10,5\" is not an amount"},
		{"negative refund", header + "ch_2,2026-11-02 10:15:03,10.00,-1.00,usd,Paid,Live,true\n",
			"f.csv line 2, Amount Refunded: \"-1.00\" is negative"},
		{"unknown status", header + "ch_2,2026-11-02 10:15:03,10.00,0,usd,Settled,Live,true\n",
			"f.csv line 2, Status: \"Settled\" is not a status of the Dashboard's export"},
		{"unknown mode", header + "ch_2,2026-11-02 10:15:03,10.00,0,usd,Paid,Production,true\n",
			"f.csv line 2, Mode: \"Production\" is neither Live nor Test"},
		{"bad time", header + "ch_2,02/11/2026 10:15,10.00,0,usd,Paid,Live,true\n",
			"f.csv line 2, Created date (UTC): \"02/11/2026 10:15\" is not a time"},
		{"unknown currency", header + "ch_2,2026-11-02 10:15:03,10.00,0,xyz,Paid,Live,true\n",
			"f.csv line 2, Currency: \"xyz\" is not an ISO 4217 currency code"},
		{"not a charge id", header + "pi_2,2026-11-02 10:15:03,10.00,0,usd,Paid,Live,true\n",
			"f.csv line 2: id \"pi_2\" is not a Stripe charge id"},
		{"refunded more than taken", header + "ch_2,2026-11-02 10:15:03,10.00,11.00,usd,Paid,Live,true\n",
			"f.csv line 2: Stripe charge ch_2: amount_refunded 1100 is more than its amount 1000"},
		{"created after now", header + "ch_2,2027-01-01 00:00:00,10.00,0,usd,Paid,Live,true\n",
			"f.csv line 2: Stripe charge ch_2: created 2027-01-01T00:00:00Z is in the future"},
		{"short row", header + "ch_2,2026-11-02 10:15:03,10.00\n", "f.csv line 2: 3 fields, but the header has 8"},
		{"unclosed quote", header + good + "ch_2,\"2026-11-02,10.00,0,usd,Paid,Live,true\n", "f.csv line 3: extraneous or missing \" in quoted-field"},
		{"not UTF-8", header + "ch_2,2026-11-02 10:15:03,10.00,0,usd,Paid,Live,\xff\n", "f.csv line 2, Captured: not valid UTF-8"},
		{"bad captured", header + "ch_2,2026-11-02 10:15:03,10.00,0,usd,Paid,Live,yes\n", "f.csv line 2, Captured: \"yes\" is neither true nor false"},
		{"a column named twice", "id,Amount,Amount,Currency,Status,Mode,Created (UTC)\n", "f.csv line 1: the header names \"Amount\" twice"},
		{"partially refunded, and no Amount Refunded column", "id,Created date (UTC),Amount,Currency,Status,Mode\nch_2,2026-11-02 10:15:03,10.00,usd,Partially Refunded,Live\n",
			"f.csv line 2, Status: partially refunded, but the export has no Amount Refunded column to say how much"},
		{"empty", "", "f.csv is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs, err := readDashboard(t, tc.data, "f.csv")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is more than one line: %q", err)
			}
			for _, r := range recs {
				if r.Place.Line >= 3 || !strings.Contains(tc.data, good) {
					t.Errorf("emitted %s from line %d, at or after the bad one", r.Charge.ID, r.Place.Line)
				}
			}
		})
	}
}

func TestIsDashboardExport(t *testing.T) {
	for _, tc := range []struct {
		head string
		want bool
	}{
		{"id,Created date (UTC),Amount,Currency,Status,Mode\n", true},
		{"\ufeff\"id\",\"Created (UTC)\",\"Amount\",\"Currency\",\"Status\"\r\n", true},
		{"ID,CREATED (UTC),amount,currency,status\n", true},
		{"id,Amount,Currency,Status\n", false},
		{"\"Date\",\"Time\",\"TimeZone\",\"Gross\",\"Transaction ID\"\n", false},
		{`{"object":"list"}`, false},
	} {
		if got := IsDashboardExport(reconcile.CSVHeaderRow([]byte(tc.head))); got != tc.want {
			t.Errorf("IsDashboardExport(%q) = %t, want %t", tc.head, got, tc.want)
		}
	}
}

// TestDashboardExportRefundedByStatus: without an Amount Refunded column, a
// Refunded status says all of it was refunded.
func TestDashboardExportRefundedByStatus(t *testing.T) {
	recs, err := readDashboard(t, "id,Created date (UTC),Amount,Currency,Status,Mode\nch_2,2026-11-02 10:15:03,10.00,usd,Refunded,Live\n", "f.csv")
	if err != nil {
		t.Fatal(err)
	}
	if c := recs[0].Charge; c.AmountRefunded != 1000 || !c.Refunded {
		t.Errorf("refunded %d (%t), want 1000 (true)", c.AmountRefunded, c.Refunded)
	}
}

// FuzzDashboardExport: any input is read or refused, never a panic, and what
// is read passes the charge checks (go test ./stripeapi -fuzz FuzzDashboardExport).
func FuzzDashboardExport(f *testing.F) {
	for _, file := range []string{"stripe_unified_payments.csv", "stripe_unified_payments_old.csv"} {
		data, err := os.ReadFile("../testdata/" + file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(data))
	}
	f.Fuzz(func(t *testing.T, data string) {
		recs, err := readDashboard(t, data, "f.csv")
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is more than one line: %q", err)
			}
			return
		}
		for _, r := range recs {
			if err := reconcile.ValidateCharge(r.Charge, time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)); err != nil {
				t.Errorf("an impossible charge read: %v", err)
			}
		}
	})
}
