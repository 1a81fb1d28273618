package ui

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

func TestMain(m *testing.M) {
	// Golden files are plain text at a fixed size, clock and zone.
	lipgloss.SetColorProfile(termenv.Ascii)
	lipgloss.SetHasDarkBackground(true)
	time.Local = time.UTC
	os.Exit(m.Run())
}

// The sample-data seam: reports built directly, without running detection.

var (
	fixtureBase = time.Date(2026, 11, 20, 14, 0, 0, 0, time.UTC)
	fixtureNow  = time.Date(2026, 11, 20, 16, 5, 0, 0, time.UTC)
)

// charge builds one group member created at offset after fixtureBase.
func charge(id string, offset time.Duration, amount int64, cur string, role reconcile.Role) reconcile.Member {
	m := reconcile.Member{
		Charge: reconcile.Charge{
			ID: id, Created: fixtureBase.Add(offset), Amount: amount, Currency: cur,
			Status: "succeeded", Captured: true, CardBrand: "visa", CardLast4: "4242",
		},
		Role: role,
	}
	if role == reconcile.Duplicate {
		m.Refundable = amount
	}
	return m
}

// group assembles a group; the first member is the kept charge.
func group(id string, conf reconcile.Confidence, status reconcile.Status, cause reconcile.Cause, identity string, reasons []string, members ...reconcile.Member) reconcile.Group {
	return reconcile.Group{
		ID: id, Amount: members[0].Amount, Currency: members[0].Currency, Identity: identity, Status: status,
		Verdict: reconcile.Verdict{Confidence: conf, Cause: cause, Reasons: reasons}, Charges: members,
	}
}

