package stripeapi

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"time"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// ChargeRecord is one charge object read from a file; its digest is that of
// its compacted JSON.
type ChargeRecord = reconcile.ChargeRecord

// StreamCharges reads Stripe charge objects from a Stripe list response
// ({"object":"list","data":[…]}), a bare JSON array, or JSONL (one charge per
// line; blank lines are fine), and hands each to emit in the order of the file.
// It stops at the first problem with one sentence naming the file and the line,
// or the element and its byte offset; an error from emit stops it too. Each
// object goes through stripe-go's Charge type and the same conversion sync
// uses. Objects are decoded on every core while emit runs, and only a few
// batches of them are held at a time, so memory does not grow with the file.
// now is the command's clock: a charge created after it is refused.
func StreamCharges(r io.Reader, name string, now time.Time, emit func(*ChargeRecord) error) error {
	src := bufio.NewReaderSize(r, 1<<20)
	head, err := readHead(src, name)
	if err != nil {
		return err
	}
	batches := make(chan *chargeBatch, 2*decodeWorkers)
	work := make(chan *chargeBatch, 2*decodeWorkers)
	stop := make(chan struct{})
	split := splitter{name: name, now: now, batches: batches, work: work, stop: stop}
	go func() {
		defer close(batches)
		defer close(work)
		split.run(head, src)
	}()
	var wg sync.WaitGroup
	for range decodeWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range work {
				b.decode()
			}
		}()
	}
	defer wg.Wait()
	defer close(stop)
	for b := range batches {
		<-b.done
		for i := range b.out {
			if err := emit(&b.out[i]); err != nil {
				return err
			}
		}
		if b.err != nil {
			return b.err
		}
	}
	return nil
}

// decodeWorkers decode charge objects while emit stores the ones before them.
var decodeWorkers = max(1, runtime.GOMAXPROCS(0))

// batchSize is how many objects a decode worker takes at once.
const batchSize = 256

// maxFirstLine bounds the first line read to tell JSONL from a list response:
// a longer line is no single charge, so the file is read as one JSON document.
const maxFirstLine = 8 << 20

// fileHead is the start of a file read to choose its format: blank lines, then
// the first line with anything on it (or its first maxFirstLine bytes).
type fileHead struct {
	data      []byte // everything read, from the start of the file
	firstLine []byte // the first non-blank line, trimmed; within data
	lineNo    int    // its number
	whole     bool   // firstLine ends at a newline or the end of the file
}

func readHead(src *bufio.Reader, name string) (fileHead, error) {
	var h fileHead
	if bom, _ := src.Peek(3); bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		src.Discard(3)
	}
	for {
		start := len(h.data)
		line, err := readLine(src, maxFirstLine)
		h.data = append(h.data, line...)
		h.lineNo++
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
			return h, fmt.Errorf("read %s: %w", name, err)
		}
		if trimmed := bytes.TrimSpace(h.data[start:]); len(trimmed) > 0 {
			if err := reconcile.TextLine(h.data[start:], name, h.lineNo); err != nil {
				return h, err
			}
			h.firstLine, h.whole = trimmed, !errors.Is(err, bufio.ErrBufferFull)
			return h, nil
		}
		if err != nil {
			return h, fmt.Errorf("%s is empty: expected Stripe charges as a JSON list response or JSONL", name)
		}
	}
}

// readLine reads up to and including the next newline, or limit bytes
// (bufio.ErrBufferFull) or what is left of the file (io.EOF). A limit of 0
// means none.
func readLine(src *bufio.Reader, limit int) ([]byte, error) {
	var line []byte
	for {
		part, err := src.ReadSlice('\n')
		if err == nil && line == nil {
			return part, nil // the usual case: no copy
		}
		line = append(line, part...)
		if limit > 0 && len(line) >= limit {
			return line, bufio.ErrBufferFull
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			if err == nil || (errors.Is(err, io.EOF) && len(line) > 0) {
				return line, nil
			}
			return line, err
		}
	}
}

