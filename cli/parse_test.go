package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/doublecheck-dev/doublecheck/reconcile"
	"github.com/doublecheck-dev/doublecheck/refunding"
	"github.com/doublecheck-dev/doublecheck/sandbox"
	"github.com/doublecheck-dev/doublecheck/stripeapi"
)

// stubCommands are doublecheck's commands with their run steps replaced: each
// leaves the options its parse step filled in *got.
func stubCommands(env Env, got *any) []*command {
	return []*command{
		newDashboardCmd(env, capture[dashboardOptions](got)),
		newDemoCmd(env, capture[demoOptions](got)),
		newImportCmd(env, capture[importOptions](got)),
		newSyncCmd(env, capture[syncOptions](got)),
		newScanCmd(env, capture[scanOptions](got)),
		newExportCmd(env, capture[exportOptions](got)),
		newRefundCmd(env, capture[refundOptions](got)),
		newDismissCmd(env, capture[decisionOptions](got)),
		newUndoCmd(env, capture[decisionOptions](got)),
		newKeysImportCmd(env, capture[importOptions](got)),
		newAdyenNotificationsCmd(env, capture[adyenNotificationsOptions](got)),
	}
}

func capture[O any](got *any) func(context.Context, *O) error {
	return func(_ context.Context, opts *O) error {
		*got = opts
		return nil
	}
}

// parseEnv is a test's machine for parse: its output goes to buffers that
// parse reads.
func parseEnv(t *testing.T) Env {
	return testEnv(t, "", new(bytes.Buffer), new(bytes.Buffer))
}

// parse runs a command line through the dispatcher and the parse step only.
func parse(env Env, args ...string) (opts any, code int, stdout, stderr string) {
	out, errOut := env.Stdout.(*bytes.Buffer), env.Stderr.(*bytes.Buffer)
	out.Reset()
	errOut.Reset()
	code = run(context.Background(), args, env, stubCommands(env, &opts))
	return opts, code, out.String(), errOut.String()
}

