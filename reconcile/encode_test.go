package reconcile

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestFormatAmount(t *testing.T) {
	cases := []struct {
		minor    int64
		currency string
		want     string
		money    string
	}{
		{2000, "usd", "20.00", "20.00 USD"},
		{5, "usd", "0.05", "0.05 USD"},
		{0, "eur", "0.00", "0.00 EUR"},
		{-1999, "usd", "-19.99", "-19.99 USD"},
		{2000, "jpy", "2000", "2000 JPY"},
		{2000, "JPY", "2000", "2000 JPY"},
		{150, "krw", "150", "150 KRW"},
		{1500, "kwd", "1.500", "1.500 KWD"},
		{7, "bhd", "0.007", "0.007 BHD"},
		{123456789, "xof", "123456789", "123456789 XOF"},
		{math.MinInt64, "usd", "-92233720368547758.08", "-92233720368547758.08 USD"},
	}
	for _, tc := range cases {
		if got := FormatAmount(tc.minor, tc.currency); got != tc.want {
			t.Errorf("FormatAmount(%d, %s) = %q, want %q", tc.minor, tc.currency, got, tc.want)
		}
		if got := FormatMoney(tc.minor, tc.currency); got != tc.money {
			t.Errorf("FormatMoney(%d, %s) = %q, want %q", tc.minor, tc.currency, got, tc.money)
		}
	}
}

func TestRefundKey(t *testing.T) {
	tests := []struct {
		name           string
		charge         string
		before, amount int64
		want           string
	}{
		{"whole charge", "ch_3Abc", 0, 2000, "doublecheck-refund-ch_3Abc-0-2000"},
		{"the rest after a part", "ch_3Abc", 1000, 1000, "doublecheck-refund-ch_3Abc-1000-1000"},
	}
	for _, tc := range tests {
		if got := RefundKey(tc.charge, tc.before, tc.amount); got != tc.want {
			t.Errorf("%s: RefundKey = %q, want %q", tc.name, got, tc.want)
		}
	}
	// Two equal parts of one charge are two refunds; the same part asked twice is one.
	if RefundKey("ch_1", 0, 1000) == RefundKey("ch_1", 1000, 1000) || RefundKey("ch_1", 0, 100) == RefundKey("ch_1", 0, 1000) ||
		RefundKey("ch_1", 0, 100) != RefundKey("ch_1", 0, 100) {
		t.Error("RefundKey must be deterministic per charge, amount refunded before and amount")
	}
}

func TestHumanDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		41 * time.Second: "41 s", 4*time.Minute + 10*time.Second: "4 min 10 s", 7 * time.Minute: "7 min",
		26*time.Hour + 5*time.Minute: "26 h", 5 * 24 * time.Hour: "5 d", -3 * time.Second: "3 s",
	} {
		if got := HumanDuration(d); got != want {
			t.Errorf("HumanDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestMatches(t *testing.T) {
	r := Detect(Input{
		Charges: []Charge{charge("ch_a", 0, email("Ann@Example.com"), order("O-77"), card("fp")), charge("ch_b", time.Minute, card("fp"))},
		Keys:    []KeyRecord{eventKey("checkout-9f", "ch_b")},
	}, DefaultOptions())
	g := onlyGroup(t, r)
	for q, want := range map[string]bool{
		"": true, "ann@example": true, "EXAMPLE.COM": true, "cus_1": true, "CH_B": true, "o-77": true,
		"checkout-9F": true, "  ch_a ": true, "bob": false, "eur": false,
		// What the dashboard shows: the group id, the card, the amount as typed
		// and the money at risk.
		g.ID: true, "grp_": true, "4242": true, "visa 4242": true, "…4242": true, "VISA …4242": true, "••••4242": true,
		"visa 4243": false, "mastercard": false,
		FormatAmount(g.Amount, g.Currency): true, FormatMoney(g.Amount, g.Currency): true, "usd": true,
		// Its cause and headline (the REASON column), and amounts as people
		// write them.
		string(g.Cause): true, g.Headline(): true, "$" + FormatAmount(g.Amount, g.Currency): true,
	} {
		if got := g.Matches(q); got != want {
			t.Errorf("Matches(%q) = %v, want %v", q, got, want)
		}
	}
}

// TestSearchQuery: amounts typed with a currency symbol or thousands
// separators search as the dashboard writes them.
func TestSearchQuery(t *testing.T) {
	for typed, want := range map[string]string{
		"$95.45": "95.45", "€1,234.50": "1234.50", "51,000 JPY": "51000 jpy", "1,2": "1,2", " Visa 4242 ": "visa 4242",
	} {
		if got := SearchQuery(typed); got != want {
			t.Errorf("SearchQuery(%q) = %q, want %q", typed, got, want)
		}
	}
}

// TestAtRisk: a group puts at risk what is left to refund on each duplicate,
// not the amount of one charge; nothing once resolved or dismissed.
func TestAtRisk(t *testing.T) {
	three := []Charge{charge("ch_a", 0, amount(11345)), charge("ch_b", time.Minute, amount(11345)), charge("ch_c", 2*time.Minute, amount(11345))}
	partly := append([]Charge{}, three...)
	partly[2].AmountRefunded = 5000
	tests := []struct {
		name    string
		charges []Charge
		dismiss bool
		want    int64
	}{
		{"three charges of 113.45", three, false, 22690},
		{"one duplicate partly refunded", partly, false, 11345 + 6345},
		{"dismissed", three, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Input{Charges: tt.charges}
			if tt.dismiss {
				in.Decisions = []Decision{{GroupID: "grp_a", Kind: DecisionDismissed, At: time.Now()}}
			}
			g := onlyGroup(t, Detect(in, DefaultOptions()))
			if got := g.AtRisk(); got != tt.want {
				t.Errorf("AtRisk() = %d, want %d", got, tt.want)
			}
		})
	}
}

// sampleReport has one group with customer-controlled text that looks like
// formulas, a resolved decision, and one finding of each kind.
func sampleReport(t *testing.T) Report {
	t.Helper()
	in := Input{
		Charges: []Charge{
			charge("ch_a", 0, email("=HYPERLINK(\"http://x\")"), customer("+cus"), card("fp")),
			charge("ch_b", 30*time.Second, email("@evil"), customer("+cus"), card("fp"), refunded(500)),
			charge("ch_c", 40*time.Hour, customer("cus_j"), currency("jpy"), amount(3000), order("-5")),
			charge("ch_d", 41*time.Hour, customer("cus_k"), currency("jpy"), amount(1000), order("-5")),
		},
		Keys: []KeyRecord{
			{Key: "\tk-tab", ChargeID: "ch_a", Sources: []string{SourceEvent, SourceLog}},
			{Key: "lost", OrderRef: "\ro-1", Sources: []string{SourceLog}, SeenAt: time.Date(2026, 11, 2, 3, 4, 5, 0, time.FixedZone("CET", 3600))},
		},
		Requests: bare("ch_b"),
		Refunds: []RefundIntent{{
			RefundRequest: RefundRequest{ChargeID: "ch_b", Amount: 500, Currency: "usd"}, Status: RefundSucceeded, RefundID: "re_1", Operator: "ann", CreatedAt: t0, FinishedAt: t0.Add(time.Second),
		}},
	}
	opts := DefaultOptions()
	opts.ListChargesWithoutKey = true
	return Detect(in, opts)
}

func TestWriteJSON(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJSON(&buf, sampleReport(t)); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, buf.String())
	}
	keysOf := func(m map[string]any) []string {
		var ks []string
		for k := range m {
			ks = append(ks, k)
		}
		slices.Sort(ks)
		return ks
	}
	if got := keysOf(doc); !slices.Equal(got, []string{"findings", "groups", "summary"}) {
		t.Fatalf("top-level keys %v", got)
	}
	g := doc["groups"].([]any)[0].(map[string]any)
	if got, want := keysOf(g), []string{"amount", "cause", "charges", "confidence", "currency", "id", "identity", "provider", "reasons", "status"}; !slices.Equal(got, want) {
		t.Errorf("group keys %v, want %v", got, want)
	}
	c := g["charges"].([]any)[1].(map[string]any)
	wantCharge := []string{"amount", "amount_refunded", "card_last4", "created", "customer", "decision", "disputed", "email", "id", "idempotency_key", "key_evidence", "order_ref", "provider", "role"}
	if got := keysOf(c); !slices.Equal(got, wantCharge) {
		t.Errorf("charge keys %v, want %v", got, wantCharge)
	}
	if g["id"] != "grp_a" || g["provider"] != "stripe" || g["amount"] != 2000.0 || g["currency"] != "usd" || g["status"] != "open" {
		t.Errorf("group %v", g)
	}
	if c["id"] != "ch_b" || c["provider"] != "stripe" || c["role"] != "duplicate" || c["created"] != "2026-11-01T12:00:30Z" || c["amount_refunded"] != 500.0 || c["decision"] != "refunded" {
		t.Errorf("charge %v", c)
	}
	f := doc["findings"].([]any)[0].(map[string]any)
	if f["kind"] != KindKeyWithoutCharge || f["created"] != "2026-11-02T02:04:05Z" {
		t.Errorf("finding %v (created must be RFC 3339 UTC)", f)
	}
	s := doc["summary"].(map[string]any)
	if s["groups"] != 1.0 || s["charges"] != 4.0 {
		t.Errorf("summary %v", s)
	}
	cur := s["by_currency"].([]any)[0].(map[string]any)
	if cur["currency"] != "usd" || cur["at_risk"] != 1500.0 || cur["refunded_by_us"] != 500.0 {
		t.Errorf("by currency %v", cur)
	}

	var empty bytes.Buffer
	if err := WriteJSON(&empty, Detect(Input{}, DefaultOptions())); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(empty.String(), `"groups": []`) || !strings.Contains(empty.String(), `"findings": []`) {
		t.Errorf("an empty report must have empty arrays, not null:\n%s", empty.String())
	}
}