// isJSONL tells JSONL, which has a whole JSON value on its first line, from a
// list response, which is either on one line (then its object says "list") or
// spread over many.
func (h fileHead) isJSONL() bool {
	if !h.whole || !json.Valid(h.firstLine) {
		return false
	}
	var head struct {
		Object string `json:"object"`
	}
	return json.Unmarshal(h.firstLine, &head) != nil || head.Object != "list"
}

// chargeBatch is a run of raw charge objects, decoded by a worker; done is
// closed when out (and err, the problem that ends the file) are ready.
type chargeBatch struct {
	raw  [][]byte
	out  []ChargeRecord
	err  error
	done chan struct{}
	now  time.Time // the clock a charge's created time is checked against
}

// decode fills out with the batch's charges, up to the first problem. A
// record's digest is of its bytes: the same bytes are the same charge. Two
// records of one id written differently are compared only when they meet in
// the import (SameChargeJSON), which is rare; computing every line's
// canonical form here was a fifth of an import's reading.
func (b *chargeBatch) decode() {
	defer close(b.done)
	for i, raw := range b.raw {
		c, _, err := decodeFileCharge(raw, b.now)
		if err != nil {
			if !json.Valid(raw) {
				err = errors.New(jsonProblem(raw))
			}
			b.fail(i, err)
			return
		}
		b.out[i].Charge = c
		sum := sha256.Sum256(raw)
		copy(b.out[i].Digest[:], sum[:])
	}
}

// SameChargeJSON is whether a and b, two charge objects of one id from a
// file, are one record: the same bytes, or the same canonical form (see
// canonicalJSON: keys in another order, other spacing) when the fast decoder
// reads both. Only then: encoding/json reads some objects otherwise than
// their canonical form says (see TestSameChargeJSONMeansEqualCharges).
func SameChargeJSON(a, b []byte) bool {
	return bytes.Equal(a, b) || bytes.Equal(comparedForm(a), comparedForm(b))
}

// comparedForm is the form in which SameChargeJSON compares a charge object.
func comparedForm(raw []byte) []byte {
	if _, ok := fastCharge(raw); ok {
		var canon canonicalizer
		if form, err := canon.canonical(raw); err == nil {
			return append([]byte("canonical\x00"), form...)
		}
	}
	return append([]byte("raw\x00"), raw...)
}

// canonicalJSON is raw with its object keys sorted and no spacing, numbers as
// written: the same charge with its keys in another order, or spaced
// differently, is the same record, not a conflict.
func canonicalJSON(raw []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("more than one JSON value")
	}
	return json.Marshal(v) // maps marshal with sorted keys
}

func (b *chargeBatch) fail(i int, err error) {
	if b.err == nil {
		b.err = fmt.Errorf("%s: %w", b.out[i].Place, err)
	}
	b.out = b.out[:i]
}

// splitter cuts a file into raw charge objects and hands them out in batches,
// in order, to the decode workers (work) and to the emitter (batches).
type splitter struct {
	name          string
	now           time.Time
	batches, work chan *chargeBatch
	stop          chan struct{}
	current       *chargeBatch
}

// add puts one raw object, found at place, into the current batch.
func (s *splitter) add(raw []byte, place reconcile.Place) bool {
	if s.current == nil {
		s.current = &chargeBatch{done: make(chan struct{}), now: s.now}
	}
	s.current.raw = append(s.current.raw, raw)
	s.current.out = append(s.current.out, ChargeRecord{Place: place})
	if len(s.current.raw) == batchSize {
		return s.flush()
	}
	return true
}

// flush hands the current batch on; false when the emitter has stopped.
func (s *splitter) flush() bool {
	b := s.current
	s.current = nil
	if b == nil {
		return true
	}
	select {
	case s.batches <- b:
	case <-s.stop:
		return false
	}
	select {
	case s.work <- b:
	case <-s.stop:
		return false
	}
	return true
}

// fail ends the file with err, after the objects before it.
func (s *splitter) fail(err error) {
	if !s.flush() {
		return
	}
	b := &chargeBatch{err: err, done: make(chan struct{})}
	close(b.done)
	select {
	case s.batches <- b:
	case <-s.stop:
	}
}

