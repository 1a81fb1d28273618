package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/doublecheck-dev/doublecheck/internal/atomicfile"
	"github.com/doublecheck-dev/doublecheck/internal/endpoint"
	"github.com/doublecheck-dev/doublecheck/reconcile"
	"github.com/doublecheck-dev/doublecheck/store"
	"github.com/doublecheck-dev/doublecheck/stripeapi"
)

// account is who a key belongs to, as Stripe said.
type account = stripeapi.Account

// connect is what a command that talks to Stripe starts with: the client, whose
// account the key opens, and that account's store (or --db).
func (s *shared) connect(ctx context.Context, env Env) (*stripeapi.Client, account, *store.Store, error) {
	client, acct, err := s.lookUpAccount(ctx, env)
	if err != nil {
		return nil, account{}, nil, err
	}
	st, err := s.openStore(ctx, env, acct)
	if err != nil {
		return client, acct, nil, err // whose store it is, for a caller that opens it read-only
	}
	if acct.Name == "" { // not known: the store may still remember whose it is
		if acct.Name, _, err = storeAccount(ctx, st); err != nil {
			st.Close()
			return nil, account{}, nil, err
		}
	}
	if acct.Name == "" { // synced data, unlike an import: say with which key (redacted, never the key)
		acct.Name = "unknown account (key " + client.Key().Redacted() + ")"
	}
	// Offline commands on this store say whose data it is and in which mode.
	if err := claimStore(ctx, st, storeOwner{provider: reconcile.ProviderStripe, id: acct.ID, name: acct.Name}); err != nil {
		st.Close()
		return nil, account{}, nil, err
	}
	// The key's mode must be the store's: a store's mode is fixed by its first
	// write, and a sync of the other mode would mix live and test data.
	if err := st.FixMode(ctx, acct.Live); err != nil {
		st.Close()
		return nil, account{}, nil, fmt.Errorf("the key is a %s key: %w; pass --db PATH for a store of its mode", modeName(acct.Live), err)
	}
	return client, acct, st, nil
}

// keyNote says which key a command uses and where it came from, so an
// operator with several keys set up can tell: "key sk_test_…4f2a from
// STRIPE_API_KEY". The key shows only in its redacted form.
func keyNote(client *stripeapi.Client) string {
	key := client.Key()
	return "key " + key.Redacted() + " from " + key.Source
}

// The account a store holds, as the last command that asked Stripe found it.
const (
	stateAccount = "doublecheck.account"
	stateLive    = store.StateLivemode
)

// stateAccountID is the account a store holds, as "<provider>:<id>" (see
// claimStore).
const stateAccountID = "doublecheck.account-id"

// storeOwner is the account whose credentials a command writes into a store
// with.
type storeOwner struct {
	provider reconcile.Provider
	id       string // the provider's id of the account; "" when not known
	name     string // as the store names it (stateAccount)
}

// described is the account as a refusal names it.
func (o storeOwner) described() string {
	if o.provider == reconcile.ProviderStripe {
		return "Stripe account " + o.name
	}
	return o.name // "PayPal <account> (<environment>)" says its provider
}

// claimStore records that st holds owner's data, or refuses in one sentence
// when st holds another account's (another provider's, or another account
// of the provider): a sync would mix two merchants' payments, which could
// then be grouped as duplicates, and relabel the store. A store that names
// no account (new, or of imported data) is claimed. A store written before
// accounts were recorded by id is told apart by its provider, and a PayPal
// one by its name, which says its account.
func claimStore(ctx context.Context, st *store.Store, owner storeOwner) error {
	storedID, err := st.State(ctx, stateAccountID)
	if err != nil {
		return err
	}
	storedName, _, err := storeAccount(ctx, st)
	if err != nil {
		return err
	}
	environment, err := st.State(ctx, stateEnvironment)
	if err != nil {
		return err
	}
	stored := storeOwner{provider: reconcile.ProviderStripe, name: storedName}
	switch provider, id, found := strings.Cut(storedID, ":"); {
	case found:
		stored.provider, stored.id = reconcile.Provider(provider), id
	case environment != "": // only a PayPal account's store names its environment
		stored.provider = reconcile.ProviderPayPal
	}
	want := string(owner.provider) + ":" + owner.id
	other := storedName != "" && (stored.provider != owner.provider ||
		(stored.id != "" && owner.id != "" && storedID != want) ||
		(stored.id == "" && owner.provider == reconcile.ProviderPayPal && storedName != owner.name))
	if other {
		return fmt.Errorf("the store %s holds the data of %s, not of %s: pass --db with another path for %s's store (or leave --db out for its default store)",
			shownStore(st.Path()), stored.described(), owner.described(), owner.name)
	}
	if owner.id != "" && storedID != want {
		if err := st.SetState(ctx, stateAccountID, want); err != nil {
			return err
		}
	}
	return st.SetState(ctx, stateAccount, owner.name)
}

