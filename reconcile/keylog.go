package reconcile

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// keyLogColumns are the columns of a key log; idempotency_key and order_ref are
// required.
var keyLogColumns = []string{"idempotency_key", "order_ref", "charge_id", "created_at", "provider"}

// ReadKeyLog reads the merchant's own log of idempotency keys: CSV with a header
// row (idempotency_key, order_ref, optional charge_id, created_at in RFC 3339
// and provider) or JSONL with the same fields, told apart by a first non-space
// byte of '{'; a
// byte-order mark is accepted and invalid UTF-8 refused (see TextFile).
// name is used in errors, which give the line. It returns every record once,
// with the number of repeated rows it left out, or an error, never part of the
// file. A key logged twice for one charge with another order or time is an
// error naming both lines.
func ReadKeyLog(r io.Reader, name string) (records []KeyRecord, repeated int, err error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, 0, fmt.Errorf("read %s: %w", name, err)
	}
	if data, err = TextFile(data, name); err != nil {
		return nil, 0, err
	}
	log := keyLog{repeats: NewRepeats("key record"), now: time.Now()}
	// Leading blank space is skipped only to choose the format, so that line
	// numbers stay right.
	switch first := bytes.TrimLeft(data, " \t\r\n"); {
	case len(first) == 0:
		return nil, 0, fmt.Errorf("%s: the key log is empty", name)
	case first[0] == '{':
		err = log.readJSONL(bytes.NewReader(data), name)
	default:
		err = log.readCSV(bytes.NewReader(data), name)
	}
	if err != nil {
		return nil, 0, err
	}
	return log.records, log.repeats.Repeated, nil
}

// keyLog collects the records of one key log, each once.
type keyLog struct {
	records []KeyRecord
	repeats *Repeats
	now     time.Time // a created_at after it (and some clock skew) is refused
}

// add validates row, found on line, and keeps its record unless it repeats
// one already kept. A record is one key for one charge.
func (l *keyLog) add(row keyLogRow, line int) error {
	rec, err := row.record(l.now)
	if err != nil {
		return err
	}
	id := fmt.Sprintf("%q", rec.Key)
	if rec.ChargeID != "" {
		id += " for charge " + rec.ChargeID
	}
	repeat, err := l.repeats.Seen(id, rec.OrderRef+"\x00"+rec.SeenAt.String(), line)
	if err != nil || repeat {
		return err
	}
	l.records = append(l.records, rec)
	return nil
}

// keyLogRow is one row of a key log before validation.
type keyLogRow struct {
	Key       string `json:"idempotency_key"`
	OrderRef  string `json:"order_ref"`
	ChargeID  string `json:"charge_id"`
	CreatedAt string `json:"created_at"`
	Provider  string `json:"provider"`
}

// record is the row's record, refusing what no log of a provider's requests
// can hold: an empty key or one longer than the provider takes, a charge_id
// that is not a charge id (the log links a key to the charge it made; a
// PaymentIntent's key is found on its payment_intent.created event by sync),
// a created_at that is not RFC 3339, before the provider existed or in the
// future. The row's provider is its provider column, else the one whose
// charge ids have its charge_id's form; a row that says neither is held to the
// bounds of every provider (the longest key any takes, the earliest founding).
func (row keyLogRow) record(now time.Time) (KeyRecord, error) {
	k := KeyRecord{
		Key:      strings.TrimSpace(row.Key),
		OrderRef: strings.TrimSpace(row.OrderRef),
		ChargeID: strings.TrimSpace(row.ChargeID),
		Sources:  []string{SourceLog},
	}
	var p Provider // "" while the row does not say
	if name := strings.TrimSpace(row.Provider); name != "" {
		var err error
		if p, err = ParseProvider(name); err != nil {
			return k, fmt.Errorf("provider: %w", err)
		}
	}
	if k.ChargeID != "" {
		switch of, ok := ProviderOfChargeID(k.ChargeID); {
		case !ok && p == "":
			return k, fmt.Errorf("charge_id %.40q is not %s; leave it empty if the log does not know the charge", k.ChargeID, chargeIDForms())
		case p != "" && ok && of != p:
			return k, fmt.Errorf("charge_id %.40q is %s's, but the row's provider is %s", k.ChargeID, of.Title(), p.Title())
		case p != "" && !ok:
			return k, fmt.Errorf("charge_id %.40q is not %s; leave it empty if the log does not know the charge", k.ChargeID, p.ChargeIDForm())
		default:
			p = of
		}
	}
	if err := checkLoggedKey(p, k.Key); err != nil {
		return k, err
	}
	if at := strings.TrimSpace(row.CreatedAt); at != "" {
		t, err := time.Parse(time.RFC3339, at)
		if err != nil {
			return k, fmt.Errorf("created_at %q is not RFC 3339 (like 2026-11-22T09:10:00Z)", at)
		}
		if p == "" {
			err = checkCreatedAnyProvider(t, now)
		} else {
			err = checkCreated(p, t, now)
		}
		if err != nil {
			return k, fmt.Errorf("created_at %w", err)
		}
		k.SeenAt = t.UTC()
	}
	return k, nil
}

