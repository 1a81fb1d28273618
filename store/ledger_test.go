package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

func intentFor(charge string, amount int64, operator string) reconcile.RefundIntent {
	return reconcile.RefundIntent{
		RefundRequest: reconcile.RefundRequest{Key: reconcile.RefundKey(charge, 0, amount), ChargeID: charge, KeptChargeID: "ch_keep", GroupID: "grp_1", Amount: amount, Currency: "usd"}, Operator: operator, Reason: "duplicate",
	}
}

func TestRefundLedgerLifecycle(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d testDialect) {
		ctx := context.Background()
		s := d.open(t)
		if err := s.SaveCharges(ctx, []reconcile.Charge{{ID: "ch_dup", Amount: 2000, Currency: "usd",
			Status: "succeeded", Captured: true, Observed: baseTime}}); err != nil {
			t.Fatal(err)
		}

		first, created, err := s.BeginRefund(ctx, intentFor("ch_dup", 2000, "ann"))
		if err != nil || !created {
			t.Fatalf("BeginRefund = %v, %v; want a new intent", created, err)
		}
		if first.Status != reconcile.RefundPending || first.CreatedAt.IsZero() || first.Operator != "ann" {
			t.Errorf("new intent = %+v, want pending, with a creation time, by ann", first)
		}

		// The same charge and amount again, by someone else: the first intent comes back.
		again, created, err := s.BeginRefund(ctx, intentFor("ch_dup", 2000, "bob"))
		if err != nil || created {
			t.Fatalf("second BeginRefund = %v, %v; want the existing intent", created, err)
		}
		if !reflect.DeepEqual(again, first) {
			t.Errorf("second BeginRefund returned %+v, want the first intent %+v", again, first)
		}

		for range 2 {
			if err := s.MarkAttempt(ctx, first.Key, "ann"); err != nil {
				t.Fatal(err)
			}
		}
		pending, err := s.PendingRefunds(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(pending) != 1 || pending[0].Key != first.Key || pending[0].Attempts != 2 {
			t.Fatalf("pending = %+v, want the intent with 2 attempts", pending)
		}

		// Observed left zero: the refund outcome is the newest thing known.
		after := reconcile.Charge{ID: "ch_dup", Amount: 2000, AmountRefunded: 2000, Refunded: true, Currency: "usd",
			Status: "succeeded", Captured: true}
		if err := s.FinishRefund(ctx, first.Key, reconcile.RefundOutcome{Status: reconcile.RefundSucceeded, RefundID: "re_1", ChargeAfter: &after}); err != nil {
			t.Fatalf("FinishRefund: %v", err)
		}
		in, err := s.LoadInput(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(in.Refunds) != 1 {
			t.Fatalf("refunds = %+v", in.Refunds)
		}
		done := in.Refunds[0]
		if done.Status != reconcile.RefundSucceeded || done.RefundID != "re_1" || done.FinishedAt.IsZero() || done.Attempts != 2 {
			t.Errorf("finished intent = %+v", done)
		}
		if c := in.Charges[0]; c.AmountRefunded != 2000 || !c.Refunded {
			t.Errorf("charge after the refund = %+v, want fully refunded", c)
		}
		if pending, _ := s.PendingRefunds(ctx); len(pending) != 0 {
			t.Errorf("pending after finishing = %+v", pending)
		}

		// Money moved: the ledger refuses to forget it.
		err = s.FinishRefund(ctx, first.Key, reconcile.RefundOutcome{Status: reconcile.RefundFailed, ErrorCode: "charge_already_refunded", ErrorMessage: "already"})
		if err == nil || !strings.Contains(err.Error(), "already recorded as refunded") {
			t.Errorf("overwriting a refunded intent: %v", err)
		}
	})
}

