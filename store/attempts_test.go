package store

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// ledgerStep is one ledger write in an attempts scenario: MarkAttempt when
// operator is set, else FinishRefund with the outcome.
type ledgerStep struct {
	operator      string
	status        reconcile.RefundStatus
	id, code, msg string
}

func attemptBy(operator string) ledgerStep { return ledgerStep{operator: operator} }

func finish(status reconcile.RefundStatus, id, code, msg string) ledgerStep {
	return ledgerStep{status: status, id: id, code: code, msg: msg}
}

// attemptSummary is what an attempt says, without its times.
type attemptSummary struct {
	attempt       int
	operator      string
	status        reconcile.RefundStatus
	id, code, msg string
}

func summarize(attempts []reconcile.RefundAttempt) []attemptSummary {
	var out []attemptSummary
	for _, a := range attempts {
		out = append(out, attemptSummary{a.Attempt, a.Operator, a.Status, a.RefundID, a.ErrorCode, a.ErrorMessage})
	}
	return out
}

func TestRefundAttemptsKeepEveryOutcome(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d testDialect) {
		tests := []struct {
			name       string
			steps      []ledgerStep
			want       []attemptSummary
			wantIntent reconcile.RefundStatus // the intent's status at the end
		}{
			{"network failure, then refunded on a resume by someone else",
				[]ledgerStep{attemptBy("ann"), finish(reconcile.RefundPending, "", "network", "timed out"),
					attemptBy("bob"), finish(reconcile.RefundSucceeded, "re_1", "", "")},
				[]attemptSummary{{1, "ann", reconcile.RefundPending, "", "network", "timed out"},
					{2, "bob", reconcile.RefundSucceeded, "re_1", "", ""}},
				reconcile.RefundSucceeded},
			{"refused: a late pending outcome does not reopen it (asking again is a new intent)",
				[]ledgerStep{attemptBy("ann"), finish(reconcile.RefundFailed, "", "charge_disputed", "Charge is disputed."),
					finish(reconcile.RefundPending, "", "", "")},
				[]attemptSummary{{1, "ann", reconcile.RefundFailed, "", "charge_disputed", "Charge is disputed."}},
				reconcile.RefundFailed},
			{"a crash mid-attempt leaves it started",
				[]ledgerStep{attemptBy("ann"), attemptBy("bob"), finish(reconcile.RefundSucceeded, "re_3", "", "")},
				[]attemptSummary{{1, "ann", reconcile.RefundAttemptStarted, "", "", ""},
					{2, "bob", reconcile.RefundSucceeded, "re_3", "", ""}},
				reconcile.RefundSucceeded},
			{"a refund found in Stripe is adopted",
				[]ledgerStep{attemptBy("cy"), finish(reconcile.RefundAdopted, "re_4", "", "")},
				[]attemptSummary{{1, "cy", reconcile.RefundAdopted, "re_4", "", ""}},
				reconcile.RefundSucceeded},
			{"still refused",
				[]ledgerStep{attemptBy("ann"), finish(reconcile.RefundFailed, "", "amount_too_large", "Too large.")},
				[]attemptSummary{{1, "ann", reconcile.RefundFailed, "", "amount_too_large", "Too large."}},
				reconcile.RefundFailed},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx := context.Background()
				s := d.open(t)
				intent, _, err := s.BeginRefund(ctx, intentFor("ch_dup", 900, "ann"))
				if err != nil {
					t.Fatal(err)
				}
				for _, step := range tt.steps {
					if step.operator != "" {
						err = s.MarkAttempt(ctx, intent.Key, step.operator)
					} else {
						err = s.FinishRefund(ctx, intent.Key, reconcile.RefundOutcome{Status: step.status, RefundID: step.id, ErrorCode: step.code, ErrorMessage: step.msg})
					}
					if err != nil {
						t.Fatalf("step %+v: %v", step, err)
					}
				}
				attempts, err := s.refundAttempts(ctx, intent.Key)
				if err != nil {
					t.Fatal(err)
				}
				got := summarize(attempts)
				if len(got) != len(tt.want) {
					t.Fatalf("attempts = %+v, want %+v", got, tt.want)
				}
				for i := range got {
					if got[i] != tt.want[i] {
						t.Errorf("attempt %d = %+v, want %+v", i+1, got[i], tt.want[i])
					}
					a := attempts[i]
					open := a.Status == reconcile.RefundAttemptStarted
					if a.Key != intent.Key || a.StartedAt.IsZero() || a.FinishedAt.IsZero() != open ||
						(!open && a.FinishedAt.Before(a.StartedAt)) {
						t.Errorf("attempt %d: key %q, started %v, finished %v; want the intent's key, a start, and an end unless open",
							i+1, a.Key, a.StartedAt, a.FinishedAt)
					}
					if i > 0 && a.StartedAt.Before(attempts[i-1].StartedAt) {
						t.Errorf("attempt %d started before attempt %d", i+1, i)
					}
				}
				in, err := s.LoadInput(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if it := in.Refunds[0]; it.Status != tt.wantIntent || it.Attempts != len(tt.want) {
					t.Errorf("intent = status %q, %d attempts; want %q, %d", it.Status, it.Attempts, tt.wantIntent, len(tt.want))
				}
			})
		}
	})
}

