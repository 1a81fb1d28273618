package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/doublecheck-dev/doublecheck/adyenapi"
	"github.com/doublecheck-dev/doublecheck/reconcile"
	"github.com/doublecheck-dev/doublecheck/refunding"
	"github.com/doublecheck-dev/doublecheck/store"
)

// adyenGateway is the Adyen refund gateway the environment configures
// (ADYEN_API_KEY, ADYEN_MERCHANT_ACCOUNT, ADYEN_ENV…) for a store of mode
// live; nil, with a note saying why, when Adyen is not configured, is
// misconfigured, or is the other platform than the store's mode.
func adyenGateway(env Env, live bool) (refunding.Gateway, string) {
	cfg, configured, err := adyenapi.ConfigFromEnv(env.Getenv)
	if !configured {
		return nil, ""
	}
	if err == nil && (cfg.Env == adyenapi.EnvLive) != live {
		err = fmt.Errorf("%s=%s but the store is a %s store", adyenapi.EnvEnvironment, cfg.Env, modeName(live))
	}
	var c *adyenapi.Client
	if err == nil {
		c, err = adyenapi.NewClient(cfg)
	}
	if err != nil {
		return nil, fmt.Sprintf("Adyen refunds are off: %v", err)
	}
	return c.RefundGateway(), fmt.Sprintf("Adyen refunds through %s for merchant account %s", c.BaseURL(), cfg.MerchantAccount)
}

// adyenReportsMode is the mode of Adyen reports, which do not say whether
// the test or the live Customer Area made them: ADYEN_ENV's, else test.
func adyenReportsMode(env Env) (live bool, err error) {
	v := env.Getenv(adyenapi.EnvEnvironment)
	if strings.TrimSpace(v) == "" {
		return false, nil
	}
	e, err := adyenapi.ParseEnvironment(v)
	if err != nil {
		return false, fmt.Errorf("%s: %w", adyenapi.EnvEnvironment, err)
	}
	return e == adyenapi.EnvLive, nil
}

// isAdyenReport is whether the import reads Adyen reports: --format names
// one, or the first file starts as one does. Standard input is not peeked
// at: it cannot be read twice.
func isAdyenReport(opts *importOptions) bool {
	if opts.format != "" {
		f := formatNamed(opts.format)
		return f != nil && f.provider == reconcile.ProviderAdyen
	}
	if opts.path == "-" {
		return false
	}
	f, err := os.Open(opts.path)
	if err != nil {
		return false // importFile says why it cannot be read
	}
	defer f.Close()
	head := make([]byte, formatHead)
	n, _ := io.ReadFull(f, head)
	head = reconcile.TrimLineBOM(head[:n])
	header := reconcile.CSVHeaderRow(head)
	for _, cf := range chargeFormats {
		if cf.recognises(head, header) {
			return cf.provider == reconcile.ProviderAdyen
		}
	}
	return false
}

// adyenFromFileOnly is the registry's reader of Adyen reports, reached only
// from standard input: the reports are read together, in the mode ADYEN_ENV
// names, by importAdyenReports, which needs them as files.
func adyenFromFileOnly(_ io.Reader, name string, _ time.Time, _ storedCharges, _ func(*reconcile.ChargeRecord) error) (string, error) {
	return "", fmt.Errorf("%s is an Adyen report: import it from a file, with the other report of the same period (doublecheck import RECEIVED.csv SETTLEMENT.csv --db PATH)", name)
}

// peekAdyenMode settles the first report's format (for the import's "read …
// as …") and the mode of the reports before the store is opened.
func peekAdyenMode(env Env) func(*importInput) error {
	return func(in *importInput) error {
		if err := in.chooseFormat(); err != nil {
			return err
		}
		live, err := adyenReportsMode(env)
		if err != nil {
			return err
		}
		in.live = &live
		return nil
	}
}

