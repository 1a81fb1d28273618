package cli

import (
	"path/filepath"
	"testing"
)

func TestDataDir(t *testing.T) {
	t.Parallel()
	home := filepath.FromSlash("/home/ana")
	for _, tc := range []struct {
		name, xdg, home, want string
	}{
		{"XDG_DATA_HOME", "/data", home, "/data/doublecheck"},
		{"no XDG_DATA_HOME", "", home, "/home/ana/.local/share/doublecheck"},
		{"a relative XDG_DATA_HOME is ignored", "rel/dir", home, "/home/ana/.local/share/doublecheck"},
		{"XDG_DATA_HOME without a home", "/data", "", "/data/doublecheck"},
		{"neither: no data dir", "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			getenv := func(name string) string {
				if name == "XDG_DATA_HOME" {
					return filepath.FromSlash(tc.xdg)
				}
				return ""
			}
			if got := dataDir(getenv, tc.home); got != filepath.FromSlash(tc.want) {
				t.Errorf("dataDir = %q, want %q", got, tc.want)
			}
		})
	}
}
