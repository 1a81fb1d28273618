package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/doublecheck-dev/doublecheck/reconcile"
	"github.com/doublecheck-dev/doublecheck/sandbox"
	"github.com/doublecheck-dev/doublecheck/store"
)

// demoRate is the demo's request budget against its own sandbox.
const demoRate = 500

// demoArrivalEvery is how often a new order reaches the demo's sandbox.
const demoArrivalEvery = 10 * time.Second

// demoOptions are what doublecheck demo was asked for.
type demoOptions struct {
	env   Env
	sh    shared
	det   detection
	dash  dashboardFlags
	serve string // only run the sandbox, on this address
	seed  int64
}

func newDemoCmd(env Env, runF func(context.Context, *demoOptions) error) *command {
	opts := &demoOptions{env: env}
	fs := newFlags("demo", "doublecheck demo [--serve ADDR]")
	opts.sh.register(fs, env, usesRefunds|ownStore) // the demo's key and server are the sandbox's
	opts.det.register(fs)
	opts.dash.register(fs, env.Now)
	fs.hide("provider", "paypal-env", "paypal-base") // the demo's providers are the sandbox's
	fs.StringVar(&opts.serve, "serve", "", "only run the sandbox on `ADDR` (e.g. 127.0.0.1:12111) for curl or other Stripe clients")
	fs.Int64Var(&opts.seed, "seed", 1, "the sandbox's random `SEED`: the same seed gives the same account")
	return &command{flags: fs, run: func(ctx context.Context, _ []string) error {
		return runner(runF, runDemo)(ctx, opts)
	}}
}

func runDemo(ctx context.Context, opts *demoOptions) error {
	env, sh, dash := opts.env, &opts.sh, &opts.dash
	// Orders keep arriving while the demo runs (every fourth a fresh duplicate),
	// so the background sync has something new to find and highlight.
	srv := sandbox.New(sandbox.Options{Seed: opts.seed, ArrivalEvery: demoArrivalEvery})
	if opts.serve != "" {
		return serveSandbox(ctx, env, srv, opts.serve)
	}
	if !env.Terminal {
		return errNoTerminal
	}
	url, shutdown, err := srv.Listen("127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("start the sandbox: %w", err)
	}
	defer shutdown(context.Background())

	if sh.db == "" {
		dir, err := demoDir(env)
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		sh.db = filepath.Join(dir, "demo.db")
	}
	if err := importKeyLog(ctx, sh.db, srv); err != nil {
		return err
	}
	env, stopAdyen, err := startAdyenDemo(ctx, env, sh.db, opts.seed)
	if stopAdyen != nil {
		defer stopAdyen(context.Background())
	}
	if err != nil {
		return err
	}
	// The sandbox is a PayPal account too: its payments sit beside Stripe's,
	// synced and refunded through PayPal's API.
	if dash.paypal, err = demoPayPal(url); err != nil {
		return err
	}
	// The demo is the sandbox and nothing else: ignore any real key or server.
	sh.apiKey, sh.apiBase, dash.provider = sandbox.TestKey, url, providerFlags{}
	dash.demo = true
	if dash.sync.rate == 0 {
		// No production traffic shares this server's limit: sync at loopback speed.
		dash.sync.rate = demoRate
	}
	return dashboard(ctx, env, sh, &opts.det, dash)
}

// demoDir is a fresh directory for the demo's store under the user's cache dir.
func demoDir(env Env) (string, error) {
	if err := os.MkdirAll(env.CacheDir, 0o700); err != nil {
		return "", fmt.Errorf("demo store: %w", err)
	}
	dir, err := os.MkdirTemp(env.CacheDir, "demo-*")
	if err != nil {
		return "", fmt.Errorf("demo store: %w", err)
	}
	return dir, nil
}

func serveSandbox(ctx context.Context, env Env, srv *sandbox.Server, addr string) error {
	url, shutdown, err := srv.Listen(addr)
	if err != nil {
		return fmt.Errorf("start the sandbox on %s: %w", addr, err)
	}
	fmt.Fprintf(env.Stdout, "sandbox listening on %s\n  try: curl -u %s: %s/v1/charges?limit=3\n  or:  STRIPE_API_BASE=%s STRIPE_API_KEY=%s doublecheck sync\n"+
		"  PayPal: PAYPAL_CLIENT_ID=%s PAYPAL_CLIENT_SECRET=%s doublecheck sync --provider paypal --paypal-env sandbox --paypal-base %s\n(ctrl+c stops it)\n",
		url, sandbox.TestKey, url, url, sandbox.TestKey, sandbox.PayPalClientID, sandbox.PayPalSecret, url)
	<-ctx.Done()
	stopCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return shutdown(stopCtx)
}

// importKeyLog loads the sandbox merchant's idempotency-key log into the demo
// store, through the same reader as `doublecheck keys import`, so the demo
// shows what the log adds: double submits, retries whose first key had no
// charge, keys that never charged.
func importKeyLog(ctx context.Context, db string, srv *sandbox.Server) error {
	var log bytes.Buffer
	if err := srv.WriteKeyLogCSV(&log); err != nil {
		return err
	}
	keys, _, err := reconcile.ReadKeyLog(&log, "the sandbox's key log")
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, db)
	if err != nil {
		return err
	}
	defer st.Close()
	return st.SaveKeys(ctx, keys)
}
