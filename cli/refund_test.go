package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/doublecheck-dev/doublecheck/internal/pgtest"
	"github.com/doublecheck-dev/doublecheck/reconcile"
	"github.com/doublecheck-dev/doublecheck/sandbox"
	"github.com/doublecheck-dev/doublecheck/store"
)

// refundWorld is a sandbox listening on loopback, a store synced from it, and
// the open duplicate group with the most suspects, all refundable.
type refundWorld struct {
	sb    *sandbox.Server
	url   string
	db    string
	home  string
	key   string // the API key every command uses: sandbox.TestKey unless set before sync
	group reconcile.Group
}

func newRefundWorld(t *testing.T, opts sandbox.Options) *refundWorld {
	t.Helper()
	return newRefundWorldWithKey(t, opts, sandbox.TestKey)
}

func newRefundWorldWithKey(t *testing.T, opts sandbox.Options, key string) *refundWorld {
	t.Helper()
	return newRefundWorldAt(t, opts, key, filepath.Join(t.TempDir(), "doublecheck.db"))
}

// newRefundWorldAt is a refund world whose store is at db: a path, or a
// PostgreSQL URL.
func newRefundWorldAt(t *testing.T, opts sandbox.Options, key, db string) *refundWorld {
	t.Helper()
	w := &refundWorld{home: t.TempDir(), key: key, db: db}
	if opts.Seed == 0 {
		opts.Seed = 5
	}
	if opts.Ordinary == 0 {
		opts.Ordinary = 150
	}
	w.sb, w.url = listenSandbox(t, opts)
	if code, out := w.run(t, "", "sync", "--since", "90d"); code != 0 {
		t.Fatalf("sync exited %d:\n%s", code, out)
	}
	// The open group with the most suspects, all of them refundable.
	for _, g := range w.report(t).Groups {
		refundable := g.Status == reconcile.Open
		for _, m := range g.Charges[1:] {
			refundable = refundable && m.Refundable > 0
		}
		if refundable && len(g.Charges) > len(w.group.Charges) {
			w.group = g
		}
	}
	if len(w.group.Charges) < 3 {
		t.Fatalf("no open group with two refundable suspects in the sandbox (best has %d charges)", len(w.group.Charges))
	}
	return w
}