// Two handles (two processes) attempt the same intent, the second after the
// first's lease ran out: each outcome lands in the attempt its own handle
// began, and a late "no answer" does not undo the refund the other one
// recorded.
func TestRefundAttemptsOfTwoHandlesStayApart(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d testDialect) {
		ctx := context.Background()
		path := d.location(t)
		ann, bob := openAt(t, path), openAt(t, path)
		bob.dbNow = func() time.Time { return time.Now().Add(reconcile.RefundLease + time.Minute) }
		intent, _, err := ann.BeginRefund(ctx, intentFor("ch_dup", 900, "ann"))
		if err != nil {
			t.Fatal(err)
		}
		for _, step := range []func() error{
			func() error { return ann.MarkAttempt(ctx, intent.Key, "ann") },
			func() error { return bob.MarkAttempt(ctx, intent.Key, "bob") },
			func() error {
				return ann.FinishRefund(ctx, intent.Key, reconcile.RefundOutcome{Status: reconcile.RefundSucceeded, RefundID: "re_1"})
			},
			func() error {
				return bob.FinishRefund(ctx, intent.Key, reconcile.RefundOutcome{Status: reconcile.RefundPending, ErrorCode: "idempotency_key_in_use", ErrorMessage: "in use"})
			},
		} {
			if err := step(); err != nil {
				t.Fatal(err)
			}
		}
		attempts, err := bob.refundAttempts(ctx, intent.Key)
		if err != nil {
			t.Fatal(err)
		}
		want := []attemptSummary{{1, "ann", reconcile.RefundSucceeded, "re_1", "", ""},
			{2, "bob", reconcile.RefundPending, "", "idempotency_key_in_use", "in use"}}
		if got := summarize(attempts); len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
			t.Errorf("attempts = %+v, want %+v", got, want)
		}
		if pending, _ := ann.PendingRefunds(ctx); len(pending) != 0 {
			t.Errorf("the refunded intent is pending again: %+v", pending)
		}
		// The refunded intent cannot be claimed again, and a refusal after the
		// refund is a contradiction, refused as before.
		var settled *reconcile.RefundSettledError
		if err := bob.MarkAttempt(ctx, intent.Key, "bob"); !errors.As(err, &settled) || settled.Status != reconcile.RefundSucceeded {
			t.Fatalf("a claim on the refunded intent: %v, want a RefundSettledError", err)
		}
		err = bob.FinishRefund(ctx, intent.Key, reconcile.RefundOutcome{Status: reconcile.RefundFailed, ErrorCode: "charge_already_refunded", ErrorMessage: "already"})
		if err == nil || !strings.Contains(err.Error(), "already recorded as refunded") {
			t.Errorf("a refusal after the refund: %v, want it refused", err)
		}
	})
}

