package store

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// TestRecordSorterOrdersRuns: records come back in the order of their ids,
// and of staging for one id, from many runs written while others fill, and
// from the records still held.
func TestRecordSorterOrdersRuns(t *testing.T) {
	smallImportRuns(t)
	s := recordSorter{dir: t.TempDir()}
	defer s.close()
	const n = 2000
	var want []string
	for i := range n {
		id := fmt.Sprintf("ch_%04d", (i*7919)%997) // ids repeat, out of order
		rec, err := appendRecord(nil, id, int64(i), reconcile.Place{File: "f", Line: i + 1}, [16]byte{}, []any{id}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.add(rec); err != nil {
			t.Fatal(err)
		}
		want = append(want, fmt.Sprintf("%s %06d", id, i))
	}
	if len(s.runs) < 10 {
		t.Fatalf("%d runs; the test needs many", len(s.runs))
	}
	slices.Sort(want)
	var got []string
	err := s.merged(func(rec []byte) error {
		id, seq, err := recordKey(rec)
		got = append(got, fmt.Sprintf("%s %06d", id, seq))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("merged %d records, out of order or lost; want %d", len(got), len(want))
	}
}

// TestRecordSorterWriteError: a run that cannot be written, while the next
// fills, fails the import rather than losing its records.
func TestRecordSorterWriteError(t *testing.T) {
	smallImportRuns(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "scratch")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	readOnly, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	s := recordSorter{dir: dir, file: readOnly}
	defer s.close()
	for i := 0; i < 50 && err == nil; i++ {
		var rec []byte
		if rec, err = appendRecord(nil, fmt.Sprintf("ch_%d", i), int64(i), reconcile.Place{File: "f", Line: i + 1}, [16]byte{}, []any{strings.Repeat("x", 1000)}, nil); err != nil {
			t.Fatal(err)
		}
		err = s.add(rec) // the second spill finds the first's error
	}
	if err == nil {
		err = s.merged(func([]byte) error { return nil })
	}
	if err == nil || !strings.Contains(err.Error(), "write the import's scratch file") {
		t.Fatalf("error %v, want the scratch file's write error", err)
	}
}
