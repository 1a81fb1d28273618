package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestOpenReadOnlyAndExistingCreateNothing(t *testing.T) {
	for name, open := range map[string]func(context.Context, string) (*Store, error){
		"OpenReadOnly": OpenReadOnly, "OpenExisting": OpenExisting,
	} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "typo")
			path := filepath.Join(dir, "s.db")
			s, err := open(context.Background(), path)
			if err == nil {
				s.Close()
			}
			if !errors.Is(err, ErrNoStore) || !strings.Contains(err.Error(), "no such store at "+path) {
				t.Fatalf("error %v, want ErrNoStore naming %s", err, path)
			}
			if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s created %s (%v)", name, dir, err)
			}
		})
	}
	// An empty file is no store to read either; it is left as it is.
	empty := filepath.Join(t.TempDir(), "empty.db")
	os.WriteFile(empty, nil, 0o600)
	if _, err := OpenReadOnly(context.Background(), empty); !errors.Is(err, ErrNoStore) {
		t.Errorf("OpenReadOnly(empty file) error %v, want ErrNoStore", err)
	}
	if info, _ := os.Stat(empty); info.Size() != 0 {
		t.Errorf("the empty file was written: %d bytes", info.Size())
	}
}

func TestOpenReadOnlyReadsAndRefusesWrites(t *testing.T) {
	ctx := context.Background()
	path := storeFileWithData(t)
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	in, err := s.LoadInput(ctx)
	if err != nil || len(in.Charges) != 3000 {
		t.Fatalf("LoadInput: %d charges, %v; want 3000", len(in.Charges), err)
	}
	if err := s.SetState(ctx, "x", "y"); !errors.Is(err, ErrReadOnly) {
		t.Errorf("SetState on a read-only store: %v, want ErrReadOnly", err)
	}
	if err := s.SaveCharges(ctx, fakeCharges(5000, 1, true)); !errors.Is(err, ErrReadOnly) {
		t.Errorf("SaveCharges on a read-only store: %v, want ErrReadOnly", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("the store file changed")
	}
}

func TestOpenReadOnlyRefusesOldSchema(t *testing.T) {
	path := storeFileWithData(t)
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	all, _ := migrations(sqliteMigrations)
	if _, err := s.writer.Exec(`DELETE FROM schema_version WHERE version = ?`, len(all)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = OpenReadOnly(context.Background(), path)
	if err == nil || !strings.Contains(err.Error(), "needs an upgrade") {
		t.Fatalf("error %v, want one asking for an upgrade by a command that writes", err)
	}
}

// TestOpenMakesExistingFilesPrivate: a store is 0600 whatever created it.
func TestOpenMakesExistingFilesPrivate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix file modes")
	}
	path := storeFileWithData(t)
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	s.SetState(context.Background(), "x", "y") // leaves a -wal file while open
	for _, p := range []string{path, path + "-wal"} {
		if err := os.Chmod(p, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s2, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	s2.Close()
	s.Close()
	for _, p := range []string{path, path + "-wal"} {
		info, err := os.Stat(p)
		if errors.Is(err, os.ErrNotExist) {
			continue // the last close checkpointed and removed it
		}
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", p, info.Mode().Perm())
		}
	}
}
