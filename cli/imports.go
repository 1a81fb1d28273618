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
	"time"

	"github.com/doublecheck-dev/doublecheck/adyenapi"
	"github.com/doublecheck-dev/doublecheck/paypalapi"
	"github.com/doublecheck-dev/doublecheck/reconcile"
	"github.com/doublecheck-dev/doublecheck/store"
	"github.com/doublecheck-dev/doublecheck/stripeapi"
)

const keysSynopsis = "doublecheck keys import FILE   (CSV with a header, or JSONL: idempotency_key, order_ref, charge_id, created_at, provider)"

// importOptions are what doublecheck import or doublecheck keys import was asked for.
type importOptions struct {
	env    Env
	sh     shared
	yes    bool
	path   string // the file, - for standard input
	format string // --format: the name of a chargeFormat; "" to recognise it from the file
	// more are the files after the first: Adyen's reports are imported
	// together, joined on Psp Reference.
	more []string
}

func newImportCmd(env Env, runF func(context.Context, *importOptions) error) *command {
	fs := newFlags("import", "doublecheck import FILE [FILE…]   ("+formatTitles()+"; - for stdin; Adyen's reports together)")
	cmd, opts := newImportFileCmd(env, runF, runImport, fs)
	cmd.maxArgs = 4 // Adyen's reports: the Received payment details and the Settlement details of a few batches
	fs.StringVar(&opts.format, "format", "", "read FILE as `NAME` ("+formatNames()+") instead of recognising it from its first line")
	fs.check(func() error {
		if opts.format != "" && formatNamed(opts.format) == nil {
			return fmt.Errorf("--format must be one of %s, not %q", formatNames(), opts.format)
		}
		return nil
	})
	return cmd
}

func runImport(ctx context.Context, opts *importOptions) error {
	if isAdyenReport(opts) {
		return importFile(ctx, opts, importAdyenReports(opts.env, opts.more), peekAdyenMode(opts.env), "Adyen payment")
	}
	if len(opts.more) > 0 {
		return &usageError{msg: fmt.Sprintf("unexpected argument %s: import reads one file at a time; only Adyen's Received payment details and Settlement details reports are read together, and %s is not one",
			strings.Join(opts.more, " "), opts.path), usage: "Run 'doublecheck import --help' for its flags.\n"}
	}
	return importFile(ctx, opts, importCharges, peekChargesMode, "charge")
}

// chargeFormat is one kind of file doublecheck import reads. Adding a format
// is adding one entry to chargeFormats: its reader lives in its provider's
// package and hands each charge to emit, in the order of the file.
type chargeFormat struct {
	name     string             // what --format takes
	title    string             // what the import says it read the file as
	provider reconcile.Provider // whose charges the file holds
	// recognises is whether a file starting with head (at most formatHead
	// bytes, without a byte-order mark) is of this format; header is head's
	// first line read as a CSV row, nil when it is none.
	recognises func(head []byte, header []string) bool
	// read streams the charges of the file called name to emit and stops at
	// the first problem, one sentence naming the file, the line and the field.
	// note, when not "", says what of the file was left out and why, for
	// the import's summary. stored, nil when the store is not at hand, gives
	// the charges the store holds of some ids, for a format whose rows add to
	// charges stored by earlier imports (a refund of a payment of another
	// period).
	read func(r io.Reader, name string, now time.Time, stored storedCharges, emit func(*reconcile.ChargeRecord) error) (note string, err error)
	// sameRecords, when set, tells of two records of one charge whose
	// digests differ whether they are one record written otherwise; a
	// format whose digests are of its records' bytes sets it when the same
	// record can be written in several ways (store.ChargeImport.SameRecords).
	sameRecords func(a, b []byte) bool
}

// storedCharges gives the charges a store holds of ids, with their raw JSON.
type storedCharges = func(ids []string) (map[string]reconcile.Charge, error)

