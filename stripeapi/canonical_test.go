package stripeapi

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// canonicalCases are JSON texts, valid and not, that the canonicalizer must
// write as canonicalJSON does.
var canonicalCases = []string{
	chargeFull, chargeGuest,
	`{}`, `[]`, ` { "b" : 1 , "a" : [ 1 , { "d":null, "c":true } ] } `,
	`{"a":1,"a":2}`, `{"b":1,"a":2,"b":3}`, `{"a":{"z":1,"y":{"x":false,"w":[]}}}`,
	`{"n":-0.5e+10,"m":0,"k":1E3,"j":-12.25}`,
	`{"s":"a\"b\\c\/d\u0041\u00e9\n"}`, `{"html":"<a href='x'>&amp;</a>"}`, `{"amp":"a&b","gt":"a>b"}`, `{"a&b":1,"a":2}`,
	`{"é":1,"e":2,"z":3}`, `{"\u0062":1,"a":2}`, `{"line":"\u2028\u2029"}`, "{\"raw\":\"\u2028\"}",
	"{\"bad\":\"\xff\xfe\"}", `{"surrogate":"\ud83d\ude00 \ud800"}`, `{"emoji":"😀"}`,
	`"just a string"`, `12`, `true`, `null`,
	// Not JSON, or more than one value: canonicalJSON refuses them.
	``, `{`, `{"a":}`, `{"a":1,}`, `[1,]`, `{"a" 1}`, `{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":-}`,
	`{"a":1e}`, `{"a":tru}`, `{"a":1} x`, `{"a":1} }`, `{"a":1}{"b":2}`, "{\"a\":\"\x01\"}", `{"a":"\x"}`,
	`{a:1}`, `{"a":"unterminated}`, `[1 2]`, `{"a":NaN}`,
	strings.Repeat(`[`, 100) + strings.Repeat(`]`, 100),
	`{"a":` + strings.Repeat(`{"b":`, 70) + `1` + strings.Repeat(`}`, 70) + `}`,
}

// TestCanonicalizerMatchesCanonicalJSON: what the canonicalizer writes
// itself is what canonicalJSON writes, byte for byte; what it leaves to
// canonicalJSON, canonical answers as canonicalJSON does. Charge objects
// as Stripe and scripts/gencharges write them take the fast path.
func TestCanonicalizerMatchesCanonicalJSON(t *testing.T) {
	var c canonicalizer
	for _, in := range canonicalCases {
		checkCanonical(t, &c, []byte(in))
	}
	for _, in := range []string{chargeFull, chargeGuest, `{"a":1,"a":2}`, `{"s":"a\"b"}`} {
		if _, ok := c.fast([]byte(in)); !ok {
			t.Errorf("%s: left to canonicalJSON, want the fast path", in)
		}
	}
}

func checkCanonical(t *testing.T, c *canonicalizer, in []byte) {
	t.Helper()
	want, wantErr := canonicalJSON(in)
	if fast, ok := c.fast(in); ok && (wantErr != nil || !bytes.Equal(fast, want)) {
		t.Errorf("%q: fast path wrote %q, canonicalJSON %q (error %v)", in, fast, want, wantErr)
	}
	got, err := c.canonical(in)
	if (err == nil) != (wantErr == nil) || !bytes.Equal(got, want) {
		t.Errorf("%q: canonical gave %q (error %v), canonicalJSON %q (error %v)", in, got, err, want, wantErr)
	}
}

// FuzzCanonicalizer compares the canonicalizer with canonicalJSON on any
// input (go test ./stripeapi -fuzz FuzzCanonicalizer).
func FuzzCanonicalizer(f *testing.F) {
	for _, in := range canonicalCases {
		f.Add([]byte(in))
	}
	var c canonicalizer
	f.Fuzz(func(t *testing.T, in []byte) { checkCanonical(t, &c, in) })
}

// Two lines of one id that decode to different charges are never one record,
// or the second would be dropped as a repeat instead of refusing the file:
// encoding/json reads some objects otherwise than their canonical form says.
func TestSameChargeJSONMeansEqualCharges(t *testing.T) {
	base := `"id":"ch_same","object":"charge","currency":"usd","created":1700000000,"status":"succeeded"`
	for _, pair := range [][2]string{
		// Keys matched without regard to case: the last wins in encoding/json,
		// while the canonical form sorts "Amount" before "amount".
		{`{` + base + `,"amount":700,"Amount":500}`, `{` + base + `,"Amount":500,"amount":700}`},
		// A member twice: encoding/json merges the objects, the canonical
		// form keeps the last.
		{`{` + base + `,"amount":5,"billing_details":{"email":"a@example.com"},"billing_details":{"name":"B"}}`,
			`{` + base + `,"amount":5,"billing_details":{"name":"B"}}`},
	} {
		var recs []ChargeRecord
		err := StreamCharges(strings.NewReader(pair[0]+"\n"+pair[1]+"\n"), "f.jsonl", time.Unix(1800000000, 0),
			func(r *ChargeRecord) error { recs = append(recs, *r); return nil })
		if err != nil {
			t.Fatal(err)
		}
		a, b := recs[0].Charge, recs[1].Charge
		if a.Amount == b.Amount && a.Email == b.Email {
			t.Fatalf("%s and %s decode alike; the case tests nothing", pair[0], pair[1])
		}
		if recs[0].Digest == recs[1].Digest || SameChargeJSON(a.Raw, b.Raw) {
			t.Errorf("one record for different charges: amount %d/%d, email %q/%q", a.Amount, b.Amount, a.Email, b.Email)
		}
	}
}
