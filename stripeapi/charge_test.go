package stripeapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// Stripe charge objects as the API sends them (trimmed of fields doublecheck
// ignores, which stripe-go ignores too).
const (
	chargeFull = `{"id":"ch_1full","object":"charge","amount":2400,"amount_refunded":400,"currency":"USD",` +
		`"created":1700000000,"status":"succeeded","captured":true,"refunded":false,"disputed":true,` +
		`"customer":"cus_42","description":"2 bags","receipt_email":"receipt@example.com",` +
		`"billing_details":{"email":"Billing@Example.com","name":"Ada"},"livemode":true,` +
		`"metadata":{"order_id":"o-12"},"payment_intent":"pi_9",` +
		`"payment_method_details":{"type":"card","card":{"brand":"visa","last4":"4242","fingerprint":"fp_A"}},` +
		`"refunds":{"object":"list","data":[{"id":"re_1","object":"refund","amount":400,"created":1700000500}],"has_more":false}}`
	chargeGuest = `{"id":"ch_2guest","object":"charge","amount":999,"currency":"jpy","created":1700000100,` +
		`"status":"failed","captured":false,"customer":null,"receipt_email":"guest@example.com",` +
		`"billing_details":{"email":null},"payment_intent":{"id":"pi_expanded","object":"payment_intent"}}`
	refundObject = `{"id":"re_1","object":"refund","amount":400,"charge":"ch_1full","created":1700000500}`
)

func TestChargeFromStripeFields(t *testing.T) {
	charges, _, err := DecodeCharges(strings.NewReader(chargeFull+"\n"+chargeGuest), "charges.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	want := []reconcile.Charge{{
		ID: "ch_1full", Created: time.Unix(1700000000, 0).UTC(), Amount: 2400, AmountRefunded: 400,
		Currency: "usd", Status: "succeeded", Captured: true, Disputed: true, Customer: "cus_42",
		Email: "Billing@Example.com", CardFingerprint: "fp_A", CardBrand: "visa", CardLast4: "4242",
		PaymentIntent: "pi_9", Description: "2 bags", Metadata: map[string]string{"order_id": "o-12"},
		Livemode: true, Provider: reconcile.ProviderStripe, Observed: time.Unix(1700000500, 0).UTC(), Raw: []byte(chargeFull),
	}, {
		ID: "ch_2guest", Created: time.Unix(1700000100, 0).UTC(), Amount: 999, Currency: "jpy",
		Status: "failed", Email: "guest@example.com", PaymentIntent: "pi_expanded", Provider: reconcile.ProviderStripe,
		Observed: time.Unix(1700000100, 0).UTC(), Raw: []byte(chargeGuest),
	}}
	if !reflect.DeepEqual(charges, want) {
		t.Fatalf("got\n%+v\nwant\n%+v", charges, want)
	}
}

func TestDecodeChargesFormats(t *testing.T) {
	tests := []struct {
		name  string
		input string
	}{
		{"list response", `{"object":"list","url":"/v1/charges","has_more":false,"data":[` + chargeFull + "," + chargeGuest + `]}`},
		{"pretty list response", "{\n  \"object\": \"list\",\n  \"data\": [\n    " + chargeFull + ",\n    " + chargeGuest + "\n  ],\n  \"has_more\": true\n}\n"},
		{"list with data before object", `{"data":[` + chargeFull + "," + chargeGuest + `],"object":"list"}`},
		{"bare array", "[\n" + chargeFull + ",\n" + chargeGuest + "\n]"},
		{"JSONL with blank lines and CRLF", "\n" + chargeFull + "\r\n\r\n" + chargeGuest + "\n\n"},
		{"JSONL with a byte-order mark", "\ufeff" + chargeFull + "\n" + chargeGuest + "\n"},
		{"array with a byte-order mark", "\ufeff[" + chargeFull + "," + chargeGuest + "]"},
		{"list response with a byte-order mark", "\ufeff{\"object\":\"list\",\"data\":[" + chargeFull + "," + chargeGuest + "]}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			charges, _, err := DecodeCharges(strings.NewReader(tt.input), "in.json")
			if err != nil {
				t.Fatal(err)
			}
			if len(charges) != 2 || charges[0].ID != "ch_1full" || charges[1].ID != "ch_2guest" {
				t.Fatalf("got %d charges %+v", len(charges), charges)
			}
			if charges[0].Email != "Billing@Example.com" || charges[1].PaymentIntent != "pi_expanded" {
				t.Fatalf("conversion differs by format: %+v", charges)
			}
		})
	}
}

