package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// Confidence filter steps for `f`.
var confidenceSteps = []struct {
	label string
	min   reconcile.Confidence
}{{"all confidence", ""}, {"medium and above", reconcile.Medium}, {"high only", reconcile.High}}

// filterKeys are the filter's own keys.
type filterKeys struct {
	Filter, Apply, Clear, Confidence, Status, Sort key.Binding
}

func defaultFilterKeys() filterKeys {
	return filterKeys{
		Filter:     key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		Apply:      key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "apply filter")),
		Clear:      key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear filter")),
		Confidence: key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "confidence")),
		Status:     key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "view")),
		Sort:       key.NewBinding(key.WithKeys("S"), key.WithHelp("S", "sort")),
	}
}

// groupFilter decides which groups the table lists, and in what order (S): the `/` query over
// what the screen shows (reconcile.Group.SearchText), the confidence step (`f`) and
// the view (`s`: unsettled — open, pending or received —, dismissed, resolved or all).
//
// A keystroke at 100k groups must not rescan them all: each group's search
// text is lower-cased once per load, and a query that extends an earlier one
// narrows that one's result (a group that does not contain "ab" cannot contain
// "abc"). Results are kept per query prefix, so backspace pops back to one.
type groupFilter struct {
	styles *Styles
	keys   filterKeys
	input  textinput.Model

	editing    bool   // the input has the keys
	query      string // as typed; matched trimmed and lower-cased
	confidence int    // index into confidenceSteps
	view       statusView
	listFocus  bool // the list (not the detail pane) has the keys: esc clears the query there
	order      sortOrder
	// pinned are groups listed whatever the view and the confidence: those
	// just refunded, until the cursor moves, so the outcome stays in view.
	pinned map[string]bool

	groups []reconcile.Group // the loaded report's, never modified
	index  searchIndex       // their search texts
	sorted []int             // indices of groups in order
	base   []int             // groups that pass status and confidence, in order
	steps  []filterStep      // results of successive prefixes of the query, shortest first
	rows   []int             // the listed groups

	// What status and confidence hide, counted only when they leave the list
	// empty without a query: only then does the table say so.
	hiddenByStatus, hiddenByConfidence int
}

// filterStep is the result of one query: the groups (of base) that contain it.
type filterStep struct {
	query string // normalized
	rows  []int
}

func newGroupFilter(styles *Styles) groupFilter {
	f := groupFilter{styles: styles, keys: defaultFilterKeys(), input: newInput(styles, "card 3733, amount, group, charge, customer, email, order or key"), listFocus: true}
	f.input.Prompt = "/ "
	f.updateKeys()
	return f
}

// searchIndex is every group's reconcile.SearchText, end to end in one string
// so that a scan reads memory in order. It is built with the report, in the
// load's command, off the event loop.
type searchIndex struct {
	text string
	ends []int // group i's text is text[ends[i-1]:ends[i]]; empty for a group without charges
}

func newSearchIndex(groups []reconcile.Group) searchIndex {
	x := searchIndex{ends: make([]int, len(groups))}
	var b strings.Builder
	for i := range groups {
		if len(groups[i].Charges) > 0 { // not a group detection makes; never list (and index) it
			b.WriteString(groups[i].SearchText())
		}
		x.ends[i] = b.Len()
	}
	x.text = b.String()
	return x
}

// group is group i's search text.
func (x *searchIndex) group(i int) string {
	start := 0
	if i > 0 {
		start = x.ends[i-1]
	}
	return x.text[start:x.ends[i]]
}

// SetGroups filters a newly loaded report's groups; index and sorted are
// theirs, computed in the load's command.
func (f *groupFilter) SetGroups(groups []reconcile.Group, index searchIndex, sorted sortedGroups) {
	f.groups, f.index, f.sorted = groups, index, sorted.rows
	if sorted.order != f.order || len(sorted.rows) != len(groups) { // S was pressed during the load
		f.sorted = f.order.permutation(groups)
	}
	f.rebase()
}

// SetSize fits the input to the terminal's width.
func (f *groupFilter) SetSize(width, _ int) {
	f.input.Width = max(width-lipgloss.Width(f.input.Prompt)-1, 1)
}

// SetListFocus tells the filter whether the list has the keys: esc clears the
// query only there (in the detail pane it goes back to the list).
func (f *groupFilter) SetListFocus(list bool) {
	f.listFocus = list
	f.updateKeys()
}

// Rows are the indices of the listed groups, in order. The slice is never
// modified.
func (f *groupFilter) Rows() []int { return f.rows }

// Editing is whether the `/` input has the keys.
func (f *groupFilter) Editing() bool { return f.editing }

