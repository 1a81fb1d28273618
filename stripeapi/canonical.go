package stripeapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"unicode/utf8"
)

// canonicalizer writes the canonical form of charge objects (see
// canonicalJSON) in one pass over their bytes, reusing its buffers: decoding
// every object into maps and marshalling them again was a third of an
// import's CPU time. Its output is canonicalJSON's byte for byte; anything it
// does not handle itself (a string with escapes, deep nesting, any error) it
// leaves to canonicalJSON, which then says what is wrong.
type canonicalizer struct {
	out   []byte
	keys  []byte       // the decoded keys of the objects being written
	spans []memberSpan // their members, innermost object last
	tmp   []byte       // an object's members while they are put in order
	str   string       // a string decoded by the slow path
}

// memberSpan is one member of an object: its decoded key in keys and its
// canonical "key":value in out.
type memberSpan struct{ keyStart, keyEnd, start, end int }

// errNotCanonical sends a value to canonicalJSON.
var errNotCanonical = errors.New("left to canonicalJSON")

// maxCanonicalDepth bounds the nesting the canonicalizer follows itself.
const maxCanonicalDepth = 64

// canonical is canonicalJSON(raw), in c's buffer: valid until the next call.
func (c *canonicalizer) canonical(raw []byte) ([]byte, error) {
	if out, ok := c.fast(raw); ok {
		return out, nil
	}
	return canonicalJSON(raw)
}

// fast is canonical without canonicalJSON: ok is false for what it leaves to it.
func (c *canonicalizer) fast(raw []byte) (out []byte, ok bool) {
	c.out, c.keys, c.spans = c.out[:0], c.keys[:0], c.spans[:0]
	i, err := c.value(raw, skipSpace(raw, 0), 0)
	if err != nil || skipSpace(raw, i) != len(raw) {
		return nil, false
	}
	return c.out, true
}

func skipSpace(s []byte, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t') {
		i++
	}
	return i
}

// value writes the value starting at s[i] and returns where it ends.
func (c *canonicalizer) value(s []byte, i, depth int) (int, error) {
	if i >= len(s) {
		return 0, errNotCanonical
	}
	switch b := s[i]; {
	case b == '{':
		return c.object(s, i, depth+1)
	case b == '[':
		return c.array(s, i, depth+1)
	case b == '"':
		return c.string(s, i, false)
	case b == '-' || (b >= '0' && b <= '9'):
		end, ok := numberEnd(s, i)
		if !ok {
			return 0, errNotCanonical
		}
		c.out = append(c.out, s[i:end]...) // json.Number: as written
		return end, nil
	}
	for _, lit := range [...]string{"true", "false", "null"} {
		if bytes.HasPrefix(s[i:], []byte(lit)) {
			c.out = append(c.out, lit...)
			return i + len(lit), nil
		}
	}
	return 0, errNotCanonical
}

// object writes the object at s[i] with its members sorted by key, the last
// of a repeated key kept, as a map marshals.
func (c *canonicalizer) object(s []byte, i, depth int) (int, error) {
	if depth > maxCanonicalDepth {
		return 0, errNotCanonical
	}
	c.out = append(c.out, '{')
	first, base := len(c.out), len(c.spans)
	i = skipSpace(s, i+1)
	if i < len(s) && s[i] == '}' {
		c.out = append(c.out, '}')
		return i + 1, nil
	}
	for {
		if i >= len(s) || s[i] != '"' {
			return 0, errNotCanonical
		}
		if len(c.spans) > base {
			c.out = append(c.out, ',')
		}
		span := memberSpan{keyStart: len(c.keys), start: len(c.out)}
		var err error
		if i, err = c.string(s, i, true); err != nil {
			return 0, err
		}
		span.keyEnd = len(c.keys)
		if i = skipSpace(s, i); i >= len(s) || s[i] != ':' {
			return 0, errNotCanonical
		}
		c.out = append(c.out, ':')
		if i, err = c.value(s, skipSpace(s, i+1), depth); err != nil {
			return 0, err
		}
		span.end = len(c.out)
		c.spans = append(c.spans, span)
		next, more, ok := afterMember(s, i, '}')
		if !ok {
			return 0, errNotCanonical
		}
		if i = next; more {
			continue
		}
		break
	}
	c.sortMembers(first, c.spans[base:])
	c.spans = c.spans[:base]
	c.out = append(c.out, '}')
	return i, nil
}

