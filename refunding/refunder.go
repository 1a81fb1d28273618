package refunding

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// refundReason is the reason every refund is sent with and recorded under.
const refundReason = "duplicate"

// Refunder runs the exactly-once refund protocol: intent committed to the
// Ledger, refund sent through the charge's provider's Gateway with the
// intent's deterministic idempotency key, outcome recorded. The dashboard and
// `doublecheck refund` share it.
type Refunder struct {
	// Gateways are the providers refunds can be sent through; a refund of a
	// charge whose provider has none is refused before anything is recorded.
	Gateways map[reconcile.Provider]Gateway
	// Unconfigured says, for a provider without a gateway, what would give
	// it one ("set PAYPAL_CLIENT_ID, …"): the refusal of its charges says it.
	Unconfigured map[reconcile.Provider]string
	Ledger       Ledger
	Operator     string // who runs now (--operator, else the OS user): new intents' creator, and every attempt's, resumes included
	DryRun       bool   // a rehearsal: report would_refund outcomes, record and send nothing
	// Deadline bounds the time one refund may wait for its provider, all
	// retries included. Past it the intent stays pending, to be resumed with
	// the same key. 0, or more than reconcile.MaxRefundDeadline, is that
	// maximum: an attempt that waited longer than its lease could be taken
	// over by another process while it still waits.
	Deadline time.Duration
	Now      func() time.Time
	// ResumeTarget is what the resume command names to reach the Ledger's store:
	// messages about a refund left pending say that command.
	ResumeTarget reconcile.ResumeTarget
}

// resumeCommand is the command that finishes the Ledger's pending refunds.
func (r *Refunder) resumeCommand() string { return reconcile.ResumeCommand(r.ResumeTarget) }

// DefaultRefundDeadline is how long one refund may wait for its provider:
// without it, a server that accepts the connection and never answers holds a
// refund for every attempt's 30 s timeout, about 4.4 minutes.
const DefaultRefundDeadline = 60 * time.Second

// deadlineError is a refund that got no answer from its provider within the
// Refunder's deadline.
type deadlineError struct{ limit time.Duration }

func (e *deadlineError) Error() string {
	return fmt.Sprintf("no answer within the refund deadline of %s", e.limit)
}
func (e *deadlineError) Unwrap() error { return context.DeadlineExceeded }

// deadline is the Deadline in force: never unbounded, never past what the
// ledger's lease on the intent allows.
func (r *Refunder) deadline() time.Duration {
	if r.Deadline <= 0 || r.Deadline > reconcile.MaxRefundDeadline {
		return reconcile.MaxRefundDeadline
	}
	return r.Deadline
}

// network is the context for one refund's calls to its provider: ctx bounded
// by the deadline. Ledger writes keep ctx, so the outcome is recorded even
// when the deadline has passed.
func (r *Refunder) network(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, r.deadline())
}

// cause is err, or a deadlineError when the refund's deadline (not the
// caller) cut the call short.
func (r *Refunder) cause(ctx, net context.Context, err error) error {
	if ctx.Err() == nil && errors.Is(net.Err(), context.DeadlineExceeded) {
		return &deadlineError{limit: r.deadline()}
	}
	return err
}

// Outcome is what happened to one refund intent.
type Outcome struct {
	// Intent as recorded after this run: Status, RefundID, ErrorCode, ErrorMessage.
	Intent reconcile.RefundIntent
	// Pending means the outcome is unknown (network failure, timeout, 5xx): the
	// intent stays pending and Resume retries it with the same key.
	Pending bool
	// Reused means the ledger already held an intent for this key (a retry,
	// a resume, or another process that got there first).
	Reused bool
	// Recorded means the ledger already held the refund: nothing was sent.
	Recorded bool
	// Adopted means the refund was found among the provider's refunds for the
	// charge instead of being sent again (an intent older than the key lifetime).
	Adopted bool
	// Held means another process on the same store is settling this intent
	// right now (Err is its *reconcile.RefundHeldError: who, since when):
	// nothing was recorded or sent here.
	Held bool
	// NotAttempted means nothing was recorded or sent: the batch (or the
	// resume) stopped after an earlier refund got no answer within the
	// deadline. A resumed intent not attempted is Pending too.
	NotAttempted bool
	// Err explains a failure in one sentence; nil on success and in a dry run.
	Err error
}

