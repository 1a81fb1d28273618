package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/doublecheck-dev/doublecheck/reconcile"
	"github.com/doublecheck-dev/doublecheck/sandbox"
	"github.com/doublecheck-dev/doublecheck/store"
)

// paypalWorld is a sandbox PayPal account synced into a store, and the open
// PayPal group refunds are tried on.
type paypalWorld struct {
	sb    *sandbox.Server
	url   string
	db    string
	home  string
	group reconcile.Group
	// ahead is how far the sandbox clock was moved (Advance): commands run
	// with their clock moved as far.
	ahead time.Duration
}

func newPayPalWorld(t *testing.T) *paypalWorld {
	t.Helper()
	w := &paypalWorld{home: t.TempDir()}
	w.sb, w.url = listenSandbox(t, sandbox.Options{Ordinary: -1, Seed: 5})
	w.db = filepath.Join(t.TempDir(), "paypal.db")
	if code, out := w.run(t, "sync"); code != 0 {
		t.Fatalf("sync exited %d:\n%s", code, out)
	}
	w.group = openPayPalGroup(t, w.db)
	return w
}

func (w *paypalWorld) flags() []string {
	return []string{"--provider", "paypal", "--paypal-env", "sandbox", "--paypal-base", w.url, "--db", w.db}
}

func (w *paypalWorld) vars() map[string]string {
	return map[string]string{"PAYPAL_CLIENT_ID": sandbox.PayPalClientID, "PAYPAL_CLIENT_SECRET": sandbox.PayPalSecret}
}

// run runs one command in this process against the world.
func (w *paypalWorld) run(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	env := paypalEnv(t, &out, nil)
	env.Home, env.DataDir = w.home, filepath.Join(w.home, "doublecheck")
	env.Now = func() time.Time { return time.Now().Add(w.ahead) }
	return Run(context.Background(), append(args, w.flags()...), env), out.String()
}

