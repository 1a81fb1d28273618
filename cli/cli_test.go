package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/doublecheck-dev/doublecheck/sandbox"
	"github.com/doublecheck-dev/doublecheck/store"
	"github.com/doublecheck-dev/doublecheck/stripeapi"
)

// testEnv is a machine of the test's own: home, data and cache dirs in a
// temporary directory, no environment variables, no terminal, the user
// "tester". Tests that use it run in parallel.
func testEnv(t *testing.T, stdin string, stdout, stderr io.Writer) Env {
	t.Helper()
	home := t.TempDir()
	return Env{Stdin: strings.NewReader(stdin), Stdout: stdout, Stderr: stderr,
		Getenv: func(string) string { return "" }, Home: home,
		DataDir: filepath.Join(home, "doublecheck"), CacheDir: filepath.Join(home, "cache"),
		User: "tester", Now: time.Now}
}

// runCLI runs one command line in-process without a terminal and returns the
// exit code, stdout and stderr. The data dir is the test's own.
func runCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Run(context.Background(), args, testEnv(t, stdin, &stdout, &stderr))
	return code, stdout.String(), stderr.String()
}

const sampleCharges = "../testdata/charges.jsonl"

// listenSandbox serves a sandbox on loopback for the test's lifetime.
func listenSandbox(t *testing.T, opts sandbox.Options) (*sandbox.Server, string) {
	t.Helper()
	sb := sandbox.New(opts)
	url, shutdown, err := sb.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sb.Close() // releases requests the sandbox holds on purpose
		_ = shutdown(context.Background())
	})
	return sb, url
}

// scanJSON is the part of `scan --format json` the tests read.
type scanJSON struct {
	Groups []struct {
		ID      string `json:"id"`
		Status  string `json:"status"`
		Cause   string `json:"cause"`
		Charges []struct {
			ID             string `json:"id"`
			Role           string `json:"role"`
			Decision       string `json:"decision"`
			Disputed       bool   `json:"disputed"`
			AmountRefunded int64  `json:"amount_refunded"`
		} `json:"charges"`
	} `json:"groups"`
	Summary struct {
		Charges int `json:"charges"`
		Open    int `json:"open"`
	} `json:"summary"`
}

func scanStore(t *testing.T, db string) scanJSON {
	t.Helper()
	code, out, errOut := runCLI(t, "", "scan", "--format", "json", "--db", db)
	if code != 0 {
		t.Fatalf("scan exited %d: %s", code, errOut)
	}
	var got scanJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("scan --format json is not JSON: %v\n%s", err, out)
	}
	return got
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"unknown command", []string{"frobnicate"}, exitUsage, `unknown command "frobnicate"`},
		{"unknown flag", []string{"scan", "--frobnicate"}, exitUsage, "flag provided but not defined: --frobnicate"},
		{"bad format", []string{"scan", "--format", "xml"}, exitUsage, `--format must be table, json or csv, not "xml"`},
		{"bad duration", []string{"scan", "--window", "banana"}, exitUsage, `--window "banana" is not a duration such as 10m or 36h`},
		{"bad number", []string{"refund", "--amount", "5.00"}, exitUsage, `--amount "5.00" is not a whole number`},
		{"bad window", []string{"scan", "--window", "-1m"}, exitUsage, "--window must be a positive duration"},
		{"bad confidence", []string{"scan", "--min-confidence", "sure"}, exitUsage, "--min-confidence must be low, medium or high"},
		{"import without file", []string{"import"}, exitUsage, "missing argument"},
		{"import two files", []string{"import", "a", "b"}, exitUsage, "unexpected argument b"},
		{"keys without subcommand", []string{"keys"}, exitUsage, "keys needs a subcommand"},
		{"bad since", []string{"sync", "--since", "last tuesday"}, exitUsage, "--since"},
		{"dashboard without terminal", []string{"demo"}, exitError, "needs a terminal; use `doublecheck scan`"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runCLI(t, "", tc.args...)
			if code != tc.wantCode {
				t.Errorf("exit %d, want %d (stderr %q)", code, tc.wantCode, stderr)
			}
			if !strings.Contains(stderr, tc.wantErr) {
				t.Errorf("stderr %q lacks %q", stderr, tc.wantErr)
			}
			if stdout != "" {
				t.Errorf("errors belong on stderr, stdout got %q", stdout)
			}
			// Unknown flags and wrong arguments show the usage; a bad value gets one
			// sentence and a pointer to --help.
			if tc.wantCode == exitUsage && !strings.Contains(stderr, "Usage:") && !strings.Contains(stderr, "--help' for its flags") {
				t.Errorf("a usage error shows usage or points to --help; stderr %q", stderr)
			}
		})
	}
}

