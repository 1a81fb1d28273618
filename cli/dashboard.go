package cli

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/doublecheck-dev/doublecheck/paypalapi"
	"github.com/doublecheck-dev/doublecheck/reconcile"
	"github.com/doublecheck-dev/doublecheck/refunding"
	"github.com/doublecheck-dev/doublecheck/store"
	"github.com/doublecheck-dev/doublecheck/stripeapi"
	"github.com/doublecheck-dev/doublecheck/ui"
)

// errNoTerminal is the dashboard's answer to a pipe or a script.
var errNoTerminal = ui.ErrNoTerminal

// dashboardFlags are the dashboard's own knobs (doublecheck and doublecheck demo).
type dashboardFlags struct {
	watch     time.Duration
	operator  string
	exportDir string
	deadline  time.Duration // one refund's wait for Stripe
	sync      syncFlags
	demo      bool // on the built-in sandbox: the key is the sandbox's, not the operator's
	provider  providerFlags
	// paypal is a PayPal account synced and refunded beside the Stripe one
	// (the demo's sandbox).
	paypal *paypalapi.Client
}

func (d *dashboardFlags) register(fs *cmdFlags, now func() time.Time) {
	fs.DurationVar(&d.watch, "watch", 30*time.Second, "sync in the background every `INTERVAL` (0 turns it off)")
	fs.StringVar(&d.operator, "operator", "", "`NAME` recorded with each decision and refund (default: your OS user)")
	fs.StringVar(&d.exportDir, "export-dir", "", "`DIR` e proposes for CSV reports (default: your download directory, else exports/ in the data directory)")
	d.sync.register(fs, now)
	registerRefundDeadline(fs, &d.deadline)
	d.provider.register(fs)
	fs.check(func() error {
		if d.watch < 0 {
			return errors.New("--watch must not be negative")
		}
		return nil
	})
}

// dashboardOptions are what doublecheck without a command was asked for.
type dashboardOptions struct {
	env  Env
	sh   shared
	det  detection
	dash dashboardFlags
}

func newDashboardCmd(env Env, runF func(context.Context, *dashboardOptions) error) *command {
	opts := &dashboardOptions{env: env}
	fs := newFlags(dashboardName, "doublecheck [flags]   (the dashboard; see 'doublecheck help' for commands)")
	opts.sh.register(fs, env, usesStripe|usesRefunds)
	opts.det.register(fs)
	opts.dash.register(fs, env.Now)
	return &command{flags: fs, run: func(ctx context.Context, _ []string) error {
		return runner(runF, runDashboard)(ctx, opts)
	}}
}

func runDashboard(ctx context.Context, opts *dashboardOptions) error {
	return dashboard(ctx, opts.env, &opts.sh, &opts.det, &opts.dash)
}