// report runs detection over the store as the refund command does.
func (w *refundWorld) report(t *testing.T) reconcile.Report {
	t.Helper()
	st, err := store.Open(context.Background(), w.db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	report, err := detect(context.Background(), st, reconcile.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	return report
}

// run runs one command in this process, without a terminal, against the world.
func (w *refundWorld) run(t *testing.T, stdin string, args ...string) (int, string) {
	t.Helper()
	return w.runEnv(t, stdin, false, args...)
}

func (w *refundWorld) runEnv(t *testing.T, stdin string, terminal bool, args ...string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	env := w.env(t, stdin, &out)
	env.Terminal = terminal
	args = append(args, "--db", w.db, "--api-key", w.key, "--api-base", w.url)
	return Run(context.Background(), args, env), out.String()
}

// env is the world's machine: commands run in it share the data dir of the
// world's home, as the children of child do (XDG_DATA_HOME is the home).
func (w *refundWorld) env(t *testing.T, stdin string, out io.Writer) Env {
	env := testEnv(t, stdin, out, out)
	env.Home, env.DataDir = w.home, filepath.Join(w.home, "doublecheck")
	return env
}

func (w *refundWorld) suspects() []reconcile.Member { return w.group.Charges[1:] }

// assertOneRefundEach checks every suspect of the group has exactly one refund
// on the sandbox and that no charge is refunded beyond its amount.
func (w *refundWorld) assertOneRefundEach(t *testing.T) {
	t.Helper()
	for _, m := range w.suspects() {
		refunds := w.sb.RefundsFor(m.ID)
		if len(refunds) != 1 {
			t.Errorf("charge %s has %d refunds on the sandbox, want exactly 1", m.ID, len(refunds))
		}
		w.assertNotOverRefunded(t, m.ID)
	}
}

func (w *refundWorld) assertNotOverRefunded(t *testing.T, chargeID string) {
	t.Helper()
	raw, ok := w.sb.ChargeJSON(chargeID)
	if !ok {
		t.Fatalf("no charge %s", chargeID)
	}
	var ch struct {
		Amount         int64 `json:"amount"`
		AmountRefunded int64 `json:"amount_refunded"`
	}
	if err := json.Unmarshal(raw, &ch); err != nil {
		t.Fatal(err)
	}
	if ch.AmountRefunded > ch.Amount {
		t.Errorf("charge %s is refunded %d of %d", chargeID, ch.AmountRefunded, ch.Amount)
	}
}

func (w *refundWorld) refundPosts() int { return w.sb.Stats().ByPath["POST /v1/refunds"] }

func TestRefundCommand(t *testing.T) {
	t.Parallel()
	w := newRefundWorld(t, sandbox.Options{})
	gid := w.group.ID

	code, out := w.run(t, "", "refund", "--group", gid, "--yes", "--operator", "ana")
	if code != 0 {
		t.Fatalf("refund exited %d:\n%s", code, out)
	}
	w.assertOneRefundEach(t)
	for _, m := range w.suspects() {
		line := lineWith(out, m.ID)
		if want := w.sb.RefundsFor(m.ID)[0].ID; !strings.Contains(line, want) ||
			!strings.Contains(line, reconcile.FormatMoney(m.Refundable, m.Currency)) {
			t.Errorf("line for %s = %q, want its amount and refund %s", m.ID, line, want)
		}
		if got := w.sb.RefundsFor(m.ID)[0].Metadata["operator"]; got != "ana" {
			t.Errorf("refund operator = %q, want ana", got)
		}
	}
	for _, m := range w.report(t).Groups {
		if m.ID == gid && m.Status != reconcile.Resolved {
			t.Errorf("group %s is %s after refunding every suspect, want resolved", gid, m.Status)
		}
	}

	w.assertAudit(t, "ana")

	// The same command again refunds nothing more and says why.
	posts := w.refundPosts()
	code, out = w.run(t, "", "refund", "--group", gid, "--yes")
	if code != 0 || strings.Count(out, "already refunded by doublecheck") != len(w.suspects()) {
		t.Fatalf("second refund exited %d:\n%s\nwant every suspect reported as already refunded", code, out)
	}
	if w.refundPosts() != posts {
		t.Errorf("the second run sent %d refund requests", w.refundPosts()-posts)
	}
	w.assertOneRefundEach(t)
}

// assertAudit checks the ledger and the CSV report record who refunded each
// suspect, when, with which key and refund.
func (w *refundWorld) assertAudit(t *testing.T, operator string) {
	t.Helper()
	st, err := store.Open(context.Background(), w.db)
	if err != nil {
		t.Fatal(err)
	}
	in, err := st.LoadInput(context.Background())
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	intents := map[string]reconcile.RefundIntent{}
	for _, it := range in.Refunds {
		intents[it.ChargeID] = it
	}
	report := filepath.Join(t.TempDir(), "report.csv")
	code, out := w.run(t, "", "export", "-o", report)
	if code != 0 {
		t.Fatalf("export exited %d:\n%s", code, out)
	}
	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("export is not a CSV report (%v):\n%s", err, data)
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	for _, m := range w.suspects() {
		refundID := w.sb.RefundsFor(m.ID)[0].ID
		it := intents[m.ID]
		if it.Key != reconcile.RefundKey(m.ID, m.AlreadyRefunded(), m.Refundable) || it.Operator != operator || it.Status != reconcile.RefundSucceeded ||
			it.RefundID != refundID || it.Attempts < 1 || it.CreatedAt.IsZero() || it.FinishedAt.IsZero() {
			t.Errorf("ledger row for %s = %+v, want key, operator %s, refund %s, attempts and times", m.ID, it, operator, refundID)
		}
		var row []string
		for _, r := range rows[1:] {
			if r[col["charge_id"]] == m.ID {
				row = r
			}
		}
		if row == nil || row[col["decision"]] != string(reconcile.RefundSucceeded) || row[col["refund_id"]] != refundID ||
			row[col["operator"]] != operator || row[col["decided_at"]] == "" ||
			row[col["amount_refunded"]] != reconcile.FormatAmount(m.Amount, m.Currency) {
			t.Errorf("report row for %s = %v, want decision refunded, refund %s, operator %s, decided_at, fully refunded", m.ID, row, refundID, operator)
		}
	}
}

// lineWith is the first line of out that mentions s.
func lineWith(out, s string) string {
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, s) {
			return line
		}
	}
	return ""
}

