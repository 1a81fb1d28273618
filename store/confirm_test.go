package store

import (
	"context"
	"errors"
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
				wantError: `the outcome must be "refunded" or "refund_failed"`},
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
						if tc.want == reconcile.RefundFailed {
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
