package ui

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// Messages of the refund flow. The flow asks (refundConfirmedMsg) and the root
// runs the batch through its Refunder, whose outcomes come back as
// refundProgressMsg and refundDoneMsg; resumeDoneMsg is the Resumer's answer.
type (
	refundConfirmedMsg struct{ plan reconcile.RefundPlan }
	refundProgressMsg  struct {
		result RefundResult
		events <-chan tea.Msg
	}
	refundDoneMsg struct {
		err    error
		groups []string
	}
	resumeDoneMsg struct {
		results []RefundResult
		err     error
	}
	// storeChangedMsg says refunds or decisions changed the store: the root
	// reloads the groups, and unmarks settled ones.
	storeChangedMsg struct{ settled []string }
)

// refundKeys are the refund flow's keys outside its dialog.
type refundKeys struct {
	Refund    key.Binding
	RefundOff key.Binding // `r` where nothing can be refunded (or read-only): explains why
	Stop      key.Binding // while a batch or a resume runs: send no more, leave the one in flight pending
}

func defaultRefundKeys() refundKeys {
	return refundKeys{
		Refund:    key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "refund")),
		RefundOff: key.NewBinding(key.WithKeys("r")),
		Stop:      key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "stop refunds")),
	}
}

// refundFlow is everything that moves money from the dashboard: `r` plans the
// targeted groups' refunds and opens the confirmation dialog; a confirmed plan
// runs as one batch whose progress and outcomes it keeps; `x` stops the
// batch; and it shows what became of the refunds earlier runs left pending.
type refundFlow struct {
	styles *Styles
	keys   refundKeys
	live   bool
	dryRun bool
	// readOnly is --read-only or no Refunder: r explains instead of refunding.
	readOnly bool
	// resumeCommand is the command that finishes the store's pending refunds.
	resumeCommand string

	targets []*reconcile.Group // what r acts on: the marked groups, else the selected one
	listed  bool               // the list shows at least one group

	dialog     refundDialog
	dialogOpen bool
	width      int
	height     int

	running   bool
	total     int          // refunds in the batch
	done      int          // outcomes received so far, whatever they were
	tally     refundCounts // what became of them
	run       refundRun
	quitArmed bool // q pressed once while the batch runs
	resuming  bool // the Resumer is finishing earlier runs' pending refunds
	// resume is the resume in flight: x stops it as it stops a batch. A
	// pointer, because Init, which cannot keep a change to the model, starts
	// the first one; each resume gets its own.
	resume *refundRun
	// outcomes is this session's outcome per charge id, for the detail pane;
	// copied on write, so a copy of the flow keeps its own.
	outcomes map[string]string
}

func newRefundFlow(styles *Styles, cfg Config, resuming bool) refundFlow {
	r := refundFlow{styles: styles, keys: defaultRefundKeys(), live: cfg.Live, dryRun: cfg.DryRun, readOnly: cfg.ReadOnly,
		resuming: resuming, resume: &refundRun{}, outcomes: map[string]string{}, resumeCommand: reconcile.ResumeCommand(cfg.Resume)}
	r.updateKeys()
	return r
}

// SetTargets tells the flow what r would refund now.
func (r *refundFlow) SetTargets(targets []*reconcile.Group, listed bool) {
	r.targets, r.listed = targets, listed
	r.updateKeys()
}

// SetSize is the room the dialog has.
func (r *refundFlow) SetSize(width, height int) {
	r.width, r.height = width, height
	if r.dialogOpen {
		r.dialog.SetSize(width, height)
	}
}

// DialogOpen is whether the confirmation dialog has the keys.
func (r *refundFlow) DialogOpen() bool { return r.dialogOpen }

// Outcomes are this session's refund outcomes by charge id; read only.
func (r *refundFlow) Outcomes() map[string]string { return r.outcomes }

// Progress is the running batch's progress line, "" when none runs.
func (r *refundFlow) Progress() string {
	if !r.running {
		return ""
	}
	verb := "refunding"
	if r.dryRun {
		verb = "recording"
	}
	return fmt.Sprintf("%s %d/%d…", verb, r.done, r.total)
}

// Resuming is the line for the status bar while pending refunds are resumed,
// "" otherwise.
func (r *refundFlow) Resuming() string {
	switch {
	case r.resuming && r.resume.stopped:
		return "stopping the resume of pending refunds…"
	case r.resuming:
		return "resuming pending refunds…"
	}
	return ""
}

