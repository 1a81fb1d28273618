//go:build unix

package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/doublecheck-dev/doublecheck/internal/unprivileged"
)

const readOnlyHelperEnv = "DOUBLECHECK_STORE_READONLY_HELPER"

// TestReadOnlyHelper is the child of TestReadOnlyStoreIsNotDamaged: it opens
// the store at its argument every way and prints what each said.
func TestReadOnlyHelper(t *testing.T) {
	path := os.Getenv(readOnlyHelperEnv)
	if path == "" {
		return
	}
	ctx := context.Background()
	if s, err := OpenReadOnly(ctx, path); err != nil {
		fmt.Println("OpenReadOnly:", err)
	} else {
		value, err := s.State(ctx, "account")
		fmt.Println("OpenReadOnly: read", value, err)
		s.Close()
	}
	s, err := Open(ctx, path)
	if err == nil {
		err = s.SetState(ctx, "account", "changed")
		s.Close()
	}
	fmt.Println("Open:", err, errors.Is(err, ErrReadOnly))
	os.Exit(0)
}

// TestReadOnlyStoreIsNotDamaged: a healthy store in a read-only directory, or a
// read-only file, is read by OpenReadOnly and called read-only, never damaged,
// by Open. Permissions do not stop root, so as root the child runs as nobody.
func TestReadOnlyStoreIsNotDamaged(t *testing.T) {
	for _, tc := range []struct {
		name              string
		fileMode, dirMode os.FileMode
		damage            bool
		walWithoutShm     bool // a copy taken while the store was open: changes in its -wal, no -shm
	}{
		{"read-only directory", 0o666, 0o555, false, false},
		{"read-only file", 0o444, 0o755, false, false},
		// Read-only is no excuse to hide real damage.
		{"damaged read-only file", 0o444, 0o755, true, false},
		{"read-only directory, a -wal without -shm", 0o666, 0o555, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			top := t.TempDir()
			dir := filepath.Join(top, "stores")
			path := filepath.Join(dir, "s.db")
			s, err := Open(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.SetState(context.Background(), "account", "Acme"); err != nil {
				t.Fatal(err)
			}
			if tc.damage {
				if err := s.SaveCharges(context.Background(), fakeCharges(0, 3000, true)); err != nil {
					t.Fatal(err)
				}
			}
			if tc.walWithoutShm {
				// The state is in the -wal until the store closes: copy the
				// store and its -wal now, without the -shm.
				copyTo := filepath.Join(top, "copy")
				if err := os.MkdirAll(copyTo, 0o755); err != nil {
					t.Fatal(err)
				}
				for _, suffix := range []string{"", "-wal"} {
					data, err := os.ReadFile(path + suffix)
					if err != nil || len(data) == 0 {
						t.Fatalf("%s%s: %d bytes, %v; want changes in it", path, suffix, len(data), err)
					}
					if err := os.WriteFile(filepath.Join(copyTo, "s.db"+suffix), data, 0o666); err != nil {
						t.Fatal(err)
					}
				}
				dir, path = copyTo, filepath.Join(copyTo, "s.db")
			}
			s.Close()
			if tc.damage {
				data, _ := os.ReadFile(path)
				copy(data[len(data)/2:], bytes.Repeat([]byte{0xA5, 0x5A, 0x13, 0x77}, 4096))
				if err := os.WriteFile(path, data, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			before, _ := os.ReadFile(path)
			for p, mode := range map[string]os.FileMode{filepath.Dir(top): 0o755, top: 0o755, path: tc.fileMode, dir: tc.dirMode} {
				if err := os.Chmod(p, mode); err != nil {
					t.Fatal(err)
				}
			}
			t.Cleanup(func() { os.Chmod(dir, 0o755) })

			// The test binary's own directory is private to this user.
			helper := filepath.Join(top, "store.test")
			if bin, err := os.ReadFile(os.Args[0]); err != nil || os.WriteFile(helper, bin, 0o755) != nil {
				t.Fatalf("copy the test binary: %v", err)
			}
			cmd := exec.Command(helper, "-test.run=^TestReadOnlyHelper$")
			cmd.Env = append(os.Environ(), readOnlyHelperEnv+"="+path)
			if err := unprivileged.Run(cmd); err != nil {
				t.Fatal(err)
			}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("helper: %v\n%s", err, out)
			}
			got := string(out)
			t.Log(got)
			if tc.damage {
				if strings.Count(got, "damaged or not a doublecheck store") != 2 || strings.Contains(got, "is read-only") {
					t.Errorf("both opens should report the damage, not read-only:\n%s", got)
				}
				return
			}
			if tc.walWithoutShm {
				if strings.Count(got, "its -wal cannot be read without a -shm") != 2 || strings.Contains(got, "damaged or") ||
					!strings.Contains(got, "copy the store with its -wal to a writable directory") || strings.Contains(got, "OpenReadOnly: read") {
					t.Errorf("both opens should say the -wal needs a -shm, never damaged, and read nothing without the -wal:\n%s", got)
				}
				return
			}
			if !strings.Contains(got, "OpenReadOnly: read Acme <nil>") {
				t.Errorf("OpenReadOnly did not read the store:\n%s", got)
			}
			if !strings.Contains(got, "is read-only") || !strings.Contains(got, "true") || strings.Contains(got, "damaged or") {
				t.Errorf("Open should say read-only (ErrReadOnly), never damaged:\n%s", got)
			}
			if after, _ := os.ReadFile(path); string(after) != string(before) {
				t.Error("the store file changed")
			}
		})
	}
}