// fixtureReport is a small, realistic report: every confidence, status and cause,
// three currencies, a disputed suspect and keys from several sources.
func fixtureReport() reconcile.Report {
	g1 := group("grp_ch_1001", reconcile.High, reconcile.Open, reconcile.CauseNewKeyPerRetry, "cus_NfJ2kQ8aLm",
		[]string{"same order_id o-1234 with 2 different idempotency keys", "the client generated a new Idempotency-Key for each retry of order o-1234; reuse one key per order"},
		charge("ch_1001", 0, 4999, "usd", reconcile.Keep), charge("ch_1002", 38*time.Second, 4999, "usd", reconcile.Duplicate))
	for i := range g1.Charges {
		g1.Charges[i].Customer, g1.Charges[i].Email, g1.Charges[i].OrderRef = "cus_NfJ2kQ8aLm", "jane.doe@example.com", "o-1234"
		g1.Charges[i].IdempotencyKey = fmt.Sprintf("checkout-o-1234-try%d", i+1)
		g1.Charges[i].KeySources = []string{reconcile.SourceEvent, reconcile.SourceLog}
	}

	g2 := group("grp_ch_2001", reconcile.High, reconcile.Open, reconcile.CauseNoKey, "maria.rossi@example.it",
		[]string{"3 charges in 41 s, no idempotency key", "no key: the application sent no Idempotency-Key; send one per checkout attempt"},
		charge("ch_2001", time.Hour, 12000, "eur", reconcile.Keep), charge("ch_2002", time.Hour+20*time.Second, 12000, "eur", reconcile.Duplicate),
		charge("ch_2003", time.Hour+41*time.Second, 12000, "eur", reconcile.Duplicate))
	for i := range g2.Charges {
		g2.Charges[i].Email, g2.Charges[i].CardBrand, g2.Charges[i].CardLast4 = "maria.rossi@example.it", "mastercard", "5454"
	}
	g2.Charges[2].Disputed, g2.Charges[2].Refundable = true, 0
	g2.Charges[2].NotRefundable = "disputed: the customer opened a dispute, answer it in the Stripe Dashboard instead of refunding"

	g3 := group("grp_ch_3001", reconcile.Medium, reconcile.Open, reconcile.CauseDoubleSubmit, "card visa …4242",
		[]string{"2 charges 4 s apart with different keys and no order: a double submit"},
		charge("ch_3001", 2*time.Hour, 1500, "usd", reconcile.Keep), charge("ch_3002", 2*time.Hour+4*time.Second, 1500, "usd", reconcile.Duplicate))

	g4 := group("grp_ch_4001", reconcile.Medium, reconcile.Open, reconcile.CauseKeyReusedExpiry, "cus_Q2xT9wHfZ1",
		[]string{"idempotency key reused 26 h later — key had expired"},
		charge("ch_4001", -26*time.Hour, 3000, "jpy", reconcile.Keep), charge("ch_4002", 0, 3000, "jpy", reconcile.Duplicate))
	for i := range g4.Charges {
		g4.Charges[i].Customer, g4.Charges[i].IdempotencyKey = "cus_Q2xT9wHfZ1", "order-77-pay"
		g4.Charges[i].KeySources = []string{reconcile.SourceMetadata}
	}

	g5 := group("grp_ch_5001", reconcile.Low, reconcile.Open, reconcile.CauseUnknown, "alice@example.com",
		[]string{"likely legitimate: different order_id on each charge", "different orders usually mean separate purchases; dismiss the group if the customer meant to pay more than once"},
		charge("ch_5001", 3*time.Hour, 2500, "gbp", reconcile.Keep), charge("ch_5002", 3*time.Hour+9*time.Minute, 2500, "gbp", reconcile.Duplicate))
	for i := range g5.Charges {
		g5.Charges[i].Email, g5.Charges[i].OrderRef = "alice@example.com", fmt.Sprintf("o-55%d", i)
	}

	g6 := group("grp_ch_6001", reconcile.High, reconcile.Resolved, reconcile.CauseNoKey, "cus_Zr8PkeW01b",
		[]string{"2 charges in 12 s, no idempotency key"},
		charge("ch_6001", 4*time.Hour, 9900, "usd", reconcile.Keep), charge("ch_6002", 4*time.Hour+12*time.Second, 9900, "usd", reconcile.Duplicate))
	g6.Charges[1].AmountRefunded, g6.Charges[1].Refunded, g6.Charges[1].Refundable = 9900, true, 0
	g6.Charges[1].Decision, g6.Charges[1].RefundID, g6.Charges[1].Operator = string(reconcile.RefundSucceeded), "re_6002", "sam"

	g7 := group("grp_ch_7001", reconcile.Medium, reconcile.Dismissed, reconcile.CauseUnknown, "bob@example.org",
		[]string{"2 charges of the same amount 6 min apart on one email"},
		charge("ch_7001", 5*time.Hour, 2000, "usd", reconcile.Keep), charge("ch_7002", 5*time.Hour+6*time.Minute, 2000, "usd", reconcile.Duplicate))
	for i := range g7.Charges {
		g7.Charges[i].Email, g7.Charges[i].Decision, g7.Charges[i].Operator = "bob@example.org", string(reconcile.DecisionDismissed), "sam"
		g7.Charges[i].DecidedAt, g7.Charges[i].Note = fixtureBase.Add(5*time.Hour+40*time.Minute), "repeat purchase: the customer bought a second ticket"
	}
	return withSummary([]reconcile.Group{g1, g2, g3, g4, g5, g6, g7})
}

