package ui

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"doublecheck/reconcile"
)

// Below this size the dashboard shows a message instead of a broken layout.
const (
	minWidth  = 60
	minHeight = 15
)

// mode is what keys currently act on.
type mode int

const (
	modeList    mode = iota // the groups table
	modeDetail              // the detail pane scrolls
	modeFilter              // typing the `/` filter
	modeConfirm             // the refund dialog
	modeNote                // the dismiss note
	modeHelp                // the full help
)

// Confidence filter steps for `f`.
var confidenceSteps = []struct {
	label string
	min   int
}{{"all confidence", 0}, {"medium and above", 1}, {"high only", 2}}

func confidenceRank(c reconcile.Confidence) int {
	switch c {
	case reconcile.High:
		return 2
	case reconcile.Medium:
		return 1
	}
	return 0
}

// Messages: results of the commands, each carrying what Update needs.
type (
	reportLoadedMsg struct {
		seq    int
		report reconcile.Report
		err    error
	}
	decidedMsg struct {
		kind   reconcile.DecisionKind
		groups []string
		err    error
	}
	syncDoneMsg struct {
		result SyncResult
		err    error
		watch  bool // started by the --watch timer, which must be re-armed
		at     time.Time
	}
	watchTickMsg  struct{} // starts a background sync: the first at start, then every Watch
	exportDoneMsg struct {
		path   string
		groups int
		err    error
	}
	refundProgressMsg struct {
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
	flashExpiredMsg struct{ id int }
)

// Model is the dashboard's root model. It routes keys (dialogs first, then the
// filter input, then global keys, then the focused pane) and runs every piece of
// I/O in a tea.Cmd.
type Model struct {
	cfg    Config
	deps   Deps
	ctx    context.Context
	keys   *KeyMap
	styles *Styles
	// after schedules msg after d; tea.Tick in production, replaceable in tests.
	after func(d time.Duration, msg tea.Msg) tea.Cmd

	width, height int
	body          int // height of the area between the header and the status bar
	headerHeight  int // as measured by the last layout
	header        header
	table         groupTable
	detail        detailPane
	status        statusBar
	help          help.Model
	filter        textinput.Model
	confirm       refundDialog
	note          noteDialog
	noteTargets   []string
	noteCharges   map[string][]string // group id → the charges on screen when the note opened

	focus     mode // modeList or modeDetail
	modal     mode // modeConfirm, modeNote, modeHelp, or modeList for none
	filtering bool

	report   reconcile.Report
	index    map[string]int  // group id → index in report.Groups
	known    map[string]bool // every group id loaded so far, to spot new ones
	loaded   bool
	baseline bool // the next load decides what counts as already seen
	loadSeq  int

	query      string
	confidence int  // index into confidenceSteps
	allStatus  bool // `s`: false shows open groups only

	// What the filters hide, counted only when they leave the list empty.
	hiddenByStatus, hiddenByConfidence int

	syncing     bool
	refunding   bool
	refundTotal int
	refundDone  int // outcomes received so far, whatever they were
	refundTally refundCounts
	run         refundRun         // the batch in flight: x stops it
	resuming    bool              // the Resumer is finishing earlier runs' pending refunds
	outcomes    map[string]string // charge id → this session's refund outcome
	quitArmed   bool              // q pressed once while refunds run
}

// New builds the dashboard. deps.Loader and deps.Decider are required; a nil
// Syncer turns sync off and a nil Refunder (or cfg.ReadOnly) turns refunds off.
func New(cfg Config, deps Deps) Model {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ExportDir == "" {
		cfg.ExportDir = "."
	}
	cfg.ReadOnly = cfg.ReadOnly || deps.Refunder == nil
	keys, styles := DefaultKeyMap(), DefaultStyles()
	m := Model{
		cfg: cfg, deps: deps, ctx: context.Background(), keys: &keys, styles: &styles,
		after:    func(d time.Duration, msg tea.Msg) tea.Cmd { return tea.Tick(d, func(time.Time) tea.Msg { return msg }) },
		help:     help.New(),
		filter:   newInput(&styles, "customer, email, charge id, order or key"),
		index:    map[string]int{},
		known:    map[string]bool{},
		outcomes: map[string]string{},
		loadSeq:  1,
		baseline: true,
	}
	m.help.Styles = styles.Help
	m.filter.Prompt = "/ "
	m.header = header{styles: m.styles, cfg: cfg, lastSync: cfg.LastSync, canSync: deps.Syncer != nil}
	m.table = newGroupTable(m.styles, m.keys)
	m.detail = newDetailPane(m.styles, m.keys)
	m.status = newStatusBar(m.styles)
	m.status.Start(activityLoad, "loading groups…")
	if deps.Resumer != nil {
		// Resumed at start (Init), before the operator can plan new refunds.
		m.resuming = true
		m.status.Start(activityResume, resumingText)
	}
	m.refreshChrome()
	return m
}

// Init starts the first load (with a spinner, so the first frame appears before
// detection finishes), a first sync right away whenever there is an account
// (Watch only decides whether it repeats) and the resumption of pending
// refunds: the stored data shows at once and the fresh data follows.
func (m Model) Init() tea.Cmd {
	var sync, resume tea.Cmd
	if m.deps.Syncer != nil {
		sync = func() tea.Msg { return watchTickMsg{} }
	}
	if m.resuming {
		resume = m.resumeCmd()
	}
	return tea.Batch(m.status.spinner.Tick, m.loadCmd(m.loadSeq), sync, resume)
}

// Update handles one message and then re-derives what depends on state: which
// keys are live, the status bar's position, the header's counters.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	m, cmd := m.update(msg)
	m.refreshChrome()
	return m, cmd
}