// sortMembers rewrites out from first, members separated by commas, in the
// order of their keys, keeping only the last member of a repeated key.
func (c *canonicalizer) sortMembers(first int, members []memberSpan) {
	key := func(m memberSpan) []byte { return c.keys[m.keyStart:m.keyEnd] }
	byKey := func(a, b memberSpan) int { return bytes.Compare(key(a), key(b)) }
	ordered := true // strictly: a repeated key needs rewriting too
	for i := 1; i < len(members) && ordered; i++ {
		ordered = byKey(members[i-1], members[i]) < 0
	}
	if ordered {
		return
	}
	c.tmp = append(c.tmp[:0], c.out[first:]...)
	slices.SortStableFunc(members, byKey)
	c.out = c.out[:first]
	for i, m := range members {
		if i+1 < len(members) && byKey(m, members[i+1]) == 0 {
			continue // a later value of the key replaces this one
		}
		if len(c.out) > first {
			c.out = append(c.out, ',')
		}
		c.out = append(c.out, c.tmp[m.start-first:m.end-first]...)
	}
}

// array writes the array at s[i], its elements in order.
func (c *canonicalizer) array(s []byte, i, depth int) (int, error) {
	if depth > maxCanonicalDepth {
		return 0, errNotCanonical
	}
	c.out = append(c.out, '[')
	i = skipSpace(s, i+1)
	if i < len(s) && s[i] == ']' {
		c.out = append(c.out, ']')
		return i + 1, nil
	}
	for {
		var err error
		if i, err = c.value(s, i, depth); err != nil {
			return 0, err
		}
		next, more, ok := afterMember(s, i, ']')
		if !ok {
			return 0, errNotCanonical
		}
		if more {
			c.out = append(c.out, ',')
			i = next
			continue
		}
		c.out = append(c.out, ']')
		return next, nil
	}
}

// string writes the string at s[i] as json.Marshal writes it, and for a key
// also appends its decoded bytes to keys. A string that marshals as it is
// written (no escapes, no character Marshal escapes) is copied; any other
// goes through encoding/json both ways.
func (c *canonicalizer) string(s []byte, i int, key bool) (int, error) {
	j := i + 1
	for j < len(s) {
		b := s[j]
		switch {
		case b == '"':
			c.out = append(c.out, s[i:j+1]...)
			if key {
				c.keys = append(c.keys, s[i+1:j]...)
			}
			return j + 1, nil
		case b < utf8.RuneSelf:
			if b < 0x20 || b == '\\' || b == '<' || b == '>' || b == '&' {
				return c.slowString(s, i, key)
			}
			j++
		default:
			r, size := utf8.DecodeRune(s[j:])
			if (r == utf8.RuneError && size == 1) || r == '\u2028' || r == '\u2029' {
				return c.slowString(s, i, key)
			}
			j += size
		}
	}
	return 0, errNotCanonical
}

// slowString is string for a string with escapes or characters Marshal
// escapes.
func (c *canonicalizer) slowString(s []byte, i int, key bool) (int, error) {
	j := i + 1
	for ; j < len(s) && s[j] != '"'; j++ {
		if s[j] == '\\' {
			j++
		}
	}
	if j >= len(s) {
		return 0, errNotCanonical
	}
	if err := json.Unmarshal(s[i:j+1], &c.str); err != nil {
		return 0, errNotCanonical
	}
	encoded, err := json.Marshal(c.str)
	if err != nil {
		return 0, errNotCanonical
	}
	c.out = append(c.out, encoded...)
	if key {
		c.keys = append(c.keys, c.str...)
	}
	return j + 1, nil
}

// numberEnd is where the JSON number at s[i] ends; ok is false when it is
// not one.
func numberEnd(s []byte, i int) (end int, ok bool) {
	digits := func(i int) int {
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i
	}
	if s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		i = digits(i)
	default:
		return 0, false
	}
	if i < len(s) && s[i] == '.' {
		j := digits(i + 1)
		if j == i+1 {
			return 0, false
		}
		i = j
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := digits(i)
		if j == i {
			return 0, false
		}
		i = j
	}
	return i, true
}
