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
	activity string // the latest thing another operator did, when one did

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

// SetActivity shows what another operator did last.
func (h *header) SetActivity(a Activity) {
	h.activity = "last: " + activityText(a)
	h.view = h.render()
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
	title := s.Title.Render("doublecheck") + "  " + s.Bold.Render(orText(h.cfg.Account, "local store"))
	modes := h.modes()
	if h.cfg.ReadOnly {
		modes += " " + s.ModeBadge.Render("read-only")
	}
	if h.cfg.DryRun {
		modes += " " + s.ModeBadge.Render("dry run")
	}
	// How fresh the data is comes first; what another operator did last, and
	// who works here, where the line has room for them.
	left, right := title+"  "+modes, s.Muted.Render(h.syncText)
	if h.activity != "" {
		if withActivity := s.Muted.Render(h.activity + " · " + h.syncText); lipgloss.Width(left)+2+lipgloss.Width(withActivity) <= h.width {
			right = withActivity
		}
	}
	if h.cfg.Operator != "" {
		if named := left + "  " + s.Muted.Render("as "+h.cfg.Operator); lipgloss.Width(named)+2+lipgloss.Width(right) <= h.width {
			left = named
		}
	}
	first := []string{spread(left, right, h.width)}
	if lipgloss.Width(title+"  "+modes) > h.width {
		// The modes are never cut (several providers' need room): they get a
		// line of their own.
		first = []string{spread(title, s.Muted.Render(h.syncText), h.width), modes}
	}

	lines := append(first, s.Muted.Render("loading…"))
	if h.loaded {
		sum := h.summary
		counts := fmt.Sprintf("%s open  %s resolved  %s dismissed",
			s.Bold.Render(fmt.Sprint(sum.Open)), s.Bold.Render(fmt.Sprint(sum.Resolved)), s.Bold.Render(fmt.Sprint(sum.Dismissed)))
		if sum.Received > 0 {
			counts = s.Warn.Render(fmt.Sprintf("%d received", sum.Received)) + "  " + counts
		}
		if sum.Pending > 0 {
			counts = s.Warn.Render(fmt.Sprintf("%d pending", sum.Pending)) + "  " + counts
		}
		if h.fresh > 0 {
			counts += "  " + s.New.Render(fmt.Sprintf("%d new", h.fresh))
		}
		atRisk := h.perCurrency("at risk", func(c reconcile.CurrencyTotals) int64 { return c.AtRisk })
		lines = first
		// Money is never cut: when the counts and the risk do not fit on one line,
		// the risk gets lines of its own (the layout measures the header).
		if risk := h.moneyLines(h.width, atRisk); len(risk) == 1 && lipgloss.Width(counts)+1+lipgloss.Width(risk[0]) <= h.width {
			lines = append(lines, spread(counts, risk[0], h.width))
		} else {
			lines = append(append(lines, counts), risk...)
		}
		handled := h.moneyLines(h.width,
			h.perCurrency("refunded by doublecheck", func(c reconcile.CurrencyTotals) int64 { return c.RefundedByUs }),
			h.awaiting(),
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

// modes is the mode badge: the account's TEST or LIVE for a store of Stripe
// charges only, else each provider's name with the modes of its charges
// (PayPal calls its test mode SANDBOX), so a live provider in a mixed store
// is never hidden. Live is always red.
func (h header) modes() string {
	s := h.styles
	ps := h.summary.Providers
	if !h.loaded || len(ps) == 0 || len(ps) == 1 && ps[0].Provider == reconcile.ProviderStripe {
		// Before the data says, the providers the dashboard is connected to
		// do (a PayPal account's SANDBOX before its first sync).
		if len(h.cfg.Providers) > 0 && !slices.Equal(h.cfg.Providers, []reconcile.Provider{reconcile.ProviderStripe}) {
			parts := make([]string, len(h.cfg.Providers))
			for i, p := range h.cfg.Providers {
				badge := s.TestBadge.Render(modeName(p, false))
				if h.cfg.Live {
					badge = s.LiveBadge.Render(modeName(p, true))
				}
				parts[i] = s.Bold.Render(p.Title()) + " " + badge
			}
			return strings.Join(parts, "  ")
		}
		if h.cfg.Live {
			return s.LiveBadge.Render("LIVE")
		}
		return s.TestBadge.Render("TEST")
	}
	parts := make([]string, len(ps))
	for i, pc := range ps {
		var badges []string
		if pc.Live > 0 {
			badges = append(badges, s.LiveBadge.Render(modeName(pc.Provider, true)))
		}
		if pc.Test > 0 {
			badges = append(badges, s.TestBadge.Render(modeName(pc.Provider, false)))
		}
		parts[i] = s.Bold.Render(pc.Provider.Title()) + " " + strings.Join(badges, " ")
	}
	return strings.Join(parts, "  ")
}

// modeName is the provider's own name for a mode: LIVE, else TEST (SANDBOX
// at PayPal).
func modeName(p reconcile.Provider, live bool) string {
	switch {
	case live:
		return "LIVE"
	case p.Resolved() == reconcile.ProviderPayPal:
		return "SANDBOX"
	}
	return "TEST"
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

// awaiting is the money refunded through doublecheck that its provider
// received and has yet to confirm, per currency; nothing when there is none.
func (h header) awaiting() []string {
	if !slices.ContainsFunc(h.summary.ByCurrency, func(c reconcile.CurrencyTotals) bool { return c.AwaitingConfirmation > 0 }) {
		return nil
	}
	return h.perCurrency("awaiting confirmation", func(c reconcile.CurrencyTotals) int64 { return c.AwaitingConfirmation })
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