// withSummary totals groups the way the report does: counts, causes, and per
// currency the open suspects' unrefunded amounts, what doublecheck refunded and
// what was dismissed.
func withSummary(groups []reconcile.Group) reconcile.Report {
	r := reconcile.Report{Groups: groups}
	r.Summary.Causes = map[reconcile.Cause]int{}
	byCur := map[string]*reconcile.CurrencyTotals{}
	for i := range groups {
		g := &groups[i]
		t := byCur[g.Currency]
		if t == nil {
			t = &reconcile.CurrencyTotals{Currency: g.Currency}
			byCur[g.Currency] = t
		}
		switch g.Status {
		case reconcile.Open, reconcile.Pending:
			if g.Status == reconcile.Open {
				r.Summary.Open++
			} else {
				r.Summary.Pending++
			}
			t.OpenGroups++
			t.AtRisk += g.AtRisk()
		case reconcile.Resolved:
			r.Summary.Resolved++
			t.ResolvedGroups++
		case reconcile.Received:
			r.Summary.Received++
			t.ReceivedGroups++
		case reconcile.Dismissed:
			r.Summary.Dismissed++
			t.DismissedGroups++
		}
		for _, m := range g.Charges {
			switch {
			case m.Role != reconcile.Duplicate:
			case m.Decision == string(reconcile.RefundSucceeded):
				t.RefundedByUs += m.AmountRefunded
			case m.Decision == string(reconcile.RefundReceived):
				t.AwaitingConfirmation += m.Amount
			case g.Status == reconcile.Dismissed:
				t.Dismissed += m.Amount
			}
		}
		r.Summary.Causes[g.Cause]++
		r.Summary.Charges += len(g.Charges)
		for _, m := range g.Charges {
			if r.Summary.FirstCharge.IsZero() || m.Created.Before(r.Summary.FirstCharge) {
				r.Summary.FirstCharge = m.Created
			}
			if m.Created.After(r.Summary.LastCharge) {
				r.Summary.LastCharge = m.Created
			}
		}
	}
	r.Summary.Groups = len(groups)
	modes := map[reconcile.Provider]*reconcile.ProviderCharges{}
	for i := range groups {
		for _, m := range groups[i].Charges {
			p := m.Provider.Resolved()
			if modes[p] == nil {
				modes[p] = &reconcile.ProviderCharges{Provider: p}
			}
			if m.Livemode {
				modes[p].Live++
			} else {
				modes[p].Test++
			}
		}
	}
	for _, p := range reconcile.Providers {
		if modes[p] != nil {
			r.Summary.Providers = append(r.Summary.Providers, *modes[p])
		}
	}
	for _, t := range byCur {
		r.Summary.ByCurrency = append(r.Summary.ByCurrency, *t)
	}
	sort.Slice(r.Summary.ByCurrency, func(i, j int) bool { return r.Summary.ByCurrency[i].Currency < r.Summary.ByCurrency[j].Currency })
	return r
}

// manyGroups is a report of n open groups, for the rendering benchmark.
func manyGroups(n int) reconcile.Report {
	confs := []reconcile.Confidence{reconcile.High, reconcile.Medium, reconcile.Low}
	groups := make([]reconcile.Group, n)
	for i := range groups {
		id := fmt.Sprintf("ch_%07d", i)
		keep := charge(id+"a", time.Duration(i)*time.Minute, int64(1000+i%5000), "usd", reconcile.Keep)
		dup := charge(id+"b", time.Duration(i)*time.Minute+30*time.Second, keep.Amount, "usd", reconcile.Duplicate)
		keep.Customer, dup.Customer = fmt.Sprintf("cus_%06d", i%40000), fmt.Sprintf("cus_%06d", i%40000)
		groups[i] = group("grp_"+id, confs[i%3], reconcile.Open, reconcile.CauseNoKey, keep.Customer,
			[]string{"2 charges in 30 s, no idempotency key"}, keep, dup)
	}
	return withSummary(groups)
}

// --- fakes ------------------------------------------------------------------

// fakeStore is the Loader and the Decider: decisions change what the next Load
// returns, like the real store plus detection.
type fakeStore struct {
	mu        sync.Mutex
	report    reconcile.Report
	loadErr   error
	decideErr error
	loads     int
	decisions [][]reconcile.Decision
}

func (s *fakeStore) Load(context.Context) (reconcile.Report, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loads++
	if s.loadErr != nil {
		return reconcile.Report{}, s.loadErr
	}
	groups := append([]reconcile.Group(nil), s.report.Groups...)
	return withSummary(groups), nil
}

func (s *fakeStore) Decide(_ context.Context, ds []reconcile.Decision) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.decideErr != nil {
		return s.decideErr
	}
	s.decisions = append(s.decisions, ds)
	for _, d := range ds {
		for i := range s.report.Groups {
			if s.report.Groups[i].ID != d.GroupID {
				continue
			}
			s.report.Groups[i].Status = reconcile.Open
			if d.Kind == reconcile.DecisionDismissed {
				s.report.Groups[i].Status = reconcile.Dismissed
			}
		}
	}
	return nil
}

type fakeSyncer struct {
	calls    int
	err      error
	onSync   func()         // changes the store, like new charges arriving
	progress []SyncProgress // reported before the result
	note     string         // the result's Note
}

func (s *fakeSyncer) Sync(_ context.Context, progress func(SyncProgress)) (SyncResult, error) {
	s.calls++
	for _, p := range s.progress {
		progress(p)
	}
	if s.err != nil {
		return SyncResult{}, s.err
	}
	if s.onSync != nil {
		s.onSync()
	}
	return SyncResult{Charges: 3, Note: s.note}, nil
}