func (s *splitter) run(head fileHead, src *bufio.Reader) {
	if head.firstLine[0] != '[' && head.isJSONL() {
		s.lines(head, src)
		return
	}
	doc := newTrackedReader(io.MultiReader(bytes.NewReader(head.data), src))
	var err error
	if head.firstLine[0] == '[' {
		err = s.array(doc)
	} else {
		err = s.list(doc)
	}
	if err != nil {
		s.fail(err)
		return
	}
	s.flush()
}

// lines reads JSONL: one charge object per line.
func (s *splitter) lines(head fileHead, src *bufio.Reader) {
	n := head.lineNo
	if !s.add(head.firstLine, reconcile.Place{File: s.name, Line: n, Element: -1}) {
		return
	}
	for {
		line, err := readLine(src, 0)
		if len(line) > 0 {
			n++
			if err := reconcile.TextLine(line, s.name, n); err != nil {
				s.fail(err)
				return
			}
			// A byte-order mark may start any line: files joined with cat.
			if line = bytes.TrimSpace(reconcile.TrimLineBOM(bytes.TrimSpace(line))); len(line) > 0 {
				// ReadSlice's buffer is reused by the next read.
				if !s.add(bytes.Clone(line), reconcile.Place{File: s.name, Line: n, Element: -1}) {
					return
				}
			}
		}
		if errors.Is(err, io.EOF) {
			s.flush()
			return
		}
		if err != nil {
			s.fail(fmt.Errorf("read %s: %w", s.name, err))
			return
		}
	}
}

// list reads a Stripe list response and decodes its data array.
func (s *splitter) list(doc *trackedReader) error {
	dec := json.NewDecoder(doc)
	if _, err := dec.Token(); err != nil { // the '{' of the head
		return doc.syntaxProblem(s.name, dec, err)
	}
	var object string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return doc.syntaxProblem(s.name, dec, err)
		}
		if tok != "data" {
			var value json.RawMessage
			if err := dec.Decode(&value); err != nil {
				return doc.syntaxProblem(s.name, dec, err)
			}
			if err := doc.textValue(value, dec, s.name); err != nil {
				return err
			}
			if tok == "object" {
				if err := json.Unmarshal(value, &object); err != nil {
					return fmt.Errorf("%s: the list's \"object\" is not a string: %w", s.name, err)
				}
			}
			continue
		}
		if err := s.elements(dec, doc); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return doc.syntaxProblem(s.name, dec, err)
	}
	if object != "list" {
		return fmt.Errorf(`%s: a JSON object that is not a Stripe list response (its "object" is %q); expected {"object":"list","data":[…]}, a JSON array or JSONL`, s.name, object)
	}
	return doc.trailing(dec, s.name)
}

// array reads a bare JSON array of charges.
func (s *splitter) array(doc *trackedReader) error {
	dec := json.NewDecoder(doc)
	if err := s.elements(dec, doc); err != nil {
		return err
	}
	return doc.trailing(dec, s.name)
}

// elements reads the array at the decoder's position, one element at a time so
// an error can name the element and where it starts.
func (s *splitter) elements(dec *json.Decoder, doc *trackedReader) error {
	tok, err := dec.Token()
	if err != nil {
		return doc.syntaxProblem(s.name, dec, err)
	}
	if tok != json.Delim('[') {
		return fmt.Errorf("%s: expected an array of charges at byte %d", s.name, dec.InputOffset())
	}
	for i := 0; dec.More(); i++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return doc.syntaxProblem(s.name, dec, err)
		}
		if err := doc.textValue(raw, dec, s.name); err != nil {
			return err
		}
		start := dec.InputOffset() - int64(len(raw))
		if !s.add(raw, reconcile.Place{File: s.name, Line: doc.lineAt(start), Element: i, Byte: start}) {
			return nil
		}
		doc.forget(start)
	}
	if _, err := dec.Token(); err != nil { // ']'
		return doc.syntaxProblem(s.name, dec, err)
	}
	return nil
}

