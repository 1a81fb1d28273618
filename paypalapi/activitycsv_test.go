package paypalapi

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/doublecheck-dev/doublecheck/reconcile"
	"github.com/plutov/paypal/v4"
)

var activityNow = time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)

// readActivity reads a download whole, as the import would stream it.
func readActivity(t *testing.T, data, name string) ([]reconcile.ChargeRecord, string, error) {
	t.Helper()
	var out []reconcile.ChargeRecord
	note, err := StreamActivityCSV(strings.NewReader(data), name, activityNow, nil, func(rec *reconcile.ChargeRecord) error {
		out = append(out, *rec)
		return nil
	})
	return out, note, err
}

// wantPayment is what a test expects of one payment read from a download.
type wantPayment struct {
	id            string
	created       time.Time
	amount        int64
	refunded      int64
	currency      string
	status        string
	captured      bool
	email, order  string
	invoice, cust string
}

func TestActivityDownloadVariants(t *testing.T) {
	for _, tc := range []struct {
		file string
		want []wantPayment // in the order of the file
		note string
	}{
		{"../testdata/paypal_activity.csv", []wantPayment{
			{"8PY00000000000004", time.Date(2026, 11, 10, 16, 0, 0, 0, time.UTC), 999, 0, "usd", "succeeded", true, "ada@example.com", "sub-77", "", "sub-77"},
			{"8PY00000000000003", time.Date(2026, 11, 1, 6, 59, 30, 0, time.UTC), 6400, 2000, "usd", "succeeded", true, "grace@example.com", "INV-3003", "INV-3003", ""},
			{"8PY00000000000002", time.Date(2026, 10, 30, 17, 1, 5, 0, time.UTC), 125000, 0, "usd", "succeeded", true, "alan@example.com", "INV-3001", "INV-3001", "cart-9"},
			{"8PY00000000000001", time.Date(2026, 10, 30, 17, 0, 35, 0, time.UTC), 125000, 0, "usd", "succeeded", true, "alan@example.com", "INV-3001", "INV-3001", "cart-9"},
		}, "1 refund applied to its payment; left out 4 rows, neither payments to you nor their completed refunds (General Authorization ×1, General Currency Conversion ×2, General Withdrawal ×1)"},
		{"../testdata/paypal_activity_uk_vat.csv", []wantPayment{
			{"7PY00000000000002", time.Date(2026, 10, 24, 17, 45, 12, 0, time.UTC), 4500, 4500, "gbp", "succeeded", true, "ik@example.co.uk", "UK-1001", "UK-1001", ""},
			{"7PY00000000000001", time.Date(2026, 10, 24, 17, 44, 58, 0, time.UTC), 4500, 0, "gbp", "succeeded", true, "ik@example.co.uk", "UK-1001", "UK-1001", ""},
			{"7PY00000000000003", time.Date(2026, 10, 20, 8, 0, 0, 0, time.UTC), 1200, 0, "gbp", "pending", false, "mary@example.co.uk", "", "", ""},
		}, "1 refund applied to its payment"},
		{"../testdata/paypal_activity_custom.csv", []wantPayment{
			{"6PY00000000000001", time.Date(2026, 11, 15, 3, 0, 0, 0, time.UTC), 12000, 0, "jpy", "succeeded", true, "hanako@example.jp", "jp-501", "", "jp-501"},
			{"6PY00000000000002", time.Date(2026, 11, 15, 3, 0, 20, 0, time.UTC), 12000, 12000, "jpy", "succeeded", true, "hanako@example.jp", "jp-501", "", "jp-501"},
		}, "1 refund applied to its payment; left out 1 row, neither payments to you nor their completed refunds (Hold on Balance for Dispute Investigation ×1)"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			if !IsActivityDownload(reconcile.CSVHeaderRow(data)) {
				t.Fatalf("the header of %s is not recognised", tc.file)
			}
			recs, note, err := readActivity(t, string(data), tc.file)
			if err != nil {
				t.Fatal(err)
			}
			if note != tc.note {
				t.Errorf("note %q\n want %q", note, tc.note)
			}
			if len(recs) != len(tc.want) {
				t.Fatalf("%d payments, want %d", len(recs), len(tc.want))
			}
			for i, w := range tc.want {
				c := recs[i].Charge
				if c.ID != w.id || !c.Created.Equal(w.created) || c.Amount != w.amount || c.AmountRefunded != w.refunded ||
					c.Refunded != (w.refunded == w.amount) || c.Currency != w.currency || c.Status != w.status || c.Captured != w.captured ||
					c.Email != w.email || c.Metadata[MetaOrderRef] != w.order || c.Metadata[MetaInvoiceID] != w.invoice || c.Metadata[MetaCustomField] != w.cust {
					t.Errorf("payment %d:\n got %s %s %d refunded %d %s %s captured %t %s order %q invoice %q custom %q\nwant %+v", i,
						c.ID, c.Created, c.Amount, c.AmountRefunded, c.Currency, c.Status, c.Captured, c.Email,
						c.Metadata[MetaOrderRef], c.Metadata[MetaInvoiceID], c.Metadata[MetaCustomField], w)
				}
				if c.Provider != reconcile.ProviderPayPal {
					t.Errorf("%s: provider %q, want paypal", c.ID, c.Provider)
				}
				if !c.Livemode || c.Customer != "" || c.CardFingerprint != "" {
					t.Errorf("%s: livemode %t, customer %q, card %q: the download has no customer id or card", c.ID, c.Livemode, c.Customer, c.CardFingerprint)
				}
				// Its raw JSON is the record a PayPal sync reads back: its
				// refunds and disputes, and no Transaction Search row,
				// which a download's row is not.
				var r record
				if err := json.Unmarshal(c.Raw, &r); err != nil || len(r.Row) != 0 || r.refundedSum() != c.AmountRefunded && !c.Refunded {
					t.Errorf("%s: raw %s (%v): want a record of its refunds, without a Transaction Search row", c.ID, c.Raw, err)
				}
			}
		})
	}
}

