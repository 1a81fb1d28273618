//go:build unix

package pgtest

import (
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/doublecheck-dev/doublecheck/internal/unprivileged"
)

// startCluster makes and starts a throwaway cluster: no TCP (a unix socket in
// its directory), no fsync. initdb refuses to run as root, so as root the
// cluster runs as the user nobody.
func startCluster() (baseURL string, stop func(), reason string) {
	bin, err := findBin()
	if err != nil {
		return "", nil, err.Error()
	}
	dir, err := os.MkdirTemp("", "doublecheck-pg-")
	if err != nil {
		return "", nil, err.Error()
	}
	cred, err := unprivileged.Credential()
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err.Error()
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			os.RemoveAll(dir)
			return "", nil, err.Error()
		}
	}
	run := func(name string, args ...string) error {
		cmd := exec.Command(filepath.Join(bin, name), args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "LC_ALL=C")
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s: %v: %s", name, err, strings.TrimSpace(string(out)))
		}
		return nil
	}
	data := filepath.Join(dir, "data")
	if err := run("initdb", "--no-sync", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8"); err != nil {
		os.RemoveAll(dir)
		return "", nil, err.Error()
	}
	opts := fmt.Sprintf("-c listen_addresses='' -c unix_socket_directories=%s -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200", dir)
	if err := run("pg_ctl", "-w", "-D", data, "-o", opts, "-l", filepath.Join(dir, "log"), "start"); err != nil {
		os.RemoveAll(dir)
		return "", nil, err.Error()
	}
	stop = func() {
		run("pg_ctl", "-D", data, "-m", "immediate", "stop")
		os.RemoveAll(dir)
	}
	u := url.URL{Scheme: "postgres", User: url.User("postgres"), Path: "/postgres", RawQuery: "host=" + url.QueryEscape(dir)}
	return u.String(), stop, ""
}

// findBin is the directory of initdb and pg_ctl: on the PATH, else the newest
// of Debian's /usr/lib/postgresql/<version>/bin.
func findBin() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("initdb is not installed (set %s to a PostgreSQL URL, or install PostgreSQL)", EnvURL)
}

func version(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}