func TestRefundCommandRefusals(t *testing.T) {
	t.Parallel()
	w := newRefundWorld(t, sandbox.Options{})
	gid := w.group.ID
	kept := w.group.Charges[0].ID
	tests := []struct {
		name     string
		args     []string
		stdin    string
		terminal bool
		wantCode int
		want     string
	}{
		{"no terminal, no --yes", []string{"refund", "--group", gid}, "", false, 1, "refusing to refund without --yes when stdin is not a terminal"},
		{"read-only", []string{"refund", "--group", gid, "--yes", "--read-only"}, "", false, 1, "refunds are turned off by --read-only"},
		{"the kept charge", []string{"refund", "--charge", kept, "--yes"}, "", false, 1, "is the charge kept in group " + gid},
		{"unknown group", []string{"refund", "--group", "grp_nope", "--yes"}, "", false, 1, "no duplicate group grp_nope"},
		{"amount too large", []string{"refund", "--charge", w.suspects()[0].ID, "--amount", "99999999", "--yes"}, "", false, 1, "is more than the"},
		{"amount zero", []string{"refund", "--charge", w.suspects()[0].ID, "--amount", "0", "--yes"}, "", false, 2, "--amount must be a positive number"},
		{"amount negative", []string{"refund", "--charge", w.suspects()[0].ID, "--amount", "-5", "--yes"}, "", false, 2, "decimal digits only"},
		{"amount in octal notation", []string{"refund", "--charge", w.suspects()[0].ID, "--amount", "0o500", "--yes"}, "", false, 2, "decimal digits only"},
		{"amount in hex", []string{"refund", "--charge", w.suspects()[0].ID, "--amount", "0x10", "--yes"}, "", false, 2, "decimal digits only"},
		{"amount in binary", []string{"refund", "--charge", w.suspects()[0].ID, "--amount", "0b11", "--yes"}, "", false, 2, "decimal digits only"},
		{"amount with underscores", []string{"refund", "--charge", w.suspects()[0].ID, "--amount", "1_000", "--yes"}, "", false, 2, "decimal digits only"},
		{"amount with a plus sign", []string{"refund", "--charge", w.suspects()[0].ID, "--amount", "+5", "--yes"}, "", false, 2, "decimal digits only"},
		{"amount in major units", []string{"refund", "--charge", w.suspects()[0].ID, "--amount", "5.00", "--yes"}, "", false, 2, "decimal digits only"},
		{"amount above Stripe's 8 digits", []string{"refund", "--charge", w.suspects()[0].ID, "--amount", "100000000", "--yes"}, "", false, 2, "at most 99999999"},
		{"amount with --group", []string{"refund", "--group", gid, "--amount", "100", "--yes"}, "", false, 2, "--amount must be a positive number"},
		{"charge and group", []string{"refund", "--group", gid, "--charge", kept}, "", false, 2, "pass --charge or --group, not both"},
		{"nothing to refund", []string{"refund"}, "", false, 2, "pass --charge ID or --group ID"},
		{"terminal, answer n", []string{"refund", "--group", gid}, "n\n", true, 1, "cancelled: nothing was refunded"},
		{"terminal, stray enter", []string{"refund", "--group", gid}, "\n", true, 1, "cancelled: nothing was refunded"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			posts := w.refundPosts()
			code, out := w.runEnv(t, tc.stdin, tc.terminal, tc.args...)
			if code != tc.wantCode || !strings.Contains(out, tc.want) {
				t.Fatalf("exit %d, output:\n%s\nwant exit %d and %q", code, out, tc.wantCode, tc.want)
			}
			if strings.Contains(out, sandbox.TestKey) {
				t.Errorf("the output shows the API key:\n%s", out)
			}
			if w.refundPosts() != posts {
				t.Errorf("%d refund requests sent", w.refundPosts()-posts)
			}
		})
	}
}

func TestRefundCommandDisputedSuspect(t *testing.T) {
	t.Parallel()
	w := newRefundWorld(t, sandbox.Options{})
	disputed := w.sb.Scenarios()["disputed/1"]
	code, out := w.run(t, "", "refund", "--charge", disputed[1], "--yes")
	if code != 1 || !strings.Contains(lineWith(out, disputed[1]), "not refundable: disputed") ||
		!strings.Contains(out, "doublecheck: 1 charge cannot be refunded.") {
		t.Fatalf("exit %d, output:\n%s\nwant exit 1 and the disputed reason", code, out)
	}
	if n := len(w.sb.RefundsFor(disputed[1])); n != 0 {
		t.Errorf("the disputed charge got %d refunds", n)
	}
}