// String is the one line `doublecheck refund` prints per charge.
func (o Outcome) String() string {
	it := o.Intent
	money := reconcile.FormatMoney(it.Amount, it.Currency)
	switch {
	case o.Held:
		return fmt.Sprintf("%s  %s  %v", it.ChargeID, money, o.Err)
	case o.Err != nil:
		return fmt.Sprintf("%s  %s  error: %v", it.ChargeID, money, o.Err)
	case it.Status == reconcile.RefundWouldRefund:
		return fmt.Sprintf("%s  %s  would refund (dry run)", it.ChargeID, money)
	case it.Status == reconcile.RefundReceived:
		return fmt.Sprintf("%s  %s  %s (%s)", it.ChargeID, money, it.RefundID, it.Status.Describe(it.Provider))
	case o.Recorded:
		return fmt.Sprintf("%s  %s  %s (already refunded by doublecheck)", it.ChargeID, money, it.RefundID)
	case o.Adopted:
		return fmt.Sprintf("%s  %s  %s (found in %s)", it.ChargeID, money, it.RefundID, it.Provider.Title())
	default:
		return fmt.Sprintf("%s  %s  %s", it.ChargeID, money, it.RefundID)
	}
}

// Failed reports whether any outcome is a failure, still pending or held by
// another process (its outcome is not known here): the refund command exits
// non-zero then.
func Failed(outcomes []Outcome) bool {
	for _, o := range outcomes {
		if o.Err != nil || o.Pending || o.Held {
			return true
		}
	}
	return false
}

func (r *Refunder) now() time.Time {
	if r.Now != nil {
		return r.Now().UTC()
	}
	return time.Now().UTC()
}

// Refund refunds each planned request exactly once (reconcile.PlanRefunds
// plans them: a new refund's key computed from the charge as stored, or the
// stored key of an intent in flight). Each needs ChargeID, Amount, Currency and
// Key, and should name KeptChargeID and GroupID (sent as metadata where the
// provider keeps any); the Refunder records the intent with the operator,
// reason and status. progress, when non-nil, is called after each charge. A
// provider's refusal, a network failure or a provider without credentials is
// an Outcome; the error is for a ledger failure (nothing more is attempted
// then) or a cancelled context.
func (r *Refunder) Refund(ctx context.Context, plans []reconcile.RefundRequest, progress func(Outcome)) ([]Outcome, error) {
	if err := r.ready(); err != nil {
		return nil, err
	}
	outcomes := make([]Outcome, 0, len(plans))
	report := func(o Outcome) {
		outcomes = append(outcomes, o)
		if progress != nil {
			progress(o)
		}
	}
	for i, plan := range plans {
		if err := ctx.Err(); err != nil {
			return outcomes, err
		}
		o, err := r.refundOne(ctx, plan)
		if err != nil {
			return outcomes, err
		}
		report(o)
		if o.HitDeadline() {
			for _, rest := range plans[i+1:] {
				report(notAttempted(reconcile.RefundIntent{RefundRequest: rest}, plan.ChargeID, false, r.resumeCommand()))
			}
			return outcomes, nil
		}
	}
	return outcomes, nil
}

// HitDeadline reports whether the refund got no answer from its provider
// within the Refunder's deadline: a provider that let one refund wait that
// long would hold each of the rest as long, so a batch or a resume stops
// after it.
func (o Outcome) HitDeadline() bool {
	var de *deadlineError
	return o.Pending && errors.As(o.Err, &de)
}

// notAttempted is the outcome of a refund left alone because the refund of
// charge stoppedAt hit the deadline: nothing is recorded or sent for it. A
// pending intent a resume left alone stays pending; a new refund was never
// begun, so it is asked for again after the resume.
func notAttempted(it reconcile.RefundIntent, stoppedAt string, pending bool, resume string) Outcome {
	o := Outcome{Intent: it, NotAttempted: true, Pending: pending, Reused: pending}
	if pending {
		o.Err = fmt.Errorf("not attempted: the refund of charge %s got no answer within the refund deadline, so the resume stopped; the refund of charge %s stays pending: run %s later",
			stoppedAt, it.ChargeID, resume)
		return o
	}
	o.Err = fmt.Errorf("not attempted: the refund of charge %s got no answer within the refund deadline, so the batch stopped; run %s, then doublecheck refund --group %s",
		stoppedAt, resume, it.GroupID)
	return o
}

