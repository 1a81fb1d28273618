package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/doublecheck-dev/doublecheck/paypalapi"
	"github.com/doublecheck-dev/doublecheck/reconcile"
	"github.com/doublecheck-dev/doublecheck/refunding"
	"github.com/doublecheck-dev/doublecheck/store"
	"github.com/doublecheck-dev/doublecheck/stripeapi"
)

const refundSynopsis = "doublecheck refund --charge ID | --group ID [--amount N] [--yes] [--resume] [--dry-run] [--operator NAME] [--refund-deadline 60s]"

// errReadOnly is the answer to any refund under --read-only.
var errReadOnly = errors.New("refunds are turned off by --read-only; run without it to refund")

// errNeedYes protects scripts and pipes from refunding without an explicit yes.
var errNeedYes = errors.New("refusing to refund without --yes when stdin is not a terminal")

// refundOptions are what doublecheck refund was asked for.
type refundOptions struct {
	env      Env
	sh       shared
	det      detection
	chargeID string
	groupID  string
	amount   minorUnits // of --charge; not set refunds all that is left
	yes      bool
	resume   bool
	operator string
	deadline time.Duration
	provider providerFlags
}

func newRefundCmd(env Env, runF func(context.Context, *refundOptions) error) *command {
	opts := &refundOptions{env: env}
	fs := newFlags("refund", refundSynopsis)
	opts.sh.register(fs, env, usesStripe|usesRefunds)
	opts.det.register(fs)
	fs.StringVar(&opts.chargeID, "charge", "", "refund this duplicate `CHARGE` (its provider's id: ch_…, a PayPal transaction id, an Adyen Psp Reference)")
	fs.StringVar(&opts.groupID, "group", "", "refund every refundable duplicate of duplicate `GROUP`")
	fs.Var(&opts.amount, "amount", "refund only `N` of --charge: minor units (cents) in decimal digits only, 1 or more (500 is 5.00 USD); without it, all that is left")
	fs.BoolVar(&opts.yes, "yes", false, "do not ask for confirmation (required when stdin is not a terminal)")
	fs.BoolVar(&opts.resume, "resume", false, "finish pending refunds left by a crash or a network failure (alone, or before --charge/--group)")
	fs.StringVar(&opts.operator, "operator", "", "`NAME` recorded with each refund (default: your OS user)")
	registerRefundDeadline(fs, &opts.deadline)
	opts.provider.register(fs)
	fs.check(func() error {
		// 0 is a value given, not "all that is left": only a missing
		// --amount refunds the whole remainder.
		switch {
		case opts.chargeID != "" && opts.groupID != "":
			return errors.New("pass --charge or --group, not both")
		case opts.chargeID == "" && opts.groupID == "" && !opts.resume:
			return errors.New("pass --charge ID or --group ID (or --resume)")
		case opts.amount.set && (opts.amount.value <= 0 || opts.chargeID == ""):
			return errors.New("--amount must be a positive number of minor units, with --charge")
		}
		return nil
	})
	return &command{flags: fs, run: func(ctx context.Context, _ []string) error {
		return runner(runF, runRefund)(ctx, opts)
	}}
}

