package ui

import (
	"fmt"
	"slices"
	"strings"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// confirmWord is what a live-mode operator types to let money move.
const confirmWord = "refund"

func orText(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

// dialogResult is what a key did to a dialog.
type dialogResult int

const (
	dialogOpen dialogResult = iota
	dialogCancelled
	dialogConfirmed
)

// refundDialog asks before any money moves. Cancel is focused by default; in
// test mode `y` confirms, in live mode, and whenever a low-confidence group is
// in the batch, only the typed word followed by enter does. Every charge is
// listed in a scrolling body, and confirming stays off until the operator has
// seen the end of it.
type refundDialog struct {
	styles *Styles
	keys   confirmKeys
	plan   reconcile.RefundPlan
	live   bool
	dryRun bool
	typed  bool // the word must be typed: live mode or a low-confidence group
	input  textinput.Model
	onOK   bool // the Refund button has focus (test mode); false means Cancel
	body   viewport.Model
	// seenAll turns true once the end of the listing has been on screen, and
	// stays true.
	seenAll bool
	compact bool // no blank separator lines: the terminal is short
	width   int
	height  int
}

// confirmKeys are the refund dialog's keys.
type confirmKeys struct {
	Confirm, ConfirmTyped, Cancel, SwitchButton, Press key.Binding
	Up, Down, PageUp, PageDown                         key.Binding // the listing
}

func defaultConfirmKeys() confirmKeys {
	return confirmKeys{
		Confirm:      key.NewBinding(key.WithKeys("y", "Y"), key.WithHelp("y", "refund")),
		ConfirmTyped: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "confirm (type refund)")),
		Cancel:       key.NewBinding(key.WithKeys("esc", "n", "N"), key.WithHelp("n/esc", "cancel")),
		SwitchButton: key.NewBinding(key.WithKeys("tab", "shift+tab", "left", "right", "h", "l"), key.WithHelp("tab", "switch")),
		Press:        key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "press button")),
		Up:           key.NewBinding(key.WithKeys("k", "up"), key.WithHelp("↑/k", "scroll up")),
		Down:         key.NewBinding(key.WithKeys("j", "down"), key.WithHelp("↑/↓", "scroll")),
		PageUp:       key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup", "page up")),
		PageDown:     key.NewBinding(key.WithKeys("pgdown"), key.WithHelp("pgdn", "page down")),
	}
}

func newRefundDialog(styles *Styles, plan reconcile.RefundPlan, live, dryRun bool) refundDialog {
	d := refundDialog{styles: styles, keys: defaultConfirmKeys(), plan: plan, live: live, dryRun: dryRun,
		typed: live || plan.Low > 0, input: newInput(styles, "type "+confirmWord), body: viewport.New(0, 0)}
	d.body.KeyMap = viewport.KeyMap{} // scrolling goes through the dialog's own keys
	if d.typed {
		d.input.Focus()
	}
	d.updateKeys()
	return d
}

// updateKeys enables exactly the keys that act now: y in test mode once the
// end of the listing was seen, the typed word otherwise, scrolling when the
// listing does not fit.
func (d *refundDialog) updateKeys() {
	d.keys.Confirm.SetEnabled(!d.typed && d.seenAll)
	d.keys.ConfirmTyped.SetEnabled(d.typed)
	d.keys.SwitchButton.SetEnabled(!d.typed)
	d.keys.Press.SetEnabled(!d.typed)
	for _, b := range []*key.Binding{&d.keys.Up, &d.keys.Down, &d.keys.PageUp, &d.keys.PageDown} {
		b.SetEnabled(d.scrollable())
	}
}

// newInput is a text input in the dashboard's colours with a steady cursor: no
// blink timers to manage.
func newInput(styles *Styles, placeholder string) textinput.Model {
	in := textinput.New()
	in.Placeholder = placeholder
	in.Prompt = "> "
	in.PromptStyle, in.PlaceholderStyle, in.TextStyle = styles.Title, styles.Muted, styles.Value
	in.CharLimit = 200
	in.Cursor.SetMode(cursor.CursorStatic)
	return in
}

// SetSize fits the dialog in width×height: the title, the totals and the buttons
// always show, and the listing scrolls in what is left. After a resize the end
// of the listing counts as seen only if it is on screen now: a listing that no
// longer fits must be scrolled to its end again before it can be confirmed.
func (d *refundDialog) SetSize(width, height int) {
	resized := width != d.width || height != d.height
	d.width, d.height = width, height
	frame := d.frame()
	inner := d.innerWidth()
	listing := d.listing(inner)
	d.compact = false
	if height-frame.GetVerticalFrameSize()-len(d.head())-len(d.tail(true)) < 3 {
		d.compact = true // the listing needs the room more than the blank lines do
	}
	plain := len(d.tail(false))
	avail := height - frame.GetVerticalFrameSize() - len(d.head()) - plain
	rows := len(listing)
	if rows > avail { // the scroll hint takes room too
		rows = avail - (len(d.tail(true)) - plain)
	}
	d.body.Width, d.body.Height = inner, max(rows, 1)
	d.body.SetContent(strings.Join(listing, "\n"))
	d.seenAll = d.body.AtBottom() || (d.seenAll && !resized)
	d.updateKeys()
}