// Context is the context the confirmed batch runs in, derived from ctx: x
// cancels it (even when pressed before the root asked for it).
func (r *refundFlow) Context(ctx context.Context) context.Context { return r.run.start(ctx) }

// ResumeContext is the context the resume runs in, derived from ctx: x
// cancels it, as it cancels a batch.
func (r *refundFlow) ResumeContext(ctx context.Context) context.Context { return r.resume.start(ctx) }

// BeginResume marks the resumption of pending refunds as started; false when
// one runs already or a batch does (the next sync tries again).
func (r *refundFlow) BeginResume() bool {
	if r.resuming || r.running {
		return false
	}
	r.resuming, r.resume = true, &refundRun{}
	r.updateKeys()
	return true
}

// HoldQuit is whether q must not quit yet: the first q while a batch runs only
// warns.
func (r *refundFlow) HoldQuit() bool {
	if !r.running || r.quitArmed {
		return false
	}
	r.quitArmed = true
	return true
}

// Wants is whether msg is for the flow: every key while its dialog is open,
// else r and x.
func (r *refundFlow) Wants(msg tea.KeyMsg) bool {
	return r.dialogOpen || key.Matches(msg, r.keys.Refund, r.keys.RefundOff, r.keys.Stop)
}

// Update handles the flow's keys and the batch's and the Resumer's outcomes.
func (r refundFlow) Update(msg tea.Msg) (refundFlow, tea.Cmd) {
	cmd := r.update(msg)
	r.updateKeys()
	return r, cmd
}

func (r *refundFlow) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.KeyMsg:
		if r.dialogOpen {
			return r.updateDialog(msg)
		}
		switch {
		case key.Matches(msg, r.keys.Stop) && r.resuming:
			r.resume.stop()
			return flashCmd(levelWarn, "stopping the resume: nothing more is sent; the pending refunds stay pending and are resumed after the next sync ("+r.resumeCommand+")")
		case key.Matches(msg, r.keys.Stop):
			r.run.stop()
			return flashCmd(levelWarn, "stopping refunds: nothing more is sent; a refund in flight stays pending and is resumed ("+r.resumeCommand+")")
		case key.Matches(msg, r.keys.Refund):
			return r.open()
		case key.Matches(msg, r.keys.RefundOff):
			return flashCmd(levelWarn, r.whyNoRefund())
		}
	case refundProgressMsg:
		r.outcomes = maps.Clone(r.outcomes) // copied on write: a copy of the flow keeps its own
		r.done++
		level, text, _ := r.record(msg.result, &r.tally)
		// In sequence: the flash shows before the next outcome (or the summary) replaces it.
		return tea.Sequence(flashKindCmd(level, flashOutcome, fmt.Sprintf("%s: %s", msg.result.ChargeID, text)), waitForEvent(msg.events))
	case refundDoneMsg:
		return r.finish(msg)
	case resumeDoneMsg:
		return r.resumed(msg)
	}
	return nil
}

func (r *refundFlow) open() tea.Cmd {
	plan, err := reconcile.PlanRefunds(r.targets, reconcile.AllThatIsLeft)
	if err != nil || len(plan.Requests) == 0 { // r is off then; a reload may have got here first
		return flashCmd(levelWarn, r.whyNoRefund())
	}
	r.dialog = newRefundDialog(r.styles, plan, r.live, r.dryRun)
	r.dialog.SetSize(r.width, r.height)
	r.dialogOpen = true
	return nil
}

func (r *refundFlow) updateDialog(msg tea.KeyMsg) tea.Cmd {
	var (
		result dialogResult
		cmd    tea.Cmd
	)
	r.dialog, result, cmd = r.dialog.Update(msg)
	switch result {
	case dialogCancelled:
		r.dialogOpen = false
		return flashCmd(levelInfo, "refund cancelled: nothing was sent")
	case dialogConfirmed:
		// The batch counts as running from here, not from when the root gets
		// the message: a second r in between must not plan the same refunds.
		r.dialogOpen = false
		plan := r.dialog.plan
		r.running, r.quitArmed = true, false
		r.total, r.done, r.tally, r.run = len(plan.Requests), 0, refundCounts{}, refundRun{}
		return func() tea.Msg { return refundConfirmedMsg{plan: plan} }
	}
	return cmd
}