// TestActivityDownloadRows: which rows are payments, which refunds apply, and
// what is left out, row by row.
func TestActivityDownloadRows(t *testing.T) {
	const header = "Date,Time,TimeZone,Type,Status,Currency,Gross,From Email Address,Transaction ID,Reference Txn ID,Balance Impact\n"
	const pay = "10/01/2026,10:00:00,PDT,Express Checkout Payment,Completed,USD,100.00,a@example.com,PAY10000000000000,,Credit\n"
	for _, tc := range []struct {
		name, rows   string
		amount       int64
		refunded     int64
		disputed     bool
		payments     int
		noteContains string
	}{
		{"a payment", pay, 10000, 0, false, 1, ""},
		{"two partial refunds", pay +
			"10/02/2026,10:00:00,PDT,Payment Refund,Completed,USD,-30.00,a@example.com,RF100000000000000,PAY10000000000000,Debit\n" +
			"10/03/2026,10:00:00,PDT,Payment Refund,Completed,USD,-20.00,a@example.com,RF200000000000000,PAY10000000000000,Debit\n",
			10000, 5000, false, 1, "2 refunds applied to their payments"},
		{"a refund before its payment (newest first)",
			"10/02/2026,10:00:00,PDT,Payment Refund,Completed,USD,-100.00,a@example.com,RF100000000000000,PAY10000000000000,Debit\n" + pay,
			10000, 10000, false, 1, "1 refund applied"},
		{"a pending refund is left out, and said", pay +
			"10/02/2026,10:00:00,PDT,Payment Refund,Pending,USD,-30.00,a@example.com,RF100000000000000,PAY10000000000000,Debit\n",
			10000, 0, false, 1, "Payment Refund (Pending) ×1"},
		{"a refund of a payment not in the file",
			"10/02/2026,10:00:00,PDT,Payment Refund,Completed,USD,-30.00,a@example.com,RF100000000000000,PAY00000000000000,Debit\n" + pay,
			10000, 0, false, 1, "refunds and disputes of payments not in the file ×1"},
		{"a chargeback marks its payment disputed", pay +
			"10/05/2026,10:00:00,PDT,Chargeback,Completed,USD,-100.00,,CB100000000000000,PAY10000000000000,Debit\n",
			10000, 0, true, 1, ""},
		{"a payment the merchant sent", "10/01/2026,10:00:00,PDT,Express Checkout Payment,Completed,USD,-40.00,shop@example.com,OUT10000000000000,,Debit\n",
			0, 0, false, 0, "Express Checkout Payment ×1"},
		{"a memo row", "10/01/2026,10:00:00,PDT,Website Payment,Completed,USD,40.00,a@example.com,MEMO1000000000000,,Memo\n",
			0, 0, false, 0, "Website Payment ×1"},
		{"a hold", "10/01/2026,10:00:00,PDT,Payment Review Hold,Completed,USD,40.00,,H1000000000000000,,Credit\n",
			0, 0, false, 0, "Payment Review Hold ×1"},
		{"a repeated row goes to the import twice", pay + pay, 10000, 0, false, 2, ""},
		{"reversed by its status",
			"10/01/2026,10:00:00,PDT,Express Checkout Payment,Reversed,USD,100.00,a@example.com,PAY10000000000000,,Credit\n",
			10000, 10000, false, 1, ""},
		{"refunded by its status, its refund in another download",
			"10/01/2026,10:00:00,PDT,Express Checkout Payment,Refunded,USD,100.00,a@example.com,PAY10000000000000,,Credit\n",
			10000, 10000, false, 1, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs, note, err := readActivity(t, header+tc.rows, "a.csv")
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != tc.payments {
				t.Fatalf("%d payments, want %d", len(recs), tc.payments)
			}
			if !strings.Contains(note, tc.noteContains) {
				t.Errorf("note %q, want it to contain %q", note, tc.noteContains)
			}
			if tc.payments == 0 {
				return
			}
			c := recs[0].Charge
			if c.Amount != tc.amount || c.AmountRefunded != tc.refunded || c.Disputed != tc.disputed || c.Refunded != (tc.refunded == tc.amount) {
				t.Errorf("amount %d refunded %d (%t) disputed %t; want %d %d %t", c.Amount, c.AmountRefunded, c.Refunded, c.Disputed, tc.amount, tc.refunded, tc.disputed)
			}
			if tc.payments == 2 && recs[0].Digest != recs[1].Digest {
				t.Error("a repeated row has another digest: the import would refuse it as a conflict")
			}
		})
	}
}