// checkLoggedKey refuses a key the provider p would not have taken; for p ""
// (the row does not say whose it is), one longer than any provider takes.
func checkLoggedKey(p Provider, key string) error {
	if key == "" {
		return errors.New("idempotency_key is empty")
	}
	if p != "" {
		if limit := p.MaxKeyLength(); len(key) > limit {
			return fmt.Errorf("idempotency_key is %d characters long; %s takes %s of at most %d", len(key), p.Title(), p.aKeyHeader(), limit)
		}
		return nil
	}
	longest := ProviderStripe
	for _, q := range Providers {
		if q.MaxKeyLength() > longest.MaxKeyLength() {
			longest = q
		}
	}
	if limit := longest.MaxKeyLength(); len(key) > limit {
		return fmt.Errorf("idempotency_key is %d characters long; no provider takes more than %d (%s's %s)", len(key), limit, longest.Title(), longest.KeyHeader())
	}
	return nil
}

// checkCreatedAnyProvider is checkCreated for a time of a provider not
// known: held to the founding of the first of them.
func checkCreatedAnyProvider(t, now time.Time) error {
	first := Providers[0]
	for _, p := range Providers {
		if p.founded().Before(first.founded()) {
			first = p
		}
	}
	if t.Before(first.founded()) {
		return fmt.Errorf("%s is before any provider doublecheck reads existed (%s, the first, in %d)",
			t.UTC().Format(time.RFC3339), first.Title(), first.founded().Year())
	}
	return checkCreated(first, t, now)
}

func (l *keyLog) readCSV(r io.Reader, name string) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // checked below, with a clearer message
	header, err := cr.Read()
	if err != nil {
		return fmt.Errorf("%s: header: %w", name, err)
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		col[h] = i
	}
	for _, req := range keyLogColumns[:2] {
		if _, ok := col[req]; !ok {
			return fmt.Errorf("%s line 1: the header has no %s column (need %s; optional %s)",
				name, req, strings.Join(keyLogColumns[:2], ", "), strings.Join(keyLogColumns[2:], ", "))
		}
	}
	for {
		fields, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				// StartLine: where the record begins, so an unclosed quote is
				// reported on its own line, not on the line the file ends.
				return fmt.Errorf("%s line %d: %w", name, pe.StartLine, pe.Err)
			}
			return fmt.Errorf("read %s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		if len(fields) != len(header) {
			return fmt.Errorf("%s line %d: %d fields, but the header has %d", name, line, len(fields), len(header))
		}
		get := func(c string) string {
			if i, ok := col[c]; ok {
				return fields[i]
			}
			return ""
		}
		row := keyLogRow{Key: get("idempotency_key"), OrderRef: get("order_ref"), ChargeID: get("charge_id"), CreatedAt: get("created_at"), Provider: get("provider")}
		if err := l.add(row, line); err != nil {
			return fmt.Errorf("%s line %d: %w", name, line, err)
		}
	}
}

func (l *keyLog) readJSONL(r io.Reader, name string) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for line := 1; sc.Scan(); line++ {
		text := bytes.TrimSpace(TrimLineBOM(bytes.TrimSpace(sc.Bytes())))
		if len(text) == 0 {
			continue
		}
		var row keyLogRow
		if err := json.Unmarshal(text, &row); err != nil {
			return fmt.Errorf("%s line %d: not a JSON object with idempotency_key, order_ref, charge_id, created_at, provider: %w", name, line, err)
		}
		if err := l.add(row, line); err != nil {
			return fmt.Errorf("%s line %d: %w", name, line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	return nil
}