// storeAccount is whose data st holds; empty when no command has asked Stripe
// (an imported store). A store synced without learning the account holds
// "unknown account (key rk_test_…abcd)", with the key redacted.
func storeAccount(ctx context.Context, st *store.Store) (name string, live bool, err error) {
	if name, err = st.State(ctx, stateAccount); err != nil {
		return "", false, err
	}
	value, err := st.State(ctx, stateLive)
	return name, value == "true", err
}

// modeLabel is how the command line shows the mode: LIVE in red on a terminal.
func modeLabel(live, terminal bool) string {
	switch {
	case !live:
		return "test mode"
	case terminal:
		return "\x1b[1;31mLIVE mode\x1b[0m"
	default:
		return "LIVE mode"
	}
}

// lookUpAccount resolves the key and server, and asks Stripe whose account it
// is. The answer is remembered (by the key's fingerprint, never the key) so
// offline commands find the same store later. The lookup is best effort: what
// Stripe will not say (a restricted key never reads the account) or a failed
// lookup is made up from what is known — the account remembered for the key,
// else --db — with one line on stderr saying what could not be learned. Only a
// rejected key, or nothing known at all, stops the command.
func (s *shared) lookUpAccount(ctx context.Context, env Env) (*stripeapi.Client, account, error) {
	key, err := stripeapi.ResolveKey(s.apiKey, env.Getenv, env.Home)
	if err != nil {
		return nil, account{}, err
	}
	base := stripeapi.ResolveAPIBase(s.apiBase, env.Getenv)
	if err := checkTransport(key, base); err != nil {
		return nil, account{}, err
	}
	client := stripeapi.NewClient(key, base)
	acct, err := client.Account(ctx)
	if errors.Is(err, stripeapi.ErrBadKey) || ctx.Err() != nil {
		return nil, account{}, err
	}
	if err != nil {
		acct = account{Live: key.Live, Unknown: "the account (" + err.Error() + ")"}
	}
	if unknown := acct.Unknown; unknown != "" {
		known, ok := rememberedAccount(env.DataDir, key)
		id := acct.ID
		if id == "" && ok {
			id = known.ID
		}
		if id != "" && (!ok || known.Name == known.ID) { // a name another key of the account learned
			if named, found := accountByID(env.DataDir, id, key.Live); found {
				known, ok = named, true
			}
		}
		var where string
		switch {
		case ok && (acct.ID == "" || acct.ID == known.ID):
			acct = known // learned earlier, by a key that could read it or from Stripe's 403
			where = known.ID + ", as remembered"
			if known.Name != known.ID {
				where = known.Name + " (" + where + ")"
			}
		case acct.ID == "" && s.db == "":
			return nil, account{}, &unknownStoreError{what: unknown, cause: err}
		case acct.ID == "":
			where = "the store " + shownStore(s.db)
		default:
			where = acct.ID
		}
		fmt.Fprintf(env.Stderr, "note: could not learn %s; working on %s\n", unknown, where)
	}
	if acct.ID != "" {
		if err := rememberAccount(env.DataDir, key, acct); err != nil {
			return nil, account{}, err
		}
	}
	return client, acct, nil
}

// unknownStoreError is a lookup that learned too little to pick a store. It
// unwraps to the lookup's failure, so a caller can tell an unreachable Stripe.
type unknownStoreError struct {
	what  string
	cause error
}

func (e *unknownStoreError) Error() string {
	return "cannot tell which store to use: could not learn " + e.what + "; pass --db"
}

func (e *unknownStoreError) Unwrap() error { return e.cause }

// openStore opens --db, else the store of acct, creating it if need be (unless
// s.mustExist).
func (s *shared) openStore(ctx context.Context, env Env, acct account) (*store.Store, error) {
	path, err := s.storePath(env, acct)
	if err != nil {
		return nil, err
	}
	if s.mustExist {
		st, err := store.OpenExisting(ctx, path)
		return st, s.explainNoStore(err, path, acct)
	}
	return store.Open(ctx, path)
}

// explainNoStore rephrases "no such store" for a store that was not named:
// the default store of an account (or of imported data, without a key) that
// no command has made yet is no mistyped --db path.
func (s *shared) explainNoStore(err error, path string, acct account) error {
	if s.db != "" || !errors.Is(err, store.ErrNoStore) {
		return err
	}
	if _, statErr := os.Stat(path); !errors.Is(statErr, fs.ErrNotExist) {
		return err // an empty file: the store's own words say so
	}
	return &noStoreYetError{acct: acct, path: path, err: err}
}

// noStoreYetError is the default store of acct, which does not exist yet.
type noStoreYetError struct {
	acct account
	path string
	err  error // store.ErrNoStore, wrapped
}