func TestRefundCommandPartialAmountAndConfirmation(t *testing.T) {
	t.Parallel()
	w := newRefundWorld(t, sandbox.Options{})
	m := w.suspects()[0]
	code, out := w.runEnv(t, "y\n", true, "refund", "--charge", m.ID, "--amount", "100")
	if code != 0 || !strings.Contains(out, "Refund these charges? [y/N]") {
		t.Fatalf("exit %d, output:\n%s", code, out)
	}
	refunds := w.sb.RefundsFor(m.ID)
	if len(refunds) != 1 || refunds[0].Amount != 100 {
		t.Fatalf("refunds of %s = %+v, want one of 100", m.ID, refunds)
	}
	for _, other := range w.suspects()[1:] {
		if n := len(w.sb.RefundsFor(other.ID)); n != 0 {
			t.Errorf("--charge %s also refunded %s", m.ID, other.ID)
		}
	}
}

// TestRefundAmountIsDecimal: a leading zero is a decimal digit, never octal:
// --amount 0500 refunds 5.00, not 3.20.
func TestRefundAmountIsDecimal(t *testing.T) {
	w := newRefundWorld(t, sandbox.Options{})
	m := w.suspects()[0]
	if code, out := w.run(t, "", "refund", "--charge", m.ID, "--amount", "0500", "--yes"); code != 0 {
		t.Fatalf("exit %d, output:\n%s", code, out)
	}
	if refunds := w.sb.RefundsFor(m.ID); len(refunds) != 1 || refunds[0].Amount != 500 {
		t.Fatalf("refunds of %s = %+v, want one of 500", m.ID, refunds)
	}
}

func TestRefundDryRunCallsNothing(t *testing.T) {
	t.Parallel()
	w := newRefundWorld(t, sandbox.Options{})
	before := w.sb.Stats().Requests
	code, out := w.run(t, "", "refund", "--group", w.group.ID, "--dry-run")
	if code != 0 || strings.Count(out, "would refund (dry run)") != len(w.suspects()) {
		t.Fatalf("exit %d, output:\n%s\nwant a would-refund line per suspect", code, out)
	}
	if got := w.sb.Stats().Requests - before; got != 0 {
		t.Errorf("a dry run sent %d requests", got)
	}
	// A rehearsal is not a decision: the report shows none.
	if code, out := w.run(t, "", "export"); code != 0 || strings.Contains(out, string(reconcile.RefundWouldRefund)) {
		t.Errorf("the report after a dry run (exit %d) shows it as a decision:\n%s", code, out)
	}
	// The real refund afterwards is not blocked by the dry run.
	if code, out := w.run(t, "", "refund", "--group", w.group.ID, "--yes"); code != 0 {
		t.Fatalf("refund after a dry run exited %d:\n%s", code, out)
	}
	w.assertOneRefundEach(t)
}

// TestRefundNeverCreatesAStore: a mistyped --db on refund, --resume or
// --dry-run says "no such store" and creates nothing; a dry run asks Stripe
// nothing.
func TestRefundNeverCreatesAStore(t *testing.T) {
	sb, url := listenSandbox(t, sandbox.Options{Seed: 3, Ordinary: 5})
	for _, args := range [][]string{
		{"refund", "--resume"},
		{"refund", "--group", "grp_1", "--yes"},
		{"refund", "--group", "grp_1", "--dry-run"},
		{"refund", "--resume", "--dry-run"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			env, out := accountEnv(t, sandbox.TestKey, url)
			missing := filepath.Join(t.TempDir(), "typo", "s.db")
			before := sb.Stats().Requests
			code := Run(context.Background(), append(args, "--db", missing), env)
			if code != exitError || !strings.Contains(out.String(), "no such store") {
				t.Fatalf("exit %d:\n%s\nwant 1 saying no such store", code, out)
			}
			if _, err := os.Stat(filepath.Dir(missing)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%v created %s", args, filepath.Dir(missing))
			}
			if got := sb.Stats().Requests - before; slices.Contains(args, "--dry-run") && got != 0 {
				t.Errorf("a dry run sent %d requests", got)
			}
		})
	}
}

// TestDryRunNeverAsksStripe: without --db and with a key whose account is not
// remembered, a dry run refuses rather than ask Stripe which store to use.
func TestDryRunNeverAsksStripe(t *testing.T) {
	sb, url := listenSandbox(t, sandbox.Options{Seed: 3, Ordinary: 5})
	env, out := accountEnv(t, sandbox.TestKey, url)
	before := sb.Stats().Requests
	code := Run(context.Background(), []string{"refund", "--group", "grp_1", "--dry-run"}, env)
	if code != exitError || !strings.Contains(out.String(), "a dry run calls nothing: pass --db") {
		t.Errorf("exit %d:\n%s\nwant 1 asking for --db", code, out)
	}
	if got := sb.Stats().Requests - before; got != 0 {
		t.Errorf("a dry run sent %d requests", got)
	}
}

