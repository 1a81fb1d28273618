package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"doublecheck/reconcile"
	"doublecheck/store"
)

const (
	dismissSynopsis = "doublecheck dismiss --group ID [--note TEXT] [--operator NAME]"
	undoSynopsis    = "doublecheck undo --group ID [--operator NAME]"
)

// runDismiss records that a duplicate group is legitimate (a repeat purchase,
// say), as the dashboard's d does: the same decision through the same store
// call, covering the charges the group holds now.
func runDismiss(ctx context.Context, env Env, args []string) error {
	return runDecision(ctx, env, args, reconcile.DecisionDismissed)
}

// runUndo reopens a dismissed group, as the dashboard's u does.
func runUndo(ctx context.Context, env Env, args []string) error {
	return runDecision(ctx, env, args, reconcile.DecisionUndismissed)
}

func runDecision(ctx context.Context, env Env, args []string, kind reconcile.DecisionKind) error {
	var (
		sh       shared
		det      detection
		groupID  string
		note     string
		operator string
	)
	name, synopsis := "dismiss", dismissSynopsis
	if kind == reconcile.DecisionUndismissed {
		name, synopsis = "undo", undoSynopsis
	}
	fs := newFlags(name, synopsis)
	sh.register(fs)
	det.register(fs)
	fs.StringVar(&groupID, "group", "", "the duplicate `GROUP` (grp_…, as doublecheck scan lists it)")
	if kind == reconcile.DecisionDismissed {
		fs.StringVar(&note, "note", "", "`TEXT` recorded with the decision: why the group is legitimate")
	}
	fs.StringVar(&operator, "operator", "", "`NAME` recorded with the decision (default: your OS user)")
	fs.check(func() error {
		if strings.TrimSpace(groupID) == "" {
			return errors.New("pass --group ID (doublecheck scan lists the groups)")
		}
		return nil
	})
	if _, err := fs.parse(args, 0, env.Stdout); err != nil {
		return err
	}
	groupID = strings.TrimSpace(groupID)

	path, err := sh.localStorePath(ctx, env)
	if err != nil {
		return err
	}
	// A decision is about groups already found: never a new, empty store where
	// a mistyped --db points.
	st, err := store.OpenExisting(ctx, path)
	if err != nil {
		return err
	}
	defer st.Close()
	account, live, err := storeAccount(ctx, st)
	if err != nil {
		return err
	}
	describe(env, st, account, live)
	report, err := detect(ctx, st, det.options())
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
	who := operatorName(operator, env)
	d := reconcile.GroupDecision(g, kind, who, strings.TrimSpace(note), time.Now())
	done := fmt.Sprintf("reopened %s, by %s", g.ID, who)
	if kind == reconcile.DecisionDismissed {
		done = fmt.Sprintf("dismissed %s as legitimate (%s: %s), by %s", g.ID, plural(len(d.Charges), "charge"), strings.Join(d.Charges, ", "), who)
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