// Resume retries every pending intent with its own key; one older than its
// gateway's KeyTrust is first looked up among the provider's refunds for its
// charge. Run it at start-up and from `doublecheck refund --resume`. Like a
// batch, it stops at the first refund that hits the deadline: the intents
// after it stay pending, reported as not attempted. An intent whose provider
// has no gateway stays pending, untouched, and says so.
func (r *Refunder) Resume(ctx context.Context) ([]Outcome, error) {
	if err := r.ready(); err != nil {
		return nil, err
	}
	pending, err := r.Ledger.PendingRefunds(ctx)
	if err != nil {
		return nil, fmt.Errorf("list pending refund intents: %w", err)
	}
	var (
		outcomes  []Outcome
		stoppedAt string // the charge whose refund hit the deadline
	)
	for _, it := range pending {
		if err := ctx.Err(); err != nil {
			return outcomes, err
		}
		if it.Rehearsal() {
			// An older version's dry run, interrupted before it was marked: it
			// must never be sent. Any other pending intent may have moved money:
			// it is settled.
			if r.DryRun {
				continue // a dry run writes nothing
			}
			if err := r.Ledger.FinishRefund(ctx, it.Key, reconcile.RefundOutcome{Status: reconcile.RefundWouldRefund}); err != nil {
				return outcomes, fmt.Errorf("close dry-run intent for charge %s: %w", it.ChargeID, err)
			}
			continue
		}
		if r.DryRun {
			outcomes = append(outcomes, Outcome{Intent: it, Pending: true,
				Err: fmt.Errorf("dry run: the pending refund of charge %s was not resumed", it.ChargeID)})
			continue
		}
		if stoppedAt != "" {
			outcomes = append(outcomes, notAttempted(it, stoppedAt, true, r.resumeCommand()))
			continue
		}
		gw, err := r.gateway(it.Provider)
		if err != nil {
			outcomes = append(outcomes, Outcome{Intent: it, Pending: true, Reused: true,
				Err: fmt.Errorf("%w: the pending refund of charge %s was not resumed and stays pending; run %s with them", err, it.ChargeID, r.resumeCommand())})
			continue
		}
		o, err := r.settle(ctx, gw, it)
		if err != nil {
			return outcomes, err
		}
		o.Reused = true
		outcomes = append(outcomes, o)
		if o.HitDeadline() {
			stoppedAt = it.ChargeID
		}
	}
	return outcomes, nil
}

// ready checks the Refunder is wired: a ledger always, a gateway unless dry.
func (r *Refunder) ready() error {
	switch {
	case r.Ledger == nil:
		return errors.New("refunds need a ledger to record intents in")
	case len(r.Gateways) == 0 && !r.DryRun:
		var how []string
		for _, p := range reconcile.Providers {
			if r.Unconfigured[p] != "" {
				how = append(how, p.Title()+": "+r.Unconfigured[p])
			}
		}
		if len(how) == 0 {
			return errors.New("refunds need a payment provider's credentials (or --dry-run)")
		}
		return fmt.Errorf("refunds need a payment provider's credentials (or --dry-run): %s", strings.Join(how, "; "))
	}
	return nil
}

// errNoCredentials is a refund through a provider the Refunder has no
// gateway for; how, when known, is what would give it one.
type errNoCredentials struct {
	provider reconcile.Provider
	how      string
}

func (e errNoCredentials) Error() string {
	if e.how == "" {
		return "no " + e.provider.Title() + " credentials"
	}
	return "no " + e.provider.Title() + " credentials (" + e.how + ")"
}

// gateway is the Gateway of provider p (empty is Stripe).
func (r *Refunder) gateway(p reconcile.Provider) (Gateway, error) {
	if gw := r.Gateways[p.Resolved()]; gw != nil {
		return gw, nil
	}
	return nil, errNoCredentials{p.Resolved(), r.Unconfigured[p.Resolved()]}
}

