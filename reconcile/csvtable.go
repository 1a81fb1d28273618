package reconcile

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// CSVTable reads a provider's CSV export by the names of its header row, never
// by position: providers add, drop and reorder columns, and operators choose
// their own. Names match whatever their case and surrounding spaces. A
// byte-order mark (spreadsheet programs write one) is skipped; text that is
// not UTF-8 is refused with its line and column.
type CSVTable struct {
	name   string
	cr     *csv.Reader
	header []string
	col    map[string]int // a header name, trimmed and lower-cased → its index
	fields []string
	line   int
}

// NewCSVTable reads the header row of the CSV file called name.
func NewCSVTable(r io.Reader, name string) (*CSVTable, error) {
	br := bufio.NewReader(r)
	if bom, _ := br.Peek(len(utf8BOM)); bytes.Equal(bom, utf8BOM) {
		br.Discard(len(utf8BOM))
	}
	t := &CSVTable{name: name, cr: csv.NewReader(br), col: map[string]int{}}
	t.cr.FieldsPerRecord = -1 // checked in Next, with a clearer message
	if first, _ := br.Peek(br.Size()); tabSeparated(first) {
		t.cr.Comma = '\t'
	}
	header, err := t.cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s is empty: expected a header row", name)
	}
	if err != nil {
		return nil, t.readError(err)
	}
	t.header, t.line = header, 1
	for i, h := range header {
		if !utf8.ValidString(h) {
			return nil, fmt.Errorf("%s line 1, column %d: not valid UTF-8 text; save the file as UTF-8", name, i+1)
		}
		key := strings.ToLower(strings.TrimSpace(h))
		if _, dup := t.col[key]; dup && key != "" {
			return nil, fmt.Errorf("%s line 1: the header names %q twice; which column holds it is not known", name, strings.TrimSpace(h))
		}
		t.col[key] = i
	}
	return t, nil
}

// CSVHeaderRow is the header row at the start of a file (head: its first bytes,
// a byte-order mark allowed), or nil when its first line is no CSV row. It lets
// an import recognise a format before reading the file.
func CSVHeaderRow(head []byte) []string {
	head = bytes.TrimPrefix(head, utf8BOM)
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		head = head[:i+1]
	}
	cr := csv.NewReader(bytes.NewReader(head))
	cr.FieldsPerRecord = -1
	if tabSeparated(head) {
		cr.Comma = '\t'
	}
	header, err := cr.Read()
	if err != nil || len(header) < 2 {
		return nil
	}
	for i := range header {
		header[i] = strings.TrimSpace(header[i])
	}
	return header
}

// tabSeparated is whether a file starting with head separates its fields
// with tabs (PayPal offers "Tab delimited" beside CSV): its first line has
// tabs and no commas.
func tabSeparated(head []byte) bool {
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		head = head[:i]
	}
	return bytes.IndexByte(head, '\t') >= 0 && bytes.IndexByte(head, ',') < 0
}

// HasAll is whether header (as CSVHeaderRow gives it) names every one of names,
// in any case.
func HasAll(header []string, names ...string) bool {
	for _, n := range names {
		found := false
		for _, h := range header {
			if strings.EqualFold(h, n) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// Column is the first of names the header has, and whether it has one.
func (t *CSVTable) Column(names ...string) (string, bool) {
	for _, n := range names {
		if _, ok := t.col[strings.ToLower(n)]; ok {
			return n, true
		}
	}
	return "", false
}

// Require refuses a header without one of the columns in each of sets (each
// set lists a column's accepted spellings), naming what is missing.
func (t *CSVTable) Require(what string, sets ...[]string) error {
	for _, names := range sets {
		if _, ok := t.Column(names...); !ok {
			return fmt.Errorf("%s line 1: the header has no %s column, which %s needs", t.name, strings.Join(names, " or "), what)
		}
	}
	return nil
}

// Header is the header row as the file gives it.
func (t *CSVTable) Header() []string { return t.header }

// Next reads the next row; false at the end of the file.
func (t *CSVTable) Next() (bool, error) {
	fields, err := t.cr.Read()
	if errors.Is(err, io.EOF) {
		return false, nil
	}
	if err != nil {
		return false, t.readError(err)
	}
	t.line, _ = t.cr.FieldPos(0)
	if len(fields) != len(t.header) {
		return false, fmt.Errorf("%s line %d: %d fields, but the header has %d", t.name, t.line, len(fields), len(t.header))
	}
	for i, f := range fields {
		if !utf8.ValidString(f) {
			return false, fmt.Errorf("%s line %d, %s: not valid UTF-8 text; save the file as UTF-8", t.name, t.line, OneLine(t.header[i]))
		}
	}
	t.fields = fields
	return true, nil
}

func (t *CSVTable) readError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		// StartLine: where the record begins, so an unclosed quote is
		// reported on its own line, not on the line the file ends.
		return fmt.Errorf("%s line %d: %w", t.name, pe.StartLine, pe.Err)
	}
	return fmt.Errorf("read %s: %w", t.name, err)
}

// Get is the current row's value of the first of names the header has,
// trimmed; "" when it has none of them.
func (t *CSVTable) Get(names ...string) string {
	for _, n := range names {
		if i, ok := t.col[strings.ToLower(n)]; ok {
			return strings.TrimSpace(t.fields[i])
		}
	}
	return ""
}

// Line is the line the current row starts on.
func (t *CSVTable) Line() int { return t.line }

// Place is where the current row is, for a record made of it.
func (t *CSVTable) Place() Place { return Place{File: t.name, Line: t.line, Element: -1} }

// OneLine is s as a message shows a value from a file: as it is, or quoted
// when it holds a line break or other control character, so that a message
// stays one line.
func OneLine(s string) string {
	if strings.ContainsFunc(s, unicode.IsControl) {
		return strconv.Quote(s)
	}
	return s
}

// FieldError is the refusal of the current row's field: the file, the line
// and the column, then what is wrong.
func (t *CSVTable) FieldError(field string, err error) error {
	return fmt.Errorf("%s line %d, %s: %w", t.name, t.line, OneLine(field), err)
}

// Each calls fn with each column's header and the current row's value, in
// the order of the header, for columns chosen by the caller by name (such as
// Stripe's "<field> (metadata)").
func (t *CSVTable) Each(fn func(header, value string)) {
	for i, h := range t.header {
		fn(strings.TrimSpace(h), t.fields[i])
	}
}

// Raw is the current row as a JSON object of its non-empty values by header,
// kept with the charge as the record it came from, and a digest of it, which
// tells a repeated row (the same digest) from a conflicting one.
func (t *CSVTable) Raw() ([]byte, [16]byte) {
	row := make(map[string]string, len(t.header))
	for i, h := range t.header {
		if v := t.fields[i]; v != "" {
			row[strings.TrimSpace(h)] = v
		}
	}
	raw, _ := json.Marshal(row) // a map of strings always marshals; keys sorted
	sum := sha256.Sum256(raw)
	var digest [16]byte
	copy(digest[:], sum[:])
	return raw, digest
}
