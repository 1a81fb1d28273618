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
var keyLogColumns = []string{"idempotency_key", "order_ref", "charge_id", "created_at"}

// ReadKeyLog reads the merchant's own log of idempotency keys: CSV with a header
// row (idempotency_key, order_ref, optional charge_id and created_at in RFC 3339)
// or JSONL with the same fields, told apart by a first non-space byte of '{'; a
// byte-order mark is accepted and invalid UTF-8 refused (see TextFile).
// name is used in errors, which give the line. It returns every record or an
// error, never part of the file.
func ReadKeyLog(r io.Reader, name string) ([]KeyRecord, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if data, err = TextFile(data, name); err != nil {
		return nil, err
	}
	// Leading blank space is skipped only to choose the format, so that line
	// numbers stay right.
	switch first := bytes.TrimLeft(data, " \t\r\n"); {
	case len(first) == 0:
		return nil, fmt.Errorf("%s: the key log is empty", name)
	case first[0] == '{':
		return readKeyJSONL(bytes.NewReader(data), name)
	default:
		return readKeyCSV(bytes.NewReader(data), name)
	}
}

// keyLogRow is one row of a key log before validation.
type keyLogRow struct {
	Key       string `json:"idempotency_key"`
	OrderRef  string `json:"order_ref"`
	ChargeID  string `json:"charge_id"`
	CreatedAt string `json:"created_at"`
}

func (row keyLogRow) record() (KeyRecord, error) {
	k := KeyRecord{
		Key:      strings.TrimSpace(row.Key),
		OrderRef: strings.TrimSpace(row.OrderRef),
		ChargeID: strings.TrimSpace(row.ChargeID),
		Sources:  []string{SourceLog},
	}
	switch {
	case k.Key == "":
		return k, errors.New("idempotency_key is empty")
	case len(k.Key) > MaxIdempotencyKeyLen:
		return k, fmt.Errorf("idempotency_key is %d characters long; Stripe allows at most %d", len(k.Key), MaxIdempotencyKeyLen)
	}
	if at := strings.TrimSpace(row.CreatedAt); at != "" {
		t, err := time.Parse(time.RFC3339, at)
		if err != nil {
			return k, fmt.Errorf("created_at %q is not RFC 3339 (like 2026-11-22T09:10:00Z)", at)
		}
		k.SeenAt = t.UTC()
	}
	return k, nil
}

func readKeyCSV(r io.Reader, name string) ([]KeyRecord, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // checked below, with a clearer message
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: header: %w", name, err)
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		col[h] = i
	}
	for _, req := range keyLogColumns[:2] {
		if _, ok := col[req]; !ok {
			return nil, fmt.Errorf("%s line 1: the header has no %s column (need %s; optional %s)",
				name, req, strings.Join(keyLogColumns[:2], ", "), strings.Join(keyLogColumns[2:], ", "))
		}
	}
	var out []KeyRecord
	for {
		fields, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("%s line %d: %w", name, pe.Line, pe.Err)
			}
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		if len(fields) != len(header) {
			return nil, fmt.Errorf("%s line %d: %d fields, but the header has %d", name, line, len(fields), len(header))
		}
		get := func(c string) string {
			if i, ok := col[c]; ok {
				return fields[i]
			}
			return ""
		}
		rec, err := keyLogRow{Key: get("idempotency_key"), OrderRef: get("order_ref"), ChargeID: get("charge_id"), CreatedAt: get("created_at")}.record()
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %w", name, line, err)
		}
		out = append(out, rec)
	}
}

func readKeyJSONL(r io.Reader, name string) ([]KeyRecord, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	var out []KeyRecord
	for line := 1; sc.Scan(); line++ {
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		var row keyLogRow
		if err := json.Unmarshal(text, &row); err != nil {
			return nil, fmt.Errorf("%s line %d: not a JSON object with idempotency_key, order_ref, charge_id, created_at: %w", name, line, err)
		}
		rec, err := row.record()
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %w", name, line, err)
		}
		out = append(out, rec)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return out, nil
}
