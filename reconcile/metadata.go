package reconcile

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// MetadataField is the value of metadata field name: from Metadata when it is
// set, else read out of MetadataJSON; "" when the field is absent (or
// MetadataJSON is not a JSON object of strings).
func (c *Charge) MetadataField(name string) string {
	if c.Metadata != nil || c.MetadataJSON == "" {
		return c.Metadata[name]
	}
	if v, ok := plainObjectField(c.MetadataJSON, name); ok {
		return v
	}
	var m map[string]string
	if json.Unmarshal([]byte(c.MetadataJSON), &m) != nil {
		return ""
	}
	return m[name]
}

// plainObjectField reads field name out of the JSON object s without decoding
// it, when s is {"k":"v",…} and its strings hold no escapes (metadata almost
// always is: {"order_id":"o-12"}); ok is false for any other input, which
// encoding/json then reads. As with encoding/json, the last of repeated fields
// wins.
func plainObjectField(s, name string) (value string, ok bool) {
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' || strings.IndexByte(s, '\\') >= 0 || !utf8.ValidString(s) {
		return "", false
	}
	body := s[1 : len(s)-1]
	for body != "" {
		k, rest, ok := plainString(body)
		if !ok || rest == "" || rest[0] != ':' {
			return "", false
		}
		v, rest, ok := plainString(rest[1:])
		if !ok {
			return "", false
		}
		if k == name {
			value = v
		}
		if rest == "" {
			break
		}
		if rest[0] != ',' || len(rest) == 1 {
			return "", false
		}
		body = rest[1:]
	}
	return value, true
}

// plainString cuts a JSON string without escapes off the front of s.
func plainString(s string) (str, rest string, ok bool) {
	if s == "" || s[0] != '"' {
		return "", "", false
	}
	end := strings.IndexByte(s[1:], '"')
	if end < 0 {
		return "", "", false
	}
	str = s[1 : 1+end]
	for i := 0; i < len(str); i++ {
		if str[i] < 0x20 {
			return "", "", false // a raw control byte is invalid JSON
		}
	}
	return str, s[2+end:], true
}