func TestConfirmRefund(t *testing.T) {
	t.Parallel()
	plan := reconcile.RefundPlan{Requests: []reconcile.RefundRequest{
		{ChargeID: "ch_a", KeptChargeID: "ch_k", GroupID: "grp_1", Amount: 2000, Currency: "usd"},
		{ChargeID: "ch_b", KeptChargeID: "ch_k", GroupID: "grp_1", Amount: 500, Currency: "usd"},
		{ChargeID: "ch_c", KeptChargeID: "ch_j", GroupID: "grp_2", Amount: 3200, Currency: "jpy"},
	}, Totals: map[string]int64{"usd": 2500, "jpy": 3200}}
	tests := []struct {
		name  string
		live  bool
		input string
		want  bool
	}{
		{"test mode y", false, "y\n", true},
		{"test mode yes", false, "yes\n", true},
		{"test mode empty line cancels", false, "\n", false},
		{"test mode n", false, "n\n", false},
		{"end of input cancels", false, "", false},
		{"live mode needs the word", true, "y\n", false},
		{"live mode typed refund", true, "refund\n", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			got, err := confirmRefund(strings.NewReader(tc.input), &out, plan, tc.live)
			if err != nil || got != tc.want {
				t.Fatalf("confirm = %v, %v; want %v", got, err, tc.want)
			}
			for _, s := range []string{"ch_a", "ch_b", "ch_c", "ch_k", "total: 3200 JPY, 25.00 USD"} {
				if !strings.Contains(out.String(), s) {
					t.Errorf("the prompt lacks %q:\n%s", s, out.String())
				}
			}
			if tc.live && !strings.Contains(out.String(), "Type refund to confirm") {
				t.Errorf("the live prompt does not ask for the word:\n%s", out.String())
			}
		})
	}
}

// TestRefundBinaryCrashAndConcurrency runs the built binary as child processes:
// SIGKILLed at each step of the refund protocol, then resumed; and two at once
// on the same group. Every suspect ends with exactly one refund.
func TestRefundBinaryCrashAndConcurrency(t *testing.T) {
	t.Parallel()
	bin := builtBinary(t)
	for _, point := range []string{"before-intent", "after-intent", "after-stripe"} {
		t.Run("crash "+point, func(t *testing.T) {
			t.Parallel()
			w := newRefundWorld(t, sandbox.Options{})
			first := w.suspects()[0].ID

			code, out := w.child(t, bin, point, "refund", "--group", w.group.ID, "--yes")
			if code != -int(syscall.SIGKILL) {
				t.Fatalf("with %s=%s the refund ended with %d, want SIGKILL:\n%s", crashEnv, point, code, out)
			}
			wantFirst := map[string]int{"before-intent": 0, "after-intent": 0, "after-stripe": 1}[point]
			if n := len(w.sb.RefundsFor(first)); n != wantFirst {
				t.Fatalf("after the crash %s has %d refunds, want %d", first, n, wantFirst)
			}

			// Resume settles what the crash left pending, and nothing else.
			if code, out := w.child(t, bin, "", "refund", "--resume"); code != 0 {
				t.Fatalf("refund --resume exited %d:\n%s", code, out)
			}
			wantFirst = map[string]int{"before-intent": 0, "after-intent": 1, "after-stripe": 1}[point]
			if n := len(w.sb.RefundsFor(first)); n != wantFirst {
				t.Errorf("after resume %s has %d refunds, want %d", first, n, wantFirst)
			}
			for _, m := range w.suspects()[1:] {
				if n := len(w.sb.RefundsFor(m.ID)); n != 0 {
					t.Errorf("resume refunded %s, which had no intent", m.ID)
				}
			}
			w.assertNoPending(t)

			// Running the refund again finishes the group: one refund per suspect.
			if code, out := w.child(t, bin, "", "refund", "--group", w.group.ID, "--yes"); code != 0 {
				t.Fatalf("refund after the crash exited %d:\n%s", code, out)
			}
			w.assertOneRefundEach(t)
			w.assertNoPending(t)
		})
	}
	// Two operators refund the same group at the same moment, from two
	// processes on one store (a file, or a shared PostgreSQL store): each
	// refund is claimed in the store before it is sent, so each charge is
	// refunded once and nothing is sent twice (no idempotent replay). A
	// process that found a refund held by the other says so and exits 1.
	for _, dialect := range []struct {
		name string
		db   func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "doublecheck.db") }},
		{"postgres", func(t *testing.T) string { return pgtest.URL(t) }},
	} {
		t.Run("two processes at once on "+dialect.name, func(t *testing.T) {
			t.Parallel()
			w := newRefundWorldAt(t, sandbox.Options{Latency: 20 * time.Millisecond}, sandbox.TestKey, dialect.db(t))
			var wg sync.WaitGroup
			codes, outs := make([]int, 2), make([]string, 2)
			for i := range codes {
				wg.Add(1)
				go func() {
					defer wg.Done()
					codes[i], outs[i] = w.child(t, bin, "", "refund", "--group", w.group.ID, "--yes", "--operator", fmt.Sprintf("operator%d", i))
				}()
			}
			wg.Wait()
			for i := range codes {
				if codes[i] != 0 && (codes[i] != exitError || !strings.Contains(outs[i], "held by operator")) {
					t.Errorf("process %d exited %d, and not for a refund the other held:\n%s", i, codes[i], outs[i])
				}
			}
			w.assertOneRefundEach(t)
			w.assertNoPending(t)
			t.Logf("exit codes %v (1: found a refund held by the other); first process:\n%s", codes, outs[0])
			if replays := w.sb.Stats().Replays; replays != 0 {
				t.Errorf("%d refunds were sent twice (idempotent replays): a claim did not hold", replays)
			}
		})
	}
}