func runRefund(ctx context.Context, opts *refundOptions) error {
	env, sh, chargeID, groupID := opts.env, &opts.sh, opts.chargeID, opts.groupID
	if sh.readOnly {
		return errReadOnly
	}
	detectOpts := opts.det.options()

	refunder := &refunding.Refunder{Operator: operatorName(opts.operator, env), DryRun: sh.dryRun, Deadline: opts.deadline}
	var (
		st   *store.Store
		live bool
		err  error
	)
	switch {
	case sh.dryRun && opts.provider.paypal() && sh.db == "":
		return errors.New("a dry run calls nothing, so it cannot ask PayPal whose account the credentials open: pass --db with the PayPal store")
	case sh.dryRun:
		// A dry run is a rehearsal: it reads the store (read-only, so it
		// creates nothing and works on a store it may not write) and calls
		// nothing.
		sh.offline = true
		st, err = sh.readLocalStore(ctx, env)
	case opts.provider.paypal():
		st, live, err = refundOnPayPal(ctx, env, sh, &opts.provider, refunder)
	default:
		sh.mustExist = true // a refund never needs a new store: a mistyped --db is refused
		var acct account
		var client *stripeapi.Client
		client, acct, st, err = sh.connect(ctx, env)
		if errors.Is(err, stripeapi.ErrNoKey) {
			// No Stripe account: the PayPal and Adyen charges of an imported
			// store can still be refunded with their own credentials.
			st, live, _, err = keylessStore(ctx, env, sh, err, false)
			if errors.As(err, new(*noStoreYetError)) && paypalOnly(env) {
				// No store of imported data: the PayPal credentials find
				// their account's store, as --provider paypal does.
				st, live, err = refundOnPayPal(ctx, env, sh, &opts.provider, refunder)
			} else if err == nil {
				rs := refundGateways(env, nil, nil, live)
				rs.refunder(refunder)
				fmt.Fprintf(env.Stderr, "refunds without a Stripe key (%s), store %s\n%s\n", modeLabel(live, env.StderrTerminal), st.Path(), rs.note())
			}
		} else if err == nil {
			live = acct.Live
			rs := refundGateways(env, client, nil, acct.Live)
			rs.refunder(refunder)
			fmt.Fprintf(env.Stderr, "refunds on %s (%s), store %s, %s\n", acct.Name, modeLabel(acct.Live, env.StderrTerminal), st.Path(), keyNote(client))
			if note := rs.note(); note != "" {
				fmt.Fprintln(env.Stderr, note)
			}
		}
	}
	if err != nil {
		return err
	}
	defer st.Close()
	refunder.Ledger = st
	if refunder.ResumeTarget, err = resumeTarget(ctx, st, sh, &opts.provider); err != nil {
		return err
	}
	resume := reconcile.ResumeCommand(refunder.ResumeTarget)

	var all []refunding.Outcome
	if !sh.dryRun {
		// Pending intents first: a refund left unfinished by a crash is settled
		// before anything new is planned, with its own key.
		resumed, err := refunder.Resume(ctx)
		for _, o := range resumed {
			fmt.Fprintf(env.Stdout, "resumed refund: %s\n", o)
		}
		if err != nil {
			return err
		}
		all = resumed
	} else if opts.resume {
		fmt.Fprintln(env.Stderr, "dry run: pending refunds are not resumed")
	}
	if chargeID == "" && groupID == "" {
		if len(all) == 0 && !sh.dryRun {
			fmt.Fprintln(env.Stderr, "no pending refunds to resume")
		}
		if len(all) > 0 {
			in, err := st.LoadForDetection(ctx, detectOpts)
			if err != nil {
				return err
			}
			for _, line := range neverAttempted(reconcile.Detect(in, detectOpts), in.Refunds, all) {
				fmt.Fprintln(env.Stdout, line)
			}
		}
		return refundFailures(all, nil, resume)
	}
	for _, o := range all {
		if o.HitDeadline() {
			// Stripe let a resumed refund wait out the deadline: a new batch
			// would wait as long, so none is planned or sent.
			fmt.Fprintf(env.Stderr, "no new refund sent: the resumed refund of charge %s got no answer within the refund deadline; run %s, then this command again\n",
				o.Intent.ChargeID, resume)
			return refundFailures(all, nil, resume)
		}
	}

	report, err := detect(ctx, st, detectOpts)
	if err != nil {
		return err
	}
	plan, err := planRefund(report, chargeID, groupID, opts.amount)
	if err != nil {
		return err
	}
	var refused []string
	for _, l := range plan.Lines {
		switch l.Kind {
		case reconcile.PlanDone:
			fmt.Fprintln(env.Stdout, planLineText(l))
		case reconcile.PlanSkip:
			refused = append(refused, planLineText(l))
		}
	}
	for _, line := range refused {
		fmt.Fprintln(env.Stdout, line)
	}
	if len(plan.Requests) > 0 && !sh.dryRun && !opts.yes {
		if !env.Terminal {
			return errNeedYes
		}
		ok, err := confirmRefund(env.Stdin, env.Stderr, plan, live)
		if err != nil {
			return err
		}
		if !ok {
			fmt.Fprintln(env.Stderr, "cancelled: nothing was refunded")
			return exitStatus(exitError)
		}
	}
	outcomes, err := refunder.Refund(ctx, plan.Requests, func(o refunding.Outcome) {
		fmt.Fprintln(env.Stdout, o)
	})
	if err != nil {
		return err
	}
	return refundFailures(append(all, outcomes...), refused, resume)
}

