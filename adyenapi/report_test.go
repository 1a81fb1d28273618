package adyenapi

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/doublecheck-dev/doublecheck/reconcile"
	"github.com/doublecheck-dev/doublecheck/sandbox"
)

var testNow = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

// readFiles reads the named testdata files (or inline contents, for names
// starting with "inline:") as one import.
func readFiles(t *testing.T, files ...File) ([]reconcile.Charge, Summary, error) {
	t.Helper()
	var got []reconcile.Charge
	sum, err := ReadReports(files, Options{OrderField: "order_id", Now: testNow}, func(rec *reconcile.ChargeRecord) error {
		got = append(got, rec.Charge)
		return nil
	})
	return got, sum, err
}

func testFile(t *testing.T, name string) File {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return File{R: f, Name: name}
}

func inline(name, content string) File { return File{R: strings.NewReader(content), Name: name} }

func byID(charges []reconcile.Charge) map[string]reconcile.Charge {
	m := map[string]reconcile.Charge{}
	for _, c := range charges {
		m[c.ID] = c
	}
	return m
}

// The 2023 reporting migration changed the default column order: a file of
// either order gives the same charges, alone or joined.
func TestReportHeaderVariantsReadAlike(t *testing.T) {
	for _, pair := range [][2]string{
		{"received_payment_details_pre2023.csv", "received_payment_details_2023.csv"},
		{"settlement_details_pre2023.csv", "settlement_details_2023.csv"},
	} {
		old, _, err := readFiles(t, testFile(t, pair[0]))
		if err != nil {
			t.Fatal(err)
		}
		cur, _, err := readFiles(t, testFile(t, pair[1]))
		if err != nil {
			t.Fatal(err)
		}
		if len(old) == 0 || len(old) != len(cur) {
			t.Fatalf("%s: %d charges, %s: %d", pair[0], len(old), pair[1], len(cur))
		}
		for i := range old {
			a, b := old[i], cur[i]
			if !reflect.DeepEqual(a, b) {
				t.Errorf("%s and %s disagree:\n%+v\n%+v", pair[0], pair[1], a, b)
			}
		}
	}
}

func TestJoinedReports(t *testing.T) {
	for _, order := range [][2]string{
		{"received_payment_details_pre2023.csv", "settlement_details_2023.csv"},
		{"settlement_details_pre2023.csv", "received_payment_details_2023.csv"},
	} {
		charges, sum, err := readFiles(t, testFile(t, order[0]), testFile(t, order[1]))
		if err != nil {
			t.Fatal(err)
		}
		got := byID(charges)
		want := map[string]struct {
			amount, captured, refunded int64
			currency, status, email    string
			counts                     bool
		}{
			"8815000000000001": {4999, 4999, 0, "eur", "succeeded", "ann@example.com", true},
			"8815000000000002": {4999, 4999, 1000, "eur", "succeeded", "ann@example.com", true},
			"8815000000000003": {1500, 1500, 0, "jpy", "succeeded", "bo@example.com", true},
			"8815000000000004": {1000, 0, 0, "eur", "failed", "cy@example.com", false},
		}
		if len(got) != len(want) {
			t.Fatalf("%v: %d charges, want %d: %+v", order, len(got), len(want), charges)
		}
		for id, w := range want {
			c := got[id]
			if c.Amount != w.amount || c.AmountCaptured != w.captured || c.AmountRefunded != w.refunded ||
				c.Currency != w.currency || c.Status != w.status || c.Email != w.email || c.Counts() != w.counts {
				t.Errorf("%v: %s = %+v, want %+v", order, id, c, w)
			}
		}
		c := got["8815000000000001"]
		if wantAt := time.Date(2026, 11, 2, 9, 15, 2, 0, time.UTC); !c.Created.Equal(wantAt) {
			t.Errorf("created %v, want %v (10:15:02 CET)", c.Created, wantAt)
		}
		if c.Metadata["order_id"] != "order-1001" || c.Customer != "shopper-ann" || c.CardBrand != "visa" {
			t.Errorf("identity of %s: %+v", c.ID, c)
		}
		if len(sum.Bookings) != 2 || sum.Bookings[0].RefundPsp != "8815000000000202" || sum.Bookings[0].Amount != 1000 || sum.Bookings[0].Reversed {
			t.Errorf("refund bookings %+v", sum.Bookings)
		}
		if sum.LaterBookingsOnly != 1 || !sum.Identity || sum.AuthorisedOnly != 0 {
			t.Errorf("summary %+v: want 1 payment with later bookings only (the refund of 8815000000000009), identity, none authorised only", sum)
		}
	}
}

