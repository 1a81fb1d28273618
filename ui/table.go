package ui

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// groupTable is a windowed list of groups: it keeps indices into the report's
// groups and renders only the rows that fit, so its cost does not grow with the
// number of groups (bubbles/table renders every row it is given).
type groupTable struct {
	styles *Styles
	keys   tableKeys

	groups []reconcile.Group // the loaded report's groups, never modified
	rows   []int             // indices into groups that pass the filters, in order
	cursor int               // index into rows
	offset int               // first row on screen

	// Group ids marked with space, and those that appeared in a reload and were
	// not viewed yet. Both are copied on write: a copy of the table (of the
	// model) keeps its own.
	marked map[string]bool
	fresh  map[string]bool

	width, height int             // inner size, column header included
	empty         string          // shown when there are no rows
	focused       bool            // the list, not the detail pane, has the keys
	escFree       bool            // esc is not taken by something before the table (an applied filter)
	justNow       map[string]bool // groups refunded in this session and listed until the cursor moves; read only
	sortColumn    string          // the column the rows are sorted by, "" for none
	sortArrow     string          // its direction
	showProvider  bool            // the store holds charges of more than one provider
}

// tableKeys are the list's keys.
type tableKeys struct {
	Up, Down, Top, Bottom, PageUp, PageDown key.Binding
	Focus                                   key.Binding // the detail pane
	Mark, ClearMarks                        key.Binding
}

func defaultTableKeys() tableKeys {
	return tableKeys{
		Up:         key.NewBinding(key.WithKeys("k", "up"), key.WithHelp("↑/k", "up")),
		Down:       key.NewBinding(key.WithKeys("j", "down"), key.WithHelp("↓/j", "down")),
		Top:        key.NewBinding(key.WithKeys("g", "home"), key.WithHelp("g", "top")),
		Bottom:     key.NewBinding(key.WithKeys("G", "end"), key.WithHelp("G", "bottom")),
		PageUp:     key.NewBinding(key.WithKeys("pgup", "ctrl+b"), key.WithHelp("pgup", "page up")),
		PageDown:   key.NewBinding(key.WithKeys("pgdown", "ctrl+f"), key.WithHelp("pgdn", "page down")),
		Focus:      key.NewBinding(key.WithKeys("enter", "tab"), key.WithHelp("enter/tab", "details")),
		Mark:       key.NewBinding(key.WithKeys(" "), key.WithHelp("space", "mark")),
		ClearMarks: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear marks")),
	}
}

func newGroupTable(styles *Styles) groupTable {
	t := groupTable{styles: styles, keys: defaultTableKeys(), marked: map[string]bool{}, fresh: map[string]bool{}, focused: true, escFree: true}
	t.updateKeys()
	return t
}

// tableEvent is what a key did to the table, for the root.
type tableEvent int

const (
	tableUnchanged   tableEvent = iota
	tableMoved                  // the selection or the marks changed
	tableFocusDetail            // enter/tab: the detail pane takes the keys
)

// SetSize sets the inner size (inside the pane border).
func (t *groupTable) SetSize(width, height int) {
	t.width, t.height = width, max(height, 2)
	t.clampOffset()
}

// SetRows replaces the rows, keeping the selection on the same group when it is
// still listed, else on the same row (the next group, after a refund resolved
// the selected one).
func (t *groupTable) SetRows(groups []reconcile.Group, rows []int) {
	selected := ""
	if g := t.Selected(); g != nil {
		selected = g.ID
	}
	t.groups, t.rows = groups, rows
	for i, gi := range rows {
		if groups[gi].ID == selected {
			t.cursor = i
			break
		}
	}
	t.clampOffset()
	t.updateKeys()
}

// SetFocus tells the table whether it has the keys, and whether esc reaches
// it (an applied filter takes esc first).
func (t *groupTable) SetFocus(focused, escFree bool) {
	t.focused, t.escFree = focused, escFree
	t.updateKeys()
}

// SetJustNow are the groups a refund of this session resolved that stay
// listed until the cursor moves (read only).
func (t *groupTable) SetJustNow(ids map[string]bool) { t.justNow = ids }

// SetSort names the column the rows are sorted by and its direction, for the
// column header's marker; "" for an order of several columns.
func (t *groupTable) SetSort(column, arrow string) { t.sortColumn, t.sortArrow = column, arrow }

// head is a column's name in the column header, with the sort's arrow.
func (t *groupTable) head(name string) string {
	if name == t.sortColumn {
		return name + " " + t.sortArrow
	}
	return name
}

