package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/doublecheck-dev/doublecheck/reconcile"
	"github.com/doublecheck-dev/doublecheck/sandbox"
	"github.com/doublecheck-dev/doublecheck/store"
)

// accountEnv is an environment whose key is key on the sandbox at url, with
// its own data dir shared by every command run in it.
func accountEnv(t *testing.T, key, url string) (Env, *bytes.Buffer) {
	t.Helper()
	var out bytes.Buffer
	env := testEnv(t, "", &out, &out)
	env.Getenv = func(name string) string {
		return map[string]string{"STRIPE_API_KEY": key, "STRIPE_API_BASE": url}[name]
	}
	return env, &out
}

// TestImportNeverMixesIntoASyncedStore: a file goes into the store the key's
// account syncs into only when the operator agrees, and never into a store of
// the other mode, which is refused before any question. The question names the
// file's charge objects (counted in a first pass; repeats among them are
// stored once).
func TestImportNeverMixesIntoASyncedStore(t *testing.T) {
	t.Parallel()
	_, url := listenSandbox(t, sandbox.Options{Seed: 3, Ordinary: 30})
	sample, err := os.ReadFile(sampleCharges)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, key string
		args      []string // after import
		stdin     string
		terminal  bool
		wantCode  int
		want      []string
		notWant   []string
	}{
		{"test store, no terminal", sandbox.TestKey, []string{sampleCharges}, "", false, exitError,
			[]string{"refusing to import 462 charge records from ../testdata/charges.jsonl into the store", "synced data of", "test mode", "--db PATH", "--yes"}, nil},
		{"LIVE store, no terminal: the modes differ", sandbox.LiveKey, []string{sampleCharges}, "", false, exitError,
			[]string{"the file holds test-mode charges but the store", "is a LIVE store"}, []string{"refusing to import 462"}},
		{"LIVE store, --yes: the modes differ", sandbox.LiveKey, []string{sampleCharges, "--yes"}, "", false, exitError,
			[]string{"the file holds test-mode charges but the store", "is a LIVE store", "nothing was stored"}, nil},
		{"LIVE store on a terminal: the modes differ, so nothing is asked", sandbox.LiveKey, []string{sampleCharges}, "y\n", true, exitError,
			[]string{"the file holds test-mode charges but the store", "is a LIVE store"}, []string{"[y/N]"}},
		{"test store, the operator declines", sandbox.TestKey, []string{sampleCharges}, "\n", true, exitError,
			[]string{"Import 462 charge records from ../testdata/charges.jsonl", "[y/N]", "test mode", "import cancelled: nothing was stored"}, nil},
		{"test store, the operator agrees", sandbox.TestKey, []string{sampleCharges}, "yes\n", true, exitOK,
			[]string{"Import 462 charge records", "imported 462 charges from ../testdata/charges.jsonl into " + "STORE"}, nil},
		{"test store, --yes", sandbox.TestKey, []string{sampleCharges, "--yes"}, "", false, exitOK,
			[]string{"imported 462 charges from ../testdata/charges.jsonl into " + "STORE"}, []string{"[y/N]"}},
		{"test store, standard input on a terminal: it holds the file, not an answer", sandbox.TestKey, []string{"-"}, string(sample), true, exitError,
			[]string{"refusing to import the charges of standard input into the store", "--yes"}, []string{"[y/N]"}},
		{"test store, standard input with --yes", sandbox.TestKey, []string{"-", "--yes"}, string(sample), false, exitOK,
			[]string{"imported 462 charges from standard input into " + "STORE"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env, out := accountEnv(t, tc.key, url)
			if code := Run(context.Background(), []string{"sync"}, env); code != 0 {
				t.Fatalf("sync exited %d:\n%s", code, out)
			}
			before := scanOutput(t, env, out)
			out.Reset()
			env.Stdin, env.Terminal = strings.NewReader(tc.stdin), tc.terminal
			code := Run(context.Background(), append([]string{"import"}, tc.args...), env)
			got := out.String()
			if code != tc.wantCode {
				t.Fatalf("import exited %d, want %d:\n%s", code, tc.wantCode, got)
			}
			paths, _ := filepath.Glob(filepath.Join(env.DataDir, "*.db"))
			if len(paths) != 1 {
				t.Fatalf("stores %v, want the account's one", paths)
			}
			for _, w := range tc.want {
				if !strings.Contains(got, strings.ReplaceAll(w, "STORE", paths[0])) {
					t.Errorf("output lacks %q:\n%s", w, got)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(got, w) {
					t.Errorf("output has %q:\n%s", w, got)
				}
			}
			if after := scanOutput(t, env, out); tc.wantCode != exitOK && after != before {
				t.Errorf("a refused import changed the store")
			}
		})
	}
}

