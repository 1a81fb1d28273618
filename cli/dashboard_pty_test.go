package cli

import (
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/creack/pty"

	"github.com/doublecheck-dev/doublecheck/sandbox"
)

// ptyDashboard is `doublecheck demo` in a pseudo-terminal, as a person runs it.
type ptyDashboard struct {
	t    *testing.T
	tty  *os.File
	scr  *screen
	done chan error
}

// startDemo runs the demo dashboard with home as HOME, in the working
// directory cwd, on a 120×35 terminal, and waits for the first sync.
func startDemo(t *testing.T, home, cwd string) *ptyDashboard {
	t.Helper()
	d := startInTerminal(t, cwd, []string{"HOME=" + home, "XDG_DATA_HOME=" + filepath.Join(home, "data"),
		"XDG_CONFIG_HOME=" + filepath.Join(home, "config"), "XDG_CACHE_HOME=" + home, "TERM=xterm-256color", "USER=tester"}, "demo")
	d.scr.waitFor(t, 0, "synced", "grp_", "at risk")
	return d
}

// startInTerminal runs the built binary with args in a 120×35 pseudo-terminal,
// in the working directory dir ("" for the test's), with env and PATH as its
// whole environment.
func startInTerminal(t *testing.T, dir string, env []string, args ...string) *ptyDashboard {
	t.Helper()
	cmd := exec.Command(builtBinary(t), args...)
	cmd.Dir = dir
	cmd.Env = append(env, "PATH="+os.Getenv("PATH"))
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 35, Cols: 120})
	if err != nil {
		t.Fatal(err)
	}
	d := &ptyDashboard{t: t, tty: tty, scr: &screen{}, done: make(chan error, 1)}
	go io.Copy(d.scr, tty)
	go func() { d.done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
		}
		tty.Close()
	})
	return d
}

// press types keys one at a time: an esc glued to the next key would read as
// alt+key.
func (d *ptyDashboard) press(keys ...string) {
	for _, k := range keys {
		d.tty.WriteString(k)
		time.Sleep(150 * time.Millisecond)
	}
}

// quit presses q and waits for the program to end.
func (d *ptyDashboard) quit() {
	d.t.Helper()
	d.press("q")
	select {
	case err := <-d.done:
		if err != nil {
			d.t.Errorf("the dashboard exited with %v", err)
		}
	case <-time.After(10 * time.Second):
		d.t.Fatal("q did not quit the dashboard")
	}
}

// TestExportInTerminal: e proposes a path in the download directory, never
// the working directory; enter writes the whole report there.
func TestExportInTerminal(t *testing.T) {
	home, cwd := t.TempDir(), t.TempDir()
	downloads := filepath.Join(home, "Downloads")
	if err := os.Mkdir(downloads, 0o755); err != nil {
		t.Fatal(err)
	}
	d := startDemo(t, home, cwd)
	at := d.scr.waitFor(t, 0, "grp_")
	d.press("e")
	// The field shows the end of a long path.
	at = d.scr.waitFor(t, at, "Export the report as CSV", string(filepath.Separator)+"Downloads"+string(filepath.Separator)+"doublecheck-", "whole report")
	d.press("\r")
	// The status bar keeps the path whole and shortens the words before it
	// (how much of them shows depends on what else the bar holds, e.g. a sync).
	d.scr.waitFor(t, at, ".csv")
	var files []string
	for deadline := time.Now().Add(20 * time.Second); len(files) == 0 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		files, _ = filepath.Glob(filepath.Join(downloads, "doublecheck-*.csv"))
	}
	d.quit()

	if len(files) != 1 {
		t.Fatalf("reports in %s: %v", downloads, files)
	}
	body, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(body), "group_id") || strings.Count(string(body), "\n") < 3 {
		t.Errorf("the report is not a CSV report:\n%s", body)
	}
	if stray, _ := os.ReadDir(cwd); len(stray) != 0 {
		t.Errorf("the export wrote into the working directory: %v", stray)
	}
}

// TestMouseInTerminal: the real binary asks the terminal for mouse reports,
// and a click or a wheel notch (SGR mouse sequences, as xterm sends them) acts
// on the pane under the pointer.
func TestMouseInTerminal(t *testing.T) {
	d := startDemo(t, t.TempDir(), t.TempDir())
	// Cell motion tracking with SGR coordinates was asked for.
	at := d.scr.waitFor(t, 0, "1/")
	d.scr.mu.Lock()
	raw := d.scr.raw.String()
	d.scr.mu.Unlock()
	if !strings.Contains(raw, "\x1b[?1002h") || !strings.Contains(raw, "\x1b[?1006h") {
		t.Fatal("the dashboard did not turn on mouse reporting")
	}
	sgr := func(button, x, y int) string { return fmt.Sprintf("\x1b[<%d;%d;%dM", button, x, y) }
	// On 120×35 the list's rows start near the top and the detail pane fills
	// the bottom third; coordinates are 1-based.
	d.press(sgr(65, 20, 10), sgr(65, 20, 10)) // two notches down over the list
	at = d.scr.waitFor(t, at, "3/")
	d.press(sgr(0, 20, 30)) // a click in the detail pane
	at = d.scr.waitFor(t, at, "back to list")
	d.press(sgr(0, 20, 7)) // a click on the list's first rows focuses the list:
	d.press("j")           // j moves the selection again instead of scrolling the pane
	d.scr.waitFor(t, at, "2/")
	d.quit()
}

