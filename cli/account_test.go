package cli

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/doublecheck-dev/doublecheck/sandbox"
	"github.com/doublecheck-dev/doublecheck/stripeapi"
)

// TestRestrictedKeyEndToEnd: the restricted key the README recommends cannot
// read the account (Stripe answers 403 to every restricted key there), yet it
// syncs, refunds, and resumes a refund a crash left pending, through the built
// binary against the sandbox.
func TestRestrictedKeyEndToEnd(t *testing.T) {
	t.Parallel()
	bin := builtBinary(t)
	w := newRefundWorldWithKey(t, sandbox.Options{}, sandbox.RestrictedKey)
	first := w.suspects()[0].ID

	code, out := w.child(t, bin, "after-intent", "refund", "--group", w.group.ID, "--yes")
	if code != -int(syscall.SIGKILL) {
		t.Fatalf("the refund ended with %d, want SIGKILL after the intent:\n%s", code, out)
	}
	code, out = w.child(t, bin, "", "refund", "--resume")
	if code != 0 || len(w.sb.RefundsFor(first)) != 1 {
		t.Fatalf("refund --resume exited %d, %d refunds of %s:\n%s", code, len(w.sb.RefundsFor(first)), first, out)
	}
	if !strings.Contains(out, "refunds on "+sandbox.AccountID) {
		t.Errorf("resume does not name the account from Stripe's 403:\n%s", out)
	}
	if code, out := w.child(t, bin, "", "refund", "--group", w.group.ID, "--yes"); code != 0 {
		t.Fatalf("refund exited %d:\n%s", code, out)
	}
	w.assertOneRefundEach(t)
	w.assertNoPending(t)
}

// TestAccountLookupIsBestEffort: what a key or server will not say about the
// account is said once, in one line, and the command carries on with what is
// known; only a rejected key, or nothing known at all, stops it.
func TestAccountLookupIsBestEffort(t *testing.T) {
	t.Parallel()
	_, url := listenSandbox(t, sandbox.Options{Seed: 3, Ordinary: 40})
	_, noAccount := listenSandbox(t, sandbox.Options{Seed: 3, Ordinary: 40, NoAccount: true})
	base := testEnv(t, "", nil, nil)
	db := filepath.Join(t.TempDir(), "given.db")
	liveDB := filepath.Join(t.TempDir(), "live.db")
	run := func(args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		env := base
		env.Stdout, env.Stderr = &stdout, &stderr
		return Run(context.Background(), args, env), stdout.String(), stderr.String()
	}
	testKey, err := stripeapi.ParseKey(sandbox.TestKey, "--api-key")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		code     int
		stderr   string // a line of stderr contains it
		noStderr string // no line of stderr contains it
	}{
		{"server without /v1/account, nothing known: pass --db",
			[]string{"sync", "--api-key", sandbox.TestKey, "--api-base", noAccount},
			1, "cannot tell which store to use: could not learn which account the key opens (" + noAccount + " has no /v1/account); pass --db", ""},
		{"server without /v1/account, --db: carry on, said once",
			[]string{"sync", "--api-key", sandbox.TestKey, "--api-base", noAccount, "--db", db},
			0, "note: could not learn which account the key opens (" + noAccount + " has no /v1/account); working on the store " + db, ""},
		{"a store synced without the account says so, with the key redacted",
			[]string{"sync", "--api-key", sandbox.TestKey, "--api-base", noAccount, "--db", db},
			0, "syncing unknown account (key " + testKey.Redacted() + ") (test mode) into " + db, sandbox.TestKey},
		{"and it is not called imported data",
			[]string{"scan", "--api-key", sandbox.TestKey, "--db", db},
			0, "unknown account (key " + testKey.Redacted() + ") (test mode), store " + db, "imported data"},
		{"a live key learns the name, in live mode only", []string{"sync", "--api-key", sandbox.LiveKey, "--api-base", url, "--db", liveDB},
			0, sandbox.AccountName, "note:"},
		{"restricted key: the account id from the 403, its name unknown (the live key's is not its mode's), once",
			[]string{"sync", "--api-key", sandbox.RestrictedKey, "--api-base", url},
			0, "note: could not learn the account's name (Stripe never shows it to a restricted key); working on " + sandbox.AccountID, "LIVE"},
		{"restricted key again: the account remembered, said once",
			[]string{"sync", "--api-key", sandbox.RestrictedKey, "--api-base", url},
			0, "note: could not learn the account's name (Stripe never shows it to a restricted key); working on " + sandbox.AccountID + ", as remembered", ""},
		{"a secret key learns the name", []string{"sync", "--api-key", sandbox.TestKey, "--api-base", url},
			0, sandbox.AccountName, "note:"},
		{"the restricted key then shows it", []string{"sync", "--api-key", sandbox.RestrictedKey, "--api-base", url},
			0, "working on " + sandbox.AccountName + " (" + sandbox.AccountID + ", as remembered)", ""},
		{"refund --resume is not blocked by the lookup",
			[]string{"refund", "--resume", "--api-key", sandbox.TestKey, "--api-base", noAccount, "--db", db},
			0, "no pending refunds to resume", ""},
		{"a rejected key still stops", []string{"sync", "--api-key", "sk_test_wrongwrongwrongwrong1234", "--api-base", url},
			1, "Stripe rejected the API key (sk_test_…1234)", "note:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := run(tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.stderr) || (tt.noStderr != "" && strings.Contains(stderr, tt.noStderr)) {
				t.Fatalf("exit %d, stderr:\n%s\nwant exit %d, containing %q and not %q", code, stderr, tt.code, tt.stderr, tt.noStderr)
			}
			if n := strings.Count(stderr, "note:"); n > 1 {
				t.Errorf("the notice is said %d times:\n%s", n, stderr)
			}
		})
	}
}