func (d *refundDialog) frame() lipgloss.Style {
	if d.live {
		return d.styles.DialogLive
	}
	return d.styles.Dialog
}

func (d *refundDialog) innerWidth() int {
	return max(min(d.width-d.frame().GetHorizontalFrameSize(), 90), 20)
}

// scrollable is whether the listing is taller than the room it has.
func (d *refundDialog) scrollable() bool { return d.body.TotalLineCount() > d.body.Height }

func (d refundDialog) Update(msg tea.Msg) (refundDialog, dialogResult, tea.Cmd) {
	result, cmd := d.update(msg)
	d.updateKeys()
	return d, result, cmd
}

func (d *refundDialog) update(msg tea.Msg) (dialogResult, tea.Cmd) {
	km, ok := msg.(tea.KeyMsg)
	if !ok {
		return dialogOpen, nil
	}
	switch {
	case key.Matches(km, d.keys.Up):
		d.body.ScrollUp(1)
		return dialogOpen, nil
	case key.Matches(km, d.keys.PageUp):
		d.body.PageUp()
		return dialogOpen, nil
	case key.Matches(km, d.keys.Down):
		d.body.ScrollDown(1)
		d.seenAll = d.seenAll || d.body.AtBottom()
		return dialogOpen, nil
	case key.Matches(km, d.keys.PageDown):
		d.body.PageDown()
		d.seenAll = d.seenAll || d.body.AtBottom()
		return dialogOpen, nil
	}
	if d.typed {
		switch {
		case km.Type == tea.KeyEsc:
			return dialogCancelled, nil
		case key.Matches(km, d.keys.Cancel) && d.input.Value() == "":
			return dialogCancelled, nil
		case key.Matches(km, d.keys.ConfirmTyped):
			switch {
			case strings.TrimSpace(d.input.Value()) != confirmWord:
				return dialogCancelled, nil // a stray enter
			case d.seenAll:
				return dialogConfirmed, nil
			}
			return dialogOpen, nil // the hint says to scroll to the end first
		}
		var cmd tea.Cmd
		d.input, cmd = d.input.Update(msg)
		return dialogOpen, cmd
	}
	switch {
	case key.Matches(km, d.keys.Confirm):
		// The dialog itself refuses, whatever key bindings allow: a refund
		// is confirmed only with the end of its listing seen.
		if d.seenAll {
			return dialogConfirmed, nil
		}
	case key.Matches(km, d.keys.Cancel):
		return dialogCancelled, nil
	case key.Matches(km, d.keys.SwitchButton):
		d.onOK = !d.onOK
	case key.Matches(km, d.keys.Press):
		switch {
		case !d.onOK:
			return dialogCancelled, nil
		case d.seenAll:
			return dialogConfirmed, nil
		}
	}
	return dialogOpen, nil
}

// head is the fixed top: what is asked, the mode, and the warnings.
func (d *refundDialog) head() []string {
	s := d.styles
	n := len(d.plan.Requests)
	title := fmt.Sprintf("Refund %s in %s?", reconcile.Plural(n, "duplicate charge"), reconcile.Plural(d.plan.Groups, "group"))
	mode := s.TestBadge.Render("TEST MODE")
	if d.live {
		mode = s.LiveBadge.Render("LIVE MODE — real money")
	}
	lines := []string{s.DialogTitle.Render(title) + "  " + mode}
	if d.dryRun {
		lines = append(lines, s.Warn.Render("dry run: nothing will be sent to "+planProviders(d.plan)+" or recorded (a rehearsal)"))
	}
	if d.plan.Low > 0 {
		lines = append(lines, s.Error.Render(fmt.Sprintf("%s: likely separate purchases, read each before refunding",
			reconcile.Plural(d.plan.Low, "low-confidence group"))))
	}
	return d.wrap(append(lines, d.gap()...))
}

// gap is a blank separator line, left out on a terminal too short for it.
func (d *refundDialog) gap() []string {
	if d.compact {
		return nil
	}
	return []string{""}
}

// wrap breaks the fixed lines at the dialog's inner width: the frame grows to
// its widest line, and a frame wider than the terminal loses its right border.
func (d *refundDialog) wrap(lines []string) []string {
	width := d.innerWidth()
	var out []string
	for _, l := range lines {
		out = append(out, strings.Split(ansi.Wrap(l, width, ""), "\n")...)
	}
	return out
}

