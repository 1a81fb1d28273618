package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/doublecheck-dev/doublecheck/reconcile"
	"github.com/doublecheck-dev/doublecheck/refunding"
)

// shared are the flags every command accepts, so scripts can pass one set to
// all. A command's help lists only those it uses (see sharedUse).
type shared struct {
	db       string
	apiKey   string
	apiBase  string
	readOnly bool
	dryRun   bool
	// keylessLive, when set, picks local-live.db or local-test.db as the store
	// used without a key: the mode of an imported file.
	keylessLive *bool
	// mustExist opens the store only if it exists (store.OpenExisting).
	mustExist bool
	// offline never asks Stripe, not even whose account the key opens: a
	// dry run calls nothing.
	offline bool
}

// sharedUse says which shared flags beyond --db a command uses; the others are
// accepted and left out of its help.
type sharedUse int

const (
	usesStripe  sharedUse = 1 << iota // --api-key, --api-base: the key's account or Stripe itself
	usesRefunds                       // --read-only, --dry-run
	// ownStore: the store is --db or the command's own, never DOUBLECHECK_DB
	// (the demo: its sandbox data stays out of a shared store).
	ownStore
)

// EnvDB names the store (a path or a postgres:// URL) of every command run
// without --db.
const EnvDB = "DOUBLECHECK_DB"

func (s *shared) register(fs *cmdFlags, env Env, uses sharedUse) {
	if uses&ownStore != 0 {
		fs.StringVar(&s.db, "db", "", "the store `PATH` or postgres:// URL (default: a temporary file)")
	} else {
		fs.StringVar(&s.db, "db", "", "the store `PATH`, or a postgres:// URL for a store shared by a team (default: "+EnvDB+", else one file per account and mode under your data dir)")
		fs.check(func() error {
			if s.db == "" {
				s.db = env.Getenv(EnvDB)
			}
			return nil
		})
	}
	fs.StringVar(&s.apiKey, "api-key", "", "Stripe secret or restricted `KEY` (default: STRIPE_API_KEY, then the stripe CLI's config)")
	fs.StringVar(&s.apiBase, "api-base", "", "Stripe-compatible server `URL` (default: STRIPE_API_BASE, then https://api.stripe.com)")
	fs.BoolVar(&s.readOnly, "read-only", false, "never refund: the refund key and command are turned off")
	fs.BoolVar(&s.dryRun, "dry-run", false, "rehearse: show what would be refunded or recorded; send and record nothing")
	if uses&usesStripe == 0 {
		fs.hide("api-key", "api-base")
	}
	if uses&usesRefunds == 0 {
		fs.hide("read-only", "dry-run")
	}
}

// registerRefundDeadline adds --refund-deadline, the time one refund may wait
// for its provider, to the commands that refund.
func registerRefundDeadline(fs *cmdFlags, deadline *time.Duration) {
	fs.DurationVar(deadline, "refund-deadline", refunding.DefaultRefundDeadline,
		"give up waiting for the provider on one refund after `DURATION` (at most "+reconcile.MaxRefundDeadline.String()+"), retries included; the refund stays pending and doublecheck refund --resume finishes it")
	fs.check(func() error {
		if *deadline <= 0 {
			return errors.New("--refund-deadline must be a positive duration such as 60s")
		}
		if *deadline > reconcile.MaxRefundDeadline {
			// Past it, another operator's doublecheck could take the refund
			// over while this one still waits for Stripe.
			return fmt.Errorf("--refund-deadline may be at most %s: a refund attempt holds its charge for %s, after which another operator may resume it", reconcile.MaxRefundDeadline, reconcile.RefundLease)
		}
		return nil
	})
}

// minorUnits is a flag holding an amount in minor units (cents), written in
// decimal digits only. flag.Int64Var reads "0500" as octal (320), "0x10" as
// hex and accepts "1_000" and "+5": on the money path a typed amount means
// exactly the digits typed, or it is refused.
type minorUnits struct {
	value int64
	set   bool
}

// maxMinorUnits is the largest amount of a charge of any provider
// (reconcile.ValidateCharge): a larger one cannot be a refund of a charge.
const maxMinorUnits = reconcile.MaxAmount

const minorUnitsWant = "a whole number of minor units in decimal digits only, at most 99999999 (500 is 5.00 USD)"

func (m *minorUnits) String() string {
	if m == nil || !m.set {
		return ""
	}
	return strconv.FormatInt(m.value, 10)
}

