package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/doublecheck-dev/doublecheck/internal/pgtest"
	"github.com/doublecheck-dev/doublecheck/sandbox"
	"github.com/doublecheck-dev/doublecheck/store"
)

// runCLIWithEnv is runCLI with environment variables.
func runCLIWithEnv(t *testing.T, vars map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	env := testEnv(t, "", &stdout, &stderr)
	env.Getenv = func(name string) string { return vars[name] }
	code := Run(context.Background(), args, env)
	return code, stdout.String(), stderr.String()
}

// A PostgreSQL URL, in --db or DOUBLECHECK_DB, selects a shared store: what
// one command imports there, another reads.
func TestSharedStoreOnPostgres(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	code, _, stderr := runCLIWithEnv(t, map[string]string{EnvDB: url}, "import", sampleCharges)
	if code != 0 {
		t.Fatalf("import into DOUBLECHECK_DB exited %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "into postgres://") {
		t.Errorf("import does not name the shared store: %q", stderr)
	}
	got := scanStore(t, url)
	if lines := countLines(t, sampleCharges); got.Summary.Charges != lines || got.Summary.Open == 0 {
		t.Errorf("scan --db URL: %d charges, %d open groups; want the %d imported, with duplicates", got.Summary.Charges, got.Summary.Open, lines)
	}
}

// The password of a store's URL never shows, whatever goes wrong.
func TestSharedStorePasswordNeverShows(t *testing.T) {
	t.Parallel()
	const secret = "pw-9f8e7d6c"
	for _, db := range []string{
		"postgres://ann:" + secret + "@127.0.0.1:1/doublecheck?connect_timeout=2",
		"postgresql://ann@127.0.0.1:1/doublecheck?connect_timeout=2&password=" + secret,
		"postgres://ann:" + secret + "@db.example.com/doublecheck?sslmode=sometimes",
	} {
		for _, args := range [][]string{{"scan", "--db", db}, {"import", sampleCharges, "--db", db}} {
			code, stdout, stderr := runCLI(t, "", args...)
			if code == 0 {
				t.Errorf("%s on an unreachable store exited 0", args[0])
			}
			if strings.Contains(stdout+stderr, secret) {
				t.Errorf("%s shows the password: %q", args[0], stderr)
			}
			if !strings.Contains(stderr, "xxxxx") {
				t.Errorf("%s does not name the store by its masked URL: %q", args[0], stderr)
			}
		}
	}
}

// While one operator syncs a shared store, another's sync says who runs it and
// since when, fetches nothing and exits 0; once it ends, a sync runs.
func TestSyncOfASharedStoreRunsOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.URL(t)
	sb, base := listenSandbox(t, sandbox.Options{})
	ann, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer ann.Close()
	end, err := ann.BeginSync(ctx, "ann")
	if err != nil {
		t.Fatal(err)
	}
	before := sb.Stats().ByPath["GET /v1/charges"]
	code, _, stderr := runCLI(t, "", "sync", "--api-key", sandbox.TestKey, "--api-base", base, "--db", url, "--operator", "bob")
	if code != 0 || !strings.Contains(stderr, "sync running by ann since") {
		t.Errorf("bob's sync during ann's: exit %d, %q; want 0 and a note naming ann", code, stderr)
	}
	if listed := sb.Stats().ByPath["GET /v1/charges"] - before; listed != 0 {
		t.Errorf("bob's refused sync listed charges %d times", listed)
	}
	end()
	if code, _, stderr := runCLI(t, "", "sync", "--api-key", sandbox.TestKey, "--api-base", base, "--db", url, "--operator", "bob"); code != 0 || !strings.Contains(stderr, "synced") {
		t.Errorf("bob's sync after ann's: exit %d, %q", code, stderr)
	}
}

// An open dashboard on a shared store shows another operator's dismissal
// within seconds, saying who did it; its header names its own operator.
func TestDashboardsFollowEachOther(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	if code, _, stderr := runCLI(t, "", "import", sampleCharges, "--db", url); code != 0 {
		t.Fatalf("import exited %d: %s", code, stderr)
	}
	group := scanStore(t, url).Groups[0].ID
	home := t.TempDir()
	d := startInTerminal(t, "", []string{"HOME=" + home, "XDG_DATA_HOME=" + home, "XDG_CACHE_HOME=" + home,
		"TERM=xterm-256color", EnvDB + "=" + url}, "--operator", "bob")
	at := d.scr.waitFor(t, 0, "as bob", "grp_")
	if code, _, stderr := runCLI(t, "", "dismiss", "--group", group, "--db", url, "--operator", "ann"); code != 0 {
		t.Fatalf("ann's dismissal exited %d: %s", code, stderr)
	}
	d.scr.waitFor(t, at, "ann dismissed")
	d.quit()
}