func (r *Refunder) refundOne(ctx context.Context, plan reconcile.RefundRequest) (Outcome, error) {
	switch {
	case plan.ChargeID == "" || plan.Amount <= 0:
		return Outcome{}, fmt.Errorf("refund plan for charge %q with amount %d: a charge id and a positive amount are required", plan.ChargeID, plan.Amount)
	case plan.Key == "":
		// Never recomputed here: only the planner knows what was refunded before.
		return Outcome{}, fmt.Errorf("refund plan for charge %s has no idempotency key", plan.ChargeID)
	case strings.HasPrefix(plan.Key, reconcile.DryRunKeyPrefix):
		return Outcome{}, fmt.Errorf("refund plan for charge %s has the dry-run key %q; a dry run is never sent", plan.ChargeID, plan.Key)
	}
	if err := plan.Provider.CheckRefundKey(plan.Key); err != nil {
		return Outcome{}, fmt.Errorf("refund of charge %s: %w", plan.ChargeID, err)
	}
	plan.Provider = plan.Provider.Resolved()
	it := reconcile.RefundIntent{RefundRequest: plan, Status: reconcile.RefundPending,
		Operator: r.Operator, Reason: refundReason, CreatedAt: r.now()}
	if r.DryRun {
		// A rehearsal: nothing is recorded or sent, so it can neither stand in
		// a real refund's way nor read as a decision in the report.
		it.Status = reconcile.RefundWouldRefund
		return Outcome{Intent: it}, nil
	}
	gw, err := r.gateway(plan.Provider)
	if err != nil {
		return Outcome{Intent: it, Err: fmt.Errorf("%w: charge %s was not refunded (nothing was sent or recorded); give doublecheck %s credentials and refund it again",
			err, plan.ChargeID, plan.Provider.Title())}, nil
	}

	crashPoint("before-intent")
	rec, created, err := r.Ledger.BeginRefund(ctx, it)
	if held := heldBy(err); held != nil {
		return Outcome{Intent: rec, Reused: true, Held: true, Err: held}, nil
	}
	if err != nil {
		return Outcome{}, fmt.Errorf("record the refund intent for charge %s: %w", plan.ChargeID, err)
	}
	crashPoint("after-intent")

	switch rec.Status {
	case reconcile.RefundSucceeded, reconcile.RefundReceived:
		return Outcome{Intent: rec, Reused: true, Recorded: true}, nil
	}
	if rec.Status.EndedWithoutRefund() {
		// Never resent under its key: the provider answers a key it has seen
		// with its first answer (Adyen for 31 days), so nothing new would be
		// asked. A new plan keys the next ask past it.
		ended := "refused by " + rec.Provider.Title()
		if rec.Status == reconcile.RefundReversed {
			ended = reconcile.RefundReversed.Describe(rec.Provider)
		}
		return Outcome{Intent: rec, Reused: true, Err: fmt.Errorf("the refund of charge %s under key %s was %s (%s) and is never sent again under that key; plan it again (doublecheck refund, or r in the dashboard) to ask anew under a new key",
			plan.ChargeID, rec.Key, ended, cmp.Or(rec.ErrorMessage, rec.ErrorCode, "no reason given"))}, nil
	}
	o, err := r.settle(ctx, gw, rec)
	o.Reused = !created
	return o, err
}

// heldBy is err when it says another process holds the intent (the ledger's
// claim, see Ledger.MarkAttempt), else nil.
func heldBy(err error) *reconcile.RefundHeldError {
	var held *reconcile.RefundHeldError
	if errors.As(err, &held) {
		return held
	}
	return nil
}