func TestDecodeChargesErrors(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []string // substrings of the one-sentence error
	}{
		{"empty", "  \n", []string{"in.json is empty"}},
		{"JSONL bad line", chargeFull + "\n\n{\"id\": \"ch_3\", oops}\n", []string{"in.json line 3", "invalid JSON"}},
		{"JSONL refund object", chargeFull + "\n" + refundObject + "\n", []string{"in.json line 2", `a "refund" object, not a charge`}},
		{"JSONL object without object field", `{"id":"ch_x","amount":1}`, []string{"line 1", `no "object": "charge"`}},
		{"JSONL charge id string", `"ch_123"`, []string{"line 1", "not a Stripe charge object"}},
		{"JSONL charge without currency", `{"id":"ch_x","object":"charge","created":1700000000}`, []string{"line 1", "charge ch_x has no currency"}},
		{"array with refund", "[" + chargeFull + ",\n" + refundObject + "]", []string{"element 1", "line 2", "byte", `"refund" object`}},
		{"list with customer", `{"object":"list","data":[{"id":"cus_1","object":"customer"}]}`, []string{"element 0", `"customer" object`}},
		{"truncated list", `{"object":"list","data":[` + chargeFull, []string{"ends too early", "truncated"}},
		{"list syntax error", "{\"object\":\"list\",\n\"data\":[" + chargeFull + ",,]}", []string{"line 2", "invalid JSON"}},
		{"not a list object", "{\n \"object\": \"charge\",\n \"id\": \"ch_1\"\n}", []string{"not a Stripe list response", `"charge"`}},
		{"garbage after array", "[" + chargeFull + "] [", []string{"unexpected data after the JSON document"}},
		// Lines after the first are checked as JSON by the decoder alone.
		{"JSONL control character in an unknown member", chargeFull + "\n" + strings.Replace(chargeGuest, `{`, "{\"x\":\"a\tb\",", 1), []string{"in.json line 2", "invalid JSON"}},
		{"JSONL unknown escape in an unknown member", chargeFull + "\n" + strings.Replace(chargeGuest, `{`, `{"x":"a\qb",`, 1), []string{"in.json line 2", "invalid JSON"}},
		{"JSONL short unicode escape in an unknown member", chargeFull + "\n" + strings.Replace(chargeGuest, `{`, `{"x":"\u12",`, 1), []string{"in.json line 2", "invalid JSON"}},
		{"JSONL unknown escape in a kept member", chargeFull + "\n" + strings.Replace(chargeGuest, "guest@", `gu\qest@`, 1), []string{"in.json line 2", "invalid JSON"}},
		{"JSONL escape at the end of a line", chargeFull + "\n" + `{"id":"ch_x","object":"charge","description":"a\`, []string{"in.json line 2", "invalid JSON"}},
		{"invalid UTF-8", chargeFull + "\n" + strings.Replace(chargeGuest, "guest@", "gu\xffest@", 1) + "\n", []string{"in.json line 2", "not valid UTF-8"}},
		{"negative amount", chargeGuest + "\n" + strings.Replace(chargeGuest, `"amount":999`, `"amount":-5000`, 1), []string{"in.json line 2", "amount -5000 is negative"}},
		{"refunded above amount", strings.Replace(chargeFull, `"amount_refunded":400`, `"amount_refunded":2500`, 1), []string{"in.json line 1", "amount_refunded 2500 is more than its amount 2400"}},
		{"negative refunded", strings.Replace(chargeFull, `"amount_refunded":400`, `"amount_refunded":-1`, 1), []string{"line 1", "amount_refunded -1 is negative"}},
		{"unknown currency", strings.Replace(chargeFull, `"USD"`, `"xyz"`, 1), []string{"line 1", `currency "xyz"`}},
		{"markup currency", "[" + chargeGuest + ",\n" + strings.Replace(chargeFull, `"USD"`, `"<script>"`, 1) + "]", []string{"element 1 (line 2", `currency "<script>"`}},
		{"unknown status", strings.Replace(chargeFull, `"succeeded"`, `"hacked"`, 1), []string{"line 1", `status "hacked"`}},
		{"not a charge id", strings.Replace(chargeFull, `"ch_1full"`, `"cus_1"`, 1), []string{"line 1", `id "cus_1" is not a Stripe charge id`}},
		{"created in 1970", strings.Replace(chargeFull, `"created":1700000000`, `"created":1`, 1), []string{"line 1", "before Stripe existed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			charges, _, err := DecodeCharges(strings.NewReader(tt.input), "in.json")
			if err == nil {
				t.Fatalf("decoded %d charges, want an error", len(charges))
			}
			if charges != nil {
				t.Fatalf("returned %d charges with the error; want none (all or nothing)", len(charges))
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if strings.Count(err.Error(), "\n") > 0 {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
}

func TestDecodeChargesReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	_, _, err := DecodeCharges(iotest.ErrReader(boom), "in.json")
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "read in.json") {
		t.Fatalf("error %v, want the read error wrapped with the file name", err)
	}
}

func TestDecodeChargesRepeats(t *testing.T) {
	// The same charge twice, once re-indented: one charge and one repeat.
	pretty := strings.ReplaceAll(chargeGuest, `","`, `", "`)
	changed := strings.Replace(chargeGuest, `"amount":999`, `"amount":998`, 1)
	tests := []struct {
		name         string
		input        string
		wantCharges  int
		wantRepeated int
		wantErr      []string
	}{
		{"distinct", chargeFull + "\n" + chargeGuest, 2, 0, nil},
		{"identical lines", chargeFull + "\n" + chargeGuest + "\n" + chargeGuest + "\n" + chargeFull + "\n", 2, 2, nil},
		{"identical but spaced differently", "[" + chargeGuest + ",\n" + pretty + "]", 1, 1, nil},
		{"identical with the keys in another order", chargeGuest + "\n" + reorderKeys(t, chargeGuest) + "\n", 1, 1, nil},
		{"files joined with cat: a byte-order mark on a later line", "\ufeff" + chargeFull + "\n\ufeff" + chargeGuest + "\n", 2, 0, nil},
		{"conflict names both lines", chargeGuest + "\n" + chargeFull + "\n\n" + changed + "\n", 0, 0,
			[]string{"in.json line 4", "charge ch_2guest is also on line 1, with different contents"}},
		{"conflict in an array", "[" + chargeGuest + ",\n" + chargeFull + ",\n" + changed + "]", 0, 0,
			[]string{"element 2 (line 3", "charge ch_2guest is also on line 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			charges, repeated, err := DecodeCharges(strings.NewReader(tt.input), "in.json")
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("decoded %d charges, want an error", len(charges))
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not contain %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(charges) != tt.wantCharges || repeated != tt.wantRepeated {
				t.Errorf("got %d charges and %d repeats, want %d and %d", len(charges), repeated, tt.wantCharges, tt.wantRepeated)
			}
		})
	}
}

// reorderKeys is the JSON object obj with its top-level keys in reverse order.
func reorderKeys(t *testing.T, obj string) string {
	t.Helper()
	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(obj), &fields); err != nil {
		t.Fatal(err)
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	slices.Reverse(keys)
	var b strings.Builder
	b.WriteString("{")
	for i, k := range keys {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "%q:%s", k, fields[k])
	}
	b.WriteString("}")
	if b.String() == obj {
		t.Fatal("reordering left the object as it was")
	}
	return b.String()
}

// DecodeCharges reads a whole file through StreamCharges as an import does
// (with the repeats kept in memory rather than in the store) and returns every
// charge once, with the number of repeats it left out (the same charge again,
// the same bytes, or the same canonical form: see SameChargeJSON), or, on the first problem, none. A charge
// repeated with other contents is such a problem.
func DecodeCharges(r io.Reader, name string) (charges []reconcile.Charge, repeated int, err error) {
	repeats := reconcile.NewRepeats("charge")
	err = StreamCharges(r, name, time.Now(), func(rec *ChargeRecord) error {
		repeat, err := repeats.Seen(rec.Charge.ID, string(comparedForm(rec.Charge.Raw)), rec.Place.Line)
		if err != nil {
			return fmt.Errorf("%s: %w", rec.Place, err)
		}
		if !repeat {
			charges = append(charges, rec.Charge)
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return charges, repeats.Repeated, nil
}
