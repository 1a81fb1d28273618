package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// TestReceivedRefundIsNotResumed: a refund the provider received is no
// longer pending (a resume never sends it again) and counts as given back.
func TestReceivedRefundIsNotResumed(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d testDialect) {
		ctx := context.Background()
		s := d.open(t)
		it, _, err := s.BeginRefund(ctx, intentFor("ch_dup", 2000, "ann"))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.FinishRefund(ctx, it.Key, reconcile.RefundOutcome{Status: reconcile.RefundReceived}); err == nil {
			t.Error("a received refund without its refund id was recorded")
		}
		if err := s.FinishRefund(ctx, it.Key, reconcile.RefundOutcome{Status: reconcile.RefundReceived, RefundID: "psp_1"}); err != nil {
			t.Fatal(err)
		}
		if pending, err := s.PendingRefunds(ctx); err != nil || len(pending) != 0 {
			t.Errorf("pending = %+v, %v; want none", pending, err)
		}
		// A late attempt of another process with no answer does not reopen it.
		if err := s.FinishRefund(ctx, it.Key, reconcile.RefundOutcome{Status: reconcile.RefundPending, ErrorCode: "network"}); err != nil {
			t.Fatal(err)
		}
		if err := s.FinishRefund(ctx, it.Key, reconcile.RefundOutcome{Status: reconcile.RefundFailed, ErrorCode: "x"}); err == nil {
			t.Error("FinishRefund recorded a received refund as refused; only its confirmation may")
		}
		intents := allIntents(t, s)
		if len(intents) != 1 || intents[0].Status != reconcile.RefundReceived || intents[0].RefundID != "psp_1" {
			t.Errorf("intents = %+v, want the one received as psp_1", intents)
		}
	})
}

