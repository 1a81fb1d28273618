package ui

import (
	"fmt"
	"sort"
	"strings"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"doublecheck/reconcile"
)

// confirmWord is what a live-mode operator types to let money move.
const confirmWord = "refund"

// refundPlan is what `r` would do: the requests to send, the charges kept, the
// suspects skipped with the reason, and the total per currency.
type refundPlan struct {
	Requests []RefundRequest
	Lines    []planLine
	Totals   []moneyTotal
	Groups   int
}

// planLine is one line of the dialog's listing.
type planLine struct {
	Kind     string // "keep", "refund" or "skip"
	GroupID  string
	ChargeID string
	Amount   int64
	Currency string
	Customer string
	Reason   string // why a skipped suspect is skipped
}

type moneyTotal struct {
	Currency string
	Amount   int64
}

// planRefunds lists what refunding groups would do. Only open groups' suspects
// with something left to refund become requests; everything else is listed as
// skipped with the reason, so the operator sees the whole picture.
func planRefunds(groups []*reconcile.Group, operator string) refundPlan {
	var p refundPlan
	totals := map[string]int64{}
	for _, g := range groups {
		p.Groups++
		kept := &g.Charges[0]
		p.Lines = append(p.Lines, planLine{Kind: "keep", GroupID: g.ID, ChargeID: kept.ID,
			Amount: kept.Amount, Currency: kept.Currency, Customer: customerOf(kept)})
		for i := range g.Charges {
			m := &g.Charges[i]
			if m.Role != reconcile.Duplicate {
				continue
			}
			line := planLine{Kind: "refund", GroupID: g.ID, ChargeID: m.ID, Amount: m.Refundable,
				Currency: m.Currency, Customer: customerOf(m)}
			switch {
			case g.Status != reconcile.Open:
				line.Kind, line.Amount, line.Reason = "skip", m.Unrefunded(), "group is "+string(g.Status)
			case m.Refundable <= 0:
				line.Kind, line.Amount, line.Reason = "skip", m.Unrefunded(), orText(m.NotRefundable, "nothing left to refund")
			default:
				p.Requests = append(p.Requests, RefundRequest{GroupID: g.ID, ChargeID: m.ID, KeptChargeID: kept.ID,
					Amount: m.Refundable, RefundedBefore: m.AlreadyRefunded(), Currency: m.Currency, Operator: operator})
				totals[m.Currency] += m.Refundable
			}
			p.Lines = append(p.Lines, line)
		}
	}
	for cur, amount := range totals {
		p.Totals = append(p.Totals, moneyTotal{Currency: cur, Amount: amount})
	}
	sort.Slice(p.Totals, func(i, j int) bool { return p.Totals[i].Currency < p.Totals[j].Currency })
	return p
}

func customerOf(m *reconcile.Member) string {
	switch {
	case m.Customer != "":
		return m.Customer
	case m.Email != "":
		return m.Email
	}
	return "guest"
}

