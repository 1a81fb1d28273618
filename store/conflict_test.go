package store

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// conflictStores are handles of one store, as several operators' doublecheck
// hold them: each its own connections, so that their transactions overlap
// as they would on a shared PostgreSQL store.
type conflictStores struct {
	t        *testing.T
	postgres bool
	app      string // the application_name of their PostgreSQL sessions
	handles  []*Store
}

// openConflictStores opens n handles of a new store of d; params (such as
// the server's default isolation) are added to a PostgreSQL URL.
func openConflictStores(t *testing.T, d testDialect, n int, params url.Values) *conflictStores {
	t.Helper()
	loc := d.location(t)
	c := &conflictStores{t: t, postgres: IsURL(loc)}
	if c.postgres {
		u, err := url.Parse(loc)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		c.app = "doublecheck-test-" + strings.TrimPrefix(q.Get("search_path"), "t_")
		q.Set("application_name", c.app)
		for name, values := range params {
			q[name] = values
		}
		u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20") // pgx reads + as itself
		loc = u.String()
	}
	for range n {
		c.handles = append(c.handles, openAt(t, loc))
	}
	return c
}

// hold runs, on handle s, a write transaction that runs query (taking its
// rows' locks, or SQLite's write lock) and then waits: release ends it and
// returns its error.
func (c *conflictStores) hold(s *Store, query string, args ...any) (release func() error) {
	c.t.Helper()
	locked, done, result := make(chan error, 1), make(chan struct{}), make(chan error, 1)
	go func() {
		result <- s.withTx(context.Background(), func(tx *txn) error {
			_, err := tx.ExecContext(context.Background(), query, args...)
			locked <- err
			<-done
			return err
		})
	}()
	if err := <-locked; err != nil {
		c.t.Fatalf("hold rows with %q: %v", query, err)
	}
	return func() error {
		close(done)
		return <-result
	}
}

