package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// An attempt claims its intent in the shared store: while it runs, another
// process's BeginRefund and MarkAttempt on the same charge and amount say who
// holds it and since when, and record nothing. When the attempt ends, or its
// lease runs out, the other process may attempt it, with the same key.
func TestRefundClaimIsHeldAcrossHandles(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d testDialect) {
		ctx := context.Background()
		path := d.location(t)
		ann, bob := openAt(t, path), openAt(t, path)
		intent, created, err := ann.BeginRefund(ctx, intentFor("ch_dup", 900, "ann"))
		if err != nil || !created {
			t.Fatalf("BeginRefund = %v, %v", created, err)
		}
		before := time.Now()
		if err := ann.MarkAttempt(ctx, intent.Key, "ann"); err != nil {
			t.Fatal(err)
		}
		// ann's own handle may attempt again (a retry in the same process).
		if err := ann.MarkAttempt(ctx, intent.Key, "ann"); err != nil {
			t.Errorf("ann's second attempt: %v", err)
		}

		assertHeld := func(what string, err error) {
			t.Helper()
			var held *reconcile.RefundHeldError
			if !errors.As(err, &held) {
				t.Fatalf("%s while ann holds the intent: %v, want a RefundHeldError", what, err)
			}
			if held.Operator != "ann" || held.ChargeID != "ch_dup" || held.Key != intent.Key || held.Since.Before(before.Add(-time.Second)) {
				t.Errorf("%s: held = %+v, want ann's claim on ch_dup since her attempt began", what, held)
			}
		}
		got, created, err := bob.BeginRefund(ctx, intentFor("ch_dup", 900, "bob"))
		assertHeld("bob's BeginRefund", err)
		if created || got.Key != intent.Key || got.Operator != "ann" {
			t.Errorf("bob's BeginRefund returned %+v (created %v), want ann's intent", got, created)
		}
		assertHeld("bob's MarkAttempt", bob.MarkAttempt(ctx, intent.Key, "bob"))
		if attempts, _ := bob.refundAttempts(ctx, intent.Key); len(attempts) != 2 {
			t.Errorf("%d attempts recorded, want ann's 2 and none of bob's", len(attempts))
		}

		// After the lease, bob takes over; ann's last attempt stays started
		// (its outcome is not known).
		bob.dbNow = func() time.Time { return time.Now().Add(reconcile.RefundLease + time.Second) }
		if _, _, err := bob.BeginRefund(ctx, intentFor("ch_dup", 900, "bob")); err != nil {
			t.Fatalf("bob's BeginRefund after the lease: %v", err)
		}
		if err := bob.MarkAttempt(ctx, intent.Key, "bob"); err != nil {
			t.Fatalf("bob's MarkAttempt after the lease: %v", err)
		}
		// Now bob holds it, as ann sees.
		var held *reconcile.RefundHeldError
		if err := ann.MarkAttempt(ctx, intent.Key, "ann"); !errors.As(err, &held) || held.Operator != "bob" {
			t.Errorf("ann's attempt while bob holds the intent: %v, want it held by bob", err)
		}
		// Once bob's attempt ends, with no answer from the provider, ann
		// may resume it without waiting.
		if err := bob.FinishRefund(ctx, intent.Key, reconcile.RefundOutcome{Status: reconcile.RefundPending, ErrorCode: "network", ErrorMessage: "timed out"}); err != nil {
			t.Fatal(err)
		}
		if err := ann.MarkAttempt(ctx, intent.Key, "ann"); err != nil {
			t.Errorf("ann's resume after bob's attempt ended: %v", err)
		}
		attempts, err := ann.refundAttempts(ctx, intent.Key)
		if err != nil {
			t.Fatal(err)
		}
		var ops []string
		for _, a := range attempts {
			ops = append(ops, a.Operator+":"+string(a.Status))
		}
		want := []string{"ann:started", "ann:started", "bob:pending", "ann:started"}
		if len(ops) != len(want) || ops[0] != want[0] || ops[1] != want[1] || ops[2] != want[2] || ops[3] != want[3] {
			t.Errorf("attempts %v, want %v", ops, want)
		}
	})
}