// importAdyenReports reads the Received payment details and Settlement
// details reports of the import (the first file and the others named), joined
// on Psp Reference, into st in one transaction, adding to what earlier
// imports stored of the same payments. Then the refund bookings of the
// Settlement details reports confirm doublecheck refunds awaiting Adyen.
func importAdyenReports(env Env, more []string) importer {
	return func(ctx context.Context, st *store.Store, in *importInput) (count, repeated int, err error) {
		files := []adyenapi.File{{R: in.r, Name: in.name}}
		for _, path := range more {
			f, err := os.Open(path)
			if err != nil {
				return 0, 0, fmt.Errorf("cannot read %s: %w", path, err)
			}
			defer f.Close()
			files = append(files, adyenapi.File{R: f, Name: path})
		}
		live := *in.live
		if _, err := checkStoreMode(ctx, st, in.name, live); err != nil {
			return 0, 0, err
		}
		opts := adyenapi.Options{Live: live, OrderField: reconcile.DefaultOptions().OrderField, Now: in.now}
		// The reports are read whole before anything is stored (the join
		// needs every row), so the question comes after reading.
		reports, err := adyenapi.Read(files, opts)
		if err != nil {
			return 0, 0, err
		}
		if in.agree != nil {
			if err := in.agree(reconcile.Plural(reports.Payments(), "Adyen payment") + " from " + strings.Join(fileNames(files), " and ")); err != nil {
				return 0, 0, err
			}
		}
		var sum adyenapi.Summary
		err = st.ImportCharges(ctx, func(imp *store.ChargeImport) error {
			// Again under the write lock, before anything is written.
			storeLive, known, err := imp.Mode()
			if err != nil {
				return err
			}
			// What earlier imports stored of these payments is read in the
			// import's transaction, so an import committed meanwhile is
			// added to, not overwritten.
			stored := func(psps []string) (map[string][]byte, error) {
				charges, err := imp.StoredCharges(psps)
				raws := map[string][]byte{}
				for id, c := range charges {
					if c.Provider == reconcile.ProviderAdyen && len(c.Raw) > 0 {
						raws[id] = c.Raw
					}
				}
				return raws, err
			}
			sum, err = reports.Emit(stored, func(rec *reconcile.ChargeRecord) error {
				return imp.Add(rec.Charge, rec.Place, rec.Digest)
			})
			if err != nil {
				return err
			}
			if count, repeated, err = imp.Counts(); err != nil || count == 0 {
				return err
			}
			return settleImportMode(imp, st, in.name, live, storeLive, known)
		})
		if err != nil {
			return 0, 0, err
		}
		in.note = strings.Join(adyenImportNotes(ctx, st, sum), "; ")
		return count, repeated, nil
	}
}

func fileNames(files []adyenapi.File) []string {
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = f.Name
	}
	return names
}

