package store

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

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
		rec := appendRecord(nil, int64(i), reconcile.Place{File: "f", Line: i + 1}, [16]byte{}, &reconcile.Charge{ID: id})
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
		c := reconcile.Charge{ID: fmt.Sprintf("ch_%d", i), Raw: []byte(strings.Repeat("x", 1000))}
		err = s.add(appendRecord(nil, int64(i), reconcile.Place{File: "f", Line: i + 1}, [16]byte{}, &c)) // the second spill finds the first's error
	}
	if err == nil {
		err = s.merged(func([]byte) error { return nil })
	}
	if err == nil || !strings.Contains(err.Error(), "write the import's scratch file") {
		t.Fatalf("error %v, want the scratch file's write error", err)
	}
}

// TestStagedChargeKeepsEveryField: a charge staged for the import's sort and
// read back is the charge that was added, field for field (every field of
// reconcile.Charge set, so that a field added later fails here until it is
// staged), and yields the values the store would have held of it.
func TestStagedChargeKeepsEveryField(t *testing.T) {
	full := reconcile.Charge{}
	v := reflect.ValueOf(&full).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		switch f.Interface().(type) {
		case string, reconcile.Provider:
			f.SetString(fmt.Sprintf("value %d", i))
		case int64:
			f.SetInt(int64(1000 + i))
		case bool:
			f.SetBool(true)
		case time.Time:
			f.Set(reflect.ValueOf(time.Date(2026, 11, 29, 10, i, 7, 123456789, time.UTC)))
		case map[string]string:
			f.Set(reflect.ValueOf(map[string]string{"order_id": "o-1", "b": `"quoted"`}))
		case []byte:
			f.SetBytes([]byte(`{"id":"ch_full"}`))
		default:
			t.Fatalf("field %s of type %s: the test cannot set it; stage it and set it here", v.Type().Field(i).Name, f.Type())
		}
	}
	full.ID, full.Provider = "ch_full", reconcile.ProviderStripe
	for _, c := range []reconcile.Charge{full, {ID: "ch_bare", Provider: reconcile.ProviderPayPal}} {
		place := reconcile.Place{File: "f.jsonl", Line: 7, Element: 2, Byte: 99}
		r, err := readRecord(appendRecord(nil, 3, place, [16]byte{9}, &c))
		if err != nil {
			t.Fatal(err)
		}
		got, err := r.stagedCharge()
		if err != nil {
			t.Fatal(err)
		}
		if r.id != c.ID || r.place != place || r.digest != [16]byte{9} {
			t.Errorf("%s: read back id %s, place %+v, digest %x", c.ID, r.id, r.place, r.digest)
		}
		if !got.Created.Equal(c.Created) || !got.Observed.Equal(c.Observed) {
			t.Errorf("%s: times %v, %v; want %v, %v", c.ID, got.Created, got.Observed, c.Created, c.Observed)
		}
		got.Created, got.Observed = c.Created, c.Observed
		if !reflect.DeepEqual(got, c) {
			t.Errorf("%s: staged and read back as\n%+v\nwant\n%+v", c.ID, got, c)
		}
		wantArgs, wantRaw, err := appendChargeArgs(nil, nil, &c)
		if err != nil {
			t.Fatal(err)
		}
		gotArgs, gotRaw, err := r.appendArgs(nil, nil)
		if err != nil || !reflect.DeepEqual(gotArgs, wantArgs) || !reflect.DeepEqual(gotRaw, wantRaw) {
			t.Errorf("%s: stored values %v %v (error %v), want %v %v", c.ID, gotArgs, gotRaw, err, wantArgs, wantRaw)
		}
	}
}
