package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOSC52Clipboard(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		// "grp_1" in base64 is Z3JwXzE=.
		{"plain terminal", map[string]string{"TERM": "xterm-256color"}, "\x1b]52;c;Z3JwXzE=\x07"},
		{"inside tmux", map[string]string{"TMUX": "/tmp/tmux-1/default,1,0", "TERM": "screen"}, "\x1bPtmux;\x1b\x1b]52;c;Z3JwXzE=\x07\x1b\\"},
		{"inside screen", map[string]string{"TERM": "screen.xterm-256color"}, "\x1bP\x1b]52;c;Z3JwXzE=\x07\x1b\\"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			c := osc52Clipboard{out: &out, getenv: func(k string) string { return tt.env[k] }}
			if err := c.Copy("grp_1"); err != nil {
				t.Fatal(err)
			}
			if out.String() != tt.want {
				t.Errorf("wrote %q, want %q", out.String(), tt.want)
			}
		})
	}
}

func TestBrowserOpen(t *testing.T) {
	const url = "https://dashboard.stripe.com/test/payments/ch_1"
	tests := []struct {
		name    string
		goos    string
		env     map[string]string
		runErr  error
		wantCmd string // "" when nothing may run
		wantErr string
	}{
		{name: "linux with a display", goos: "linux", env: map[string]string{"DISPLAY": ":0"}, wantCmd: "xdg-open " + url},
		{name: "linux on wayland", goos: "linux", env: map[string]string{"WAYLAND_DISPLAY": "wayland-0"}, wantCmd: "xdg-open " + url},
		{name: "linux over ssh without a display", goos: "linux", wantErr: "no browser can open here"},
		{name: "freebsd without a display", goos: "freebsd", wantErr: "no browser can open here"},
		{name: "macOS", goos: "darwin", wantCmd: "open " + url},
		{name: "windows", goos: "windows", wantCmd: "rundll32 url.dll,FileProtocolHandler " + url},
		{name: "the opener fails", goos: "linux", env: map[string]string{"DISPLAY": ":0"}, runErr: errors.New("exit status 3"),
			wantCmd: "xdg-open " + url, wantErr: "no browser opened (xdg-open: exit status 3)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ran string
			b := newBrowser(tt.goos, func(k string) string { return tt.env[k] })
			b.run = func(_ context.Context, name string, args ...string) error {
				ran = strings.Join(append([]string{name}, args...), " ")
				return tt.runErr
			}
			err := b.Open(context.Background(), url)
			if ran != tt.wantCmd {
				t.Errorf("ran %q, want %q", ran, tt.wantCmd)
			}
			if (err == nil) != (tt.wantErr == "") || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestExportDir(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		dirs  []string // made under home
		files map[string]string
		env   map[string]string // $H is home
		want  string            // $H is home
	}{
		{name: "XDG_DOWNLOAD_DIR from the environment", dirs: []string{"dl", "Downloads"},
			env: map[string]string{"XDG_DOWNLOAD_DIR": "$H/dl"}, want: "$H/dl"},
		{name: "XDG_DOWNLOAD_DIR from user-dirs.dirs", dirs: []string{"Téléchargements", "Downloads"},
			files: map[string]string{".config/user-dirs.dirs": "# written by xdg-user-dirs-update\nXDG_DESKTOP_DIR=\"$HOME/Bureau\"\nXDG_DOWNLOAD_DIR=\"$HOME/Téléchargements\"\n"},
			want:  "$H/Téléchargements"},
		{name: "~/Downloads", dirs: []string{"Downloads"}, want: "$H/Downloads"},
		{name: "a download directory that does not exist is skipped", dirs: []string{"Downloads"},
			env: map[string]string{"XDG_DOWNLOAD_DIR": "$H/gone"}, want: "$H/Downloads"},
		{name: "a relative XDG_DOWNLOAD_DIR is ignored", dirs: []string{"dl"},
			env: map[string]string{"XDG_DOWNLOAD_DIR": "dl"}, want: "$H/.local/share/doublecheck/exports"},
		{name: "no download directory: the data directory's exports", want: "$H/.local/share/doublecheck/exports"},
		{name: "XDG_DATA_HOME", env: map[string]string{"XDG_DATA_HOME": "$H/data"}, want: "$H/data/doublecheck/exports"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := t.TempDir()
			expand := func(s string) string { return strings.ReplaceAll(s, "$H", home) }
			for _, d := range tt.dirs {
				if err := os.MkdirAll(filepath.Join(home, d), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			for name, body := range tt.files {
				path := filepath.Join(home, name)
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			getenv := func(k string) string { return expand(tt.env[k]) }
			env := Env{Home: home, Getenv: getenv, DataDir: dataDir(getenv, home)}
			if got, want := exportDir(env), expand(tt.want); got != filepath.FromSlash(want) {
				t.Errorf("export dir %s, want %s", got, want)
			}
		})
	}
}