// questionWriter collects what a command prints and closes asked when a
// question ("[y/N]") has been printed.
type questionWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	asked chan struct{}
}

func (w *questionWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(p)
	if strings.Contains(w.buf.String(), "[y/N]") && w.asked != nil {
		close(w.asked)
		w.asked = nil
	}
	return n, err
}

func (w *questionWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestImportAsksBeforeLockingTheStore: while import waits for the operator's
// answer, another process can still write to the store (a sync, a refund):
// the question comes before the import takes the store's write lock.
func TestImportAsksBeforeLockingTheStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, url := listenSandbox(t, sandbox.Options{Seed: 3, Ordinary: 30})
	env, out := accountEnv(t, sandbox.TestKey, url)
	if code := Run(ctx, []string{"sync"}, env); code != 0 {
		t.Fatalf("sync exited %d:\n%s", code, out)
	}
	paths, _ := filepath.Glob(filepath.Join(env.DataDir, "*.db"))
	if len(paths) != 1 {
		t.Fatalf("stores %v, want the account's one", paths)
	}
	answer, answerWriter := io.Pipe()
	defer answerWriter.Close()
	console := &questionWriter{asked: make(chan struct{})}
	asked := console.asked
	env.Stdin, env.Stdout, env.Stderr, env.Terminal = answer, console, console, true
	done := make(chan int, 1)
	go func() { done <- Run(ctx, []string{"import", sampleCharges}, env) }()
	select {
	case <-asked:
	case code := <-done:
		t.Fatalf("import exited %d without asking:\n%s", code, console)
	}

	other, err := store.Open(ctx, paths[0])
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	decision := reconcile.Decision{GroupID: "grp_elsewhere", Kind: reconcile.DecisionDismissed, Operator: "bo", At: time.Now(), Charges: []string{"ch_elsewhere"}}
	if err := other.RecordDecisions(ctx, []reconcile.Decision{decision}); err != nil {
		t.Errorf("a write while import asks: %v", err)
	}

	if _, err := io.WriteString(answerWriter, "y\n"); err != nil {
		t.Fatal(err)
	}
	if code := <-done; code != exitOK || !strings.Contains(console.String(), "imported 462 charges") {
		t.Fatalf("import exited %d after yes:\n%s", code, console)
	}
}

// TestImportFromAPipe: standard input that is a pipe, which cannot seek back,
// is read once, its first charge kept for the whole import.
func TestImportFromAPipe(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(sampleCharges)
	if err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	go func() {
		w.Write(data)
		w.Close()
	}()
	var out bytes.Buffer
	env := testEnv(t, "", &out, &out)
	env.Stdin = r
	db := filepath.Join(t.TempDir(), "s.db")
	if code := Run(context.Background(), []string{"import", "-", "--db", db}, env); code != 0 || !strings.Contains(out.String(), "imported 462 charges from standard input") {
		t.Fatalf("import from a pipe exited %d:\n%s", code, out.String())
	}
	if got := scanStore(t, db); got.Summary.Charges != 462 {
		t.Errorf("the store holds %d charges, want 462", got.Summary.Charges)
	}
}

// chargeIDOnLine is the id of the charge object on a line of JSONL.
func chargeIDOnLine(t *testing.T, line string) string {
	t.Helper()
	var c struct{ ID string }
	if err := json.Unmarshal([]byte(line), &c); err != nil || c.ID == "" {
		t.Fatalf("no charge id on %q: %v", line, err)
	}
	return c.ID
}

// scanOutput is what scan --format json prints for env's store.
func scanOutput(t *testing.T, env Env, out *bytes.Buffer) string {
	t.Helper()
	var stdout bytes.Buffer
	env.Stdout, env.Stderr = &stdout, out
	if code := Run(context.Background(), []string{"scan", "--format", "json"}, env); code != 0 {
		t.Fatalf("scan exited %d:\n%s", code, out)
	}
	return stdout.String()
}