// Query is the query as typed.
func (f *groupFilter) Query() string { return f.query }

// Shows is whether the view lists groups of status st.
func (f *groupFilter) Shows(st reconcile.Status) bool {
	g := reconcile.Group{Status: st}
	return f.view.shows(&g)
}

// Pin lists the groups ids whatever the view and the confidence hide, until
// the next Pin; Pin() unpins. It reports whether the pins changed.
func (f *groupFilter) Pin(ids ...string) bool {
	if len(ids) == 0 && len(f.pinned) == 0 {
		return false
	}
	f.pinned = make(map[string]bool, len(ids))
	for _, id := range ids {
		f.pinned[id] = true
	}
	f.rebase()
	return true
}

// Pinned are the groups listed because they were just refunded; read only.
func (f *groupFilter) Pinned() map[string]bool { return f.pinned }

// Sort is the order the groups are listed in.
func (f *groupFilter) Sort() sortOrder { return f.order }

// Label is what the status bar says about the filters and the order.
func (f *groupFilter) Label() string {
	return "view: " + f.view.label() + " · " + confidenceSteps[f.confidence].label + " · sort: " + f.order.label()
}

// statusView is which statuses the table lists, cycled by s.
type statusView int

const (
	viewOpen      statusView = iota // unsettled (Group.Unsettled): open and pending (what needs action), and received (refunds awaiting confirmation)
	viewDismissed                   // judged legitimate
	viewResolved                    // every duplicate refunded
	viewAll
	viewCount
)

func (v statusView) label() string {
	return [...]string{"unsettled", "dismissed", "resolved", "all"}[v]
}

// shows is whether the view lists g.
func (v statusView) shows(g *reconcile.Group) bool {
	switch v {
	case viewOpen:
		return g.Unsettled()
	case viewDismissed:
		return g.Status == reconcile.Dismissed
	case viewResolved:
		return g.Status == reconcile.Resolved
	}
	return true
}

// Wants is whether msg is one of the filter's live keys. While typing the
// filter takes every key but the arrows, which still move through the matches.
func (f *groupFilter) Wants(msg tea.KeyMsg) bool {
	if f.editing {
		return msg.Type != tea.KeyUp && msg.Type != tea.KeyDown
	}
	return key.Matches(msg, f.keys.Filter, f.keys.Clear, f.keys.Confidence, f.keys.Status, f.keys.Sort)
}

// Update handles a key the filter wants. The listed rows may change; the
// returned command carries the input's cursor and any flash.
func (f groupFilter) Update(msg tea.Msg) (groupFilter, tea.Cmd) {
	cmd := f.update(msg)
	f.updateKeys()
	return f, cmd
}

func (f *groupFilter) update(msg tea.Msg) tea.Cmd {
	km, ok := msg.(tea.KeyMsg)
	if !ok {
		return nil
	}
	if f.editing {
		switch {
		case key.Matches(km, f.keys.Apply):
			f.stopEditing()
			return nil
		case key.Matches(km, f.keys.Clear):
			f.stopEditing()
			f.setQuery("")
			return nil
		}
		var cmd tea.Cmd
		f.input, cmd = f.input.Update(km)
		if v := f.input.Value(); v != f.query {
			f.setQuery(v)
		}
		return cmd
	}
	switch {
	case key.Matches(km, f.keys.Filter):
		f.editing = true
		f.input.SetValue(f.query)
		f.input.CursorEnd()
		return f.input.Focus()
	case key.Matches(km, f.keys.Clear):
		f.setQuery("")
	case key.Matches(km, f.keys.Confidence):
		f.confidence = (f.confidence + 1) % len(confidenceSteps)
		f.rebase()
		return flashCmd(levelInfo, "showing "+confidenceSteps[f.confidence].label)
	case key.Matches(km, f.keys.Status):
		f.view = (f.view + 1) % viewCount
		f.rebase()
		return flashCmd(levelInfo, "showing "+f.view.label()+" groups (s shows the next view)")
	case key.Matches(km, f.keys.Sort):
		f.order = (f.order + 1) % sortCount
		f.sorted = f.order.permutation(f.groups)
		f.rebase()
		return flashCmd(levelInfo, "sorted by "+f.order.description())
	}
	return nil
}

func (f *groupFilter) stopEditing() {
	f.editing = false
	f.input.Blur()
}

// updateKeys enables exactly the keys that act now.
func (f *groupFilter) updateKeys() {
	f.keys.Filter.SetEnabled(!f.editing)
	f.keys.Confidence.SetEnabled(!f.editing)
	f.keys.Status.SetEnabled(!f.editing)
	f.keys.Sort.SetEnabled(!f.editing)
	f.keys.Apply.SetEnabled(f.editing)
	f.keys.Clear.SetEnabled(f.editing || (f.listFocus && f.query != ""))
}

