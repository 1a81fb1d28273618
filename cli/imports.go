package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
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
	return importFile(ctx, opts, importCharges, peekChargesLive, "charge")
}

// importer reads the file r, called name, into st in one transaction: all of
// it or nothing. confirm is asked, with the number of distinct records and of
// repeats left out, before anything is committed, and may refuse.
type importer func(ctx context.Context, st *store.Store, r io.Reader, name string,
	confirm func(count, repeated int) error) (count, repeated int, err error)

// importCharges streams the charges of a file into st. A file that mixes
// modes, or whose mode is not the store's, is refused: test charges among live
// ones would be offered for refund as live duplicates, and the other way round
// hidden. A store's mode is fixed by its first write, so an import into a store
// without one records the file's: live data shows as LIVE even without an
// account, and a file of the other mode is refused later.
func importCharges(ctx context.Context, st *store.Store, r io.Reader, name string,
	confirm func(count, repeated int) error) (count, repeated int, err error) {
	// The store's mode: read before the import adds anything.
	storeLive, known, err := st.Mode(ctx)
	if err != nil {
		return 0, 0, err
	}
	var firstID string
	var fileLive bool
	err = st.ImportCharges(ctx, func(imp *store.ChargeImport) error {
		err := stripeapi.StreamCharges(r, name, func(rec *stripeapi.ChargeRecord) error {
			c := &rec.Charge
			if firstID == "" {
				firstID, fileLive = c.ID, c.Livemode
			} else if c.Livemode != fileLive {
				return fmt.Errorf("import %s: the file mixes modes: %s is %s and %s is %s; import each mode into a store of its own",
					name, firstID, modeName(fileLive), c.ID, modeName(c.Livemode))
			}
			return imp.Add(rec.Charge, rec.Place, rec.Digest)
		})
		if err != nil {
			return err
		}
		if count, repeated, err = imp.Counts(); err != nil {
			return err
		}
		if err := confirm(count, repeated); err != nil {
			return err
		}
		switch {
		case count == 0:
			return nil
		case known && storeLive != fileLive:
			return fmt.Errorf("import %s: the file holds %s charges but the store %s is a %s store; nothing was stored: import it into another store with --db PATH",
				name, modeName(fileLive), st.Path(), modeName(storeLive))
		case known:
			return nil
		}
		return imp.SetState(store.StateLivemode, strconv.FormatBool(fileLive))
	})
	return count, repeated, err
}

// errModeFound ends a peek at a file's first charge.
var errModeFound = errors.New("mode found")

// peekChargesLive reads the first charge of the file r to learn its mode
// (without a key, a live file goes into a live store of its own), and returns
// a reader that still starts at the beginning of the file.
func peekChargesLive(r io.Reader, name string) (io.Reader, bool, error) {
	var (
		live bool
		read bytes.Buffer
	)
	err := stripeapi.StreamCharges(io.TeeReader(r, &read), name, func(rec *stripeapi.ChargeRecord) error {
		live = rec.Charge.Livemode
		return errModeFound
	})
	if err != nil && !errors.Is(err, errModeFound) {
		return nil, false, err
	}
	if f, ok := r.(io.Seeker); ok {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, false, fmt.Errorf("read %s: %w", name, err)
		}
		return r, live, nil
	}
	return io.MultiReader(&read, r), live, nil
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
	return importFile(ctx, opts, importKeys, nil, "idempotency key")
}

// importKeys reads a key log whole (key logs are small: one row per order)
// and saves it in one transaction.
func importKeys(ctx context.Context, st *store.Store, r io.Reader, name string,
	confirm func(count, repeated int) error) (count, repeated int, err error) {
	records, repeated, err := reconcile.ReadKeyLog(r, name)
	if err != nil {
		return 0, 0, err
	}
	if err := confirm(len(records), repeated); err != nil {
		return 0, 0, err
	}
	if err := st.SaveKeys(ctx, records); err != nil {
		return 0, 0, fmt.Errorf("import %s: %w", name, err)
	}
	return len(records), repeated, nil
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

// importFile imports a file (or stdin for "-") into the store in one
// transaction: a bad line anywhere means nothing is imported. peekLive, when
// given, learns the file's mode first, for the store used without a key.
func importFile(ctx context.Context, opts *importOptions, load importer,
	peekLive func(io.Reader, string) (io.Reader, bool, error), noun string) error {
	env, sh, yes, path := opts.env, &opts.sh, opts.yes, opts.path
	r, name := io.Reader(env.Stdin), "standard input"
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("cannot read %s: %w", path, err)
		}
		defer f.Close()
		r, name = f, path
	}
	if peekLive != nil {
		var (
			live bool
			err  error
		)
		if r, live, err = peekLive(r, name); err != nil {
			return err
		}
		sh.keylessLive = &live
	}
	st, created, err := sh.openLocalStore(ctx, env)
	if err != nil {
		return err
	}
	defer st.Close()
	confirm := func(count, _ int) error {
		if sh.db != "" || yes {
			return nil
		}
		// Standard input holds the file, so only --yes can agree to it.
		canAsk := env.Terminal && path != "-"
		return agreeToSyncedStore(ctx, env, st, fmt.Sprintf("%s from %s", reconcile.Plural(count, noun), path), canAsk)
	}
	count, repeated, err := load(ctx, st, r, name, confirm)
	if err != nil {
		if created {
			// The file is read as it is stored, so the store exists before
			// a bad line is found: one made for this import goes again.
			st.Close()
			removeStore(st.Path())
		}
		return err
	}
	fmt.Fprintf(env.Stderr, "imported %s%s from %s into %s\n", reconcile.Plural(count, noun), repeatNote(repeated), path, st.Path())
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

// removeStore deletes a store file and SQLite's files beside it.
func removeStore(path string) {
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		os.Remove(p)
	}
}