func (m Model) update(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.layout()
		return m, nil
	case tea.KeyMsg:
		return m.handleKey(msg)
	case reportLoadedMsg:
		return m.applyReport(msg)
	case decidedMsg:
		return m.applyDecided(msg)
	case watchTickMsg:
		return m, m.startSync(true)
	case syncDoneMsg:
		return m.applySync(msg)
	case exportDoneMsg:
		m.status.Stop(activityExport)
		if msg.err != nil {
			return m, m.flash(levelError, msg.err.Error())
		}
		return m, m.flash(levelInfo, fmt.Sprintf("exported %d %s to %s", msg.groups, plural(msg.groups, "group", "groups"), msg.path))
	case refundProgressMsg:
		return m.applyRefundProgress(msg)
	case refundDoneMsg:
		return m.applyRefundDone(msg)
	case resumeDoneMsg:
		return m.applyResume(msg)
	case flashExpiredMsg:
		m.status.Expire(msg.id)
		return m, nil
	case spinner.TickMsg:
		var cmd tea.Cmd
		m.status, cmd = m.status.Update(msg)
		return m, cmd
	}
	return m, nil
}

// mode is what the keys act on right now.
func (m *Model) mode() mode {
	switch {
	case m.modal != modeList:
		return m.modal
	case m.filtering:
		return modeFilter
	}
	return m.focus
}

func (m Model) handleKey(msg tea.KeyMsg) (Model, tea.Cmd) {
	if key.Matches(msg, m.keys.ForceQuit) {
		return m, tea.Quit
	}
	if m.tooSmall() {
		// Nothing is on screen to act on: a hidden dialog must not take keys.
		if slices.Contains(m.keys.Quit.Keys(), msg.String()) { // the binding is off in a dialog
			return m.quit()
		}
		return m, nil
	}
	switch m.modal {
	case modeConfirm:
		return m.updateConfirm(msg)
	case modeNote:
		return m.updateNote(msg)
	case modeHelp:
		if key.Matches(msg, m.keys.CloseHelp) {
			m.modal = modeList
		}
		return m, nil
	}
	if m.filtering {
		return m.updateFilter(msg)
	}

	switch {
	case key.Matches(msg, m.keys.Quit):
		return m.quit()
	case key.Matches(msg, m.keys.Help):
		m.modal = modeHelp
		return m, nil
	case key.Matches(msg, m.keys.Filter):
		m.filtering, m.focus = true, modeList
		m.filter.SetValue(m.query)
		m.filter.CursorEnd()
		cmd := m.filter.Focus()
		m.layout()
		return m, cmd
	case key.Matches(msg, m.keys.ClearFilter):
		m.setQuery("")
		return m, nil
	case key.Matches(msg, m.keys.Confidence):
		m.confidence = (m.confidence + 1) % len(confidenceSteps)
		m.refilter()
		return m, m.flash(levelInfo, "showing "+confidenceSteps[m.confidence].label)
	case key.Matches(msg, m.keys.Status):
		m.allStatus = !m.allStatus
		m.refilter()
		return m, m.flash(levelInfo, "showing "+m.statusLabel()+" groups")
	case key.Matches(msg, m.keys.Mark):
		m.table.ToggleMark()
		m.showSelected()
		return m, nil
	case key.Matches(msg, m.keys.ClearMarks):
		clear(m.table.marked)
		return m, nil
	case key.Matches(msg, m.keys.Dismiss):
		return m.openNote()
	case key.Matches(msg, m.keys.Undo):
		ids := m.targetIDs(isDismissed)
		return m, m.decideCmd(reconcile.DecisionUndismissed, ids, m.chargesOf(ids), "")
	case key.Matches(msg, m.keys.StopRefunds):
		m.run.stop()
		return m, m.flash(levelWarn, "stopping refunds: nothing more is sent; a refund in flight stays pending and is resumed ("+reconcile.ResumeCommand+")")
	case key.Matches(msg, m.keys.RefundOff):
		return m, m.flash(levelWarn, m.whyNoRefund())
	case key.Matches(msg, m.keys.DismissOff):
		return m, m.flash(levelWarn, m.whyNoDismiss())
	case key.Matches(msg, m.keys.Refund):
		return m.openRefund()
	case key.Matches(msg, m.keys.Sync):
		return m, m.startSync(false)
	case key.Matches(msg, m.keys.Export):
		return m, m.startExport()
	case key.Matches(msg, m.keys.Focus):
		m.focus = modeDetail
		m.layout()
		return m, nil
	case key.Matches(msg, m.keys.Back):
		m.focus = modeList
		m.layout()
		return m, nil
	}

	if m.focus == modeDetail {
		m.detail = m.detail.Update(msg)
		return m, nil
	}
	var moved bool
	if m.table, moved = m.table.Update(msg); moved {
		m.showSelected()
	}
	return m, nil
}