func orText(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

func formatTotals(totals []moneyTotal) string {
	parts := make([]string, len(totals))
	for i, t := range totals {
		parts[i] = reconcile.FormatMoney(t.Amount, t.Currency)
	}
	return strings.Join(parts, " · ")
}

// dialogResult is what a key did to a dialog.
type dialogResult int

const (
	dialogOpen dialogResult = iota
	dialogCancelled
	dialogConfirmed
)

// refundDialog asks before any money moves. Cancel is focused by default; in
// test mode `y` confirms, in live mode only the typed word followed by enter does.
type refundDialog struct {
	styles *Styles
	keys   *KeyMap
	plan   refundPlan
	live   bool
	dryRun bool
	input  textinput.Model
	onOK   bool // the Refund button has focus (test mode); false means Cancel
	width  int
	height int
}

func newRefundDialog(styles *Styles, keys *KeyMap, plan refundPlan, live, dryRun bool) refundDialog {
	d := refundDialog{styles: styles, keys: keys, plan: plan, live: live, dryRun: dryRun, input: newInput(styles, "type "+confirmWord)}
	if live {
		d.input.Focus()
	}
	return d
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

func (d *refundDialog) SetSize(width, height int) { d.width, d.height = width, height }

func (d refundDialog) Update(msg tea.Msg) (refundDialog, dialogResult, tea.Cmd) {
	km, ok := msg.(tea.KeyMsg)
	if !ok {
		return d, dialogOpen, nil
	}
	if d.live {
		switch {
		case km.Type == tea.KeyEsc:
			return d, dialogCancelled, nil
		case key.Matches(km, d.keys.Cancel) && d.input.Value() == "":
			return d, dialogCancelled, nil
		case key.Matches(km, d.keys.ConfirmTyped):
			if strings.TrimSpace(d.input.Value()) == confirmWord {
				return d, dialogConfirmed, nil
			}
			return d, dialogCancelled, nil
		}
		var cmd tea.Cmd
		d.input, cmd = d.input.Update(msg)
		return d, dialogOpen, cmd
	}
	switch {
	case key.Matches(km, d.keys.Confirm):
		return d, dialogConfirmed, nil
	case key.Matches(km, d.keys.Cancel):
		return d, dialogCancelled, nil
	case key.Matches(km, d.keys.SwitchButton):
		d.onOK = !d.onOK
	case key.Matches(km, d.keys.Press):
		if d.onOK {
			return d, dialogConfirmed, nil
		}
		return d, dialogCancelled, nil
	}
	return d, dialogOpen, nil
}

func (d refundDialog) View() string {
	s := d.styles
	frame := s.Dialog
	if d.live {
		frame = s.DialogLive
	}
	inner := max(min(d.width-frame.GetHorizontalFrameSize(), 90), 20)

	n := len(d.plan.Requests)
	title := fmt.Sprintf("Refund %d duplicate %s in %d %s?", n, plural(n, "charge", "charges"),
		d.plan.Groups, plural(d.plan.Groups, "group", "groups"))
	var lines []string
	mode := s.TestBadge.Render("TEST MODE")
	if d.live {
		mode = s.LiveBadge.Render("LIVE MODE — real money")
	}
	lines = append(lines, s.DialogTitle.Render(title)+"  "+mode)
	if d.dryRun {
		lines = append(lines, s.Warn.Render("dry run: nothing will be sent to Stripe; doublecheck only records what it would refund"))
	}
	lines = append(lines, "")

	var listing []string
	for _, l := range d.plan.Lines {
		money := cellRight(reconcile.FormatMoney(l.Amount, l.Currency), 14)
		switch l.Kind {
		case "keep":
			listing = append(listing, s.Keep.Render("keep  ")+" "+cell(l.ChargeID, 28)+" "+money+"  "+l.Customer+s.Muted.Render("  ("+l.GroupID+")"))
		case "refund":
			listing = append(listing, s.Duplicate.Render("refund")+" "+cell(l.ChargeID, 28)+" "+money+"  "+l.Customer)
		default:
			listing = append(listing, s.Muted.Render("skip  ")+" "+cell(l.ChargeID, 28)+" "+money+"  "+s.Warn.Render(l.Reason))
		}
	}
	tail := []string{"", s.Bold.Render("total to refund: ") + s.Money.Render(orText(formatTotals(d.plan.Totals), "nothing")), ""}
	if d.live {
		tail = append(tail, s.Error.Render("Type "+confirmWord+" and press enter to send; esc cancels."), d.input.View())
	} else {
		// Brackets mark the focused button without colour too.
		cancel, ok := s.ButtonFocused.Render("[Cancel]"), s.Button.Render(" Refund ")
		if d.onOK {
			cancel, ok = s.Button.Render(" Cancel "), s.ButtonFocused.Render("[Refund]")
		}
		tail = append(tail, lipgloss.JoinHorizontal(lipgloss.Top, cancel, "  ", ok)+s.Muted.Render("   y refund · n/esc cancel"))
	}
	// Keep the dialog on screen: the title, the totals and the buttons always show,
	// the listing gets what is left.
	room := max(d.height-frame.GetVerticalFrameSize()-len(lines)-len(tail), 1)
	if len(listing) > room {
		more := len(listing) - room + 1
		listing = append(listing[:room-1], s.Muted.Render(fmt.Sprintf("… and %d more lines", more)))
	}
	for _, l := range listing {
		lines = append(lines, fit(l, inner))
	}
	lines = append(lines, tail...)
	return frame.Render(strings.Join(lines, "\n"))
}

// ShortHelp is the dialog's own keys; the KeyMap state leaves only those that
// work in this mode (y in test mode, the typed word in live mode).
func (d refundDialog) ShortHelp() []key.Binding {
	cancel := d.keys.Cancel
	if d.live {
		cancel.SetHelp("esc", "cancel") // n is only a letter of the typed word here
	}
	return []key.Binding{d.keys.Confirm, d.keys.ConfirmTyped, d.keys.Press, d.keys.SwitchButton, cancel}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// noteDialog asks for the optional note of a dismissal.
type noteDialog struct {
	styles *Styles
	keys   *KeyMap
	title  string
	input  textinput.Model
	width  int
}

func newNoteDialog(styles *Styles, keys *KeyMap, groups int) (noteDialog, tea.Cmd) {
	d := noteDialog{styles: styles, keys: keys, input: newInput(styles, "optional note, e.g. repeat purchase confirmed by customer"),
		title: fmt.Sprintf("Dismiss %d %s as legitimate", groups, plural(groups, "group", "groups"))}
	cmd := d.input.Focus()
	return d, cmd
}

func (d *noteDialog) SetSize(width int) {
	d.width = width
	d.input.Width = max(min(width-12, 70), 10)
}

func (d noteDialog) Update(msg tea.Msg) (noteDialog, dialogResult, tea.Cmd) {
	if km, ok := msg.(tea.KeyMsg); ok {
		switch {
		case key.Matches(km, d.keys.Submit):
			return d, dialogConfirmed, nil
		case km.Type == tea.KeyEsc:
			return d, dialogCancelled, nil
		}
	}
	var cmd tea.Cmd
	d.input, cmd = d.input.Update(msg)
	return d, dialogOpen, cmd
}

func (d noteDialog) ShortHelp() []key.Binding { return []key.Binding{d.keys.Submit, d.keys.Cancel} }

func (d noteDialog) Note() string { return strings.TrimSpace(d.input.Value()) }

func (d noteDialog) View() string {
	s := d.styles
	return s.Dialog.Render(strings.Join([]string{
		s.DialogTitle.Render(d.title), "", d.input.View(), "",
		s.Muted.Render("enter dismiss · esc cancel"),
	}, "\n"))
}