// SetShowProvider shows the PROVIDER column: for a store holding charges of
// more than one provider (a store of one keeps its narrower layout).
func (t *groupTable) SetShowProvider(show bool) { t.showProvider = show }

// SetEmpty is what the table says when it lists nothing.
func (t *groupTable) SetEmpty(text string) { t.empty = text }

// Rows are the indices of the listed groups; the slice is never modified.
func (t *groupTable) Rows() []int { return t.rows }

// Position is the selected row counted from 1, 0 when the list is empty.
func (t *groupTable) Position() int {
	if len(t.rows) == 0 {
		return 0
	}
	return t.cursor + 1
}

// Height is the table's inner height.
func (t *groupTable) Height() int { return t.height }

// Selected is the group under the cursor, nil when the list is empty.
func (t *groupTable) Selected() *reconcile.Group {
	if t.cursor < 0 || t.cursor >= len(t.rows) {
		return nil
	}
	return &t.groups[t.rows[t.cursor]]
}

func (t *groupTable) pageRows() int { return max(t.height-1, 1) }

// Wants is whether msg is one of the table's live keys.
func (t *groupTable) Wants(msg tea.KeyMsg) bool {
	k := &t.keys
	return key.Matches(msg, k.Up, k.Down, k.Top, k.Bottom, k.PageUp, k.PageDown, k.Focus, k.Mark, k.ClearMarks)
}

// Update moves the cursor and marks groups; the event says what changed.
func (t groupTable) Update(msg tea.Msg) (groupTable, tableEvent) {
	event := t.update(msg)
	t.updateKeys()
	return t, event
}

func (t *groupTable) update(msg tea.Msg) tableEvent {
	km, ok := msg.(tea.KeyMsg)
	if !ok {
		return t.mouse(msg)
	}
	switch {
	case key.Matches(km, t.keys.Focus):
		return tableFocusDetail
	case key.Matches(km, t.keys.Mark):
		t.toggleMark()
		return tableMoved
	case key.Matches(km, t.keys.ClearMarks):
		t.marked = map[string]bool{}
		return tableMoved
	}
	if len(t.rows) == 0 {
		return tableUnchanged
	}
	before := t.cursor
	switch {
	case key.Matches(km, t.keys.Up):
		t.cursor--
	case key.Matches(km, t.keys.Down):
		t.cursor++
	case key.Matches(km, t.keys.PageUp):
		t.cursor -= t.pageRows()
	case key.Matches(km, t.keys.PageDown):
		t.cursor += t.pageRows()
	case key.Matches(km, t.keys.Top):
		t.cursor = 0
	case key.Matches(km, t.keys.Bottom):
		t.cursor = len(t.rows) - 1
	}
	t.moveTo(t.cursor)
	if t.cursor != before {
		return tableMoved
	}
	return tableUnchanged
}

// moveTo puts the cursor on row i (clamped) and counts the group there as viewed.
func (t *groupTable) moveTo(i int) {
	t.cursor = i
	t.clampOffset()
	if g := t.Selected(); g != nil {
		t.fresh = without(t.fresh, g.ID)
	}
}

// updateKeys enables exactly the keys that act now: moving through a listed
// group while the list has the keys; marking from either pane.
func (t *groupTable) updateKeys() {
	rows := len(t.rows) > 0
	for _, b := range []*key.Binding{&t.keys.Up, &t.keys.Down, &t.keys.Top, &t.keys.Bottom, &t.keys.PageUp, &t.keys.PageDown, &t.keys.Focus} {
		b.SetEnabled(t.focused && rows)
	}
	t.keys.Mark.SetEnabled(rows)
	t.keys.ClearMarks.SetEnabled(t.focused && t.escFree && len(t.marked) > 0)
}

// ShortHelp is the list's keys for the footer.
func (t groupTable) ShortHelp() []key.Binding {
	return []key.Binding{t.keys.Up, t.keys.Down, t.keys.Focus, t.keys.Mark, t.keys.ClearMarks}
}

// FullHelp is the list's columns of the `?` screen, every key as if a group
// were listed and marked: moving, then marking.
func (t groupTable) FullHelp() [][]key.Binding {
	k := defaultTableKeys()
	return [][]key.Binding{{k.Up, k.Down, k.Top, k.Bottom, k.PageUp, k.PageDown, k.Focus}, {k.Mark, k.ClearMarks}}
}

// Marked are the ids of the marked groups, in no order.
func (t *groupTable) Marked() []string {
	ids := make([]string, 0, len(t.marked))
	for id := range t.marked {
		ids = append(ids, id)
	}
	return ids
}

