package stripeapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	stripe "github.com/stripe/stripe-go/v76"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// Ledger is the refund ledger the exactly-once protocol writes to (DESIGN.md
// "Refunds: exactly once"); *store.Store satisfies it.
type Ledger interface {
	// BeginRefund commits a pending intent keyed by intent.Key, or returns the
	// existing intent for that key with false.
	BeginRefund(ctx context.Context, intent reconcile.RefundIntent) (reconcile.RefundIntent, bool, error)
	// MarkAttempt begins one more attempt, run by operator, to settle the
	// intent: its attempts count and an audit row of the attempt, committed
	// before the attempt looks up or sends anything.
	MarkAttempt(ctx context.Context, key, operator string) error
	// FinishRefund records the outcome (reconcile.RefundAdopted records the
	// intent as refunded) in the intent and in the attempt this ledger last
	// began for it and, when outcome.ChargeAfter is non-nil, the charge's new
	// refund state, in one transaction.
	FinishRefund(ctx context.Context, key string, outcome reconcile.RefundOutcome) error
	// PendingRefunds lists the intents whose outcome is unknown.
	PendingRefunds(ctx context.Context) ([]reconcile.RefundIntent, error)
}

// Refund metadata keys, so a refund found in Stripe can be matched to its intent.
const (
	metaDuplicateOf = "duplicate_of"
	metaGroup       = "group"
	metaOperator    = "operator"
	metaVersion     = "doublecheck_version"
)

const (
	// keyTrust is how old an intent may be before its idempotency key is no longer
	// trusted: Stripe keeps keys for at least 24 hours, and the hour of margin
	// covers clock skew and the time a retry takes.
	keyTrust = 23 * time.Hour
)

// Refunder runs the exactly-once refund protocol: intent committed to the Ledger,
// refund sent to Stripe with the intent's deterministic idempotency key, outcome
// recorded. The dashboard and `doublecheck refund` share it.
type Refunder struct {
	Client   *Client
	Ledger   Ledger
	Operator string // who runs now (--operator, else the OS user): new intents' creator, and every attempt's, resumes included
	Version  string // doublecheck's version, sent as metadata
	DryRun   bool   // a rehearsal: report would_refund outcomes, record and send nothing
	// Deadline bounds the time one refund may wait for Stripe, all retries
	// included (0: no bound beyond each request's own timeout). Past it the
	// intent stays pending, to be resumed with the same key.
	Deadline time.Duration
	Now      func() time.Time
}

// DefaultRefundDeadline is how long one refund may wait for Stripe: without
// it, a server that accepts the connection and never answers holds a refund
// for every attempt's 30 s timeout, about 4.4 minutes.
const DefaultRefundDeadline = 60 * time.Second

// deadlineError is a refund that got no answer from Stripe within the
// Refunder's deadline.
type deadlineError struct{ limit time.Duration }

func (e *deadlineError) Error() string {
	return fmt.Sprintf("no answer within the refund deadline of %s", e.limit)
}
func (e *deadlineError) Unwrap() error { return context.DeadlineExceeded }

// network is the context for one refund's calls to Stripe: ctx bounded by
// the Deadline. Ledger writes keep ctx, so the outcome is recorded even when
// the deadline has passed.
func (r *Refunder) network(ctx context.Context) (context.Context, context.CancelFunc) {
	if r.Deadline <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, r.Deadline)
}

// cause is err, or a deadlineError when the refund's deadline (not the
// caller) cut the call short.
func (r *Refunder) cause(ctx, net context.Context, err error) error {
	if ctx.Err() == nil && errors.Is(net.Err(), context.DeadlineExceeded) {
		return &deadlineError{limit: r.Deadline}
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
	// Adopted means the refund was found among Stripe's refunds for the charge
	// instead of being sent again (an intent older than the key lifetime).
	Adopted bool
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
	case o.Err != nil:
		return fmt.Sprintf("%s  %s  error: %v", it.ChargeID, money, o.Err)
	case it.Status == reconcile.RefundWouldRefund:
		return fmt.Sprintf("%s  %s  would refund (dry run)", it.ChargeID, money)
	case o.Recorded:
		return fmt.Sprintf("%s  %s  %s (already refunded by doublecheck)", it.ChargeID, money, it.RefundID)
	case o.Adopted:
		return fmt.Sprintf("%s  %s  %s (found in Stripe)", it.ChargeID, money, it.RefundID)
	default:
		return fmt.Sprintf("%s  %s  %s", it.ChargeID, money, it.RefundID)
	}
}