// chargeFormats are the formats of doublecheck import, in the order they are
// tried on a file.
var chargeFormats = []chargeFormat{
	{name: "stripe-json", title: "Stripe charge objects (JSON or JSONL)", provider: reconcile.ProviderStripe,
		recognises: func(head []byte, _ []string) bool {
			first := bytes.TrimLeft(head, " \t\r\n")
			return len(first) > 0 && (first[0] == '{' || first[0] == '[')
		},
		read: noNote(stripeapi.StreamCharges), sameRecords: stripeapi.SameChargeJSON},
	{name: "stripe-dashboard", title: "a Stripe Dashboard payments export", provider: reconcile.ProviderStripe,
		recognises: func(_ []byte, header []string) bool { return stripeapi.IsDashboardExport(header) },
		read:       noNote(stripeapi.StreamDashboardCSV)},
	{name: "paypal-activity", title: "a PayPal activity download", provider: reconcile.ProviderPayPal,
		recognises: func(_ []byte, header []string) bool { return paypalapi.IsActivityDownload(header) },
		read:       paypalapi.StreamActivityCSV},
	// Adyen's reports are imported together and in ADYEN_ENV's mode, by
	// importAdyenReports (cli/adyen.go), not by read.
	{name: "adyen-received-payments", title: "an Adyen Received payment details report", provider: reconcile.ProviderAdyen,
		recognises: func(_ []byte, header []string) bool { return adyenapi.IsReceivedPaymentDetails(header) },
		read:       adyenFromFileOnly},
	{name: "adyen-settlement-details", title: "an Adyen Settlement details report", provider: reconcile.ProviderAdyen,
		recognises: func(_ []byte, header []string) bool { return adyenapi.IsSettlementDetails(header) },
		read:       adyenFromFileOnly},
}

// noNote is a format's reader that leaves nothing out.
func noNote(read func(io.Reader, string, time.Time, func(*reconcile.ChargeRecord) error) error) func(io.Reader, string, time.Time, storedCharges, func(*reconcile.ChargeRecord) error) (string, error) {
	return func(r io.Reader, name string, now time.Time, _ storedCharges, emit func(*reconcile.ChargeRecord) error) (string, error) {
		return "", read(r, name, now, emit)
	}
}

// formatHead is how much of a file is read to recognise its format: a CSV
// header row of any export fits.
const formatHead = 64 << 10

func formatNamed(name string) *chargeFormat {
	for i := range chargeFormats {
		if chargeFormats[i].name == name {
			return &chargeFormats[i]
		}
	}
	return nil
}

// formatNames lists the names --format takes.
func formatNames() string {
	names := make([]string, len(chargeFormats))
	for i, f := range chargeFormats {
		names[i] = f.name
	}
	return strings.Join(names, ", ")
}

// formatTitles lists what the formats are, for messages: "A, B or C".
func formatTitles() string {
	titles := make([]string, len(chargeFormats))
	for i, f := range chargeFormats {
		titles[i] = f.title
	}
	if len(titles) < 2 {
		return strings.Join(titles, "")
	}
	return strings.Join(titles[:len(titles)-1], ", ") + " or " + titles[len(titles)-1]
}

// chooseFormat settles the format of in: the one named (--format), else the
// first that recognises the file's start. The bytes read to recognise it stay
// in in.r.
func (in *importInput) chooseFormat() error {
	if in.formatName != "" {
		in.format = formatNamed(in.formatName)
		return nil
	}
	br := bufio.NewReaderSize(in.r, formatHead)
	in.r = br
	head, err := br.Peek(formatHead)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return fmt.Errorf("read %s: %w", in.name, err)
	}
	head = reconcile.TrimLineBOM(head)
	if len(bytes.TrimSpace(head)) == 0 {
		return fmt.Errorf("%s is empty: expected %s", in.name, formatTitles())
	}
	header := reconcile.CSVHeaderRow(head)
	for i := range chargeFormats {
		if chargeFormats[i].recognises(head, header) {
			in.format = &chargeFormats[i]
			return nil
		}
	}
	if reconcile.HasAll(header, "idempotency_key") {
		return fmt.Errorf("%s is an idempotency-key log, not charges: load it with doublecheck keys import %s", in.name, in.name)
	}
	first, _, _ := bytes.Cut(bytes.TrimLeft(head, " \t\r\n"), []byte("\n"))
	first = bytes.TrimSpace(first)
	if len(first) > 60 {
		first = append(first[:57:57], "..."...)
	}
	return fmt.Errorf("%s is not a file doublecheck import recognises (its first line is %q): expected %s; if it is one, say which with --format %s",
		in.name, first, formatTitles(), strings.ReplaceAll(formatNames(), ", ", "|"))
}

