package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// rawChunk bounds the ids one query asks for (SQLite allows 32766 variables).
const rawChunk = 500

// RawCharges returns the raw provider JSON the store keeps for each of ids;
// an id the store lacks, or holds without raw JSON, is absent from the map. A
// sync whose provider reports a charge's changes as rows of their own (PayPal's
// refunds) rebuilds the charge from it.
func (s *Store) RawCharges(ctx context.Context, ids []string) (map[string][]byte, error) {
	out := make(map[string][]byte, len(ids))
	err := queryByIDs(ctx, s.reader, `SELECT id, raw FROM charge_raw WHERE raw IS NOT NULL AND id IN `, ids, func(rows *sql.Rows) error {
		var id string
		var raw []byte
		if err := rows.Scan(&id, &raw); err != nil {
			return err
		}
		out[id] = raw
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read raw charges from %s: %w", s.path, err)
	}
	return out, nil
}

// StoredCharges returns the charges the store holds of ids, with their raw
// JSON where it keeps one, as the import's transaction sees them: an import
// of a report that adds to charges stored by earlier imports (a refund booked
// in a later report) reads them where it writes them, so nothing committed
// meanwhile is lost. An id the store lacks is absent from the map.
func (imp *ChargeImport) StoredCharges(ids []string) (map[string]reconcile.Charge, error) {
	out := make(map[string]reconcile.Charge, len(ids))
	err := queryByIDs(imp.ctx, imp.tx, `SELECT c.detect_record, r.raw FROM charges AS c
		LEFT JOIN charge_raw AS r ON r.id = c.id WHERE c.id IN `, ids, func(rows *sql.Rows) error {
		var record string
		var raw []byte
		if err := rows.Scan(&record, &raw); err != nil {
			return err
		}
		var c reconcile.Charge
		rest, err := parseLoadRecord(record, &c)
		if err != nil {
			return err
		}
		if rest != "" {
			return fmt.Errorf("the load record of charge %s has trailing bytes", c.ID)
		}
		c.Raw = raw
		out[c.ID] = c
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the stored charges an import adds to: %w", err)
	}
	return out, nil
}

// queryByIDs runs query, which ends in "id IN ", for ids, rawChunk at a time,
// and hands each row to scan.
func queryByIDs(ctx context.Context, q querier, query string, ids []string, scan func(*sql.Rows) error) error {
	for first := 0; first < len(ids); first += rawChunk {
		chunk := ids[first:min(first+rawChunk, len(ids))]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		rows, err := q.QueryContext(ctx, query+`(?`+strings.Repeat(",?", len(chunk)-1)+`)`, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			if err := scan(rows); err != nil {
				rows.Close()
				return err
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return err
		}
	}
	return nil
}
