package ui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/doublecheck-dev/doublecheck/reconcile"
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
	modeExport              // the export prompt
	modeTrend               // the trend view
)

// Messages: results of the commands, each carrying what Update needs.
type (
	reportLoadedMsg struct {
		seq    int
		report reconcile.Report
		index  searchIndex  // the filter's, of report.Groups
		sorted sortedGroups // report.Groups in the order of when the load began
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
	watchTickMsg    struct{} // starts a background sync: the first at start, then every Watch
	flashExpiredMsg struct{ id int }
	// flashMsg is a component's sentence for the status bar.
	flashMsg struct {
		level flashLevel
		kind  flashKind
		text  string
	}
)

// flashCmd asks the root to flash text: components do not own the status bar.
func flashCmd(level flashLevel, text string) tea.Cmd { return flashKindCmd(level, flashNormal, text) }

// flashKindCmd is flashCmd for a refund's outcome or a routine message.
func flashKindCmd(level flashLevel, kind flashKind, text string) tea.Cmd {
	return func() tea.Msg { return flashMsg{level: level, kind: kind, text: text} }
}

// Model is the dashboard's root model. It owns the loaded report and the
// collaborators (Deps), lays out its components and routes messages to them:
// keys to the open dialog, else to the component whose live key it is; the
// components' intents (refundConfirmedMsg, dismissConfirmedMsg,
// syncRequestedMsg, storeChangedMsg, flashMsg) become calls on Deps, run in a
// tea.Cmd. It reads the components only through their methods.
type Model struct {
	cfg    Config
	deps   Deps
	ctx    context.Context
	keys   rootKeys
	styles *Styles
	// after schedules msg after d; tea.Tick in production, replaceable in tests.
	after func(d time.Duration, msg tea.Msg) tea.Cmd

	width, height int
	body          int // height of the area between the header and the status bar
	headerHeight  int // as measured by the last layout
	bodyTop       int // the body's first line, as measured by the last layout (for the mouse)
	// The panes' heights, borders included; 0 for a pane the terminal has no
	// room for beside the focused one.
	tableOuter, detailOuter int

	header   header      // account, freshness, counts and money
	table    groupTable  // the listed groups, the selection and the marks
	detail   detailPane  // the selected group explained
	filter   groupFilter // which groups are listed
	refund   refundFlow  // r, its dialog, the running batch and x
	sync     syncStatus  // R and how fresh the data is
	note     noteDialog  // d's note
	helpView helpScreen  // the ? screen
	status   statusBar   // flashes, background work, the position
	footer   help.Model  // the live keys' short help

	links  linkActions  // c and o
	export exportPrompt // e: the path and what to write
	trend  trendView    // t: duplicates and money per day

	focus mode // modeList or modeDetail

	report   reconcile.Report
	index    map[string]int  // group id → index in report.Groups
	known    map[string]bool // every group id loaded so far, to spot new ones
	loaded   bool
	baseline bool // the next load decides what counts as already seen
	loadSeq  int

	activityMark string // the Watcher's last mark: "" before the first read
}

// New builds the dashboard. deps.Loader and deps.Decider are required; a nil
// Syncer turns sync off and a nil Refunder (or cfg.ReadOnly) turns refunds off.
func New(cfg Config, deps Deps) Model {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.ReadOnly = cfg.ReadOnly || deps.Refunder == nil
	styles := DefaultStyles()
	m := Model{
		cfg: cfg, deps: deps, ctx: context.Background(), keys: defaultRootKeys(), styles: &styles,
		after:    func(d time.Duration, msg tea.Msg) tea.Cmd { return tea.Tick(d, func(time.Time) tea.Msg { return msg }) },
		header:   newHeader(&styles, cfg),
		table:    newGroupTable(&styles),
		detail:   newDetailPane(&styles, reconcile.ResumeCommand(cfg.Resume)),
		filter:   newGroupFilter(&styles),
		sync:     newSyncStatus(cfg, deps.Syncer != nil),
		note:     newNoteDialog(&styles),
		helpView: newHelpScreen(&styles),
		status:   newStatusBar(&styles),
		links:    newLinkActions(cfg.Live, deps.Clipboard != nil),
		export:   newExportPrompt(&styles),
		trend:    newTrendView(&styles),
		footer:   help.New(),
		index:    map[string]int{},
		known:    map[string]bool{},
		loadSeq:  1,
		baseline: true,
	}
	m.footer.Styles = styles.Help
	m.status.Start(activityLoad, "loading groups…")
	// Pending refunds are resumed at start (Init), before the operator can plan
	// new ones.
	m.refund = newRefundFlow(m.styles, cfg, deps.Resumer != nil)
	m.status.Set(activityResume, m.refund.Resuming())
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
	if m.refund.Resuming() != "" {
		resume = m.resumeCmd()
	}
	var watch tea.Cmd
	if m.deps.Watcher != nil {
		watch = m.readActivity()
	}
	return tea.Batch(m.status.Tick(), m.loadCmd(m.loadSeq), sync, resume, watch)
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
	case syncRequestedMsg:
		return m, m.startSync(false)
	case syncProgressMsg, syncDoneMsg:
		return m.updateSync(msg)
	case tea.MouseMsg:
		return m.handleMouse(msg)
	case refundConfirmedMsg:
		return m, m.startRefund(msg.plan)
	case dismissConfirmedMsg:
		return m, m.decideCmd(reconcile.DecisionDismissed, msg.groups, msg.charges, msg.note)
	case refundProgressMsg, refundDoneMsg, resumeDoneMsg:
		return m.updateRefund(msg)
	case activityTickMsg:
		return m, m.readActivity()
	case activityMsg:
		return m.updateActivity(msg)
	case storeChangedMsg:
		m.table.Unmark(msg.settled)
		return m, m.reload()
	case flashMsg:
		return m, m.show(msg)
	case ioIntent:
		return m, m.perform(msg)
	case flashExpiredMsg, spinner.TickMsg:
		var cmd tea.Cmd
		m.status, cmd = m.status.Update(msg)
		return m, cmd
	}
	return m, nil
}

