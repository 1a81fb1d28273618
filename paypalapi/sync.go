package paypalapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	paypal "github.com/plutov/paypal/v4"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// Sink is where a sync puts what it fetched; *store.Store satisfies it.
type Sink interface {
	// SaveSyncBatch saves charges and sync state in one transaction.
	SaveSyncBatch(ctx context.Context, charges []reconcile.Charge, keys []reconcile.KeyRecord, obs reconcile.Observations, state map[string]string) error
	// State reads one sync state value, "" when unset.
	State(ctx context.Context, name string) (string, error)
	// RawCharges returns the raw JSON kept for those of ids the store holds.
	RawCharges(ctx context.Context, ids []string) (map[string][]byte, error)
}

// Confirmer is the ledger a sync confirms received refunds in; *store.Store
// satisfies it. A Sink that is no Confirmer has nothing confirmed.
type Confirmer interface {
	// RefundIntents lists every refund intent of the ledger.
	RefundIntents(ctx context.Context) ([]reconcile.RefundIntent, error)
	// ConfirmRefund records the provider's outcome of a received refund; the
	// outcome the intent already has does nothing.
	ConfirmRefund(ctx context.Context, refundID string, outcome reconcile.RefundOutcome) error
}

// Transaction Search's limits (reporting_transactions_v1.json and its
// description on developer.paypal.com): at most 31 days between start_date and
// end_date, pages of at most 500 rows, three years of history, and up to three
// hours before an executed transaction is listed.
const (
	MaxWindow   = 31 * 24 * time.Hour
	MaxPageSize = 500
	History     = 3 * 365 * 24 * time.Hour
	DefaultLag  = 3 * time.Hour
	// DefaultSyncSpan is how far back a first sync goes without --since.
	DefaultSyncSpan = 90 * 24 * time.Hour
)

// StateLastSync is the sync state name of the last complete sync's start
// (RFC 3339 UTC), StateSyncedThrough the time up to which every transaction
// was listed (the sync stops DefaultLag before it started).
const (
	StateLastSync      = "paypal.last_sync"
	StateSyncedThrough = "paypal.synced_through"
	stateCheckpoint    = "paypal.sync.checkpoint"
)

// checkpoint is everything the sync remembers between runs, saved with every
// page in the page's transaction: a killed sync resumes at the page after the
// last one saved.
type checkpoint struct {
	Through int64 `json:"through,omitempty"` // unix: every transaction initiated before it is stored (from Since)
	Since   int64 `json:"since,omitempty"`   // unix: where the first complete sync started
	Plan    *plan `json:"plan,omitempty"`    // the sync in progress
	// Pending are refund and dispute rows whose payment is not stored (made
	// before the synced range, or listed later in this sync): payment id →
	// its linked rows, applied when the payment is listed.
	Pending map[string]record `json:"pending,omitempty"`
}

// plan is a sync in progress: the range it lists and the next page to fetch.
type plan struct {
	Started int64 `json:"started"`
	From    int64 `json:"from"`
	To      int64 `json:"to"`
	Window  int64 `json:"window"` // start of the window being listed
	Page    int   `json:"page"`   // next page of that window, from 1
}

