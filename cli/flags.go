package cli

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"slices"
	"strings"
	"time"

	"doublecheck/reconcile"
)

// shared are the flags every command accepts, so scripts can pass one set to all.
type shared struct {
	db       string
	apiKey   string
	apiBase  string
	readOnly bool
	dryRun   bool
}

func (s *shared) register(fs *cmdFlags) {
	fs.StringVar(&s.db, "db", "", "the store `PATH` (default: one file per account and mode under your data dir)")
	fs.StringVar(&s.apiKey, "api-key", "", "Stripe secret or restricted `KEY` (default: STRIPE_API_KEY, then the stripe CLI's config)")
	fs.StringVar(&s.apiBase, "api-base", "", "Stripe-compatible server `URL` (default: STRIPE_API_BASE, then https://api.stripe.com)")
	fs.BoolVar(&s.readOnly, "read-only", false, "never refund: the refund key and command are turned off")
	fs.BoolVar(&s.dryRun, "dry-run", false, "record what a refund would do and call nothing")
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

// usage renders the synopsis and the flags.
func (f *cmdFlags) usage() string {
	var b bytes.Buffer
	b.WriteString("Usage:\n  " + f.synopsis + "\n\nFlags:\n")
	f.SetOutput(&b)
	f.PrintDefaults()
	f.SetOutput(io.Discard)
	return b.String()
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
			return nil, &usageError{msg: err.Error(), usage: f.usage()}
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
			return nil, &usageError{msg: err.Error(), usage: f.usage()}
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