func TestOneReportAlone(t *testing.T) {
	received, sum, err := readFiles(t, testFile(t, "received_payment_details_2023.csv"))
	if err != nil {
		t.Fatal(err)
	}
	// Authorised with no settlement known: not money taken yet.
	if c := byID(received)["8815000000000003"]; c.Captured || c.Counts() || sum.AuthorisedOnly != 1 {
		t.Errorf("authorised-only payment %+v counts as taken (summary %+v)", c, sum)
	}
	settled, sum, err := readFiles(t, testFile(t, "settlement_details_pre2023.csv"))
	if err != nil {
		t.Fatal(err)
	}
	c := byID(settled)["8815000000000002"]
	if c.Amount != 4999 || c.AmountRefunded != 1000 || !c.Counts() || c.Email != "" || sum.Identity {
		t.Errorf("settlement-only payment %+v, summary %+v", c, sum)
	}
	if !c.Created.Equal(time.Date(2026, 11, 3, 1, 0, 1, 0, time.UTC)) {
		t.Errorf("settlement-only created %v: want its settlement booking", c.Created)
	}
}

func TestSniff(t *testing.T) {
	for name, want := range map[string]Report{
		"received_payment_details_pre2023.csv": ReceivedPaymentDetails,
		"received_payment_details_2023.csv":    ReceivedPaymentDetails,
		"settlement_details_pre2023.csv":       SettlementDetails,
		"settlement_details_2023.csv":          SettlementDetails,
	} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		if got := reportOf(reconcile.CSVHeaderRow(data)); got != want {
			t.Errorf("%s sniffed as %v, want %v", name, got, want)
		}
	}
	for _, head := range []string{"", "id,Amount,Currency\n", `{"object":"list"}`, "Psp Reference,Merchant Reference\n"} {
		if got := reportOf(reconcile.CSVHeaderRow([]byte(head))); got != 0 {
			t.Errorf("%q sniffed as %v", head, got)
		}
	}
}

const (
	rpdHeader = "Company Account,Merchant Account,Psp Reference,Merchant Reference,Payment Method,Creation Date,TimeZone,Currency,Amount,Type,Shopper Email\n"
	rpdRow    = "Co,Shop,8815000000000001,o-1,visa,2026-11-02 10:15:02,CET,EUR,49.99,Settled,a@example.com\n"
	sdrHeader = "Company Account,Merchant Account,Psp Reference,Merchant Reference,Payment Method,Creation Date,TimeZone,Type,Modification Reference,Gross Currency,Gross Debit (GC),Gross Credit (GC),Batch Number\n"
	sdrRow    = "Co,Shop,8815000000000001,o-1,visa,2026-11-03 02:00:00,CET,Settled,m1,EUR,,49.99,7\n"
)