// MarkFresh marks groups new until they are viewed; FreshCount counts those.
func (t *groupTable) MarkFresh(ids []string) {
	if len(ids) == 0 {
		return
	}
	t.fresh = maps.Clone(t.fresh)
	for _, id := range ids {
		t.fresh[id] = true
	}
}

func (t *groupTable) FreshCount() int { return len(t.fresh) }

// MarkCount is how many groups are marked.
func (t *groupTable) MarkCount() int { return len(t.marked) }

// Forget drops the marks and the new flags of groups that are no longer loaded.
func (t *groupTable) Forget(loaded func(id string) bool) {
	gone := func(set map[string]bool) []string {
		var ids []string
		for id := range set {
			if !loaded(id) {
				ids = append(ids, id)
			}
		}
		return ids
	}
	t.fresh, t.marked = without(t.fresh, gone(t.fresh)...), without(t.marked, gone(t.marked)...)
	t.updateKeys()
}

// without is set less ids: set itself when it holds none of them, else a copy.
func without(set map[string]bool, ids ...string) map[string]bool {
	copied := false
	for _, id := range ids {
		if !set[id] {
			continue
		}
		if !copied {
			set, copied = maps.Clone(set), true
		}
		delete(set, id)
	}
	return set
}

// toggleMark marks or unmarks the selected group and moves down, like most
// file managers.
func (t *groupTable) toggleMark() {
	g := t.Selected()
	if g == nil {
		return
	}
	if t.marked[g.ID] {
		t.marked = without(t.marked, g.ID)
	} else {
		t.marked = maps.Clone(t.marked)
		t.marked[g.ID] = true
	}
	t.moveTo(t.cursor + 1)
}

// Unmark removes the marks of groups (settled by a refund or a decision).
func (t *groupTable) Unmark(groups []string) {
	t.marked = without(t.marked, groups...)
	t.updateKeys()
}

// clampOffset keeps the cursor on screen.
func (t *groupTable) clampOffset() {
	t.cursor = clamp(t.cursor, 0, max(len(t.rows)-1, 0))
	visible := t.pageRows()
	if t.cursor < t.offset {
		t.offset = t.cursor
	}
	if t.cursor >= t.offset+visible {
		t.offset = t.cursor - visible + 1
	}
	t.offset = clamp(t.offset, 0, max(len(t.rows)-visible, 0))
}

// column is one of the table's columns: its name in the column header, its
// text for a group, and whether it is right-aligned (money and counts).
type column struct {
	name  string
	text  func(g *reconcile.Group) string
	right bool
	width int
}

// Columns that give way, in this order, when REASON would get fewer than
// minReason columns: the amount of one charge (AT RISK and CHARGES say more),
// then the span, then the number of charges (the detail pane says both).
const minReason = 24

// layoutColumns are the columns that fit the width, each as wide as its
// header and the visible rows need (money is never cut); IDENTITY is capped to
// a fifth of the width, and REASON, last, gets the width that is left.
func (t *groupTable) layoutColumns() []column {
	cols := []column{
		{name: "CONF", text: func(g *reconcile.Group) string { return string(g.Confidence) }},
		{name: "STATUS", text: t.statusText},
	}
	if t.showProvider {
		cols = append(cols, column{name: "PROVIDER", text: func(g *reconcile.Group) string { return g.Provider().Title() }})
	}
	cols = append(cols, []column{
		{name: "IDENTITY", text: func(g *reconcile.Group) string { return g.Identity }},
		{name: "AT RISK", text: atRiskText, right: true},
		{name: "AMOUNT", text: func(g *reconcile.Group) string { return reconcile.FormatMoney(g.Amount, g.Currency) }, right: true},
		{name: "CHARGES", text: func(g *reconcile.Group) string { return strconv.Itoa(len(g.Charges)) }, right: true},
		{name: "SPAN", text: func(g *reconcile.Group) string { return reconcile.HumanDuration(g.Span()) }, right: true},
		{name: latestColumn, text: func(g *reconcile.Group) string { return latest(g).UTC().Format("01-02 15:04") }},
	}...)
	end := min(t.offset+t.pageRows(), len(t.rows))
	used := len(gutter)
	for i := range cols {
		c := &cols[i]
		c.width = lipgloss.Width(t.head(c.name))
		for _, gi := range t.rows[t.offset:end] {
			c.width = max(c.width, lipgloss.Width(c.text(&t.groups[gi])))
		}
		if c.name == "IDENTITY" {
			c.width = min(c.width, max(t.width/5, 10))
		}
		used += c.width + 1
	}
	for _, drop := range []string{"AMOUNT", "SPAN", "CHARGES"} {
		if t.width-used >= minReason {
			break
		}
		if drop == t.sortColumn {
			continue // the order must stay visible
		}
		i := slices.IndexFunc(cols, func(c column) bool { return c.name == drop })
		used -= cols[i].width + 1
		cols = slices.Delete(cols, i, i+1)
	}
	reason := column{name: "REASON", text: (*reconcile.Group).Headline, width: max(t.width-used, 0)}
	return append(cols, reason)
}