func TestStubCommandsAreTheCommands(t *testing.T) {
	t.Parallel()
	env := testEnv(t, "", nil, nil)
	var got any
	names := func(cmds []*command) (out []string) {
		for _, c := range cmds {
			out = append(out, c.flags.Name())
		}
		return out
	}
	if real, stub := names(commands(env)), names(stubCommands(env, &got)); !slices.Equal(real, stub) {
		t.Errorf("stubCommands %v, commands %v", stub, real)
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	env := parseEnv(t)
	env.Now = func() time.Time { return now }
	def := reconcile.DefaultOptions()
	det := detection{window: def.Window, orderField: def.OrderField, keyFields: strings.Join(def.KeyFields, ","), minConf: "low"}
	sync := syncFlags{since: "90d", from: now.AddDate(0, 0, -90)}
	dash := dashboardFlags{watch: 30 * time.Second, deadline: refunding.DefaultRefundDeadline, sync: sync}
	for _, tc := range []struct {
		name string
		args []string
		want any
	}{
		{"scan", []string{"scan"}, &scanOptions{env: env, report: reportFlags{det: det}, format: "table"}},
		{"scan's flags", []string{"scan", "--format", "json", "--exit-code", "--window", "5m", "--db", "s.db"},
			&scanOptions{env: env, report: reportFlags{sh: shared{db: "s.db"}, det: withWindow(det, 5*time.Minute)}, format: "json", exitCode: true}},
		{"flags before the command", []string{"--db", "s.db", "--window=5m", "scan", "--format", "json", "--exit-code"},
			&scanOptions{env: env, report: reportFlags{sh: shared{db: "s.db"}, det: withWindow(det, 5*time.Minute)}, format: "json", exitCode: true}},
		{"a flag value that is a command's name", []string{"--db", "scan", "scan"},
			&scanOptions{env: env, report: reportFlags{sh: shared{db: "scan"}, det: det}, format: "table"}},
		{"flags unused by a command are accepted, for scripts", []string{"--read-only", "--dry-run", "scan"},
			&scanOptions{env: env, report: reportFlags{sh: shared{readOnly: true, dryRun: true}, det: det}, format: "table"}},
		{"export -o", []string{"export", "-o", "r.csv"}, &exportOptions{env: env, report: reportFlags{det: det}, output: "r.csv"}},
		{"export --output", []string{"export", "--output", "r.csv", "--list-keyless"},
			&exportOptions{env: env, report: reportFlags{det: det, listKeyless: true}, output: "r.csv"}},
		{"-o before export", []string{"-o", "r.csv", "--db", "s.db", "export"},
			&exportOptions{env: env, report: reportFlags{sh: shared{db: "s.db"}, det: det}, output: "r.csv"}},
		{"import", []string{"import", "charges.jsonl"}, &importOptions{env: env, path: "charges.jsonl"}},
		{"import with flags on both sides", []string{"--db", "s.db", "import", "-", "--yes"},
			&importOptions{env: env, sh: shared{db: "s.db"}, yes: true, path: "-"}},
		{"keys import", []string{"--api-key", "sk_test_x", "keys", "import", "keys.csv"},
			&importOptions{env: env, sh: shared{apiKey: "sk_test_x"}, path: "keys.csv"}},
		{"sync", []string{"sync"}, &syncOptions{env: env, sync: sync}},
		{"sync --since a span, from the clock", []string{"sync", "--since", "36h", "--rate", "5", "--concurrency", "2"},
			&syncOptions{env: env, sync: syncFlags{since: "36h", from: now.Add(-36 * time.Hour), rate: 5, concurrency: 2}}},
		{"sync --since a date", []string{"--api-base", "http://127.0.0.1:1", "sync", "--since", "2026-01-31"},
			&syncOptions{env: env, sh: shared{apiBase: "http://127.0.0.1:1"}, sync: syncFlags{since: "2026-01-31", from: time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)}}},
		{"refund", []string{"--dry-run", "refund", "--charge", "ch_1", "--amount", "500", "--yes", "--operator", "ana", "--refund-deadline", "5s"},
			&refundOptions{env: env, sh: shared{dryRun: true}, det: det, chargeID: "ch_1", amount: minorUnits{value: 500, set: true}, yes: true, operator: "ana", deadline: 5 * time.Second}},
		{"dismiss", []string{"dismiss", "--group", " grp_1 ", "--note", "repeat purchase", "--operator", "ana"},
			&decisionOptions{env: env, det: det, kind: reconcile.DecisionDismissed, groupID: "grp_1", note: "repeat purchase", operator: "ana"}},
		{"undo", []string{"--db", "s.db", "undo", "--group", "grp_1"},
			&decisionOptions{env: env, sh: shared{db: "s.db"}, det: det, kind: reconcile.DecisionUndismissed, groupID: "grp_1"}},
		{"refund --resume", []string{"refund", "--resume"},
			&refundOptions{env: env, det: det, resume: true, deadline: refunding.DefaultRefundDeadline}},
		{"the dashboard", nil, &dashboardOptions{env: env, det: det, dash: dash}},
		{"the dashboard's flags", []string{"--db", "s.db", "--watch", "0", "--operator", "ana", "--since", "7d"},
			&dashboardOptions{env: env, sh: shared{db: "s.db"}, det: det,
				dash: dashboardFlags{operator: "ana", deadline: refunding.DefaultRefundDeadline,
					sync: syncFlags{since: "7d", from: now.AddDate(0, 0, -7)}}}},
		{"demo", []string{"--read-only", "demo", "--seed", "7", "--serve", "127.0.0.1:0"},
			&demoOptions{env: env, sh: shared{readOnly: true}, det: det, dash: dash, serve: "127.0.0.1:0", seed: 7}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, code, _, stderr := parse(env, tc.args...)
			if code != exitOK {
				t.Fatalf("%q exited %d: %s", tc.args, code, stderr)
			}
			// Options hold no pointers but env's, the same on both sides.
			if g, w := fmt.Sprintf("%+v", got), fmt.Sprintf("%+v", tc.want); g != w {
				t.Errorf("%q parsed to\n%s\nwant\n%s", tc.args, g, w)
			}
		})
	}
}

func withWindow(d detection, window time.Duration) detection {
	d.window = window
	return d
}