func (m *minorUnits) Set(s string) error {
	n, err := strconv.ParseInt(s, 10, 64)
	if s == "" || strings.TrimLeft(s, "0123456789") != "" || err != nil || n > maxMinorUnits {
		return errors.New(minorUnitsWant)
	}
	m.value, m.set = n, true
	return nil
}

// detection are the flags that shape duplicate detection.
type detection struct {
	window     time.Duration
	orderField string
	keyFields  string
	minConf    string
}

func (d *detection) register(fs *cmdFlags) {
	def := reconcile.DefaultOptions()
	fs.DurationVar(&d.window, "window", def.Window, "charges this close together can be duplicates")
	fs.StringVar(&d.orderField, "order-field", def.OrderField, "metadata `FIELD` holding your order reference")
	fs.StringVar(&d.keyFields, "key-fields", strings.Join(def.KeyFields, ","), "metadata `FIELDS` (comma-separated) holding an idempotency key")
	fs.StringVar(&d.minConf, "min-confidence", "low", "hide groups below `LEVEL`: low, medium or high")
	fs.check(func() error {
		switch {
		case d.window <= 0:
			return errors.New("--window must be a positive duration such as 10m")
		}
		conf, err := reconcile.ParseConfidence(d.minConf)
		if err != nil || conf == "" {
			return errors.New("--min-confidence must be low, medium or high")
		}
		d.minConf = string(conf)
		return nil
	})
}

// options are the detection options the flags ask for (already validated).
func (d *detection) options() reconcile.Options {
	opts := reconcile.DefaultOptions()
	opts.Window = d.window
	opts.OrderField = strings.TrimSpace(d.orderField)
	opts.KeyFields = nil
	for _, f := range strings.Split(d.keyFields, ",") {
		if f = strings.TrimSpace(f); f != "" {
			opts.KeyFields = append(opts.KeyFields, f)
		}
	}
	opts.MinConfidence = reconcile.Confidence(d.minConf)
	return opts
}

// command is one doublecheck command, built as the GitHub CLI builds its own
// (NewCmdX(f, runF)): a constructor binds the flags to the command's options
// struct — that is the parse step, testable alone — and run hands the options,
// once parsed and checked, to the command's run step, or to the runF a test gave.
type command struct {
	flags *cmdFlags
	args  int // how many positional arguments it takes
	// maxArgs, when above args, is how many it may take at most.
	maxArgs int
	run     func(ctx context.Context, args []string) error
}

// execute parses args into the command's options and runs it.
func (c *command) execute(ctx context.Context, stdout io.Writer, args []string) error {
	rest, err := c.flags.parse(args, c.args, max(c.args, c.maxArgs), stdout)
	if err != nil {
		return err
	}
	return c.run(ctx, rest)
}

// runner is the run step a command calls: the test's runF when one was given.
func runner[O any](runF, run func(context.Context, *O) error) func(context.Context, *O) error {
	if runF != nil {
		return runF
	}
	return run
}

// cmdFlags is one command's flag set and its synopsis, for usage messages.
type cmdFlags struct {
	*flag.FlagSet
	synopsis string
	checks   []func() error    // flag validations, run after parsing
	hidden   map[string]bool   // accepted, left out of the help
	short    map[string]string // long name → its one-letter alias
}

// check adds a validation that parse runs; its error is reported like a parse
// error, with a pointer to the command's help.
func (f *cmdFlags) check(valid func() error) { f.checks = append(f.checks, valid) }

// hide leaves flags out of the help: accepted for scripts, unused by the command.
func (f *cmdFlags) hide(names ...string) {
	for _, name := range names {
		f.hidden[name] = true
	}
}

// alias makes -letter another name for --name.
func (f *cmdFlags) alias(letter, name string) {
	f.Var(f.Lookup(name).Value, letter, "")
	f.short[name] = letter
	f.hidden[letter] = true
}

func newFlags(name, synopsis string) *cmdFlags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported once, by exitCode
	return &cmdFlags{FlagSet: fs, synopsis: synopsis, hidden: map[string]bool{}, short: map[string]string{}}
}

// usage renders the synopsis and the flags the command uses, spelt with two
// dashes as the README and the help use them.
func (f *cmdFlags) usage() string {
	var b strings.Builder
	b.WriteString("Usage:\n  " + f.synopsis + "\n\nFlags:\n")
	b.WriteString(f.flagList())
	return b.String()
}