// child runs the built binary against the world; crashAt sets
// DOUBLECHECK_CRASH_AT. The code is the exit status, or minus the signal.
func (w *paypalWorld) child(t *testing.T, bin, crashAt string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(bin, append(args, w.flags()...)...)
	cmd.Env = []string{"HOME=" + w.home, "XDG_DATA_HOME=" + w.home, "PATH=" + os.Getenv("PATH")}
	for k, v := range w.vars() {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if crashAt != "" {
		cmd.Env = append(cmd.Env, crashEnv+"="+crashAt)
	}
	out, err := cmd.CombinedOutput()
	return childExit(t, bin, err), string(out)
}

func (w *paypalWorld) refunds(id string) int { return len(w.sb.PayPalRefundsOf(id)) }

func (w *paypalWorld) assertNoPending(t *testing.T) {
	t.Helper()
	st, err := store.Open(context.Background(), w.db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if pending, err := st.PendingRefunds(context.Background()); err != nil || len(pending) != 0 {
		t.Errorf("pending intents left: %+v (%v)", pending, err)
	}
}

// TestPayPalRefundCrashResume runs the built binary, SIGKILLed at each step of
// the refund protocol, then resumes: the PayPal-Request-Id (the intent's key)
// makes the resend return the first refund, so each suspect is refunded once.
func TestPayPalRefundCrashResume(t *testing.T) {
	t.Parallel()
	bin := builtBinary(t)
	for _, point := range []string{"before-intent", "after-intent", "after-stripe"} {
		t.Run("crash "+point, func(t *testing.T) {
			t.Parallel()
			w := newPayPalWorld(t)
			suspect := w.group.Charges[1].ID
			code, out := w.child(t, bin, point, "refund", "--group", w.group.ID, "--yes")
			if code != -int(syscall.SIGKILL) {
				t.Fatalf("with %s=%s the refund ended with %d, want SIGKILL:\n%s", crashEnv, point, code, out)
			}
			if n, want := w.refunds(suspect), map[string]int{"after-stripe": 1}[point]; n != want {
				t.Fatalf("after the crash %s has %d refunds, want %d", suspect, n, want)
			}
			if code, out := w.child(t, bin, "", "refund", "--resume"); code != 0 {
				t.Fatalf("refund --resume exited %d:\n%s", code, out)
			}
			if n, want := w.refunds(suspect), map[string]int{"after-intent": 1, "after-stripe": 1}[point]; n != want {
				t.Errorf("after resume %s has %d refunds, want %d", suspect, n, want)
			}
			w.assertNoPending(t)
			// Asking again finishes the group: one refund per suspect, whatever came before.
			if code, out := w.child(t, bin, "", "refund", "--group", w.group.ID, "--yes"); code != 0 {
				t.Fatalf("refund after the crash exited %d:\n%s", code, out)
			}
			for _, m := range w.group.Charges[1:] {
				if n := w.refunds(m.ID); n != 1 {
					t.Errorf("PayPal capture %s has %d refunds, want exactly 1", m.ID, n)
				}
			}
			for _, m := range w.group.Charges[:1] {
				if n := w.refunds(m.ID); n != 0 {
					t.Errorf("the kept payment %s was refunded", m.ID)
				}
			}
			w.assertNoPending(t)
		})
	}
}

// TestPayPalRefundCommand refunds a PayPal group in process: it says which
// PayPal it works on, and a second run sends nothing.
func TestPayPalRefundCommand(t *testing.T) {
	t.Parallel()
	w := newPayPalWorld(t)
	code, out := w.run(t, "refund", "--group", w.group.ID, "--yes")
	if code != 0 || !strings.Contains(out, "PAYPAL SANDBOX") {
		t.Fatalf("refund exited %d:\n%s", code, out)
	}
	suspect := w.group.Charges[1].ID
	if n := w.refunds(suspect); n != 1 {
		t.Fatalf("%s has %d refunds, want 1", suspect, n)
	}
	if _, out := w.run(t, "refund", "--group", w.group.ID, "--yes"); w.refunds(suspect) != 1 {
		t.Fatalf("a second refund of the group sent another:\n%s", out)
	}
}

// TestPayPalRefundFromConfiguredCredentials runs the built binary on a synced
// PayPal store with no Stripe key and no --provider: PAYPAL_* alone refund
// the PayPal group; with only Adyen configured, the refusal names the
// variables that would let it.
func TestPayPalRefundFromConfiguredCredentials(t *testing.T) {
	t.Parallel()
	bin := builtBinary(t)
	w := newPayPalWorld(t)
	suspect := w.group.Charges[1].ID
	run := func(vars ...string) (int, string) {
		cmd := exec.Command(bin, "refund", "--group", w.group.ID, "--yes", "--db", w.db)
		cmd.Env = append([]string{"HOME=" + w.home, "XDG_DATA_HOME=" + w.home, "PATH=" + os.Getenv("PATH")}, vars...)
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode(), string(out)
		} else if err != nil {
			t.Fatal(err)
		}
		return 0, string(out)
	}
	code, out := run("ADYEN_API_KEY="+sandbox.AdyenTestKey, "ADYEN_MERCHANT_ACCOUNT="+sandbox.AdyenMerchantAccount, "ADYEN_ENV=test")
	if code == 0 || !strings.Contains(out, "no PayPal credentials (set PAYPAL_CLIENT_ID, PAYPAL_CLIENT_SECRET and PAYPAL_ENV)") || w.refunds(suspect) != 0 {
		t.Fatalf("with only Adyen configured: exit %d, %d refunds of %s:\n%s", code, w.refunds(suspect), suspect, out)
	}
	code, out = run("PAYPAL_CLIENT_ID="+sandbox.PayPalClientID, "PAYPAL_CLIENT_SECRET="+sandbox.PayPalSecret,
		"PAYPAL_ENV=sandbox", "PAYPAL_API_BASE="+w.url)
	if code != 0 || w.refunds(suspect) != 1 || strings.Contains(out, sandbox.PayPalSecret) {
		t.Fatalf("with PAYPAL_* only: exit %d, %d refunds of %s:\n%s", code, w.refunds(suspect), suspect, out)
	}
}

// TestPayPalPendingRefundConfirmedBySync: PayPal answers the refund PENDING
// (an eCheck not cleared), so doublecheck records it as received; a sync once
// its row is listed, still P, leaves it so; a sync after it settled records
// what PayPal's row says: completed → refunded, the group resolved; denied →
// refused, the payment no longer refunded, the group open again.
func TestPayPalPendingRefundConfirmedBySync(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		fail      bool
		want      reconcile.RefundStatus
		summary   string
		refunded  bool
		groupOpen bool
	}{
		{"completes", false, reconcile.RefundSucceeded, "1 completed (now refunded)", true, false},
		{"denied", true, reconcile.RefundFailed, "1 denied by PayPal (now refused", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newPayPalWorld(t)
			if len(w.group.Charges) != 2 {
				t.Fatalf("group %s has %d payments; the test expects one suspect", w.group.ID, len(w.group.Charges))
			}
			suspect := w.group.Charges[1]
			const settle = 4 * time.Hour
			w.sb.SetPayPalRefundsPending(settle, tc.fail)
			if code, out := w.run(t, "refund", "--group", w.group.ID, "--yes"); code != 0 {
				t.Fatalf("refund exited %d:\n%s", code, out)
			}
			// check asserts the intent's status and the suspect's refunded
			// amount, and says whether the group is open.
			check := func(want reconcile.RefundStatus, refunded int64) (open bool) {
				t.Helper()
				ctx := context.Background()
				st, err := store.Open(ctx, w.db)
				if err != nil {
					t.Fatal(err)
				}
				defer st.Close()
				intents, err := st.RefundIntents(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if len(intents) != 1 || intents[0].Status != want || intents[0].ChargeID != suspect.ID {
					t.Fatalf("intents %+v, want one for %s, %s", intents, suspect.ID, want)
				}
				report, err := detect(ctx, st, reconcile.DefaultOptions())
				if err != nil {
					t.Fatal(err)
				}
				for _, g := range report.Groups {
					if g.ID != w.group.ID {
						continue
					}
					for _, m := range g.Charges {
						if m.ID == suspect.ID && m.AmountRefunded != refunded {
							t.Errorf("%s: suspect %s has %d refunded in the store, want %d", want, m.ID, m.AmountRefunded, refunded)
						}
					}
					return g.Status == reconcile.Open
				}
				t.Fatalf("group %s is gone", w.group.ID)
				return false
			}
			if open := check(reconcile.RefundReceived, 0); open {
				t.Errorf("group open with its suspect's refund received")
			}
			// Past the listing lag, before PayPal settles: the sync lists the
			// refund's row, still P, and the intent stays received.
			w.ahead = 3*time.Hour + 30*time.Minute
			w.sb.Advance(w.ahead)
			if code, out := w.run(t, "sync"); code != 0 || !strings.Contains(out, "1 still pending at PayPal") {
				t.Fatalf("sync before settling exited %d:\n%s", code, out)
			}
			check(reconcile.RefundReceived, suspect.Amount)
			w.sb.Advance(settle + time.Minute - w.ahead)
			w.ahead = settle + time.Minute
			code, out := w.run(t, "sync")
			if code != 0 || !strings.Contains(out, tc.summary) {
				t.Fatalf("sync after settling exited %d, want it to say %q:\n%s", code, tc.summary, out)
			}
			refunded := int64(0)
			if tc.refunded {
				refunded = suspect.Amount
			}
			if open := check(tc.want, refunded); open != tc.groupOpen {
				t.Errorf("group open %v, want %v", open, tc.groupOpen)
			}
			// Another sync changes nothing.
			if code, out := w.run(t, "sync"); code != 0 || strings.Contains(out, "answered PENDING") {
				t.Fatalf("a second sync exited %d or confirmed again:\n%s", code, out)
			}
			check(tc.want, refunded)
		})
	}
}