// importInput is the file an import reads, and what was settled before the
// import began.
type importInput struct {
	r    io.Reader
	name string // the file's path, or "standard input"
	// file is the file named on the command line, which can be read again
	// from its start; nil for standard input, which cannot.
	file *os.File
	// live is the mode of the file's first charge, learned before the store is
	// opened; nil for a key log or a file without charges.
	live *bool
	// now is the command's clock: a charge created after it is refused.
	now time.Time
	// format is the file's format, chosen before it is read: the one
	// formatName (--format) names, else the one that recognises the file.
	format     *chargeFormat
	formatName string
	// note is what the format's reader left out of the file, for the summary.
	note string
	// agree, when the store needs the operator's consent, is called with what
	// the import would add, before the import's transaction takes the store's
	// write lock (a sync or refund waiting for it would fail); it may refuse.
	// Nil when no consent is needed.
	agree func(what string) error
}

// rewind goes back to the start of the file after a pass over it.
func (in *importInput) rewind() error {
	if _, err := in.file.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("read %s: %w", in.name, err)
	}
	in.r = in.file
	return nil
}

// importer reads in into st in one transaction: all of it or nothing. It
// returns the number of distinct records stored and of repeats left out.
type importer func(ctx context.Context, st *store.Store, in *importInput) (count, repeated int, err error)

// importCharges streams the charges of a file into st. A file that mixes
// modes, or whose mode is not the store's, is refused: test charges among live
// ones would be offered for refund as live duplicates, and the other way round
// hidden. A store's mode is fixed by its first write, so an import into a store
// without one records the file's: live data shows as LIVE even without an
// account, and a file of the other mode is refused later. The mode and the
// operator's consent are settled before the import's transaction begins.
func importCharges(ctx context.Context, st *store.Store, in *importInput) (count, repeated int, err error) {
	if in.live != nil {
		if _, err := checkStoreMode(ctx, st, in.name, *in.live); err != nil {
			return 0, 0, err
		}
	}
	if in.agree != nil {
		what := "the charges of " + in.name
		if in.file != nil {
			n, err := countCharges(in)
			if err != nil {
				return 0, 0, err
			}
			what = reconcile.Plural(n, "charge record") + " from " + in.name
		}
		if err := in.agree(what); err != nil {
			return 0, 0, err
		}
	}
	err = st.ImportCharges(ctx, func(imp *store.ChargeImport) error {
		// Again under the write lock, before anything is written: another
		// import may have fixed the store's mode since it was checked.
		storeLive, known, err := imp.Mode()
		if err != nil {
			return err
		}
		imp.SameRecords(in.format.sameRecords)
		var modes fileModes
		in.note, err = in.format.read(in.r, in.name, in.now, imp.StoredCharges, func(rec *reconcile.ChargeRecord) error {
			if err := modes.check(rec); err != nil {
				return err
			}
			return imp.Add(rec.Charge, rec.Place, rec.Digest)
		})
		if err != nil {
			return err
		}
		if count, repeated, err = imp.Counts(); err != nil || count == 0 {
			return err
		}
		return settleImportMode(imp, st, in.name, modes.live, storeLive, known)
	})
	return count, repeated, err
}

// checkStoreMode refuses a file of charges of the mode live, called name,
// when st is fixed to the other mode; known is whether st's mode is fixed.
func checkStoreMode(ctx context.Context, st *store.Store, name string, live bool) (known bool, err error) {
	storeLive, known, err := st.Mode(ctx)
	if err != nil {
		return false, err
	}
	return known, refuseOtherMode(st, name, live, storeLive, known)
}

// refuseOtherMode refuses a file of charges of the mode live, called name,
// when st's mode is known and is storeLive, the other one.
func refuseOtherMode(st *store.Store, name string, live, storeLive, known bool) error {
	if known && storeLive != live {
		return fmt.Errorf("import %s: the file holds %s charges but the store %s is a %s store; nothing was stored: import it into another store with --db PATH",
			name, modeName(live), st.Path(), modeName(storeLive))
	}
	return nil
}