// Failed reports whether any outcome is a failure or still pending: the refund
// command exits non-zero then.
func Failed(outcomes []Outcome) bool {
	for _, o := range outcomes {
		if o.Err != nil || o.Pending {
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
// Key, and should name KeptChargeID and GroupID (sent as metadata); the
// Refunder records the intent with the operator, reason and status.
// progress, when non-nil, is called after each charge. A Stripe refusal or a
// network failure is an Outcome; the error is for a ledger failure (nothing
// more is attempted then) or a cancelled context.
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
				report(notAttempted(reconcile.RefundIntent{RefundRequest: rest}, plan.ChargeID, false))
			}
			return outcomes, nil
		}
	}
	return outcomes, nil
}

// HitDeadline reports whether the refund got no answer from Stripe within the
// Refunder's deadline: a Stripe that let one refund wait that long would hold
// each of the rest as long, so a batch or a resume stops after it.
func (o Outcome) HitDeadline() bool {
	var de *deadlineError
	return o.Pending && errors.As(o.Err, &de)
}

// notAttempted is the outcome of a refund left alone because the refund of
// charge stoppedAt hit the deadline: nothing is recorded or sent for it. A
// pending intent a resume left alone stays pending; a new refund was never
// begun, so it is asked for again after the resume.
func notAttempted(it reconcile.RefundIntent, stoppedAt string, pending bool) Outcome {
	o := Outcome{Intent: it, NotAttempted: true, Pending: pending, Reused: pending}
	if pending {
		o.Err = fmt.Errorf("not attempted: the refund of charge %s got no answer within the refund deadline, so the resume stopped; the refund of charge %s stays pending: run %s later",
			stoppedAt, it.ChargeID, reconcile.ResumeCommand)
		return o
	}
	o.Err = fmt.Errorf("not attempted: the refund of charge %s got no answer within the refund deadline, so the batch stopped; run %s, then doublecheck refund --group %s",
		stoppedAt, reconcile.ResumeCommand, it.GroupID)
	return o
}

// Resume retries every pending intent with its own key; one older than the key
// lifetime is first looked up among Stripe's refunds for its charge. Run it at
// start-up and from `doublecheck refund --resume`. Like a batch, it stops at
// the first refund that hits the deadline: the intents after it stay pending,
// reported as not attempted.
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
			outcomes = append(outcomes, notAttempted(it, stoppedAt, true))
			continue
		}
		o, err := r.settle(ctx, it)
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

// ready checks the Refunder is wired: a ledger always, a client unless dry.
func (r *Refunder) ready() error {
	switch {
	case r.Ledger == nil:
		return errors.New("refunds need a ledger to record intents in")
	case r.Client == nil && !r.DryRun:
		return errors.New("refunds need a Stripe client (or --dry-run)")
	}
	return nil
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
	if len(plan.Key) > reconcile.MaxIdempotencyKeyLen {
		return Outcome{}, fmt.Errorf("refund key for charge %s is %d characters, over Stripe's limit of %d", plan.ChargeID, len(plan.Key), reconcile.MaxIdempotencyKeyLen)
	}
	it := reconcile.RefundIntent{RefundRequest: plan, Status: reconcile.RefundPending,
		Operator: r.Operator, Reason: string(stripe.RefundReasonDuplicate), CreatedAt: r.now()}
	if r.DryRun {
		// A rehearsal: nothing is recorded or sent, so it can neither stand in
		// a real refund's way nor read as a decision in the report.
		it.Status = reconcile.RefundWouldRefund
		return Outcome{Intent: it}, nil
	}

	crashPoint("before-intent")
	rec, created, err := r.Ledger.BeginRefund(ctx, it)
	if err != nil {
		return Outcome{}, fmt.Errorf("record the refund intent for charge %s: %w", plan.ChargeID, err)
	}
	crashPoint("after-intent")

	switch rec.Status {
	case reconcile.RefundSucceeded:
		return Outcome{Intent: rec, Reused: true, Recorded: true}, nil
	case reconcile.RefundFailed:
		// Asked again after a refusal (a dispute closed, a better key): reopen
		// the intent first so a crash after the call still leaves it pending.
		if err := r.Ledger.FinishRefund(ctx, rec.Key, reconcile.RefundOutcome{Status: reconcile.RefundPending}); err != nil {
			return Outcome{}, fmt.Errorf("reopen the refund intent for charge %s: %w", plan.ChargeID, err)
		}
		rec.Status, rec.ErrorCode, rec.ErrorMessage = reconcile.RefundPending, "", ""
	}
	o, err := r.settle(ctx, rec)
	o.Reused = !created
	return o, err
}