// TestParseErrors: a bad command line gets one sentence and a pointer to the
// help, never the whole flag list, and nothing runs.
func TestParseErrors(t *testing.T) {
	t.Parallel()
	env := parseEnv(t)
	for _, tc := range []struct {
		name     string
		args     []string
		wantErr  string
		wantHint string
	}{
		{"unknown flag", []string{"scan", "--frobnicate"}, "flag provided but not defined: --frobnicate", "Run 'doublecheck scan --help' for its flags."},
		{"unknown flag before the command", []string{"--frobnicate", "scan"}, "flag provided but not defined: --frobnicate", "Run 'doublecheck --help'"},
		{"another command's flag", []string{"sync", "--yes"}, "flag provided but not defined: --yes", "Run 'doublecheck sync --help' for its flags."},
		{"another command's flag before the command", []string{"-o", "r.csv", "scan"}, "flag provided but not defined: -o", "Run 'doublecheck scan --help' for its flags."},
		{"the dashboard's unknown flag", []string{"--frobnicate"}, "flag provided but not defined: --frobnicate", "Run 'doublecheck --help'"},
		{"a mistyped flag", []string{"refund", "--dryrun"}, "flag provided but not defined: --dryrun; did you mean --dry-run?", "Run 'doublecheck refund --help' for its flags."},
		{"two letters swapped", []string{"scan", "--windwo", "5m"}, "flag provided but not defined: --windwo; did you mean --window?", "Run 'doublecheck scan --help' for its flags."},
		{"a mistyped flag before the command", []string{"--dryrun", "refund", "--resume"}, "flag provided but not defined: --dryrun; did you mean --dry-run?", "Run 'doublecheck --help'"},
		{"no flag near it", []string{"scan", "--frob"}, "flag provided but not defined: --frob", "Run 'doublecheck scan --help' for its flags."},
		{"a flag without its value", []string{"scan", "--db"}, "flag needs an argument: --db", "Run 'doublecheck scan --help' for its flags."},
		{"a refund deadline past the claim's lease", []string{"refund", "--resume", "--refund-deadline", "5m"}, "--refund-deadline may be at most 1m45s: a refund attempt holds its charge for 2m0s, after which another operator may resume it", "Run 'doublecheck refund --help' for its flags."},
		{"a bad value", []string{"--watch", "-1s"}, "--watch must not be negative", "Run 'doublecheck --help'"},
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"; the commands are demo, import, sync, scan, export, refund, dismiss, undo, keys import and adyen-notifications`, "Run 'doublecheck --help'"},
		{"unknown command after flags", []string{"--db", "s.db", "frobnicate"}, `unknown command "frobnicate"; the commands are demo, import, sync, scan, export, refund, dismiss, undo, keys import and adyen-notifications`, "Run 'doublecheck --help'"},
		{"missing argument", []string{"import"}, "missing argument", "Run 'doublecheck import --help' for its flags."},
		{"keys without import", []string{"--db", "s.db", "keys", "export"}, "keys needs a subcommand", "doublecheck keys import FILE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, code, stdout, stderr := parse(env, tc.args...)
			if code != exitUsage || got != nil {
				t.Errorf("%q: exit %d, ran with %+v; want exit 2 and nothing run", tc.args, code, got)
			}
			first, rest, _ := strings.Cut(stderr, "\n")
			if first != "doublecheck: "+tc.wantErr {
				t.Errorf("%q: first line %q, want %q", tc.args, first, tc.wantErr)
			}
			if !strings.Contains(rest, tc.wantHint) || strings.Contains(stderr, "Flags:") || strings.Count(stderr, "\n") > 4 {
				t.Errorf("%q: want one sentence and %q, not the flag list; stderr:\n%s", tc.args, tc.wantHint, stderr)
			}
			if stdout != "" {
				t.Errorf("errors belong on stderr; stdout %q", stdout)
			}
		})
	}
}

