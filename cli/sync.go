package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/bubbles/progress"

	"github.com/doublecheck-dev/doublecheck/reconcile"
	"github.com/doublecheck-dev/doublecheck/store"
	"github.com/doublecheck-dev/doublecheck/stripeapi"
)

// syncFlags are the knobs of a sync, shared by the sync command and the dashboard.
type syncFlags struct {
	since       string
	concurrency int
	rate        float64
	from        time.Time // since, read against the clock when the flags are checked
}

// register adds the sync flags; now is the clock --since counts back from.
func (f *syncFlags) register(fs *cmdFlags, now func() time.Time) {
	fs.StringVar(&f.since, "since", "90d", "backfill charges created after `WHEN`: a span like 90d or 36h, or a date like 2026-01-31")
	fs.IntVar(&f.concurrency, "concurrency", 0, "parallel `WORKERS` for the backfill (default: enough to use the rate, at least 8)")
	fs.Float64Var(&f.rate, "rate", 0, "client-side request `LIMIT` per second (default 10 in test mode, 20 in live mode)")
	fs.check(func() error {
		var err error
		switch f.from, err = parseSince(f.since, now()); {
		case err != nil:
			return err
		case f.concurrency < 0:
			return errors.New("--concurrency must not be negative")
		case f.rate < 0:
			return errors.New("--rate must not be negative")
		}
		return nil
	})
}

// options are the sync options the flags ask for (already checked); now is the
// command's clock, which charges' created times are checked against.
func (f *syncFlags) options(now func() time.Time) stripeapi.SyncOptions {
	return stripeapi.SyncOptions{Since: f.from, Concurrency: f.concurrency, Rate: f.rate, Now: now}
}

// parseSince reads "90d", "36h", "2026-01-31" or an RFC 3339 time.
func parseSince(s string, now time.Time) (time.Time, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n > 0 {
			return now.AddDate(0, 0, -n), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.DateOnly, time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("--since %q is neither a span like 90d or 36h nor a date like 2026-01-31", s)
}

// syncOptions are what doublecheck sync was asked for.
type syncOptions struct {
	env      Env
	sh       shared
	sync     syncFlags
	operator string
	provider providerFlags
}

func newSyncCmd(env Env, runF func(context.Context, *syncOptions) error) *command {
	opts := &syncOptions{env: env}
	fs := newFlags("sync", "doublecheck sync [--since 90d] [--concurrency N] [--rate N] [--operator NAME] [--provider paypal --paypal-env sandbox|live]")
	opts.sh.register(fs, env, usesStripe)
	opts.sync.register(fs, env.Now)
	fs.StringVar(&opts.operator, "operator", "", "`NAME` a shared store shows as running this sync (default: your OS user)")
	opts.provider.register(fs)
	return &command{flags: fs, run: func(ctx context.Context, _ []string) error {
		return runner(runF, runSync)(ctx, opts)
	}}
}

func runSync(ctx context.Context, opts *syncOptions) error {
	if opts.provider.paypal() {
		return runPayPalSync(ctx, opts)
	}
	env := opts.env
	syncOpts := opts.sync.options(env.Now)
	client, acct, st, err := opts.sh.connect(ctx, env)
	if err != nil {
		return err
	}
	defer st.Close()
	end, err := beginSync(ctx, env, st, opts.operator)
	if end == nil || err != nil {
		return err
	}
	defer end()
	fmt.Fprintf(env.Stderr, "syncing %s (%s) into %s, %s\n", acct.Name, modeLabel(acct.Live, env.StderrTerminal), st.Path(), keyNote(client))
	meter := newSyncMeter(env.Stderr, env.StderrTerminal, env.Now)
	syncOpts.Progress = meter.update
	syncOpts.Warn = meter.warn
	res, err := client.Sync(ctx, st, syncOpts)
	meter.done()
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "synced %s and %s in %s (%s)\n", reconcile.Plural(res.Charges, "charge"), reconcile.Plural(res.Events, "event"),
		reconcile.Plural(res.Requests, "request"), res.Elapsed.Round(time.Millisecond))
	return nil
}

// beginSync makes this process the one syncing a shared store (see
// store.BeginSync). A sync another operator runs is no failure (it brings the
// same charges): it is said on stderr, and end is nil.
func beginSync(ctx context.Context, env Env, st *store.Store, operator string) (end func(), err error) {
	end, err = st.BeginSync(ctx, operatorName(operator, env))
	var running *store.SyncRunningError
	if errors.As(err, &running) {
		fmt.Fprintln(env.Stderr, running.Error())
		return nil, nil
	}
	return end, err
}

// syncMeter shows sync progress on stderr: a redrawn bar on a terminal, a plain
// line every few seconds otherwise (logs stay readable).
type syncMeter struct {
	mu       sync.Mutex
	w        io.Writer
	terminal bool
	bar      progress.Model
	now      func() time.Time
	last     time.Time
	drawn    bool
}

func newSyncMeter(w io.Writer, terminal bool, now func() time.Time) *syncMeter {
	// The first line waits for an interval too: "0 charges" says nothing.
	return &syncMeter{w: w, terminal: terminal, now: now, last: now(),
		bar: progress.New(progress.WithDefaultGradient(), progress.WithWidth(30))}
}

func (m *syncMeter) update(p stripeapi.SyncProgress) {
	line := fmt.Sprintf("%s · %s · %.0f charges/s", reconcile.Plural(p.Charges, "charge"), reconcile.Plural(p.Pages, "page"), p.Rate)
	if p.ETA > 0 {
		line += " · ETA " + p.ETA.Round(time.Second).String()
	}
	m.show(p.Fraction, line)
}

// show draws the bar at fraction with line beside it, at most every 100 ms
// on a terminal and every 5 s otherwise.
func (m *syncMeter) show(fraction float64, line string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	interval := 5 * time.Second
	if m.terminal {
		interval = 100 * time.Millisecond
	}
	if m.now().Sub(m.last) < interval {
		return
	}
	m.last = m.now()
	if m.terminal {
		fmt.Fprintf(m.w, "\r\x1b[2K%s %s", m.bar.ViewAs(fraction), line)
		m.drawn = true
		return
	}
	fmt.Fprintln(m.w, "sync: "+line)
}

func (m *syncMeter) warn(msg string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.endLine()
	fmt.Fprintln(m.w, "warning: "+msg)
}

func (m *syncMeter) done() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.endLine()
}

func (m *syncMeter) endLine() {
	if m.drawn {
		fmt.Fprint(m.w, "\r\x1b[2K")
		m.drawn = false
	}
}