// settle brings a pending intent to an outcome in one attempt, recorded
// before anything is looked up or sent: adopt a refund Stripe already has for
// an old intent, else send the refund with the intent's key. Every way out of
// an attempt records its outcome, so the audit keeps each one.
func (r *Refunder) settle(ctx context.Context, it reconcile.RefundIntent) (Outcome, error) {
	if err := r.Ledger.MarkAttempt(ctx, it.Key, r.Operator); err != nil {
		return Outcome{}, fmt.Errorf("record the refund attempt for charge %s: %w", it.ChargeID, err)
	}
	it.Attempts++
	net, cancel := r.network(ctx)
	defer cancel()
	if !it.CreatedAt.IsZero() && r.now().Sub(it.CreatedAt) > keyTrust {
		found, err := r.findRefund(net, it)
		if err != nil {
			return r.unknown(ctx, it, r.cause(ctx, net, err))
		}
		if found != nil {
			return r.succeed(ctx, net, it, found, true)
		}
	}
	ref, err := r.Client.createRefund(net, it, r.Version)
	if err != nil {
		var se *stripe.Error
		switch {
		case transient(err):
			return r.unknown(ctx, it, r.cause(ctx, net, err))
		case errors.As(err, &se) && se.Type == stripe.ErrorTypeIdempotency:
			// The key was used with other parameters (another operator or
			// version sent it first): that refund exists, so adopt it.
			found, ferr := r.findRefund(net, it)
			if ferr != nil {
				return r.unknown(ctx, it, r.cause(ctx, net, ferr))
			}
			if found != nil {
				return r.succeed(ctx, net, it, found, true)
			}
		}
		return r.fail(ctx, it, err)
	}
	crashPoint("after-stripe")
	return r.succeed(ctx, net, it, ref, false)
}

// succeed records a refund Stripe returned, or that was found for the intent
// (adopted), with the charge's new refund state (looked up within net).
func (r *Refunder) succeed(ctx, net context.Context, it reconcile.RefundIntent, ref *stripe.Refund, adopted bool) (Outcome, error) {
	status := reconcile.RefundSucceeded
	if adopted {
		status = reconcile.RefundAdopted
	}
	after := r.chargeAfter(net, it.ChargeID, ref)
	if err := r.Ledger.FinishRefund(ctx, it.Key, reconcile.RefundOutcome{Status: status, RefundID: ref.ID, ChargeAfter: after}); err != nil {
		return Outcome{}, fmt.Errorf("record refund %s of charge %s (Stripe has it; a resume will record it): %w", ref.ID, it.ChargeID, err)
	}
	it.Status, it.RefundID, it.ErrorCode, it.ErrorMessage = reconcile.RefundSucceeded, ref.ID, "", ""
	it.FinishedAt = r.now()
	return Outcome{Intent: it, Adopted: adopted}, nil
}

// chargeAfter is the charge as Stripe holds it after the refund: the refund's
// expanded charge, else a fresh retrieve. It is observed at the server time of
// the response that carried it (as sync's charges are), so the store's
// newest-wins rule orders it against sync's on one clock. It is best effort:
// when neither is available the next sync brings the refund state.
func (r *Refunder) chargeAfter(ctx context.Context, chargeID string, ref *stripe.Refund) *reconcile.Charge {
	ch, resp := ref.Charge, ref.LastResponse
	if ch == nil || ch.Amount == 0 || resp == nil {
		var err error
		if ch, err = r.Client.getCharge(ctx, chargeID); err != nil {
			return nil
		}
		resp = ch.LastResponse
	}
	c := chargeFromStripe(ch, nil, servedAt(resp))
	return &c
}