func (e *noStoreYetError) Error() string {
	mode := modeLabel(e.acct.Live, false)
	if e.acct.ID == keylessAccount {
		return fmt.Sprintf("no store of imported data (%s) at %s yet: run doublecheck import first, or pass --db", mode, e.path)
	}
	return fmt.Sprintf("no store for account %s (%s) at %s yet: run doublecheck sync first, or pass --db", e.acct.ID, mode, e.path)
}

func (e *noStoreYetError) Unwrap() error { return e.err }

// shownStore is a --db value as messages show it: a PostgreSQL URL without
// its password.
func shownStore(db string) string {
	if store.IsURL(db) {
		return store.RedactURL(db)
	}
	return db
}

// storePath is --db, else the default store of acct.
func (s *shared) storePath(env Env, acct account) (string, error) {
	if s.db != "" {
		return s.db, nil
	}
	return store.DefaultPath(env.DataDir, acct.ID, acct.Live)
}

// openLocalStore opens, creating it if need be, the store of a command that
// writes without needing Stripe (see localStorePath). A store found by the
// key's account (or the keyless store of a mode) has that mode, fixed here
// before anything is written: data of the other mode is refused. created says
// the store did not exist before.
func (s *shared) openLocalStore(ctx context.Context, env Env) (st *store.Store, created bool, err error) {
	path, acct, err := s.localStorePath(ctx, env, true)
	if err != nil {
		return nil, false, err
	}
	_, statErr := os.Stat(path)
	created = !store.IsURL(path) && errors.Is(statErr, fs.ErrNotExist)
	if st, err = store.Open(ctx, path); err != nil || acct.ID == "" {
		return st, created, err
	}
	if err := st.FixMode(ctx, acct.Live); err != nil {
		st.Close()
		return nil, false, err
	}
	return st, created, nil
}

// readLocalStore opens the store of a command that only reads (see
// localStorePath) read-only: it creates nothing where a mistyped --db points,
// and works on a store it may not write.
func (s *shared) readLocalStore(ctx context.Context, env Env) (*store.Store, error) {
	path, acct, err := s.localStorePath(ctx, env, false)
	if err != nil {
		return nil, err
	}
	st, err := store.OpenReadOnly(ctx, path)
	return st, s.explainNoStore(err, path, acct)
}

// writeLocalStore opens the existing store of a command that records
// something about charges already there (a decision, a confirmation): never
// a new, empty store where a mistyped --db points.
func (s *shared) writeLocalStore(ctx context.Context, env Env) (*store.Store, error) {
	path, acct, err := s.localStorePath(ctx, env, true)
	if err != nil {
		return nil, err
	}
	st, err := store.OpenExisting(ctx, path)
	if err != nil {
		return nil, s.explainNoStore(err, path, acct)
	}
	return st, nil
}

// localStorePath is the store of a command that does not need Stripe: --db,
// else the store of the account the key belongs to (remembered from an earlier
// command, or asked of Stripe once), else the "local" store used without a key.
// acct is the account the path was chosen by (ID "" for --db): its mode is the
// store's.
// A command that writes (write) never uses an account remembered by the key's
// redacted form, which two keys can share: it could write into another key's
// store.
func (s *shared) localStorePath(ctx context.Context, env Env, write bool) (string, account, error) {
	if s.db != "" {
		return s.db, account{}, nil
	}
	key, err := stripeapi.ResolveKey(s.apiKey, env.Getenv, env.Home)
	if errors.Is(err, stripeapi.ErrNoKey) {
		live := keylessLiveOnly(env.DataDir)
		if s.keylessLive != nil {
			live = *s.keylessLive
		}
		return s.accountStorePath(env, account{ID: keylessAccount, Live: live})
	}
	if err != nil {
		return "", account{}, err
	}
	accounts := readAccounts(env.DataDir)
	if acct, ok := accounts[key.Fingerprint()]; ok {
		return s.accountStorePath(env, acct)
	}
	if s.offline {
		return "", account{}, errors.New("cannot tell which store to use without asking Stripe whose account the key opens, and a dry run calls nothing: pass --db, or run doublecheck sync once")
	}
	// Accounts used to be remembered by the key's redacted form, which two keys
	// can share; such an entry is trusted only when Stripe cannot be reached
	// soon to ask, and asking replaces it.
	legacy, hasLegacy := accounts[key.String()]
	lookupCtx := ctx
	if hasLegacy {
		var cancel context.CancelFunc
		lookupCtx, cancel = context.WithTimeout(ctx, legacyLookupTimeout)
		defer cancel()
	}
	_, acct, err := s.lookUpAccount(lookupCtx, env)
	if err != nil {
		unreachable := errors.Is(err, stripeapi.ErrUnreachable) || errors.Is(err, stripeapi.ErrServer) ||
			(errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil)
		if hasLegacy && unreachable && write {
			return "", account{}, fmt.Errorf("cannot confirm which account the key opens: Stripe cannot be reached, and the key is remembered only by its redacted form %s, which another key can share; retry when Stripe answers, or pass --db: %w", key, err)
		}
		if hasLegacy && unreachable {
			fmt.Fprintf(env.Stderr, "note: the account is unconfirmed: Stripe cannot be reached, and the key is remembered only by its redacted form %s, which another key can share; reading the store of %s\n", key, legacy.ID)
			return s.accountStorePath(env, legacy)
		}
		if errors.As(err, new(*unknownStoreError)) {
			return "", account{}, err
		}
		return "", account{}, fmt.Errorf("cannot tell which account's store to use (pass --db): %w", err)
	}
	return s.accountStorePath(env, acct)
}