// mode is what the keys act on right now.
func (m *Model) mode() mode {
	switch {
	case m.dialog() != modeList:
		return m.dialog()
	case m.filter.Editing():
		return modeFilter
	}
	return m.focus
}

// handleKey gives a key to the open dialog, else to the filter's input, else
// to the component whose live key it is; what is left is the root's own.
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
	var cmd tea.Cmd
	switch {
	case m.refund.DialogOpen():
		return m.updateRefund(msg)
	case m.note.IsOpen():
		m.note, cmd = m.note.Update(msg)
		return m, cmd
	case m.helpView.IsOpen():
		m.helpView, cmd = m.helpView.Update(msg)
		return m, cmd
	case m.export.IsOpen():
		m.export, cmd = m.export.Update(msg)
		return m, cmd
	case m.trend.Wants(msg):
		m.trend, cmd = m.trend.Update(msg)
		return m, cmd
	case m.filter.Editing(), m.filter.Wants(msg):
		return m.updateFilter(msg)
	case m.refund.Wants(msg):
		return m.updateRefund(msg)
	case m.sync.Wants(msg):
		m.sync, cmd = m.sync.Update(msg)
		return m, cmd
	case m.links.Wants(msg):
		m.links, cmd = m.links.Update(msg)
		return m, cmd
	case m.focus == modeDetail && m.detail.Wants(msg):
		var back bool
		if m.detail, back = m.detail.Update(msg); back {
			m.focus = modeList
			m.layout()
		}
		return m, nil
	case m.table.Wants(msg):
		return m.updateTable(msg)
	}
	switch {
	case key.Matches(msg, m.keys.Quit):
		return m.quit()
	case key.Matches(msg, m.keys.Help):
		m.helpView.Open(m.fullHelp())
	case key.Matches(msg, m.keys.Dismiss):
		ids := m.targetIDs(isOpen)
		// The dismissal covers the charges on screen now: a reload while the
		// note is typed may add one the operator never saw.
		return m, m.note.Open(ids, m.chargesOf(ids))
	case key.Matches(msg, m.keys.DismissOff):
		return m, m.flash(levelWarn, m.whyNoDismiss())
	case key.Matches(msg, m.keys.Undo):
		ids := m.targetIDs(isDismissed)
		return m, m.decideCmd(reconcile.DecisionUndismissed, ids, m.chargesOf(ids), "")
	case key.Matches(msg, m.keys.Export):
		return m, m.openExport()
	}
	return m, nil
}

