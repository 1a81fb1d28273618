package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestWrite(t *testing.T) {
	t.Parallel()
	failed := errors.New("the report broke half way")
	for _, tc := range []struct {
		name     string
		old      string // the file before, if any
		write    func(io.Writer) error
		missing  bool // the directory does not exist
		want     string
		wantErr  string
		unwanted string // not in the error
	}{
		{"a new file", "", writeString("new"), false, "new", "", ""},
		{"replaces the old file", "old", writeString("new"), false, "new", "", ""},
		{"a failed write keeps the old file", "old", func(w io.Writer) error {
			io.WriteString(w, "half")
			return failed
		}, false, "old", "the report broke half way", ""},
		{"a missing directory, said without the temporary name", "", writeString("new"), true, "", "cannot write", ".doublecheck-"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, "report.csv")
			if tc.missing {
				path = filepath.Join(dir, "nowhere", "report.csv")
			}
			if tc.old != "" {
				os.WriteFile(path, []byte(tc.old), 0o644)
			}
			err := Write(path, tc.write)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), path) ||
					(tc.unwanted != "" && strings.Contains(err.Error(), tc.unwanted)) {
					t.Errorf("error %v, want %q naming %s and not %q", err, tc.wantErr, path, tc.unwanted)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if got, _ := os.ReadFile(path); string(got) != tc.want {
				t.Errorf("the file holds %q, want %q", got, tc.want)
			}
			if tc.want != "" && tc.old == "" && runtime.GOOS != "windows" {
				if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
					t.Errorf("mode %v (%v), want 0600", info.Mode().Perm(), err)
				}
			}
			if leftovers, _ := filepath.Glob(filepath.Join(dir, ".doublecheck-*")); len(leftovers) != 0 {
				t.Errorf("temporary files left behind: %v", leftovers)
			}
		})
	}
}

func writeString(s string) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := io.WriteString(w, s)
		return err
	}
}