func TestWriteCSV(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteCSV(&buf, sampleReport(t)); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rows[0], CSVHeader) {
		t.Fatalf("header %v", rows[0])
	}
	// Consumers that read the original columns by position keep working: the
	// provider column was appended.
	original := []string{"kind", "group_id", "confidence", "status", "cause", "role", "charge_id", "created_utc",
		"customer", "email", "card_last4", "amount", "currency", "amount_refunded",
		"idempotency_key", "key_sources", "order_ref", "decision", "refund_id", "operator",
		"decided_at", "reasons"}
	if !slices.Equal(CSVHeader[:len(original)], original) || CSVHeader[len(CSVHeader)-1] != "provider" {
		t.Errorf("header %v: the original columns must come first, in order, and provider last", CSVHeader)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	// 2 group rows; key_without_charge, order_with_multiple_charges, charge_without_key ×4.
	var kinds []string
	for _, r := range rows[1:] {
		kinds = append(kinds, r[col["kind"]])
	}
	want := []string{"duplicate", "duplicate", KindKeyWithoutCharge, KindOrderMultiCharge, KindChargeWithoutKey, KindChargeWithoutKey, KindChargeWithoutKey}
	if !slices.Equal(kinds, want) {
		t.Errorf("kinds %v, want %v", kinds, want)
	}
	keep, dup := rows[1], rows[2]
	checks := []struct {
		row       []string
		column    string
		want      string
		neutralOK bool
	}{
		{keep, "email", `'=HYPERLINK("http://x")`, true},
		{keep, "customer", "'+cus", true},
		{keep, "idempotency_key", "'\tk-tab", true},
		{keep, "key_sources", "event log", false},
		{keep, "role", "keep", false},
		{keep, "created_utc", "2026-11-01T12:00:00Z", false},
		{keep, "amount", "20.00", false},
		{keep, "currency", "USD", false},
		{dup, "email", "'@evil", true},
		{dup, "amount_refunded", "5.00", false},
		{dup, "decision", "refunded", false},
		{dup, "refund_id", "re_1", false},
		{dup, "operator", "ann", false},
		{dup, "decided_at", "2026-11-01T12:00:01Z", false},
		{dup, "group_id", "grp_a", false},
		{dup, "card_last4", "4242", false},
		{dup, "provider", "stripe", false},
		{rows[3], "provider", "", false}, // a key without a charge: no provider known
		{rows[3], "order_ref", "'\ro-1", true},
		{rows[3], "created_utc", "2026-11-02T02:04:05Z", false},
		{rows[4], "order_ref", "'-5", true},
		{rows[4], "charge_id", "ch_c ch_d", false},
		{rows[4], "amount", "4000", false},
		{rows[4], "currency", "JPY", false},
		{rows[4], "provider", "stripe", false},
	}
	for _, c := range checks {
		if got := c.row[col[c.column]]; got != c.want {
			t.Errorf("%s = %q, want %q", c.column, got, c.want)
		}
	}
	if !strings.Contains(dup[col["reasons"]], "2 charges in 30 s") {
		t.Errorf("reasons %q", dup[col["reasons"]])
	}
}

