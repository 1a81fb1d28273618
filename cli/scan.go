package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/doublecheck-dev/doublecheck/internal/atomicfile"
	"github.com/doublecheck-dev/doublecheck/reconcile"
	"github.com/doublecheck-dev/doublecheck/store"
)

// detect loads what detection with opts needs from the store and runs it.
// When every charge is loaded (options the store's facts do not serve), the
// garbage collector is paused meanwhile: almost everything the two allocate
// then stays live until detection ends, so collecting during them only marks
// the growing heap again and again (a 1M-charge scan: about a third less CPU
// time and a lower peak; see README's performance section). A narrowed load
// is mostly garbage (the facts of every charge), which the collector, run
// more often, keeps out of the peak; scan and export keep it so while they
// write the report, which would otherwise take a heap goal twice the live
// heap of the load.
func detect(ctx context.Context, st *store.Store, opts reconcile.Options) (reconcile.Report, error) {
	if reconcile.FactsServe(opts) {
		defer tightenGC()()
	} else {
		defer pauseGC()()
	}
	in, err := st.LoadForDetection(ctx, opts)
	if err != nil {
		return reconcile.Report{}, err
	}
	return reconcile.Detect(in, opts), nil
}

// reportFlags are what scan and export share: which store, how to detect, and
// whether charges without a key are listed one by one.
type reportFlags struct {
	sh          shared
	det         detection
	listKeyless bool
}

func (r *reportFlags) register(fs *cmdFlags, env Env) {
	r.sh.register(fs, env, usesStripe)
	r.det.register(fs)
	fs.BoolVar(&r.listKeyless, "list-keyless", false, "list every charge that has no idempotency-key record, not just their count")
}

// report runs detection over the store the flags name, and says on stderr whose
// data it is. An empty store is an error: a scan of nothing must not look clean.
func (r *reportFlags) report(ctx context.Context, env Env) (reconcile.Report, error) {
	opts := r.det.options()
	opts.ListChargesWithoutKey = r.listKeyless
	st, err := r.sh.readLocalStore(ctx, env)
	if err != nil {
		return reconcile.Report{}, err
	}
	defer st.Close()
	report, err := detect(ctx, st, opts)
	if err != nil {
		return report, err
	}
	if report.Summary.Charges == 0 {
		return report, fmt.Errorf("the store %s holds no charges: run doublecheck sync, or doublecheck import FILE, first", st.Path())
	}
	if report.Account, report.Live, err = storeAccount(ctx, st); err != nil {
		return report, err
	}
	if report.Environment, err = st.State(ctx, stateEnvironment); err != nil {
		return report, err
	}
	if report.Resume, err = resumeTarget(ctx, st, &r.sh, nil); err != nil {
		return report, err
	}
	return report, describe(ctx, env, st, report.Account, report.Live)
}

// describe tells on stderr which store a command works on, whose it is and
// in which mode, or environment for a provider that names its own (PAYPAL
// SANDBOX).
func describe(ctx context.Context, env Env, st *store.Store, account string, live bool) error {
	if account == "" {
		account = "imported data"
	}
	label := modeLabel(live, env.StderrTerminal)
	environment, err := st.State(ctx, stateEnvironment)
	if err != nil {
		return err
	}
	if environment != "" {
		label = environment
	}
	fmt.Fprintf(env.Stderr, "%s (%s), store %s\n", account, label, st.Path())
	return nil
}

// scanOptions are what doublecheck scan was asked for.
type scanOptions struct {
	env      Env
	report   reportFlags
	format   string // table, json or csv
	exitCode bool   // exit 1 when open or pending groups exist
}

// reportWriters are scan's output formats.
var reportWriters = map[string]func(io.Writer, reconcile.Report) error{
	"table": reconcile.WriteTable, "json": reconcile.WriteJSON, "csv": reconcile.WriteCSV,
}

func newScanCmd(env Env, runF func(context.Context, *scanOptions) error) *command {
	opts := &scanOptions{env: env}
	fs := newFlags("scan", "doublecheck scan [--format table|json|csv] [--window 10m] [--exit-code]")
	opts.report.register(fs, env)
	fs.StringVar(&opts.format, "format", "table", "output `FORMAT`: table, json or csv")
	fs.BoolVar(&opts.exitCode, "exit-code", false, "exit 1 when open duplicate groups (or groups with a refund pending) exist (for scripts and CI)")
	fs.check(func() error {
		if reportWriters[opts.format] == nil {
			return fmt.Errorf("--format must be table, json or csv, not %q", opts.format)
		}
		return nil
	})
	return &command{flags: fs, run: func(ctx context.Context, _ []string) error {
		return runner(runF, runScan)(ctx, opts)
	}}
}

func runScan(ctx context.Context, opts *scanOptions) error {
	defer tightenGC()() // to the end of the report's writing: see detect
	env := opts.env
	report, err := opts.report.report(ctx, env)
	if err != nil {
		return err
	}
	if err := reportWriters[opts.format](env.Stdout, report); err != nil {
		return fmt.Errorf("write scan: %w", err)
	}
	if opts.exitCode && report.Summary.Open+report.Summary.Pending > 0 {
		return exitStatus(exitError)
	}
	return nil
}

// exportOptions are what doublecheck export was asked for.
type exportOptions struct {
	env    Env
	report reportFlags
	output string // the report's file; standard output when empty
}

func newExportCmd(env Env, runF func(context.Context, *exportOptions) error) *command {
	opts := &exportOptions{env: env}
	fs := newFlags("export", "doublecheck export [-o FILE]")
	opts.report.register(fs, env)
	fs.StringVar(&opts.output, "output", "", "write the report to `FILE` (default: standard output)")
	fs.alias("o", "output")
	return &command{flags: fs, run: func(ctx context.Context, _ []string) error {
		return runner(runF, runExport)(ctx, opts)
	}}
}

func runExport(ctx context.Context, opts *exportOptions) error {
	defer tightenGC()() // to the end of the report's writing: see detect
	env, out := opts.env, opts.output
	report, err := opts.report.report(ctx, env)
	if err != nil {
		return err
	}
	if out == "" {
		return reconcile.WriteCSV(env.Stdout, report)
	}
	if err := atomicfile.Write(out, func(w io.Writer) error { return reconcile.WriteCSV(w, report) }); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "wrote the report (%d groups, %d findings) to %s\n", len(report.Groups), len(report.Findings), out)
	return nil
}