func TestHelpAndVersionExitZero(t *testing.T) {
	t.Parallel()
	for args, want := range map[string]string{"--help": "Usage:", "help": "Usage:", "scan --help": "--window duration",
		"--version": "doublecheck " + Version, "version": "doublecheck " + Version} {
		code, stdout, _ := runCLI(t, "", strings.Fields(args)...)
		if code != 0 || !strings.Contains(stdout, want) {
			t.Errorf("%s: exit %d, stdout lacks %q: %q", args, code, want, stdout)
		}
	}
}

func TestImportScanExport(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "s.db")
	if code, _, stderr := runCLI(t, "", "import", sampleCharges, "--db", db); code != 0 {
		t.Fatalf("import exited %d: %s", code, stderr)
	}
	lines := countLines(t, sampleCharges)
	got := scanStore(t, db)
	if got.Summary.Charges != lines {
		t.Errorf("store holds %d charges after importing %d lines", got.Summary.Charges, lines)
	}
	if got.Summary.Open == 0 || len(got.Groups) == 0 {
		t.Fatalf("the sample account has duplicates, scan found none")
	}
	// Imported files carry no events: nothing says a request had no key.
	for _, g := range got.Groups {
		if g.Cause == "no_key" || g.Cause == "double_submit" {
			t.Errorf("group %s of an imported store is %s, though no event recorded its requests", g.ID, g.Cause)
		}
	}

	t.Run("exit code", func(t *testing.T) {
		code, _, _ := runCLI(t, "", "scan", "--exit-code", "--db", db)
		if code != exitError {
			t.Errorf("scan --exit-code with open groups exited %d, want 1", code)
		}
		// A scan of nothing must not pass for a clean account.
		empty := filepath.Join(t.TempDir(), "empty.db")
		st, err := store.Open(context.Background(), empty)
		if err != nil {
			t.Fatal(err)
		}
		st.Close()
		if code, _, stderr := runCLI(t, "", "scan", "--exit-code", "--db", empty); code != exitError || !strings.Contains(stderr, "holds no charges") {
			t.Errorf("scan --exit-code on an empty store: exit %d, %q", code, stderr)
		}
	})

	t.Run("export", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "report.csv")
		if code, _, stderr := runCLI(t, "", "export", "-o", out, "--db", db); code != 0 {
			t.Fatalf("export exited %d: %s", code, stderr)
		}
		f, err := os.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		rows, err := csv.NewReader(f).ReadAll()
		if err != nil {
			t.Fatalf("the report is not CSV: %v", err)
		}
		header := strings.Join(rows[0], ",")
		for _, col := range []string{"group_id", "confidence", "status", "role", "charge_id", "created_utc", "amount", "currency", "decision", "refund_id", "reasons"} {
			if !strings.Contains(header, col) {
				t.Errorf("report header lacks %s: %s", col, header)
			}
		}
		charges := 0
		for _, g := range got.Groups {
			charges += len(g.Charges)
		}
		duplicates := 0
		for _, r := range rows[1:] {
			if r[0] == "duplicate" {
				duplicates++
			}
		}
		if duplicates != charges {
			t.Errorf("report has %d duplicate rows, scan lists %d charges in groups", duplicates, charges)
		}
		// stdout without -o gives the same report.
		_, stdout, _ := runCLI(t, "", "export", "--db", db)
		file, _ := os.ReadFile(out)
		if stdout != string(file) {
			t.Errorf("export to stdout differs from export -o")
		}
	})

	t.Run("formats", func(t *testing.T) {
		for format, want := range map[string]string{"table": got.Groups[0].ID, "csv": "group_id", "json": `"groups"`} {
			code, stdout, _ := runCLI(t, "", "scan", "--format", format, "--db", db)
			if code != 0 || !strings.Contains(stdout, want) {
				t.Errorf("scan --format %s: exit %d, output lacks %q", format, code, want)
			}
		}
	})
}

func TestImportIsAllOrNothing(t *testing.T) {
	t.Parallel()
	good, err := os.ReadFile(sampleCharges)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(good), "\n")
	for _, tc := range []struct {
		name    string
		content string
		wantErr string
	}{
		{"broken JSON late in the file", strings.Join(lines[:300], "") + "{\"id\": \"ch_x\", \"object\": \"charge\",\n" + strings.Join(lines[300:], ""), "line 301"},
		{"not a charge", strings.Join(lines[:10], "") + `{"id":"cus_1","object":"customer"}` + "\n", "line 11"},
		{"empty", "", "is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			file := filepath.Join(dir, "charges.jsonl")
			if err := os.WriteFile(file, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			db := filepath.Join(dir, "s.db")
			code, _, stderr := runCLI(t, "", "import", file, "--db", db)
			if code != exitError {
				t.Fatalf("import of a bad file exited %d, want 1", code)
			}
			if !strings.Contains(stderr, file) || !strings.Contains(stderr, tc.wantErr) {
				t.Errorf("stderr %q should name the file and say %q", stderr, tc.wantErr)
			}
			if n := strings.Count(strings.TrimSpace(stderr), "\n"); n != 0 {
				t.Errorf("want one sentence, got %d lines: %q", n+1, stderr)
			}
			if _, err := os.Stat(db); err == nil {
				if got := scanStore(t, db); got.Summary.Charges != 0 {
					t.Errorf("a failed import left %d charges in the store", got.Summary.Charges)
				}
			}
		})
	}
}

