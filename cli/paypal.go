package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/doublecheck-dev/doublecheck/paypalapi"
	"github.com/doublecheck-dev/doublecheck/reconcile"
	"github.com/doublecheck-dev/doublecheck/sandbox"
	"github.com/doublecheck-dev/doublecheck/store"
	"github.com/doublecheck-dev/doublecheck/stripeapi"
	"github.com/doublecheck-dev/doublecheck/ui"
)

// stateEnvironment names a store's environment when its provider has its
// own word for it ("PAYPAL SANDBOX"); Stripe's stores say TEST or LIVE mode.
const stateEnvironment = "doublecheck.environment"

// Environment variables of the PayPal side besides the credentials.
const (
	envPayPalEnv  = "PAYPAL_ENV"
	envPayPalBase = "PAYPAL_API_BASE"
)

// providerFlags pick the payment provider a command talks to, and PayPal's
// environment, which is never assumed: sandbox and live hold different money.
type providerFlags struct {
	provider   string // "" (Stripe) or "stripe" or "paypal"
	paypalEnv  string
	paypalBase string
}

func (f *providerFlags) register(fs *cmdFlags) {
	fs.StringVar(&f.provider, "provider", "", "the payment `PROVIDER`: stripe (the default) or paypal")
	fs.StringVar(&f.paypalEnv, "paypal-env", "", "which PayPal, `ENV`: sandbox or live (required with --provider paypal; or set PAYPAL_ENV)")
	fs.StringVar(&f.paypalBase, "paypal-base", "", "PayPal-compatible server `URL` (default: PAYPAL_API_BASE, then the environment's api-m host)")
	fs.check(func() error {
		switch f.provider {
		case "", "stripe", "paypal":
			return nil
		}
		return fmt.Errorf("--provider %q: the providers are stripe and paypal", f.provider)
	})
}

func (f *providerFlags) paypal() bool { return f.provider == "paypal" }

// paypalClient builds the PayPal client from the flags and the environment:
// PAYPAL_CLIENT_ID and PAYPAL_CLIENT_SECRET and the environment stated
// (paypalapi.New checks the base URL against it).
func (f *providerFlags) paypalClient(env Env) (*paypalapi.Client, error) {
	which := f.paypalEnv
	if which == "" {
		which = env.Getenv(envPayPalEnv)
	}
	ppEnv, err := paypalapi.ParseEnvironment(which)
	if err != nil {
		return nil, err
	}
	base := f.paypalBase
	if base == "" {
		base = env.Getenv(envPayPalBase)
	}
	return paypalapi.New(paypalapi.Config{ClientID: env.Getenv(paypalapi.EnvClientID), Secret: env.Getenv(paypalapi.EnvSecret),
		Env: ppEnv, BaseURL: base})
}

// paypalAccountName is how a PayPal store names its account.
func paypalAccountName(number string, e paypalapi.Environment) string {
	return "PayPal " + number + " (" + string(e) + ")"
}

// connectPayPal is connect for PayPal: the client, the merchant account its
// credentials open, and that account's store for the environment (or --db).
func connectPayPal(ctx context.Context, env Env, sh *shared, pf *providerFlags) (*paypalapi.Client, string, *store.Store, error) {
	client, err := pf.paypalClient(env)
	if err != nil {
		return nil, "", nil, err
	}
	number, err := client.Account(ctx, env.Now())
	if err != nil {
		return nil, "", nil, err
	}
	live := client.Env() == paypalapi.Live
	path := sh.db
	if path == "" {
		// One store per PayPal account and environment, beside Stripe's
		// (paypal-<account>-test.db holds the sandbox's).
		if path, err = store.DefaultPath(env.DataDir, "paypal-"+number, live); err != nil {
			return nil, "", nil, err
		}
	}
	open := store.Open
	if sh.mustExist {
		open = store.OpenExisting // a refund never needs a new store
	}
	st, err := open(ctx, path)
	if err != nil {
		return nil, "", nil, err
	}
	name := paypalAccountName(number, client.Env())
	if err := claimStore(ctx, st, storeOwner{provider: reconcile.ProviderPayPal, id: number, name: name}); err != nil {
		st.Close()
		return nil, "", nil, err
	}
	if err := st.SetState(ctx, stateEnvironment, client.Env().Title()); err != nil {
		st.Close()
		return nil, "", nil, err
	}
	if err := st.FixMode(ctx, live); err != nil {
		st.Close()
		return nil, "", nil, fmt.Errorf("the PayPal credentials are for the %s environment: %w; pass --db PATH for a store of it", client.Env(), err)
	}
	return client, name, st, nil
}

