package cli

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/doublecheck-dev/doublecheck/reconcile"
	"github.com/doublecheck-dev/doublecheck/sandbox"
	"github.com/doublecheck-dev/doublecheck/store"
)

// refundsDownProxy forwards to target, answering 503 to every refund while
// down is set, as PayPal does during an outage: nothing reaches PayPal.
func refundsDownProxy(t *testing.T, target string, down *atomic.Bool) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	forward := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() && strings.HasSuffix(r.URL.Path, "/refund") {
			http.Error(w, `{"name":"SERVICE_UNAVAILABLE","message":"Service Unavailable."}`, http.StatusServiceUnavailable)
			return
		}
		forward.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// printedResume is the resume command a refund printed for its pending refund.
var printedResume = regexp.MustCompile(`\(run (doublecheck refund --resume[^()]*?) later\)`)

// TestPrintedResumeCommandFinishesPayPalRefund runs the built binary: a PayPal
// refund left pending by a 503 prints the command that finishes it, and that
// command, run as printed (by a shell, with the same environment), finishes
// it: for the PayPal account's default store and for a store named by --db.
func TestPrintedResumeCommandFinishesPayPalRefund(t *testing.T) {
	t.Parallel()
	bin := builtBinary(t)
	for _, tc := range []struct {
		name  string
		named bool // the store is named by --db
		// plain runs doublecheck refund --resume with PAYPAL_ENV set instead
		// of the printed command: the PayPal credentials alone find their store.
		plain bool
	}{
		{"default store of the PayPal account", false, false},
		{"store named by --db", true, false},
		{"PAYPAL_ENV alone finds the PayPal account's store", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sb, sbURL := listenSandbox(t, sandbox.Options{Ordinary: -1, Seed: 5})
			var down atomic.Bool
			home := t.TempDir()
			vars := []string{"HOME=" + home, "XDG_DATA_HOME=" + home, "PATH=" + filepath.Dir(bin) + ":" + os.Getenv("PATH"),
				"PAYPAL_CLIENT_ID=" + sandbox.PayPalClientID, "PAYPAL_CLIENT_SECRET=" + sandbox.PayPalSecret,
				"PAYPAL_API_BASE=" + refundsDownProxy(t, sbURL, &down)}
			run := func(name string, args ...string) (int, string) {
				t.Helper()
				cmd := exec.Command(name, args...)
				cmd.Env = vars
				out, err := cmd.CombinedOutput()
				var exit *exec.ExitError
				if errors.As(err, &exit) {
					return exit.ExitCode(), string(out)
				} else if err != nil {
					t.Fatal(err)
				}
				return 0, string(out)
			}
			flags := []string{"--provider", "paypal", "--paypal-env", "sandbox"}
			if tc.named {
				flags = append(flags, "--db", filepath.Join(t.TempDir(), "pp.db"))
			}
			if code, out := run(bin, append([]string{"sync"}, flags...)...); code != 0 {
				t.Fatalf("sync exited %d:\n%s", code, out)
			}
			path := flags[len(flags)-1]
			if !tc.named {
				found, _ := filepath.Glob(filepath.Join(home, "doublecheck", "paypal-*-test.db"))
				if len(found) != 1 {
					t.Fatalf("the sync made the stores %v, want one PayPal sandbox store", found)
				}
				path = found[0]
			}
			g := openPayPalGroup(t, path)
			suspect := g.Charges[1].ID

			down.Store(true)
			code, out := run(bin, append([]string{"refund", "--group", g.ID, "--yes", "--refund-deadline", "2s"}, flags...)...)
			m := printedResume.FindStringSubmatch(out)
			if code == 0 || m == nil {
				t.Fatalf("refund during the outage: exit %d and no resume command:\n%s", code, out)
			}
			if n := len(sb.PayPalRefundsOf(suspect)); n != 0 {
				t.Fatalf("%s has %d refunds during the outage", suspect, n)
			}
			down.Store(false)
			resume := m[1]
			if tc.plain {
				resume = "PAYPAL_ENV=sandbox doublecheck refund --resume"
			}
			if code, out := run("sh", "-c", resume); code != 0 {
				t.Fatalf("%q exited %d:\n%s", resume, code, out)
			}
			if n := len(sb.PayPalRefundsOf(suspect)); n != 1 {
				t.Errorf("after the printed resume %s has %d refunds, want 1", suspect, n)
			}
			st, err := store.Open(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if pending, err := st.PendingRefunds(context.Background()); err != nil || len(pending) != 0 {
				t.Errorf("pending intents left after the printed resume: %+v (%v)", pending, err)
			}
		})
	}
}

// openPayPalGroup is an open PayPal group of the store at path whose suspects
// can be refunded.
func openPayPalGroup(t *testing.T, path string) reconcile.Group {
	t.Helper()
	st, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	report, err := detect(context.Background(), st, reconcile.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range report.Groups {
		refundable := g.Status == reconcile.Open && g.Confidence == reconcile.High
		for _, m := range g.Charges[1:] {
			refundable = refundable && m.Refundable > 0 && m.Provider == reconcile.ProviderPayPal
		}
		if refundable {
			return g
		}
	}
	t.Fatal("no open PayPal group with refundable suspects in the sandbox")
	return reconcile.Group{}
}
