package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/doublecheck-dev/doublecheck/sandbox"
)

// TestMissingDefaultStoreIsNoMistypedPath: a command that needs an existing
// store and was given no --db says that the default store has not been made
// yet, and by which command, rather than blaming a --db path it was not given;
// it creates nothing. With --db, the path is what to check.
func TestMissingDefaultStoreIsNoMistypedPath(t *testing.T) {
	t.Parallel()
	_, url := listenSandbox(t, sandbox.Options{Seed: 3, Ordinary: 5})
	for _, tc := range []struct {
		name string
		key  string
		args []string
		want string // STORE is the default store's path, DB the --db one
	}{
		{"refund --resume with a key", sandbox.TestKey, []string{"refund", "--resume"},
			"no store for account acct_1DoubleCheckSbx (test mode) at STORE yet: run doublecheck sync first, or pass --db"},
		{"refund with a key", sandbox.TestKey, []string{"refund", "--group", "grp_1", "--yes"},
			"no store for account acct_1DoubleCheckSbx (test mode) at STORE yet: run doublecheck sync first, or pass --db"},
		{"scan with a key", sandbox.TestKey, []string{"scan"},
			"no store for account acct_1DoubleCheckSbx (test mode) at STORE yet: run doublecheck sync first, or pass --db"},
		{"scan without a key", "", []string{"scan"},
			"no store of imported data (test mode) at STORE yet: run doublecheck import first, or pass --db"},
		{"dismiss without a key", "", []string{"dismiss", "--group", "grp_1"},
			"no store of imported data (test mode) at STORE yet: run doublecheck import first, or pass --db"},
		{"refund --resume --db", sandbox.TestKey, []string{"refund", "--resume", "--db", "DB"},
			"no such store at DB: check the --db path"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env, out := accountEnv(t, tc.key, url)
			db := filepath.Join(t.TempDir(), "typo.db")
			args := make([]string, len(tc.args))
			for i, a := range tc.args {
				args[i] = strings.ReplaceAll(a, "DB", db)
			}
			code := Run(context.Background(), args, env)
			account := "acct_1DoubleCheckSbx"
			if tc.key == "" {
				account = keylessAccount
			}
			want := strings.NewReplacer("STORE", filepath.Join(env.DataDir, account+"-test.db"), "DB", db).Replace(tc.want)
			if code != exitError || !strings.Contains(out.String(), want) {
				t.Fatalf("exit %d:\n%s\nwant 1 and %q", code, out, want)
			}
			if strings.Contains(out.String(), "no such store") != strings.Contains(tc.want, "DB") {
				t.Errorf("\"no such store\" said for the wrong kind of path:\n%s", out)
			}
			paths, _ := filepath.Glob(filepath.Join(env.DataDir, "*.db"))
			if _, err := os.Stat(db); len(paths) != 0 || err == nil {
				t.Errorf("stores created: %v (or %s)", paths, db)
			}
		})
	}
}