// runPayPalSync is doublecheck sync --provider paypal.
// The store is the ledger a PayPal sync confirms received refunds in.
var _ paypalapi.Confirmer = (*store.Store)(nil)

func runPayPalSync(ctx context.Context, opts *syncOptions) error {
	env := opts.env
	if opts.sync.rate != 0 || opts.sync.concurrency != 0 {
		return errors.New("--rate and --concurrency tune Stripe's sync; PayPal's is one request at a time")
	}
	client, name, st, err := connectPayPal(ctx, env, &opts.sh, &opts.provider)
	if err != nil {
		return err
	}
	defer st.Close()
	end, err := beginSync(ctx, env, st, opts.operator)
	if end == nil || err != nil {
		return err
	}
	defer end()
	fmt.Fprintf(env.Stderr, "syncing %s, %s, into %s, credentials from %s and %s\n", name, paypalBadge(client.Env(), env.StderrTerminal),
		st.Path(), paypalapi.EnvClientID, paypalapi.EnvSecret)
	res, err := syncPayPal(ctx, client, st, opts.sync.from, env)
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stderr, paypalSyncSummary(res, opts.sync.from))
	return nil
}

func syncPayPal(ctx context.Context, client *paypalapi.Client, st *store.Store, since time.Time, env Env) (paypalapi.SyncResult, error) {
	meter := newSyncMeter(env.Stderr, env.StderrTerminal, env.Now)
	defer meter.done()
	return client.Sync(ctx, st, paypalapi.SyncOptions{Since: since, Now: env.Now, Progress: func(p paypalapi.SyncProgress) {
		meter.show(p.Fraction, fmt.Sprintf("%s · %s · window from %s", reconcile.Plural(p.Charges, "payment"),
			reconcile.Plural(p.Pages, "page"), p.Window.Format(time.DateOnly)))
	}})
}

// paypalSyncSummary says what a PayPal sync did, and where it stopped and why;
// since is what --since asked for.
func paypalSyncSummary(res paypalapi.SyncResult, since time.Time) string {
	return paypalPagesSummary(res, since) + paypalConfirmationsSummary(res)
}

// paypalConfirmationsSummary says what became of the refunds PayPal had
// answered PENDING; "" when there were none.
func paypalConfirmationsSummary(res paypalapi.SyncResult) string {
	var parts []string
	for _, p := range []struct {
		n    int
		what string
	}{{res.Confirmed, "completed (now refunded)"}, {res.Refused, "denied by PayPal (now refused; the charge is at risk again)"},
		{res.Reversed, "reversed by PayPal (the charge is at risk again)"}, {res.AwaitingPayPal, "still pending at PayPal (received, awaiting PayPal confirmation)"}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.what))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "\nrefunds PayPal answered PENDING: " + strings.Join(parts, ", ")
}

// paypalPagesSummary says what the page-by-page listing did.
func paypalPagesSummary(res paypalapi.SyncResult, since time.Time) string {
	through := res.Through.Format("2006-01-02 15:04 UTC")
	lag := reconcile.HumanDuration(res.Lag)
	if res.UpToDate {
		return fmt.Sprintf("nothing new to list: transactions are listed through %s; PayPal lists them up to %s late, so the sync stops %s before now", through, lag, lag)
	}
	out := fmt.Sprintf("synced %s (%s linked) in %s over %s; listed %s to %s",
		reconcile.Plural(res.Charges, "payment"), reconcile.Plural(res.Refunds, "refund"), reconcile.Plural(res.Pages, "page"),
		reconcile.Plural(res.Windows, "31-day window"), res.From.Format("2006-01-02 15:04"), through)
	if res.Resumed {
		out += " (resumed an interrupted sync)"
	}
	if res.NotRefreshed {
		return out + fmt.Sprintf("; PayPal's reporting has no data from %s yet (\"Data for the given start date is not available.\"), so the sync stopped there; the next one continues from it",
			through)
	}
	out += fmt.Sprintf("; PayPal lists transactions up to %s late, so the sync stops %s before now and the next one picks up from there", lag, lag)
	if res.Clamped {
		out += fmt.Sprintf("\nnote: PayPal's transaction search goes back three years, so the sync started at %s, not %s",
			res.From.Format(time.DateOnly), since.Format(time.DateOnly))
	}
	if res.Unlinked > 0 {
		out += fmt.Sprintf("\nnote: %s of payments older than the synced range wait for them (sync with an earlier --since to link them)",
			reconcile.Plural(res.Unlinked, "refund or dispute row"))
	}
	if res.Twins > 0 {
		out += fmt.Sprintf("\nnote: skipped %s listed twice under one transaction_id (PayPal's non-balance-affecting twins)", reconcile.Plural(res.Twins, "row"))
	}
	return out
}

