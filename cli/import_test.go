package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"doublecheck/sandbox"
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
// the other mode.
func TestImportNeverMixesIntoASyncedStore(t *testing.T) {
	t.Parallel()
	_, url := listenSandbox(t, sandbox.Options{Seed: 3, Ordinary: 30})
	for _, tc := range []struct {
		name, key string
		args      []string
		stdin     string
		terminal  bool
		wantCode  int
		want      []string
	}{
		{"LIVE store, no terminal", sandbox.LiveKey, nil, "", false, exitError,
			[]string{"refusing to import 462 charges from ../testdata/charges.jsonl into the store", "synced data of", "LIVE mode", "--db PATH", "--yes"}},
		{"LIVE store, --yes: the modes differ", sandbox.LiveKey, []string{"--yes"}, "", false, exitError,
			[]string{"the file holds test-mode charges but the store", "is a LIVE store", "nothing was stored"}},
		{"LIVE store, the operator agrees: the modes differ", sandbox.LiveKey, nil, "y\n", true, exitError,
			[]string{"Import 462 charges", "[y/N]", "the file holds test-mode charges but the store", "is a LIVE store"}},
		{"test store, the operator declines", sandbox.TestKey, nil, "\n", true, exitError,
			[]string{"Import 462 charges", "test mode", "import cancelled: nothing was stored"}},
		{"test store, the operator agrees", sandbox.TestKey, nil, "yes\n", true, exitOK,
			[]string{"imported 462 charges from ../testdata/charges.jsonl into " + "STORE"}},
		{"test store, --yes", sandbox.TestKey, []string{"--yes"}, "", false, exitOK,
			[]string{"imported 462 charges from ../testdata/charges.jsonl into " + "STORE"}},
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
			code := Run(context.Background(), append([]string{"import", sampleCharges}, tc.args...), env)
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
			if after := scanOutput(t, env, out); tc.wantCode != exitOK && after != before {
				t.Errorf("a refused import changed the store")
			}
		})
	}
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
		{"a file of both modes", "", mixedFile, "the file mixes modes"},
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