func TestConfirmRefund(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d testDialect) {
		ctx := context.Background()
		cases := []struct {
			name      string
			before    reconcile.RefundStatus // the intent's recorded status
			refundID  string                 // the id confirmed
			outcome   reconcile.RefundOutcome
			want      reconcile.RefundStatus // the intent's status after
			wantCode  string
			wantError string
		}{
			{name: "received, confirmed", before: reconcile.RefundReceived, refundID: "psp_1",
				outcome: reconcile.RefundOutcome{Status: reconcile.RefundSucceeded}, want: reconcile.RefundSucceeded},
			{name: "received, refused", before: reconcile.RefundReceived, refundID: "psp_1",
				outcome: reconcile.RefundOutcome{Status: reconcile.RefundFailed, ErrorCode: "insufficient_balance", ErrorMessage: "not enough"},
				want:    reconcile.RefundFailed, wantCode: "insufficient_balance"},
			{name: "a confirmation delivered again", before: reconcile.RefundSucceeded, refundID: "psp_1",
				outcome: reconcile.RefundOutcome{Status: reconcile.RefundSucceeded}, want: reconcile.RefundSucceeded},
			{name: "a refunded intent is never refused", before: reconcile.RefundSucceeded, refundID: "psp_1",
				outcome: reconcile.RefundOutcome{Status: reconcile.RefundFailed}, want: reconcile.RefundSucceeded,
				wantError: "is refunded, not awaiting confirmation"},
			{name: "unknown refund id", before: reconcile.RefundReceived, refundID: "psp_9",
				outcome: reconcile.RefundOutcome{Status: reconcile.RefundSucceeded}, want: reconcile.RefundReceived,
				wantError: `no intent records refund id "psp_9"`},
			{name: "not an outcome", before: reconcile.RefundReceived, refundID: "psp_1",
				outcome: reconcile.RefundOutcome{Status: reconcile.RefundPending}, want: reconcile.RefundReceived,
				wantError: `the outcome must be "refunded", "refund_failed" or "refund_reversed"`},
			{name: "received, then failed after all", before: reconcile.RefundReceived, refundID: "psp_1",
				outcome: reconcile.RefundOutcome{Status: reconcile.RefundReversed, ErrorCode: "refund_failed", ErrorMessage: "REFUND_FAILED"},
				want:    reconcile.RefundReversed, wantCode: "refund_failed"},
			{name: "refunded, then reversed: no longer refunded", before: reconcile.RefundSucceeded, refundID: "psp_1",
				outcome: reconcile.RefundOutcome{Status: reconcile.RefundReversed, ErrorCode: "refunded_reversed", ErrorMessage: "REFUNDED_REVERSED"},
				want:    reconcile.RefundReversed, wantCode: "refunded_reversed"},
			{name: "refused, then reversed: nothing to change", before: reconcile.RefundFailed, refundID: "psp_1",
				outcome: reconcile.RefundOutcome{Status: reconcile.RefundReversed, ErrorCode: "refund_failed"}, want: reconcile.RefundFailed},
			{name: "a refused intent is never confirmed", before: reconcile.RefundFailed, refundID: "psp_1",
				outcome: reconcile.RefundOutcome{Status: reconcile.RefundSucceeded}, want: reconcile.RefundFailed,
				wantError: "is refund_failed, not awaiting confirmation"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				s := d.open(t)
				if err := s.SaveCharges(ctx, []reconcile.Charge{{ID: "ch_dup", Amount: 2000, Currency: "usd",
					Status: "succeeded", Captured: true, Observed: baseTime}}); err != nil {
					t.Fatal(err)
				}
				it, _, err := s.BeginRefund(ctx, intentFor("ch_dup", 2000, "ann"))
				if err != nil {
					t.Fatal(err)
				}
				if _, _, err := s.BeginRefund(ctx, intentFor("ch_other", 500, "ann")); err != nil {
					t.Fatal(err)
				}
				if err := s.MarkAttempt(ctx, it.Key, "ann"); err != nil {
					t.Fatal(err)
				}
				if err := s.FinishRefund(ctx, it.Key, reconcile.RefundOutcome{Status: tc.before, RefundID: "psp_1"}); err != nil {
					t.Fatal(err)
				}
				beforeIntents, beforeCharges := allIntents(t, s), loadedCharges(t, s)
				beforeAttempts, err := s.refundAttempts(ctx, it.Key)
				if err != nil {
					t.Fatal(err)
				}

				err = s.ConfirmRefund(ctx, tc.refundID, tc.outcome)
				switch {
				case tc.wantError == "" && err != nil:
					t.Fatalf("ConfirmRefund: %v", err)
				case tc.wantError != "" && (err == nil || !strings.Contains(err.Error(), tc.wantError)):
					t.Fatalf("ConfirmRefund err = %v, want one saying %q", err, tc.wantError)
				case strings.Contains(tc.wantError, "no intent records") && !errors.Is(err, ErrNoIntent):
					t.Errorf("err = %v, want ErrNoIntent", err)
				}

				// Only the intent's status and error may change.
				want := beforeIntents
				for i := range want {
					if want[i].Key == it.Key {
						want[i].Status = tc.want
						if tc.want != tc.before && tc.want != reconcile.RefundSucceeded {
							want[i].ErrorCode, want[i].ErrorMessage = tc.wantCode, tc.outcome.ErrorMessage
						}
					}
				}
				if got := allIntents(t, s); !reflect.DeepEqual(got, want) {
					t.Errorf("intents\n got %+v\nwant %+v", got, want)
				}
				if got := loadedCharges(t, s); !reflect.DeepEqual(got, beforeCharges) {
					t.Errorf("charges changed: %+v, were %+v", got, beforeCharges)
				}
				if got, _ := s.refundAttempts(ctx, it.Key); !reflect.DeepEqual(got, beforeAttempts) {
					t.Errorf("attempts changed: %+v, were %+v", got, beforeAttempts)
				}
			})
		}
	})
}