// fail records Stripe's refusal. Resume leaves a refused intent alone; only a
// new Refund of the same plan (the operator asking again) reopens it.
func (r *Refunder) fail(ctx context.Context, it reconcile.RefundIntent, cause error) (Outcome, error) {
	code, msg := r.errorRecord(cause)
	if err := r.Ledger.FinishRefund(ctx, it.Key, reconcile.RefundOutcome{Status: reconcile.RefundFailed, ErrorCode: code, ErrorMessage: msg}); err != nil {
		return Outcome{}, fmt.Errorf("record the refused refund of charge %s: %w", it.ChargeID, err)
	}
	it.Status, it.ErrorCode, it.ErrorMessage = reconcile.RefundFailed, code, msg
	it.FinishedAt = r.now()
	return Outcome{Intent: it, Err: explain(it, cause)}, nil
}

// unknown records an attempt Stripe gave no outcome for: the intent stays
// pending, and the attempt keeps the error. The record is written even when
// ctx was cancelled (the operator interrupted the attempt): it is one local
// write, and the audit must show why the attempt ended.
func (r *Refunder) unknown(ctx context.Context, it reconcile.RefundIntent, cause error) (Outcome, error) {
	code, msg := r.errorRecord(cause)
	if err := r.Ledger.FinishRefund(context.WithoutCancel(ctx), it.Key, reconcile.RefundOutcome{Status: reconcile.RefundPending, ErrorCode: code, ErrorMessage: msg}); err != nil {
		return Outcome{}, fmt.Errorf("record the unanswered refund attempt for charge %s: %w", it.ChargeID, err)
	}
	it.ErrorCode, it.ErrorMessage = code, msg
	return Outcome{Intent: it, Pending: true, Err: explain(it, cause)}, nil
}

// errorRecord is the code and message the ledger keeps for a failed attempt:
// Stripe's error code (else its type) and message, or "network" and the
// reason no answer came. The API key is masked out of the message: a server
// may echo it, and the ledger never holds it.
func (r *Refunder) errorRecord(cause error) (code, msg string) {
	code, msg = "network", shortReason(cause)
	var se *stripe.Error
	if errors.As(cause, &se) {
		code, msg = string(se.Code), se.Msg
		if code == "" {
			code = string(se.Type)
		}
	}
	return code, r.Client.mask(msg)
}

// findRefund looks for a refund of the intent among Stripe's refunds for its
// charge: same amount, same group and kept charge in the metadata, not failed.
func (r *Refunder) findRefund(ctx context.Context, it reconcile.RefundIntent) (*stripe.Refund, error) {
	refunds, err := r.Client.listRefunds(ctx, it.ChargeID)
	if err != nil {
		return nil, err
	}
	for _, ref := range refunds {
		if ref.Amount == it.Amount &&
			ref.Metadata[metaGroup] == it.GroupID &&
			ref.Metadata[metaDuplicateOf] == it.KeptChargeID &&
			ref.Status != stripe.RefundStatusFailed && ref.Status != stripe.RefundStatusCanceled {
			return ref, nil
		}
	}
	return nil, nil
}

// transient reports whether Stripe's answer is unknown or may change on a retry
// with the same key: no response, a timeout, a 5xx, a 429 or a concurrent
// request with the same key still in flight.
func transient(err error) bool {
	var se *stripe.Error
	if !errors.As(err, &se) {
		return true // network failure, timeout, cancelled request: no answer from Stripe
	}
	return se.HTTPStatusCode >= 500 || se.HTTPStatusCode == http.StatusTooManyRequests ||
		se.HTTPStatusCode == http.StatusConflict || se.Code == stripe.ErrorCodeIdempotencyKeyInUse ||
		se.HTTPStatusCode == 0
}

// RefundError is a failed refund explained in one sentence. It unwraps to the
// cause (stripe-go's *stripe.Error when Stripe answered).
type RefundError struct {
	ChargeID string
	msg      string
	err      error
}

func (e *RefundError) Error() string { return e.msg }
func (e *RefundError) Unwrap() error { return e.err }