func (r *refundFlow) finish(msg refundDoneMsg) tea.Cmd {
	r.running, r.quitArmed = false, false
	stopped := r.run.stopped
	r.run.finish()
	level, text := r.tally.summary(r.dryRun)
	switch {
	case stopped:
		level, text = levelWarn, fmt.Sprintf("refunds stopped by you after %d of %d (%s); the rest were not begun; a pending one is finished at the next sync or by %s",
			r.done, r.total, text, r.resumeCommand)
	case msg.err != nil:
		level, text = levelError, fmt.Sprintf("refunds stopped after %d of %d (%s): %v", r.done, r.total, text, msg.err)
	case r.tally.pending+r.tally.failed > 0:
		text += "; the detail pane says why"
	}
	groups := msg.groups
	return tea.Sequence(flashKindCmd(level, flashOutcome, text), func() tea.Msg { return storeChangedMsg{settled: groups} })
}

func (r *refundFlow) resumed(msg resumeDoneMsg) tea.Cmd {
	r.resuming = false
	stopped := r.resume.stopped
	r.resume.finish()
	r.outcomes = maps.Clone(r.outcomes)
	var (
		tally    refundCounts
		failures []string
	)
	for _, res := range msg.results {
		if level, _, brief := r.record(res, &tally); level != levelInfo {
			failures = append(failures, res.ChargeID+" "+brief)
		}
	}
	n := len(msg.results)
	level, text := tally.summary(r.dryRun)
	text = fmt.Sprintf("resumed %s: %s", reconcile.Plural(n, "pending refund"), text)
	if len(failures) > 0 {
		text += " — " + strings.Join(failures, "; ")
	}
	reload := func() tea.Msg { return storeChangedMsg{} }
	switch {
	case stopped:
		text = fmt.Sprintf("resume stopped by you after %s; the rest stay pending and are resumed after the next sync or by %s",
			reconcile.Plural(n, "pending refund"), r.resumeCommand)
		if len(failures) > 0 {
			text += " — " + strings.Join(failures, "; ")
		}
		return tea.Sequence(flashCmd(levelWarn, text), reload)
	case msg.err != nil:
		if n == 0 {
			text = "could not resume pending refunds"
		}
		return tea.Sequence(flashKindCmd(levelError, flashOutcome, fmt.Sprintf("%s: %v", text, msg.err)), reload)
	case n == 0:
		return nil // nothing was pending
	}
	return tea.Sequence(flashKindCmd(level, flashOutcome, text), reload)
}

// record keeps one refund's outcome for the detail pane, counts it in tally
// and returns its flash level and sentence, and the sentence without what
// happens next, for a list that already says it.
func (r *refundFlow) record(res RefundResult, tally *refundCounts) (level flashLevel, text, brief string) {
	level, text = levelInfo, "refunded "+res.RefundID
	switch {
	case res.Pending:
		tally.pending++
		level, text = levelWarn, "pending: the outcome is unknown"
		if res.Err != nil {
			text = "pending: " + res.Err.Error()
		}
		brief = text
		text += "; it will be resumed with the same idempotency key"
	case res.Err != nil:
		tally.failed++
		level, text = levelError, "refund failed: "+res.Err.Error()
	case res.Received:
		tally.received++
		text = reconcile.RefundReceived.Describe(res.Provider) + ": " + res.RefundID
	case r.dryRun:
		tally.ok++
		text = "would refund (dry run: nothing sent or recorded)"
	default:
		tally.ok++
	}
	r.outcomes[res.ChargeID] = text
	return level, text, cmp.Or(brief, text)
}

// whyNoRefund is the flash for an `r` that cannot refund anything.
func (r *refundFlow) whyNoRefund() string {
	switch {
	case r.readOnly:
		return "read-only: refunds are turned off"
	case r.running:
		return "a refund batch is running; wait for it to finish"
	case r.resuming:
		return "pending refunds are being resumed; try again in a moment"
	}
	switch len(r.targets) {
	case 0:
		return "nothing to refund: no group is selected"
	case 1:
	default:
		return fmt.Sprintf("nothing to refund in the %d marked groups: none is open with a refundable duplicate", len(r.targets))
	}
	g := r.targets[0]
	switch g.Status {
	case reconcile.Resolved:
		return "nothing to refund in " + g.ID + ": every duplicate is already refunded"
	case reconcile.Dismissed:
		return "nothing to refund in " + g.ID + ": it was dismissed as legitimate (u reopens it)"
	}
	for i := range g.Charges {
		if c := &g.Charges[i]; c.Role == reconcile.Duplicate && c.NotRefundable != "" {
			return "nothing to refund in " + g.ID + ": " + c.ID + " " + c.NotRefundable
		}
	}
	return "nothing to refund in " + g.ID + ": no duplicate has anything left to refund"
}

