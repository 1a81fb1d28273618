package cli

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/doublecheck-dev/doublecheck/sandbox"
	"github.com/doublecheck-dev/doublecheck/stripeapi"
)

// TestAccountsAreRememberedByWholeKey: two keys with the same prefix and last
// four characters do not share an account's store.
func TestAccountsAreRememberedByWholeKey(t *testing.T) {
	t.Parallel()
	_, url := listenSandbox(t, sandbox.Options{Seed: 3, Ordinary: 30})
	env, out := accountEnv(t, sandbox.TestKey, url)
	if code := Run(context.Background(), []string{"sync"}, env); code != 0 {
		t.Fatalf("sync exited %d:\n%s", code, out)
	}
	if code := Run(context.Background(), []string{"scan"}, env); code != 0 {
		t.Fatalf("scan with the syncing key exited %d:\n%s", code, out)
	}
	other := strings.Replace(sandbox.TestKey, "doublecheck_", "doublecheckX", 1) // same redacted form
	a, _ := stripeapi.ParseKey(sandbox.TestKey, "test")
	b, _ := stripeapi.ParseKey(other, "test")
	if a.String() != b.String() {
		t.Fatalf("the keys should redact alike: %s, %s", a, b)
	}
	out.Reset()
	env.Getenv = func(name string) string {
		return map[string]string{"STRIPE_API_KEY": other, "STRIPE_API_BASE": url}[name]
	}
	if code := Run(context.Background(), []string{"scan"}, env); code != exitError || !strings.Contains(out.String(), "cannot tell which account's store to use") {
		t.Errorf("scan with another key of the same redacted form: exit %d, %q; want it to ask Stripe, which rejects the key", code, out)
	}
	data, _ := os.ReadFile(filepath.Join(env.DataDir, "accounts.json"))
	if strings.Contains(string(data), a.String()) || !strings.Contains(string(data), a.Fingerprint()) {
		t.Errorf("accounts.json should key accounts by fingerprint only:\n%s", data)
	}
}

// TestLegacyRememberedAccount: an account remembered by an older doublecheck
// under the redacted key is used while Stripe cannot be reached, and replaced
// by the fingerprint once Stripe answers.
func TestLegacyRememberedAccount(t *testing.T) {
	t.Parallel()
	_, url := listenSandbox(t, sandbox.Options{Seed: 3, Ordinary: 30})
	env, out := accountEnv(t, sandbox.TestKey, url)
	if code := Run(context.Background(), []string{"sync"}, env); code != 0 {
		t.Fatalf("sync exited %d:\n%s", code, out)
	}
	key, _ := stripeapi.ParseKey(sandbox.TestKey, "test")
	path := filepath.Join(env.DataDir, "accounts.json")
	var accounts map[string]account
	data, _ := os.ReadFile(path)
	if err := json.Unmarshal(data, &accounts); err != nil {
		t.Fatal(err)
	}
	legacy := map[string]account{key.String(): accounts[key.Fingerprint()]}
	data, _ = json.Marshal(legacy)
	os.WriteFile(path, data, 0o600)

	// A closed port: Stripe cannot be reached.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()
	for _, tc := range []struct {
		name, base string
	}{{"Stripe unreachable", closed}, {"Stripe answers", url}} {
		out.Reset()
		env.Getenv = func(name string) string {
			return map[string]string{"STRIPE_API_KEY": sandbox.TestKey, "STRIPE_API_BASE": tc.base}[name]
		}
		if tc.base == closed {
			// A command that writes never trusts the redacted form: another
			// key of that form would write into this account's store.
			if code := Run(context.Background(), []string{"keys", "import", "../testdata/keys.csv"}, env); code != exitError ||
				!strings.Contains(out.String(), "cannot confirm which account the key opens") {
				t.Fatalf("keys import with only a legacy entry: exit %d:\n%s\nwant it refused", code, out)
			}
			out.Reset()
		}
		if code := Run(context.Background(), []string{"scan"}, env); code != 0 {
			t.Fatalf("%s: scan exited %d:\n%s", tc.name, code, out)
		}
		if unconfirmed := strings.Contains(out.String(), "the account is unconfirmed"); unconfirmed != (tc.base == closed) {
			t.Errorf("%s: scan said unconfirmed = %v:\n%s", tc.name, unconfirmed, out)
		}
	}
	data, _ = os.ReadFile(path)
	if strings.Contains(string(data), key.String()) || !strings.Contains(string(data), key.Fingerprint()) {
		t.Errorf("the legacy entry was not replaced:\n%s", data)
	}
}
