package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/aymanbagabas/go-osc52/v2"

	"github.com/doublecheck-dev/doublecheck/ui"
)

// osc52Clipboard copies through the terminal: an OSC 52 sequence asks the
// terminal itself to set the clipboard, so it works over SSH (where the
// clipboard is on the operator's machine) and needs no xclip or pbcopy. Inside
// tmux or screen the sequence is wrapped for them to pass on.
type osc52Clipboard struct {
	out    io.Writer // the terminal
	getenv func(string) string
}

var _ ui.TerminalClipboard = osc52Clipboard{}

// WithOutput writes to the dashboard's own terminal output.
func (c osc52Clipboard) WithOutput(w io.Writer) ui.Clipboard {
	c.out = w
	return c
}

func (c osc52Clipboard) Copy(text string) error {
	seq := osc52.New(text)
	switch {
	case c.getenv("TMUX") != "":
		seq = seq.Tmux()
	case strings.HasPrefix(c.getenv("TERM"), "screen"):
		seq = seq.Screen()
	}
	if _, err := seq.WriteTo(c.out); err != nil {
		return fmt.Errorf("writing to the terminal: %w", err)
	}
	return nil
}

// browser opens links with the desktop's opener: open on macOS, the URL
// protocol handler on Windows, xdg-open elsewhere.
type browser struct {
	goos   string
	getenv func(string) string
	// run runs the opener and waits for it; exec in production.
	run func(ctx context.Context, name string, args ...string) error
}

// errNoDisplay is why no browser opens on a Unix without a graphical session
// (a server reached over SSH, a console).
var errNoDisplay = errors.New("no browser can open here (no DISPLAY or WAYLAND_DISPLAY)")

func newBrowser(goos string, getenv func(string) string) browser {
	return browser{goos: goos, getenv: getenv, run: func(ctx context.Context, name string, args ...string) error {
		// Its output would scribble over the dashboard: it is dropped.
		return exec.CommandContext(ctx, name, args...).Run()
	}}
}

func (b browser) Open(ctx context.Context, url string) error {
	var name string
	var args []string
	switch b.goos {
	case "darwin":
		name, args = "open", []string{url}
	case "windows":
		name, args = "rundll32", []string{"url.dll,FileProtocolHandler", url}
	default:
		if b.getenv("DISPLAY") == "" && b.getenv("WAYLAND_DISPLAY") == "" {
			return errNoDisplay
		}
		name, args = "xdg-open", []string{url}
	}
	// xdg-open and open return once the browser has the link; one that hangs
	// must not hold the dashboard's command for ever.
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := b.run(ctx, name, args...); err != nil {
		return fmt.Errorf("no browser opened (%s: %v)", name, err)
	}
	return nil
}

// exportDir is where the dashboard proposes to write reports, never the
// working directory (which may be a repository or a shared folder): the
// user's download directory when there is one (XDG_DOWNLOAD_DIR from the
// environment or from user-dirs.dirs, else ~/Downloads), else exports/ under
// doublecheck's data directory, which is made when the first report is written.
func exportDir(env Env) string {
	isDir := func(p string) bool {
		fi, err := os.Stat(p)
		return err == nil && fi.IsDir()
	}
	for _, dir := range []string{env.Getenv("XDG_DOWNLOAD_DIR"), userDirsDownload(env), filepath.Join(env.Home, "Downloads")} {
		if filepath.IsAbs(dir) && isDir(dir) {
			return dir
		}
	}
	return filepath.Join(env.DataDir, "exports")
}

// userDirsDownload is XDG_DOWNLOAD_DIR as xdg-user-dirs writes it in
// $XDG_CONFIG_HOME/user-dirs.dirs (a shell fragment: XDG_DOWNLOAD_DIR="$HOME/Downloads"),
// "" when it is not there.
func userDirsDownload(env Env) string {
	config := env.Getenv("XDG_CONFIG_HOME")
	if !filepath.IsAbs(config) {
		config = filepath.Join(env.Home, ".config")
	}
	data, err := os.ReadFile(filepath.Join(config, "user-dirs.dirs"))
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(data), "\n") {
		value, ok := strings.CutPrefix(strings.TrimSpace(line), "XDG_DOWNLOAD_DIR=")
		if !ok {
			continue
		}
		value = strings.Trim(value, `"`)
		if rest, ok := strings.CutPrefix(value, "$HOME"); ok {
			value = env.Home + rest
		}
		return value
	}
	return ""
}
