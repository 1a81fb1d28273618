package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/doublecheck-dev/doublecheck/internal/pgtest"
	"github.com/doublecheck-dev/doublecheck/sandbox"
	"github.com/doublecheck-dev/doublecheck/store"
)

// paypalEnv is a test machine with the sandbox's PayPal credentials set.
func paypalEnv(t *testing.T, out *bytes.Buffer, vars map[string]string) Env {
	env := testEnv(t, "", out, out)
	all := map[string]string{"PAYPAL_CLIENT_ID": sandbox.PayPalClientID, "PAYPAL_CLIENT_SECRET": sandbox.PayPalSecret}
	for k, v := range vars {
		all[k] = v
	}
	env.Getenv = func(name string) string { return all[name] }
	return env
}

func TestPayPalSync(t *testing.T) {
	t.Parallel()
	_, url := listenSandbox(t, sandbox.Options{Ordinary: -1})
	var out bytes.Buffer
	env := paypalEnv(t, &out, nil)
	args := []string{"sync", "--provider", "paypal", "--paypal-env", "sandbox", "--paypal-base", url, "--since", "40d"}
	if code := Run(context.Background(), args, env); code != 0 {
		t.Fatalf("sync exited %d:\n%s", code, out.String())
	}
	text := out.String()
	for _, want := range []string{"PayPal " + sandbox.PayPalAccountNumber + " (sandbox)", "PAYPAL SANDBOX", "over 2 31-day windows",
		"up to 3 h late, so the sync stops 3 h before now"} {
		if !strings.Contains(text, want) {
			t.Errorf("sync does not say %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, sandbox.PayPalSecret) {
		t.Errorf("sync shows the client secret:\n%s", text)
	}
	db := filepath.Join(env.DataDir, "paypal-"+sandbox.PayPalAccountNumber+"-test.db")
	if _, err := os.Stat(db); err != nil {
		t.Fatalf("the account's store: %v", err)
	}
	// The seeded PayPal duplicates are found.
	rep := scanStore(t, db)
	if rep.Summary.Open == 0 || rep.Summary.Charges == 0 {
		t.Errorf("scan of the PayPal store: %+v", rep.Summary)
	}
	// PayPal never returns the merchant's PayPal-Request-Id: no group may
	// claim a payment was sent without one.
	for _, g := range rep.Groups {
		if g.Cause == "no_key" || g.Cause == "" {
			t.Errorf("group %s has cause %q; without a key log PayPal's keys are not known", g.ID, g.Cause)
		}
	}
	// Offline commands name the environment, not Stripe's mode.
	code, stdout, stderr := runCLI(t, "", "scan", "--db", db)
	if code != 0 || !strings.Contains(stderr, "(PAYPAL SANDBOX)") || !strings.Contains(stdout, "· PAYPAL SANDBOX") ||
		strings.Contains(stdout+stderr, "TEST") {
		t.Errorf("scan exited %d:\n%s\n%s", code, stderr, stdout)
	}
	// A second sync right away lists only the seconds since: nothing new.
	out.Reset()
	if code := Run(context.Background(), args, env); code != 0 ||
		!strings.Contains(out.String(), "nothing new to list") && !strings.Contains(out.String(), "synced 0 payments") {
		t.Errorf("second sync exited %d:\n%s", code, out.String())
	}
}

func TestPayPalSyncRefusals(t *testing.T) {
	t.Parallel()
	_, url := listenSandbox(t, sandbox.Options{Ordinary: -1, NoScenarios: true, PayPalOrdinary: -1})
	tests := []struct {
		name string
		args []string
		vars map[string]string
		want string
	}{
		{"no environment", []string{"--paypal-base", url}, nil, "say which PayPal to use: --paypal-env sandbox or --paypal-env live"},
		{"an unknown environment", []string{"--paypal-env", "prod"}, nil, `--paypal-env is "prod"; it must be sandbox or live`},
		{"no secret", []string{"--paypal-env", "sandbox", "--paypal-base", url}, map[string]string{"PAYPAL_CLIENT_SECRET": ""}, "set PAYPAL_CLIENT_ID and PAYPAL_CLIENT_SECRET"},
		{"a wrong secret", []string{"--paypal-env", "sandbox", "--paypal-base", url}, map[string]string{"PAYPAL_CLIENT_SECRET": "wrong-secret-value"},
			"PayPal refused the client id and secret (sandbox)"},
		{"live over plain http", []string{"--paypal-env", "live", "--paypal-base", "http://paypal.example"}, nil, "refusing to send live PayPal credentials over plain http"},
		{"a sandbox label on PayPal's live host", []string{"--paypal-env", "sandbox", "--paypal-base", "https://api-m.paypal.com"}, nil,
			"the PayPal environment is sandbox (--paypal-env or PAYPAL_ENV) but api-m.paypal.com is PayPal's live host"},
		{"a live label on the sandbox's host", nil, map[string]string{"PAYPAL_ENV": "live", "PAYPAL_API_BASE": "https://api-m.sandbox.paypal.com"},
			"api-m.sandbox.paypal.com is PayPal's sandbox host"},
		{"Stripe's tuning", []string{"--paypal-env", "sandbox", "--paypal-base", url, "--rate", "5"}, nil, "--rate and --concurrency tune Stripe's sync"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			env := paypalEnv(t, &out, tt.vars)
			code := Run(context.Background(), append([]string{"sync", "--provider", "paypal"}, tt.args...), env)
			if code == 0 || !strings.Contains(out.String(), tt.want) {
				t.Fatalf("exit %d:\n%s\nwant it to say %q", code, out.String(), tt.want)
			}
			if strings.Contains(out.String(), "wrong-secret-value") {
				t.Errorf("the secret is shown:\n%s", out.String())
			}
		})
	}
}

// TestPayPalEnvironmentFromVariables: PAYPAL_ENV and PAYPAL_API_BASE stand in
// for the flags.
func TestPayPalEnvironmentFromVariables(t *testing.T) {
	t.Parallel()
	_, url := listenSandbox(t, sandbox.Options{Ordinary: -1, NoScenarios: true, PayPalOrdinary: 20})
	var out bytes.Buffer
	env := paypalEnv(t, &out, map[string]string{"PAYPAL_ENV": "sandbox", "PAYPAL_API_BASE": url})
	if code := Run(context.Background(), []string{"sync", "--provider", "paypal"}, env); code != 0 || !strings.Contains(out.String(), "PAYPAL SANDBOX") {
		t.Fatalf("sync exited %d:\n%s", code, out.String())
	}
}

// TestPayPalSyncOfASharedStoreRunsOnce: on a shared store, a PayPal sync
// waits its turn like Stripe's: during another operator's sync it lists
// nothing and says who runs it.
func TestPayPalSyncOfASharedStoreRunsOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.URL(t)
	sb, base := listenSandbox(t, sandbox.Options{Ordinary: -1})
	ann, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer ann.Close()
	end, err := ann.BeginSync(ctx, "ann")
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"sync", "--provider", "paypal", "--paypal-env", "sandbox", "--paypal-base", base, "--db", url, "--operator", "bob"}
	var out bytes.Buffer
	before := sb.Stats().ByPath["GET /v1/reporting/transactions"]
	if code := Run(ctx, args, paypalEnv(t, &out, nil)); code != 0 || !strings.Contains(out.String(), "sync running by ann since") {
		t.Errorf("bob's sync during ann's: exit %d, %q; want 0 and a note naming ann", code, out.String())
	}
	// One search: the account lookup that names the store; no window listed.
	if listed := sb.Stats().ByPath["GET /v1/reporting/transactions"] - before; listed != 1 {
		t.Errorf("bob's refused sync searched %d times, want only the account lookup", listed)
	}
	end()
	out.Reset()
	if code := Run(ctx, args, paypalEnv(t, &out, nil)); code != 0 || !strings.Contains(out.String(), "synced") {
		t.Errorf("bob's sync after ann's: exit %d, %q", code, out.String())
	}
}
