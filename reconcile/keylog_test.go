package reconcile

import (
	"slices"
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
		{name: "a PayPal transaction id as the charge",
			file: "idempotency_key,order_ref,charge_id\nk-1,o-1,5TY05013RG002845M\n",
			want: []KeyRecord{{Key: "k-1", OrderRef: "o-1", ChargeID: "5TY05013RG002845M", Sources: []string{SourceLog}}}},
		{name: "a provider column, any case",
			file: "idempotency_key,order_ref,charge_id,provider\nk-1,o-1,5TY05013RG002845M,PayPal\nk-2,o-2,,adyen\nk-3,o-3,ch_1,\n",
			want: []KeyRecord{{Key: "k-1", OrderRef: "o-1", ChargeID: "5TY05013RG002845M", Sources: []string{SourceLog}},
				{Key: "k-2", OrderRef: "o-2", Sources: []string{SourceLog}}, {Key: "k-3", OrderRef: "o-3", ChargeID: "ch_1", Sources: []string{SourceLog}}}},
		{name: "jsonl with a provider",
			file: "{\"idempotency_key\":\"k-1\",\"order_ref\":\"o-1\",\"charge_id\":\"8815000000000001\",\"provider\":\"adyen\"}\n",
			want: []KeyRecord{{Key: "k-1", OrderRef: "o-1", ChargeID: "8815000000000001", Sources: []string{SourceLog}}}},
		{name: "a key of 255 characters for a charge not known",
			file: "idempotency_key,order_ref\n" + strings.Repeat("k", 255) + ",o-1\n",
			want: []KeyRecord{{Key: strings.Repeat("k", 255), OrderRef: "o-1", Sources: []string{SourceLog}}}},
		{name: "1999, no provider: PayPal existed",
			file: "idempotency_key,order_ref,created_at\nk-1,o-1,1999-06-01T00:00:00Z\n",
			want: []KeyRecord{{Key: "k-1", OrderRef: "o-1", SeenAt: time.Date(1999, 6, 1, 0, 0, 0, 0, time.UTC), Sources: []string{SourceLog}}}},
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
		{"key too long", "idempotency_key,order_ref\n" + long + ",o\n", "keys.csv",
			"keys.csv line 2: idempotency_key is 256 characters long; no provider takes more than 255 (Stripe's Idempotency-Key)"},
		{"key too long for PayPal, by its charge", "idempotency_key,order_ref,charge_id\n" + strings.Repeat("k", 109) + ",o,5TY05013RG002845M\n", "keys.csv",
			"keys.csv line 2: idempotency_key is 109 characters long; PayPal takes a PayPal-Request-Id of at most 108"},
		{"key too long for Adyen, by its charge", "idempotency_key,order_ref,charge_id\n" + strings.Repeat("k", 65) + ",o,8815000000000001\n", "keys.csv",
			"keys.csv line 2: idempotency_key is 65 characters long; Adyen takes an Idempotency-Key of at most 64"},
		{"key too long for Adyen, by the provider column", "idempotency_key,order_ref,provider\n" + strings.Repeat("k", 65) + ",o,adyen\n", "keys.csv",
			"keys.csv line 2: idempotency_key is 65 characters long; Adyen takes an Idempotency-Key of at most 64"},
		{"a charge of another provider than the row's", "idempotency_key,order_ref,charge_id,provider\nk-1,o-1,ch_1,paypal\n", "keys.csv",
			`keys.csv line 2: charge_id "ch_1" is Stripe's, but the row's provider is PayPal`},
		{"a charge of no provider's form, the row's provider given", "idempotency_key,order_ref,charge_id,provider\nk-1,o-1,5TY0501,paypal\n", "keys.csv",
			`keys.csv line 2: charge_id "5TY0501" is not a PayPal transaction id (17 letters and digits); leave it empty`},
		{"an unknown provider", "{\"idempotency_key\":\"k-1\",\"provider\":\"square\"}\n", "keys.jsonl",
			`keys.jsonl line 1: provider: unknown payment provider "square" (known: stripe, paypal, adyen)`},
		{"created_at before PayPal, with no provider", "idempotency_key,order_ref,created_at\nk-1,o-1,1997-01-01T00:00:00Z\n", "keys.csv",
			"keys.csv line 2: created_at 1997-01-01T00:00:00Z is before any provider doublecheck reads existed (PayPal, the first, in 1998)"},
		{"wrong field count", "idempotency_key,order_ref\nk-1,o-1,extra\n", "keys.csv", "keys.csv line 2: 3 fields, but the header has 2"},
		{"bad quoting", "idempotency_key,order_ref\nk-1,\"o-1\n", "keys.csv", "keys.csv line 2"},
		{"an unclosed quote names the line it opens on", "idempotency_key,order_ref\nk-1,\"o-1\nk-2,o-2\nk-3,o-3\n", "keys.csv", "keys.csv line 2:"},
		{"charge_id of a customer", "idempotency_key,order_ref,charge_id\nk-1,o-1,cus_123\n", "keys.csv", `keys.csv line 2: charge_id "cus_123" is not a Stripe charge id (ch_… or py_…), a PayPal transaction id (17 letters and digits) or an Adyen Psp Reference (16 letters and digits)`},
		{"charge_id of a PaymentIntent", "idempotency_key,order_ref,charge_id\nk-1,o-1,pi_123\n", "keys.csv", `charge_id "pi_123" is not a Stripe charge id`},
		{"created_at in 2126", "idempotency_key,order_ref,created_at\nk-1,o-1,2126-01-01T00:00:00Z\n", "keys.csv", "keys.csv line 2: created_at 2126-01-01T00:00:00Z is in the future"},
		{"created_at before Stripe", "{\"idempotency_key\":\"k-1\",\"charge_id\":\"ch_1\",\"created_at\":\"1999-01-01T00:00:00Z\"}\n", "keys.jsonl", "keys.jsonl line 1: created_at 1999-01-01T00:00:00Z is before Stripe existed"},
		{"created_at before Adyen", "idempotency_key,order_ref,provider,created_at\nk-1,o-1,adyen,2005-01-01T00:00:00Z\n", "keys.csv", "keys.csv line 2: created_at 2005-01-01T00:00:00Z is before Adyen existed"},
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

// TestKeyLogGivesPayPalGroupsKeyEvidence: a key log naming PayPal
// transactions gives their group key evidence, as it does Stripe's: two
// payments of one order under two logged keys are new_key_per_retry, two
// without an order seconds apart double_submit.
func TestKeyLogGivesPayPalGroupsKeyEvidence(t *testing.T) {
	pp := provider(ProviderPayPal)
	const a, b = "5TY05013RG002845M", "6UZ16124SH113956N"
	for _, tc := range []struct {
		name, log string
		charges   []Charge
		cause     Cause
		reason    string
	}{
		{"one order, two keys", "idempotency_key,order_ref,charge_id\nk-1,o-1," + a + "\nk-2,o-1," + b + "\n",
			[]Charge{charge(a, 0, order("o-1"), pp), charge(b, 40*time.Second, order("o-1"), pp)},
			CauseNewKeyPerRetry, "new_key_per_retry: the client generated a new PayPal-Request-Id for each retry of order_id o-1"},
		{"no order, two keys seconds apart", "{\"idempotency_key\":\"k-1\",\"charge_id\":\"" + a + "\",\"provider\":\"paypal\"}\n{\"idempotency_key\":\"k-2\",\"charge_id\":\"" + b + "\"}\n",
			[]Charge{charge(a, 0, pp), charge(b, 3*time.Second, pp)},
			CauseDoubleSubmit, "double_submit: the checkout was submitted twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keys, _, err := ReadKeyLog(strings.NewReader(tc.log), "keys")
			if err != nil {
				t.Fatal(err)
			}
			g := onlyGroup(t, Detect(Input{Charges: tc.charges, Keys: keys}, DefaultOptions()))
			if g.Cause != tc.cause || !slices.ContainsFunc(g.Reasons, func(r string) bool { return strings.HasPrefix(r, tc.reason) }) {
				t.Errorf("cause %s, reasons %q; want %s with a reason starting %q", g.Cause, g.Reasons, tc.cause, tc.reason)
			}
		})
	}
}