// TestActivityDownloadRefusesBadInput: one sentence with the file, the line
// and the column; nothing emitted.
func TestActivityDownloadRefusesBadInput(t *testing.T) {
	const header = "Date,Time,TimeZone,Type,Status,Currency,Gross,From Email Address,Transaction ID,Reference Txn ID\n"
	const pay = "10/01/2026,10:00:00,PDT,Website Payment,Completed,USD,100.00,a@example.com,PAY10000000000000,\n"
	for _, tc := range []struct {
		name, data string
		want       string
	}{
		{"unknown zone", header + "10/01/2026,10:00:00,XYZT,Website Payment,Completed,USD,1.00,a@example.com,P2000000000000000,\n",
			`p.csv line 2, TimeZone: "XYZT" is not a time zone doublecheck knows (it knows ACDT, ACST`},
		{"day first and month first", header + "13/01/2026,10:00:00,CET,Website Payment,Completed,EUR,1.00,a@example.com,P2000000000000000,\n" +
			"01/14/2026,10:00:00,CET,Website Payment,Completed,EUR,1.00,a@example.com,P3000000000000000,\n",
			`p.csv line 3, Date: "01/14/2026" is written month first, but "13/01/2026" on line 2 day first; which of the file's dates are which is not known`},
		{"no such day", header + "02/30/2026,10:00:00,CET,Website Payment,Completed,EUR,1.00,a@example.com,P2000000000000000,\n",
			`p.csv line 2, Date: "02/30/2026" is not a date as the file writes them (MM/DD/YYYY)`},
		{"no such day, day first", header + "31/04/2026,10:00:00,CET,Website Payment,Completed,EUR,1.00,a@example.com,P2000000000000000,\n",
			`p.csv line 2, Date: "31/04/2026" is not a date as the file writes them (DD/MM/YYYY)`},
		{"not a date", header + "2026-01-13,10:00:00,CET,Website Payment,Completed,EUR,1.00,a@example.com,P2000000000000000,\n",
			`p.csv line 2, Date: "2026-01-13" is not a date as PayPal writes it (MM/DD/YYYY, or DD/MM/YYYY)`},
		{"bad time", header + "10/01/2026,10h00,PST,Website Payment,Completed,USD,1.00,a@example.com,P2000000000000000,\n",
			`p.csv line 2, Time: "10h00" is not a time as PayPal writes it`},
		{"more decimals than JPY has", header + "10/01/2026,10:00:00,JST,Website Payment,Completed,JPY,\"1,000.5\",a@example.com,P2000000000000000,\n",
			`p.csv line 2, Gross: "1,000.5" has 1 decimals but JPY has 0`},
		{"a decimal comma", header + "10/01/2026,10:00:00,CET,Website Payment,Completed,EUR,\"10,50\",a@example.com,P2000000000000000,\n",
			`p.csv line 2, Gross: "10,50" is not an amount`},
		{"unknown currency", header + "10/01/2026,10:00:00,PST,Website Payment,Completed,XXY,1.00,a@example.com,P2000000000000000,\n",
			`p.csv line 2, Currency: "XXY" is not an ISO 4217 currency code`},
		{"unknown payment status", header + "10/01/2026,10:00:00,PST,Website Payment,Mysterious,USD,1.00,a@example.com,P2000000000000000,\n",
			`p.csv line 2, Status: "Mysterious" is not a status of a PayPal payment`},
		{"a transaction id with spaces", header + "10/01/2026,10:00:00,PST,Website Payment,Completed,USD,1.00,a@example.com,P 2,\n",
			`p.csv line 2, Transaction ID: "P 2" is not a PayPal transaction id`},
		{"a refund naming no payment", header + pay + "10/02/2026,10:00:00,PDT,Payment Refund,Completed,USD,-1.00,a@example.com,RF100000000000000,\n",
			`p.csv line 3, Reference Txn ID: empty, but a Payment Refund row names the payment it returns`},
		{"a line break in a value the message shows", header + pay + "10/02/2026,10:00:00,PDT,\"Payment\nRefund\",Completed,USD,-1.00,a@example.com,RF100000000000000,\n",
			`p.csv line 3, Reference Txn ID: empty, but a "Payment\nRefund" row names the payment it returns`},
		{"refunds beyond the payment", header + pay +
			"10/02/2026,10:00:00,PDT,Payment Refund,Completed,USD,-60.00,a@example.com,RF100000000000000,PAY10000000000000\n" +
			"10/03/2026,10:00:00,PDT,Payment Refund,Completed,USD,-60.00,a@example.com,RF200000000000000,PAY10000000000000\n",
			`p.csv line 4: refund RF200000000000000 brings the refunds of payment PAY10000000000000 (line 2) to 120.00 USD, more than its 100.00 USD`},
		{"a refund in another currency", header + pay + "10/02/2026,10:00:00,PDT,Payment Refund,Completed,EUR,-1.00,a@example.com,RF100000000000000,PAY10000000000000\n",
			`p.csv line 3: Payment Refund RF100000000000000 is in EUR, but its payment PAY10000000000000 (line 2) is in USD`},
		{"one id, two rows", header + pay + "10/01/2026,10:00:00,PDT,Website Payment,Completed,USD,101.00,a@example.com,PAY10000000000000,\n",
			`p.csv line 3: transaction PAY10000000000000 is also on line 2, with different contents`},
		{"in the future", header + "12/01/2026,10:00:00,PST,Website Payment,Completed,USD,1.00,a@example.com,P2000000000000000,\n",
			`p.csv line 2: PayPal charge P2000000000000000: created 2026-12-01T18:00:00Z is in the future`},
		{"before PayPal", header + "10/01/1997,10:00:00,PST,Website Payment,Completed,USD,1.00,a@example.com,P2000000000000000,\n",
			`p.csv line 2: PayPal charge P2000000000000000: created 1997-10-01T18:00:00Z is before PayPal existed`},
		{"over the maximum", header + "10/01/2026,10:00:00,PST,Website Payment,Completed,USD,\"1,000,000.00\",a@example.com,P2000000000000000,\n",
			`p.csv line 2: PayPal charge P2000000000000000: amount 100000000 (1000000.00 USD) is more than 99999999 minor units, doublecheck's maximum for a PayPal charge`},
		{"a payment's transaction id of 16 characters", header + "10/01/2026,10:00:00,PST,Website Payment,Completed,USD,1.00,a@example.com,P200000000000000,\n",
			`p.csv line 2, Transaction ID: "P200000000000000" is not a PayPal transaction id (17 letters and digits)`},
		{"no Reference Txn ID column for a refund", "Date,Time,Time zone,Type,Status,Currency,Gross,Transaction ID\n" +
			"10/02/2026,10:00:00,PDT,Payment Refund,Completed,USD,-1.00,RF100000000000000\n",
			`p.csv line 2: Payment Refund RF100000000000000 returns a payment, but the file has no Reference Txn ID column`},
		{"no time zone column", "Date,Time,Type,Status,Currency,Gross,Transaction ID\n",
			`p.csv line 1: the header has no TimeZone or Time zone or Time Zone column, which a PayPal activity download needs`},
		{"a short row", header + "10/01/2026,10:00:00\n", `p.csv line 2: 2 fields, but the header has 10`},
		{"not UTF-8", header + "10/01/2026,10:00:00,PST,Website Payment,Completed,USD,1.00,\xe9@example.com,P2000000000000000,\n",
			`p.csv line 2, From Email Address: not valid UTF-8`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs, _, err := readActivity(t, tc.data, "p.csv")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v\nwant one containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is more than one line: %q", err)
			}
			if len(recs) > 0 {
				t.Errorf("%d payments emitted before the error", len(recs))
			}
		})
	}
}

