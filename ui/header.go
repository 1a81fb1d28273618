package ui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"

	"doublecheck/reconcile"
)

// header shows where the operator is (account, TEST or LIVE), how fresh the data
// is, and what is at stake: group counts and money at risk per currency.
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

	second := s.Muted.Render("loading…")
	if h.loaded {
		sum := h.summary
		counts := fmt.Sprintf("%s open  %s resolved  %s dismissed",
			s.Bold.Render(fmt.Sprint(sum.Open)), s.Bold.Render(fmt.Sprint(sum.Resolved)), s.Bold.Render(fmt.Sprint(sum.Dismissed)))
		if h.fresh > 0 {
			counts += "  " + s.New.Render(fmt.Sprintf("%d new", h.fresh))
		}
		var risk []string
		for _, c := range sum.ByCurrency {
			if c.AtRisk > 0 {
				risk = append(risk, s.Money.Render(reconcile.FormatMoney(c.AtRisk, c.Currency)))
			}
		}
		atRisk := s.Muted.Render("at risk ") + orText(strings.Join(risk, s.Muted.Render(" · ")), s.Resolved.Render("nothing"))
		second = spread(counts, atRisk, h.width)
	}
	return s.Header.Width(h.width).Render(fit(first, h.width) + "\n" + fit(second, h.width))
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

// spread puts left and right on one line of width w, right aligned; left wins
// when they do not both fit.
func spread(left, right string, w int) string {
	gap := w - lipgloss.Width(left) - lipgloss.Width(right)
	if gap < 1 {
		return left
	}
	return left + strings.Repeat(" ", gap) + right
}