func TestNeutralizeCell(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"=1+2", "'=1+2"},
		{"+1", "'+1"},
		{"-1", "'-1"},
		{"-5.00", "'-5.00"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\tx", "'\tx"},
		{"\rx", "'\rx"},
		{"a=b", "a=b"},
		{"", ""},
		{"20.00", "20.00"},
		{"   ", "   "},
		// Behind leading spaces and invisible characters.
		{" =x", "' =x"},
		{"  +1", "'  +1"},
		{"\n=x", "'\n=x"},
		{" \t x", "' \t x"},
		{"\u200b=HYPERLINK(\"x\")", "'\u200b=HYPERLINK(\"x\")"},
		{"\u200c\u200d-1", "'\u200c\u200d-1"},
		{"\ufeff@x", "'\ufeff@x"},
		{"\u2060+1", "'\u2060+1"},
		{"\u00a0=x", "'\u00a0=x"},
		{"\u3000=x", "'\u3000=x"},
		// Behind control characters, combining marks, variation selectors,
		// default-ignorable and blank characters.
		{"\u3164=x", "'\u3164=x"},
		{"\uffa0=x", "'\uffa0=x"},
		{"\u2800=x", "'\u2800=x"},
		{"\u034f=x", "'\u034f=x"},
		{"\ufe0f=x", "'\ufe0f=x"},
		{"\u0301=x", "'\u0301=x"},
		{"\x00=x", "'\x00=x"},
		{"\x1b=x", "'\x1b=x"},
		{"\x7f=x", "'\x7f=x"},
		{"\u0080=x", "'\u0080=x"},
		{"\U000E0100+1", "'\U000E0100+1"},
		{"\u0301a", "\u0301a"},
		// Full-width and small forms.
		{"＝1+2", "'＝1+2"},
		{"＋1", "'＋1"},
		{"－1", "'－1"},
		{"＠SUM(A1)", "'＠SUM(A1)"},
		{"\ufe66x", "'\ufe66x"},
		{"\u2212 1", "'\u2212 1"},
		{" \u200b＝x", "' \u200b＝x"},
		// Visible text first: untouched.
		{" a=b", " a=b"},
		{"\u200bab", "\u200bab"},
		{"ＡＢ", "ＡＢ"},
		{"cus_1 =x", "cus_1 =x"},
	} {
		if got := neutralizeCell(tc.in); got != tc.want {
			t.Errorf("neutralizeCell(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestWriteCSVNegativeAmountIsNeutralised(t *testing.T) {
	r := Report{Groups: []Group{{ID: "grp_x", Currency: "usd", Verdict: Verdict{Reasons: []string{"r"}},
		Charges: []Member{{Charge: Charge{ID: "ch_x", Amount: -500, Currency: "usd"}, Role: Keep}}}}}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, r); err != nil {
		t.Fatal(err)
	}
	rows, _ := csv.NewReader(&buf).ReadAll()
	if got := rows[1][slices.Index(CSVHeader, "amount")]; got != "'-5.00" {
		t.Errorf("amount %q, want '-5.00", got)
	}
}

func TestWriteTable(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteTable(&buf, sampleReport(t)); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"GROUP", "grp_a", "20.00 USD", "+cus", "2 charges in 30 s, 1 of 2 charges without an idempotency key", "USD", "15.00", "5.00",
		"4 charges, 1 group: 1 open", "causes: no_key 1", "findings: charge_without_key 3, key_without_charge 1, order_with_multiple_charges 1"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	lines := strings.Split(out, "\n")
	if h, row := lines[0], lines[1]; strings.Index(h, "STATUS") != strings.Index(row, "open") {
		t.Errorf("columns not aligned:\n%s\n%s", h, row)
	}

	buf.Reset()
	if err := WriteTable(&buf, Detect(Input{}, DefaultOptions())); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), "No suspected duplicates.") {
		t.Errorf("empty table:\n%s", buf.String())
	}
}