func TestActivityZones(t *testing.T) {
	at := func(zone string) string {
		loc, err := activityLocation(zone)
		if err != nil {
			return "error"
		}
		return time.Date(2026, 7, 1, 12, 0, 0, 0, loc).UTC().Format("15:04")
	}
	for zone, want := range map[string]string{
		"PST": "20:00", "PDT": "19:00", "pdt": "19:00", "CET": "11:00", "CEST": "10:00", "GMT": "12:00", "BST": "11:00",
		"JST": "03:00", "GMT+01:00": "11:00", "UTC-05:00": "17:00", "GMT+5:30": "06:30", "GMT-3": "15:00",
		"GMT+25:00": "error", "IST": "error", "": "error", "Europe/Berlin": "error",
	} {
		if got := at(zone); got != want {
			t.Errorf("12:00 %s is %s UTC, want %s", zone, got, want)
		}
	}
}

// TestActivityDownloadTabDelimited: PayPal's "Tab delimited" download reads
// as its CSV does.
func TestActivityDownloadTabDelimited(t *testing.T) {
	data, err := os.ReadFile("../testdata/paypal_activity_custom.csv")
	if err != nil {
		t.Fatal(err)
	}
	tabbed := strings.NewReplacer(`","`, "\t", `"`, "").Replace(string(data))
	if !IsActivityDownload(reconcile.CSVHeaderRow([]byte(tabbed))) {
		t.Fatal("the tab-delimited header is not recognised")
	}
	recs, _, err := readActivity(t, tabbed, "t.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[1].Charge.AmountRefunded != 12000 {
		t.Errorf("%d payments (want 2), the second refunded %d (want 12000)", len(recs), recs[1].Charge.AmountRefunded)
	}
}