// tail is the fixed bottom: the total, the scroll hint and the way to confirm.
func (d *refundDialog) tail(hint bool) []string {
	s := d.styles
	lines := append(d.gap(), s.Bold.Render("total to refund: ")+s.Money.Render(orText(reconcile.FormatTotals(d.plan.Totals, " · "), "nothing")))
	if hint {
		if below := d.body.TotalLineCount() - d.body.YOffset - d.body.Height; below > 0 && !d.seenAll {
			lines = append(lines, s.Warn.Render(fmt.Sprintf("↓ %s: scroll to the end (j/↓) to confirm", reconcile.Plural(below, "more line"))))
		} else {
			lines = append(lines, s.Muted.Render(fmt.Sprintf("lines %d–%d of %d (j/k scroll)", d.body.YOffset+1,
				min(d.body.YOffset+d.body.Height, d.body.TotalLineCount()), d.body.TotalLineCount())))
		}
	}
	lines = append(lines, d.gap()...)
	if d.typed {
		why := "Type " + confirmWord + " and press enter to send; esc cancels."
		if !d.live {
			why = "A low-confidence group is in this batch: type " + confirmWord + " and press enter to send; esc cancels."
		}
		return d.wrap(append(lines, s.Error.Render(why), d.input.View()))
	}
	// Brackets mark the focused button without colour too.
	cancel, ok := s.ButtonFocused.Render("[Cancel]"), s.Button.Render(" Refund ")
	if d.onOK {
		cancel, ok = s.Button.Render(" Cancel "), s.ButtonFocused.Render("[Refund]")
	}
	keys := "   y refund · n/esc cancel"
	if !d.seenAll {
		keys = "   n/esc cancel"
	}
	return d.wrap(append(lines, lipgloss.JoinHorizontal(lipgloss.Top, cancel, "  ", ok)+s.Muted.Render(keys)))
}

// listing is every line of the plan, per group: its confidence and headline
// (with a warning for a low-confidence one), the kept charge, the charges to
// refund and those skipped with the reason.
func (d *refundDialog) listing(width int) []string {
	s := d.styles
	var out []string
	wrapped := func(style lipgloss.Style, indent, text string) {
		for _, l := range strings.Split(ansi.Wrap(text, max(width-len(indent), 10), ""), "\n") {
			out = append(out, indent+style.Render(l))
		}
	}
	for _, l := range d.plan.Lines {
		money := cellRight(reconcile.FormatMoney(l.Amount, l.Currency), 14)
		switch l.Kind {
		case reconcile.PlanGroup:
			out = append(out, fit(s.Title.Render(l.GroupID)+"  "+confidenceStyle(s, l.Confidence).Render(string(l.Confidence))+
				s.Muted.Render(" confidence"), width))
			if l.Confidence == reconcile.Low {
				wrapped(s.Error, "  ", "LOW CONFIDENCE: likely a separate purchase — "+strings.TrimPrefix(l.Reason, "likely legitimate: "))
			} else {
				wrapped(s.Muted, "  ", l.Reason)
			}
		case reconcile.PlanKeep:
			out = append(out, fit("  "+s.Keep.Render("keep  ")+" "+cell(l.ChargeID, 28)+" "+money+"  "+l.Customer, width))
		case reconcile.PlanRefund:
			out = append(out, fit("  "+s.Duplicate.Render("refund")+" "+cell(l.ChargeID, 28)+" "+money+"  "+l.Customer, width))
		case reconcile.PlanResume:
			out = append(out, fit("  "+s.Duplicate.Render("finish")+" "+cell(l.ChargeID, 28)+" "+money+"  "+s.Warn.Render("refund in progress: finished with its own key"), width))
		case reconcile.PlanDone:
			out = append(out, fit("  "+s.Muted.Render("done  ")+" "+cell(l.ChargeID, 28)+" "+money+"  "+s.Muted.Render(strings.TrimSpace(l.Reason+" "+l.RefundID)), width))
		default:
			out = append(out, fit("  "+s.Muted.Render("skip  ")+" "+cell(l.ChargeID, 28)+" "+money+"  "+s.Warn.Render(l.Reason), width))
		}
	}
	return out
}

func (d refundDialog) View() string {
	lines := append(d.head(), d.body.View())
	lines = append(lines, d.tail(d.scrollable())...)
	return d.frame().Render(strings.Join(lines, "\n"))
}

// ShortHelp is the dialog's keys that work now (y in test mode, the typed
// word otherwise, scrolling when the list does not fit, confirming once its end
// was seen).
func (d refundDialog) ShortHelp() []key.Binding {
	cancel, scroll := d.keys.Cancel, d.keys.Down
	if d.typed {
		cancel.SetHelp("esc", "cancel") // n is only a letter of the typed word here
	}
	if !d.seenAll {
		scroll.SetHelp("↓/j", "scroll to the end to confirm")
	}
	return []key.Binding{scroll, d.keys.Confirm, d.keys.ConfirmTyped, d.keys.Press, d.keys.SwitchButton, cancel}
}

// planProviders names the providers plan's refunds would go to: "Stripe",
// "PayPal and Adyen".
func planProviders(plan reconcile.RefundPlan) string {
	var names []string
	for _, p := range reconcile.Providers {
		if slices.ContainsFunc(plan.Requests, func(r reconcile.RefundRequest) bool { return r.Provider.Resolved() == p }) {
			names = append(names, p.Title())
		}
	}
	switch len(names) {
	case 0:
		return "the provider"
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}