// explain turns a failed refund into one sentence an operator can act on.
func explain(it reconcile.RefundIntent, err error) error {
	e := &RefundError{ChargeID: it.ChargeID, err: err}
	var se *stripe.Error
	if transient(err) {
		e.msg = fmt.Sprintf("no answer from Stripe for the refund of charge %s (%s); the intent stays pending and will be resumed (%s finishes it now)",
			it.ChargeID, shortReason(err), reconcile.ResumeCommand)
		return e
	}
	errors.As(err, &se)
	switch {
	case se.Code == stripe.ErrorCodeChargeDisputed:
		e.msg = fmt.Sprintf("charge %s is disputed, so it cannot be refunded; answer the dispute in the Stripe Dashboard instead", it.ChargeID)
	case se.Code == stripe.ErrorCodeChargeAlreadyRefunded:
		e.msg = fmt.Sprintf("charge %s was already refunded elsewhere (outside doublecheck), so nothing was refunded", it.ChargeID)
	case se.Code == stripe.ErrorCodeAmountTooLarge:
		e.msg = fmt.Sprintf("charge %s was already partly refunded elsewhere, so %s is more than is left to refund",
			it.ChargeID, reconcile.FormatMoney(it.Amount, it.Currency))
	case se.HTTPStatusCode == http.StatusForbidden:
		e.msg = fmt.Sprintf("the API key is a restricted key without write permission on refunds, so charge %s was not refunded; use a key with Refunds: Write", it.ChargeID)
	default:
		// The client's own sentence (a bad key, any other refusal) says it.
		e.msg = fmt.Sprintf("charge %s was not refunded: %s", it.ChargeID, strings.TrimSuffix(err.Error(), "."))
	}
	return e
}

// shortReason says in a few words why Stripe gave no answer.
func shortReason(err error) string {
	var se *stripe.Error
	var ue *url.Error
	var de *deadlineError
	switch {
	case errors.As(err, &de):
		return de.Error()
	case errors.As(err, &se) && se.Msg != "":
		return fmt.Sprintf("HTTP %d: %s", se.HTTPStatusCode, strings.TrimSuffix(se.Msg, "."))
	case errors.As(err, &se):
		return fmt.Sprintf("HTTP %d", se.HTTPStatusCode)
	case errors.Is(err, context.DeadlineExceeded) || os.IsTimeout(err):
		return "timed out"
	case errors.Is(err, context.Canceled):
		return "interrupted"
	case errors.As(err, &ue):
		return ue.Err.Error()
	}
	return err.Error()
}

// createRefund sends the refund of an intent with its idempotency key. call
// retries failures that may pass on a second try; the key makes every retry
// safe, and Stripe replays the first result.
func (c *Client) createRefund(ctx context.Context, it reconcile.RefundIntent, version string) (*stripe.Refund, error) {
	params := refundParams(ctx, it, version)
	var ref *stripe.Refund
	err := c.call(ctx, func() (err error) {
		ref, err = c.api.Refunds.New(params)
		return err
	})
	if err != nil {
		return nil, err // explained per charge by the Refunder
	}
	return ref, nil
}

// listRefunds lists every refund of a charge through stripe-go's paging
// iterator; a failed page restarts the listing, which only reads.
func (c *Client) listRefunds(ctx context.Context, chargeID string) ([]*stripe.Refund, error) {
	params := &stripe.RefundListParams{Charge: stripe.String(chargeID)}
	params.Context = ctx
	params.Limit = stripe.Int64(100)
	var refunds []*stripe.Refund
	err := c.call(ctx, func() error {
		refunds = refunds[:0]
		iter := c.api.Refunds.List(params)
		for iter.Next() {
			refunds = append(refunds, iter.Refund())
		}
		return iter.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("list the refunds of charge %s: %w", chargeID, err)
	}
	return refunds, nil
}

// refundParams are the refund request for an intent. They depend only on the
// intent (and the version), so a retry sends the same parameters with the same
// key and Stripe replays the first result.
func refundParams(ctx context.Context, it reconcile.RefundIntent, version string) *stripe.RefundParams {
	p := &stripe.RefundParams{
		Charge: stripe.String(it.ChargeID),
		Amount: stripe.Int64(it.Amount),
		Reason: stripe.String(string(stripe.RefundReasonDuplicate)),
	}
	p.Context = ctx
	p.SetIdempotencyKey(it.Key)
	for k, v := range map[string]string{metaDuplicateOf: it.KeptChargeID, metaGroup: it.GroupID,
		metaOperator: it.Operator, metaVersion: version} {
		if v != "" { // an empty metadata value would unset the key
			p.AddMetadata(k, v)
		}
	}
	p.AddExpand("charge")
	return p
}
