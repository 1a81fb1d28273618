package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"doublecheck/reconcile"
	"doublecheck/stripeapi"
)

// shared are the flags every command accepts, so scripts can pass one set to all.
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

func (s *shared) register(fs *cmdFlags) {
	fs.StringVar(&s.db, "db", "", "the store `PATH` (default: one file per account and mode under your data dir)")
	fs.StringVar(&s.apiKey, "api-key", "", "Stripe secret or restricted `KEY` (default: STRIPE_API_KEY, then the stripe CLI's config)")
	fs.StringVar(&s.apiBase, "api-base", "", "Stripe-compatible server `URL` (default: STRIPE_API_BASE, then https://api.stripe.com)")
	fs.BoolVar(&s.readOnly, "read-only", false, "never refund: the refund key and command are turned off")
	fs.BoolVar(&s.dryRun, "dry-run", false, "rehearse refunds: show what would be refunded; send and record nothing")
}

// registerRefundDeadline adds --refund-deadline, the time one refund may wait
// for Stripe, to the commands that refund.
func registerRefundDeadline(fs *cmdFlags, deadline *time.Duration) {
	fs.DurationVar(deadline, "refund-deadline", stripeapi.DefaultRefundDeadline,
		"give up waiting for Stripe on one refund after `DURATION`, retries included; the refund stays pending and doublecheck refund --resume finishes it")
	fs.check(func() error {
		if *deadline <= 0 {
			return errors.New("--refund-deadline must be a positive duration such as 60s")
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

// maxMinorUnits is the largest amount Stripe takes (8 digits): a larger one
// cannot be a refund of a charge.
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
		case !slices.Contains([]reconcile.Confidence{reconcile.Low, reconcile.Medium, reconcile.High}, reconcile.Confidence(d.minConf)):
			return errors.New("--min-confidence must be low, medium or high")
		}
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

// cmdFlags is one command's flag set and its synopsis, for usage messages.
type cmdFlags struct {
	*flag.FlagSet
	synopsis string
	checks   []func() error // flag validations, run after parsing
}

// check adds a validation that parse runs; its error is reported like a parse
// error, with the command's usage.
func (f *cmdFlags) check(valid func() error) { f.checks = append(f.checks, valid) }

func newFlags(name, synopsis string) *cmdFlags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported once, by exitCode
	return &cmdFlags{FlagSet: fs, synopsis: synopsis}
}

// usage renders the synopsis and the flags, spelt with two dashes as the
// README and the help use them.
func (f *cmdFlags) usage() string {
	var b strings.Builder
	b.WriteString("Usage:\n  " + f.synopsis + "\n\nFlags:\n")
	f.VisitAll(func(fl *flag.Flag) {
		name, usage := flag.UnquoteUsage(fl)
		b.WriteString("  --" + fl.Name)
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
	return "Run 'doublecheck " + f.Name() + " --help' for its flags.\n"
}

// parseError turns the flag package's messages into a sentence about the flag
// as the user typed it. An unknown flag shows the usage; a bad value a hint.
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
		return &usageError{msg: fmt.Sprintf("--%s %q is not %s", name, value, want), usage: f.hint()}
	}
	msg = strings.Replace(msg, "provided but not defined: -", "provided but not defined: --", 1)
	return &usageError{msg: msg, usage: f.usage()}
}

// parse parses flags that may come before or after positional arguments
// ("import FILE --db x" and "import --db x FILE" both work) and checks the count
// of positional arguments.
func (f *cmdFlags) parse(args []string, positional int, stdout io.Writer) ([]string, error) {
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
	if len(rest) != positional {
		msg := "unexpected argument " + strings.Join(rest[min(positional, len(rest)):], " ")
		if len(rest) < positional {
			msg = "missing argument"
		}
		return nil, &usageError{msg: msg, usage: f.usage()}
	}
	return rest, nil
}