// FuzzActivityDownload: any input is read or refused, never a panic, and
// what is read holds together (go test ./paypalapi -fuzz FuzzActivityDownload).
func FuzzActivityDownload(f *testing.F) {
	for _, file := range []string{"paypal_activity.csv", "paypal_activity_uk_vat.csv", "paypal_activity_custom.csv"} {
		data, err := os.ReadFile("../testdata/" + file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(data))
	}
	f.Fuzz(func(t *testing.T, data string) {
		recs, _, err := readActivity(t, data, "f.csv")
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is more than one line: %q", err)
			}
			return
		}
		for _, r := range recs {
			c := r.Charge
			if c.Amount <= 0 || c.AmountRefunded < 0 || c.AmountRefunded > c.Amount || c.Refunded != (c.AmountRefunded == c.Amount) || c.ID == "" {
				t.Errorf("an impossible payment read: %+v", c)
			}
		}
	})
}

// TestActivityDownloadDateOrder: a file's date order is learned from any of
// its rows, and applies to the rows before the one that tells it.
func TestActivityDownloadDateOrder(t *testing.T) {
	const header = "Date,Time,TimeZone,Type,Status,Currency,Gross,Transaction ID\n"
	for _, tc := range []struct {
		name, rows string
		want       time.Time // the first payment's
	}{
		{"month first", "05/11/2026,10:00:00,GMT,Website Payment,Completed,GBP,1.00,P1000000000000000\n10/20/2026,10:00:00,GMT,Website Payment,Completed,GBP,1.00,P2000000000000000\n",
			time.Date(2026, 5, 11, 10, 0, 0, 0, time.UTC)},
		{"day first, told by a later row", "05/11/2026,10:00:00,GMT,Website Payment,Completed,GBP,1.00,P1000000000000000\n20/10/2026,10:00:00,GMT,Website Payment,Completed,GBP,1.00,P2000000000000000\n",
			time.Date(2026, 11, 5, 10, 0, 0, 0, time.UTC)},
		{"told by a row left out", "05/11/2026,10:00:00,GMT,Website Payment,Completed,GBP,1.00,P1000000000000000\n20/10/2026,10:00:00,GMT,General Withdrawal,Completed,GBP,-1.00,W1000000000000000\n",
			time.Date(2026, 11, 5, 10, 0, 0, 0, time.UTC)},
		{"not told: month first, as PayPal's US downloads", "05/11/2026,10:00:00,GMT,Website Payment,Completed,GBP,1.00,P1000000000000000\n",
			time.Date(2026, 5, 11, 10, 0, 0, 0, time.UTC)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs, _, err := readActivity(t, header+tc.rows, "d.csv")
			if err != nil {
				t.Fatal(err)
			}
			if got := recs[0].Charge.Created; !got.Equal(tc.want) {
				t.Errorf("created %s, want %s", got, tc.want)
			}
		})
	}
}