// statusText is the group's status, "resolved just now" for a group resolved
// by a refund of this session that is listed only until the cursor moves.
func (t *groupTable) statusText(g *reconcile.Group) string {
	if g.Status == reconcile.Resolved && t.justNow[g.ID] {
		return "resolved just now"
	}
	return string(g.Status)
}

// latestColumn is the latest charge's column: its zone is in its name.
const latestColumn = "LATEST UTC"

// gutter is the three columns before the first: the cursor, the mark and new.
const gutter = "   "

// atRiskText is the money the group puts at risk, "—" for a group that needs
// no action (resolved or dismissed).
func atRiskText(g *reconcile.Group) string {
	if !g.NeedsAction() {
		return "—"
	}
	risk := g.AtRisk()
	if risk == 0 && disputedOnly(g) {
		// Taken twice and not given back, but a dispute decides it, not a refund.
		return "disputed"
	}
	return reconcile.FormatMoney(risk, g.Currency)
}

// disputedOnly is whether every duplicate of g left to settle is disputed.
func disputedOnly(g *reconcile.Group) bool {
	disputed := false
	for i := range g.Charges {
		m := &g.Charges[i]
		if m.Role != reconcile.Duplicate || m.DismissedAsLegitimate() || m.AmountRefunded >= m.Amount {
			continue
		}
		if !m.Disputed {
			return false
		}
		disputed = true
	}
	return disputed
}

// View renders the column header and the visible rows only.
func (t groupTable) View() string {
	if t.width <= 0 {
		return ""
	}
	cols := t.layoutColumns()
	header := make([]string, len(cols))
	for i, c := range cols {
		header[i] = align(t.head(c.name), c.width, c.right)
	}
	lines := make([]string, 0, t.height)
	lines = append(lines, t.styles.ColumnHeader.Render(fit(gutter+strings.Join(header, " "), t.width)))
	if len(t.rows) == 0 {
		lines = append(lines, t.styles.Muted.Render(fit(gutter+t.empty, t.width)))
	}
	end := min(t.offset+t.pageRows(), len(t.rows))
	for i := t.offset; i < end; i++ {
		lines = append(lines, t.row(&t.groups[t.rows[i]], i == t.cursor, cols))
	}
	return strings.Join(lines, "\n")
}

func (t *groupTable) row(g *reconcile.Group, selected bool, cols []column) string {
	mark := []byte(gutter)
	if selected {
		mark[0] = '>'
	}
	if t.marked[g.ID] {
		mark[1] = '*'
	}
	if t.fresh[g.ID] {
		mark[2] = '+'
	}
	cells := make([]string, len(cols))
	for i, c := range cols {
		cells[i] = align(c.text(g), c.width, c.right)
	}
	text := fit(string(mark)+strings.Join(cells, " "), t.width)
	switch {
	case selected:
		return t.styles.RowSelected.Render(text)
	case t.fresh[g.ID]:
		return t.styles.New.Render(text)
	case g.Status == reconcile.Resolved:
		return t.styles.Resolved.Render(text)
	case g.Status == reconcile.Dismissed:
		return t.styles.Dismissed.Render(text)
	case g.Status == reconcile.Pending:
		return t.styles.Warn.Render(text)
	}
	return t.styles.Row.Render(text)
}

// align is cellRight when right, else cell.
func align(s string, w int, right bool) string {
	if right {
		return cellRight(s, w)
	}
	return cell(s, w)
}

// cell pads or truncates s to exactly w columns, left aligned.
func cell(s string, w int) string {
	if w <= 0 {
		return ""
	}
	s = ansi.Truncate(s, w, "…")
	return s + strings.Repeat(" ", w-lipgloss.Width(s))
}

// cellRight pads or truncates s to exactly w columns, right aligned.
func cellRight(s string, w int) string {
	if w <= 0 {
		return ""
	}
	s = ansi.Truncate(s, w, "…")
	return strings.Repeat(" ", w-lipgloss.Width(s)) + s
}

// fit pads or truncates a whole line to width w.
func fit(s string, w int) string { return cell(s, w) }

func clamp(v, lo, hi int) int { return max(lo, min(v, hi)) }
