package stripeapi

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// genchargesCharge is a charge object as scripts/gencharges writes it.
const genchargesCharge = `{"id":"ch_dv4YrTFliSJ9aaaaaaaaaaaa","object":"charge","amount":21600,"amount_captured":21600,"amount_refunded":0,` +
	`"billing_details":{"email":"buyer149277@example.com","name":"Buyer 149277"},"captured":true,"created":1695636545,` +
	`"currency":"usd","customer":null,"description":"Order o-0","disputed":false,"livemode":false,"metadata":{"order_id":"o-0"},` +
	`"paid":true,"payment_intent":"pi_dv4YrTFliSJ9aaaaaaaaaaaa","payment_method_details":{"card":{"brand":"visa","country":"US",` +
	`"exp_month":10,"exp_year":2029,"fingerprint":"fpaDzuliIbkP8eRZMa","funding":"credit","last4":"9277"},"type":"card"},` +
	`"refunded":false,"status":"succeeded"}`

// decodePath is which decoder reads a charge object.
type decodePath int

const (
	viaFast decodePath = iota
	viaJSON            // left to encoding/json
)

// decodeCases are charge objects, good and bad, that the fast decoder must
// read as encoding/json reads them (see checkDecode), and which of the two
// reads each.
var decodeCases = []struct {
	path decodePath
	raw  string
}{
	{viaFast, chargeFull},
	{viaFast, chargeGuest},
	{viaFast, genchargesCharge},
	// Members in another order, spacing, unknown members of any shape.
	{viaFast, ` { "object" : "charge" , "id" : "ch_x" , "currency":"usd","created":1700000000,"amount":5,"status":"succeeded",` +
		`"unknown":{"a":[1,{"b":null}],"c":"\u0041"},"more":[true,false,null,-1.5e3]}`},
	// Strings with escapes and non-ASCII text, an escaped id of an expandable object.
	{viaFast, `{"id":"ch_esc","object":"charge","amount":5,"currency":"usd","created":1700000000,"status":"succeeded",` +
		`"description":"caf\u00e9 \"quoted\" \\ <b>","receipt_email":"r\u0040example.com","customer":"cus_\u0041",` +
		`"billing_details":{"email":"émile@example.com"},"metadata":{"k\u0065y":"v\n","order_id":"o-1"}}`},
	// Metadata: a null value (stored as ""), a repeated key (the last wins), an empty object.
	{viaFast, `{"id":"ch_m1","object":"charge","amount":5,"currency":"usd","created":1700000000,"status":"succeeded","metadata":{"a":null,"b":"1","b":"2"}}`},
	{viaFast, `{"id":"ch_m2","object":"charge","amount":5,"currency":"usd","created":1700000000,"status":"succeeded","metadata":{}}`},
	// Expanded objects: customer, payment intent, source, outcome, refunds.
	{viaFast, `{"id":"ch_e","object":"charge","amount":5,"currency":"usd","created":1700000000,"status":"succeeded",` +
		`"customer":{"id":"cus_1","object":"customer","email":"c@example.com"},"balance_transaction":"txn_1",` +
		`"source":{"id":"card_1","object":"card","brand":"Visa"},"outcome":{"type":"authorized","rule":"rule_1"},` +
		`"refunds":{"object":"list","data":[],"has_more":false,"total_count":0,"url":"/v1/charges/ch_e/refunds"}}`},
	// A member given twice: encoding/json keeps the last (or merges objects).
	{viaJSON, `{"id":"ch_d","object":"charge","amount":5,"amount":7,"currency":"usd","created":1700000000,"status":"succeeded"}`},
	{viaJSON, `{"id":"ch_d2","object":"charge","amount":5,"currency":"usd","created":1700000000,"status":"succeeded",` +
		`"billing_details":{"email":"a@example.com"},"billing_details":{"name":"B"}}`},
	// Keys matched without regard to case, or escaped.
	{viaJSON, `{"ID":"ch_case","object":"charge","Amount":5,"currency":"usd","created":1700000000,"status":"succeeded"}`},
	{viaJSON, `{"id":"ch_k","object":"charge","\u0061mount":5,"currency":"usd","created":1700000000,"status":"succeeded"}`},
	{viaJSON, `{"id":"ch_k2","object":"charge","amount":5,"currency":"usd","created":1700000000,"status":"succeeded","ſtatus":"failed"}`},
	// Types encoding/json refuses, in members doublecheck reads and in members it does not.
	{viaJSON, `{"id":"ch_t1","object":"charge","amount":"5","currency":"usd","created":1700000000,"status":"succeeded"}`},
	{viaJSON, `{"id":"ch_t2","object":"charge","amount":5.5,"currency":"usd","created":1700000000,"status":"succeeded"}`},
	{viaJSON, `{"id":"ch_t3","object":"charge","amount":1e3,"currency":"usd","created":1700000000,"status":"succeeded"}`},
	{viaJSON, `{"id":"ch_t4","object":"charge","amount":99999999999999999999,"currency":"usd","created":1700000000,"status":"succeeded"}`},
	{viaJSON, `{"id":"ch_t5","object":"charge","amount":5,"currency":"usd","created":1700000000,"status":"succeeded","outcome":5}`},
	{viaJSON, `{"id":"ch_t6","object":"charge","amount":5,"currency":"usd","created":1700000000,"status":"succeeded","paid":"yes"}`},
	{viaJSON, `{"id":"ch_t7","object":"charge","amount":5,"currency":"usd","created":1700000000,"status":"succeeded",` +
		`"payment_method_details":{"card":{"exp_month":"4","brand":"visa"}}}`},
	{viaJSON, `{"id":"ch_t8","object":"charge","amount":5,"currency":"usd","created":1700000000,"status":"succeeded","metadata":{"n":1}}`},
	{viaJSON, `{"id":"ch_t9","object":"charge","amount":5,"currency":"usd","created":1700000000,"status":"succeeded","customer":5}`},
	{viaJSON, `{"id":"ch_t10","object":"charge","amount":5,"currency":"usd","created":1700000000,"status":"succeeded","livemode":"true"}`},
	{viaJSON, `{"id":"ch_t11","object":"charge","amount":5,"currency":"usd","created":1700000000,"status":"succeeded",` +
		`"refunds":{"data":[{"id":"re_1","created":"soon"}]}}`},
	{viaJSON, `{"id":"ch_t12","object":"charge","amount":5,"currency":"usd","created":1700000000,"status":"succeeded","application_fee_amount":-1.0}`},
	{viaJSON, `{"id":"ch_t13","object":"charge","amount":-0,"currency":"usd","created":1700000000,"status":"succeeded","fraud_details":[]}`},
	// Not charges, or charges doublecheck refuses.
	{viaFast, `{"id":"re_1","object":"refund","amount":5}`},
	{viaFast, `{"object":"charge"}`},
	{viaFast, `{"id":"ch_n","object":"charge"}`},
	{viaFast, `{"id":"ch_c","object":"charge","amount":5,"currency":"xyz","created":1700000000,"status":"succeeded"}`},
	{viaJSON, `[]`},
	{viaJSON, `"ch_1"`},
	{viaJSON, `null`},
	{viaFast, `{}`},
}