// A download's refunds and disputes add to the payments a store holds: one
// a sync stored (rebuilt from its Transaction Search row), one an earlier
// download stored (its fields kept), each refund counted once; a payment
// stored without a record of its refunds takes disputes but not refunds,
// which may be among those it counted already.
func TestActivityAddsToStoredPayments(t *testing.T) {
	const header = "Date,Time,TimeZone,Type,Status,Currency,Gross,From Email Address,Transaction ID,Reference Txn ID,Balance Impact\n"
	at := time.Date(2026, 10, 1, 17, 0, 0, 0, time.UTC)
	synced := record{Row: mustJSON(paypal.SearchTransactionDetails{TransactionInfo: paypal.SearchTransactionInfo{TransactionID: "PAYS0000000000000",
		TransactionEventCode: "T0006", TransactionStatus: "S", TransactionInitiationDate: paypal.JSONTime(at),
		TransactionUpdatedDate: paypal.JSONTime(at), TransactionAmount: paypal.Money{Currency: "USD", Value: "100.00"}}}),
		Refunds: map[string]int64{"RF0": 1000}}
	syncedCharge, err := synced.charge(at, true)
	if err != nil {
		t.Fatal(err)
	}
	downloaded := reconcile.Charge{ID: "PAYD0000000000000", Provider: reconcile.ProviderPayPal, Created: at, Observed: at, Amount: 10000,
		AmountRefunded: 1000, Currency: "usd", Status: "succeeded", Captured: true, Email: "d@example.com", Livemode: true,
		Raw: []byte(`{"refunds":{"RF900000000000000":1000}}`)}
	// Stored by an import that kept no record: with a refund it counted,
	// and with none.
	old, unrefunded := downloaded, downloaded
	old.ID, old.Raw = "PAYO0000000000000", nil
	unrefunded.ID, unrefunded.Raw, unrefunded.AmountRefunded = "PAYZ0000000000000", nil, 0
	stored := map[string]reconcile.Charge{"PAYS0000000000000": syncedCharge, "PAYD0000000000000": downloaded, "PAYO0000000000000": old, "PAYZ0000000000000": unrefunded}
	lookup := func(ids []string) (map[string]reconcile.Charge, error) {
		out := map[string]reconcile.Charge{}
		for _, id := range ids {
			if c, ok := stored[id]; ok {
				out[id] = c
			}
		}
		return out, nil
	}
	for _, tc := range []struct {
		name, rows   string
		id           string
		refunded     int64
		disputed     bool
		email        string
		noteContains string
	}{
		{"a refund of a synced payment", "11/02/2026,10:00:00,PST,Payment Refund,Completed,USD,-30.00,,RF100000000000000,PAYS0000000000000,Debit\n",
			"PAYS0000000000000", 4000, false, "", "1 refund applied"},
		{"a refund of a downloaded payment", "11/02/2026,10:00:00,PST,Payment Refund,Completed,USD,-30.00,,RF100000000000000,PAYD0000000000000,Debit\n",
			"PAYD0000000000000", 4000, false, "d@example.com", "1 refund applied"},
		{"a refund it counted already", "11/02/2026,10:00:00,PST,Payment Refund,Completed,USD,-10.00,,RF900000000000000,PAYD0000000000000,Debit\n",
			"PAYD0000000000000", 1000, false, "d@example.com", ""},
		{"the payment again, its stored refund kept", "10/01/2026,10:00:00,PDT,Express Checkout Payment,Completed,USD,100.00,d@example.com,PAYD0000000000000,,Credit\n",
			"PAYD0000000000000", 1000, false, "d@example.com", ""},
		{"a chargeback of a payment stored without a record", "11/02/2026,10:00:00,PST,Chargeback,Completed,USD,-100.00,,CB100000000000000,PAYO0000000000000,Debit\n",
			"PAYO0000000000000", 1000, true, "d@example.com", ""},
		{"a refund of a payment stored without a record", "11/02/2026,10:00:00,PST,Payment Refund,Completed,USD,-30.00,,RF100000000000000,PAYO0000000000000,Debit\n",
			"", 0, false, "", "refunds of payments stored without a record of their refunds"},
		{"a refund of a payment stored without a record or refunds", "11/02/2026,10:00:00,PST,Payment Refund,Completed,USD,-30.00,,RF100000000000000,PAYZ0000000000000,Debit\n",
			"PAYZ0000000000000", 3000, false, "d@example.com", "1 refund applied"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []reconcile.Charge
			note, err := StreamActivityCSV(strings.NewReader(header+tc.rows), "a.csv", activityNow, lookup, func(rec *reconcile.ChargeRecord) error {
				got = append(got, rec.Charge)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(note, tc.noteContains) {
				t.Errorf("note %q, want it to contain %q", note, tc.noteContains)
			}
			if tc.id == "" {
				if len(got) != 0 {
					t.Errorf("emitted %+v", got)
				}
				return
			}
			if len(got) != 1 || got[0].ID != tc.id {
				t.Fatalf("emitted %+v, want %s", got, tc.id)
			}
			c := got[0]
			if c.AmountRefunded != tc.refunded || c.Amount != 10000 || c.Disputed != tc.disputed || c.Email != tc.email || !c.Created.Equal(at) {
				t.Errorf("%s: %d of %d refunded, disputed %t, email %q, created %s; want %d, %t, %q, %s",
					c.ID, c.AmountRefunded, c.Amount, c.Disputed, c.Email, c.Created, tc.refunded, tc.disputed, tc.email, at)
			}
			var r record
			if tc.id == "PAYO0000000000000" {
				if c.Raw != nil {
					t.Errorf("%s: raw %s: a payment stored without a record of its refunds gets none from a dispute", c.ID, c.Raw)
				}
				return
			}
			if err := json.Unmarshal(c.Raw, &r); err != nil || (tc.id == "PAYS0000000000000") != (len(r.Row) > 0) {
				t.Errorf("%s: raw %s (%v): a synced payment keeps its Transaction Search row, a downloaded one has none", c.ID, c.Raw, err)
			}
		})
	}
}