// TestHelpListsTheFlagsUsed: each command's help lists the flags it uses and
// not the shared ones it only accepts.
func TestHelpListsTheFlagsUsed(t *testing.T) {
	t.Parallel()
	env := parseEnv(t)
	for _, tc := range []struct {
		args        []string
		want, unset []string
	}{
		{[]string{"scan", "--help"}, []string{"--db PATH", "--api-key KEY", "--format FORMAT", "--window"}, []string{"--read-only", "--dry-run", "--yes", "--output"}},
		{[]string{"help", "scan"}, []string{"--format FORMAT"}, []string{"--read-only"}},
		{[]string{"export", "--help"}, []string{"-o, --output FILE", "--list-keyless"}, []string{"--read-only", "--dry-run", "--format", "--o FILE"}},
		{[]string{"--db", "s.db", "sync", "-h"}, []string{"--since WHEN", "--api-base URL"}, []string{"--read-only", "--dry-run", "--window"}},
		{[]string{"import", "--help"}, []string{"--yes", "--db PATH"}, []string{"--read-only", "--dry-run", "--window"}},
		{[]string{"help", "keys", "import"}, []string{"doublecheck keys import FILE", "--yes"}, []string{"--dry-run"}},
		{[]string{"keys", "--help"}, []string{"doublecheck keys import FILE", "--yes"}, []string{"--dry-run"}},
		{[]string{"refund", "--help"}, []string{"--read-only", "--dry-run", "--amount N", "--refund-deadline DURATION", "at most 1m45s"}, []string{"--format", "--watch"}},
		{[]string{"demo", "--help"}, []string{"--serve ADDR", "--read-only", "--watch"}, []string{"--api-key", "--api-base"}},
		{[]string{"--help"}, []string{"doublecheck demo", "doublecheck adyen-notifications", "Flags may come before the command", "--watch INTERVAL", "--api-key KEY", "--read-only"}, []string{"--format FORMAT", "--seed SEED"}},
	} {
		got, code, stdout, stderr := parse(env, tc.args...)
		if code != exitOK || got != nil || stderr != "" {
			t.Errorf("%q: exit %d, ran %v, stderr %q; want the help and exit 0", tc.args, code, got, stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(stdout, w) {
				t.Errorf("%q: the help lacks %q:\n%s", tc.args, w, stdout)
			}
		}
		for _, u := range tc.unset {
			if strings.Contains(stdout, u) {
				t.Errorf("%q: the help lists %q, which the command does not use:\n%s", tc.args, u, stdout)
			}
		}
	}
}

// TestKeySourceIsNamed: a command that talks to Stripe says which key it uses,
// redacted, and where it found it.
func TestKeySourceIsNamed(t *testing.T) {
	t.Parallel()
	_, url := listenSandbox(t, sandbox.Options{Seed: 3, Ordinary: 20})
	key, err := stripeapi.ParseKey(sandbox.TestKey, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		args   []string
		getenv map[string]string
		config bool // the key is in the stripe CLI's config
		want   string
	}{
		{"flag", []string{"--api-key", sandbox.TestKey}, nil, false, "from --api-key"},
		{"environment", nil, map[string]string{"STRIPE_API_KEY": sandbox.TestKey}, false, "from STRIPE_API_KEY"},
		{"the stripe CLI's config", nil, nil, true, "from " + filepath.Join("HOME", ".config", "stripe", "config.toml")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			env := testEnv(t, "", &out, &out)
			env.Getenv = func(name string) string { return tc.getenv[name] }
			if tc.config {
				dir := filepath.Join(env.Home, ".config", "stripe")
				os.MkdirAll(dir, 0o700)
				os.WriteFile(filepath.Join(dir, "config.toml"), []byte("[default]\ntest_mode_api_key = '"+sandbox.TestKey+"'\n"), 0o600)
			}
			args := append([]string{"sync", "--api-base", url, "--db", filepath.Join(t.TempDir(), "s.db")}, tc.args...)
			if code := Run(context.Background(), args, env); code != 0 {
				t.Fatalf("sync exited %d:\n%s", code, out.String())
			}
			want := "key " + key.Redacted() + " " + strings.ReplaceAll(tc.want, "HOME", env.Home)
			if !strings.Contains(out.String(), want) {
				t.Errorf("sync does not say %q:\n%s", want, out.String())
			}
		})
	}
}

// TestDashboardWithoutAKey points a first-time user to the demo.
func TestDashboardWithoutAKey(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	env := testEnv(t, "", &out, &out)
	env.Terminal = true
	code := Run(context.Background(), nil, env)
	if code != exitError || !strings.Contains(out.String(), "no Stripe API key") || !strings.Contains(out.String(), "run doublecheck demo") {
		t.Errorf("exit %d, %q; want 1, no key, and doublecheck demo", code, out.String())
	}
	if n := strings.Count(strings.TrimSpace(out.String()), "\n"); n != 0 {
		t.Errorf("want one sentence, got %d lines: %q", n+1, out.String())
	}
}
