package reconcile

import "fmt"

// RefundRequest is one refund a plan asks the refund protocol to send (or to
// finish): the charge, the charge it duplicates, the group, the amount and the
// provider's idempotency key. It is the plan's unit, not a ledger row: the
// ledger's RefundIntent holds it and adds the operator, the status and the
// outcome.
type RefundRequest struct {
	Key          string
	ChargeID     string
	KeptChargeID string
	GroupID      string
	Amount       int64
	Currency     string
	Provider     Provider // the charge's; empty is Stripe
}

// PlanLineKind is what one line of a refund plan says.
type PlanLineKind string

const (
	PlanGroup  PlanLineKind = "group"  // a group: its confidence and headline
	PlanKeep   PlanLineKind = "keep"   // a kept charge, never refunded
	PlanRefund PlanLineKind = "refund" // a new refund to send
	PlanResume PlanLineKind = "resume" // a refund already in flight, finished with its stored key
	PlanDone   PlanLineKind = "done"   // a suspect already fully refunded: nothing to send
	PlanSkip   PlanLineKind = "skip"   // a suspect that cannot be refunded; Reason says why
)

// PlanLine is one line of what a refund would do, in the order it is listed.
type PlanLine struct {
	Kind       PlanLineKind
	GroupID    string
	ChargeID   string
	Amount     int64 // to refund (refund, resume), refunded (done), left unrefunded (skip), charged (keep)
	Currency   string
	Customer   string // the customer id, else the email, else "guest"
	Reason     string // a group's headline; why a suspect is skipped or done
	RefundID   string // of a done suspect that doublecheck refunded
	Confidence Confidence
}

// RefundPlan is what refunding some groups would do: the requests to send, one
// line per group and charge, and the total per currency of the requests.
type RefundPlan struct {
	Requests []RefundRequest
	Lines    []PlanLine
	Totals   map[string]int64 // per currency
	Groups   int
	Low      int // low-confidence groups: likely separate purchases
}

// PlanScope narrows a plan to one suspect and, optionally, to part of it.
// The whole remainder is asked for explicitly, never implied by a zero Amount:
// a mistyped amount must be refused, not turned into "all that is left".
type PlanScope struct {
	ChargeID string // only this suspect; "" plans every suspect of the groups
	// WholeRemainder refunds all that is left of each suspect planned; without
	// it, Amount (> 0, minor units) of ChargeID is refunded.
	WholeRemainder bool
	Amount         int64
}

// AllThatIsLeft is the scope of a plan that refunds every suspect of the
// groups in full.
var AllThatIsLeft = PlanScope{WholeRemainder: true}

// Sentences of plan lines.
const (
	planDismissed    = "the group was dismissed as legitimate"
	planNothingLeft  = "nothing is left to refund"
	planRefundedByUs = "already refunded by doublecheck"
	planRefundedElse = "already refunded outside doublecheck"
)