// The table is append-only: a finished attempt cannot be rewritten or
// deleted, even by SQL that bypasses the Store's methods.
func TestRefundAttemptsAreAppendOnly(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d testDialect) {
		ctx := context.Background()
		s := d.open(t)
		intent, _, err := s.BeginRefund(ctx, intentFor("ch_dup", 900, "ann"))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.MarkAttempt(ctx, intent.Key, "ann"); err != nil {
			t.Fatal(err)
		}
		if err := s.FinishRefund(ctx, intent.Key, reconcile.RefundOutcome{Status: reconcile.RefundFailed, ErrorCode: "charge_disputed", ErrorMessage: "disputed"}); err != nil {
			t.Fatal(err)
		}
		tests := []struct{ name, sql, want string }{
			{"rewrite an outcome", `UPDATE refund_attempts SET status = 'refunded', refund_id = 're_x'`, "only ever completed once"},
			{"reopen an attempt", `UPDATE refund_attempts SET status = 'started'`, "only ever completed once"},
			{"delete an attempt", `DELETE FROM refund_attempts`, "cannot be deleted"},
			{"delete its intent", `DELETE FROM refund_intents`, "FOREIGN KEY"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if _, err := s.writer.ExecContext(ctx, tt.sql); err == nil || !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(tt.want)) {
					t.Errorf("%s: %v, want an error saying %q", tt.sql, err, tt.want)
				}
			})
		}
		attempts, err := s.refundAttempts(ctx, intent.Key)
		if err != nil || len(attempts) != 1 || attempts[0].Status != reconcile.RefundFailed || attempts[0].ErrorCode != "charge_disputed" {
			t.Errorf("attempts = %+v, %v; want the refusal unchanged", attempts, err)
		}
	})
}

// A store written by a doublecheck with only migration 1 opens, gains the
// attempts table, and keeps its intents; an intent attempted before the
// audit existed numbers its next attempt after the ones it counted.
func TestVersion1StoreMigratesToRefundAttempts(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v1.db")
	all, err := migrations(sqliteMigrations)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	old := &Store{path: path, writer: &pool{DB: db, d: sqliteDialect}, d: sqliteDialect}
	if err := old.apply(ctx, all[0]); err != nil {
		t.Fatal(err)
	}
	const key = "doublecheck-refund-ch_old-0-900"
	if _, err := db.ExecContext(ctx, `INSERT INTO refund_intents (`+intentColumns+`)
		VALUES (?, 'ch_old', 'ch_keep', 'grp_1', 900, 'usd', 'ann', 'duplicate', 'pending', '', 'network', 'timed out', 2, 1, 0)`, key); err != nil {
		t.Fatal(err)
	}
	var tables int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name = 'refund_attempts'`).Scan(&tables); err != nil || tables != 0 {
		t.Fatalf("the version 1 store already has refund_attempts (%d, %v)", tables, err)
	}
	db.Close()

	s := openAt(t, path)
	var version int
	if err := s.reader.QueryRowContext(ctx, `SELECT max(version) FROM schema_version`).Scan(&version); err != nil || version != len(all) {
		t.Fatalf("schema version %d (%v), want %d", version, err, len(all))
	}
	pending, err := s.PendingRefunds(ctx)
	if err != nil || len(pending) != 1 || pending[0].Key != key || pending[0].Attempts != 2 || pending[0].ErrorCode != "network" {
		t.Fatalf("pending = %+v, %v; want the old intent unchanged", pending, err)
	}
	if attempts, err := s.refundAttempts(ctx, key); err != nil || len(attempts) != 0 {
		t.Fatalf("attempts before any new one = %+v, %v; want none (none were recorded)", attempts, err)
	}
	if err := s.MarkAttempt(ctx, key, "bob"); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishRefund(ctx, key, reconcile.RefundOutcome{Status: reconcile.RefundSucceeded, RefundID: "re_1"}); err != nil {
		t.Fatal(err)
	}
	attempts, err := s.refundAttempts(ctx, key)
	want := []attemptSummary{{3, "bob", reconcile.RefundSucceeded, "re_1", "", ""}}
	if got := summarize(attempts); err != nil || len(got) != 1 || got[0] != want[0] {
		t.Errorf("attempts = %+v, %v; want %+v", got, err, want)
	}
}

func openAt(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
