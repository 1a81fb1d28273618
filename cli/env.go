package cli

import (
	"io"
	"os"
	"os/user"
	"path/filepath"
	"time"
)

// Env is everything a command touches outside the process: its streams, the
// environment, where data lives, who runs it and the time. Commands read none of
// these from the process directly, so tests give each run its own and run in
// parallel.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	// Home is the user's home directory (the stripe CLI's config is under it).
	Home string
	// DataDir holds the stores and the accounts remembered for keys; empty when
	// the machine has no home to put it in (then only --db works).
	DataDir string
	// CacheDir holds throwaway files: the demo's store.
	CacheDir string
	// User is the OS user, recorded as the operator unless --operator says otherwise.
	User string
	// Now is the clock: --since spans count back from it.
	Now func() time.Time
	// Terminal reports whether stdin and stdout are a terminal (the dashboard and
	// interactive confirmations need one).
	Terminal bool
	// StderrTerminal reports whether stderr is a terminal (sync draws a progress bar).
	StderrTerminal bool
}

// OSEnv is the real process environment.
func OSEnv() Env {
	home, _ := os.UserHomeDir()
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	return Env{
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		Getenv: os.Getenv, Home: home,
		DataDir:        dataDir(os.Getenv, home),
		CacheDir:       filepath.Join(cache, "doublecheck"),
		User:           osUser(os.Getenv),
		Now:            time.Now,
		Terminal:       isTerminal(os.Stdin) && isTerminal(os.Stdout),
		StderrTerminal: isTerminal(os.Stderr),
	}
}

// dataDir is $XDG_DATA_HOME/doublecheck, else ~/.local/share/doublecheck; empty
// without a home. A relative XDG_DATA_HOME is ignored, as the XDG spec says.
func dataDir(getenv func(string) string, home string) string {
	base := getenv("XDG_DATA_HOME")
	if !filepath.IsAbs(base) {
		if home == "" {
			return ""
		}
		base = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(base, "doublecheck")
}

// osUser is the name of the user running doublecheck: the account's, else
// $USER (%USERNAME% on Windows), else "unknown".
func osUser(getenv func(string) string) string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	for _, name := range []string{"USER", "USERNAME"} {
		if v := getenv(name); v != "" {
			return v
		}
	}
	return "unknown"
}