// crashEnv is read by the crashtest build of stripeapi (builtBinary builds with
// -tags crashtest): the process SIGKILLs itself at the named protocol step.
const crashEnv = "DOUBLECHECK_CRASH_AT"

// child runs the binary against the world; crashAt sets DOUBLECHECK_CRASH_AT.
// The code is the exit status, or minus the signal that killed it.
func (w *refundWorld) child(t *testing.T, bin, crashAt string, args ...string) (int, string) {
	t.Helper()
	args = append(args, "--db", w.db, "--api-key", w.key, "--api-base", w.url)
	cmd := exec.Command(bin, args...)
	env := []string{"HOME=" + w.home, "XDG_DATA_HOME=" + w.home, "PATH=" + os.Getenv("PATH")}
	if crashAt != "" {
		env = append(env, crashEnv+"="+crashAt)
	}
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	return childExit(t, bin, err), string(out)
}

// childExit is the exit status of the finished child bin, or minus the signal
// that killed it (the crash tests' SIGKILL).
func childExit(t *testing.T, bin string, err error) int {
	t.Helper()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return -int(ws.Signal())
		}
		return exit.ExitCode()
	}
	t.Fatalf("run %s: %v", bin, err)
	return 0
}

func (w *refundWorld) assertNoPending(t *testing.T) {
	t.Helper()
	st, err := store.Open(context.Background(), w.db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	pending, err := st.PendingRefunds(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 0 {
		t.Errorf("pending intents left: %+v", pending)
	}
}

// TestRefundPartsOfACharge refunds a suspect in parts, then the rest of the
// group: each part is its own refund (its own key), so nothing is mistaken for
// an earlier part and the group ends resolved.
func TestRefundPartsOfACharge(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		parts func(amount int64) []int64 // --amount of each --charge run before --group
	}{
		{"half, then the rest with --group", func(a int64) []int64 { return []int64{a / 2} }},
		{"the same part twice, then the rest", func(a int64) []int64 { return []int64{a / 3, a / 3} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newRefundWorld(t, sandbox.Options{})
			m := w.suspects()[0]
			parts := tc.parts(m.Refundable)
			for i, part := range parts {
				code, out := w.run(t, "", "refund", "--charge", m.ID, "--amount", strconv.FormatInt(part, 10), "--yes")
				if code != 0 || strings.Contains(out, "already refunded") {
					t.Fatalf("part %d (%d) exited %d:\n%s", i+1, part, code, out)
				}
			}
			code, out := w.run(t, "", "refund", "--group", w.group.ID, "--yes")
			if code != 0 || strings.Contains(lineWith(out, m.ID), "already refunded") {
				t.Fatalf("refund of the rest exited %d:\n%s", code, out)
			}
			refunds := w.sb.RefundsFor(m.ID)
			if len(refunds) != len(parts)+1 {
				t.Fatalf("charge %s has %d refunds, want %d: %+v", m.ID, len(refunds), len(parts)+1, refunds)
			}
			// The sandbox may order refunds made in the same second either way.
			want, rest := slices.Clone(parts), m.Amount
			for _, part := range parts {
				rest -= part
			}
			want = append(want, rest)
			var got []int64
			keys := map[string]bool{}
			for _, r := range refunds {
				got = append(got, r.Amount)
				keys[r.IdempotencyKey] = true
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) || len(keys) != len(refunds) {
				t.Errorf("refunds of %s = %v with %d distinct keys, want %v, one key each", m.ID, got, len(keys), want)
			}
			for _, other := range w.suspects()[1:] {
				if n := len(w.sb.RefundsFor(other.ID)); n != 1 {
					t.Errorf("charge %s has %d refunds, want 1", other.ID, n)
				}
			}
			for _, g := range w.report(t).Groups {
				if g.ID == w.group.ID && g.Status != reconcile.Resolved {
					t.Errorf("group %s is %s after refunding every suspect in full, want resolved", g.ID, g.Status)
				}
			}
			w.assertNoPending(t)
		})
	}
}

// TestPendingRefundAfterACrash: an intent a crash left pending (committed,
// never sent) makes its group pending in scan's table, JSON and CSV, with the
// command that finishes it, and fails scan --exit-code; refund --resume
// finishes it and names the suspects of its group that were never attempted.
func TestPendingRefundAfterACrash(t *testing.T) {
	t.Parallel()
	w := newRefundWorld(t, sandbox.Options{})
	first := w.suspects()[0]
	st, err := store.Open(context.Background(), w.db)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := reconcile.PlanRefunds([]*reconcile.Group{&w.group}, reconcile.PlanScope{ChargeID: first.ID, WholeRemainder: true})
	if err != nil {
		t.Fatal(err)
	}
	intent := reconcile.RefundIntent{RefundRequest: plan.Requests[0], Operator: "ann", Reason: "duplicate"}
	if _, _, err := st.BeginRefund(context.Background(), intent); err != nil {
		t.Fatal(err)
	}
	st.Close()

	resume := "doublecheck refund --resume --api-base " + w.url + " --db " + w.db // the server and store the scan was pointed at
	for _, tc := range []struct {
		format string
		want   []string
	}{
		{"table", []string{w.group.ID + "  high        pending", resume + " finishes it"}},
		{"json", []string{`"status": "pending"`, resume + " finishes it"}},
		{"csv", []string{"," + w.group.ID + ",high,pending,", resume + " finishes it"}},
	} {
		code, out := w.run(t, "", "scan", "--format", tc.format, "--exit-code")
		if code != 1 {
			t.Errorf("scan --format %s --exit-code exited %d with a refund pending, want 1", tc.format, code)
		}
		for _, want := range tc.want {
			if !strings.Contains(out, want) {
				t.Errorf("scan --format %s lacks %q:\n%s", tc.format, want, out)
			}
		}
	}

	code, out := w.run(t, "", "refund", "--resume")
	if code != 0 || !strings.Contains(out, "resumed refund: "+first.ID) {
		t.Fatalf("refund --resume exited %d:\n%s", code, out)
	}
	for _, m := range w.suspects()[1:] {
		if line := lineWith(out, m.ID); !strings.Contains(line, "never attempted") || !strings.Contains(line, "--group "+w.group.ID) {
			t.Errorf("refund --resume does not name %s, never attempted, with the command that refunds it:\n%s", m.ID, out)
		}
		if n := len(w.sb.RefundsFor(m.ID)); n != 0 {
			t.Errorf("resume refunded %s, which had no intent", m.ID)
		}
	}
}

// TestResumeNamesOnlyChargesNeverAttempted: refund --resume leaves out of its
// "never attempted" list a charge the operator refunded part of (--amount), and
// the resumed charge itself, whatever Stripe answered.
func TestResumeNamesOnlyChargesNeverAttempted(t *testing.T) {
	w := newRefundWorld(t, sandbox.Options{})
	crashed, partial := w.suspects()[0], w.suspects()[1]
	if code, out := w.run(t, "", "refund", "--charge", partial.ID, "--amount", "500", "--yes"); code != 0 {
		t.Fatalf("partial refund exited %d:\n%s", code, out)
	}
	st, err := store.Open(context.Background(), w.db)
	if err != nil {
		t.Fatal(err)
	}
	rq := w.group.RefundRequest(&crashed, crashed.Refundable)
	if _, _, err := st.BeginRefund(context.Background(), reconcile.RefundIntent{RefundRequest: rq, Operator: "ann", Reason: "duplicate"}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	_, out := w.run(t, "", "refund", "--resume")
	for _, m := range []reconcile.Member{crashed, partial} {
		if line := lineWith(out, m.ID); strings.Contains(line, "never attempted") {
			t.Errorf("refund --resume calls %s never attempted:\n%s", m.ID, out)
		}
	}
}

// TestRefundDeadline: a Stripe that accepts the refund request and never
// answers holds the command only until --refund-deadline: the refund stays
// pending, the command says so with the resume command and exits non-zero.
func TestRefundDeadline(t *testing.T) {
	t.Parallel()
	w := newRefundWorld(t, sandbox.Options{})
	hanging, _ := hangingRefunds(t, w)

	var out bytes.Buffer
	env := w.env(t, "", &out)
	code := Run(context.Background(), []string{"refund", "--group", w.group.ID, "--yes", "--refund-deadline", "200ms",
		"--db", w.db, "--api-key", sandbox.TestKey, "--api-base", hanging}, env)
	if code == 0 || !strings.Contains(out.String(), "no answer within the refund deadline of 200ms") ||
		!strings.Contains(out.String(), "1 refund stayed pending (run doublecheck refund --resume --api-base "+hanging+" --db "+w.db+" later)") {
		t.Fatalf("exit %d, output:\n%s\nwant non-zero, the deadline and the resume command", code, out.String())
	}
	// The batch stopped at the first refund without an answer: the rest were
	// neither sent nor recorded, and say how to refund them.
	for _, m := range w.suspects()[1:] {
		if line := lineWith(out.String(), m.ID); !strings.Contains(line, "not attempted") || !strings.Contains(line, "doublecheck refund --group "+w.group.ID) {
			t.Errorf("suspect %s after the deadline: %q, want not attempted with the command", m.ID, line)
		}
	}
	if want := reconcile.Plural(len(w.suspects())-1, "refund") + " not attempted"; !strings.Contains(out.String(), want) {
		t.Errorf("output lacks %q:\n%s", want, out.String())
	}
	for _, g := range w.report(t).Groups {
		if g.ID == w.group.ID && g.Status != reconcile.Pending {
			t.Errorf("group %s is %s after the deadline, want pending", g.ID, g.Status)
		}
	}
	if code, out := w.run(t, "", "refund", "--resume"); code != 0 {
		t.Fatalf("refund --resume exited %d:\n%s", code, out)
	}
	if code, out := w.run(t, "", "refund", "--group", w.group.ID, "--yes"); code != 0 {
		t.Fatalf("refund --group after the resume exited %d:\n%s", code, out)
	}
	w.assertOneRefundEach(t)
}

// hangingRefunds is the world's Stripe behind a proxy that accepts every
// refund request, reads it and never answers; posts counts those requests.
func hangingRefunds(t *testing.T, w *refundWorld) (base string, posts *atomic.Int32) {
	t.Helper()
	target, err := url.Parse(w.url)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	posts = new(atomic.Int32)
	hanging := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/v1/refunds" {
			posts.Add(1)
			// Accepted, read, never answered (a read body lets the server see
			// the client hang up).
			_, _ = io.Copy(io.Discard, r.Body)
			<-r.Context().Done()
			return
		}
		proxy.ServeHTTP(rw, r)
	}))
	t.Cleanup(hanging.Close)
	return hanging.URL, posts
}