// trackedReader passes a JSON document to a json.Decoder and keeps what it
// read since the value being decoded, so that a byte offset can be given a
// line without holding the whole file.
type trackedReader struct {
	r      io.Reader
	chunks []chunk
	base   int64 // offset of chunks[0]
	lines  int   // newlines before base
	total  int64 // bytes read
	err    error // the read error, if the document ended with one
}

type chunk struct {
	data     []byte
	newlines int
}

func newTrackedReader(r io.Reader) *trackedReader { return &trackedReader{r: r} }

func (t *trackedReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n > 0 {
		data := bytes.Clone(p[:n])
		t.chunks = append(t.chunks, chunk{data, bytes.Count(data, []byte("\n"))})
		t.total += int64(n)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		t.err = err
	}
	return n, err
}

// lineAt is the 1-based line of byte offset off, which must not be before
// the last offset given to forget.
func (t *trackedReader) lineAt(off int64) int {
	line, at := t.lines+1, t.base
	for _, c := range t.chunks {
		if off < at+int64(len(c.data)) {
			return line + bytes.Count(c.data[:max(off-at, 0)], []byte("\n"))
		}
		line += c.newlines
		at += int64(len(c.data))
	}
	return line
}

// forget drops what was read before offset off.
func (t *trackedReader) forget(off int64) {
	for len(t.chunks) > 1 && t.base+int64(len(t.chunks[0].data)) <= off {
		t.lines += t.chunks[0].newlines
		t.base += int64(len(t.chunks[0].data))
		t.chunks = t.chunks[1:]
	}
}

// textValue refuses a value holding invalid UTF-8, naming the line and the byte
// of the line: decoding would turn it into U+FFFD and store a changed value.
func (t *trackedReader) textValue(value []byte, dec *json.Decoder, name string) error {
	start := dec.InputOffset() - int64(len(value))
	lines := bytes.Split(value, []byte("\n"))
	for i, line := range lines {
		if err := reconcile.TextLine(line, name, t.lineAt(start)+i); err != nil {
			if i == 0 { // the value does not start its line: count from the line's start
				prefix := t.linePrefix(start)
				return reconcile.TextLine(append(prefix, line...), name, t.lineAt(start))
			}
			return err
		}
	}
	return nil
}

// linePrefix is the part of the line of off before off, as far as it is kept.
func (t *trackedReader) linePrefix(off int64) []byte {
	var kept []byte
	for _, c := range t.chunks {
		kept = append(kept, c.data...)
	}
	before := kept[:max(0, min(off-t.base, int64(len(kept))))]
	if nl := bytes.LastIndexByte(before, '\n'); nl >= 0 {
		before = before[nl+1:]
	}
	return bytes.Clone(before)
}

// trailing refuses anything after the JSON document.
func (t *trackedReader) trailing(dec *json.Decoder, name string) error {
	if _, err := dec.Token(); err != io.EOF {
		if t.err != nil {
			return fmt.Errorf("read %s: %w", name, t.err)
		}
		off := dec.InputOffset()
		return fmt.Errorf("%s: unexpected data after the JSON document at line %d (byte %d)", name, t.lineAt(off), off)
	}
	return nil
}

// syntaxProblem names where malformed JSON went wrong.
func (t *trackedReader) syntaxProblem(name string, dec *json.Decoder, err error) error {
	if t.err != nil {
		return fmt.Errorf("read %s: %w", name, t.err)
	}
	off := dec.InputOffset()
	var se *json.SyntaxError
	if errors.As(err, &se) {
		off = se.Offset
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%s: the JSON ends too early (byte %d): the file may be truncated", name, t.total)
	}
	return fmt.Errorf("%s line %d (byte %d): invalid JSON: %w", name, t.lineAt(off), off, err)
}

// jsonProblem describes why a line is not JSON.
func jsonProblem(line []byte) string {
	var v any
	if err := json.Unmarshal(line, &v); err != nil {
		return "invalid JSON: " + err.Error()
	}
	return "invalid JSON"
}
