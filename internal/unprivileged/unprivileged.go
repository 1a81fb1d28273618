//go:build unix

// Package unprivileged runs a child process as the user nobody when this
// process is root: file permissions do not stop root, so the tests of
// read-only stores need an ordinary user, and initdb refuses to run as root.
package unprivileged

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"syscall"
)

// Credential is the user nobody when this process is root, else nil (run as
// this process's own user).
func Credential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		return nil, fmt.Errorf("running as root, and there is no user nobody to run as: %w", err)
	}
	uid, err := strconv.ParseUint(nobody.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("user nobody's uid %q: %w", nobody.Uid, err)
	}
	gid, err := strconv.ParseUint(nobody.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("user nobody's gid %q: %w", nobody.Gid, err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// Run makes cmd run as Credential's user.
func Run(cmd *exec.Cmd) error {
	cred, err := Credential()
	if err != nil {
		return err
	}
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	return nil
}
