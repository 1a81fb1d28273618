package reconcile

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestReportSaysWhoseDataItIs: scan output names the account and its mode, so a
// live account's report is never mistaken for a test one.
func TestReportSaysWhoseDataItIs(t *testing.T) {
	for _, tc := range []struct {
		account   string
		live      bool
		wantTable string
	}{
		{"Acme Books", true, "Acme Books · LIVE mode"},
		{"Acme Books", false, "Acme Books · TEST mode"},
		{"", false, ""},
	} {
		r := Detect(Input{}, DefaultOptions())
		r.Account, r.Live = tc.account, tc.live
		var js bytes.Buffer
		if err := WriteJSON(&js, r); err != nil {
			t.Fatal(err)
		}
		var got struct {
			Summary struct {
				Account  string `json:"account"`
				Livemode bool   `json:"livemode"`
			} `json:"summary"`
		}
		if err := json.Unmarshal(js.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		if got.Summary.Account != tc.account || got.Summary.Livemode != tc.live {
			t.Errorf("JSON summary says %q live=%v, want %q live=%v", got.Summary.Account, got.Summary.Livemode, tc.account, tc.live)
		}
		var table bytes.Buffer
		if err := WriteTable(&table, r); err != nil {
			t.Fatal(err)
		}
		first, _, _ := strings.Cut(table.String(), "\n")
		if tc.wantTable != "" && first != tc.wantTable {
			t.Errorf("table starts %q, want %q", first, tc.wantTable)
		}
		if tc.wantTable == "" && strings.Contains(table.String(), "mode") {
			t.Errorf("a report without an account claims a mode: %q", table.String())
		}
	}
}

func TestFormatTotals(t *testing.T) {
	for _, tc := range []struct {
		totals map[string]int64
		want   string
	}{
		{map[string]int64{"usd": 4999, "eur": 12000, "jpy": 3000}, "120.00 EUR · 3000 JPY · 49.99 USD"},
		{map[string]int64{"kwd": 1500}, "1.500 KWD"},
		{map[string]int64{}, ""},
	} {
		if got := FormatTotals(tc.totals, " · "); got != tc.want {
			t.Errorf("FormatTotals(%v) = %q, want %q", tc.totals, got, tc.want)
		}
	}
}