// waitForLockWaits returns once n of the handles' PostgreSQL sessions wait
// for a lock: the interleaving a test builds has happened. SQLite shows no
// waits (a writer waits in busy_timeout), so there it returns at once.
func (c *conflictStores) waitForLockWaits(n int) {
	c.t.Helper()
	if !c.postgres {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		var waiting int
		if err := c.handles[0].reader.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE application_name = ? AND wait_event_type = 'Lock'`, c.app).Scan(&waiting); err != nil {
			c.t.Fatalf("waiting for %d sessions to wait for a lock (%d do): %v", n, waiting, err)
		}
		if waiting >= n {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func async(fn func() error) <-chan error {
	out := make(chan error, 1)
	go func() { out <- fn() }()
	return out
}

// A refund's outcome is recorded when PostgreSQL aborts FinishRefund's
// transaction for a conflict with another session's writes: it is run again,
// and the refund the provider made does not stay pending. The store's own
// writes take rows in one order (see withTx), so the conflicts are built
// here: a server whose default isolation is repeatable read, where a sync
// committing the charge meanwhile is a serialization failure (40001), and a
// session that takes the charge and then the intent, which deadlocks (40P01;
// no store write takes a charge before a ledger row).
func TestRefundOutcomeSurvivesAConflictingWriter(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d testDialect) {
		ctx := context.Background()
		t0 := baseTime
		before := reconcile.Charge{ID: "ch_dup", Amount: 2000, Currency: "usd", Status: "succeeded", Captured: true, Observed: t0}
		synced := before
		synced.Description, synced.Observed = "synced", t0.Add(time.Hour)
		refunded := before
		refunded.AmountRefunded, refunded.Refunded, refunded.Observed = 2000, true, t0.Add(2*time.Hour)

		tests := []struct {
			name   string
			params url.Values
			// finish runs FinishRefund (given) on handles[0] while another
			// session writes, and returns its error.
			finish func(c *conflictStores, key string, finish func() error) error
		}{
			{
				name:   "a sync commits the charge meanwhile, under repeatable read",
				params: url.Values{"default_transaction_isolation": {"repeatable read"}},
				finish: func(c *conflictStores, key string, finish func() error) error {
					// The sync's last row, its cursor, is held, so that it has
					// written the charge and not yet committed.
					release := c.hold(c.handles[2], `SELECT value FROM state WHERE name = 'cursor'`+c.handles[2].d.forUpdate())
					sync := async(func() error {
						return c.handles[1].SaveSyncBatch(ctx, []reconcile.Charge{synced}, nil, reconcile.Observations{}, map[string]string{"cursor": "2"})
					})
					c.waitForLockWaits(1)
					finished := async(finish)
					c.waitForLockWaits(2)
					if err := release(); err != nil {
						t.Errorf("the session holding the cursor: %v", err)
					}
					if err := <-sync; err != nil {
						t.Errorf("SaveSyncBatch: %v", err)
					}
					return <-finished
				},
			},
			{
				name: "a session takes the charge, then the intent",
				finish: func(c *conflictStores, key string, finish func() error) error {
					goAhead := make(chan struct{})
					locked := make(chan error, 1)
					rival := async(func() error {
						return c.handles[1].withTx(ctx, func(tx *txn) error {
							if c.postgres {
								// PostgreSQL aborts the transaction whose deadlock_timeout
								// runs out first: FinishRefund's, when this one's is longer
								// (only a superuser may change it).
								if _, err := tx.ExecContext(ctx, `SELECT set_config('deadlock_timeout', '1min', true)
									WHERE current_setting('is_superuser') = 'on'`); err != nil {
									locked <- err
									return err
								}
							}
							_, err := tx.ExecContext(ctx, `UPDATE charges SET description = 'rival' WHERE id = 'ch_dup'`)
							locked <- err
							if err != nil {
								return err
							}
							<-goAhead
							_, err = tx.ExecContext(ctx, `SELECT status FROM refund_intents WHERE key = ?`+tx.d.forUpdate(), key)
							return err
						})
					})
					if err := <-locked; err != nil {
						t.Fatalf("the rival session: %v", err)
					}
					finished := async(finish)
					c.waitForLockWaits(1)
					close(goAhead)
					if err := <-rival; err != nil {
						t.Errorf("the rival session: %v", err)
					}
					return <-finished
				},
			},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				c := openConflictStores(t, d, 3, tt.params)
				s := c.handles[0]
				if err := s.SaveCharges(ctx, []reconcile.Charge{before}); err != nil {
					t.Fatal(err)
				}
				if err := s.SetState(ctx, "cursor", "1"); err != nil {
					t.Fatal(err)
				}
				intent, _, err := s.BeginRefund(ctx, intentFor("ch_dup", 2000, "ann"))
				if err != nil {
					t.Fatal(err)
				}
				if err := s.MarkAttempt(ctx, intent.Key, "ann"); err != nil {
					t.Fatal(err)
				}

				err = tt.finish(c, intent.Key, func() error {
					return s.FinishRefund(ctx, intent.Key, reconcile.RefundOutcome{Status: reconcile.RefundSucceeded, RefundID: "re_1", ChargeAfter: &refunded})
				})
				if err != nil {
					t.Fatalf("FinishRefund: %v", err)
				}
				in, err := s.LoadInput(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if len(in.Refunds) != 1 || in.Refunds[0].Status != reconcile.RefundSucceeded || in.Refunds[0].RefundID != "re_1" {
					t.Errorf("intents = %+v, want the refund recorded as refunded by re_1", in.Refunds)
				}
				if len(in.Charges) != 1 || !in.Charges[0].Refunded || in.Charges[0].AmountRefunded != 2000 {
					t.Errorf("charges = %+v, want ch_dup refunded (the newest observation)", in.Charges)
				}
				attempts, err := s.refundAttempts(ctx, intent.Key)
				if err != nil {
					t.Fatal(err)
				}
				if len(attempts) != 1 || attempts[0].Status != reconcile.RefundSucceeded || attempts[0].RefundID != "re_1" {
					t.Errorf("attempts = %+v, want the one attempt completed as refunded", attempts)
				}
			})
		}
	})
}

// A sync batch, in the provider's order, and an import, in the order of ids,
// writing some of the same charges at once wait for each other and both
// land, without a retry: the batch's rows are taken in the order of ids too.
// The import is held after its first charge, so that it waits with ch_a
// taken while the batch, unsorted, would take ch_c and wait for ch_a.
func TestSyncBatchAndImportOfTheSameChargesDoNotDeadlock(t *testing.T) {
	saved := writeAttempts
	writeAttempts = 1
	t.Cleanup(func() { writeAttempts = saved })
	forEachDialect(t, func(t *testing.T, d testDialect) {
		ctx := context.Background()
		c := openConflictStores(t, d, 3, nil)
		charge := func(id string, observed time.Time) reconcile.Charge {
			return reconcile.Charge{ID: id, Amount: 1000, Currency: "usd", Status: "succeeded", Captured: true, Observed: observed}
		}
		if err := c.handles[0].SaveCharges(ctx, []reconcile.Charge{charge("ch_a", baseTime), charge("ch_b", baseTime), charge("ch_c", baseTime)}); err != nil {
			t.Fatal(err)
		}
		release := c.hold(c.handles[2], `SELECT id FROM charges WHERE id = 'ch_b'`+c.handles[2].d.forUpdate())
		imported := async(func() error {
			return c.handles[0].ImportCharges(ctx, func(imp *ChargeImport) error {
				for i, id := range []string{"ch_a", "ch_b", "ch_c"} {
					if err := imp.Add(charge(id, baseTime.Add(time.Hour)), reconcile.Place{File: "f", Line: i + 1, Element: -1}, [16]byte{byte(i)}); err != nil {
						return err
					}
				}
				return nil
			})
		})
		c.waitForLockWaits(1)
		synced := async(func() error {
			return c.handles[1].SaveSyncBatch(ctx, []reconcile.Charge{charge("ch_c", baseTime.Add(2*time.Hour)), charge("ch_a", baseTime.Add(2*time.Hour))},
				nil, reconcile.Observations{}, nil)
		})
		c.waitForLockWaits(2)
		if err := release(); err != nil {
			t.Fatal(err)
		}
		if err := <-imported; err != nil {
			t.Errorf("ImportCharges: %v", err)
		}
		if err := <-synced; err != nil {
			t.Errorf("SaveSyncBatch: %v", err)
		}
	})
}

// withTx runs a write again only when PostgreSQL aborted it for a conflict,
// at most writeAttempts times, and stops when the context ends meanwhile.
func TestWithTxRetriesConflictsOnly(t *testing.T) {
	deadlock := &pgconn.PgError{Code: "40P01", Message: "deadlock detected"}
	serialization := &pgconn.PgError{Code: "40001", Message: "could not serialize access due to concurrent update"}
	unique := &pgconn.PgError{Code: "23505", Message: "duplicate key value violates unique constraint"}
	tests := []struct {
		name      string
		errs      []error // fn's error on each run; the last one repeats
		cancel    bool    // the context ends during the first run
		wantRuns  int
		wantErrIs error // nil: success
	}{
		{"a deadlock, then success", []error{deadlock, nil}, false, 2, nil},
		{"serialization failures, then success", []error{serialization, serialization, nil}, false, 3, nil},
		{"always a deadlock", []error{deadlock}, false, writeAttempts, deadlock},
		{"another error is not retried", []error{unique}, false, 1, unique},
		{"the context ends before the rerun", []error{deadlock}, true, 1, context.Canceled},
	}
	forEachDialect(t, func(t *testing.T, d testDialect) {
		s := d.open(t)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				runs := 0
				err := s.withTx(ctx, func(tx *txn) error {
					err := tt.errs[min(runs, len(tt.errs)-1)]
					runs++
					if tt.cancel {
						cancel()
					}
					return err
				})
				if runs != tt.wantRuns {
					t.Errorf("fn ran %d times, want %d", runs, tt.wantRuns)
				}
				if tt.wantErrIs == nil && err != nil || tt.wantErrIs != nil && !errors.Is(err, tt.wantErrIs) {
					t.Errorf("withTx = %v, want %v", err, tt.wantErrIs)
				}
			})
		}
	})
}
