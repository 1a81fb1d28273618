package ui

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/charmbracelet/lipgloss"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// header shows where the operator is (account, TEST or LIVE), how fresh the data
// is, and what is at stake: group counts, money at risk, refunded and dismissed
// per currency, and the causes behind the groups.
type header struct {
	styles *Styles
	cfg    Config
	width  int

	loaded   bool
	summary  reconcile.Summary
	fresh    int    // new groups not viewed yet
	syncText string // the sync status's view: how fresh the data is

	// view is rendered when something shown changes, not on every frame: the
	// root measures the header after every message.
	view string
}

func newHeader(styles *Styles, cfg Config) header {
	h := header{styles: styles, cfg: cfg}
	h.view = h.render()
	return h
}

func (h *header) SetSize(width int) {
	if width != h.width {
		h.width = width
		h.view = h.render()
	}
}

// SetSummary shows a loaded report's summary.
func (h *header) SetSummary(s reconcile.Summary) {
	h.loaded, h.summary = true, s
	h.view = h.render()
}

// SetFresh shows how many new groups were not viewed yet.
func (h *header) SetFresh(n int) {
	if n != h.fresh {
		h.fresh = n
		h.view = h.render()
	}
}

// SetSync shows how fresh the data is.
func (h *header) SetSync(text string) {
	if text != h.syncText {
		h.syncText = text
		h.view = h.render()
	}
}

func (h header) View() string { return h.view }

func (h header) render() string {
	s := h.styles
	badge := s.TestBadge.Render("TEST")
	if h.cfg.Live {
		badge = s.LiveBadge.Render("LIVE")
	}
	if len(h.cfg.Badges) > 0 {
		var badges []string
		for _, b := range h.cfg.Badges {
			style := s.TestBadge
			if b.Live {
				style = s.LiveBadge
			}
			badges = append(badges, style.Render(b.Text))
		}
		badge = strings.Join(badges, " ")
	}
	left := s.Title.Render("doublecheck") + "  " + s.Bold.Render(orText(h.cfg.Account, "local store")) + "  " + badge
	if h.cfg.ReadOnly {
		left += " " + s.ModeBadge.Render("read-only")
	}
	if h.cfg.DryRun {
		left += " " + s.ModeBadge.Render("dry run")
	}
	first := spread(left, s.Muted.Render(h.syncText), h.width)

	lines := []string{first, s.Muted.Render("loading…")}
	if h.loaded {
		sum := h.summary
		counts := fmt.Sprintf("%s open  %s resolved  %s dismissed",
			s.Bold.Render(fmt.Sprint(sum.Open)), s.Bold.Render(fmt.Sprint(sum.Resolved)), s.Bold.Render(fmt.Sprint(sum.Dismissed)))
		if sum.Pending > 0 {
			counts = s.Warn.Render(fmt.Sprintf("%d pending", sum.Pending)) + "  " + counts
		}
		if h.fresh > 0 {
			counts += "  " + s.New.Render(fmt.Sprintf("%d new", h.fresh))
		}
		atRisk := h.perCurrency("at risk", func(c reconcile.CurrencyTotals) int64 { return c.AtRisk })
		lines = []string{first}
		// Money is never cut: when the counts and the risk do not fit on one line,
		// the risk gets lines of its own (the layout measures the header).
		if risk := h.moneyLines(h.width, atRisk); len(risk) == 1 && lipgloss.Width(counts)+1+lipgloss.Width(risk[0]) <= h.width {
			lines = append(lines, spread(counts, risk[0], h.width))
		} else {
			lines = append(append(lines, counts), risk...)
		}
		handled := h.moneyLines(h.width,
			h.perCurrency("refunded by doublecheck", func(c reconcile.CurrencyTotals) int64 { return c.RefundedByUs }),
			h.perCurrency("dismissed", func(c reconcile.CurrencyTotals) int64 { return c.Dismissed }))
		// The causes, the least important, take what room the last line leaves.
		handled[len(handled)-1] = spread(handled[len(handled)-1], h.causes(), h.width)
		lines = append(lines, handled...)
	}
	for i := range lines {
		lines[i] = fit(lines[i], h.width)
	}
	return s.Header.Width(h.width).Render(strings.Join(lines, "\n"))
}

// perCurrency is a labelled figure of the summary, one item per currency (the
// label goes with the first), or "nothing" when all are zero.
func (h header) perCurrency(label string, figure func(reconcile.CurrencyTotals) int64) []string {
	var items []string
	for _, c := range h.summary.ByCurrency {
		if v := figure(c); v > 0 {
			items = append(items, h.styles.Money.Render(reconcile.FormatMoney(v, c.Currency)))
		}
	}
	if len(items) == 0 {
		items = []string{h.styles.Resolved.Render("nothing")}
	}
	items[0] = h.styles.Muted.Render(label+" ") + items[0]
	return items
}

// moneyLines lays sections of money items out on lines of width w, filling each
// line and moving an item that does not fit whole to the next one: a figure is
// never cut.
func (h header) moneyLines(w int, sections ...[]string) []string {
	var lines []string
	line := ""
	for _, section := range sections {
		for i, item := range section {
			sep := "  " // between sections
			if i > 0 {
				sep = " · "
			}
			switch {
			case line == "":
				line = item
			case lipgloss.Width(line)+lipgloss.Width(sep)+lipgloss.Width(item) <= w:
				line += h.styles.Muted.Render(sep) + item
			default:
				lines, line = append(lines, line), item
			}
		}
	}
	return append(lines, line)
}

// causes counts the groups per cause, most frequent first, so engineering sees
// what to fix.
func (h header) causes() string {
	type count struct {
		cause reconcile.Cause
		n     int
	}
	var counts []count
	for c, n := range h.summary.Causes {
		if n > 0 {
			counts = append(counts, count{c, n})
		}
	}
	slices.SortFunc(counts, func(a, b count) int { return cmp.Or(b.n-a.n, strings.Compare(string(a.cause), string(b.cause))) })
	parts := make([]string, len(counts))
	for i, c := range counts {
		parts[i] = fmt.Sprintf("%s %s", string(c.cause), h.styles.Bold.Render(fmt.Sprint(c.n)))
	}
	if len(parts) == 0 {
		return ""
	}
	return h.styles.Muted.Render("causes ") + strings.Join(parts, h.styles.Muted.Render(" · "))
}

// spread puts left and right on one line of width w, right aligned; when they
// do not both fit, right is cut short, and dropped when too little room is left.
func spread(left, right string, w int) string {
	room := w - lipgloss.Width(left) - 1 // one space at least between them
	if room < minRightColumns || right == "" {
		return left
	}
	return left + " " + cellRight(right, room)
}

// minRightColumns is the least room worth showing a cut-short right side in.
const minRightColumns = 12