// ShortHelp is the filter's keys for the footer: enter and esc while typing,
// else `/` and (with a query) esc.
func (f groupFilter) ShortHelp() []key.Binding {
	if f.editing {
		return []key.Binding{f.keys.Apply, f.keys.Clear}
	}
	return []key.Binding{f.keys.Filter, f.keys.Clear}
}

// FullHelp is the filter's column of the `?` screen: every key it has outside
// the input, as if a query were applied.
func (f groupFilter) FullHelp() [][]key.Binding {
	k := defaultFilterKeys()
	return [][]key.Binding{{k.Filter, k.Clear, k.Confidence, k.Status, k.Sort}}
}

// View is the filter's line above the table: the input while typing, the query
// once applied, nothing without one.
func (f groupFilter) View() string {
	switch {
	case f.editing:
		return f.input.View()
	case f.query != "":
		return f.styles.Muted.Render("filter: ") + f.query + f.styles.Muted.Render("  (/ edits, esc clears)")
	}
	return ""
}

// EmptyText is why the filters list nothing, and which key shows more; "" when
// the report has no groups at all (the root says why).
func (f *groupFilter) EmptyText() string {
	if f.query != "" {
		return fmt.Sprintf("no groups match %q (esc clears the filter)", f.query)
	}
	text := "no groups"
	switch f.view {
	case viewOpen:
		text = "no open groups"
	case viewDismissed, viewResolved:
		text = "no " + f.view.label() + " groups"
	}
	if f.confidence > 0 {
		text += " at " + confidenceSteps[f.confidence].label
	}
	if f.hiddenByStatus > 0 {
		text += fmt.Sprintf("; %d in other views (s)", f.hiddenByStatus)
	}
	if f.hiddenByConfidence > 0 {
		text += fmt.Sprintf("; %d more at lower confidence (f)", f.hiddenByConfidence)
	}
	return text
}

// setQuery lists the groups of base that contain q, starting from the longest
// earlier result whose query q extends.
func (f *groupFilter) setQuery(q string) {
	f.query = q
	if f.input.Value() != q { // typed: the input has it already, cursor and all
		f.input.SetValue(q)
	}
	norm := reconcile.SearchQuery(q)
	if norm == "" {
		f.steps, f.rows = nil, f.base
		return
	}
	n := len(f.steps)
	for n > 0 && !strings.HasPrefix(norm, f.steps[n-1].query) {
		n--
	}
	from := f.base
	if n > 0 {
		from = f.steps[n-1].rows
		if f.steps[n-1].query == norm {
			f.steps, f.rows = f.steps[:n:n], from
			return
		}
	}
	rows := f.narrow(from, norm)
	// The full slice expression makes append copy: earlier copies of the model
	// keep their own stack.
	f.steps = append(f.steps[:n:n], filterStep{query: norm, rows: rows})
	f.rows = rows
}

// narrow is the groups of from whose search text contains q. When all of them
// do (the first letters of most queries), it is from itself: results are never
// modified, so they may share.
func (f *groupFilter) narrow(from []int, q string) []int {
	for k, i := range from {
		if strings.Contains(f.index.group(i), q) {
			continue
		}
		rows := make([]int, k, len(from))
		copy(rows, from[:k])
		for _, i := range from[k+1:] {
			if strings.Contains(f.index.group(i), q) {
				rows = append(rows, i)
			}
		}
		return rows
	}
	return from
}

// rebase recomputes the groups that pass status and confidence, then the
// query over them.
func (f *groupFilter) rebase() {
	minRank := confidenceSteps[f.confidence].min.Rank()
	base := make([]int, 0, len(f.groups))
	for _, i := range f.sorted {
		g := &f.groups[i]
		if len(g.Charges) == 0 || (!f.pinned[g.ID] && (!f.view.shows(g) || g.Confidence.Rank() < minRank)) {
			continue
		}
		base = append(base, i)
	}
	f.base, f.steps = base, nil
	f.hiddenByStatus, f.hiddenByConfidence = 0, 0
	if len(base) == 0 {
		for i := range f.groups {
			g := &f.groups[i]
			if len(g.Charges) == 0 {
				continue
			}
			statusOK, confOK := f.view.shows(g), g.Confidence.Rank() >= minRank
			switch {
			case !statusOK && confOK:
				f.hiddenByStatus++
			case statusOK && !confOK:
				f.hiddenByConfidence++
			}
		}
	}
	f.setQuery(f.query)
}