// quit ends the program; while refunds run it asks for a second q first.
func (m Model) quit() (Model, tea.Cmd) {
	if m.refunding && !m.quitArmed {
		m.quitArmed = true
		return m, m.flash(levelWarn, "refunds are still running; press q again to quit (pending ones resume on the next start)")
	}
	return m, tea.Quit
}

// tooSmall is whether the terminal is below the minimum: only the size
// message shows, and only quitting works.
func (m *Model) tooSmall() bool {
	return m.width > 0 && m.height > 0 && (m.width < minWidth || m.height < minHeight)
}

func (m Model) updateFilter(msg tea.KeyMsg) (Model, tea.Cmd) {
	switch {
	case key.Matches(msg, m.keys.ApplyFilter):
		m.filtering = false
		m.filter.Blur()
		m.layout()
		return m, nil
	case key.Matches(msg, m.keys.ClearFilter):
		m.filtering = false
		m.filter.Blur()
		m.setQuery("")
		m.layout()
		return m, nil
	case msg.Type == tea.KeyUp || msg.Type == tea.KeyDown:
		// arrows still move through the matches while typing
		var moved bool
		if m.table, moved = m.table.Update(msg); moved {
			m.showSelected()
		}
		return m, nil
	}
	var cmd tea.Cmd
	m.filter, cmd = m.filter.Update(msg)
	if v := m.filter.Value(); v != m.query {
		m.setQuery(v)
	}
	return m, cmd
}

func (m *Model) setQuery(q string) {
	m.query = q
	m.filter.SetValue(q)
	m.refilter()
}

func (m *Model) statusLabel() string {
	if m.allStatus {
		return "all"
	}
	return "open"
}

// refilter recomputes the listed rows from the report and the three filters.
func (m *Model) refilter() {
	groups := m.report.Groups
	minRank := confidenceSteps[m.confidence].min
	rows := make([]int, 0, len(groups))
	for i := range groups {
		g := &groups[i]
		if len(g.Charges) == 0 { // not a group detection makes; never list (and index) it
			continue
		}
		if (!m.allStatus && !g.NeedsAction()) || confidenceRank(g.Confidence) < minRank {
			continue
		}
		if m.query != "" && !g.Matches(m.query) {
			continue
		}
		rows = append(rows, i)
	}
	m.table.SetRows(groups, rows)
	m.hiddenByStatus, m.hiddenByConfidence = 0, 0
	if len(rows) == 0 {
		// Only an empty list says what the filters hide, so only it pays for counting.
		for i := range groups {
			g := &groups[i]
			if len(g.Charges) == 0 || (m.query != "" && !g.Matches(m.query)) {
				continue
			}
			statusOK, confOK := m.allStatus || g.NeedsAction(), confidenceRank(g.Confidence) >= minRank
			switch {
			case !statusOK && confOK:
				m.hiddenByStatus++
			case statusOK && !confOK:
				m.hiddenByConfidence++
			}
		}
	}
	m.layout()
}

// emptyText is what the table says when it lists nothing: why, and which key
// shows more. It depends on the sync state too, so it is derived on every update.
func (m *Model) emptyText() string {
	stored := len(m.report.Groups) > 0
	neverSynced := m.deps.Syncer != nil && m.header.lastSync.IsZero()
	switch {
	case !m.loaded:
		return "loading…"
	case !stored && neverSynced && m.syncing:
		return "syncing for the first time…"
	case !stored && neverSynced && m.header.syncErr != nil:
		return "nothing stored yet: the first sync failed (R retries)"
	case !stored:
		return "no duplicate charges found: nothing to do"
	case m.query != "":
		return fmt.Sprintf("no groups match %q (esc clears the filter)", m.query)
	}
	text := "no groups"
	if !m.allStatus {
		text = "no open groups"
	}
	if m.confidence > 0 {
		text += " at " + confidenceSteps[m.confidence].label
	}
	if m.hiddenByStatus > 0 {
		text += fmt.Sprintf("; s shows all %d", m.hiddenByStatus)
	}
	if m.hiddenByConfidence > 0 {
		text += fmt.Sprintf("; %d more at lower confidence (f)", m.hiddenByConfidence)
	}
	return text
}

func (m *Model) showSelected() {
	m.detail.SetGroup(m.table.Selected(), m.outcomes)
}

// targets are the groups an action applies to: the marked ones, else the
// selected one; keep filters them.
func (m *Model) targets(keep func(*reconcile.Group) bool) []*reconcile.Group {
	var out []*reconcile.Group
	if len(m.table.marked) > 0 {
		idx := make([]int, 0, len(m.table.marked))
		for id := range m.table.marked {
			if i, ok := m.index[id]; ok {
				idx = append(idx, i)
			}
		}
		sort.Ints(idx)
		for _, i := range idx {
			if g := &m.report.Groups[i]; keep(g) {
				out = append(out, g)
			}
		}
		return out
	}
	if g := m.table.Selected(); g != nil && keep(g) {
		out = append(out, g)
	}
	return out
}

func (m *Model) targetIDs(keep func(*reconcile.Group) bool) []string {
	groups := m.targets(keep)
	ids := make([]string, len(groups))
	for i, g := range groups {
		ids[i] = g.ID
	}
	return ids
}

