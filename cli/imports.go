package cli

import (
	"context"
	"fmt"
	"io"
	"os"

	"doublecheck/reconcile"
	"doublecheck/stripeapi"
)

func runImport(ctx context.Context, env Env, args []string) error {
	var sh shared
	fs := newFlags("import", "doublecheck import FILE   (a Stripe list response, a JSON array or JSONL of charges; - for stdin)")
	sh.register(fs)
	rest, err := fs.parse(args, 1, env.Stdout)
	if err != nil {
		return err
	}
	charges, err := decodeFile(env, rest[0], stripeapi.DecodeCharges)
	if err != nil {
		return err
	}
	st, err := sh.openLocalStore(ctx, env)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.SaveCharges(ctx, charges); err != nil {
		return fmt.Errorf("import %s: %w", rest[0], err)
	}
	fmt.Fprintf(env.Stderr, "imported %d charges from %s\n", len(charges), rest[0])
	return nil
}

func runKeys(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 || args[0] != "import" {
		return &usageError{msg: "keys needs a subcommand", usage: "Usage:\n  doublecheck keys import FILE   (CSV with a header, or JSONL: idempotency_key, order_ref, charge_id, created_at)\n"}
	}
	var sh shared
	fs := newFlags("keys import", "doublecheck keys import FILE   (CSV with a header, or JSONL: idempotency_key, order_ref, charge_id, created_at)")
	sh.register(fs)
	rest, err := fs.parse(args[1:], 1, env.Stdout)
	if err != nil {
		return err
	}
	keys, err := decodeFile(env, rest[0], reconcile.ReadKeyLog)
	if err != nil {
		return err
	}
	st, err := sh.openLocalStore(ctx, env)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.SaveKeys(ctx, keys); err != nil {
		return fmt.Errorf("import %s: %w", rest[0], err)
	}
	fmt.Fprintf(env.Stderr, "imported %d idempotency keys from %s\n", len(keys), rest[0])
	return nil
}

// decodeFile decodes a whole file (or stdin for "-") before anything is stored,
// so a bad line anywhere means nothing is imported.
func decodeFile[T any](env Env, path string, decode func(r io.Reader, name string) ([]T, error)) ([]T, error) {
	if path == "-" {
		return decode(env.Stdin, "standard input")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, err)
	}
	defer f.Close()
	return decode(f, path)
}