// settle brings a pending intent to an outcome in one attempt, recorded
// before anything is looked up or sent: adopt a refund the provider already
// has for an old intent, else send the refund with the intent's key. Every
// way out of an attempt records its outcome, so the audit keeps each one.
func (r *Refunder) settle(ctx context.Context, gw Gateway, it reconcile.RefundIntent) (Outcome, error) {
	err := r.Ledger.MarkAttempt(ctx, it.Key, r.Operator)
	if held := heldBy(err); held != nil {
		// Another process claimed it first: it sends, this one must not.
		return Outcome{Intent: it, Held: true, Err: held}, nil
	}
	var settled *reconcile.RefundSettledError
	if errors.As(err, &settled) {
		// Another attempt settled it since it was read: nothing to send.
		return settledOutcome(it, settled), nil
	}
	if err != nil {
		return Outcome{}, fmt.Errorf("record the refund attempt for charge %s: %w", it.ChargeID, err)
	}
	it.Attempts++
	net, cancel := r.network(ctx)
	defer cancel()
	if !it.CreatedAt.IsZero() && r.now().Sub(it.CreatedAt) > gw.KeyTrust() {
		if o, done, err := r.adopt(ctx, net, gw, it); done {
			return o, err
		}
	}
	receipt, err := gw.Send(net, it)
	if err != nil {
		switch f := gw.Classify(err); {
		case f.Unknown:
			return r.unknown(ctx, gw, it, r.cause(ctx, net, err))
		case f.KeyConflict:
			// The key was used with other parameters (another operator or
			// version sent it first): that refund exists, so adopt it.
			if o, done, err := r.adopt(ctx, net, gw, it); done {
				return o, err
			}
		}
		return r.fail(ctx, gw, it, err)
	}
	crashPoint("after-stripe")
	return r.succeed(ctx, it, receipt, false)
}

// recorded is what the ledger records of the refunds of it's charge, for
// Find: the refund ids its other intents hold.
func (r *Refunder) recorded(ctx context.Context, it reconcile.RefundIntent) (Recorded, error) {
	intents, err := r.Ledger.RefundIntents(ctx)
	if err != nil {
		return Recorded{}, fmt.Errorf("read the refunds recorded for charge %s before looking for its refund in %s: %w", it.ChargeID, it.Provider.Title(), err)
	}
	var others []string
	for _, o := range intents {
		if o.ChargeID == it.ChargeID && o.Provider.Resolved() == it.Provider.Resolved() && o.Key != it.Key && o.RefundID != "" {
			others = append(others, o.RefundID)
		}
	}
	return NewRecorded(it, others...), nil
}

// settledOutcome is the outcome of intent it, which another attempt settled
// as e says: recorded when the refund happened (or was received), else the
// refusal, as a failure.
func settledOutcome(it reconcile.RefundIntent, e *reconcile.RefundSettledError) Outcome {
	it.Status, it.RefundID = e.Status, e.RefundID
	switch e.Status {
	case reconcile.RefundSucceeded, reconcile.RefundReceived:
		return Outcome{Intent: it, Reused: true, Recorded: true}
	}
	return Outcome{Intent: it, Reused: true, Err: e}
}

// adopt looks, within net, for a refund the intent already made (Find, told
// the refunds the ledger records for the charge's other intents) and records
// it as adopted. done is false when there is none: the caller goes on.
func (r *Refunder) adopt(ctx, net context.Context, gw Gateway, it reconcile.RefundIntent) (o Outcome, done bool, err error) {
	recorded, err := r.recorded(ctx, it)
	if err != nil {
		return Outcome{}, true, err
	}
	found, ok, err := gw.Find(net, it, recorded)
	switch {
	case err != nil:
		o, err = r.unknown(ctx, gw, it, r.cause(ctx, net, err))
		return o, true, err
	case !ok:
		return Outcome{}, false, nil
	}
	o, err = r.succeed(ctx, it, found, true)
	return o, true, err
}

// succeed records a refund the provider returned, or that was found for the
// intent (adopted), with the charge's new refund state. A refund the provider
// confirms later is recorded as received.
func (r *Refunder) succeed(ctx context.Context, it reconcile.RefundIntent, rc Receipt, adopted bool) (Outcome, error) {
	status := reconcile.RefundSucceeded
	switch {
	case rc.AwaitingConfirmation:
		status = reconcile.RefundReceived
	case adopted:
		status = reconcile.RefundAdopted
	}
	if err := r.Ledger.FinishRefund(ctx, it.Key, reconcile.RefundOutcome{Status: status, RefundID: rc.RefundID, ChargeAfter: rc.ChargeAfter}); err != nil {
		return Outcome{}, fmt.Errorf("record refund %s of charge %s (%s has it; a resume will record it): %w", rc.RefundID, it.ChargeID, it.Provider.Title(), err)
	}
	it.Status, it.RefundID, it.ErrorCode, it.ErrorMessage = reconcile.RefundSucceeded, rc.RefundID, "", ""
	if rc.AwaitingConfirmation {
		it.Status = reconcile.RefundReceived
	}
	it.FinishedAt = r.now()
	return Outcome{Intent: it, Adopted: adopted}, nil
}