// PlanRefunds lists what refunding groups would do; the dashboard and the
// refund command both plan through it. A suspect with a refund in flight is
// planned as that refund, with its stored key, so it is finished rather than
// skipped or refunded again; an open group's refundable suspects become new
// requests keyed on what was refunded before (RefundKey); every other suspect
// is listed as done or skipped with the reason. With scope.ChargeID, only that
// suspect is planned; refusing a kept charge or an amount over what is left.
func PlanRefunds(groups []*Group, scope PlanScope) (RefundPlan, error) {
	switch {
	case scope.WholeRemainder && scope.Amount != 0:
		return RefundPlan{}, fmt.Errorf("a refund of all that is left cannot also be of %d minor units", scope.Amount)
	case !scope.WholeRemainder && scope.Amount <= 0:
		return RefundPlan{}, fmt.Errorf("a partial refund must be of 1 minor unit or more, not %d", scope.Amount)
	case !scope.WholeRemainder && scope.ChargeID == "":
		return RefundPlan{}, fmt.Errorf("a partial refund of %d minor units needs the charge it applies to", scope.Amount)
	}
	p := RefundPlan{Totals: map[string]int64{}}
	found := scope.ChargeID == ""
	for _, g := range groups {
		p.Groups++
		if g.Confidence == Low {
			p.Low++
		}
		p.Lines = append(p.Lines, PlanLine{Kind: PlanGroup, GroupID: g.ID, Confidence: g.Confidence, Reason: g.Headline()})
		for i := range g.Charges {
			m := &g.Charges[i]
			if scope.ChargeID != "" && m.ID != scope.ChargeID {
				if m.Role == Keep {
					p.Lines = append(p.Lines, keepLine(g, m))
				}
				continue
			}
			found = true
			if m.Role == Keep {
				if scope.ChargeID != "" {
					return RefundPlan{}, fmt.Errorf("charge %s is the charge kept in group %s (the customer's first payment for its order, or a separate purchase); refund its duplicates with --group %s", m.ID, g.ID, g.ID)
				}
				p.Lines = append(p.Lines, keepLine(g, m))
				continue
			}
			if err := p.planSuspect(g, m, scope.Amount); err != nil { // 0 only with WholeRemainder
				return RefundPlan{}, err
			}
		}
	}
	if !found {
		return RefundPlan{}, fmt.Errorf("charge %s is not in the groups planned", scope.ChargeID)
	}
	return p, nil
}

func keepLine(g *Group, m *Member) PlanLine {
	return PlanLine{Kind: PlanKeep, GroupID: g.ID, ChargeID: m.ID, Amount: m.Amount, Currency: m.Currency, Customer: m.customerLabel()}
}

// planSuspect adds the line (and the request, if any) of suspect m of g;
// amount > 0 refunds only that much, amount 0 all that is left (PlanRefunds
// has checked the scope).
func (p *RefundPlan) planSuspect(g *Group, m *Member, amount int64) error {
	line := PlanLine{GroupID: g.ID, ChargeID: m.ID, Currency: m.Currency, Customer: m.customerLabel()}
	switch {
	case len(m.InFlight) > 0:
		for _, rq := range m.InFlight {
			line.Kind, line.Amount = PlanResume, rq.Amount
			line.Reason = "a refund already in progress: finished with its own idempotency key"
			p.Requests = append(p.Requests, rq)
			p.Totals[rq.Currency] += rq.Amount
			p.Lines = append(p.Lines, line)
		}
		return nil
	case m.Refundable <= 0 && m.NotRefundable == notRefundableDone:
		line.Kind, line.Amount, line.Reason = PlanDone, m.AlreadyRefunded(), planRefundedElse
		if m.RefundID != "" {
			line.Reason, line.RefundID = planRefundedByUs, m.RefundID
		}
	case m.Refundable <= 0:
		line.Kind, line.Amount, line.Reason = PlanSkip, m.Unrefunded(), m.NotRefundable
		if line.Reason == "" {
			line.Reason = planNothingLeft
		}
	case g.Status == Dismissed || m.DismissedAsLegitimate():
		line.Kind, line.Amount, line.Reason = PlanSkip, m.Refundable, planDismissed
	case amount > m.Refundable:
		return fmt.Errorf("--amount %d is more than the %s left to refund on charge %s",
			amount, FormatMoney(m.Refundable, m.Currency), m.ID)
	default:
		n := m.Refundable
		if amount > 0 {
			n = amount
		}
		rq := g.RefundRequest(m, n)
		line.Kind, line.Amount = PlanRefund, n
		p.Requests = append(p.Requests, rq)
		p.Totals[rq.Currency] += n
	}
	p.Lines = append(p.Lines, line)
	return nil
}

// customerLabel names who paid: the customer id, else the email, else "guest".
func (m *Member) customerLabel() string {
	switch {
	case m.Customer != "":
		return m.Customer
	case m.Email != "":
		return m.Email
	}
	return "guest"
}

// HasRefund is whether refunding g would send anything (a new refund or one in
// flight), by its plan.
func (g *Group) HasRefund() bool {
	p, err := PlanRefunds([]*Group{g}, AllThatIsLeft)
	return err == nil && len(p.Requests) > 0
}