// refundOnPayPal opens the store of the PayPal account the credentials open
// (or --db) for refunds through PayPal, set up on refunder, and says so on
// stderr.
func refundOnPayPal(ctx context.Context, env Env, sh *shared, pf *providerFlags, refunder *refunding.Refunder) (*store.Store, bool, error) {
	sh.mustExist = true
	pp, name, st, err := connectPayPal(ctx, env, sh, pf)
	if err != nil {
		return nil, false, err
	}
	live := pp.Env() == paypalapi.Live
	rs := refundGateways(env, nil, pp, live)
	rs.refunder(refunder)
	fmt.Fprintf(env.Stderr, "refunds on %s, %s, store %s, credentials from %s and %s\n", name, paypalBadge(pp.Env(), env.StderrTerminal),
		st.Path(), paypalapi.EnvClientID, paypalapi.EnvSecret)
	if note := rs.note(); note != "" {
		fmt.Fprintln(env.Stderr, note)
	}
	return st, live, nil
}

// refundFailures is the command's verdict: nil when every refund went through,
// else one sentence counting what did not (each has its line above); resume
// is the command that finishes the pending ones.
func refundFailures(outcomes []refunding.Outcome, refused []string, resume string) error {
	var failed, pending, notAttempted, held int
	for _, o := range outcomes {
		switch {
		case o.Held:
			held++
		case o.Pending: // a resumed intent not attempted stays pending too
			pending++
		case o.NotAttempted:
			notAttempted++
		case o.Err != nil:
			failed++
		}
	}
	var parts []string
	if failed > 0 {
		parts = append(parts, reconcile.Plural(failed, "refund")+" failed")
	}
	if len(refused) > 0 {
		parts = append(parts, reconcile.Plural(len(refused), "charge")+" cannot be refunded")
	}
	if held > 0 {
		parts = append(parts, reconcile.Plural(held, "refund")+" held by another doublecheck, which is sending it now (nothing was sent here; run the same refund again later to see the outcome)")
	}
	if pending > 0 {
		parts = append(parts, reconcile.Plural(pending, "refund")+" stayed pending (run "+resume+" later)")
	}
	if notAttempted > 0 {
		parts = append(parts, reconcile.Plural(notAttempted, "refund")+" not attempted (the batch stopped at the deadline; run the same refund again after the resume)")
	}
	if len(parts) == 0 {
		return nil
	}
	msg := strings.Join(parts, "; ")
	return errors.New(msg)
}

// operatorName is --operator, else the OS user.
func operatorName(flagValue string, env Env) string {
	if flagValue = strings.TrimSpace(flagValue); flagValue != "" {
		return flagValue
	}
	return env.User
}

// planRefund plans the refund of --group, or of --charge in its group (with
// --amount, only that much of it), through the plan the dashboard uses.
func planRefund(report reconcile.Report, chargeID, groupID string, amount minorUnits) (reconcile.RefundPlan, error) {
	g, err := findGroup(report, chargeID, groupID)
	if err != nil {
		return reconcile.RefundPlan{}, err
	}
	if g.Status == reconcile.Dismissed {
		return reconcile.RefundPlan{}, fmt.Errorf("group %s was dismissed as legitimate; undo the dismissal in the dashboard (u) before refunding it", g.ID)
	}
	scope := reconcile.PlanScope{ChargeID: chargeID, WholeRemainder: !amount.set, Amount: amount.value}
	return reconcile.PlanRefunds([]*reconcile.Group{g}, scope)
}