// A claim on an intent that is no longer pending is refused: bob's resume
// listed the intent pending, then ann's attempt settled it. Bob's
// MarkAttempt says how it was settled and records no attempt, so bob sends
// nothing (a second refund, or a refused refund turned back into received).
func TestRefundClaimRefusesASettledIntent(t *testing.T) {
	cases := []struct {
		name    string
		outcome reconcile.RefundOutcome
		status  reconcile.RefundStatus
	}{
		{name: "refunded", outcome: reconcile.RefundOutcome{Status: reconcile.RefundSucceeded, RefundID: "re_1"}, status: reconcile.RefundSucceeded},
		{name: "adopted", outcome: reconcile.RefundOutcome{Status: reconcile.RefundAdopted, RefundID: "re_1"}, status: reconcile.RefundSucceeded},
		{name: "received", outcome: reconcile.RefundOutcome{Status: reconcile.RefundReceived, RefundID: "psp_1"}, status: reconcile.RefundReceived},
		{name: "refused", outcome: reconcile.RefundOutcome{Status: reconcile.RefundFailed, ErrorCode: "charge_disputed", ErrorMessage: "disputed"}, status: reconcile.RefundFailed},
	}
	forEachDialect(t, func(t *testing.T, d testDialect) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				ctx := context.Background()
				path := d.location(t)
				ann, bob := openAt(t, path), openAt(t, path)
				intent, _, err := ann.BeginRefund(ctx, intentFor("ch_dup", 900, "ann"))
				if err != nil {
					t.Fatal(err)
				}
				pending, err := bob.PendingRefunds(ctx) // bob's resume lists it
				if err != nil || len(pending) != 1 {
					t.Fatalf("PendingRefunds = %v, %v", pending, err)
				}
				if err := ann.MarkAttempt(ctx, intent.Key, "ann"); err != nil {
					t.Fatal(err)
				}
				if err := ann.FinishRefund(ctx, intent.Key, tc.outcome); err != nil {
					t.Fatal(err)
				}
				err = bob.MarkAttempt(ctx, pending[0].Key, "bob")
				var settled *reconcile.RefundSettledError
				if !errors.As(err, &settled) || settled.Status != tc.status || settled.ChargeID != "ch_dup" || settled.RefundID != tc.outcome.RefundID {
					t.Fatalf("bob's MarkAttempt on an intent ann settled as %s: %v, want a RefundSettledError saying so", tc.status, err)
				}
				attempts, err := bob.refundAttempts(ctx, intent.Key)
				if err != nil || len(attempts) != 1 || attempts[0].Operator != "ann" {
					t.Errorf("attempts %+v, %v; want ann's only", attempts, err)
				}
			})
		}
	})
}

// The lease is judged by the database's clock: on a shared PostgreSQL store
// an operator whose machine's clock runs ahead (here by more than a lease)
// still sees another's claim held, and its own claim starts at the server's
// time, so the margin between refund deadline and lease is not eaten by skew.
func TestRefundLeaseIsJudgedByTheDatabaseClock(t *testing.T) {
	ctx := context.Background()
	for _, d := range testDialects {
		if d.name != "postgres" {
			continue // a SQLite store is one machine's file: one clock
		}
		t.Run(d.name, func(t *testing.T) {
			path := d.location(t)
			ann, bob := openAt(t, path), openAt(t, path)
			bob.now = func() time.Time { return time.Now().Add(reconcile.RefundLease + time.Minute) }
			intent, _, err := ann.BeginRefund(ctx, intentFor("ch_dup", 900, "ann"))
			if err != nil {
				t.Fatal(err)
			}
			if err := ann.MarkAttempt(ctx, intent.Key, "ann"); err != nil {
				t.Fatal(err)
			}
			var held *reconcile.RefundHeldError
			if err := bob.MarkAttempt(ctx, intent.Key, "bob"); !errors.As(err, &held) || held.Operator != "ann" {
				t.Fatalf("bob's claim with a clock a lease ahead: %v, want ann's claim held", err)
			}
			// ann's attempt ends with no answer; bob's claim starts at the
			// server's time, not his machine's, so ann sees it held.
			if err := ann.FinishRefund(ctx, intent.Key, reconcile.RefundOutcome{Status: reconcile.RefundPending, ErrorCode: "network"}); err != nil {
				t.Fatal(err)
			}
			before := time.Now()
			if err := bob.MarkAttempt(ctx, intent.Key, "bob"); err != nil {
				t.Fatal(err)
			}
			ann.now = func() time.Time { return time.Now().Add(-reconcile.RefundLease - time.Minute) } // ann's clock behind
			if err := ann.MarkAttempt(ctx, intent.Key, "ann"); !errors.As(err, &held) || held.Operator != "bob" || held.Since.After(before.Add(reconcile.RefundLease)) {
				t.Errorf("ann's claim while bob holds it: %v, want bob's claim held since the server's now", err)
			}
		})
	}
}