// mixedReport is fixtureReport in a store that also holds PayPal sandbox
// charges (grp_ch_2001) and live Adyen charges (grp_ch_3001, whose duplicate's
// refund Adyen received and has not confirmed yet).
func mixedReport() reconcile.Report {
	r := fixtureReport()
	groups := r.Groups
	for i := range groups {
		g := &groups[i]
		for k := range g.Charges {
			c := &g.Charges[k].Charge
			switch g.ID {
			case "grp_ch_2001":
				c.Provider, c.ID = reconcile.ProviderPayPal, fmt.Sprintf("8MC58%03dLN4071%d", k, k)
			case "grp_ch_3001":
				c.Provider, c.Livemode, c.ID = reconcile.ProviderAdyen, true, fmt.Sprintf("QFPK5D9NXNF28DV%d", k)
			}
		}
		if g.ID == "grp_ch_3001" {
			g.Status = reconcile.Received
			dup := &g.Charges[1]
			dup.Refundable, dup.NotRefundable = 0, reconcile.RefundReceived.Describe(reconcile.ProviderAdyen)
			dup.Decision, dup.RefundID, dup.Operator, dup.DecidedAt = string(reconcile.RefundReceived), "JQ38WZVM2G8B8P65", "sam", fixtureBase.Add(2*time.Hour+time.Minute)
		}
	}
	return withSummary(groups)
}

type fakeRefunder struct {
	calls    int
	requests []reconcile.RefundRequest
	fail     map[string]error // charge id → the sentence the refunder would report
	pending  map[string]bool
	onRefund func() // changes the store after the batch, like the real ledger
}

func (r *fakeRefunder) Refund(_ context.Context, reqs []reconcile.RefundRequest, progress func(RefundResult)) error {
	r.calls++
	r.requests = append(r.requests, reqs...)
	for _, req := range reqs {
		switch {
		case r.fail[req.ChargeID] != nil:
			progress(RefundResult{ChargeID: req.ChargeID, Err: r.fail[req.ChargeID]})
		case r.pending[req.ChargeID]:
			progress(RefundResult{ChargeID: req.ChargeID, Pending: true, Err: fmt.Errorf("Stripe did not answer in time")})
		default:
			progress(RefundResult{ChargeID: req.ChargeID, RefundID: "re_" + req.ChargeID})
		}
	}
	if r.onRefund != nil {
		r.onRefund()
	}
	return nil
}

// --- driving Update directly ------------------------------------------------

type harness struct {
	store    *fakeStore
	syncer   *fakeSyncer
	refunder *fakeRefunder
}

func testConfig() Config {
	return Config{
		Account: "Acme Books (acct_1Nv0FGQ9)", Operator: "ops@acme.test", Watch: 0,
		LastSync: fixtureNow.Add(-3 * time.Minute), Now: func() time.Time { return fixtureNow },
		ExportDir: "/home/ops/Downloads", // tests that write set their own
	}
}

func newHarness(report reconcile.Report) *harness {
	return &harness{store: &fakeStore{report: report}, syncer: &fakeSyncer{}, refunder: &fakeRefunder{}}
}

func (h *harness) deps() Deps {
	return Deps{Loader: h.store, Decider: h.store, Syncer: h.syncer, Refunder: h.refunder}
}

// start builds the model at 100×30 and runs its first load to completion.
func (h *harness) start(t testing.TB, cfg Config) Model {
	t.Helper()
	return startWith(t, cfg, h.deps())
}

// startWith is start with other collaborators.
func startWith(t testing.TB, cfg Config, deps Deps) Model {
	t.Helper()
	m := newTestModel(cfg, deps)
	m = send(t, m, tea.WindowSizeMsg{Width: 100, Height: 30})
	return drain(t, m, m.Init())
}

// newTestModel is New without timers: tests send timer messages by hand.
func newTestModel(cfg Config, deps Deps) Model {
	m := New(cfg, deps)
	m.after = func(time.Duration, tea.Msg) tea.Cmd { return nil }
	return m
}

// send delivers msg and runs the commands it produces.
func send(t testing.TB, m Model, msg tea.Msg) Model {
	t.Helper()
	next, cmd := m.Update(msg)
	return drain(t, next.(Model), cmd)
}