func TestFinishRefundOutcomes(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d testDialect) {
		ctx := context.Background()
		tests := []struct {
			name                    string
			status                  reconcile.RefundStatus
			id, code, msg           string
			wantErr                 string
			wantPending, wantFinish bool
		}{
			{"stripe refused", reconcile.RefundFailed, "", "charge_disputed", "Charge ch_x has been disputed.", "", false, true},
			{"network failure stays pending", reconcile.RefundPending, "", "network", "timeout", "", true, false},
			{"dry run", reconcile.RefundWouldRefund, "", "", "", "", false, true},
			{"refunded without refund id", reconcile.RefundSucceeded, "", "", "", "needs its refund id", true, false},
			{"unknown status", "done", "", "", "", `unknown status "done"`, true, false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := d.open(t)
				intent, _, err := s.BeginRefund(ctx, intentFor("ch_x", 700, "ann"))
				if err != nil {
					t.Fatal(err)
				}
				err = s.FinishRefund(ctx, intent.Key, reconcile.RefundOutcome{Status: tt.status, RefundID: tt.id, ErrorCode: tt.code, ErrorMessage: tt.msg})
				if tt.wantErr != "" {
					if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
						t.Fatalf("error = %v, want %q", err, tt.wantErr)
					}
				} else if err != nil {
					t.Fatal(err)
				}
				pending, _ := s.PendingRefunds(ctx)
				if (len(pending) == 1) != tt.wantPending {
					t.Errorf("pending = %+v, want pending: %v", pending, tt.wantPending)
				}
				in, _ := s.LoadInput(ctx)
				got := in.Refunds[0]
				if !tt.wantPending && (got.Status != tt.status || got.ErrorCode != tt.code || got.ErrorMessage != tt.msg) {
					t.Errorf("intent = %+v", got)
				}
				if !got.FinishedAt.IsZero() != tt.wantFinish {
					t.Errorf("finished at %v, want finished: %v", got.FinishedAt, tt.wantFinish)
				}
			})
		}
		s := d.open(t)
		if err := s.FinishRefund(ctx, "doublecheck-refund-ch_none-1", reconcile.RefundOutcome{Status: reconcile.RefundFailed, ErrorCode: "x", ErrorMessage: "y"}); !errors.Is(err, ErrNoIntent) {
			t.Errorf("FinishRefund of an unknown key: %v, want ErrNoIntent", err)
		}
	})
}

// TestBeginRefundNeverReplacesAnIntent: whatever the existing intent's status,
// a second BeginRefund with its key returns it unchanged. (Dry runs cannot get
// in a real refund's way: their keys carry a prefix of their own.)
func TestBeginRefundNeverReplacesAnIntent(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d testDialect) {
		for _, status := range []reconcile.RefundStatus{reconcile.RefundWouldRefund, reconcile.RefundPending} {
			t.Run(string(status), func(t *testing.T) {
				ctx := context.Background()
				s := d.open(t)
				first := intentFor("ch_1", 500, "ann")
				first.Status = status
				if _, created, err := s.BeginRefund(ctx, first); err != nil || !created {
					t.Fatalf("first intent: %v, %v", created, err)
				}
				for _, again := range []reconcile.RefundStatus{reconcile.RefundPending, reconcile.RefundWouldRefund} {
					second := intentFor("ch_1", 500, "bob")
					second.Status = again
					got, created, err := s.BeginRefund(ctx, second)
					if err != nil || created || got.Status != status || got.Operator != "ann" {
						t.Errorf("%s intent with the key of a %s one: %+v, created %v, %v; want the first intent unchanged", again, status, got, created, err)
					}
				}
			})
		}
	})
}

