package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

const (
	dismissSynopsis = "doublecheck dismiss --group ID [--note TEXT] [--operator NAME]"
	undoSynopsis    = "doublecheck undo --group ID [--operator NAME]"
)

// decisionOptions are what doublecheck dismiss or doublecheck undo was asked for.
type decisionOptions struct {
	env      Env
	sh       shared
	det      detection
	kind     reconcile.DecisionKind
	groupID  string
	note     string
	operator string
}

// newDismissCmd records that a duplicate group is legitimate (a repeat
// purchase, say), as the dashboard's d does: the same decision through the
// same store call, covering the charges the group holds now.
func newDismissCmd(env Env, runF func(context.Context, *decisionOptions) error) *command {
	return newDecisionCmd(env, runF, reconcile.DecisionDismissed, newFlags("dismiss", dismissSynopsis))
}

// newUndoCmd reopens a dismissed group, as the dashboard's u does.
func newUndoCmd(env Env, runF func(context.Context, *decisionOptions) error) *command {
	return newDecisionCmd(env, runF, reconcile.DecisionUndismissed, newFlags("undo", undoSynopsis))
}

func newDecisionCmd(env Env, runF func(context.Context, *decisionOptions) error, kind reconcile.DecisionKind, fs *cmdFlags) *command {
	opts := &decisionOptions{env: env, kind: kind}
	opts.sh.register(fs, env, usesStripe|usesRefunds)
	opts.det.register(fs)
	fs.StringVar(&opts.groupID, "group", "", "the duplicate `GROUP` (grp_…, as doublecheck scan lists it)")
	if kind == reconcile.DecisionDismissed {
		fs.StringVar(&opts.note, "note", "", "`TEXT` recorded with the decision: why the group is legitimate")
	}
	fs.StringVar(&opts.operator, "operator", "", "`NAME` recorded with the decision (default: your OS user)")
	fs.check(func() error {
		if opts.groupID = strings.TrimSpace(opts.groupID); opts.groupID == "" {
			return errors.New("pass --group ID (doublecheck scan lists the groups)")
		}
		return nil
	})
	return &command{flags: fs, run: func(ctx context.Context, _ []string) error {
		return runner(runF, runDecision)(ctx, opts)
	}}
}

func runDecision(ctx context.Context, opts *decisionOptions) error {
	env, sh, kind, groupID := opts.env, &opts.sh, opts.kind, opts.groupID

	st, err := sh.writeLocalStore(ctx, env)
	if err != nil {
		return err
	}
	defer st.Close()
	account, live, err := storeAccount(ctx, st)
	if err != nil {
		return err
	}
	if err := describe(ctx, env, st, account, live); err != nil {
		return err
	}
	report, err := detect(ctx, st, opts.det.options())
	if err != nil {
		return err
	}
	g, err := findGroup(report, "", groupID)
	if err != nil {
		return err
	}
	switch {
	case kind == reconcile.DecisionDismissed && g.Status == reconcile.Dismissed:
		fmt.Fprintf(env.Stderr, "%s is already dismissed: nothing recorded (doublecheck undo --group %s reopens it)\n", g.ID, g.ID)
		return nil
	case kind == reconcile.DecisionDismissed && g.Status != reconcile.Open:
		return fmt.Errorf("%s is %s: only open groups can be dismissed", g.ID, g.Status)
	case kind == reconcile.DecisionUndismissed && g.Status != reconcile.Dismissed:
		fmt.Fprintf(env.Stderr, "%s is not dismissed (it is %s): nothing to undo\n", g.ID, g.Status)
		return nil
	}
	who := operatorName(opts.operator, env)
	d := reconcile.GroupDecision(g, kind, who, strings.TrimSpace(opts.note), env.Now())
	done := fmt.Sprintf("reopened %s, by %s", g.ID, who)
	if kind == reconcile.DecisionDismissed {
		done = fmt.Sprintf("dismissed %s as legitimate (%s: %s), by %s", g.ID, reconcile.Plural(len(d.Charges), "charge"), strings.Join(d.Charges, ", "), who)
	}
	if sh.dryRun {
		fmt.Fprintf(env.Stdout, "dry run, nothing recorded: would have %s\n", done)
		return nil
	}
	if err := st.RecordDecisions(ctx, []reconcile.Decision{d}); err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, done)
	return nil
}