// dashboard opens the account's store and runs the dashboard on it: detection
// on load, background sync, dismissals and refunds through the ledger. With
// --db and no key at all, it opens that store offline: triage and export work,
// sync and refunds are off.
func dashboard(ctx context.Context, env Env, sh *shared, det *detection, dash *dashboardFlags) error {
	if !env.Terminal {
		return errNoTerminal
	}
	opts, syncOpts := det.options(), dash.sync.options(env.Now)
	operator := operatorName(dash.operator, env)
	cfg := ui.Config{ReadOnly: sh.readOnly, DryRun: sh.dryRun, Watch: dash.watch, Operator: operator, ExportDir: dash.exportDir, Now: env.Now}
	if cfg.ExportDir == "" {
		cfg.ExportDir = exportDir(env)
	}

	var (
		client        *stripeapi.Client
		acct          account
		st            *store.Store
		readOnlyStore bool
		err           error
		pp            = dash.paypal
		note          string // which credentials, for the line before the screen is taken
	)
	if dash.provider.paypal() {
		pp, acct, st, err = connectPayPalDashboard(ctx, env, sh, &dash.provider)
		if err == nil {
			note = fmt.Sprintf("%s, store %s, credentials from %s and %s", paypalBadge(pp.Env(), env.StderrTerminal), st.Path(),
				paypalapi.EnvClientID, paypalapi.EnvSecret)
		}
	} else {
		client, acct, st, readOnlyStore, err = connectDashboard(ctx, env, sh)
		if err == nil {
			note = fmt.Sprintf("%s, store %s, %s", modeLabel(acct.Live, env.StderrTerminal), st.Path(), keyNote(client))
		}
	}
	if pp != nil { // the header names the PayPal account's mode before its data does
		cfg.Providers = []reconcile.Provider{reconcile.ProviderPayPal}
		if client != nil {
			cfg.Providers = []reconcile.Provider{reconcile.ProviderStripe, reconcile.ProviderPayPal}
		}
	}
	// Without a Stripe key, a store of PayPal or Adyen charges is refunded
	// with those providers' own credentials when they are configured; with
	// none, it is opened offline for triage and export.
	keyless := false
	if errors.Is(err, stripeapi.ErrNoKey) && sh.db != "" {
		noKey := err
		st, acct.Live, readOnlyStore, err = keylessStore(ctx, env, sh, noKey, true)
		keyless = err == nil
		if errors.Is(err, stripeapi.ErrNoKey) {
			err = noKey
		}
	}
	offline := errors.Is(err, stripeapi.ErrNoKey) && sh.db != ""
	if offline {
		st, err = openOffline(ctx, sh.db)
	}
	if errors.Is(err, stripeapi.ErrNoKey) {
		return fmt.Errorf("%w; to look around without an account, run doublecheck demo", err)
	}
	if err != nil {
		return err
	}
	defer st.Close()
	if cfg.Resume, err = resumeTarget(ctx, st, sh, &dash.provider); err != nil {
		return err
	}
	deps := ui.Deps{Loader: detector{st, opts}, Decider: decider{st}, Watcher: watcher{st},
		Clipboard: osc52Clipboard{out: env.Stdout, getenv: env.Getenv}, Browser: newBrowser(runtime.GOOS, env.Getenv)}
	if offline {
		cfg.ReadOnly = true
		if cfg.Account, cfg.Live, err = storeAccount(ctx, st); err != nil {
			return err
		}
	} else if keyless {
		if cfg.Account, _, err = storeAccount(ctx, st); err != nil {
			return err
		}
		cfg.Live, cfg.ReadOnly = acct.Live, readOnlyStore
		cfg.SyncOff = "no Stripe key: sync a PayPal account with --provider paypal; Adyen's payments come from its reports (doublecheck import)"
		if readOnlyStore {
			cfg.SyncOff = "the store is read-only"
		} else if !sh.readOnly {
			rs := refundGateways(env, nil, nil, acct.Live)
			if !dash.demo {
				fmt.Fprintf(env.Stderr, "dashboard without a Stripe key (%s), store %s\n%s\n", modeLabel(acct.Live, env.StderrTerminal), st.Path(), rs.note())
			}
			refunder := rs.refunder(&refunding.Refunder{Ledger: st, Operator: operator, DryRun: sh.dryRun, Deadline: dash.deadline,
				ResumeTarget: cfg.Resume})
			deps.Refunder = refundAdapter{refunder}
			if !sh.dryRun {
				deps.Resumer = refundAdapter{refunder}
			}
		}
	} else if readOnlyStore {
		cfg.Account, cfg.Live, cfg.ReadOnly = acct.Name, acct.Live, true
		cfg.SyncOff = "the store is read-only"
	} else {
		cfg.Account, cfg.Live = acct.Name, acct.Live
		if !dash.demo {
			fmt.Fprintf(env.Stderr, "dashboard on %s (%s)\n", acct.Name, note)
		}
		deps.Syncer = syncers(client, pp, st, syncOpts, operator)
		if !sh.readOnly {
			rs := refundGateways(env, client, pp, acct.Live)
			if note := rs.note(); note != "" && !dash.demo {
				fmt.Fprintln(env.Stderr, note)
			}
			refunder := rs.refunder(&refunding.Refunder{Ledger: st, Operator: operator, DryRun: sh.dryRun,
				Deadline: dash.deadline, ResumeTarget: cfg.Resume})
			deps.Refunder = refundAdapter{refunder}
			if !sh.dryRun {
				// Resumed by the dashboard itself (at start and after each sync), so the
				// outcomes show in its status bar instead of behind the alt screen.
				deps.Resumer = refundAdapter{refunder}
			}
		}
	}
	if cfg.LastSync, err = lastSyncTime(ctx, st); err != nil {
		return err
	}
	if cfg.Providers == nil { // a PayPal store opened offline still says so before its data loads
		environment, err := st.State(ctx, stateEnvironment)
		if err != nil {
			return err
		}
		if environment != "" {
			cfg.Providers = []reconcile.Provider{reconcile.ProviderPayPal}
		}
	}
	return ui.Run(ctx, ui.New(cfg, deps))
}

