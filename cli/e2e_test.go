package cli

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/doublecheck-dev/doublecheck/sandbox"
	"github.com/doublecheck-dev/doublecheck/stripeapi"
)

var (
	binaryOnce sync.Once
	binaryPath string
	binaryErr  error
)

// builtBinary builds doublecheck once per test run, for the tests that run it as
// a person or a script would.
func builtBinary(t *testing.T) string {
	t.Helper()
	binaryOnce.Do(func() {
		dir, err := os.MkdirTemp("", "doublecheck-e2e-")
		if err != nil {
			binaryErr = err
			return
		}
		binaryPath = filepath.Join(dir, "doublecheck")
		out, err := exec.Command("go", "build", "-tags", "crashtest", "-o", binaryPath, "github.com/doublecheck-dev/doublecheck").CombinedOutput()
		if err != nil {
			binaryErr = &buildError{err: err, out: string(out)}
		}
	})
	if binaryErr != nil {
		t.Fatalf("go build: %v", binaryErr)
	}
	return binaryPath
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

// TestEndToEnd is the headless workflow with the built binary against the
// sandbox on loopback: sync → scan → refund → export.
func TestEndToEnd(t *testing.T) {
	t.Parallel()
	bin := builtBinary(t)
	sb, url := listenSandbox(t, sandbox.Options{Seed: 11, Ordinary: 300})
	home := t.TempDir()
	run := func(args ...string) (string, string, int) {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = []string{"HOME=" + home, "XDG_DATA_HOME=" + home, "PATH=" + os.Getenv("PATH"),
			"STRIPE_API_KEY=" + sandbox.TestKey, "STRIPE_API_BASE=" + url}
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		if exit, ok := err.(*exec.ExitError); ok {
			code = exit.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return stdout.String(), stderr.String(), code
	}

	if _, stderr, code := run("sync"); code != 0 || !strings.Contains(stderr, "synced") {
		t.Fatalf("sync: exit %d\n%s", code, stderr)
	}
	stdout, stderr, code := run("scan", "--format", "json", "--exit-code")
	if code != 1 {
		t.Errorf("scan --exit-code on an account with duplicates exited %d, want 1", code)
	}
	if !strings.Contains(stderr, sandbox.AccountName+" (test mode)") || !strings.Contains(stdout, `"livemode": false`) {
		t.Errorf("scan does not say whose data and which mode: stderr %q", stderr)
	}
	var scan scanJSON
	if err := json.Unmarshal([]byte(stdout), &scan); err != nil {
		t.Fatalf("scan json: %v", err)
	}
	var group string
	var suspects []string
	for _, g := range scan.Groups {
		if suspect := g.Charges[len(g.Charges)-1]; g.Status == "open" && len(g.Charges) == 2 && !suspect.Disputed && suspect.AmountRefunded == 0 {
			group, suspects = g.ID, []string{g.Charges[1].ID}
			break
		}
	}
	if group == "" {
		t.Fatal("no open two-charge group with a refundable suspect")
	}

	// Without a terminal a refund needs --yes, and nothing moves without it.
	if _, stderr, code := run("refund", "--group", group); code == 0 || !strings.Contains(stderr, "--yes") {
		t.Errorf("refund without --yes: exit %d, %q", code, stderr)
	}
	if n := len(sb.RefundsFor(suspects[0])); n != 0 {
		t.Fatalf("a refund without --yes reached Stripe (%d refunds)", n)
	}
	stdout, stderr, code = run("refund", "--group", group, "--yes", "--operator", "ana")
	if code != 0 || !strings.Contains(stdout, suspects[0]) {
		t.Fatalf("refund: exit %d\n%s%s", code, stdout, stderr)
	}
	refunds := sb.RefundsFor(suspects[0])
	if len(refunds) != 1 {
		t.Fatalf("the suspect has %d refunds on the sandbox, want 1", len(refunds))
	}

	report := filepath.Join(t.TempDir(), "report.csv")
	if _, stderr, code := run("export", "-o", report); code != 0 {
		t.Fatalf("export: exit %d %s", code, stderr)
	}
	f, err := os.Open(report)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	found := false
	for _, r := range rows[1:] {
		if r[col["charge_id"]] != suspects[0] {
			continue
		}
		found = true
		if r[col["group_id"]] != group || r[col["status"]] != "resolved" || r[col["decision"]] != "refunded" ||
			r[col["operator"]] != "ana" || !strings.HasPrefix(r[col["refund_id"]], "re_") || r[col["decided_at"]] == "" {
			t.Errorf("the report row of the refunded charge is %v", r)
		}
	}
	if !found {
		t.Errorf("the refunded charge %s is not in the report", suspects[0])
	}
}

// screen reads everything a program draws on a pseudo-terminal and answers
// what a person would see: the text, without colours and cursor movement.
type screen struct {
	mu  sync.Mutex
	raw bytes.Buffer
}

func (s *screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.raw.Write(p)
}

// since is the visible text drawn after offset, and the new offset.
func (s *screen) since(offset int) (string, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return ansi.Strip(string(s.raw.Bytes()[offset:])), s.raw.Len()
}

// waitFor waits until everything drawn after offset contains all of want.
func (s *screen) waitFor(t *testing.T, offset int, want ...string) int {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		text, end := s.since(offset)
		missing := ""
		for _, w := range want {
			if !strings.Contains(text, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return end
		}
		if time.Now().After(deadline) {
			t.Fatalf("the screen never showed %q; it showed:\n%s", missing, text)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestDashboardInTerminal runs `doublecheck demo` in a real pseudo-terminal and
// checks what a person sees after a few keys.
func TestDashboardInTerminal(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	d := startInTerminal(t, "", []string{"HOME=" + home, "XDG_DATA_HOME=" + home, "XDG_CACHE_HOME=" + home,
		"TERM=xterm-256color", "USER=tester"}, "demo")
	scr, press := d.scr, d.press
	at := scr.waitFor(t, 0, "Acme Coffee Roasters", "TEST", "open")
	at = scr.waitFor(t, at, "synced", "grp_", "at risk")
	press("j", "\r")
	at = scr.waitFor(t, at, "Reasons", "Charges", "KEEP")
	press("\x1b", "?")
	at = scr.waitFor(t, at, "sync now", "export")
	press("?", "/")
	press(strings.Split("zzz-no-such-customer", "")...)
	at = scr.waitFor(t, at, "zzz-no-such-customer", "0/")
	press("\x1b")
	d.quit()
}

// TestDashboardNamesItsKey: the dashboard on an account says, before it takes
// the screen, which key it uses and where it found it.
func TestDashboardNamesItsKey(t *testing.T) {
	t.Parallel()
	_, url := listenSandbox(t, sandbox.Options{Seed: 3, Ordinary: 20})
	key, err := stripeapi.ParseKey(sandbox.TestKey, "")
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	d := startInTerminal(t, "", []string{"HOME=" + home, "XDG_DATA_HOME=" + home, "TERM=xterm-256color",
		"STRIPE_API_KEY=" + sandbox.TestKey, "STRIPE_API_BASE=" + url}, "--watch", "0")
	d.scr.waitFor(t, 0, "key "+key.Redacted()+" from STRIPE_API_KEY", sandbox.AccountName, "TEST")
	d.quit()
}
