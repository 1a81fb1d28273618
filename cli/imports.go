package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"

	"doublecheck/reconcile"
	"doublecheck/store"
	"doublecheck/stripeapi"
)

const keysSynopsis = "doublecheck keys import FILE   (CSV with a header, or JSONL: idempotency_key, order_ref, charge_id, created_at)"

func runImport(ctx context.Context, env Env, args []string) error {
	return importFile(ctx, env, args,
		newFlags("import", "doublecheck import FILE   (a Stripe list response, a JSON array or JSONL of charges; - for stdin)"),
		stripeapi.DecodeCharges, saveImportedCharges, "charges")
}

// saveImportedCharges stores imported charges and, when any of them is live,
// marks the store live: live data shows as LIVE even without an account.
func saveImportedCharges(st *store.Store, ctx context.Context, charges []reconcile.Charge) error {
	if err := st.SaveCharges(ctx, charges); err != nil {
		return err
	}
	if slices.ContainsFunc(charges, func(c reconcile.Charge) bool { return c.Livemode }) {
		return st.SetState(ctx, stateLive, "true")
	}
	return nil
}

func runKeys(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 || args[0] != "import" {
		return &usageError{msg: "keys needs a subcommand", usage: "Usage:\n  " + keysSynopsis + "\n"}
	}
	return importFile(ctx, env, args[1:], newFlags("keys import", keysSynopsis),
		reconcile.ReadKeyLog, (*store.Store).SaveKeys, "idempotency keys")
}

// importFile decodes a whole file (or stdin for "-") before anything is stored,
// then saves it in one transaction: a bad line anywhere means nothing is imported.
func importFile[T any](ctx context.Context, env Env, args []string, fs *cmdFlags,
	decode func(r io.Reader, name string) (items []T, repeated int, err error),
	save func(*store.Store, context.Context, []T) error, noun string) error {
	var sh shared
	sh.register(fs)
	rest, err := fs.parse(args, 1, env.Stdout)
	if err != nil {
		return err
	}
	path := rest[0]
	items, repeated, err := decodeFile(env, path, decode)
	if err != nil {
		return err
	}
	st, err := sh.openLocalStore(ctx, env)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := save(st, ctx, items); err != nil {
		return fmt.Errorf("import %s: %w", path, err)
	}
	fmt.Fprintf(env.Stderr, "imported %d %s%s from %s into %s\n", len(items), noun, repeatNote(repeated), path, st.Path())
	return nil
}

// repeatNote says how many records of a file were repeats, stored once.
func repeatNote(repeated int) string {
	if repeated == 0 {
		return ""
	}
	return " (" + plural(repeated, "repeated record") + ", each stored once)"
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