func TestKeysImport(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "s.db")
	if code, _, stderr := runCLI(t, "", "import", sampleCharges, "--db", db); code != 0 {
		t.Fatalf("import exited %d: %s", code, stderr)
	}
	bad := filepath.Join(t.TempDir(), "keys.csv")
	os.WriteFile(bad, []byte("idempotency_key,order_ref,charge_id,created_at\nk1,o-1,,2026-01-02T03:04:05Z\nk2,o-2,,yesterday\n"), 0o600)
	code, _, stderr := runCLI(t, "", "keys", "import", bad, "--db", db)
	if code != exitError || !strings.Contains(stderr, "line 3") {
		t.Fatalf("bad key log: exit %d, stderr %q; want 1 and the line number", code, stderr)
	}
	_, before, _ := runCLI(t, "", "scan", "--format", "json", "--db", db)
	if strings.Contains(before, `"k1"`) {
		t.Errorf("the good line of a failed key import was stored")
	}

	if code, _, stderr := runCLI(t, "", "keys", "import", "../testdata/keys.csv", "--db", db); code != 0 {
		t.Fatalf("keys import exited %d: %s", code, stderr)
	}
	_, after, _ := runCLI(t, "", "scan", "--format", "json", "--db", db)
	if !strings.Contains(after, "key_without_charge") {
		t.Errorf("the sample key log has keys without charges; scan does not report them")
	}
}

func TestNotADatabaseIsLeftAlone(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "notes.db")
	content := []byte("these are my notes, not a database\n")
	os.WriteFile(db, content, 0o600)
	code, _, stderr := runCLI(t, "", "scan", "--db", db)
	if code != exitError || !strings.Contains(stderr, db) {
		t.Errorf("exit %d, stderr %q; want 1 and the path", code, stderr)
	}
	if after, _ := os.ReadFile(db); !bytes.Equal(after, content) {
		t.Errorf("the file was modified")
	}
}

// TestAPIKeyNeverLeaks syncs with a key and looks for it everywhere doublecheck
// writes: output, the store file, the accounts file and the report.
func TestAPIKeyNeverLeaks(t *testing.T) {
	t.Parallel()
	_, url := listenSandbox(t, sandbox.Options{Seed: 3, Ordinary: 50})
	var out bytes.Buffer
	env := testEnv(t, "", &out, &out)
	home := env.Home
	env.Getenv = func(name string) string {
		return map[string]string{"STRIPE_API_KEY": sandbox.TestKey, "STRIPE_API_BASE": url}[name]
	}
	for _, args := range [][]string{{"sync"}, {"scan"}, {"export"}, {"scan", "--format", "json"}} {
		if code := Run(context.Background(), args, env); code != 0 {
			t.Fatalf("%v exited %d:\n%s", args, code, out.String())
		}
	}
	// A wrong key is named only in its redacted form.
	wrong := "sk_test_0123456789abcdefSECRET"
	env.Getenv = func(name string) string {
		return map[string]string{"STRIPE_API_KEY": wrong, "STRIPE_API_BASE": url}[name]
	}
	if code := Run(context.Background(), []string{"sync"}, env); code != exitError {
		t.Errorf("a wrong key synced (exit %d)", code)
	}
	secrets := []string{sandbox.TestKey, wrong, strings.TrimPrefix(sandbox.TestKey, "sk_test_")}
	for _, s := range secrets {
		if strings.Contains(out.String(), s) {
			t.Errorf("output shows the key %q:\n%s", s, out.String())
		}
	}
	filepath.WalkDir(home, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, _ := os.ReadFile(path)
		for _, s := range secrets {
			if bytes.Contains(data, []byte(s)) {
				t.Errorf("%s contains the key", path)
			}
		}
		return nil
	})
}

func countLines(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(strings.TrimSpace(string(data)), "\n") + 1
}

