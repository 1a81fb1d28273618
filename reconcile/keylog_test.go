package reconcile

import (
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

func TestReadKeyLog(t *testing.T) {
	at := time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)
	cases := []struct {
		name string
		file string
		want []KeyRecord
	}{
		{name: "csv with every column",
			file: "idempotency_key,order_ref,charge_id,created_at\nk-1,o-1,ch_1,2026-11-20T10:30:00+01:00\nk-2,o-2,,\n",
			want: []KeyRecord{
				{Key: "k-1", OrderRef: "o-1", ChargeID: "ch_1", SeenAt: at, Sources: []string{SourceLog}},
				{Key: "k-2", OrderRef: "o-2", Sources: []string{SourceLog}},
			}},
		{name: "csv columns in any order, any case, with a BOM and extra columns",
			file: "\ufeffOrder_Ref, note ,IDEMPOTENCY_KEY\r\no-1,hello,k-1\r\n",
			want: []KeyRecord{{Key: "k-1", OrderRef: "o-1", Sources: []string{SourceLog}}}},
		{name: "jsonl",
			file: "\n  {\"idempotency_key\":\"k-1\",\"order_ref\":\"o-1\",\"charge_id\":\"ch_1\",\"created_at\":\"2026-11-20T09:30:00Z\"}\n\n{\"idempotency_key\":\"k-2\",\"extra\":1}\n",
			want: []KeyRecord{
				{Key: "k-1", OrderRef: "o-1", ChargeID: "ch_1", SeenAt: at, Sources: []string{SourceLog}},
				{Key: "k-2", Sources: []string{SourceLog}},
			}},
		{name: "an Adyen payment's Psp Reference as the charge",
			file: "idempotency_key,order_ref,charge_id\nk-1,o-1,8815000000000001\n",
			want: []KeyRecord{{Key: "k-1", OrderRef: "o-1", ChargeID: "8815000000000001", Sources: []string{SourceLog}}}},
		{name: "header only", file: "idempotency_key,order_ref\n"},
		{name: "jsonl with a BOM",
			file: "\ufeff{\"idempotency_key\":\"k-1\",\"order_ref\":\"o-1\"}\n",
			want: []KeyRecord{{Key: "k-1", OrderRef: "o-1", Sources: []string{SourceLog}}}},
		{name: "jsonl files joined with cat: a BOM on a later line",
			file: "\ufeff{\"idempotency_key\":\"k-1\",\"order_ref\":\"o-1\"}\n\ufeff{\"idempotency_key\":\"k-2\",\"order_ref\":\"o-2\"}\n",
			want: []KeyRecord{{Key: "k-1", OrderRef: "o-1", Sources: []string{SourceLog}}, {Key: "k-2", OrderRef: "o-2", Sources: []string{SourceLog}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, _, err := ReadKeyLog(iotest.OneByteReader(strings.NewReader(tc.file)), "keys")
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d records, want %d: %+v", len(got), len(tc.want), got)
			}
			for i := range got {
				g, w := got[i], tc.want[i]
				if g.Key != w.Key || g.OrderRef != w.OrderRef || g.ChargeID != w.ChargeID || !g.SeenAt.Equal(w.SeenAt) ||
					strings.Join(g.Sources, ",") != strings.Join(w.Sources, ",") {
					t.Errorf("record %d = %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

func TestReadKeyLogErrors(t *testing.T) {
	long := strings.Repeat("k", 256)
	cases := []struct {
		name, file, name2, want string
	}{
		{"bad time names file and line", "idempotency_key,order_ref,created_at\nk-1,o-1,2026-11-20T09:30:00Z\nk-2,o-2,2026-11-20T09:30:00Z\nk-3,o-3,yesterday\n",
			"keys.csv", `keys.csv line 4: created_at "yesterday" is not RFC 3339`},
		{"missing required column", "key,order_ref\nk-1,o-1\n", "keys.csv", "keys.csv line 1: the header has no idempotency_key column"},
		{"missing order_ref column", "idempotency_key\nk-1\n", "keys.csv", "the header has no order_ref column"},
		{"empty key", "idempotency_key,order_ref\nk-1,o-1\n,o-2\n", "keys.csv", "keys.csv line 3: idempotency_key is empty"},
		{"key too long", "idempotency_key,order_ref\n" + long + ",o\n", "keys.csv", "keys.csv line 2: idempotency_key is 256 characters long"},
		{"wrong field count", "idempotency_key,order_ref\nk-1,o-1,extra\n", "keys.csv", "keys.csv line 2: 3 fields, but the header has 2"},
		{"bad quoting", "idempotency_key,order_ref\nk-1,\"o-1\n", "keys.csv", "keys.csv line 2"},
		{"an unclosed quote names the line it opens on", "idempotency_key,order_ref\nk-1,\"o-1\nk-2,o-2\nk-3,o-3\n", "keys.csv", "keys.csv line 2:"},
		{"charge_id of a customer", "idempotency_key,order_ref,charge_id\nk-1,o-1,cus_123\n", "keys.csv", `keys.csv line 2: charge_id "cus_123" is not a Stripe charge id`},
		{"charge_id of a PaymentIntent", "idempotency_key,order_ref,charge_id\nk-1,o-1,pi_123\n", "keys.csv", `charge_id "pi_123" is not a Stripe charge id`},
		{"created_at in 2126", "idempotency_key,order_ref,created_at\nk-1,o-1,2126-01-01T00:00:00Z\n", "keys.csv", "keys.csv line 2: created_at 2126-01-01T00:00:00Z is in the future"},
		{"created_at before Stripe", "{\"idempotency_key\":\"k-1\",\"created_at\":\"1999-01-01T00:00:00Z\"}\n", "keys.jsonl", "keys.jsonl line 1: created_at 1999-01-01T00:00:00Z is before Stripe existed"},
		{"empty file", "  \n", "keys.csv", "keys.csv: the key log is empty"},
		{"bad json line", "{\"idempotency_key\":\"k-1\"}\n{\"idempotency_key\":\n", "keys.jsonl", "keys.jsonl line 2: not a JSON object"},
		{"json bad time", "{\"idempotency_key\":\"k-1\",\"created_at\":\"20/11/2026\"}\n", "keys.jsonl", `keys.jsonl line 1: created_at "20/11/2026" is not RFC 3339`},
		{"invalid UTF-8 in csv", "idempotency_key,order_ref\nk-1,o-1\nk-2,o-\xfe2\n", "keys.csv", "keys.csv line 3 (byte 7 of the line): not valid UTF-8"},
		{"invalid UTF-8 in jsonl", "{\"idempotency_key\":\"k-\xc0\"}\n", "keys.jsonl", "keys.jsonl line 1"},
		{"json missing key", "\n\n{\"order_ref\":\"o-1\"}\n", "keys.jsonl", "keys.jsonl line 3: idempotency_key is empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, _, err := ReadKeyLog(strings.NewReader(tc.file), tc.name2)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
			if got != nil {
				t.Errorf("got %d records with the error; want none (all-or-nothing)", len(got))
			}
		})
	}
}

func TestReadKeyLogReadError(t *testing.T) {
	_, _, err := ReadKeyLog(iotest.ErrReader(iotest.ErrTimeout), "keys.csv")
	if err == nil || !strings.Contains(err.Error(), "keys.csv") {
		t.Fatalf("error %v", err)
	}
}

func TestReadKeyLogRepeats(t *testing.T) {
	cases := []struct {
		name, file   string
		wantRecords  int
		wantRepeated int
		wantErr      string
	}{
		{"identical rows counted once", "idempotency_key,order_ref,charge_id\nk-1,o-1,ch_1\nk-2,o-2,\nk-1,o-1,ch_1\nk-2,o-2,\n", 2, 2, ""},
		{"one key for two charges is two records", "idempotency_key,order_ref,charge_id\nk-1,o-1,ch_1\nk-1,o-1,ch_2\n", 2, 0, ""},
		{"conflicting order", "idempotency_key,order_ref,charge_id\nk-1,o-1,ch_1\nk-2,o-2,\nk-1,o-9,ch_1\n", 0, 0,
			`keys line 4: key record "k-1" for charge ch_1 is also on line 2, with different contents`},
		{"conflicting time in jsonl", "{\"idempotency_key\":\"k-1\",\"created_at\":\"2026-11-20T09:30:00Z\"}\n{\"idempotency_key\":\"k-1\",\"created_at\":\"2026-11-20T09:31:00Z\"}\n", 0, 0,
			`keys line 2: key record "k-1" is also on line 1`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, repeated, err := ReadKeyLog(strings.NewReader(tc.file), "keys")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tc.wantRecords || repeated != tc.wantRepeated {
				t.Errorf("got %d records and %d repeats, want %d and %d", len(got), repeated, tc.wantRecords, tc.wantRepeated)
			}
		})
	}
}