func TestWritersAcceptHandMadeGroups(t *testing.T) {
	// Other packages build reports by hand (UI tests, exports of a filtered view).
	r := Report{Groups: []Group{{ID: "grp_x", Currency: "usd"}}}
	for name, write := range map[string]func(*bytes.Buffer) error{
		"table": func(b *bytes.Buffer) error { return WriteTable(b, r) },
		"csv":   func(b *bytes.Buffer) error { return WriteCSV(b, r) },
		"json":  func(b *bytes.Buffer) error { return WriteJSON(b, r) },
	} {
		var buf bytes.Buffer
		if err := write(&buf); err != nil || !strings.Contains(buf.String(), "grp_x") && name != "csv" {
			t.Errorf("%s: %v\n%s", name, err, buf.String())
		}
	}
}

func TestWriteTableStripsControlCharacters(t *testing.T) {
	r := Detect(Input{Charges: []Charge{
		charge("ch_a", 0, customer("cus\x1b[31mred\nx")), charge("ch_b", time.Second, customer("cus\x1b[31mred\nx")),
	}}, DefaultOptions())
	var buf bytes.Buffer
	if err := WriteTable(&buf, r); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsRune(buf.String(), '\x1b') || !strings.Contains(buf.String(), "cus [31mred x") {
		t.Errorf("control characters reached the table:\n%q", buf.String())
	}
}