// accountStorePath is the default store of acct, with acct.
func (s *shared) accountStorePath(env Env, acct account) (string, account, error) {
	path, err := s.storePath(env, acct)
	return path, acct, err
}

// keylessAccount stands for the account in the names of the stores used
// without a key (local-test.db, local-live.db), which hold imported data.
const keylessAccount = "local"

// keylessLiveOnly is whether, of the two stores used without a key, only
// local-live.db exists: commands that read then find a live file imported
// without a key.
func keylessLiveOnly(dataDir string) bool {
	testPath, err := store.DefaultPath(dataDir, keylessAccount, false)
	if err != nil {
		return false
	}
	livePath, err := store.DefaultPath(dataDir, keylessAccount, true)
	if err != nil {
		return false
	}
	_, testErr := os.Stat(testPath)
	_, liveErr := os.Stat(livePath)
	return errors.Is(testErr, os.ErrNotExist) && liveErr == nil
}

// legacyLookupTimeout bounds the wait for Stripe before an offline command uses
// an account remembered the old way, rather than the half minute of retries.
const legacyLookupTimeout = 3 * time.Second

// accountsFile maps key fingerprints to their accounts, beside the stores in
// the data directory dir.
func accountsFile(dir string) (string, error) {
	if dir == "" {
		return "", errors.New("remember account: no data directory (set HOME or XDG_DATA_HOME)")
	}
	return filepath.Join(dir, "accounts.json"), nil
}

func readAccounts(dir string) map[string]account {
	accounts := map[string]account{}
	if path, err := accountsFile(dir); err == nil {
		if data, err := os.ReadFile(path); err == nil {
			_ = json.Unmarshal(data, &accounts) // a damaged file only costs one lookup
		}
	}
	return accounts
}

// rememberedAccount is the account remembered for key by its fingerprint.
func rememberedAccount(dir string, key stripeapi.Key) (account, bool) {
	acct, ok := readAccounts(dir)[key.Fingerprint()]
	return acct, ok
}

// accountByID is what another key of the same mode learned about the account
// id, such as its name, which a restricted key cannot read. The mode must
// match: a test key's store is never a live key's.
func accountByID(dir, id string, live bool) (account, bool) {
	for _, acct := range readAccounts(dir) {
		if acct.ID == id && acct.Live == live && acct.Name != id {
			return acct, true
		}
	}
	return account{}, false
}

// rememberAccount records that key opens acct, by the key's fingerprint, and
// drops an entry under its redacted form left by an older doublecheck.
func rememberAccount(dir string, key stripeapi.Key, acct account) error {
	accounts := readAccounts(dir)
	_, legacy := accounts[key.String()]
	if accounts[key.Fingerprint()] == acct && !legacy {
		return nil
	}
	accounts[key.Fingerprint()] = acct
	delete(accounts, key.String())
	path, err := accountsFile(dir)
	if err != nil {
		return err
	}
	data, err := json.MarshalIndent(accounts, "", "  ")
	if err != nil {
		return fmt.Errorf("remember account: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("remember account: %w", err)
	}
	if err := atomicfile.Write(path, func(w io.Writer) error { _, err := w.Write(data); return err }); err != nil {
		return fmt.Errorf("remember account: %w", err)
	}
	return nil
}

// stripeEndpoint is Stripe's side of the one base-URL rule every provider
// client follows (internal/endpoint): api.stripe.com serves test and live
// keys alike, so only the plain-http rule for live keys applies.
var stripeEndpoint = endpoint.Provider{Name: "Stripe", Setting: "the key", TestWord: "test",
	Platform: func(string) endpoint.Platform { return endpoint.Other }}

// checkTransport refuses to send a live key in clear text anywhere but this
// machine (a local proxy or mock is fine).
func checkTransport(key stripeapi.Key, base string) error {
	return stripeEndpoint.Check(base, key.Live)
}