// fail records the provider's refusal. The intent is never sent again: a
// new plan asks again under a new key (reconcile.Group.RefundRequest).
func (r *Refunder) fail(ctx context.Context, gw Gateway, it reconcile.RefundIntent, cause error) (Outcome, error) {
	code, msg := errorRecord(gw, cause)
	if err := r.Ledger.FinishRefund(ctx, it.Key, reconcile.RefundOutcome{Status: reconcile.RefundFailed, ErrorCode: code, ErrorMessage: msg}); err != nil {
		return Outcome{}, fmt.Errorf("record the refused refund of charge %s: %w", it.ChargeID, err)
	}
	it.Status, it.ErrorCode, it.ErrorMessage = reconcile.RefundFailed, code, msg
	it.FinishedAt = r.now()
	return Outcome{Intent: it, Err: Explain(gw, it, cause, r.resumeCommand())}, nil
}

// unknown records an attempt the provider gave no outcome for: the intent
// stays pending, and the attempt keeps the error. The record is written even
// when ctx was cancelled (the operator interrupted the attempt): it is one
// local write, and the audit must show why the attempt ended.
func (r *Refunder) unknown(ctx context.Context, gw Gateway, it reconcile.RefundIntent, cause error) (Outcome, error) {
	code, msg := errorRecord(gw, cause)
	if err := r.Ledger.FinishRefund(context.WithoutCancel(ctx), it.Key, reconcile.RefundOutcome{Status: reconcile.RefundPending, ErrorCode: code, ErrorMessage: msg}); err != nil {
		return Outcome{}, fmt.Errorf("record the unanswered refund attempt for charge %s: %w", it.ChargeID, err)
	}
	it.ErrorCode, it.ErrorMessage = code, msg
	return Outcome{Intent: it, Pending: true, Err: Explain(gw, it, cause, r.resumeCommand())}, nil
}

// errorRecord is the code and message the ledger keeps for a failed attempt:
// the provider's answer as its gateway reads it (secrets masked), or
// "network" and the reason no answer came.
func errorRecord(gw Gateway, cause error) (code, msg string) {
	var de *deadlineError
	if errors.As(cause, &de) {
		return "network", de.Error()
	}
	f := gw.Classify(cause)
	if f.Code != "" {
		return f.Code, f.Message
	}
	return "network", shortReason(cause, f)
}

// RefundError is a failed refund explained in one sentence. It unwraps to the
// cause (the provider library's error when the provider answered).
type RefundError struct {
	ChargeID string
	msg      string
	err      error
}

func (e *RefundError) Error() string { return e.msg }
func (e *RefundError) Unwrap() error { return e.err }

// Explain turns the failed refund of it through gw (a Send or Find error,
// or the deadline) into one sentence an operator can act on: no answer, so
// the intent stays pending; or the provider's refusal, in the gateway's words
// when it has some (Explainer). resume is the command that finishes a
// pending refund.
func Explain(gw Gateway, it reconcile.RefundIntent, err error, resume string) *RefundError {
	e := &RefundError{ChargeID: it.ChargeID, err: err}
	var de *deadlineError
	if f := gw.Classify(err); f.Unknown || errors.As(err, &de) {
		e.msg = fmt.Sprintf("no answer from %s for the refund of charge %s (%s); the intent stays pending and will be resumed (%s finishes it now)",
			gw.Provider().Title(), it.ChargeID, shortReason(err, f), resume)
		return e
	}
	if x, ok := gw.(Explainer); ok {
		e.msg = x.Explain(it, err)
	}
	if e.msg == "" {
		e.msg = fmt.Sprintf("charge %s was not refunded: %s", it.ChargeID, strings.TrimSuffix(err.Error(), "."))
	}
	return e
}

// shortReason says in a few words why no answer settled the refund.
func shortReason(err error, f Failure) string {
	var ue *url.Error
	var de *deadlineError
	switch {
	case errors.As(err, &de):
		return de.Error()
	case f.Reason != "":
		return f.Reason
	case errors.Is(err, context.DeadlineExceeded) || os.IsTimeout(err):
		return "timed out"
	case errors.Is(err, context.Canceled):
		return "interrupted"
	case errors.As(err, &ue):
		return ue.Err.Error()
	}
	return err.Error()
}