// adyenImportNotes says, for the import's summary, which other files were
// read as what, what the reports left out or could not say, and confirms
// received refunds the Settlement details reports book.
func adyenImportNotes(ctx context.Context, st *store.Store, sum adyenapi.Summary) []string {
	var notes []string
	for _, f := range sum.Files[1:] { // the import says how it read the first
		notes = append(notes, fmt.Sprintf("read %s as an %s", f.Name, f.Report))
	}
	if sum.AuthorisedOnly > 0 {
		notes = append(notes, fmt.Sprintf("%s authorised with no capture known, not counted as money taken (import the Settlement details report with them)",
			reconcile.Plural(sum.AuthorisedOnly, "payment")))
	}
	if sum.Merged > 0 {
		notes = append(notes, fmt.Sprintf("added to %s stored by earlier imports", reconcile.Plural(sum.Merged, "payment")))
	}
	if sum.LaterBookingsOnly > 0 {
		notes = append(notes, fmt.Sprintf("left out %s only refunded or charged back here and not in the store (settled in a batch not among the files)",
			reconcile.Plural(sum.LaterBookingsOnly, "payment")))
	}
	if !sum.Identity {
		notes = append(notes, "no shopper email or shopper reference column: matched on merchant references, amounts and timing only")
	}
	if len(sum.Bookings) == 0 {
		return notes
	}
	intents, err := st.RefundIntents(ctx)
	if err != nil {
		return append(notes, fmt.Sprintf("received refunds not checked against the refund bookings: %v", err))
	}
	received := map[string]bool{}
	for _, it := range intents {
		if it.Status == reconcile.RefundReceived {
			received[it.RefundID] = true
		}
	}
	for _, b := range sum.Bookings {
		// A refund that came back (RefundedReversed) is its REFUNDED_REVERSED
		// notification's to report; a refund made elsewhere or already
		// confirmed has nothing to confirm.
		if b.Reversed || !received[b.RefundPsp] {
			continue
		}
		if err := st.ConfirmRefund(ctx, b.RefundPsp, reconcile.RefundOutcome{Status: reconcile.RefundSucceeded}); err != nil {
			notes = append(notes, fmt.Sprintf("refund %s of payment %s booked on %s but not confirmed: %v", b.RefundPsp, b.PaymentPsp, b.Place, err))
			continue
		}
		notes = append(notes, fmt.Sprintf("refund %s of payment %s booked on %s: confirmed", b.RefundPsp, b.PaymentPsp, b.Place))
	}
	return notes
}

const adyenNotificationsSynopsis = "doublecheck adyen-notifications FILE   (Adyen webhook bodies: JSON, a JSON array or JSONL; verified with ADYEN_HMAC_KEY)"

// adyenNotificationsOptions are what doublecheck adyen-notifications was asked for.
type adyenNotificationsOptions struct {
	env  Env
	sh   shared
	path string
}

func newAdyenNotificationsCmd(env Env, runF func(context.Context, *adyenNotificationsOptions) error) *command {
	opts := &adyenNotificationsOptions{env: env}
	fs := newFlags("adyen-notifications", adyenNotificationsSynopsis)
	opts.sh.register(fs, env, usesStripe|usesRefunds)
	return &command{flags: fs, args: 1, run: func(ctx context.Context, args []string) error {
		opts.path = args[0]
		return runner(runF, runAdyenNotifications)(ctx, opts)
	}}
}