// connectDashboard is connect for the dashboard: a store this user may not
// write is opened read-only (readOnlyStore) for triage and export; sync and
// refunds, which write, are off.
func connectDashboard(ctx context.Context, env Env, sh *shared) (client *stripeapi.Client, acct account, st *store.Store, readOnlyStore bool, err error) {
	client, acct, st, err = sh.connect(ctx, env)
	if !errors.Is(err, store.ErrReadOnly) {
		return client, acct, st, false, err
	}
	path, pathErr := sh.storePath(env, acct)
	if pathErr != nil {
		return nil, account{}, nil, false, err
	}
	st, err = store.OpenReadOnly(ctx, path)
	return client, acct, st, err == nil, err
}

// openOffline opens the store the offline dashboard was given: never a new one
// where a mistyped path points, and read-only when it cannot be written (then
// dismissals say so when tried).
func openOffline(ctx context.Context, path string) (*store.Store, error) {
	st, err := store.OpenExisting(ctx, path)
	if errors.Is(err, store.ErrReadOnly) {
		return store.OpenReadOnly(ctx, path)
	}
	return st, err
}

// lastSyncTime is when the store was last synced from any provider.
func lastSyncTime(ctx context.Context, st *store.Store) (time.Time, error) {
	var last time.Time
	for _, name := range []string{stripeapi.StateLastSync, paypalapi.StateLastSync} {
		value, err := st.State(ctx, name)
		if err != nil {
			return time.Time{}, err
		}
		// An unreadable time only costs the header its "last sync".
		if t, err := time.Parse(time.RFC3339, value); err == nil && t.After(last) {
			last = t
		}
	}
	return last, nil
}

// detector is the dashboard's Loader: the store's contents through detection.
type detector struct {
	store *store.Store
	opts  reconcile.Options
}

func (d detector) Load(ctx context.Context) (reconcile.Report, error) {
	return detect(ctx, d.store, d.opts)
}

// decider records dismissals and their undoing.
type decider struct{ store *store.Store }

func (d decider) Decide(ctx context.Context, decisions []reconcile.Decision) error {
	return d.store.RecordDecisions(ctx, decisions)
}

// watcher reads what every process did to the store, for the dashboard to
// follow others' work on a shared store (ui.Watcher).
type watcher struct{ store *store.Store }

func (w watcher) Activity(ctx context.Context) (string, ui.Activity, error) {
	mark, a, err := w.store.Activity(ctx)
	return mark, ui.Activity{Operator: a.Operator, At: a.At, What: a.What}, err
}

// syncer is one incremental sync of the account into the store.
type syncer struct {
	client   *stripeapi.Client
	store    *store.Store
	opts     stripeapi.SyncOptions
	operator string
}

// Sync reports the progress `doublecheck sync` shows, and counts the charges
// the sync changed, not those it fetched.
func (s syncer) Sync(ctx context.Context, progress func(ui.SyncProgress)) (ui.SyncResult, error) {
	opts := s.opts
	opts.Progress = func(p stripeapi.SyncProgress) {
		progress(ui.SyncProgress{Charges: p.Charges, Rate: p.Rate, Fraction: p.Fraction, ETA: p.ETA})
	}
	end, err := s.store.BeginSync(ctx, s.operator)
	if err != nil {
		return ui.SyncResult{}, err // another operator's sync: its charges reach the store, and the view
	}
	defer end()
	before := s.store.ChargesChanged()
	res, err := s.client.Sync(ctx, s.store, opts)
	return ui.SyncResult{Charges: int(s.store.ChargesChanged() - before), Events: res.Events}, err
}

// refundAdapter runs the dashboard's refund batches through the exactly-once
// protocol, the same Refunder `doublecheck refund` uses.
type refundAdapter struct{ refunder *refunding.Refunder }

func (r refundAdapter) Refund(ctx context.Context, plans []reconcile.RefundRequest, progress func(ui.RefundResult)) error {
	_, err := r.refunder.Refund(ctx, plans, func(o refunding.Outcome) { progress(uiResult(o)) })
	return err
}

// Resume finishes the refunds earlier runs left pending (ui.Resumer).
func (r refundAdapter) Resume(ctx context.Context) ([]ui.RefundResult, error) {
	outcomes, err := r.refunder.Resume(ctx)
	results := make([]ui.RefundResult, len(outcomes))
	for i, o := range outcomes {
		results[i] = uiResult(o)
	}
	return results, err
}

func uiResult(o refunding.Outcome) ui.RefundResult {
	return ui.RefundResult{ChargeID: o.Intent.ChargeID, RefundID: o.Intent.RefundID, Pending: o.Pending,
		Received: o.Intent.Status == reconcile.RefundReceived, Provider: o.Intent.Provider, Err: o.Err}
}
