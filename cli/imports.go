package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"doublecheck/reconcile"
	"doublecheck/store"
	"doublecheck/stripeapi"
)

const keysSynopsis = "doublecheck keys import FILE   (CSV with a header, or JSONL: idempotency_key, order_ref, charge_id, created_at)"

// importOptions are what doublecheck import or doublecheck keys import was asked for.
type importOptions struct {
	env  Env
	sh   shared
	yes  bool
	path string // the file, - for standard input
}

func newImportCmd(env Env, runF func(context.Context, *importOptions) error) *command {
	return newImportFileCmd(env, runF, runImport,
		newFlags("import", "doublecheck import FILE   (a Stripe list response, a JSON array or JSONL of charges; - for stdin)"))
}

func runImport(ctx context.Context, opts *importOptions) error {
	return importFile(ctx, opts, stripeapi.DecodeCharges, saveImportedCharges, chargesLive, "charge")
}

// chargesLive is the mode of an imported file, by its first charge (a file
// that mixes modes is refused when it is saved).
func chargesLive(charges []reconcile.Charge) bool {
	return len(charges) > 0 && charges[0].Livemode
}

// saveImportedCharges stores imported charges in a store of their mode, and
// records that mode: live data shows as LIVE even without an account, and a
// file of the other mode is refused later. A file that mixes modes, or whose
// mode is not the store's, is refused: test charges among live ones would be
// offered for refund as live duplicates, and the other way round hidden.
func saveImportedCharges(st *store.Store, ctx context.Context, charges []reconcile.Charge) error {
	if len(charges) == 0 {
		return nil
	}
	fileLive := charges[0].Livemode
	for _, c := range charges[1:] {
		if c.Livemode != fileLive {
			return fmt.Errorf("the file mixes modes: %s is %s and %s is %s; import each mode into a store of its own",
				charges[0].ID, modeName(fileLive), c.ID, modeName(c.Livemode))
		}
	}
	var modeErr *store.ModeError
	if err := st.FixMode(ctx, fileLive); errors.As(err, &modeErr) {
		return fmt.Errorf("the file holds %s charges but the store %s is a %s store; nothing was stored: import it into another store with --db PATH",
			modeName(fileLive), st.Path(), modeName(modeErr.StoreLive))
	} else if err != nil {
		return err
	}
	return st.SaveSyncBatch(ctx, charges, nil, reconcile.Observations{}, nil)
}

// modeName is how an error names a mode.
func modeName(live bool) string {
	if live {
		return "LIVE"
	}
	return "test-mode"
}

func newKeysImportCmd(env Env, runF func(context.Context, *importOptions) error) *command {
	return newImportFileCmd(env, runF, runKeysImport, newFlags("keys import", keysSynopsis))
}

func runKeysImport(ctx context.Context, opts *importOptions) error {
	return importFile(ctx, opts, reconcile.ReadKeyLog, (*store.Store).SaveKeys, nil, "idempotency key")
}

// newImportFileCmd is a command that imports one file: the flags both imports take.
func newImportFileCmd(env Env, runF, run func(context.Context, *importOptions) error, fs *cmdFlags) *command {
	opts := &importOptions{env: env}
	opts.sh.register(fs, usesStripe)
	fs.BoolVar(&opts.yes, "yes", false, "import into the store of your key's account even though it holds synced data (required without a terminal; a terminal asks)")
	return &command{flags: fs, args: 1, run: func(ctx context.Context, args []string) error {
		opts.path = args[0]
		return runner(runF, run)(ctx, opts)
	}}
}

// importFile decodes a whole file (or stdin for "-") before anything is stored,
// then saves it in one transaction: a bad line anywhere means nothing is imported.
func importFile[T any](ctx context.Context, opts *importOptions,
	decode func(r io.Reader, name string) (items []T, repeated int, err error),
	save func(*store.Store, context.Context, []T) error, fileLive func([]T) bool, noun string) error {
	env, sh, yes, path := opts.env, &opts.sh, opts.yes, opts.path
	items, repeated, err := decodeFile(env, path, decode)
	if err != nil {
		return err
	}
	if fileLive != nil {
		live := fileLive(items) // without a key, a live file goes into local-live.db
		sh.keylessLive = &live
	}
	st, err := sh.openLocalStore(ctx, env)
	if err != nil {
		return err
	}
	defer st.Close()
	if sh.db == "" && !yes {
		// Standard input holds the file, so only --yes can agree to it.
		canAsk := env.Terminal && path != "-"
		if err := agreeToSyncedStore(ctx, env, st, fmt.Sprintf("%s from %s", reconcile.Plural(len(items), noun), path), canAsk); err != nil {
			return err
		}
	}
	if err := save(st, ctx, items); err != nil {
		return fmt.Errorf("import %s: %w", path, err)
	}
	fmt.Fprintf(env.Stderr, "imported %s%s from %s into %s\n", reconcile.Plural(len(items), noun), repeatNote(repeated), path, st.Path())
	return nil
}

// errImportCancelled is the answer no to agreeToSyncedStore.
var errImportCancelled = errors.New("import cancelled: nothing was stored")

// agreeToSyncedStore lets an import into a store that holds data synced from
// Stripe go ahead only when the operator agrees on a terminal; without one it
// refuses and says how to agree (--yes) or choose another store (--db). The
// store was not named: it is the one the key's account syncs into, and a
// file mixed into it shows as that account's own data.
func agreeToSyncedStore(ctx context.Context, env Env, st *store.Store, what string, canAsk bool) error {
	account, live, err := storeAccount(ctx, st)
	if err != nil {
		return err
	}
	lastSync, err := st.State(ctx, stripeapi.StateLastSync)
	if err != nil {
		return err
	}
	if account == "" && lastSync == "" {
		return nil
	}
	if account == "" {
		account = "an account"
	}
	holder := fmt.Sprintf("the store %s, which holds the synced data of %s (%s)", st.Path(), account, modeLabel(live, false))
	if !canAsk {
		return fmt.Errorf("refusing to import %s into %s: pass --db PATH for another store, or --yes to import into this one", what, holder)
	}
	fmt.Fprintf(env.Stdout, "Import %s into %s? [y/N] ", what, holder)
	line, err := bufio.NewReader(env.Stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read confirmation: %w", err)
	}
	if answer := strings.TrimSpace(line); !strings.EqualFold(answer, "y") && !strings.EqualFold(answer, "yes") {
		return errImportCancelled
	}
	return nil
}

// repeatNote says how many records of a file were repeats, stored once.
func repeatNote(repeated int) string {
	if repeated == 0 {
		return ""
	}
	return " (" + reconcile.Plural(repeated, "repeated record") + ", each stored once)"
}

func decodeFile[T any](env Env, path string, decode func(r io.Reader, name string) ([]T, int, error)) ([]T, int, error) {
	if path == "-" {
		return decode(env.Stdin, "standard input")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("cannot read %s: %w", path, err)
	}
	defer f.Close()
	return decode(f, path)
}
