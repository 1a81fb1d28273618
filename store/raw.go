package store

import (
	"context"
	"fmt"
	"strings"
)

// rawChunk bounds the ids one query asks for (SQLite allows 32766 variables).
const rawChunk = 500

// RawCharges returns the raw provider JSON the store keeps for each of ids;
// an id the store lacks, or holds without raw JSON, is absent from the map. A
// sync whose provider reports a charge's changes as rows of their own (PayPal's
// refunds) rebuilds the charge from it.
func (s *Store) RawCharges(ctx context.Context, ids []string) (map[string][]byte, error) {
	out := make(map[string][]byte, len(ids))
	for first := 0; first < len(ids); first += rawChunk {
		chunk := ids[first:min(first+rawChunk, len(ids))]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		rows, err := s.reader.QueryContext(ctx, `SELECT id, raw FROM charge_raw WHERE raw IS NOT NULL AND id IN (?`+
			strings.Repeat(",?", len(chunk)-1)+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("read raw charges from %s: %w", s.path, err)
		}
		for rows.Next() {
			var id string
			var raw []byte
			if err := rows.Scan(&id, &raw); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read raw charges from %s: %w", s.path, err)
			}
			out[id] = raw
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("read raw charges from %s: %w", s.path, err)
		}
	}
	return out, nil
}