// SyncOptions tune a sync. The zero value is a sensible sync.
type SyncOptions struct {
	// Since is how far back a first sync goes; zero means 90 days. It is
	// clamped to PayPal's three years.
	Since time.Time
	// Lag is how long before now the sync stops: transactions may take that
	// long to be listed, and a window listed before they appear would miss
	// them for good. 0 means PayPal's three hours.
	Lag time.Duration
	// PageSize is rows per page, 1..500; 0 means 500.
	PageSize int
	// Progress, when set, is called after every page.
	Progress func(SyncProgress)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// SyncProgress is a snapshot of a running sync.
type SyncProgress struct {
	Charges, Refunds, Pages int
	Window                  time.Time // start of the window being listed
	To                      time.Time // where the sync stops
	Fraction                float64   // share of the range listed, by windows, 0..1
}

// SyncResult says what a sync did.
type SyncResult struct {
	Charges  int // payments stored or updated
	Refunds  int // refund rows linked to their payment
	Disputes int // chargeback, dispute hold and hold cancellation rows linked to their payment
	// Unlinked are refund or dispute rows whose payment is not in the store
	// (made before the synced range); they wait in the checkpoint.
	Unlinked int
	// Twins are rows skipped because their transaction_id was already listed
	// in the page: PayPal's reporting may hold a non-balance-affecting row
	// under the id of a balance-affecting one. The sync asks for
	// balance-affecting rows only, so none should come; if one does, the
	// first row of the id is kept.
	Twins         int
	Other         int // rows that are no payment, refund or dispute (fees, transfers…)
	Pages         int
	Windows       int
	From, Through time.Time // the range listed
	Lag           time.Duration
	// Refunds PayPal had answered PENDING (recorded as received) that this
	// sync found settled, by their row's transaction_status: Confirmed (S),
	// Refused (D, denied), Reversed (V); AwaitingPayPal are still P or not
	// listed yet.
	Confirmed, Refused, Reversed, AwaitingPayPal int
	Resumed                                      bool
	UpToDate                                     bool // nothing to list: the last sync reached the lag line
	Clamped                                      bool // Since was further back than PayPal's three years: the sync starts at them
	// NotRefreshed: PayPal's reporting had not refreshed as far as the sync
	// meant to list (a window served only up to an earlier end_date, or its
	// start refused as "not available"); Through is where it stopped, and the
	// next sync continues from there.
	NotRefreshed bool
}

// notRefreshed is PayPal's refusal of a start_date its reporting data does
// not reach yet: 400 INVALID_REQUEST "Data for the given start date is not
// available." (PayPal-node-SDK issue #452 shows it for recent dates). The
// sync keeps starts within the three years PayPal serves, so here it means
// the data is late.
func notRefreshed(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusBadRequest && strings.Contains(ae.Message, "Data for the given start date is not available")
}

// Sync lists the account's transactions into sink through Transaction
// Search: 31-day windows, fields=all, balance-affecting rows only, page by
// page, oldest window first, stopping Lag before now. Every page is saved with
// the checkpoint in one transaction, so a cancelled or killed sync continues
// from the next page; the next sync starts where the last complete one ended.
// Then, when sink is a Confirmer, it confirms the received refunds PayPal has
// settled since (confirmReceived).
func (c *Client) Sync(ctx context.Context, sink Sink, opts SyncOptions) (SyncResult, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	res, err := c.syncPages(ctx, sink, opts)
	if err != nil {
		return res, err
	}
	if led, ok := sink.(Confirmer); ok {
		// Rounded up to the second Transaction Search dates in, so a refund
		// made within the last second is in range.
		err = c.confirmReceived(ctx, sink, led, opts.Now().UTC().Add(time.Second-1).Truncate(time.Second), &res)
	}
	return res, err
}

// syncPages lists the transactions page by page (see Sync).
func (c *Client) syncPages(ctx context.Context, sink Sink, opts SyncOptions) (SyncResult, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Lag <= 0 {
		opts.Lag = DefaultLag
	}
	if opts.PageSize <= 0 || opts.PageSize > MaxPageSize {
		opts.PageSize = MaxPageSize
	}
	now := opts.Now().UTC().Truncate(time.Second)
	res := SyncResult{Lag: opts.Lag}
	cp, err := readCheckpoint(ctx, sink)
	if err != nil {
		return res, err
	}
	if cp.Plan != nil {
		res.Resumed = true
	} else {
		from := opts.Since
		if from.IsZero() {
			from = now.Add(-DefaultSyncSpan)
		}
		if cp.Through != 0 && (cp.Since == 0 || !from.Before(time.Unix(cp.Since, 0))) {
			from = time.Unix(cp.Through, 0)
		}
		// PayPal refuses a start_date more than three years back; a day of
		// margin keeps the first window inside it.
		if floor := now.Add(-History + 24*time.Hour); from.Before(floor) {
			from, res.Clamped = floor, true
		}
		from = from.UTC().Truncate(time.Second)
		to := now.Add(-opts.Lag)
		if !from.Before(to) {
			res.UpToDate, res.From, res.Through = true, from, time.Unix(cp.Through, 0).UTC()
			return res, nil
		}
		cp.Plan = &plan{Started: now.Unix(), From: from.Unix(), To: to.Unix(), Window: from.Unix(), Page: 1}
		if cp.Since == 0 || from.Unix() < cp.Since {
			cp.Since = from.Unix()
		}
	}
	p := cp.Plan
	res.From, res.Through = time.Unix(p.From, 0).UTC(), time.Unix(p.To, 0).UTC()
	for p.Window < p.To {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		start := time.Unix(p.Window, 0).UTC()
		end := minTime(start.Add(MaxWindow), time.Unix(p.To, 0).UTC())
		page, err := c.listPage(ctx, start, end, p.Page, opts.PageSize)
		if notRefreshed(err) {
			// PayPal's reporting has not caught up with this window yet: what
			// was listed is saved, and the next sync continues here.
			res.Through, res.NotRefreshed = start, true
			return res, nil
		}
		if err != nil {
			return res, fmt.Errorf("list PayPal transactions %s to %s, page %d: %w", start.Format(time.RFC3339), end.Format(time.RFC3339), p.Page, err)
		}
		charges, err := c.absorb(ctx, sink, page.TransactionDetails, &cp, now, &res)
		if err != nil {
			return res, err
		}
		res.Pages++
		served := time.Time(page.EndDate)
		stale := !served.IsZero() && served.Before(end.Add(-time.Second))
		switch {
		case p.Page < page.TotalPages:
			p.Page++
		case stale:
			// PayPal served the window only up to its end_date, "the last date
			// when the data can be served": the rest is not refreshed yet.
			p.Window, p.Page = served.Unix(), 1
		default:
			p.Window, p.Page = end.Unix(), 1
			res.Windows++
		}
		state := map[string]string{stateCheckpoint: string(mustJSON(cp))}
		if p.Window >= p.To {
			cp.Through, cp.Plan = p.To, nil
			res.Unlinked = countPending(cp.Pending)
			state = map[string]string{stateCheckpoint: string(mustJSON(cp)),
				StateLastSync:      time.Unix(p.Started, 0).UTC().Format(time.RFC3339),
				StateSyncedThrough: time.Unix(p.To, 0).UTC().Format(time.RFC3339)}
		}
		if err := sink.SaveSyncBatch(ctx, charges, nil, reconcile.Observations{}, state); err != nil {
			return res, fmt.Errorf("save PayPal transactions: %w", err)
		}
		if stale && p.Page == 1 {
			res.Through, res.NotRefreshed = time.Unix(p.Window, 0).UTC(), true
			return res, nil
		}
		if opts.Progress != nil {
			opts.Progress(SyncProgress{Charges: res.Charges, Refunds: res.Refunds, Pages: res.Pages,
				Window: time.Unix(p.Window, 0).UTC(), To: res.Through,
				Fraction: float64(min(p.Window, p.To)-p.From) / float64(p.To-p.From)})
		}
	}
	return res, nil
}

// confirmReceived looks up, by transaction_id, the Transaction Search row of
// every refund the ledger records as received (PayPal answered it PENDING)
// and records the settled ones: transaction_status S completed → refunded,
// D denied → refused, V reversed → reversed (reporting_transactions_v1.json,
// transaction_status); P, or no row yet, leaves it received. The row's
// status changes under its first initiation date, which the page-by-page
// sync may have passed while it was P, hence the look-up. The settled rows
// update their payments as a page's rows do (a denied refund no longer counts
// as refunded), saved with the checkpoint in one transaction; the ledger's
// confirmations follow, not in that transaction, but an outcome recorded
// twice does nothing, so a sync cut between them confirms the rest next time.
func (c *Client) confirmReceived(ctx context.Context, sink Sink, led Confirmer, now time.Time, res *SyncResult) error {
	intents, err := led.RefundIntents(ctx)
	if err != nil {
		return err
	}
	var rows []paypal.SearchTransactionDetails
	var outcomes []reconcile.RefundOutcome
	for _, it := range intents {
		if it.Provider != reconcile.ProviderPayPal || it.Status != reconcile.RefundReceived || it.RefundID == "" {
			continue
		}
		row, found, err := c.refundRow(ctx, it, now)
		if err != nil {
			return fmt.Errorf("look up PayPal refund %s of capture %s: %w", it.RefundID, it.ChargeID, err)
		}
		outcome := reconcile.RefundOutcome{RefundID: it.RefundID}
		switch status := row.TransactionInfo.TransactionStatus; {
		case !found || status == "P":
			res.AwaitingPayPal++
			continue
		case status == "S":
			outcome.Status = reconcile.RefundSucceeded
			res.Confirmed++
		case status == "D":
			outcome.Status, outcome.ErrorCode = reconcile.RefundFailed, "DENIED"
			outcome.ErrorMessage = fmt.Sprintf("PayPal denied refund %s after answering it PENDING (transaction status D)", it.RefundID)
			res.Refused++
		case status == "V":
			outcome.Status, outcome.ErrorCode = reconcile.RefundReversed, "REVERSED"
			outcome.ErrorMessage = fmt.Sprintf("PayPal reversed refund %s (transaction status V)", it.RefundID)
			res.Reversed++
		default:
			return fmt.Errorf("PayPal refund %s of capture %s has transaction status %q, which is none of S, P, D or V", it.RefundID, it.ChargeID, status)
		}
		rows, outcomes = append(rows, row), append(outcomes, outcome)
	}
	if len(rows) == 0 {
		return nil
	}
	cp, err := readCheckpoint(ctx, sink)
	if err != nil {
		return err
	}
	var scratch SyncResult // these rows are counted as confirmations, not as the listing's
	charges, err := c.absorb(ctx, sink, rows, &cp, now, &scratch)
	if err != nil {
		return err
	}
	if err := sink.SaveSyncBatch(ctx, charges, nil, reconcile.Observations{}, map[string]string{stateCheckpoint: string(mustJSON(cp))}); err != nil {
		return fmt.Errorf("save the settled PayPal refunds: %w", err)
	}
	for _, o := range outcomes {
		if err := led.ConfirmRefund(ctx, o.RefundID, o); err != nil {
			return err
		}
	}
	return nil
}

// refundRow is the Transaction Search row of refund it.RefundID, searched
// from a day before the intent (findClockMargin) to now; found=false when
// search does not list it yet.
func (c *Client) refundRow(ctx context.Context, it reconcile.RefundIntent, now time.Time) (paypal.SearchTransactionDetails, bool, error) {
	from := it.CreatedAt.Add(-findClockMargin).UTC().Truncate(time.Second)
	if floor := now.Add(-History + 24*time.Hour); from.Before(floor) {
		from = floor
	}
	for start := from; start.Before(now); start = start.Add(MaxWindow) {
		resp, err := c.search(ctx, start, minTime(start.Add(MaxWindow), now), 1, MaxPageSize, it.RefundID)
		if notRefreshed(err) {
			return paypal.SearchTransactionDetails{}, false, nil
		}
		if err != nil {
			return paypal.SearchTransactionDetails{}, false, err
		}
		for _, d := range resp.TransactionDetails {
			if info := d.TransactionInfo; info.TransactionID == it.RefundID && kindOf(&info) == rowRefund {
				return d, true, nil
			}
		}
	}
	return paypal.SearchTransactionDetails{}, false, nil
}

// listPage asks for one page of one window.
func (c *Client) listPage(ctx context.Context, start, end time.Time, page, size int) (*paypal.TransactionSearchResponse, error) {
	return c.search(ctx, start, end, page, size, "")
}

// search asks for one page of one window, of the rows of transactionID only
// when it is not "".
func (c *Client) search(ctx context.Context, start, end time.Time, page, size int, transactionID string) (*paypal.TransactionSearchResponse, error) {
	fields, balanceOnly := "all", "Y"
	req := &paypal.TransactionSearchRequest{StartDate: start, EndDate: end, Fields: &fields,
		BalanceAffectingRecordsOnly: &balanceOnly, PageSize: &size, Page: &page}
	if transactionID != "" {
		req.TransactionID = &transactionID
	}
	var resp *paypal.TransactionSearchResponse
	err := c.call(ctx, func(api *paypal.Client) (err error) {
		resp, err = api.ListTransactions(ctx, req)
		return err
	})
	return resp, err
}

// absorb turns one page's rows into the charges to save: its payments, and
// the stored payments its refund and dispute rows change (rebuilt from their
// stored record). Rows whose payment is not stored wait in cp.Pending.
func (c *Client) absorb(ctx context.Context, sink Sink, rows []paypal.SearchTransactionDetails, cp *checkpoint, now time.Time, res *SyncResult) ([]reconcile.Charge, error) {
	records := map[string]*record{} // payment id → what this page knows
	var order []string
	get := func(id string) *record {
		r := records[id]
		if r == nil {
			r = &record{}
			records[id] = r
			order = append(order, id)
		}
		return r
	}
	seen := map[string]bool{}
	for _, d := range rows {
		info := d.TransactionInfo
		if seen[info.TransactionID] {
			res.Twins++ // see SyncResult.Twins
			continue
		}
		seen[info.TransactionID] = true
		// Only a payment's and a refund's amount counts; a row of any other
		// kind (fees, transfers, withdrawals, dispute holds) never stops the
		// sync for an amount doublecheck does not use.
		kind := kindOf(&info)
		var amount int64
		if kind == rowPayment || kind == rowRefund {
			var err error
			if amount, _, err = money(info.TransactionAmount); err != nil {
				return nil, fmt.Errorf("transaction %s: %w", info.TransactionID, err)
			}
		}
		if kind == rowPayment && amount <= 0 {
			kind = rowOther // a payment the merchant sent
		}
		switch kind {
		case rowPayment:
			raw, err := json.Marshal(d)
			if err != nil {
				return nil, fmt.Errorf("transaction %s: %w", info.TransactionID, err)
			}
			get(info.TransactionID).merge(record{Row: raw})
		case rowRefund:
			if undoneRefund(&info) {
				get(info.PayPalReferenceID).merge(record{Undone: []string{info.TransactionID}})
				continue
			}
			get(info.PayPalReferenceID).merge(record{Refunds: map[string]int64{info.TransactionID: -amount}})
			res.Refunds++
		case rowDispute:
			get(info.PayPalReferenceID).merge(record{Disputes: []string{info.TransactionID}})
			res.Disputes++
		case rowDisputeHold:
			get(info.PayPalReferenceID).merge(record{Holds: []string{info.TransactionID}})
			res.Disputes++
		case rowHoldRelease:
			get(info.PayPalReferenceID).merge(record{Released: []string{info.TransactionID}})
			res.Disputes++
		default:
			res.Other++
		}
	}
	// Payments listed before (earlier pages, earlier syncs) and linked rows
	// that waited for their payment.
	for id, pending := range cp.Pending {
		if r, ok := records[id]; ok && len(r.Row) > 0 {
			r.merge(pending)
			delete(cp.Pending, id)
		}
	}
	stored, err := sink.RawCharges(ctx, order)
	if err != nil {
		return nil, err
	}
	var charges []reconcile.Charge
	for _, id := range order {
		r := records[id]
		if raw, ok := stored[id]; ok {
			var old record
			if err := json.Unmarshal(raw, &old); err != nil {
				return nil, fmt.Errorf("the stored record of PayPal transaction %s is unreadable (%v); it was not written by a PayPal sync or import", id, err)
			}
			// The stored row wins unless this one is newer (an activity
			// download's record has none); links add up.
			old.merge(*r)
			r = &old
		}
		if len(r.Row) == 0 {
			if cp.Pending == nil {
				cp.Pending = map[string]record{}
			}
			waiting := cp.Pending[id]
			waiting.merge(*r)
			cp.Pending[id] = waiting
			continue
		}
		ch, err := r.charge(now, c.env == Live)
		if err != nil {
			return nil, err
		}
		// Checked as every charge that comes in is: an impossible one would
		// count in the money at risk. The page is not saved, so the next sync
		// asks for it again rather than skipping the charge.
		if err := reconcile.ValidateCharge(ch, now); err != nil {
			return nil, fmt.Errorf("Transaction Search sent %w", err)
		}
		charges = append(charges, ch)
	}
	res.Charges += len(charges)
	return charges, nil
}

func countPending(p map[string]record) int {
	n := 0
	for _, r := range p {
		n += len(r.Refunds) + len(r.Disputes) + len(r.Holds) + len(r.Released)
	}
	return n
}

func readCheckpoint(ctx context.Context, sink Sink) (checkpoint, error) {
	var cp checkpoint
	v, err := sink.State(ctx, stateCheckpoint)
	if err != nil {
		return cp, fmt.Errorf("read the PayPal sync checkpoint: %w", err)
	}
	if v != "" && json.Unmarshal([]byte(v), &cp) != nil {
		// Unreadable: list again from the start; the store's upserts make it harmless.
		return checkpoint{}, nil
	}
	if cp.Plan != nil && (cp.Plan.To <= cp.Plan.From || cp.Plan.Page < 1) {
		cp.Plan = nil
	}
	return cp, nil
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("paypalapi: marshal %T: %v", v, err)) // plain structs of strings and numbers
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