// press sends keys by name: "enter", "esc", "tab", "up", "down", "pgdown",
// "pgup", "space", "backspace", "ctrl+c", or literal runes.
func press(t testing.TB, m Model, keys ...string) Model {
	t.Helper()
	for _, k := range keys {
		m = send(t, m, keyMsg(k))
	}
	return m
}

func keyMsg(k string) tea.KeyMsg {
	named := map[string]tea.KeyType{
		"enter": tea.KeyEnter, "esc": tea.KeyEsc, "tab": tea.KeyTab, "up": tea.KeyUp, "down": tea.KeyDown,
		"pgdown": tea.KeyPgDown, "pgup": tea.KeyPgUp, "space": tea.KeySpace, "ctrl+c": tea.KeyCtrlC,
		"backspace": tea.KeyBackspace,
	}
	if t, ok := named[k]; ok {
		if t == tea.KeySpace {
			return tea.KeyMsg{Type: t, Runes: []rune{' '}}
		}
		return tea.KeyMsg{Type: t}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
}

// typeText sends each rune of s as a key.
func typeText(t testing.TB, m Model, s string) Model {
	t.Helper()
	for _, r := range s {
		m = send(t, m, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
	return m
}

// drain runs cmd and every command that follows from it, feeding results back
// into Update, the way the program would. Spinner ticks are dropped (they only
// animate) and so is quitting.
func drain(t testing.TB, m Model, cmd tea.Cmd) Model {
	t.Helper()
	queue := []tea.Cmd{cmd}
	update := func(msg tea.Msg) (tea.Model, tea.Cmd) {
		next, more := m.Update(msg)
		m = next.(Model)
		return next, more
	}
	for steps := 0; len(queue) > 0; steps++ {
		if steps > 10_000 {
			t.Fatal("commands never settle")
		}
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		queue = deliver(update, c(), queue)
	}
	return m
}

// deliver hands msg to update the way the program does and queues the
// commands that follow: a batch's commands run in any order (here, queued), a
// sequence's one after the other, each message delivered before the next
// command runs.
func deliver(update func(tea.Msg) (tea.Model, tea.Cmd), msg tea.Msg, queue []tea.Cmd) []tea.Cmd {
	switch msg := msg.(type) {
	case nil, spinner.TickMsg, tea.QuitMsg:
	case tea.BatchMsg:
		queue = append(queue, msg...)
	default:
		if seq, ok := sequence(msg); ok {
			for _, c := range seq {
				if c != nil {
					queue = deliver(update, c(), queue)
				}
			}
			break
		}
		_, more := update(msg)
		queue = append(queue, more)
	}
	return queue
}

// intent runs cmd (and the commands of its batches) and returns the message
// of type T it produces: a component's intent, for a test that delivers it
// without running the rest.
func intent[T tea.Msg](t testing.TB, cmd tea.Cmd) T {
	t.Helper()
	queue := []tea.Cmd{cmd}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		switch msg := c().(type) {
		case T:
			return msg
		case tea.BatchMsg:
			queue = append(queue, msg...)
		}
	}
	var zero T
	t.Fatalf("no %T among the commands", zero)
	return zero
}

// sequence is the commands of tea.Sequence, whose message type is unexported.
func sequence(msg tea.Msg) ([]tea.Cmd, bool) {
	v := reflect.ValueOf(msg)
	cmds := reflect.TypeOf([]tea.Cmd(nil))
	if v.Kind() != reflect.Slice || !v.Type().ConvertibleTo(cmds) {
		return nil, false
	}
	return v.Convert(cmds).Interface().([]tea.Cmd), true
}

func selectedID(m Model) string {
	if g := m.table.Selected(); g != nil {
		return g.ID
	}
	return ""
}

func listedIDs(m Model) []string {
	ids := make([]string, len(m.table.rows))
	for i, gi := range m.table.rows {
		ids[i] = m.report.Groups[gi].ID
	}
	return ids
}

// fakeResumer hands out the results of resuming pending refunds, one batch per
// call; later calls find nothing pending.
type fakeResumer struct {
	calls   int
	batches [][]RefundResult
	err     error
}

func (r *fakeResumer) Resume(context.Context) ([]RefundResult, error) {
	r.calls++
	if len(r.batches) == 0 {
		return nil, r.err
	}
	next := r.batches[0]
	r.batches = r.batches[1:]
	return next, r.err
}
