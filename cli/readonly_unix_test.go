//go:build unix

package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/doublecheck-dev/doublecheck/internal/unprivileged"
	"github.com/doublecheck-dev/doublecheck/reconcile"
	"github.com/doublecheck-dev/doublecheck/sandbox"
	"github.com/doublecheck-dev/doublecheck/store"
)

const offlineHelperEnv = "DOUBLECHECK_CLI_OFFLINE_HELPER"

// TestOfflineStoreHelper is the child of TestReadOnlyStoreIsReadNotDamaged: it
// opens the store as the offline dashboard does, and tries a dismissal.
func TestOfflineStoreHelper(t *testing.T) {
	path := os.Getenv(offlineHelperEnv)
	if path == "" {
		return
	}
	ctx := context.Background()
	st, err := openOffline(ctx, path)
	if err != nil {
		fmt.Println("openOffline:", err)
		os.Exit(0)
	}
	report, err := detect(ctx, st, reconcile.DefaultOptions())
	fmt.Println("groups:", len(report.Groups), err)
	err = decider{st}.Decide(ctx, []reconcile.Decision{{GroupID: report.Groups[0].ID, Kind: reconcile.DecisionDismissed}})
	fmt.Println("dismiss:", errors.Is(err, store.ErrReadOnly), err)
	os.Exit(0)
}

const keyedHelperEnv = "DOUBLECHECK_CLI_KEYED_HELPER"

// TestKeyedDashboardStoreHelper is the child of
// TestReadOnlyStoreIsReadNotDamaged: it opens the store as the dashboard with
// a key does (the key and server in STRIPE_API_KEY and STRIPE_API_BASE).
func TestKeyedDashboardStoreHelper(t *testing.T) {
	path := os.Getenv(keyedHelperEnv)
	if path == "" {
		return
	}
	env := OSEnv()
	env.Stderr = os.Stdout
	_, _, st, readOnlyStore, err := connectDashboard(context.Background(), env, &shared{db: path})
	if err == nil {
		st.Close()
	}
	fmt.Println("keyed dashboard: read-only", readOnlyStore, err)
	os.Exit(0)
}

// TestReadOnlyStoreIsReadNotDamaged: scan and export read a healthy store in a
// read-only directory or file; import says the store is read-only, never
// damaged, and changes nothing. Permissions do not stop root, so as root the
// binary runs as nobody.
func TestReadOnlyStoreIsReadNotDamaged(t *testing.T) {
	t.Parallel()
	bin := builtBinary(t)
	for _, tc := range []struct {
		name              string
		fileMode, dirMode os.FileMode
	}{
		{"read-only directory", 0o666, 0o555},
		{"read-only file", 0o444, 0o755},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			top := t.TempDir()
			dir := filepath.Join(top, "stores")
			db := filepath.Join(dir, "s.db")
			if code, _, stderr := runCLI(t, "", "import", sampleCharges, "--db", db); code != 0 {
				t.Fatalf("import: %s", stderr)
			}
			group := refundableGroup(t, db)
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
				var stdout, stderr strings.Builder
				err := whileBusy(func() error {
					cmd := exec.Command(filepath.Join(top, "doublecheck"), args...)
					cmd.Env = []string{"HOME=" + top, "XDG_DATA_HOME=" + top, "PATH=/usr/bin:/bin"}
					if err := unprivileged.Run(cmd); err != nil {
						t.Fatal(err)
					}
					stdout.Reset()
					stderr.Reset()
					cmd.Stdout, cmd.Stderr = &stdout, &stderr
					return cmd.Run()
				})
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
			// A dry run is a rehearsal: it reads a store it may not write.
			if code, stdout, stderr := run("refund", "--group", group, "--dry-run", "--db", db); code != 0 || !strings.Contains(stdout, "would refund") {
				t.Errorf("refund --dry-run: exit %d, stdout %q, stderr %q", code, stdout, stderr)
			}
			// The offline dashboard reads it, and a dismissal says it was not saved.
			exe, _ = os.ReadFile(os.Args[0])
			helper := filepath.Join(top, "cli.test")
			if err := os.WriteFile(helper, exe, 0o755); err != nil {
				t.Fatal(err)
			}
			var out []byte
			err := whileBusy(func() (err error) {
				cmd := exec.Command(helper, "-test.run=^TestOfflineStoreHelper$")
				cmd.Env = append(os.Environ(), offlineHelperEnv+"="+db)
				if err := unprivileged.Run(cmd); err != nil {
					t.Fatal(err)
				}
				out, err = cmd.CombinedOutput()
				return err
			})
			if err != nil || strings.Contains(string(out), "openOffline:") || !strings.Contains(string(out), "dismiss: true") {
				t.Errorf("offline dashboard on a read-only store: %v\n%s", err, out)
			}

			// The dashboard with a key opens it read-only, sync and refunds off.
			_, url := listenSandbox(t, sandbox.Options{Seed: 3, Ordinary: 5})
			dataDir := t.TempDir()
			os.Chmod(dataDir, 0o777)
			cmd := exec.Command(helper, "-test.run=^TestKeyedDashboardStoreHelper$")
			cmd.Env = append(os.Environ(), keyedHelperEnv+"="+db, "STRIPE_API_KEY="+sandbox.TestKey, "STRIPE_API_BASE="+url,
				"XDG_DATA_HOME="+dataDir, "HOME="+dataDir)
			if err := unprivileged.Run(cmd); err != nil {
				t.Fatal(err)
			}
			if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "keyed dashboard: read-only true <nil>") {
				t.Errorf("dashboard with a key on a read-only store: %v\n%s", err, out)
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

// whileBusy runs start again while the kernel says the program it runs, just
// copied, is busy: a process that a parallel test forks at that moment holds
// the copy's file open until it execs.
func whileBusy(start func() error) error {
	for range 50 {
		if err := start(); !errors.Is(err, syscall.ETXTBSY) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
	return start()
}

// refundableGroup is the id of a group of the store at db with a refund to send.
func refundableGroup(t *testing.T, db string) string {
	t.Helper()
	st, err := store.Open(context.Background(), db) // which leaves no -wal behind when it closes
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	report, err := detect(context.Background(), st, reconcile.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	for i := range report.Groups {
		if report.Groups[i].HasRefund() {
			return report.Groups[i].ID
		}
	}
	t.Fatal("no group with a refund to send in the sample")
	return ""
}
