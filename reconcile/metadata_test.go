package reconcile

import (
	"encoding/json"
	"testing"
)

// metadataInputs are JSON objects as the store writes them and malformed ones.
var metadataInputs = []string{
	`{"order_id":"o-1"}`, `{"a":"1","b":"2","c":""}`, `{}`, `{"":""}`,
	`{"k":"caf\u00e9"}`, `{"k":"café ☕"}`, `{"q":"a \"b\""}`, `{"a": "spaced"}`,
	`{"a":"1",}`, `{"a":"1"`, `{"a":1}`, `{"a":"x","a":"y"}`, "{\"a\":\"\x01\"}", `{"a":"1""b":"2"}`,
	`{"a":"1",,"b":"2"}`, `{"a":"1"} `, `["a"]`, `{"\u003c":"\u0026"}`, "{\"a\":\"\xff\"}",
}

func TestMetadataFieldMatchesEncodingJSON(t *testing.T) {
	for _, in := range metadataInputs {
		checkMetadataField(t, in)
	}
}

func FuzzMetadataField(f *testing.F) {
	for _, seed := range metadataInputs {
		f.Add(seed)
	}
	f.Fuzz(checkMetadataField)
}

// checkMetadataField reads every field encoding/json finds in in, and a missing
// one, through MetadataField; a field of JSON encoding/json refuses is "".
func checkMetadataField(t *testing.T, in string) {
	var want map[string]string
	if json.Unmarshal([]byte(in), &want) != nil {
		want = nil // not an object of strings: every field reads ""
	}
	c := Charge{MetadataJSON: in}
	for _, name := range append([]string{"missing", "a", ""}, keysOf(want)...) {
		if got := c.MetadataField(name); got != want[name] {
			t.Errorf("MetadataField(%q) of %q = %q, encoding/json gives %q", name, in, got, want[name])
		}
	}
	if m := (Charge{Metadata: map[string]string{"a": "map"}, MetadataJSON: in}); m.MetadataField("a") != "map" {
		t.Errorf("MetadataField with a map and %q = %q, want the map's value", in, m.MetadataField("a"))
	}
}

func keysOf(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