func TestBeginRefundRejectsBadIntents(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d testDialect) {
		s := d.open(t)
		good := intentFor("ch_1", 100, "ann")
		tests := []struct {
			name    string
			change  func(r *reconcile.RefundIntent)
			wantErr string
		}{
			{"empty key", func(r *reconcile.RefundIntent) { r.Key = "" }, "key is empty"},
			{"key too long for Stripe", func(r *reconcile.RefundIntent) { r.Key = strings.Repeat("k", 256) }, "Stripe accepts at most 255"},
			{"key too long for PayPal", func(r *reconcile.RefundIntent) {
				r.Provider, r.Key = reconcile.ProviderPayPal, strings.Repeat("k", 109)
			}, "the PayPal-Request-Id is 109 characters long; PayPal accepts at most 108"},
			{"key too long for Adyen", func(r *reconcile.RefundIntent) {
				r.Provider, r.Key = reconcile.ProviderAdyen, strings.Repeat("k", 65)
			}, "the Idempotency-Key is 65 characters long; Adyen accepts at most 64"},
			{"no charge", func(r *reconcile.RefundIntent) { r.ChargeID = "" }, "no charge"},
			{"zero amount", func(r *reconcile.RefundIntent) { r.Amount = 0 }, "not positive"},
			{"no currency", func(r *reconcile.RefundIntent) { r.Currency = "" }, "currency is empty"},
			{"already finished", func(r *reconcile.RefundIntent) { r.Status = reconcile.RefundSucceeded }, "must be"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := good
				tt.change(&r)
				if _, _, err := s.BeginRefund(context.Background(), r); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error = %v, want %q", err, tt.wantErr)
				}
			})
		}
		if in, _ := s.LoadInput(context.Background()); len(in.Refunds) != 0 {
			t.Errorf("rejected intents were stored: %+v", in.Refunds)
		}
	})
}

// Two handles on one file (as two dashboards or a dashboard and `doublecheck
// refund` would have) race to begin the same refunds: each key is won once.
func TestBeginRefundRaceBetweenHandles(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d testDialect) {
		ctx := context.Background()
		path := d.location(t)
		var handles []*Store
		for range 2 {
			s, err := Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			handles = append(handles, s)
		}
		const keys, perHandle = 40, 3
		var mu sync.Mutex
		winners := map[string][]string{}
		var wg sync.WaitGroup
		for h, s := range handles {
			for g := range perHandle {
				wg.Add(1)
				go func() {
					defer wg.Done()
					who := fmt.Sprintf("handle%d-goroutine%d", h, g)
					for k := range keys {
						got, created, err := s.BeginRefund(ctx, intentFor(fmt.Sprintf("ch_%d", k), 100, who))
						if err != nil {
							t.Error(err)
							return
						}
						if created {
							mu.Lock()
							winners[got.Key] = append(winners[got.Key], got.Operator)
							mu.Unlock()
						}
					}
				}()
			}
		}
		wg.Wait()
		in, err := handles[0].LoadInput(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(in.Refunds) != keys {
			t.Errorf("%d intents stored, want %d", len(in.Refunds), keys)
		}
		for _, r := range in.Refunds {
			if w := winners[r.Key]; len(w) != 1 || w[0] != r.Operator {
				t.Errorf("key %s: created by %v, stored operator %s; want exactly one creator, the stored one", r.Key, w, r.Operator)
			}
		}
	})
}

// Ledger transactions run with synchronous=FULL; the connection goes back to
// NORMAL for everything else.
func TestLedgerWritesAreFullySynced(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	synchronous := func(q querier) int {
		var mode int
		if err := q.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&mode); err != nil {
			t.Fatal(err)
		}
		return mode
	}
	const normal, full = 1, 2
	if got := synchronous(s.writer); got != normal {
		t.Errorf("writer synchronous = %d, want NORMAL (%d)", got, normal)
	}
	err := s.withLedgerTx(ctx, func(tx *txn) error {
		if got := synchronous(tx); got != full {
			t.Errorf("ledger transaction synchronous = %d, want FULL (%d)", got, full)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := synchronous(s.writer); got != normal {
		t.Errorf("writer synchronous after a ledger write = %d, want NORMAL (%d)", got, normal)
	}
}