func TestCheckTransport(t *testing.T) {
	t.Parallel()
	live, _ := stripeapi.ParseKey("sk_live_0123456789abcdefghijkl", "test")
	test, _ := stripeapi.ParseKey("sk_test_0123456789abcdefghijkl", "test")
	for _, tc := range []struct {
		key     stripeapi.Key
		base    string
		wantErr string
	}{
		{live, stripeapi.ResolveAPIBase("", func(string) string { return "" }), ""}, // the default: Stripe itself
		{live, "https://api.stripe.com", ""},
		{live, "http://127.0.0.1:12111", ""},
		{live, "http://localhost:12111", ""},
		{live, "http://proxy.internal:8080", "refusing to send live Stripe credentials over plain http to proxy.internal:8080"},
		{test, "http://proxy.internal:8080", ""},
		{test, "api.stripe.com", "is not an http(s) URL"},
	} {
		err := checkTransport(tc.key, tc.base)
		if (err == nil) != (tc.wantErr == "") || err != nil && !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s over %s: %v, want %q", tc.key, tc.base, err, tc.wantErr)
		}
	}
}

// TestImportedLiveDataShowsLive: charges exported from a live account are shown
// as LIVE even though no command has asked Stripe about the store.
func TestImportedLiveDataShowsLive(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(sampleCharges)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, tc := range []struct {
		name, content, want string
	}{
		{"test data", string(data), "imported data (test mode)"},
		{"live data", strings.ReplaceAll(string(data), `"livemode":false`, `"livemode":true`), "imported data (LIVE mode)"},
	} {
		file, db := filepath.Join(dir, tc.name+".jsonl"), filepath.Join(dir, tc.name+".db")
		os.WriteFile(file, []byte(tc.content), 0o600)
		if code, _, stderr := runCLI(t, "", "import", file, "--db", db); code != 0 {
			t.Fatalf("import: %s", stderr)
		}
		_, _, stderr := runCLI(t, "", "scan", "--db", db)
		if !strings.Contains(stderr, tc.want) {
			t.Errorf("%s: scan says %q, want %q", tc.name, stderr, tc.want)
		}
	}
}

// TestImportRepeats: a charge repeated in a file is stored once and counted as
// a repeat; a charge repeated with other contents refuses the file, naming both
// lines. The key log likewise.
func TestImportRepeats(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(sampleCharges)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(strings.TrimSuffix(string(data), "\n"), "\n")
	n := len(lines)
	changed := strings.Replace(lines[4], `"description":`, `"description":"changed","x":`, 1)
	// lines[1] with its keys sorted and a space after each comma: the same
	// charge written otherwise.
	dec := json.NewDecoder(strings.NewReader(lines[1]))
	dec.UseNumber()
	var object map[string]any
	if err := dec.Decode(&object); err != nil {
		t.Fatal(err)
	}
	rewritten, _ := json.Marshal(object)
	respaced := strings.ReplaceAll(string(rewritten), `,"`, `, "`)
	if respaced == strings.TrimSpace(lines[1]) {
		t.Fatal("rewriting left the line as it was")
	}
	for _, tc := range []struct {
		name, content, wantErr, wantOut string
	}{
		{"identical repeats", string(data) + lines[0] + "\n" + lines[1] + "\n" + lines[0] + "\n", "",
			"imported 462 charges (3 repeated records, each stored once)"},
		{"repeat written otherwise", string(data) + respaced + "\n", "",
			"imported 462 charges (1 repeated record, each stored once)"},
		{"conflicting repeat", string(data) + "\n" + changed + "\n", fmt.Sprintf("line %d", n+2), "also on line 5, with different contents"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			file, db := filepath.Join(dir, "charges.jsonl"), filepath.Join(dir, "s.db")
			os.WriteFile(file, []byte(tc.content), 0o600)
			code, _, stderr := runCLI(t, "", "import", file, "--db", db)
			if tc.wantErr != "" {
				if code != exitError || !strings.Contains(stderr, tc.wantErr) || !strings.Contains(stderr, tc.wantOut) {
					t.Fatalf("exit %d, stderr %q; want 1, %q and %q", code, stderr, tc.wantErr, tc.wantOut)
				}
				return
			}
			if code != 0 || !strings.Contains(stderr, tc.wantOut) {
				t.Fatalf("exit %d, stderr %q; want %q", code, stderr, tc.wantOut)
			}
			if got := scanStore(t, db); got.Summary.Charges != 462 {
				t.Errorf("store holds %d charges, want 462", got.Summary.Charges)
			}
		})
	}

	db := filepath.Join(t.TempDir(), "s.db")
	keys := filepath.Join(t.TempDir(), "keys.csv")
	os.WriteFile(keys, []byte("idempotency_key,order_ref,charge_id\nk-1,o-1,\nk-1,o-1,\nk-1,o-2,\n"), 0o600)
	code, _, stderr := runCLI(t, "", "keys", "import", keys, "--db", db)
	if code != exitError || !strings.Contains(stderr, "line 4") || !strings.Contains(stderr, "also on line 2") {
		t.Errorf("conflicting key log: exit %d, stderr %q; want 1 naming lines 4 and 2", code, stderr)
	}
}