// planLineText is the line the command prints for a suspect that needs no
// refund (done) or cannot have one (skip).
func planLineText(l reconcile.PlanLine) string {
	money := reconcile.FormatMoney(l.Amount, l.Currency)
	switch l.Kind {
	case reconcile.PlanDone:
		if l.RefundID != "" {
			return fmt.Sprintf("%s  %s  %s (%s)", l.ChargeID, money, l.RefundID, l.Reason)
		}
		return fmt.Sprintf("%s  %s  %s", l.ChargeID, money, l.Reason)
	}
	return fmt.Sprintf("%s  %s  not refundable: %s", l.ChargeID, money, l.Reason)
}

// neverAttempted is one line per suspect of the resumed refunds' groups that
// still has money to refund and no refund begun: a crash may have stopped a
// batch before it got to them, and a resume finishes only what was begun. A
// charge with any intent in the ledger was attempted (a part an operator
// chose, a refund Stripe refused): its remainder is not "never attempted".
func neverAttempted(report reconcile.Report, intents []reconcile.RefundIntent, resumed []refunding.Outcome) []string {
	groups := map[string]bool{}
	for _, o := range resumed {
		groups[o.Intent.GroupID] = true
	}
	attempted := map[string]bool{}
	for _, ri := range intents {
		attempted[ri.ChargeID] = attempted[ri.ChargeID] || !ri.Rehearsal()
	}
	var lines []string
	for i := range report.Groups {
		g := &report.Groups[i]
		if !groups[g.ID] {
			continue
		}
		plan, err := reconcile.PlanRefunds([]*reconcile.Group{g}, reconcile.AllThatIsLeft)
		if err != nil {
			continue
		}
		for _, l := range plan.Lines {
			if l.Kind == reconcile.PlanRefund && !attempted[l.ChargeID] {
				lines = append(lines, fmt.Sprintf("%s  %s  never attempted: doublecheck refund --group %s refunds it",
					l.ChargeID, reconcile.FormatMoney(l.Amount, l.Currency), g.ID))
			}
		}
	}
	return lines
}

// findGroup is the group with id groupID, or the group holding chargeID.
func findGroup(report reconcile.Report, chargeID, groupID string) (*reconcile.Group, error) {
	for i := range report.Groups {
		g := &report.Groups[i]
		if groupID != "" && g.ID == groupID {
			return g, nil
		}
		if chargeID != "" {
			for _, m := range g.Charges {
				if m.ID == chargeID {
					return g, nil
				}
			}
		}
	}
	if groupID != "" {
		return nil, fmt.Errorf("no duplicate group %s in the store; run doublecheck sync, then doublecheck scan to list groups", groupID)
	}
	return nil, fmt.Errorf("charge %s is not in any duplicate group; run doublecheck sync, then doublecheck scan to list groups", chargeID)
}

// confirmRefund lists the plan and asks: y in test mode, the typed word
// "refund" in live mode. Anything else, including an empty line, cancels.
func confirmRefund(in io.Reader, out io.Writer, plan reconcile.RefundPlan, live bool) (bool, error) {
	for _, rq := range plan.Requests {
		fmt.Fprintf(out, "  refund %s  %s  (duplicate of %s, group %s)\n",
			rq.ChargeID, reconcile.FormatMoney(rq.Amount, rq.Currency), rq.KeptChargeID, rq.GroupID)
	}
	fmt.Fprintf(out, "total: %s\n", reconcile.FormatTotals(plan.Totals, ", "))
	want := "y"
	if live {
		want = "refund"
		fmt.Fprint(out, "LIVE mode: real money moves. Type refund to confirm: ")
	} else {
		fmt.Fprint(out, "Refund these charges? [y/N] ")
	}
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false, fmt.Errorf("read confirmation: %w", err)
	}
	answer := strings.TrimSpace(line)
	return answer == want || (!live && strings.EqualFold(answer, "yes")), nil
}