// settleImportMode, once imp stored charges of the mode live from the file
// called name, refuses them when the store's mode, as imp.Mode read it
// (storeLive, known), is the other one, and fixes it to live when the store
// had none: a store's mode is fixed by its first write.
func settleImportMode(imp *store.ChargeImport, st *store.Store, name string, live, storeLive, known bool) error {
	if known {
		return refuseOtherMode(st, name, live, storeLive, known)
	}
	return imp.SetState(store.StateLivemode, strconv.FormatBool(live))
}

// fileModes refuses a file whose charges are not all of the mode of its first.
type fileModes struct {
	seen    bool
	live    bool
	firstID string
	first   reconcile.Place
}

func (m *fileModes) check(rec *reconcile.ChargeRecord) error {
	c := &rec.Charge
	if !m.seen {
		m.seen, m.live, m.firstID, m.first = true, c.Livemode, c.ID, rec.Place
		return nil
	}
	if c.Livemode == m.live {
		return nil
	}
	return fmt.Errorf("%s: charge %s: livemode is %t (%s), but charge %s on line %d is %s: the file mixes modes; import each mode into a store of its own",
		rec.Place, c.ID, c.Livemode, modeName(c.Livemode), m.firstID, m.first.Line, modeName(m.live))
}

// countCharges counts the charge objects of a file, for the question asked
// before it is imported, in a first pass over it, which refuses a bad line or
// a mix of modes before anything is asked; it leaves the file at its start.
func countCharges(in *importInput) (int, error) {
	var (
		n     int
		modes fileModes
	)
	_, err := in.format.read(in.r, in.name, in.now, nil, func(rec *reconcile.ChargeRecord) error {
		n++
		return modes.check(rec)
	})
	if err != nil {
		return 0, err
	}
	return n, in.rewind()
}

// errModeFound ends a peek at a file's first charge.
var errModeFound = errors.New("mode found")

// peekChargesMode settles the file's format, then reads its first charge to
// learn its mode (without a key, a live file goes into a live store of its
// own; with one, a file of the other mode than the store's is refused before
// anything else), and leaves in reading from the beginning of the file.
func peekChargesMode(in *importInput) error {
	if err := in.chooseFormat(); err != nil {
		return err
	}
	var read bytes.Buffer
	r := in.r
	if in.file == nil {
		r = io.TeeReader(in.r, &read)
	}
	_, err := in.format.read(r, in.name, in.now, nil, func(rec *reconcile.ChargeRecord) error {
		live := rec.Charge.Livemode
		in.live = &live
		return errModeFound
	})
	if err != nil && !errors.Is(err, errModeFound) {
		return err
	}
	if in.file != nil {
		return in.rewind()
	}
	in.r = io.MultiReader(&read, in.r)
	return nil
}

// modeName is how an error names a mode.
func modeName(live bool) string {
	if live {
		return "LIVE"
	}
	return "test-mode"
}

func newKeysImportCmd(env Env, runF func(context.Context, *importOptions) error) *command {
	cmd, _ := newImportFileCmd(env, runF, runKeysImport, newFlags("keys import", keysSynopsis))
	return cmd
}

func runKeysImport(ctx context.Context, opts *importOptions) error {
	return importFile(ctx, opts, importKeys, nil, "idempotency key")
}

// importKeys reads a key log whole (key logs are small: one row per order)
// and saves it in one transaction.
func importKeys(ctx context.Context, st *store.Store, in *importInput) (count, repeated int, err error) {
	records, repeated, err := reconcile.ReadKeyLog(in.r, in.name)
	if err != nil {
		return 0, 0, err
	}
	if in.agree != nil {
		if err := in.agree(reconcile.Plural(len(records), "idempotency key") + " from " + in.name); err != nil {
			return 0, 0, err
		}
	}
	if err := st.SaveKeys(ctx, records); err != nil {
		return 0, 0, fmt.Errorf("import %s: %w", in.name, err)
	}
	return len(records), repeated, nil
}

