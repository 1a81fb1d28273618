//go:build unix

package store

import (
	"errors"
	"syscall"
)

// processGone reports whether no process with this id runs on this machine
// (signal 0 checks without sending anything; EPERM is a process of another
// user, which runs).
func processGone(pid int) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}