// TestNoNewRefundAfterAResumeHitTheDeadline: when the resume that runs before
// a --group refund gets no answer within the deadline, no new refund is
// planned or sent (it would wait as long); the command says so with the
// resume command and exits non-zero, the intent still pending.
func TestNoNewRefundAfterAResumeHitTheDeadline(t *testing.T) {
	t.Parallel()
	w := newRefundWorld(t, sandbox.Options{})
	hanging, posts := hangingRefunds(t, w)
	refund := func() (int, string) {
		var out bytes.Buffer
		code := Run(context.Background(), []string{"refund", "--group", w.group.ID, "--yes", "--refund-deadline", "1s",
			"--db", w.db, "--api-key", sandbox.TestKey, "--api-base", hanging}, w.env(t, "", &out))
		return code, out.String()
	}
	refund() // leaves the first suspect's refund pending
	before := posts.Load()
	code, out := refund()
	// At most the resume's request: on a loaded machine the deadline may pass
	// before it even reaches the server.
	if sent := posts.Load() - before; sent > 1 {
		t.Errorf("%d refund requests after the resume hit the deadline, want only the resume's:\n%s", sent, out)
	}
	if code == 0 || !strings.Contains(out, "no new refund sent") || !strings.Contains(out, "run doublecheck refund --resume --api-base "+hanging+" --db "+w.db+", then") ||
		!strings.Contains(out, "1 refund stayed pending") {
		t.Errorf("exit %d, output:\n%s\nwant non-zero, no new refund, the resume command", code, out)
	}
	st, err := store.Open(context.Background(), w.db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if pending, err := st.PendingRefunds(context.Background()); err != nil || len(pending) != 1 {
		t.Errorf("pending intents %+v (%v), want the resumed one only", pending, err)
	}
}
