package ui

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"

	"doublecheck/reconcile"
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
	fresh    int       // new groups not viewed yet
	syncing  bool      // a sync is running
	syncErr  error     // the last sync's failure, nil after a success
	lastSync time.Time // zero when never synced
	canSync  bool      // there is an account to sync
}

func (h *header) SetSize(width int) { h.width = width }

func (h header) View() string {
	s := h.styles
	badge := s.TestBadge.Render("TEST")
	if h.cfg.Live {
		badge = s.LiveBadge.Render("LIVE")
	}
	left := s.Title.Render("doublecheck") + "  " + s.Bold.Render(orText(h.cfg.Account, "local store")) + "  " + badge
	if h.cfg.ReadOnly {
		left += " " + s.ModeBadge.Render("read-only")
	}
	if h.cfg.DryRun {
		left += " " + s.ModeBadge.Render("dry run")
	}
	first := spread(left, s.Muted.Render(h.syncText()), h.width)

	lines := []string{first, s.Muted.Render("loading…")}
	if h.loaded {
		sum := h.summary
		counts := fmt.Sprintf("%s open  %s resolved  %s dismissed",
			s.Bold.Render(fmt.Sprint(sum.Open)), s.Bold.Render(fmt.Sprint(sum.Resolved)), s.Bold.Render(fmt.Sprint(sum.Dismissed)))
		if h.fresh > 0 {
			counts += "  " + s.New.Render(fmt.Sprintf("%d new", h.fresh))
		}
		atRisk := s.Muted.Render("at risk ") + h.perCurrency(func(c reconcile.CurrencyTotals) int64 { return c.AtRisk })
		handled := s.Muted.Render("refunded by doublecheck ") + h.perCurrency(func(c reconcile.CurrencyTotals) int64 { return c.RefundedByUs }) +
			s.Muted.Render("  dismissed ") + h.perCurrency(func(c reconcile.CurrencyTotals) int64 { return c.Dismissed })
		lines = []string{first, spread(counts, atRisk, h.width), spread(handled, h.causes(), h.width)}
	}
	for i := range lines {
		lines[i] = fit(lines[i], h.width)
	}
	return s.Header.Width(h.width).Render(strings.Join(lines, "\n"))
}

// perCurrency lists one figure of the summary per currency, "nothing" when all are zero.
func (h header) perCurrency(figure func(reconcile.CurrencyTotals) int64) string {
	var parts []string
	for _, c := range h.summary.ByCurrency {
		if v := figure(c); v > 0 {
			parts = append(parts, h.styles.Money.Render(reconcile.FormatMoney(v, c.Currency)))
		}
	}
	return orText(strings.Join(parts, h.styles.Muted.Render(" · ")), h.styles.Resolved.Render("nothing"))
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

func (h header) syncText() string {
	now := h.cfg.Now()
	switch {
	case !h.canSync:
		return "sync off: no account"
	case h.syncing:
		return "syncing…"
	case h.syncErr != nil:
		return "last sync failed"
	case h.lastSync.IsZero():
		return "never synced"
	}
	age := "just now"
	if d := now.Sub(h.lastSync); d >= time.Minute {
		age = reconcile.HumanDuration(d) + " ago"
	}
	text := "synced " + h.lastSync.Local().Format("15:04:05") + " (" + age + ")"
	if h.cfg.Watch > 0 {
		text += " · every " + h.cfg.Watch.String()
	}
	return text
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