// TestFastChargeDecodesAsEncodingJSON: every charge object the fast decoder
// reads itself gives the charge decodeCharge (encoding/json into stripe-go's
// Charge) gives, and the objects it leaves to encoding/json are answered as
// before, charge or error. Charge objects as Stripe and scripts/gencharges
// write them take the fast path.
func TestFastChargeDecodesAsEncodingJSON(t *testing.T) {
	for _, tc := range decodeCases {
		checkDecode(t, []byte(tc.raw))
		if _, fast := fastCharge([]byte(tc.raw)); fast != (tc.path == viaFast) {
			t.Errorf("%s: read by the fast path %t, want %t", tc.raw, fast, tc.path == viaFast)
		}
	}
}

func checkDecode(t *testing.T, raw []byte) {
	t.Helper()
	now := time.Unix(1800000000, 0)
	want, wantErr := decodeCharge(raw, time.Time{}, now)
	got, _, err := decodeFileCharge(raw, now)
	if fmt.Sprint(err) != fmt.Sprint(wantErr) || !reflect.DeepEqual(got, want) {
		_, fast := fastCharge(raw)
		t.Errorf("%s\n(fast path: %t) decodes as\n%+v, %v\nwant\n%+v, %v", raw, fast, got, err, want, wantErr)
	}
}

// FuzzFastCharge compares the fast decoder with encoding/json on mutations
// of charge objects (go test ./stripeapi -fuzz FuzzFastCharge).
func FuzzFastCharge(f *testing.F) {
	for _, tc := range decodeCases {
		f.Add([]byte(tc.raw))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if !json.Valid(raw) {
			// The import stores what the fast decoder reads without
			// checking it is JSON otherwise.
			if _, fast := fastCharge(raw); fast {
				t.Errorf("%q is not JSON, and the fast path reads it", raw)
			}
			return
		}
		if strings.Count(string(raw), "{") <= 50 {
			checkDecode(t, raw)
		}
	})
}

// BenchmarkFileChargeDecode decodes a charge object as scripts/gencharges
// writes it, through the fast decoder and through encoding/json into
// stripe-go's Charge (what the import did before).
func BenchmarkFileChargeDecode(b *testing.B) {
	raw := []byte(genchargesCharge)
	now := time.Unix(1800000000, 0)
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := decodeFileCharge(raw, now); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeCharge(raw, time.Time{}, now); err != nil {
				b.Fatal(err)
			}
		}
	})
}
