package cli

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/doublecheck-dev/doublecheck/sandbox"
)

// TestResumeDoesNotWaitOnTheAccountLookup: a refund a crash left pending is
// resumed against a server whose /v1/account fails (500) or does not exist
// (404), from --db, after one lookup request, and the note says what was
// not learned.
func TestResumeDoesNotWaitOnTheAccountLookup(t *testing.T) {
	bin := builtBinary(t)
	for _, tt := range []struct {
		name   string
		status int
		note   string
	}{
		{"server error", http.StatusInternalServerError, "note: could not learn the account ("},
		{"no such endpoint", http.StatusNotFound, "note: could not learn which account the key opens ("},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := newRefundWorld(t, sandbox.Options{})
			first := w.suspects()[0].ID
			if code, out := w.child(t, bin, "after-intent", "refund", "--group", w.group.ID, "--yes"); code != -int(syscall.SIGKILL) {
				t.Fatalf("the refund ended with %d, want SIGKILL after the intent:\n%s", code, out)
			}
			lookups := new(atomic.Int64)
			w.url = accountFailingProxy(t, w.url, tt.status, lookups)
			code, out := w.child(t, bin, "", "refund", "--resume")
			if code != 0 || len(w.sb.RefundsFor(first)) != 1 || !strings.Contains(out, "resumed refund:") {
				t.Fatalf("refund --resume exited %d, %d refunds of %s:\n%s", code, len(w.sb.RefundsFor(first)), first, out)
			}
			if n := lookups.Load(); n != 1 {
				t.Errorf("%d requests to /v1/account, want 1", n)
			}
			if !strings.Contains(out, tt.note) {
				t.Errorf("no %q in:\n%s", tt.note, out)
			}
			w.assertNoPending(t)
		})
	}
}

// accountFailingProxy forwards everything to target but GET /v1/account, which
// it answers with status and a Stripe error, counting those requests.
func accountFailingProxy(t *testing.T, target string, status int, lookups *atomic.Int64) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/account" {
			proxy.ServeHTTP(rw, r)
			return
		}
		lookups.Add(1)
		rw.Header().Set("Content-Type", "application/json")
		rw.WriteHeader(status)
		io.WriteString(rw, `{"error":{"type":"api_error","message":"An unknown error occurred"}}`)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