// TestImportRefusesMixedModes: with --db, the operator chose the store, yet a
// file of the other mode, or of both modes, is still refused.
func TestImportRefusesMixedModes(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(sampleCharges)
	if err != nil {
		t.Fatal(err)
	}
	live := strings.ReplaceAll(string(data), `"livemode":false`, `"livemode":true`)
	lines := strings.SplitAfter(string(data), "\n")
	mixed := strings.Join(lines[:5], "") + strings.SplitAfter(live, "\n")[5] + strings.Join(lines[6:], "")
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	testFile, liveFile, mixedFile := write("test.jsonl", string(data)), write("live.jsonl", live), write("mixed.jsonl", mixed)

	for _, tc := range []struct {
		name        string
		first, then string
		want        string
	}{
		{"live file into a test store", testFile, liveFile, "the file holds LIVE charges but the store"},
		{"test file into a live store", liveFile, testFile, "the file holds test-mode charges but the store"},
		{"a file of both modes", "", mixedFile, mixedFile + " line 6: charge " + chargeIDOnLine(t, lines[5]) +
			": livemode is true (LIVE), but charge " + chargeIDOnLine(t, lines[0]) + " on line 1 is test-mode: the file mixes modes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			db := filepath.Join(t.TempDir(), "s.db")
			if tc.first != "" {
				if code, _, stderr := runCLI(t, "", "import", tc.first, "--db", db); code != 0 {
					t.Fatalf("first import: %s", stderr)
				}
			}
			code, _, stderr := runCLI(t, "", "import", tc.then, "--db", db)
			if code != exitError || !strings.Contains(stderr, tc.then) || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want 1 naming the file and %q", code, stderr, tc.want)
			}
			if tc.first == "" {
				return
			}
			if got := scanStore(t, db); got.Summary.Charges != 462 {
				t.Errorf("the store holds %d charges after a refused import, want 462", got.Summary.Charges)
			}
		})
	}
}

// TestReadingCommandsCreateNoStore: scan, export and the offline dashboard on a
// mistyped --db say so and create nothing.
func TestReadingCommandsCreateNoStore(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"scan"}, {"export"}, {"scan", "--format", "csv"}, {}} {
		t.Run(strings.Join(append([]string{"doublecheck"}, args...), " "), func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "typo")
			db := filepath.Join(dir, "stroe.db")
			var out bytes.Buffer
			env := testEnv(t, "", &out, &out)
			env.Terminal = true // so that the dashboard gets as far as its store
			code := Run(context.Background(), append(args, "--db", db), env)
			if code != exitError || !strings.Contains(out.String(), "no such store at "+db) {
				t.Errorf("exit %d, output %q; want 1 and no such store", code, out.String())
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("%s was created", dir)
			}
		})
	}
}

// TestStoreGivenAsDBIsMadePrivate: a store is 0600 whatever created the file.
func TestStoreGivenAsDBIsMadePrivate(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("no Unix file modes")
	}
	db := filepath.Join(t.TempDir(), "shared.db")
	if err := os.WriteFile(db, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(db, 0o644) // whatever the umask
	if code, _, stderr := runCLI(t, "", "import", sampleCharges, "--db", db); code != 0 {
		t.Fatalf("import: %s", stderr)
	}
	if info, err := os.Stat(db); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("mode %v (%v), want 0600", info.Mode().Perm(), err)
	}
}

// TestKeysImportIntoASyncedStoreNeedsConsent: the key log follows the same
// rule as charges for the store of the key's account.
func TestKeysImportIntoASyncedStoreNeedsConsent(t *testing.T) {
	t.Parallel()
	_, url := listenSandbox(t, sandbox.Options{Seed: 3, Ordinary: 30})
	env, out := accountEnv(t, sandbox.TestKey, url)
	if code := Run(context.Background(), []string{"sync"}, env); code != 0 {
		t.Fatalf("sync exited %d:\n%s", code, out)
	}
	for _, tc := range []struct {
		args     []string
		wantCode int
		want     string
	}{
		{nil, exitError, "refusing to import 141 idempotency keys from ../testdata/keys.csv into the store"},
		{[]string{"--yes"}, exitOK, "imported 141 idempotency keys from ../testdata/keys.csv into"},
	} {
		out.Reset()
		code := Run(context.Background(), append([]string{"keys", "import", "../testdata/keys.csv"}, tc.args...), env)
		if code != tc.wantCode || !strings.Contains(out.String(), tc.want) {
			t.Errorf("keys import %v: exit %d, %q; want %d and %q", tc.args, code, out, tc.wantCode, tc.want)
		}
	}
}