// TestCopyInTerminal: c writes the selected group's id to the terminal as an
// OSC 52 sequence, whole (not cut by a frame), and says so.
func TestCopyInTerminal(t *testing.T) {
	d := startDemo(t, t.TempDir(), t.TempDir())
	at := d.scr.waitFor(t, 0, "1/")
	d.press("c")
	d.scr.waitFor(t, at, "copied group id grp_")
	d.scr.mu.Lock()
	raw := d.scr.raw.String()
	d.scr.mu.Unlock()
	seq := regexp.MustCompile("\x1b]52;c;([A-Za-z0-9+/=]+)\x07").FindStringSubmatch(raw)
	if seq == nil {
		t.Fatal("no OSC 52 sequence reached the terminal")
	}
	id, err := base64.StdEncoding.DecodeString(seq[1])
	if err != nil || !strings.HasPrefix(string(id), "grp_") || !strings.Contains(ansi.Strip(raw), "copied group id "+string(id)) {
		t.Errorf("the clipboard got %q (%v); the screen does not name it", id, err)
	}
	d.quit()
}

// TestResizeInTerminal: the real binary follows the terminal's size. Shrunk
// below 60×15 with the refund dialog open, it says so and takes no key but
// quit (y sends nothing); at 80×24 again the list is back, and the footer says
// which keys wait behind ? (or ? help when the selected group's keys all fit:
// an Adyen group has no Stripe Dashboard link).
func TestResizeInTerminal(t *testing.T) {
	d := startDemo(t, t.TempDir(), t.TempDir())
	at := d.scr.waitFor(t, 0, "1/")
	d.press("r")
	at = d.scr.waitFor(t, at, "Refund")
	if err := pty.Setsize(d.tty, &pty.Winsize{Rows: 10, Cols: 50}); err != nil {
		t.Fatal(err)
	}
	at = d.scr.waitFor(t, at, "terminal too small")
	d.press("y")
	if err := pty.Setsize(d.tty, &pty.Winsize{Rows: 24, Cols: 80}); err != nil {
		t.Fatal(err)
	}
	at = d.scr.waitFor(t, at, "Refund")
	d.press("\x1b") // esc: the dialog, still unconfirmed, cancels
	at = d.scr.waitFor(t, at, "refund cancelled: nothing was sent")
	// The renderer redraws only changed lines, so an unchanged footer may not
	// be drawn again after the cancel; one more column makes it draw the
	// whole screen at the size the footer is checked at.
	if err := pty.Setsize(d.tty, &pty.Winsize{Rows: 24, Cols: 81}); err != nil {
		t.Fatal(err)
	}
	d.scr.waitFor(t, at, "q quit")
	if text, _ := d.scr.since(at); !strings.Contains(text, "? more keys") && !strings.Contains(text, "? help") {
		t.Errorf("the footer is back without ? more keys or ? help:\n%s", text)
	}
	d.quit()
}

// TestDemoShowsPayPal: the demo's header says PayPal SANDBOX beside Stripe
// TEST, and the sandbox's PayPal duplicates are groups like Stripe's.
func TestDemoShowsPayPal(t *testing.T) {
	d := startDemo(t, t.TempDir(), t.TempDir())
	at := d.scr.waitFor(t, 0, "Stripe", "TEST", "PayPal", "SANDBOX")
	d.press("/", "I", "N", "V", "-")
	d.scr.waitFor(t, at, "same order_id INV-")
	d.press("\x1b", "\x1b")
	d.quit()
}

// TestPayPalDashboard: the dashboard on a PayPal account says PayPal SANDBOX
// (never Stripe's TEST), shows its groups, and R says where PayPal's lag
// leaves the data.
func TestPayPalDashboard(t *testing.T) {
	_, url := listenSandbox(t, sandbox.Options{Ordinary: -1})
	home := t.TempDir()
	d := startInTerminal(t, "", []string{"HOME=" + home, "XDG_DATA_HOME=" + filepath.Join(home, "data"), "TERM=xterm-256color", "USER=tester",
		"PAYPAL_CLIENT_ID=" + sandbox.PayPalClientID, "PAYPAL_CLIENT_SECRET=" + sandbox.PayPalSecret},
		"--provider", "paypal", "--paypal-env", "sandbox", "--paypal-base", url)
	at := d.scr.waitFor(t, 0, "PayPal "+sandbox.PayPalAccountNumber, "SANDBOX", "synced", "same order_id INV-")
	if text, _ := d.scr.since(0); strings.Contains(text, " TEST ") {
		t.Errorf("a PayPal dashboard shows Stripe's TEST badge")
	}
	// R says how far PayPal's data reaches.
	d.press("R")
	d.scr.waitFor(t, at, "PayPal through", "up to 3 h late")
	d.quit()
}