// updateTable gives the table a key: a move shows the newly selected group,
// enter/tab focuses the detail pane.
func (m Model) updateTable(msg tea.KeyMsg) (Model, tea.Cmd) {
	var event tableEvent
	m.table, event = m.table.Update(msg)
	switch event {
	case tableFocusDetail:
		m.focus = modeDetail
		m.layout()
	case tableMoved:
		if m.filter.Pin() { // the groups just refunded may leave the view now
			m.refilter()
		}
		m.showSelected()
	}
	return m, nil
}

// dialog is the dialog that has the keys: modeConfirm, modeNote, modeHelp, or
// modeList for none.
func (m *Model) dialog() mode {
	switch {
	case m.refund.DialogOpen():
		return modeConfirm
	case m.note.IsOpen():
		return modeNote
	case m.helpView.IsOpen():
		return modeHelp
	case m.export.IsOpen():
		return modeExport
	case m.trend.IsOpen():
		return modeTrend
	}
	return modeList
}

// quit ends the program; while refunds run it asks for a second q first.
func (m Model) quit() (Model, tea.Cmd) {
	if m.refund.HoldQuit() {
		return m, m.flash(levelWarn, "refunds are still running; press q again to quit (pending ones resume on the next start)")
	}
	return m, tea.Quit
}

// tooSmall is whether the terminal is below the minimum: only the size
// message shows, and only quitting works.
func (m *Model) tooSmall() bool {
	return m.width > 0 && m.height > 0 && (m.width < minWidth || m.height < minHeight)
}

// updateFilter gives the filter a key; the arrows, which still move through
// the matches while typing, go to the table.
func (m Model) updateFilter(msg tea.KeyMsg) (Model, tea.Cmd) {
	if !m.filter.Wants(msg) {
		return m.updateTable(msg)
	}
	var cmd tea.Cmd
	m.filter, cmd = m.filter.Update(msg)
	if m.filter.Editing() {
		m.focus = modeList // typing narrows the list, so the list has the focus
	}
	m.refilter()
	return m, cmd
}

// refilter lists the rows the filter passes.
func (m *Model) refilter() {
	m.table.SetRows(m.report.Groups, m.filter.Rows())
	m.layout()
}

// emptyText is what the table says when it lists nothing: why, and which key
// shows more. It depends on the sync state too, so it is derived on every update.
func (m *Model) emptyText() string {
	stored := len(m.report.Groups) > 0
	neverSynced := m.sync.NeverSynced()
	switch {
	case !m.loaded:
		return "loading…"
	case !stored && neverSynced && m.sync.Syncing():
		return "syncing for the first time" + strings.TrimPrefix(m.sync.Activity(), "syncing") // its progress, once known
	case !stored && neverSynced && m.sync.Failed():
		return "nothing stored yet: the first sync failed (R retries)"
	case !stored:
		return "no duplicate charges found: nothing to do"
	}
	return m.filter.EmptyText()
}

func (m *Model) showSelected() {
	m.detail.SetGroup(m.table.Selected(), m.refund.Outcomes())
}