// newImportFileCmd is a command that imports one file: the flags both imports
// take; opts are the options it fills.
func newImportFileCmd(env Env, runF, run func(context.Context, *importOptions) error, fs *cmdFlags) (cmd *command, opts *importOptions) {
	opts = &importOptions{env: env}
	opts.sh.register(fs, env, usesStripe)
	fs.BoolVar(&opts.yes, "yes", false, "import into the store of your key's account even though it holds synced data (required without a terminal; a terminal asks)")
	return &command{flags: fs, args: 1, run: func(ctx context.Context, args []string) error {
		opts.path, opts.more = args[0], args[1:]
		return runner(runF, run)(ctx, opts)
	}}, opts
}

// importFile imports a file (or stdin for "-") into the store in one
// transaction: a bad line anywhere means nothing is imported. peek, when
// given, learns the file's mode first, for the store used without a key.
func importFile(ctx context.Context, opts *importOptions, load importer,
	peek func(*importInput) error, noun string) error {
	env, sh, yes, path := opts.env, &opts.sh, opts.yes, opts.path
	in := &importInput{r: env.Stdin, name: "standard input", now: env.Now(), formatName: opts.format}
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("cannot read %s: %w", path, err)
		}
		defer f.Close()
		in.r, in.name, in.file = f, path, f
	}
	if peek != nil {
		if err := peek(in); err != nil {
			return err
		}

		if in.format != nil && in.format.provider != reconcile.ProviderStripe && sh.db == "" {
			// The stores doublecheck picks itself are a Stripe account's
			// (by the key) or those of files without one.
			return fmt.Errorf("%s is %s: import it into a store of its own, named with --db PATH (one store per %s account); nothing was stored",
				in.name, in.format.title, in.format.provider.Title())
		}
		sh.keylessLive = new(bool)
		if in.live != nil {
			*sh.keylessLive = *in.live
		}
	}
	st, created, err := sh.openLocalStore(ctx, env)
	if err != nil {
		return err
	}
	defer st.Close()
	if sh.db == "" && !yes {
		// Standard input holds the file, so only --yes can agree to it.
		if in.agree, err = syncedStoreConsent(ctx, env, st, env.Terminal && in.file != nil); err != nil {
			return err
		}
	}
	count, repeated, err := load(ctx, st, in)
	if err != nil {
		if created {
			// The file is read as it is stored, so the store exists before
			// a bad line is found: one made for this import goes again.
			st.Close()
			removeStore(st.Path())
		}
		return err
	}
	if in.format != nil {
		// Said once the import succeeded: a refusal is one sentence.
		how := ""
		if in.formatName != "" {
			how = " (--format " + in.format.name + ")"
		}
		fmt.Fprintf(env.Stderr, "read %s as %s%s\n", in.name, in.format.title, how)
	}
	note := ""
	if in.note != "" {
		note = "; " + in.note
	}
	fmt.Fprintf(env.Stderr, "imported %s%s from %s into %s%s\n", reconcile.Plural(count, noun), repeatNote(repeated), in.name, st.Path(), note)
	return nil
}

// errImportCancelled is the answer no to the question of syncedStoreConsent.
var errImportCancelled = errors.New("import cancelled: nothing was stored")

// syncedStoreConsent is how an import gets the operator's consent to go into
// st when st holds data synced from Stripe: the store was not named (--db), it
// is the one the key's account syncs into, and a file mixed into it shows as
// that account's own data. On a terminal (canAsk) the operator is asked;
// without one the import is refused, saying how to agree (--yes) or choose
// another store (--db). Nil when st holds no synced data.
func syncedStoreConsent(ctx context.Context, env Env, st *store.Store, canAsk bool) (func(what string) error, error) {
	account, live, err := storeAccount(ctx, st)
	if err != nil {
		return nil, err
	}
	lastSync, err := st.State(ctx, stripeapi.StateLastSync)
	if err != nil {
		return nil, err
	}
	if account == "" && lastSync == "" {
		return nil, nil
	}
	if account == "" {
		account = "an account"
	}
	holder := fmt.Sprintf("the store %s, which holds the synced data of %s (%s)", st.Path(), account, modeLabel(live, false))
	return func(what string) error {
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
	}, nil
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