// Hostile input: one sentence naming the file, the line and the field, and
// no charge emitted at all.
func TestHostileReports(t *testing.T) {
	for _, tc := range []struct {
		name, content string
		want          []string
	}{
		{"empty", "", []string{"in.csv is empty"}},
		{"header only", rpdHeader, []string{"in.csv holds a header row and no payments"}},
		{"not a report", "id,amount\nch_1,5\n", []string{"in.csv line 1", "not an Adyen report"}},
		{"no time zone column", strings.Replace(rpdHeader, "TimeZone", "Zone", 1) + rpdRow, []string{"in.csv line 1", "no TimeZone column"}},
		{"column twice", strings.Replace(rpdHeader, "Shopper Email", "Currency", 1) + rpdRow, []string{"line 1", `"Currency" twice`}},
		{"unknown zone", rpdHeader + strings.Replace(rpdRow, "CET", "Mars/Olympus", 1), []string{"in.csv line 2", ", TimeZone:", "Mars/Olympus"}},
		{"bad date", rpdHeader + strings.Replace(rpdRow, "2026-11-02 10:15:02", "02/11/2026", 1), []string{"line 2", ", Creation Date:"}},
		{"before Adyen", rpdHeader + strings.Replace(rpdRow, "2026-11-02", "1999-11-02", 1), []string{"in.csv line 2", "before Adyen existed"}},
		{"over the maximum", rpdHeader + strings.Replace(rpdRow, "49.99", "1000000.00", 1), []string{"in.csv line 2", "Adyen charge 8815000000000001: amount 100000000 (1000000.00 EUR) is more than 99999999 minor units, doublecheck's maximum for an Adyen charge"}},
		{"future", rpdHeader + strings.Replace(rpdRow, "2026-11-02", "2027-11-02", 1), []string{"line 2", "in the future"}},
		{"too many decimals", rpdHeader + strings.Replace(rpdRow, "49.99", "49.999", 1), []string{"line 2", ", Amount:", "EUR has 2"}},
		{"unquoted thousands", rpdHeader + strings.Replace(rpdRow, "49.99", "1,049.99", 1), []string{"in.csv line 2", "fields, but the header has"}},
		{"unknown status", rpdHeader + strings.Replace(rpdRow, "Settled", "Teleported", 1), []string{"line 2", ", Type:", "Teleported"}},
		{"empty psp", rpdHeader + strings.Replace(rpdRow, "8815000000000001", "", 1), []string{"line 2", ", Psp Reference:", "empty"}},
		{"psp not a reference", rpdHeader + strings.Replace(rpdRow, "8815000000000001", "<script>", 1), []string{"line 2", ", Psp Reference:"}},
		{"currency", rpdHeader + strings.Replace(rpdRow, "EUR", "EURO", 1), []string{"line 2", ", Currency:"}},
		{"conflicting repeat", rpdHeader + rpdRow + strings.Replace(rpdRow, "49.99", "59.99", 1), []string{"line 3", "also on in.csv line 2"}},
		{"invalid utf-8", rpdHeader + strings.Replace(rpdRow, "o-1", "o-\xff", 1), []string{"line 2", ", Merchant Reference:", "UTF-8"}},
		{"bare quote", rpdHeader + strings.Replace(rpdRow, "o-1", `o"1`, 1), []string{"in.csv line 2"}},
		{"unknown record type", sdrHeader + strings.Replace(sdrRow, "Settled", "Magic", 1), []string{"line 2", ", Type:", "Magic", "nothing was imported"}},
		{"settled without credit", sdrHeader + strings.Replace(sdrRow, ",49.99,", ",,", 1), []string{"line 2", ", Gross Credit (GC):"}},
		{"negative credit", sdrHeader + strings.Replace(sdrRow, "49.99", "-49.99", 1), []string{"line 2", "negative"}},
		{"refund over settled", sdrHeader + sdrRow + "Co,Shop,8815000000000001,o-1,visa,2026-11-03 03:00:00,CET,Refunded,m2,EUR,99.00,,7\n" + sdrRow, []string{"in.csv line 2", "more than its 49.99 EUR authorised"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			emitted := 0
			_, err := ReadReports([]File{inline("in.csv", tc.content)}, Options{Now: testNow}, func(*reconcile.ChargeRecord) error {
				emitted++
				return nil
			})
			if err == nil {
				t.Fatalf("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Count(err.Error(), "\n") > 0 {
				t.Errorf("error is not one sentence: %q", err)
			}
			if emitted != 0 {
				t.Errorf("%d charges emitted before the error", emitted)
			}
		})
	}
}

// A booking in both an aggregated and a batch report counts once.
func TestOverlappingSettlementReports(t *testing.T) {
	refund := "Co,Shop,8815000000000001,o-1,visa,2026-11-03 03:00:00,CET,Refunded,m2,EUR,10.00,,7\n"
	charges, _, err := readFiles(t, inline("a.csv", sdrHeader+sdrRow+refund), inline("b.csv", sdrHeader+refund))
	if err != nil {
		t.Fatal(err)
	}
	if len(charges) != 1 || charges[0].AmountRefunded != 1000 {
		t.Errorf("charges %+v: want one with 10.00 refunded", charges)
	}
}

func TestZone(t *testing.T) {
	for _, tc := range []struct {
		name           string
		winter, summer int // offsets east of UTC, in seconds, on 15 January and 15 July
	}{
		// The zones with daylight saving time: Adyen's sample report labels
		// a row of 3 June "CET", so CET names the zone, not its winter offset.
		{"CET", 3600, 7200}, {"cet", 3600, 7200}, {"EET", 7200, 10800}, {"WET", 0, 3600}, {"MET", 3600, 7200},
		{"Europe/Amsterdam", 3600, 7200},
		// An abbreviation of one side of the year names that offset.
		{"CEST", 7200, 7200}, {"UTC", 0, 0}, {"PST", -8 * 3600, -8 * 3600}, {"EDT", -4 * 3600, -4 * 3600},
	} {
		loc, err := Zone(tc.name)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if _, off := time.Date(2026, 1, 15, 12, 0, 0, 0, loc).Zone(); off != tc.winter {
			t.Errorf("%s in January: offset %d, want %d", tc.name, off, tc.winter)
		}
		if _, off := time.Date(2026, 7, 15, 12, 0, 0, 0, loc).Zone(); off != tc.summer {
			t.Errorf("%s in July: offset %d, want %d", tc.name, off, tc.summer)
		}
	}
	for _, name := range []string{"", "XYZ", "Europe/Atlantis"} {
		if _, err := Zone(name); err == nil {
			t.Errorf("zone %q accepted", name)
		}
	}
}

// A report's rows labelled CET, one in summer (as Adyen's own sample row of
// 2013-06-03) and one in winter, read as Central European summer and winter
// time.
func TestReportCETRowsSummerAndWinter(t *testing.T) {
	for _, tc := range []struct {
		created string
		want    time.Time
	}{
		{"2013-06-03 11:26:49", time.Date(2013, 6, 3, 9, 26, 49, 0, time.UTC)},
		{"2013-12-03 11:26:49", time.Date(2013, 12, 3, 10, 26, 49, 0, time.UTC)},
	} {
		row := strings.Replace(rpdRow, "2026-11-02 10:15:02", tc.created, 1)
		var got []reconcile.Charge
		_, err := ReadReports([]File{inline("in.csv", rpdHeader+row)}, Options{Now: testNow}, func(rec *reconcile.ChargeRecord) error {
			got = append(got, rec.Charge)
			return nil
		})
		if err != nil || len(got) != 1 {
			t.Fatalf("%s: %d charges, %v", tc.created, len(got), err)
		}
		if !got[0].Created.Equal(tc.want) {
			t.Errorf("%s CET read as %s, want %s", tc.created, got[0].Created.UTC(), tc.want)
		}
	}
}

// The sandbox's reports, in both layouts, read to the same charges; the
// second payment of authorised_only is not money taken.
func TestSandboxReports(t *testing.T) {
	sb := sandbox.NewAdyen(sandbox.AdyenOptions{})
	var layouts [][]reconcile.Charge
	for _, layout := range []sandbox.ReportLayout{sandbox.LayoutPre2023, sandbox.Layout2023} {
		var rpd, sdr bytes.Buffer
		if err := sb.WriteReceivedPaymentDetails(&rpd, layout); err != nil {
			t.Fatal(err)
		}
		if err := sb.WriteSettlementDetails(&sdr, layout); err != nil {
			t.Fatal(err)
		}
		charges, sum, err := readFiles(t, File{R: &rpd, Name: "rpd.csv"}, File{R: &sdr, Name: "sdr.csv"})
		if err != nil {
			t.Fatal(err)
		}
		if sum.Payments != len(sb.Payments()) || !sum.Identity {
			t.Errorf("summary %+v for %d payments", sum, len(sb.Payments()))
		}
		layouts = append(layouts, charges)
	}
	if !reflect.DeepEqual(layouts[0], layouts[1]) {
		t.Errorf("the two layouts read differently")
	}
	got := byID(layouts[0])
	for _, p := range sb.Payments() {
		c := got[p.Psp]
		wantCounts := p.Status == "Settled"
		if c.Counts() != wantCounts || c.AmountRefunded != p.Refunded || c.Email != p.ShopperEmail {
			t.Errorf("%s (%s %s): %+v", p.Psp, p.Scenario, p.Status, c)
		}
	}
}

// Reports imported one per run, each emitted onto what the runs before
// stored: in either order the payment keeps its Received payment details
// identity and creation time and its Settlement details bookings, and a
// booking imported twice counts once.
func TestReportsAddToStored(t *testing.T) {
	received := rpdHeader + rpdRow
	settlement := sdrHeader + sdrRow + "Co,Shop,8815000000000001,o-1,visa,2026-11-04 03:00:00,CET,Refunded,m2,EUR,10.00,,8\n"
	run := func(stored map[string][]byte, content string) (reconcile.Charge, map[string][]byte) {
		t.Helper()
		r, err := Read([]File{inline("in.csv", content)}, Options{Now: testNow})
		if err != nil {
			t.Fatal(err)
		}
		var got []reconcile.Charge
		_, err = r.Emit(func([]string) (map[string][]byte, error) { return stored, nil }, func(rec *reconcile.ChargeRecord) error {
			got = append(got, rec.Charge)
			return nil
		})
		if err != nil || len(got) != 1 {
			t.Fatalf("%d charges, %v", len(got), err)
		}
		return got[0], map[string][]byte{got[0].ID: got[0].Raw}
	}
	wantCreated := time.Date(2026, 11, 2, 9, 15, 2, 0, time.UTC)
	for name, order := range map[string][]string{
		"received first":              {received, settlement},
		"settlement first":            {settlement, received},
		"settlement twice":            {received, settlement, settlement},
		"settlement first, then both": {settlement, received, settlement},
	} {
		var c reconcile.Charge
		var stored map[string][]byte
		for _, content := range order {
			c, stored = run(stored, content)
		}
		if !c.Created.Equal(wantCreated) || c.Email != "a@example.com" || c.AmountRefunded != 1000 || c.Amount != 4999 ||
			!c.Captured || c.Metadata["merchant_reference"] != "o-1" {
			t.Errorf("%s: %s created %s, email %q, %d of %d refunded, captured %t, metadata %v", name, c.ID,
				c.Created, c.Email, c.AmountRefunded, c.Amount, c.Captured, c.Metadata)
		}
	}
	r, err := Read([]File{inline("in.csv", settlement)}, Options{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Emit(func([]string) (map[string][]byte, error) {
		return map[string][]byte{"8815000000000001": []byte(`{"transaction_detail":`)}, nil
	}, func(*reconcile.ChargeRecord) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "stored record of Adyen payment 8815000000000001 is unreadable") {
		t.Errorf("an unreadable stored record: %v", err)
	}
}