// targets are the groups an action applies to: the marked ones, else the
// selected one; keep filters them.
func (m *Model) targets(keep func(*reconcile.Group) bool) []*reconcile.Group {
	var out []*reconcile.Group
	if marked := m.table.Marked(); len(marked) > 0 {
		idx := make([]int, 0, len(marked))
		for _, id := range marked {
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
	loader, ctx, order := m.deps.Loader, m.ctx, m.filter.Sort()
	return func() tea.Msg {
		if loader == nil {
			return reportLoadedMsg{seq: seq, err: fmt.Errorf("the dashboard was started without a store to load")}
		}
		report, err := loader.Load(ctx)
		if err != nil {
			return reportLoadedMsg{seq: seq, err: err}
		}
		return reportLoadedMsg{seq: seq, report: report, index: newSearchIndex(report.Groups),
			sorted: sortedGroups{order, order.permutation(report.Groups)}}
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
	m.baseline = m.baseline && m.sync.NeverSynced()
	m.loaded = true
	m.report = msg.report
	m.index = make(map[string]int, len(m.report.Groups))
	var added []string
	for i := range m.report.Groups {
		id := m.report.Groups[i].ID
		m.index[id] = i
		if !m.known[id] {
			m.known[id] = true
			if markNew {
				added = append(added, id)
			}
		}
	}
	m.table.MarkFresh(added)
	m.table.Forget(func(id string) bool { _, ok := m.index[id]; return ok })
	m.header.SetSummary(m.report.Summary)
	m.table.SetShowProvider(len(m.report.Summary.Providers) > 1)
	m.trend.SetReport(m.report)
	m.filter.SetGroups(m.report.Groups, msg.index, msg.sorted)
	m.refilter()
	if len(added) > 0 {
		return m, m.show(flashMsg{levelInfo, flashRoutine, fmt.Sprintf("%s found (marked +)", reconcile.Plural(len(added), "new group"))})
	}
	return m, nil
}

// --- decisions ------------------------------------------------------------

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

// decideCmd persists one decision per group through the Decider; seen are the
// charges of each group the operator saw when deciding.
func (m *Model) decideCmd(kind reconcile.DecisionKind, groups []string, seen map[string][]string, note string) tea.Cmd {
	if len(groups) == 0 {
		return nil
	}
	at := m.cfg.Now()
	decisions := make([]reconcile.Decision, len(groups))
	for i, id := range groups {
		// A decision covers the charges seen when it was asked for: one that
		// joins the group later reopens it.
		decisions[i] = reconcile.GroupDecision(&reconcile.Group{ID: id}, kind, m.cfg.Operator, note, at)
		decisions[i].Charges = seen[id]
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
	what := reconcile.Plural(n, "group")
	if msg.err != nil {
		verb := "dismissal"
		if msg.kind == reconcile.DecisionUndismissed {
			verb = "undo"
		}
		return m, m.flash(levelError, fmt.Sprintf("could not save the %s of %s: %v", verb, what, msg.err))
	}
	m.table.Unmark(msg.groups)
	text := "dismissed " + what + " as legitimate (u undoes)"
	if !m.filter.Shows(reconcile.Dismissed) {
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
	if !m.sync.Begin() {
		// Only the timer gets here while a sync runs (R is off then): try at the next tick.
		if watch {
			return m.watchCmd()
		}
		return nil
	}
	syncer, ctx, now := m.deps.Syncer, m.ctx, m.cfg.Now
	// Progress is news, not a record: one waits at most, newer ones are
	// dropped while the loop is busy, and the outcome always has room, so the
	// sync never waits for the loop.
	events := make(chan tea.Msg, 2)
	var mu sync.Mutex // the Syncer may report from several goroutines
	run := func() tea.Msg {
		result, err := syncer.Sync(ctx, func(p SyncProgress) {
			mu.Lock()
			defer mu.Unlock()
			if len(events) == 0 {
				events <- syncProgressMsg{progress: p, events: events}
			}
		})
		events <- syncDoneMsg{result: result, err: err, watch: watch, at: now()}
		close(events)
		return nil
	}
	return tea.Batch(m.status.Start(activitySync, m.sync.Activity()), run, waitForEvent(events))
}

// updateSync shows a running sync's progress, or records its outcome.
func (m Model) updateSync(msg tea.Msg) (Model, tea.Cmd) {
	progress, ok := msg.(syncProgressMsg)
	if !ok {
		return m.applySync(msg.(syncDoneMsg))
	}
	m.sync, _ = m.sync.Update(progress)
	return m, tea.Batch(m.status.Set(activitySync, m.sync.Activity()), waitForEvent(progress.events))
}

// applySync records the sync's outcome; a good one reloads the groups and
// resumes pending refunds.
func (m Model) applySync(msg syncDoneMsg) (Model, tea.Cmd) {
	var flash, next tea.Cmd
	m.sync, flash = m.sync.Update(msg)
	m.status.Stop(activitySync)
	if msg.watch {
		next = m.watchCmd()
	}
	if msg.err != nil {
		return m, tea.Batch(flash, next)
	}
	// The flash first: what the reload and the resumption say comes after it.
	// Both change m, so they run before it is returned.
	after := tea.Batch(next, m.reload(), m.startResume())
	return m, tea.Sequence(flash, after)
}

// --- export ---------------------------------------------------------------

// openExport proposes a path for the report. The report is replaced, never
// modified, on reload, so the prompt may keep these slices.
func (m *Model) openExport() tea.Cmd {
	rows := m.table.Rows()
	view := reconcile.Report{Groups: make([]reconcile.Group, len(rows)), Findings: m.report.Findings, Summary: m.report.Summary}
	for i, gi := range rows {
		view.Groups[i] = m.report.Groups[gi]
	}
	label := m.filter.Label()
	if q := m.filter.Query(); q != "" {
		label = fmt.Sprintf("%q · %s", q, label)
	}
	return m.export.Open(exportPath(m.cfg.ExportDir, m.cfg.Account, m.cfg.Now()), m.report, view, label)
}

// --- refunds --------------------------------------------------------------

// startRefund runs a confirmed plan through the Refunder in a command and
// streams each outcome back through a channel, so the progress line moves
// while the batch runs.
func (m *Model) startRefund(plan reconcile.RefundPlan) tea.Cmd {
	if m.deps.Refunder == nil { // r is off then: the flow never confirms
		return func() tea.Msg { return refundDoneMsg{err: errors.New("refunds are turned off")} }
	}
	groups := make([]string, 0, plan.Groups)
	for _, l := range plan.Lines {
		if l.Kind == reconcile.PlanGroup {
			groups = append(groups, l.GroupID)
		}
	}
	// The groups stay listed (and the selected one selected) until the cursor
	// moves, whatever the view: their outcome is what the operator looks at.
	m.filter.Pin(groups...)
	m.refilter()
	events := make(chan tea.Msg, len(plan.Requests)+1)
	refunder, ctx, requests := m.deps.Refunder, m.refund.Context(m.ctx), plan.Requests
	run := func() tea.Msg {
		err := refunder.Refund(ctx, requests, func(r RefundResult) {
			events <- refundProgressMsg{result: r, events: events}
		})
		events <- refundDoneMsg{err: err, groups: groups}
		close(events)
		return nil
	}
	return tea.Batch(m.status.Start(activityRefund, m.refund.Progress()), run, waitForEvent(events))
}

// updateRefund gives the refund flow a message and shows its progress.
func (m Model) updateRefund(msg tea.Msg) (Model, tea.Cmd) {
	var cmd tea.Cmd
	m.refund, cmd = m.refund.Update(msg)
	spin := tea.Batch(m.status.Set(activityRefund, m.refund.Progress()), m.status.Set(activityResume, m.refund.Resuming()))
	m.showSelected() // this session's outcomes show in the detail pane
	return m, tea.Batch(cmd, spin)
}

// startResume finishes the refunds earlier runs left pending, at start and
// after each successful sync. It waits for a running batch: the next sync
// tries again.
func (m *Model) startResume() tea.Cmd {
	if m.deps.Resumer == nil || !m.refund.BeginResume() {
		return nil
	}
	return tea.Batch(m.status.Start(activityResume, m.refund.Resuming()), m.resumeCmd())
}

func (m *Model) resumeCmd() tea.Cmd {
	resumer, ctx := m.deps.Resumer, m.refund.ResumeContext(m.ctx)
	return func() tea.Msg {
		results, err := resumer.Resume(ctx)
		return resumeDoneMsg{results: results, err: err}
	}
}

// perform runs a component's I/O intent on the Deps, off the update loop.
func (m *Model) perform(intent ioIntent) tea.Cmd {
	deps, ctx := m.deps, m.ctx
	return func() tea.Msg { return intent.perform(ctx, deps) }
}

// --- status and layout ----------------------------------------------------

// flash shows text in the status bar and clears it later.
func (m *Model) flash(level flashLevel, text string) tea.Cmd {
	return m.show(flashMsg{level: level, text: text})
}

// show flashes msg and clears it later; errors and refunds' outcomes stay
// longer.
func (m *Model) show(msg flashMsg) tea.Cmd {
	id, shown := m.status.Flash(msg.level, msg.kind, msg.text)
	if !shown {
		return nil
	}
	ttl := 8 * time.Second
	if msg.level == levelError || msg.kind == flashOutcome {
		ttl = 30 * time.Second
	}
	return m.after(ttl, flashExpiredMsg{id: id})
}

// refreshChrome tells the components what they derive from the rest (the
// focus, the targeted groups, the empty list's reason, how fresh the data is)
// and re-derives the root's live keys, the status bar's right side and the
// header's counters. It is cheap: O(marked groups).
func (m *Model) refreshChrome() {
	browsing := m.mode() == modeList || m.mode() == modeDetail
	m.keys.update(rootState{browsing: browsing, canDismiss: len(m.targets(isOpen)) > 0,
		canUndo: len(m.targets(isDismissed)) > 0, canExport: m.loaded})
	m.filter.SetListFocus(m.focus == modeList)
	m.detail.SetFocus(m.focus == modeDetail)
	var charge *reconcile.Member
	if m.focus == modeDetail {
		charge = m.detail.SelectedCharge()
	}
	m.links.SetTarget(browsing, m.table.Selected(), charge)
	m.trend.SetEnabled(browsing && m.loaded)
	m.table.SetFocus(m.focus == modeList, m.filter.Query() == "")
	m.table.SetEmpty(m.emptyText())
	m.table.SetSort(m.filter.Sort().column())
	m.table.SetJustNow(m.filter.Pinned())
	m.refund.SetTargets(m.targets(anyGroup), len(m.table.Rows()) > 0)
	m.header.SetFresh(m.table.FreshCount())
	m.header.SetSync(m.sync.View())
	if m.width > 0 && lipgloss.Height(m.header.View()) != m.headerHeight {
		m.layout() // e.g. "2 new" pushed the money at risk onto a line of its own
	}
	right := m.filter.Label()
	if n := m.table.MarkCount(); n > 0 {
		right = fmt.Sprintf("%d marked · %s", n, right)
	}
	if m.loaded {
		right += fmt.Sprintf(" · %d/%d", m.table.Position(), len(m.table.Rows()))
	}
	m.status.SetRight(right)
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
	m.footer.Width = m.width
	m.filter.SetSize(m.width, m.height)
	m.note.SetSize(m.width, m.height)

	body := m.bodyHeight()
	m.body = body
	m.refund.SetSize(m.width, body)
	m.trend.SetSize(m.width, body)
	m.export.SetSize(m.width, body)
	m.helpView.SetSize(m.width, body)
	frameW, frameH := m.styles.Pane.GetHorizontalFrameSize(), m.styles.Pane.GetVerticalFrameSize()
	// The focused pane gets the larger share; a short list gives the rest of its
	// share to the detail pane.
	share := body * 3 / 5
	if m.focus == modeDetail {
		share = body * 2 / 5
	}
	rows := max(len(m.table.Rows()), 1)
	tableOuter := max(min(frameH+1+rows, share), frameH+2)
	if m.focus == modeList {
		tableOuter = max(tableOuter, frameH+1+min(rows, 3)) // three rows at least, on the smallest terminal too
	}
	tableOuter = min(tableOuter, body)
	detailOuter := body - tableOuter
	if detailOuter <= frameH { // no line left for the detail pane: the focused pane takes the room
		tableOuter, detailOuter = body, 0
		if m.focus == modeDetail {
			tableOuter, detailOuter = 0, body
		}
	}
	m.tableOuter, m.detailOuter = tableOuter, detailOuter
	m.table.SetSize(m.width-frameW, tableOuter-frameH)
	m.detail.SetSize(m.width-frameW, detailOuter-frameH)
	m.showSelected()
}

func (m *Model) bodyHeight() int {
	m.headerHeight = lipgloss.Height(m.header.View())
	m.bodyTop = m.headerHeight
	if bar := m.filter.View(); bar != "" {
		m.bodyTop += lipgloss.Height(bar)
	}
	return max(m.height-m.bodyTop-lipgloss.Height(m.status.View())-lipgloss.Height(m.footerView()), 0)
}

// --- view -----------------------------------------------------------------

func (m Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return m.status.Spinner() + " loading…"
	}
	if m.tooSmall() {
		return m.tooSmallView()
	}
	parts := []string{m.header.View()}
	if bar := m.filter.View(); bar != "" {
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

// footerView is the short help of whatever has the keys: a dialog or the filter
// input alone, a pane followed by the global keys. Bindings switched off for the
// state are left out by help itself.
func (m *Model) footerView() string {
	var keys []key.Binding
	switch m.mode() {
	case modeConfirm:
		keys = m.refund.ShortHelp()
	case modeNote:
		keys = m.note.ShortHelp()
	case modeHelp:
		keys = m.helpView.ShortHelp()
	case modeExport:
		keys = m.export.ShortHelp()
	case modeTrend:
		keys = m.trend.ShortHelp()
	case modeFilter:
		keys = m.filter.ShortHelp()
	case modeDetail:
		keys = append(m.detail.ShortHelp(), m.browseHelp()...)
	default:
		// The actions first: on a narrow terminal the moving keys are the
		// ones an operator guesses.
		keys = append(m.browseHelp(), m.table.ShortHelp()...)
	}
	essentials := m.footer.ShortHelpView(m.keys.Essentials()) // off in dialogs, where they do not act
	if essentials == "" {
		return m.footer.ShortHelpView(keys)
	}
	// The rest is cut to what fits before the essentials, which always show
	// and then say that ? shows the keys left out.
	unlimited := m.footer
	unlimited.Width = 0
	if all := unlimited.ShortHelpView(keys); lipgloss.Width(all)+3+lipgloss.Width(essentials) <= m.width {
		return all + strings.Repeat(" ", m.width-lipgloss.Width(all)-lipgloss.Width(essentials)) + essentials
	}
	more := m.keys
	more.Help.SetHelp("?", "more keys")
	essentials = m.footer.ShortHelpView(more.Essentials())
	rest := m.footer
	rest.Width = max(m.width-lipgloss.Width(essentials)-3, 1)
	left := rest.ShortHelpView(keys)
	for lipgloss.Width(left) > rest.Width && len(keys) > 0 {
		// help adds an item that does not fit when its "…" does not fit either.
		keys = keys[:len(keys)-1]
		left = rest.ShortHelpView(keys)
	}
	if !strings.HasSuffix(ansi.Strip(left), m.footer.Ellipsis) && lipgloss.Width(left)+2 <= rest.Width {
		left += " " + m.footer.Styles.Ellipsis.Render(m.footer.Ellipsis)
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
	case m.helpView.IsOpen():
		return center(m.helpView.View())
	case m.refund.DialogOpen():
		return center(m.refund.View())
	case m.note.IsOpen():
		return center(m.note.View())
	case m.export.IsOpen():
		return center(m.export.View())
	case m.trend.IsOpen():
		return clip(m.trend.View(), m.width, body)
	case !m.loaded:
		return center(m.status.Spinner() + " loading groups…")
	}
	tablePane, detailPane := m.styles.PaneFocused, m.styles.Pane
	if m.focus == modeDetail {
		tablePane, detailPane = m.styles.Pane, m.styles.PaneFocused
	}
	frameW := tablePane.GetHorizontalFrameSize()
	var panes []string
	if m.tableOuter > 0 {
		panes = append(panes, tablePane.Width(m.width-frameW).Height(m.table.Height()).Render(m.table.View()))
	}
	if m.detailOuter > 0 {
		panes = append(panes, detailPane.Width(m.width-frameW).Height(m.detail.Height()).Render(m.detail.View()))
	}
	return strings.Join(panes, "\n")
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

// fullHelp is the `?` screen's columns: every key of the list and the detail
// pane, whatever is selected (the screen is where an operator learns them) —
// moving, filtering and marking, acting, and the dashboard's own.
func (m *Model) fullHelp() [][]key.Binding {
	table, detail := m.table.FullHelp(), m.detail.FullHelp()
	k := defaultRootKeys()
	k.Export.SetEnabled(m.loaded)
	actions := append([]key.Binding{k.Dismiss, k.Undo}, m.refund.FullHelp()[0]...)
	actions = append(actions, m.sync.FullHelp()[0]...)
	return [][]key.Binding{
		append(table[0], detail[0]...),
		append(m.filter.FullHelp()[0], table[1]...),
		append(append(append(actions, k.Export), m.links.FullHelp()[0]...), m.trend.FullHelp()[0]...),
		{k.Help, k.Quit, k.ForceQuit},
	}
}

// browseHelp is the footer's keys after the focused pane's: those that act on
// the list from either pane.
func (m *Model) browseHelp() []key.Binding {
	keys := m.refund.ShortHelp()
	keys = append(keys, m.filter.ShortHelp()...)
	keys = append(keys, m.keys.Dismiss, m.keys.Undo)
	keys = append(keys, m.sync.ShortHelp()...)
	return append(append(append(keys, m.keys.Export), m.links.ShortHelp()...), m.trend.ShortHelp()...)
}