func allIntents(t *testing.T, s *Store) []reconcile.RefundIntent {
	t.Helper()
	intents, err := queryIntents(context.Background(), s.reader, "")
	if err != nil {
		t.Fatal(err)
	}
	return intents
}

// A file of notifications is confirmed in one transaction, each reading its
// intent as the earlier ones left it: a success then a reversal of one refund
// ends reversed (no longer refunded); one confirmation the ledger
// contradicts refuses the whole batch, naming it, and records nothing.
func TestConfirmRefundsIsAllOrNothing(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d testDialect) {
		ctx := context.Background()
		received := func(s *Store, charge, refundID string) reconcile.RefundIntent {
			t.Helper()
			it, _, err := s.BeginRefund(ctx, intentFor(charge, 2000, "ann"))
			if err != nil {
				t.Fatal(err)
			}
			if err := s.MarkAttempt(ctx, it.Key, "ann"); err != nil {
				t.Fatal(err)
			}
			if err := s.FinishRefund(ctx, it.Key, reconcile.RefundOutcome{Status: reconcile.RefundReceived, RefundID: refundID}); err != nil {
				t.Fatal(err)
			}
			return it
		}
		succeeded := reconcile.RefundOutcome{Status: reconcile.RefundSucceeded}
		reversed := reconcile.RefundOutcome{Status: reconcile.RefundReversed, ErrorCode: "refunded_reversed", ErrorMessage: "REFUNDED_REVERSED"}
		refused := reconcile.RefundOutcome{Status: reconcile.RefundFailed, ErrorCode: "refund", ErrorMessage: "refused"}

		t.Run("success then reversal", func(t *testing.T) {
			s := d.open(t)
			a := received(s, "ch_a", "psp_a")
			lost, _, err := s.BeginRefund(ctx, intentFor("ch_lost", 2000, "ann"))
			if err != nil {
				t.Fatal(err)
			}
			done, err := s.ConfirmRefunds(ctx, []RefundConfirmation{
				{RefundID: "psp_a", Outcome: succeeded}, {RefundID: "psp_a", Outcome: reversed},
				{RefundID: "psp_a", Outcome: succeeded}, // delivered again after the reversal
				{RefundID: "psp_lost", Key: lost.Key, Outcome: succeeded}, {RefundID: "psp_elsewhere", Key: "theirs", Outcome: succeeded},
			})
			if err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for _, c := range done {
				got = append(got, fmt.Sprintf("%s %v %s", c.Intent.Status, c.Changed, c.Lost.Key))
			}
			want := []string{"received true ", "refunded true ", "refund_reversed false ", " false " + lost.Key, " false "}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("results %q, want %q", got, want)
			}
			for _, it := range allIntents(t, s) {
				if it.Key == a.Key && (it.Status != reconcile.RefundReversed || it.ErrorCode != "refunded_reversed") {
					t.Errorf("intent %+v, want reversed", it)
				}
				if it.Key == lost.Key && it.Status != reconcile.RefundPending {
					t.Errorf("the lost answer's intent is %s, want it left pending", it.Status)
				}
			}
		})
		t.Run("one contradiction refuses the batch", func(t *testing.T) {
			s := d.open(t)
			received(s, "ch_a", "psp_a")
			received(s, "ch_b", "psp_b")
			before := allIntents(t, s)
			_, err := s.ConfirmRefunds(ctx, []RefundConfirmation{
				{RefundID: "psp_a", Outcome: succeeded}, {RefundID: "psp_b", Outcome: succeeded}, {RefundID: "psp_b", Outcome: refused},
			})
			var ce *ConfirmationError
			if !errors.As(err, &ce) || ce.Index != 2 || !strings.Contains(err.Error(), "is refunded, not awaiting confirmation") {
				t.Fatalf("err = %v, want the third confirmation refused", err)
			}
			if got := allIntents(t, s); !reflect.DeepEqual(got, before) {
				t.Errorf("intents changed by a refused batch:\n got %+v\nwant %+v", got, before)
			}
		})
	})
}