func isOpen(g *reconcile.Group) bool      { return g.Status == reconcile.Open }
func isDismissed(g *reconcile.Group) bool { return g.Status == reconcile.Dismissed }
func anyGroup(*reconcile.Group) bool      { return true }

// whyNoRefund is the flash for an `r` that cannot refund anything.
func (m *Model) whyNoRefund() string {
	switch {
	case m.cfg.ReadOnly:
		return "read-only: refunds are turned off"
	case m.refunding:
		return "a refund batch is running; wait for it to finish"
	case m.resuming:
		return "pending refunds are being resumed; try again in a moment"
	}
	groups := m.targets(anyGroup)
	switch len(groups) {
	case 0:
		return "nothing to refund: no group is selected"
	case 1:
	default:
		return fmt.Sprintf("nothing to refund in the %d marked groups: none is open with a refundable duplicate", len(groups))
	}
	g := groups[0]
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

// whyNoDismiss is the flash for a `d` that cannot dismiss anything.
func (m *Model) whyNoDismiss() string {
	groups := m.targets(anyGroup)
	switch {
	case len(groups) == 0:
		return "nothing to dismiss: no group is selected"
	case len(groups) > 1:
		return fmt.Sprintf("nothing to dismiss: none of the %d marked groups is open", len(groups))
	case groups[0].Status == reconcile.Dismissed:
		return groups[0].ID + " is already dismissed (u reopens it)"
	}
	return groups[0].ID + " is " + string(groups[0].Status) + ": only open groups can be dismissed"
}

// --- loading --------------------------------------------------------------

func (m *Model) loadCmd(seq int) tea.Cmd {
	loader, ctx := m.deps.Loader, m.ctx
	return func() tea.Msg {
		if loader == nil {
			return reportLoadedMsg{seq: seq, err: fmt.Errorf("the dashboard was started without a store to load")}
		}
		report, err := loader.Load(ctx)
		return reportLoadedMsg{seq: seq, report: report, err: err}
	}
}

// reload re-runs detection after anything changed the store.
func (m *Model) reload() tea.Cmd {
	m.loadSeq++
	return tea.Batch(m.status.Start(activityLoad, "loading groups…"), m.loadCmd(m.loadSeq))
}

func (m Model) applyReport(msg reportLoadedMsg) (Model, tea.Cmd) {
	if msg.seq != m.loadSeq {
		return m, nil // a newer load is on its way
	}
	m.status.Stop(activityLoad)
	if msg.err != nil {
		return m, m.flash(levelError, "could not load the groups: "+msg.err.Error())
	}
	// Groups are new when they were not in an earlier load of a synced store: the
	// first sync of an empty store is the baseline, not 40 "new" groups.
	markNew := !m.baseline
	m.baseline = m.baseline && m.header.lastSync.IsZero()
	m.loaded = true
	m.report = msg.report
	m.index = make(map[string]int, len(m.report.Groups))
	added := 0
	for i := range m.report.Groups {
		id := m.report.Groups[i].ID
		m.index[id] = i
		if !m.known[id] {
			m.known[id] = true
			if markNew {
				m.table.fresh[id] = true
				added++
			}
		}
	}
	for _, set := range []map[string]bool{m.table.fresh, m.table.marked} {
		for id := range set {
			if _, ok := m.index[id]; !ok {
				delete(set, id)
			}
		}
	}
	m.header.loaded, m.header.summary = true, m.report.Summary
	m.refilter()
	if added > 0 {
		return m, m.flash(levelInfo, fmt.Sprintf("%d new %s found (marked +)", added, plural(added, "group", "groups")))
	}
	return m, nil
}

// --- decisions ------------------------------------------------------------

func (m Model) openNote() (Model, tea.Cmd) {
	m.noteTargets = m.targetIDs(isOpen)
	if len(m.noteTargets) == 0 {
		return m, nil
	}
	// The dismissal covers the charges on screen now: a reload while the note
	// is typed may add one the operator never saw.
	m.noteCharges = m.chargesOf(m.noteTargets)
	var cmd tea.Cmd
	m.note, cmd = newNoteDialog(m.styles, m.keys, len(m.noteTargets))
	m.note.SetSize(m.width)
	m.modal = modeNote
	return m, cmd
}

// chargesOf are the ids of the charges on screen of each group in groups: a
// decision lists them, so it finds its group under whatever id the group has
// later (the id follows the earliest charge).
func (m *Model) chargesOf(groups []string) map[string][]string {
	seen := map[string][]string{}
	for _, id := range groups {
		if gi, ok := m.index[id]; ok {
			for _, c := range m.report.Groups[gi].Charges {
				seen[id] = append(seen[id], c.ID)
			}
		}
	}
	return seen
}

func (m Model) updateNote(msg tea.KeyMsg) (Model, tea.Cmd) {
	var (
		result dialogResult
		cmd    tea.Cmd
	)
	m.note, result, cmd = m.note.Update(msg)
	switch result {
	case dialogCancelled:
		m.modal = modeList
		return m, m.flash(levelInfo, "dismiss cancelled")
	case dialogConfirmed:
		m.modal = modeList
		return m, m.decideCmd(reconcile.DecisionDismissed, m.noteTargets, m.noteCharges, m.note.Note())
	}
	return m, cmd
}

// decideCmd persists one decision per group through the Decider; seen are the
// charges of each group the operator saw when deciding.
func (m *Model) decideCmd(kind reconcile.DecisionKind, groups []string, seen map[string][]string, note string) tea.Cmd {
	if len(groups) == 0 {
		return nil
	}
	at := m.cfg.Now().UTC()
	decisions := make([]reconcile.Decision, len(groups))
	for i, id := range groups {
		// A dismissal covers the charges seen: one that joins the group later
		// reopens it.
		decisions[i] = reconcile.Decision{GroupID: id, Kind: kind, Operator: m.cfg.Operator, At: at, Note: note, Charges: seen[id]}
	}
	decider, ctx := m.deps.Decider, m.ctx
	return func() tea.Msg {
		if decider == nil {
			return decidedMsg{kind: kind, groups: groups, err: fmt.Errorf("decisions cannot be stored: no store")}
		}
		return decidedMsg{kind: kind, groups: groups, err: decider.Decide(ctx, decisions)}
	}
}

func (m Model) applyDecided(msg decidedMsg) (Model, tea.Cmd) {
	n := len(msg.groups)
	what := fmt.Sprintf("%d %s", n, plural(n, "group", "groups"))
	if msg.err != nil {
		verb := "dismissal"
		if msg.kind == reconcile.DecisionUndismissed {
			verb = "undo"
		}
		return m, m.flash(levelError, fmt.Sprintf("could not save the %s of %s: %v", verb, what, msg.err))
	}
	for _, id := range msg.groups {
		delete(m.table.marked, id)
	}
	text := "dismissed " + what + " as legitimate (u undoes)"
	if !m.allStatus {
		text = "dismissed " + what + " as legitimate (s shows dismissed groups, u undoes)"
	}
	if msg.kind == reconcile.DecisionUndismissed {
		text = "reopened " + what
	}
	return m, tea.Batch(m.flash(levelInfo, text), m.reload())
}

// --- sync -----------------------------------------------------------------

// watching is whether a background sync runs every cfg.Watch.
func (m *Model) watching() bool { return m.cfg.Watch > 0 && m.deps.Syncer != nil }

func (m *Model) watchCmd() tea.Cmd {
	if !m.watching() {
		return nil
	}
	return m.after(m.cfg.Watch, watchTickMsg{})
}

func (m *Model) startSync(watch bool) tea.Cmd {
	if m.deps.Syncer == nil {
		return nil
	}
	if m.syncing {
		// Only the timer gets here (R is off while a sync runs): try at the next tick.
		if watch {
			return m.watchCmd()
		}
		return nil
	}
	m.syncing = true
	syncer, ctx, now := m.deps.Syncer, m.ctx, m.cfg.Now
	return tea.Batch(m.status.Start(activitySync, "syncing…"), func() tea.Msg {
		result, err := syncer.Sync(ctx)
		return syncDoneMsg{result: result, err: err, watch: watch, at: now()}
	})
}

func (m Model) applySync(msg syncDoneMsg) (Model, tea.Cmd) {
	m.syncing = false
	m.status.Stop(activitySync)
	var next tea.Cmd
	if msg.watch {
		next = m.watchCmd()
	}
	if msg.err != nil {
		m.header.syncErr = msg.err
		retry := "press R to retry"
		if m.cfg.Watch > 0 {
			retry = "retrying in " + m.cfg.Watch.String()
		}
		return m, tea.Batch(next, m.flash(levelError, fmt.Sprintf("sync failed: %v; showing stored data, %s", msg.err, retry)))
	}
	m.header.syncErr, m.header.lastSync = nil, msg.at
	cmds := []tea.Cmd{next, m.reload(), m.startResume()}
	if !msg.watch {
		cmds = append(cmds, m.flash(levelInfo, fmt.Sprintf("synced: %d %s updated", msg.result.Charges, plural(msg.result.Charges, "charge", "charges"))))
	}
	return m, tea.Batch(cmds...)
}

// --- export ---------------------------------------------------------------

func (m *Model) startExport() tea.Cmd {
	// The report is replaced, never modified, on reload, so the command may read
	// these slices after Update returns.
	groups, rows, findings, summary := m.report.Groups, m.table.rows, m.report.Findings, m.report.Summary
	path := exportPath(m.cfg.ExportDir, m.cfg.Account, m.cfg.Now())
	return tea.Batch(m.status.Start(activityExport, "exporting…"), func() tea.Msg {
		view := reconcile.Report{Groups: make([]reconcile.Group, len(rows)), Findings: findings, Summary: summary}
		for i, gi := range rows {
			view.Groups[i] = groups[gi]
		}
		abs, err := writeReport(path, view)
		return exportDoneMsg{path: abs, groups: len(rows), err: err}
	})
}

// --- refunds --------------------------------------------------------------

func (m Model) openRefund() (Model, tea.Cmd) {
	plan, err := reconcile.PlanRefunds(m.targets(anyGroup), reconcile.AllThatIsLeft)
	if err != nil || len(plan.Requests) == 0 { // r is off then; a reload may have got here first
		return m, m.flash(levelWarn, m.whyNoRefund())
	}
	m.confirm = newRefundDialog(m.styles, m.keys, plan, m.cfg.Live, m.cfg.DryRun)
	m.modal = modeConfirm
	m.layout()
	return m, nil
}

func (m Model) updateConfirm(msg tea.KeyMsg) (Model, tea.Cmd) {
	var (
		result dialogResult
		cmd    tea.Cmd
	)
	m.confirm, result, cmd = m.confirm.Update(msg)
	switch result {
	case dialogCancelled:
		m.modal = modeList
		return m, m.flash(levelInfo, "refund cancelled: nothing was sent")
	case dialogConfirmed:
		m.modal = modeList
		return m, m.startRefund(m.confirm.plan)
	}
	return m, cmd
}

// startRefund runs the batch in a command and streams each outcome back through
// a channel, so the progress line moves while the batch runs.
func (m *Model) startRefund(plan reconcile.RefundPlan) tea.Cmd {
	n := len(plan.Requests)
	m.refunding, m.quitArmed = true, false
	m.refundTotal, m.refundDone, m.refundTally = n, 0, refundCounts{}
	groups := make([]string, 0, plan.Groups)
	for _, l := range plan.Lines {
		if l.Kind == reconcile.PlanGroup {
			groups = append(groups, l.GroupID)
		}
	}
	events := make(chan tea.Msg, n+1)
	refunder, ctx, requests := m.deps.Refunder, m.run.start(m.ctx), plan.Requests
	run := func() tea.Msg {
		err := refunder.Refund(ctx, requests, func(r RefundResult) {
			events <- refundProgressMsg{result: r, events: events}
		})
		events <- refundDoneMsg{err: err, groups: groups}
		close(events)
		return nil
	}
	return tea.Batch(m.status.Start(activityRefund, m.refundProgressText()), run, waitForEvent(events))
}

func waitForEvent(events <-chan tea.Msg) tea.Cmd {
	return func() tea.Msg {
		msg, ok := <-events
		if !ok {
			return nil
		}
		return msg
	}
}

func (m *Model) refundProgressText() string {
	verb := "refunding"
	if m.cfg.DryRun {
		verb = "recording"
	}
	return fmt.Sprintf("%s %d/%d…", verb, m.refundDone, m.refundTotal)
}

func (m Model) applyRefundProgress(msg refundProgressMsg) (Model, tea.Cmd) {
	r := msg.result
	m.refundDone++
	level, text := m.recordOutcome(r, &m.refundTally)
	m.status.Start(activityRefund, m.refundProgressText())
	m.showSelected()
	return m, tea.Batch(waitForEvent(msg.events), m.flash(level, fmt.Sprintf("%s: %s", r.ChargeID, text)))
}

func (m Model) applyRefundDone(msg refundDoneMsg) (Model, tea.Cmd) {
	m.refunding, m.quitArmed = false, false
	stopped := m.run.stopped
	m.run.finish()
	m.status.Stop(activityRefund)
	for _, id := range msg.groups {
		delete(m.table.marked, id)
	}
	level, text := m.refundTally.summary(m.cfg.DryRun)
	switch {
	case stopped:
		level, text = levelWarn, fmt.Sprintf("refunds stopped by you after %d of %d (%s); the rest were not begun; a pending one is finished at the next sync or by %s",
			m.refundDone, m.refundTotal, text, reconcile.ResumeCommand)
	case msg.err != nil:
		level, text = levelError, fmt.Sprintf("refunds stopped after %d of %d (%s): %v", m.refundDone, m.refundTotal, text, msg.err)
	case m.refundTally.pending+m.refundTally.failed > 0:
		text += "; the detail pane says why"
	}
	return m, tea.Batch(m.flash(level, text), m.reload())
}

// recordOutcome puts one refund's outcome in the detail pane (this session's
// outcomes), counts it in tally and returns its flash level and sentence.
func (m *Model) recordOutcome(r RefundResult, tally *refundCounts) (flashLevel, string) {
	level, text := levelInfo, "refunded "+r.RefundID
	switch {
	case r.Pending:
		tally.pending++
		level, text = levelWarn, "pending: the outcome is unknown and the refund will be resumed with the same idempotency key"
		if r.Err != nil {
			text = "pending: " + r.Err.Error() + "; it will be resumed with the same idempotency key"
		}
	case r.Err != nil:
		tally.failed++
		level, text = levelError, "refund failed: "+r.Err.Error()
	case m.cfg.DryRun:
		tally.ok++
		text = "would refund (dry run: nothing sent or recorded)"
	default:
		tally.ok++
	}
	m.outcomes[r.ChargeID] = text
	return level, text
}

// refundCounts tallies what became of a batch (or of resumed refunds), each
// outcome apart: "done" would hide a pending or a failed refund.
type refundCounts struct{ ok, pending, failed int }

// summary is the tally in one line, at the level of its worst outcome.
func (c refundCounts) summary(dryRun bool) (flashLevel, string) {
	verb := "refunded"
	if dryRun {
		verb = "would be refunded (dry run: nothing sent or recorded)"
	}
	parts := []string{fmt.Sprintf("%d %s", c.ok, verb)}
	level := levelInfo
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

// --- resuming pending refunds --------------------------------------------

// startResume finishes the refunds earlier runs left pending, at start and
// after each successful sync. It waits for a running batch: the next sync
// tries again.
func (m *Model) startResume() tea.Cmd {
	if m.deps.Resumer == nil || m.resuming || m.refunding {
		return nil
	}
	m.resuming = true
	return tea.Batch(m.status.Start(activityResume, resumingText), m.resumeCmd())
}

const resumingText = "resuming pending refunds…"

func (m *Model) resumeCmd() tea.Cmd {
	resumer, ctx := m.deps.Resumer, m.ctx
	return func() tea.Msg {
		results, err := resumer.Resume(ctx)
		return resumeDoneMsg{results: results, err: err}
	}
}

func (m Model) applyResume(msg resumeDoneMsg) (Model, tea.Cmd) {
	m.resuming = false
	m.status.Stop(activityResume)
	var (
		tally    refundCounts
		failures []string
	)
	for _, r := range msg.results {
		if level, text := m.recordOutcome(r, &tally); level != levelInfo {
			failures = append(failures, r.ChargeID+" "+text)
		}
	}
	n := len(msg.results)
	level, text := tally.summary(m.cfg.DryRun)
	text = fmt.Sprintf("resumed %d pending %s: %s", n, plural(n, "refund", "refunds"), text)
	if len(failures) > 0 {
		text += " — " + strings.Join(failures, "; ")
	}
	switch {
	case msg.err != nil:
		if n == 0 {
			text = "could not resume pending refunds"
		}
		return m, tea.Batch(m.flash(levelError, fmt.Sprintf("%s: %v", text, msg.err)), m.reload())
	case n == 0:
		return m, nil // nothing was pending
	}
	m.showSelected()
	return m, tea.Batch(m.flash(level, text), m.reload())
}

// --- status and layout ----------------------------------------------------

// flash shows text in the status bar and clears it later; errors stay longer.
func (m *Model) flash(level flashLevel, text string) tea.Cmd {
	id := m.status.Flash(level, text)
	ttl := 8 * time.Second
	if level == levelError {
		ttl = 30 * time.Second
	}
	return m.after(ttl, flashExpiredMsg{id: id})
}

// refreshChrome re-derives live keys, the status bar's right side and the
// header's counters from the state. It is cheap: O(marked groups).
func (m *Model) refreshChrome() {
	m.keys.setState(m.keyState(m.mode()))
	m.table.empty = m.emptyText()
	m.header.fresh, m.header.syncing = len(m.table.fresh), m.syncing
	if m.width > 0 && lipgloss.Height(m.header.View()) != m.headerHeight {
		m.layout() // e.g. "2 new" pushed the money at risk onto a line of its own
	}
	right := fmt.Sprintf("%s · %s", m.statusLabel(), confidenceSteps[m.confidence].label)
	if n := len(m.table.marked); n > 0 {
		right = fmt.Sprintf("%d marked · %s", n, right)
	}
	if m.loaded {
		pos := 0
		if len(m.table.rows) > 0 {
			pos = m.table.cursor + 1
		}
		right += fmt.Sprintf(" · %d/%d", pos, len(m.table.rows))
	}
	m.status.right = right
}

// keyState describes the state for KeyMap.setState, as if md were the mode.
func (m *Model) keyState(md mode) keyState {
	return keyState{
		mode:        md,
		hasRows:     len(m.table.rows) > 0,
		canDismiss:  len(m.targets(isOpen)) > 0,
		canRefund:   len(m.targets((*reconcile.Group).HasRefund)) > 0,
		canUndo:     len(m.targets(isDismissed)) > 0,
		hasQuery:    m.query != "",
		hasMarks:    len(m.table.marked) > 0,
		readOnly:    m.cfg.ReadOnly,
		canSync:     m.deps.Syncer != nil && !m.syncing,
		refunding:   m.refunding,
		canExport:   m.loaded,
		typed:       m.confirm.typed,
		seenAll:     m.confirm.seenAll,
		scrollable:  m.confirm.scrollable(),
		refundReady: !m.refunding && !m.resuming,
	}
}

// layout sizes every component from the window and the measured height of the
// fixed parts.
func (m *Model) layout() {
	if m.width <= 0 || m.height <= 0 {
		m.showSelected()
		return
	}
	m.header.SetSize(m.width)
	m.status.SetSize(m.width)
	m.help.Width = m.width
	m.filter.Width = max(m.width-lipgloss.Width(m.filter.Prompt)-1, 1)
	m.note.SetSize(m.width)

	body := m.bodyHeight()
	m.body = body
	if m.modal == modeConfirm {
		m.confirm.SetSize(m.width, body)
	}
	frameW, frameH := m.styles.Pane.GetHorizontalFrameSize(), m.styles.Pane.GetVerticalFrameSize()
	// The focused pane gets the larger share; a short list gives the rest of its
	// share to the detail pane.
	share := body * 3 / 5
	if m.focus == modeDetail {
		share = body * 2 / 5
	}
	tableOuter := max(min(frameH+1+max(len(m.table.rows), 1), share), frameH+2)
	m.table.SetSize(m.width-frameW, tableOuter-frameH)
	m.detail.SetSize(m.width-frameW, body-tableOuter-frameH)
	m.showSelected()
}

func (m *Model) bodyHeight() int {
	m.headerHeight = lipgloss.Height(m.header.View())
	chrome := m.headerHeight + lipgloss.Height(m.status.View()) + lipgloss.Height(m.footerView())
	if bar := m.filterBar(); bar != "" {
		chrome += lipgloss.Height(bar)
	}
	return max(m.height-chrome, 0)
}

// --- view -----------------------------------------------------------------

func (m Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return m.status.spinner.View() + " loading…"
	}
	if m.tooSmall() {
		return m.tooSmallView()
	}
	parts := []string{m.header.View()}
	if bar := m.filterBar(); bar != "" {
		parts = append(parts, bar)
	}
	parts = append(parts, m.bodyView(), m.status.View(), m.footerView())
	return strings.Join(parts, "\n")
}

func (m *Model) tooSmallView() string {
	msg := m.styles.TooSmall.Render("terminal too small") + "\n" +
		m.styles.Muted.Render(fmt.Sprintf("%d×%d; doublecheck needs at least %d×%d", m.width, m.height, minWidth, minHeight))
	return lipgloss.Place(m.width, m.height, lipgloss.Center, lipgloss.Center, msg)
}

func (m *Model) filterBar() string {
	switch {
	case m.filtering:
		return m.filter.View()
	case m.query != "":
		return m.styles.Muted.Render("filter: ") + m.query + m.styles.Muted.Render("  (/ edits, esc clears)")
	}
	return ""
}

// footerView is the short help of whatever has the keys: a dialog or the filter
// input alone, a pane followed by the global keys. Bindings switched off for the
// state are left out by help itself.
func (m *Model) footerView() string {
	var keys []key.Binding
	switch m.mode() {
	case modeConfirm:
		keys = m.confirm.ShortHelp()
	case modeNote:
		keys = m.note.ShortHelp()
	case modeHelp:
		keys = []key.Binding{m.keys.CloseHelp}
	case modeFilter:
		keys = []key.Binding{m.keys.ApplyFilter, m.keys.ClearFilter}
	case modeDetail:
		keys = append(m.detail.ShortHelp(), m.keys.ShortHelp()...)
	default:
		keys = append(m.table.ShortHelp(), m.keys.ShortHelp()...)
	}
	essentials := m.help.ShortHelpView(m.keys.Essentials()) // off in dialogs, where they do not act
	if essentials == "" {
		return m.help.ShortHelpView(keys)
	}
	// The rest is cut to what fits before the essentials, which always show.
	rest := m.help
	rest.Width = max(m.width-lipgloss.Width(essentials)-3, 1)
	left, cut := rest.ShortHelpView(keys), false
	for lipgloss.Width(left) > rest.Width && len(keys) > 0 {
		// help adds an item that does not fit when its "…" does not fit either.
		keys, cut = keys[:len(keys)-1], true
		left = rest.ShortHelpView(keys)
	}
	if cut && !strings.HasSuffix(left, m.help.Ellipsis) && lipgloss.Width(left)+2 <= rest.Width {
		left += " " + m.help.Styles.Ellipsis.Render(m.help.Ellipsis)
	}
	gap := max(m.width-lipgloss.Width(left)-lipgloss.Width(essentials), 1)
	return left + strings.Repeat(" ", gap) + essentials
}

func (m *Model) bodyView() string {
	body := m.body
	center := func(s string) string {
		return clip(lipgloss.Place(m.width, body, lipgloss.Center, lipgloss.Center, s), m.width, body)
	}
	switch {
	case m.modal == modeHelp:
		return center(m.fullHelpView())
	case m.modal == modeConfirm:
		return center(m.confirm.View())
	case m.modal == modeNote:
		return center(m.note.View())
	case !m.loaded:
		return center(m.status.spinner.View() + " loading groups…")
	}
	tablePane, detailPane := m.styles.PaneFocused, m.styles.Pane
	if m.focus == modeDetail {
		tablePane, detailPane = m.styles.Pane, m.styles.PaneFocused
	}
	frameW := tablePane.GetHorizontalFrameSize()
	return tablePane.Width(m.width-frameW).Height(m.table.height).Render(m.table.View()) + "\n" +
		detailPane.Width(m.width-frameW).Height(m.detail.viewport.Height).Render(m.detail.View())
}

// clip cuts s to at most width columns and height lines: Place pads but never
// cuts, and a dialog must not push the status bar off a small screen.
func clip(s string, width, height int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > height {
		lines = lines[:height]
	}
	for i, l := range lines {
		if lipgloss.Width(l) > width {
			lines[i] = ansi.Truncate(l, width, "")
		}
	}
	return strings.Join(lines, "\n")
}

// fullHelpView lists the keys that work in the list or detail pane the help was
// opened from, not the help screen's own keys.
func (m *Model) fullHelpView() string {
	browsing := *m.keys
	state := m.keyState(m.focus)
	state.reference = true
	browsing.setState(state)
	return m.styles.Dialog.Render(m.styles.DialogTitle.Render("Keys") + "\n\n" +
		m.help.FullHelpView(browsing.FullHelp()) + "\n\n" + m.styles.Muted.Render("? or esc closes this help"))
}