// flagList is one entry per flag the command uses.
func (f *cmdFlags) flagList() string {
	var b strings.Builder
	f.VisitAll(func(fl *flag.Flag) {
		if f.hidden[fl.Name] {
			return
		}
		name, usage := flag.UnquoteUsage(fl)
		b.WriteString("  ")
		if letter, ok := f.short[fl.Name]; ok {
			b.WriteString("-" + letter + ", ")
		}
		b.WriteString("--" + fl.Name)
		if name != "" {
			b.WriteString(" " + name)
		}
		b.WriteString("\n        " + usage)
		if fl.DefValue != "" && fl.DefValue != "0" && fl.DefValue != "false" {
			b.WriteString(" (default " + fl.DefValue + ")")
		}
		b.WriteString("\n")
	})
	return b.String()
}

// hint points to the full usage without printing it: a bad value needs one
// sentence, not a page of flags.
func (f *cmdFlags) hint() string {
	if f.Name() == dashboardName {
		return rootHint
	}
	return "Run 'doublecheck " + f.Name() + " --help' for its flags.\n"
}

// flagName is a flag as the user types it: -o, --db.
func flagName(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// parseError turns the flag package's messages into one sentence about the
// flag as the user typed it, and a pointer to the command's help.
func (f *cmdFlags) parseError(err error) error {
	msg := err.Error()
	var value, name string
	if _, scanErr := fmt.Sscanf(msg, "invalid value %q for flag -%s", &value, &name); scanErr == nil {
		name = strings.TrimSuffix(name, ":")
		want := "a valid value"
		if _, ok := f.Lookup(name).Value.(*minorUnits); ok {
			want = minorUnitsWant
		}
		if getter, ok := f.Lookup(name).Value.(flag.Getter); ok {
			switch getter.Get().(type) {
			case time.Duration:
				want = "a duration such as 10m or 36h"
			case int, int64:
				want = "a whole number"
			case float64:
				want = "a number"
			case bool:
				want = "true or false"
			}
		}
		return &usageError{msg: fmt.Sprintf("%s %q is not %s", flagName(name), value, want), usage: f.hint()}
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		msg = "flag needs an argument: " + flagName(name)
	}
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		msg = "flag provided but not defined: " + flagName(name)
		if near := f.nearest(name); near != "" {
			msg += "; did you mean " + flagName(near) + "?"
		}
	}
	return &usageError{msg: msg, usage: f.hint()}
}

// nearest is the flag in the help whose name is a slip away from a mistyped
// one (--dryrun, --dry_run, --windwo), or "": one edit, two for names of six
// letters or more, so a short name is not matched to an unrelated one.
func (f *cmdFlags) nearest(typed string) string {
	best, bestDist := "", max(1, min(2, len(typed)/3))+1
	f.VisitAll(func(fl *flag.Flag) {
		if f.hidden[fl.Name] {
			return
		}
		if d := editDistance(typed, fl.Name); d < bestDist {
			best, bestDist = fl.Name, d
		}
	})
	return best
}

// editDistance is the Damerau–Levenshtein distance (optimal string alignment)
// between a and b: a swap of two neighbours counts as one edit.
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// parse parses flags that may come before or after positional arguments
// ("import FILE --db x" and "import --db x FILE" both work) and checks the count
// of positional arguments.
func (f *cmdFlags) parse(args []string, positional, maxPositional int, stdout io.Writer) ([]string, error) {
	var rest []string
	for {
		if err := f.Parse(args); err != nil {
			if err == flag.ErrHelp {
				io.WriteString(stdout, f.usage())
				return nil, err
			}
			return nil, f.parseError(err)
		}
		args = f.Args()
		if len(args) == 0 {
			break
		}
		rest = append(rest, args[0])
		args = args[1:]
	}
	for _, valid := range f.checks {
		if err := valid(); err != nil {
			return nil, &usageError{msg: err.Error(), usage: f.hint()}
		}
	}
	if len(rest) < positional || len(rest) > maxPositional {
		msg := "unexpected argument " + strings.Join(rest[min(maxPositional, len(rest)):], " ")
		if len(rest) < positional {
			msg = "missing argument"
		}
		return nil, &usageError{msg: msg, usage: "Usage: " + f.synopsis + "\n" + f.hint()}
	}
	return rest, nil
}