// refundable is whether a target has something to refund.
func (r *refundFlow) refundable() bool {
	for _, g := range r.targets {
		if g.HasRefund() {
			return true
		}
	}
	return false
}

// updateKeys enables exactly the keys that act now.
func (r *refundFlow) updateKeys() {
	ready := !r.dialogOpen && !r.readOnly && !r.running && !r.resuming
	r.keys.Refund.SetEnabled(ready && r.listed && r.refundable())
	r.keys.RefundOff.SetEnabled(!r.dialogOpen && !r.keys.Refund.Enabled())
	r.keys.Stop.SetEnabled(!r.dialogOpen && (r.running || r.resuming))
}

// ShortHelp is the dialog's keys while it is open, else x (while a batch
// or a resume runs) and r (when it would refund something).
func (r refundFlow) ShortHelp() []key.Binding {
	if r.dialogOpen {
		return r.dialog.ShortHelp()
	}
	return []key.Binding{r.keys.Stop, r.keys.Refund}
}

// FullHelp is the flow's column of the `?` screen: r whenever refunding is
// possible at all, x while a batch or a resume runs.
func (r refundFlow) FullHelp() [][]key.Binding {
	k := defaultRefundKeys()
	k.Refund.SetEnabled(!r.readOnly && !r.running && !r.resuming)
	k.Stop.SetEnabled(r.running || r.resuming)
	return [][]key.Binding{{k.Refund, k.Stop}}
}

// View is the dialog; the flow shows nothing else of its own (its progress is
// in the status bar, its outcomes in the detail pane).
func (r refundFlow) View() string {
	if !r.dialogOpen {
		return ""
	}
	return r.dialog.View()
}

// waitForEvent delivers the batch's next event.
func waitForEvent(events <-chan tea.Msg) tea.Cmd {
	return func() tea.Msg {
		msg, ok := <-events
		if !ok {
			return nil
		}
		return msg
	}
}

// refundCounts tallies what became of a batch (or of resumed refunds), each
// outcome apart: "done" would hide a pending or a failed refund.
type refundCounts struct{ ok, received, pending, failed int }

// summary is the tally in one line, at the level of its worst outcome.
func (c refundCounts) summary(dryRun bool) (flashLevel, string) {
	verb := "refunded"
	if dryRun {
		verb = "would be refunded (dry run: nothing sent or recorded)"
	}
	parts := []string{fmt.Sprintf("%d %s", c.ok, verb)}
	level := levelInfo
	if c.received > 0 {
		parts = append(parts, fmt.Sprintf("%d received (the provider confirms them later)", c.received))
	}
	if c.pending > 0 {
		level = levelWarn
		parts = append(parts, fmt.Sprintf("%d pending (network failure: will be resumed with the same key)", c.pending))
	}
	if c.failed > 0 {
		level = levelError
		parts = append(parts, fmt.Sprintf("%d failed", c.failed))
	}
	return level, strings.Join(parts, ", ")
}

// refundRun is the refund batch in flight, once the dialog is confirmed: how
// to stop it, and whether the operator did.
type refundRun struct {
	cancel  context.CancelFunc
	stopped bool
}

// start derives the batch's context from ctx; it is cancelled already when
// the batch was stopped before it started.
func (r *refundRun) start(ctx context.Context) context.Context {
	ctx, r.cancel = context.WithCancel(ctx)
	if r.stopped {
		r.cancel()
	}
	return ctx
}

// stop cancels the batch: nothing more is sent, and a refund in flight is
// interrupted, so its intent stays pending with the same key.
func (r *refundRun) stop() {
	r.stopped = true
	if r.cancel != nil {
		r.cancel()
	}
}

// finish releases the batch's context.
func (r *refundRun) finish() {
	if r.cancel != nil {
		r.cancel()
	}
	r.cancel = nil
}