// runAdyenNotifications records the outcome of received Adyen refunds from
// their REFUND, REFUND_FAILED and REFUNDED_REVERSED notifications. Every
// item's HMAC signature and every event's mode are checked before anything
// is recorded; then the whole file is recorded in one transaction, each
// event reading its intent as the earlier ones left it: one forged item, one
// of the other mode or one the ledger contradicts refuses the whole file.
func runAdyenNotifications(ctx context.Context, opts *adyenNotificationsOptions) error {
	env, sh := opts.env, &opts.sh
	hmacKey := strings.TrimSpace(env.Getenv(adyenapi.EnvHMACKey))
	if hmacKey == "" {
		return fmt.Errorf("%s is not set: the webhook's HMAC key (Customer Area > Developers > Webhooks) proves the notifications come from Adyen", adyenapi.EnvHMACKey)
	}
	r, name := env.Stdin, "standard input"
	if opts.path != "-" {
		f, err := os.Open(opts.path)
		if err != nil {
			return fmt.Errorf("cannot read %s: %w", opts.path, err)
		}
		defer f.Close()
		r, name = f, opts.path
	}
	events, sum, err := adyenapi.ReadNotifications(r, name, hmacKey)
	if err != nil {
		return err
	}
	st, err := sh.writeLocalStore(ctx, env)
	if err != nil {
		return err
	}
	defer st.Close()
	target, err := resumeTarget(ctx, st, sh, nil)
	if err != nil {
		return err
	}
	storeLive, known, err := st.Mode(ctx)
	if err != nil {
		return err
	}
	confirmations := make([]store.RefundConfirmation, len(events))
	for i, ev := range events {
		if known && ev.Live != storeLive {
			return fmt.Errorf("%s line %d: a %s notification, but the store %s is a %s store; nothing was recorded", name, ev.Line, modeName(ev.Live), st.Path(), modeName(storeLive))
		}
		confirmations[i] = store.RefundConfirmation{RefundID: ev.RefundPsp, Key: ev.Reference, Outcome: ev.Outcome()}
	}
	if sh.dryRun {
		for _, ev := range events {
			fmt.Fprintf(env.Stdout, "refund %s of payment %s (%s): %s would be recorded as %s (dry run)\n",
				ev.RefundPsp, ev.PaymentPsp, reconcile.FormatMoney(ev.Amount, ev.Currency), ev.EventCode, ev.Outcome().Status)
		}
		return nil
	}
	done, err := st.ConfirmRefunds(ctx, confirmations)
	var ce *store.ConfirmationError
	if errors.As(err, &ce) {
		ev := events[ce.Index]
		return fmt.Errorf("%s line %d (%s of refund %s): %w; nothing was recorded", name, ev.Line, ev.EventCode, ev.RefundPsp, ce.Err)
	}
	if err != nil {
		return err
	}
	var confirmed, refused, reversed, already, notOurs, attention int
	for i, ev := range events {
		c, money := done[i], reconcile.FormatMoney(ev.Amount, ev.Currency)
		switch {
		case c.Lost.Key != "":
			// The answer to the refund call was lost: the ledger does not
			// know the refund's reference yet.
			attention++
			fmt.Fprintf(env.Stdout, "refund %s of payment %s (%s) is doublecheck's pending refund of charge %s: run %s first (the resend with the same key gets its reference), then import this file again\n",
				ev.RefundPsp, ev.PaymentPsp, money, c.Lost.ChargeID, reconcile.ResumeCommand(target))
		case c.Intent.Key == "":
			notOurs++ // made elsewhere (the Customer Area, the shop): not doublecheck's to record
		case !c.Changed:
			already++ // a notification delivered, or imported, again; or one the reversal after it settled
		case ev.CameBack():
			reversed++
			attention++
			fmt.Fprintf(env.Stdout, "refund %s of payment %s (%s) came back (%s) after Adyen %s it: recorded as %s; the shopper does not have the money, which is at risk again; doublecheck refund --charge %s asks again, under a new key\n",
				ev.RefundPsp, ev.PaymentPsp, money, ev.Reason, receivedOrConfirmed(c.Intent.Status), reconcile.RefundReversed.Describe(reconcile.ProviderAdyen), c.Intent.ChargeID)
		case ev.Succeeded:
			confirmed++
			fmt.Fprintf(env.Stdout, "refund %s of payment %s (%s): confirmed by Adyen\n", ev.RefundPsp, ev.PaymentPsp, money)
		default:
			refused++
			fmt.Fprintf(env.Stdout, "refund %s of payment %s (%s): refused by Adyen (%s); doublecheck refund --charge %s asks again, under a new key\n", ev.RefundPsp, ev.PaymentPsp, money, ev.Reason, c.Intent.ChargeID)
		}
	}
	fmt.Fprintf(env.Stderr, "%s verified in %s: %d confirmed, %d refused, %d reversed, %d already recorded, %s made elsewhere, %s about other events; store %s\n",
		reconcile.Plural(sum.Items, "notification item"), name, confirmed, refused, reversed, already, reconcile.Plural(notOurs, "refund"), reconcile.Plural(sum.Other, "item"), st.Path())
	if attention > 0 {
		return fmt.Errorf("%s need attention: see above", reconcile.Plural(attention, "notification"))
	}
	return nil
}

// receivedOrConfirmed says what Adyen had said of a refund of this status.
func receivedOrConfirmed(s reconcile.RefundStatus) string {
	if s == reconcile.RefundSucceeded {
		return "confirmed"
	}
	return "received"
}
