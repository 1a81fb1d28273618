package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"doublecheck/reconcile"
	"doublecheck/store"
	"doublecheck/stripeapi"
)

const keysSynopsis = "doublecheck keys import FILE   (CSV with a header, or JSONL: idempotency_key, order_ref, charge_id, created_at)"

func runImport(ctx context.Context, env Env, args []string) error {
	return importFile(ctx, env, args,
		newFlags("import", "doublecheck import FILE   (a Stripe list response, a JSON array or JSONL of charges; - for stdin)"),
		importCharges, "charges")
}

// importer reads the file r, called name, into st in one transaction: all of
// it or nothing. confirm is asked, with the number of distinct records and of
// repeats left out, before anything is committed, and may refuse.
type importer func(ctx context.Context, st *store.Store, r io.Reader, name string,
	confirm func(count, repeated int) error) (count, repeated int, err error)

// importCharges streams the charges of a file into st, and records their mode:
// live data shows as LIVE even without an account, and a file of the other
// mode is refused later. A file that mixes modes, or whose mode is not the
// store's, is refused: test charges among live ones would be offered for
// refund as live duplicates, and the other way round hidden.
func importCharges(ctx context.Context, st *store.Store, r io.Reader, name string,
	confirm func(count, repeated int) error) (count, repeated int, err error) {
	// The mode of the data already stored: read before the import adds any.
	storeLive, known, err := storeMode(ctx, st)
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
		if count == 0 {
			return nil
		}
		if known && storeLive != fileLive {
			return fmt.Errorf("import %s: the file holds %s charges but the store %s holds %s data; nothing was stored: import it into another store with --db PATH",
				name, modeName(fileLive), st.Path(), modeName(storeLive))
		}
		return imp.SetState(stateLive, strconv.FormatBool(fileLive))
	})
	return count, repeated, err
}

// storeMode is the mode of the data in st: the one recorded by a command that
// asked Stripe or by an import, else that of the charges it holds. known is
// false for a store without charges or a recorded mode.
func storeMode(ctx context.Context, st *store.Store) (live, known bool, err error) {
	value, err := st.State(ctx, stateLive)
	if err != nil {
		return false, false, err
	}
	if value != "" {
		return value == "true", true, nil
	}
	hasLive, hasTest, err := st.ChargeModes(ctx)
	if err != nil {
		return false, false, err
	}
	if hasLive && hasTest {
		return false, false, fmt.Errorf("the store %s already holds both live and test charges; import into another store with --db PATH", st.Path())
	}
	return hasLive, hasLive || hasTest, nil
}

// modeName is how an error names a mode.
func modeName(live bool) string {
	if live {
		return "LIVE"
	}
	return "test-mode"
}

func runKeys(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 || args[0] != "import" {
		return &usageError{msg: "keys needs a subcommand", usage: "Usage:\n  " + keysSynopsis + "\n"}
	}
	return importFile(ctx, env, args[1:], newFlags("keys import", keysSynopsis), importKeys, "idempotency keys")
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

// importFile imports a file (or stdin for "-") into the store in one
// transaction: a bad line anywhere means nothing is imported.
func importFile(ctx context.Context, env Env, args []string, flags *cmdFlags, load importer, noun string) error {
	var (
		sh  shared
		yes bool
	)
	sh.register(flags)
	flags.BoolVar(&yes, "yes", false, "import into the store of your key's account even though it holds synced data (required without a terminal; a terminal asks)")
	rest, err := flags.parse(args, 1, env.Stdout)
	if err != nil {
		return err
	}
	path := rest[0]
	r, name := io.Reader(env.Stdin), "standard input"
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("cannot read %s: %w", path, err)
		}
		defer f.Close()
		r, name = f, path
	}
	storePath, err := sh.localStorePath(ctx, env)
	if err != nil {
		return err
	}
	_, statErr := os.Stat(storePath)
	created := errors.Is(statErr, fs.ErrNotExist)
	st, err := store.Open(ctx, storePath)
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
		return agreeToSyncedStore(ctx, env, st, fmt.Sprintf("%d %s from %s", count, noun, path), canAsk)
	}
	count, repeated, err := load(ctx, st, r, name, confirm)
	if err != nil {
		if created {
			// The file is read as it is stored, so the store exists before
			// a bad line is found: one made for this import goes again.
			st.Close()
			removeStore(storePath)
		}
		return err
	}
	fmt.Fprintf(env.Stderr, "imported %d %s%s from %s into %s\n", count, noun, repeatNote(repeated), path, st.Path())
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
	return " (" + plural(repeated, "repeated record") + ", each stored once)"
}

// removeStore deletes a store file and SQLite's files beside it.
func removeStore(path string) {
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		os.Remove(p)
	}
}
