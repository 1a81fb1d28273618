//go:build unix

package store

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// A claim whose process crashed on this machine holds nothing: refund
// --resume right after a crash need not wait for the lease. One of another
// machine, or of a process still running, holds.
func TestRefundClaimOfACrashedProcessIsTakenAtOnce(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d testDialect) {
		ctx := context.Background()
		s := d.open(t)
		ended := exec.Command("true")
		if err := ended.Run(); err != nil {
			t.Skip("cannot run true:", err)
		}
		machine, identified := thisMachine()
		tests := []struct {
			name     string
			openedBy string
			held     bool
		}{
			{"a process of this machine that ended", fmt.Sprintf("%s/%d/x", machine, ended.Process.Pid), !identified},
			{"a process of this machine that runs", fmt.Sprintf("%s/%d/x", machine, os.Getppid()), true},
			{"a process of another machine", fmt.Sprintf("elsewhere/%d/x", ended.Process.Pid), true},
			// A cloned image, or every laptop called "localhost": the host
			// name alone would take a live claim of another machine.
			{"a process of another machine with this host name", fmt.Sprintf("%s~0123456789abcdef/%d/x", hostname(), ended.Process.Pid), true},
			{"a handle of an older version (host name only)", fmt.Sprintf("%s/%d/x", hostname(), ended.Process.Pid), true},
		}
		for i, tt := range tests {
			charge := fmt.Sprintf("ch_%d", i)
			it, _, err := s.BeginRefund(ctx, intentFor(charge, 900, "ann"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.writer.ExecContext(ctx, `INSERT INTO refund_attempts (key, attempt, operator, opened_by,
				started_at, finished_at, status, refund_id, error_code, error_message)
				VALUES (?, 1, 'ann', ?, ?, 0, 'started', '', '', '')`, it.Key, tt.openedBy, s.clock().UnixNano()); err != nil {
				t.Fatal(err)
			}
			if _, err := s.writer.ExecContext(ctx, `UPDATE refund_intents SET attempts = 1 WHERE key = ?`, it.Key); err != nil {
				t.Fatal(err)
			}
			err = s.MarkAttempt(ctx, it.Key, "bob")
			_, held := err.(*reconcile.RefundHeldError)
			if held != tt.held || (!held && err != nil) {
				t.Errorf("%s: MarkAttempt = %v, want held %v", tt.name, err, tt.held)
			}
		}
	})
}