// TestStoreModeIsFixedAtFirstWrite: a store's mode is fixed by the key it was
// found by, or by its first write, even while it is empty; an import or a sync
// of the other mode is refused, and without a key a live file goes into a live
// store of its own.
func TestStoreModeIsFixedAtFirstWrite(t *testing.T) {
	t.Parallel()
	_, url := listenSandbox(t, sandbox.Options{Seed: 3, Ordinary: 5})
	data, err := os.ReadFile(sampleCharges)
	if err != nil {
		t.Fatal(err)
	}
	liveFile := filepath.Join(t.TempDir(), "live.jsonl")
	if err := os.WriteFile(liveFile, []byte(strings.ReplaceAll(string(data), `"livemode":false`, `"livemode":true`)), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(env Env, out *bytes.Buffer, args ...string) (int, string) {
		out.Reset()
		code := Run(context.Background(), args, env)
		return code, out.String()
	}
	stores := func(dataDir string) []string {
		paths, _ := filepath.Glob(filepath.Join(dataDir, "*.db"))
		for i, p := range paths {
			paths[i] = filepath.Base(p)
		}
		return paths
	}

	t.Run("a live file into the empty store of a test key", func(t *testing.T) {
		env, out := accountEnv(t, sandbox.TestKey, url)
		code, got := run(env, out, "import", liveFile, "--yes")
		if code != exitError || !strings.Contains(got, "the file holds LIVE charges but the store") || !strings.Contains(got, "is a test-mode store") {
			t.Fatalf("exit %d:\n%s\nwant the live file refused", code, got)
		}
	})
	t.Run("a sync of the other mode into an imported store", func(t *testing.T) {
		env, out := accountEnv(t, sandbox.TestKey, url)
		db := filepath.Join(t.TempDir(), "s.db")
		if code, got := run(env, out, "import", liveFile, "--db", db); code != 0 {
			t.Fatalf("import exited %d:\n%s", code, got)
		}
		code, got := run(env, out, "sync", "--db", db)
		if code == 0 || !strings.Contains(got, "is a LIVE store and cannot take test-mode data") {
			t.Fatalf("sync exited %d:\n%s\nwant the test key refused on the live store", code, got)
		}
		if got := scanStore(t, db); got.Summary.Charges != 462 {
			t.Errorf("the store holds %d charges after a refused sync, want the 462 imported", got.Summary.Charges)
		}
	})
	t.Run("without a key, each mode has its own store", func(t *testing.T) {
		env, out := accountEnv(t, "", url)
		if code, got := run(env, out, "import", liveFile); code != 0 || !strings.Contains(got, "local-live.db") {
			t.Fatalf("import exited %d:\n%s\nwant it in local-live.db", code, got)
		}
		if code, got := run(env, out, "scan"); code == exitError || !strings.Contains(got, "LIVE") {
			t.Errorf("scan without a key exited %d:\n%s\nwant the live store, said LIVE", code, got)
		}
		if code, got := run(env, out, "import", sampleCharges); code != 0 || !strings.Contains(got, "local-test.db") {
			t.Fatalf("import exited %d:\n%s\nwant it in local-test.db", code, got)
		}
		if got := stores(env.DataDir); strings.Join(got, " ") != "local-live.db local-test.db" {
			t.Errorf("stores %v, want one per mode", got)
		}
	})
}

// TestImportCountsInWords: one charge is "1 charge".
func TestImportCountsInWords(t *testing.T) {
	data, err := os.ReadFile(sampleCharges)
	if err != nil {
		t.Fatal(err)
	}
	one := filepath.Join(t.TempDir(), "one.jsonl")
	first, _, _ := strings.Cut(string(data), "\n")
	if err := os.WriteFile(one, []byte(first+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, "", "import", one, "--db", filepath.Join(t.TempDir(), "s.db"))
	if code != 0 || !strings.Contains(stderr, "imported 1 charge from") {
		t.Errorf("exit %d, stderr %q; want \"imported 1 charge from\"", code, stderr)
	}
}

// TestImportChecksCreatedByTheCommandsClock: a charge created after the
// command's clock (Env.Now), not the machine's, is refused.
func TestImportChecksCreatedByTheCommandsClock(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		now      time.Time
		wantCode int
		want     string
	}{
		{"a clock after the file's charges", time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC), exitOK, "imported 462 charges"},
		{"a clock before the file's charges", time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), exitError, sampleCharges + " line 1: Stripe charge "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			env := testEnv(t, "", &out, &out)
			env.Now = func() time.Time { return tc.now }
			code := Run(context.Background(), []string{"import", sampleCharges, "--db", filepath.Join(t.TempDir(), "s.db")}, env)
			if code != tc.wantCode || !strings.Contains(out.String(), tc.want) || (code != exitOK && !strings.Contains(out.String(), "is in the future")) {
				t.Errorf("exit %d:\n%s\nwant %d and %q", code, out.String(), tc.wantCode, tc.want)
			}
		})
	}
}
