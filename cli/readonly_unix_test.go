//go:build unix

package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestReadOnlyStoreIsReadNotDamaged: scan and export read a healthy store in a
// read-only directory or file; import says the store is read-only, never
// damaged, and changes nothing. Permissions do not stop root, so as root the
// binary runs as nobody.
func TestReadOnlyStoreIsReadNotDamaged(t *testing.T) {
	bin := builtBinary(t)
	for _, tc := range []struct {
		name              string
		fileMode, dirMode os.FileMode
	}{
		{"read-only directory", 0o666, 0o555},
		{"read-only file", 0o444, 0o755},
	} {
		t.Run(tc.name, func(t *testing.T) {
			top := t.TempDir()
			dir := filepath.Join(top, "stores")
			db := filepath.Join(dir, "s.db")
			if code, _, stderr := runCLI(t, "", "import", sampleCharges, "--db", db); code != 0 {
				t.Fatalf("import: %s", stderr)
			}
			before, _ := os.ReadFile(db)
			// The binary and the sample must be reachable by the other user.
			sample := filepath.Join(top, "charges.jsonl")
			data, _ := os.ReadFile(sampleCharges)
			exe, _ := os.ReadFile(bin)
			if os.WriteFile(sample, data, 0o644) != nil || os.WriteFile(filepath.Join(top, "doublecheck"), exe, 0o755) != nil {
				t.Fatal("cannot copy the binary and the sample")
			}
			for p, mode := range map[string]os.FileMode{filepath.Dir(top): 0o755, top: 0o755, db: tc.fileMode, dir: tc.dirMode} {
				if err := os.Chmod(p, mode); err != nil {
					t.Fatal(err)
				}
			}
			t.Cleanup(func() { os.Chmod(dir, 0o755) })

			run := func(args ...string) (int, string, string) {
				cmd := exec.Command(filepath.Join(top, "doublecheck"), args...)
				cmd.Env = []string{"HOME=" + top, "XDG_DATA_HOME=" + top, "PATH=/usr/bin:/bin"}
				if os.Geteuid() == 0 {
					cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
				}
				var stdout, stderr strings.Builder
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				err := cmd.Run()
				code := 0
				if exit, ok := err.(*exec.ExitError); ok {
					code = exit.ExitCode()
				} else if err != nil {
					t.Fatal(err)
				}
				return code, stdout.String(), stderr.String()
			}
			if code, stdout, stderr := run("scan", "--db", db); code != 0 || !strings.Contains(stdout, "open") {
				t.Errorf("scan: exit %d, stderr %q", code, stderr)
			}
			if code, stdout, stderr := run("export", "--db", db); code != 0 || !strings.HasPrefix(stdout, "kind,") {
				t.Errorf("export: exit %d, stderr %q", code, stderr)
			}
			code, _, stderr := run("import", sample, "--db", db)
			if code != exitError || !strings.Contains(stderr, "read-only") || strings.Contains(stderr, "damaged or") {
				t.Errorf("import into a read-only store: exit %d, stderr %q; want 1 saying read-only, not damaged", code, stderr)
			}
			if after, _ := os.ReadFile(db); string(after) != string(before) {
				t.Error("the store file changed")
			}
		})
	}
}