// TestReceivedRefundIsReportedApart: a refund the provider received and has
// not confirmed leaves its group "received", not "resolved", in every output,
// until the provider confirms it (or its own figure for the charge shows it).
func TestReceivedRefundIsReportedApart(t *testing.T) {
	at := t0.Add(time.Hour)
	ad := provider(ProviderAdyen)
	refund := func(st RefundStatus) []RefundIntent {
		return []RefundIntent{{RefundRequest: RefundRequest{Key: RefundKey("ch_b", 0, 2000), ChargeID: "ch_b", Amount: 2000, Currency: "usd", Provider: ProviderAdyen},
			Status: st, RefundID: "psp_8835", Operator: "ann", CreatedAt: at, FinishedAt: at}}
	}
	cases := []struct {
		name      string
		dup       Charge
		refunds   []RefundIntent
		status    Status
		decision  string
		summary   func(s Summary) int
		tableLine string
	}{
		{"received, not confirmed", charge("ch_b", time.Minute, ad), refund(RefundReceived), Received, "received",
			func(s Summary) int { return s.Received }, "1 group with refunds received by the provider and not confirmed yet"},
		{"confirmed", charge("ch_b", time.Minute, ad), refund(RefundSucceeded), Resolved, "refunded",
			func(s Summary) int { return s.Resolved }, "1 resolved"},
		{"the provider's own figure shows it refunded", charge("ch_b", time.Minute, ad, refunded(2000)), refund(RefundReceived), Resolved, "received",
			func(s Summary) int { return s.Resolved }, "1 resolved"},
		{"refused on confirmation", charge("ch_b", time.Minute, ad), refund(RefundFailed), Open, "refund_failed",
			func(s Summary) int { return s.Open }, "1 open"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := Detect(Input{Charges: []Charge{charge("ch_a", 0, ad), tc.dup}, Refunds: tc.refunds}, DefaultOptions())
			g := onlyGroup(t, r)
			if g.Status != tc.status || tc.summary(r.Summary) != 1 {
				t.Errorf("status %s, summary %+v; want %s counted once", g.Status, r.Summary, tc.status)
			}
			if unsettled := tc.status == Received || tc.status == Open; g.Unsettled() != unsettled || g.NeedsAction() != (tc.status == Open) {
				t.Errorf("Unsettled %v NeedsAction %v for a %s group", g.Unsettled(), g.NeedsAction(), g.Status)
			}

			var js bytes.Buffer
			if err := WriteJSON(&js, r); err != nil {
				t.Fatal(err)
			}
			var doc struct {
				Groups []struct {
					Status   string
					Provider string
					Charges  []struct{ Decision, Provider string }
				}
				Summary struct {
					Received   int
					ByCurrency []struct {
						RefundedByUs         int64 `json:"refunded_by_us"`
						AwaitingConfirmation int64 `json:"awaiting_confirmation"`
					} `json:"by_currency"`
				}
			}
			if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			jg := doc.Groups[0]
			if jg.Status != string(tc.status) || jg.Provider != "adyen" || jg.Charges[1].Decision != tc.decision || jg.Charges[1].Provider != "adyen" {
				t.Errorf("JSON group %+v, want status %s, decision %s, provider adyen", jg, tc.status, tc.decision)
			}
			wantReceived, wantAwaiting, wantRefunded := 0, int64(0), int64(0)
			switch tc.refunds[0].Status {
			case RefundReceived:
				wantAwaiting = 2000
				if tc.status == Received {
					wantReceived = 1
				}
			case RefundSucceeded:
				wantRefunded = 2000
			}
			if cur := doc.Summary.ByCurrency[0]; doc.Summary.Received != wantReceived || cur.AwaitingConfirmation != wantAwaiting || cur.RefundedByUs != wantRefunded {
				t.Errorf("JSON summary %+v, want received %d, awaiting %d, refunded by us %d", doc.Summary, wantReceived, wantAwaiting, wantRefunded)
			}

			var cs bytes.Buffer
			if err := WriteCSV(&cs, r); err != nil {
				t.Fatal(err)
			}
			rows, err := csv.NewReader(&cs).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			col := map[string]int{}
			for i, h := range rows[0] {
				col[h] = i
			}
			wantRefundID := "psp_8835"
			if tc.refunds[0].Status == RefundFailed {
				wantRefundID = ""
			}
			if dup := rows[2]; dup[col["status"]] != string(tc.status) || dup[col["decision"]] != tc.decision || dup[col["provider"]] != "adyen" || dup[col["refund_id"]] != wantRefundID {
				t.Errorf("CSV row %v, want status %s, decision %s, refund id %q, provider adyen", dup, tc.status, tc.decision, wantRefundID)
			}

			var tb bytes.Buffer
			if err := WriteTable(&tb, r); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(tb.String(), tc.tableLine) || !strings.Contains(strings.Split(tb.String(), "\n")[1], " "+string(tc.status)+" ") {
				t.Errorf("table lacks status %s or %q:\n%s", tc.status, tc.tableLine, tb.String())
			}
		})
	}
}

// TestWriteTableNamesProvidersOnlyWhenMixed: scan's table gains a PROVIDER
// column only for a store holding charges of more than one provider.
func TestWriteTableNamesProvidersOnlyWhenMixed(t *testing.T) {
	pp := provider(ProviderPayPal)
	cases := []struct {
		name    string
		charges []Charge
		column  bool
	}{
		{"Stripe only", []Charge{charge("ch_a", 0), charge("ch_b", time.Minute)}, false},
		{"PayPal only", []Charge{charge("ch_a", 0, pp), charge("ch_b", time.Minute, pp)}, false},
		{"Stripe and PayPal", []Charge{charge("ch_a", 0), charge("ch_b", time.Minute), charge("ch_c", time.Hour, pp, customer("cus_2")), charge("ch_d", time.Hour+time.Minute, pp, customer("cus_2"))}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteTable(&buf, Detect(Input{Charges: tc.charges}, DefaultOptions())); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			if got := strings.HasPrefix(out, "PROVIDER"); got != tc.column {
				t.Errorf("PROVIDER column %v, want %v:\n%s", got, tc.column, out)
			}
			if tc.column && (!strings.Contains(out, "\nstripe ") || !strings.Contains(out, "\npaypal ")) {
				t.Errorf("rows do not name their provider:\n%s", out)
			}
		})
	}
}