// paypalBadge is the environment as the command line shows it: PAYPAL LIVE
// in red on a terminal.
func paypalBadge(e paypalapi.Environment, terminal bool) string {
	if e == paypalapi.Live && terminal {
		return "\x1b[1;31m" + e.Title() + "\x1b[0m"
	}
	return e.Title()
}

// connectPayPalDashboard is connectPayPal for the dashboard, with the
// account as the dashboard shows it.
func connectPayPalDashboard(ctx context.Context, env Env, sh *shared, pf *providerFlags) (*paypalapi.Client, account, *store.Store, error) {
	client, name, st, err := connectPayPal(ctx, env, sh, pf)
	if err != nil {
		return nil, account{}, nil, err
	}
	return client, account{Name: name, Live: client.Env() == paypalapi.Live}, st, nil
}

// demoPayPal is the demo sandbox's PayPal account, with the sandbox's own
// credentials.
func demoPayPal(url string) (*paypalapi.Client, error) {
	return paypalapi.New(paypalapi.Config{ClientID: sandbox.PayPalClientID, Secret: sandbox.PayPalSecret,
		Env: paypalapi.Sandbox, BaseURL: url})
}

// paypalSyncer is one incremental sync of a PayPal account into the store.
type paypalSyncer struct {
	client   *paypalapi.Client
	store    *store.Store
	since    time.Time
	now      func() time.Time
	operator string
}

// Sync counts the charges the sync changed, not those it listed.
func (s paypalSyncer) Sync(ctx context.Context, progress func(ui.SyncProgress)) (ui.SyncResult, error) {
	end, err := s.store.BeginSync(ctx, s.operator)
	if err != nil {
		return ui.SyncResult{}, err // another operator's sync: its charges reach the store, and the view
	}
	defer end()
	before := s.store.ChargesChanged()
	res, err := s.client.Sync(ctx, s.store, paypalapi.SyncOptions{Since: s.since, Now: s.now, Progress: func(p paypalapi.SyncProgress) {
		progress(ui.SyncProgress{Charges: p.Charges, Fraction: p.Fraction})
	}})
	note := fmt.Sprintf("PayPal through %s: it lists transactions up to %s late", res.Through.Format("15:04 UTC"), reconcile.HumanDuration(res.Lag))
	return ui.SyncResult{Charges: int(s.store.ChargesChanged() - before), Note: note}, err
}

// syncAll runs its syncers in turn: the demo's Stripe and PayPal accounts.
type syncAll []ui.Syncer

func (all syncAll) Sync(ctx context.Context, progress func(ui.SyncProgress)) (ui.SyncResult, error) {
	var total ui.SyncResult
	for _, s := range all {
		res, err := s.Sync(ctx, progress)
		total.Charges, total.Events = total.Charges+res.Charges, total.Events+res.Events
		if res.Note != "" {
			total.Note = strings.TrimPrefix(total.Note+"; "+res.Note, "; ")
		}
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// syncers is the dashboard's background sync: of the Stripe account, the
// PayPal account, or both.
func syncers(client *stripeapi.Client, pp *paypalapi.Client, st *store.Store, opts stripeapi.SyncOptions, operator string) ui.Syncer {
	var all syncAll
	if client != nil {
		all = append(all, syncer{client, st, opts, operator})
	}
	if pp != nil {
		all = append(all, paypalSyncer{pp, st, opts.Since, opts.Now, operator})
	}
	if len(all) == 1 {
		return all[0]
	}
	return all
}
