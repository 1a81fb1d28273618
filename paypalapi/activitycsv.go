package paypalapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// PayPal's activity download (Activity → Statements → Activity download, CSV)
// writes one row per balance movement or memo, with columns the account
// holder may choose: "Date" (MM/DD/YYYY; DD/MM/YYYY in the UK), "Time", "TimeZone" (or "Time zone"),
// "Type", "Status", "Currency", "Gross" (major units, thousands separators,
// negative for money out), "From Email Address", "Transaction ID",
// "Reference Txn ID" (a refund's payment), "Invoice Number", "Custom Number",
// "Balance Impact" (Credit, Debit, Memo), and in the UK "VAT". It holds no
// PayPal-Request-Id. (Column names as in PayPal's help pages and downloads
// quoted in public repositories; see README, "The PayPal activity download".)
var (
	activityZone     = []string{"TimeZone", "Time zone", "Time Zone"}
	activityRequired = [][]string{{"Date"}, {"Time"}, activityZone, {"Type"}, {"Status"}, {"Currency"}, {"Gross"}, {"Transaction ID"}}
)

// IsActivityDownload is whether header, a CSV file's first row, is PayPal's
// activity download.
func IsActivityDownload(header []string) bool {
	return reconcile.HasAll(header, "Date", "Gross", "Currency", "Transaction ID")
}

// activityZones are the time zones the download names by abbreviation. An
// abbreviation names one offset (PDT is UTC−7 whatever the date), so each is a
// fixed zone: the time the file wrote, exactly.
var activityZones = map[string]int{ // offset east of UTC, in minutes
	"GMT": 0, "UTC": 0, "WET": 0, "WEST": 60, "BST": 60,
	"CET": 60, "CEST": 120, "MET": 60, "MEST": 120, "EET": 120, "EEST": 180, "MSK": 180,
	"PST": -480, "PDT": -420, "MST": -420, "MDT": -360, "CST": -360, "CDT": -300,
	"EST": -300, "EDT": -240, "AST": -240, "ADT": -180, "NST": -210, "NDT": -150,
	"AKST": -540, "AKDT": -480, "HST": -600,
	"JST": 540, "KST": 540, "HKT": 480, "SGT": 480, "AWST": 480,
	"ACST": 570, "ACDT": 630, "AEST": 600, "AEDT": 660, "NZST": 720, "NZDT": 780,
}

// activityLocation reads the TimeZone of a row: an abbreviation of activityZones,
// or an offset written as GMT+01:00, UTC-5 and the like.
func activityLocation(name string) (*time.Location, error) {
	upper := strings.ToUpper(strings.TrimSpace(name))
	if off, ok := activityZones[upper]; ok {
		return time.FixedZone(upper, off*60), nil
	}
	for _, prefix := range []string{"GMT", "UTC"} {
		rest, ok := strings.CutPrefix(upper, prefix)
		if !ok || rest == "" || rest[0] != '+' && rest[0] != '-' {
			continue
		}
		hours, minutes, _ := strings.Cut(rest[1:], ":")
		h, err1 := strconv.Atoi(hours)
		m := 0
		var err2 error
		if minutes != "" {
			m, err2 = strconv.Atoi(minutes)
		}
		if err1 == nil && err2 == nil && h <= 14 && m < 60 && len(hours) <= 2 {
			off := h*3600 + m*60
			if rest[0] == '-' {
				off = -off
			}
			return time.FixedZone(upper, off), nil
		}
	}
	known := slices.Sorted(maps.Keys(activityZones))
	return nil, fmt.Errorf("%q is not a time zone doublecheck knows (it knows %s, and offsets such as GMT+01:00)", name, strings.Join(known, ", "))
}

// activityRow is one row of the download, as far as an import uses it.
type activityRow struct {
	place     reconcile.Place
	date      activityDate
	at        time.Time // set once the file's date order is known
	id        string
	reference string
	kind      string // Type
	status    string
	currency  string
	gross     int64  // minor units; negative for money out
	raw       []byte // the row as JSON, to tell a repeated row from a conflicting one
	digest    [16]byte
}

// activityPayment is a payment to the merchant and what the file says of it
// since: its refunds and disputes.
type activityPayment struct {
	charge  reconcile.Charge
	rows    []activityRow // its rows in the file: one, or repeats of it; none for a payment only stored
	emitted int           // how many of rows were handed on
	// links are its refunds and disputes, by transaction id, with those an
	// earlier import or sync stored: each counts once however many
	// downloads list it. Kept as the charge's raw record.
	links record
	// linked is its first refund or dispute row in the file: where a payment
	// only stored is reported.
	linked *activityRow
	// syncRecord is whether links holds the Transaction Search row a PayPal
	// sync stored, from which the charge is rebuilt.
	syncRecord bool
}

// StreamActivityCSV reads PayPal's activity download and hands each payment
// to the merchant to emit as a charge, in the order of the file: a completed
// payment (an Express Checkout, Website, Subscription… Payment, money in) is a
// succeeded charge; its completed refunds (Reference Txn ID → the payment)
// are its refunded amount; a chargeback or reversal marks it disputed. The
// payer's email is its identity; its Invoice Number (else Custom Number) its
// order reference, as metadata MetaOrderRef (and MetaInvoiceID, MetaCustomField,
// PayPal's names for them), as the sync names them. Other rows move no money to the merchant and are left out;
// note counts them by type. The whole file is read before the first charge
// (a refund may come before its payment: the download lists newest first);
// PayPal caps a download at 50,000 rows. It stops at the first problem with
// one sentence naming the file, the line and the column. now is the command's
// clock: a charge created after it is refused.
//
// stored, when not nil, gives the payments an earlier import or sync stored
// of those the file names: a refund or dispute of one that is not in the file
// updates it (a download of another period than its payment's), and each
// payment keeps the refunds and disputes stored of it. Refunds and disputes
// are kept by transaction id as the charge's raw record, so one listed in
// two downloads counts once.
func StreamActivityCSV(r io.Reader, name string, now time.Time, stored func(ids []string) (map[string]reconcile.Charge, error), emit func(*reconcile.ChargeRecord) error) (note string, err error) {
	t, err := reconcile.NewCSVTable(r, name)
	if err != nil {
		return "", err
	}
	if err := t.Require("a PayPal activity download", activityRequired...); err != nil {
		return "", err
	}
	var (
		payments = map[string]*activityPayment{}
		order    []*activityPayment // in the order of the file
		linked   []activityRow      // refunds and disputes, applied once the file is read
		left     = map[string]int{} // rows left out, by what they are
		repeats  = reconcile.NewRepeats("transaction")
		dates    activityDateOrder
	)
	for {
		ok, err := t.Next()
		if err != nil {
			return "", err
		}
		if !ok {
			break
		}
		row, err := readActivityRow(t)
		if err != nil {
			return "", err
		}
		if err := dates.see(row); err != nil {
			return "", err
		}
		switch activityKind(t, row) {
		case activityIsPayment:
			p := payments[row.id]
			repeat, err := repeats.Seen(row.id, string(row.raw), row.place.Line)
			if err != nil {
				return "", fmt.Errorf("%s: %w", row.place, err)
			}
			if !repeat {
				c, err := activityCharge(t, row)
				if err != nil {
					return "", err
				}
				p = &activityPayment{charge: c}
				payments[row.id] = p
			}
			p.rows = append(p.rows, row)
			order = append(order, p)
		case activityIsRefund:
			if _, ok := t.Column("Reference Txn ID"); !ok {
				return "", fmt.Errorf("%s: %s %s returns a payment, but the file has no Reference Txn ID column to say which; download the activity with that column", row.place, row.kind, row.id)
			}
			if row.reference == "" {
				return "", t.FieldError("Reference Txn ID", fmt.Errorf("empty, but a %s row names the payment it returns", row.kind))
			}
			linked = append(linked, row)
		case activityIsDispute:
			if row.reference == "" {
				left[row.kind+" of no named payment"]++
				continue
			}
			linked = append(linked, row)
		case activityIsPendingRefund:
			left[row.kind+" ("+reconcile.OneLine(row.status)+")"]++
		default:
			left[row.kind]++
		}
	}
	for _, p := range order {
		if p.charge.Created.IsZero() {
			if p.charge.Created, err = p.rows[0].time(dates.dayFirst); err != nil {
				return "", err
			}
			p.charge.Observed = p.charge.Created
		}
	}
	for i := range linked {
		if linked[i].at, err = linked[i].time(dates.dayFirst); err != nil {
			return "", err
		}
	}
	known, err := storedPayments(stored, order, linked, payments)
	if err != nil {
		return "", err
	}
	refunds := 0
	for _, row := range linked {
		p := payments[row.reference]
		if p == nil {
			s, ok := known[row.reference]
			switch {
			case !ok:
				left["refunds and disputes of payments not in the file"]++
				continue
			case !isActivityDispute(row.kind) && !s.hasRecord():
				// Stored by a doublecheck that kept no record of the
				// refunds it applied: this one may be among them.
				left["refunds of payments stored without a record of their refunds (import the download holding the payment again)"]++
				continue
			}
			p = s.payment
			p.linked = &row
			payments[row.reference] = p
			order = append(order, p)
		}
		applied, err := p.apply(row)
		if err != nil {
			return "", err
		}
		if applied && !isActivityDispute(row.kind) {
			refunds++
		}
	}
	for _, p := range order {
		if len(p.rows) == 0 { // a payment only stored, which this file adds to
			c, err := p.built()
			if err != nil {
				return "", err
			}
			if err := emit(&reconcile.ChargeRecord{Charge: c, Place: p.linked.place, Digest: p.linked.digest}); err != nil {
				return "", err
			}
			continue
		}
		if s, ok := known[p.charge.ID]; ok && p.emitted == 0 {
			if err := p.keep(s); err != nil {
				return "", err
			}
		}
		c, err := p.built()
		if err != nil {
			return "", err
		}
		if p.emitted == 0 {
			if err := reconcile.ValidateCharge(c, now); err != nil {
				return "", fmt.Errorf("%s: %w", p.rows[0].place, err)
			}
		}
		// A repeated row goes to the import too, which counts it and
		// stores the payment once.
		row := p.rows[p.emitted]
		p.emitted++
		if err := emit(&reconcile.ChargeRecord{Charge: c, Place: row.place, Digest: row.digest}); err != nil {
			return "", err
		}
	}
	return activityNote(refunds, left), nil
}

// storedPaymentOf is a PayPal payment a store holds and what it kept of it.
type storedPaymentOf struct {
	payment *activityPayment
	charge  reconcile.Charge
}

// hasRecord is whether the store knows which refunds the payment's refunded
// amount counts: it kept their record (a payment imported or synced by a
// doublecheck that keeps one), or the payment has none.
func (s storedPaymentOf) hasRecord() bool {
	return len(s.charge.Raw) > 0 || s.charge.AmountRefunded == 0
}

// storedPayments reads, through stored, the PayPal payments of the file and
// those its refunds and disputes name.
func storedPayments(stored func([]string) (map[string]reconcile.Charge, error), order []*activityPayment, linked []activityRow, payments map[string]*activityPayment) (map[string]storedPaymentOf, error) {
	if stored == nil {
		return nil, nil
	}
	var ids []string
	for _, p := range order {
		ids = append(ids, p.charge.ID)
	}
	for _, row := range linked {
		if payments[row.reference] == nil {
			ids = append(ids, row.reference)
		}
	}
	slices.Sort(ids)
	charges, err := stored(slices.Compact(ids))
	if err != nil {
		return nil, err
	}
	out := map[string]storedPaymentOf{}
	for id, c := range charges {
		if c.Provider != reconcile.ProviderPayPal {
			continue
		}
		s := storedPaymentOf{charge: c, payment: &activityPayment{charge: c}}
		if len(c.Raw) > 0 {
			if err := json.Unmarshal(c.Raw, &s.payment.links); err != nil {
				return nil, fmt.Errorf("the stored record of PayPal payment %s is unreadable (%v); it was not written by a PayPal sync or import", id, err)
			}
			s.payment.syncRecord = len(s.payment.links.Row) > 0
		}
		out[id] = s
	}
	return out, nil
}

// apply adds a refund or dispute row to the payment, unless its links hold
// it already; applied says whether it did.
func (p *activityPayment) apply(row activityRow) (applied bool, err error) {
	c := &p.charge
	if row.currency != c.Currency {
		return false, fmt.Errorf("%s: %s %s is in %s, but its payment %s (%s) is in %s",
			row.place, row.kind, row.id, strings.ToUpper(row.currency), c.ID, p.where(), strings.ToUpper(c.Currency))
	}
	if row.at.After(c.Observed) {
		c.Observed = row.at
	}
	if isActivityDispute(row.kind) {
		if slices.Contains(p.links.Disputes, row.id) {
			return false, nil
		}
		p.links.Disputes = append(p.links.Disputes, row.id)
		return true, nil
	}
	if _, ok := p.links.Refunds[row.id]; ok {
		return false, nil
	}
	if p.links.Refunds == nil {
		p.links.Refunds = map[string]int64{}
	}
	p.links.Refunds[row.id] = -row.gross
	if refunded := p.refundedSum(); refunded > c.Amount {
		return false, fmt.Errorf("%s: refund %s brings the refunds of payment %s (%s) to %s, more than its %s",
			row.place, row.id, c.ID, p.where(), reconcile.FormatMoney(refunded, c.Currency), reconcile.FormatMoney(c.Amount, c.Currency))
	}
	return true, nil
}

// where says where the payment is: its line, or that it is stored.
func (p *activityPayment) where() string {
	if len(p.rows) > 0 {
		return fmt.Sprintf("line %d", p.rows[0].place.Line)
	}
	return "stored by an earlier import"
}

// refundedSum is the sum of the payment's refunds.
func (p *activityPayment) refundedSum() int64 { return p.links.refundedSum() }

// keep adds to a payment of the file the refunds and disputes the store
// holds of it, and the Transaction Search row a sync stored.
func (p *activityPayment) keep(s storedPaymentOf) error {
	if s.charge.Currency != p.charge.Currency {
		return fmt.Errorf("%s: payment %s is in %s, but the store holds it in %s", p.rows[0].place, p.charge.ID,
			strings.ToUpper(p.charge.Currency), strings.ToUpper(s.charge.Currency))
	}
	p.links.merge(s.payment.links)
	if s.charge.Disputed {
		p.charge.Disputed = true
	}
	if s.charge.Observed.After(p.charge.Observed) {
		p.charge.Observed = s.charge.Observed
	}
	if refunded := p.refundedSum(); refunded > p.charge.Amount {
		return fmt.Errorf("%s: the refunds stored of payment %s come to %s, more than its %s", p.rows[0].place, p.charge.ID,
			reconcile.FormatMoney(refunded, p.charge.Currency), reconcile.FormatMoney(p.charge.Amount, p.charge.Currency))
	}
	return nil
}

// built is the payment's charge: refunded and disputed as its links say,
// with its links as raw record.
func (p *activityPayment) built() (reconcile.Charge, error) {
	c := p.charge
	raw, err := json.Marshal(p.links)
	if err != nil {
		return c, fmt.Errorf("payment %s: %w", c.ID, err)
	}
	if len(p.rows) == 0 && p.syncRecord {
		// Stored by a PayPal sync: rebuilt from its Transaction Search row
		// as the sync does, with the links this file adds.
		rebuilt, err := p.links.charge(c.Observed, c.Livemode)
		if err != nil {
			return c, fmt.Errorf("%s: the stored record of PayPal payment %s: %w", p.linked.place, c.ID, err)
		}
		return rebuilt, nil
	}
	if len(p.rows) == 0 {
		// Stored by a download: its fields as stored, its refunds as its
		// record now holds them. Stored without a record of the refunds
		// its amount counts, it takes only a dispute, and stays without.
		if len(c.Raw) == 0 && c.AmountRefunded > 0 {
			c.Disputed = c.Disputed || len(p.links.Disputes) > 0
			return c, nil
		}
		c.AmountRefunded = max(c.AmountRefunded, p.refundedSum())
	} else {
		c.AmountRefunded = p.refundedSum()
		if st := strings.ToLower(p.rows[0].status); (st == "refunded" || st == "reversed") && c.AmountRefunded == 0 {
			// Its refund is not in the file (a download of another
			// period), but the payment's status says all of it went back
			// (as Transaction Search's status V: "reversed (refunded)").
			c.AmountRefunded = c.Amount
		}
	}
	c.Disputed = c.Disputed || len(p.links.Disputes) > 0
	c.Refunded = c.AmountRefunded == c.Amount
	c.Raw = raw
	return c, nil
}

// activityNote is the summary's word on what the file held besides payments.
func activityNote(refunds int, left map[string]int) string {
	var parts []string
	if refunds > 0 {
		parts = append(parts, reconcile.Plural(refunds, "refund")+" applied to its payment")
		if refunds > 1 {
			parts[0] = reconcile.Plural(refunds, "refund") + " applied to their payments"
		}
	}
	if len(left) > 0 {
		total := 0
		kinds := slices.Sorted(maps.Keys(left))
		for i, k := range kinds {
			total += left[k]
			kinds[i] = fmt.Sprintf("%s ×%d", k, left[k])
		}
		parts = append(parts, fmt.Sprintf("left out %s, neither payments to you nor their completed refunds (%s)",
			reconcile.Plural(total, "row"), strings.Join(kinds, ", ")))
	}
	return strings.Join(parts, "; ")
}

// readActivityRow reads the columns every row has.
func readActivityRow(t *reconcile.CSVTable) (activityRow, error) {
	row := activityRow{
		place:     t.Place(),
		id:        t.Get("Transaction ID"),
		reference: t.Get("Reference Txn ID"),
		kind:      reconcile.OneLine(t.Get("Type")),
		status:    t.Get("Status"),
		currency:  strings.ToLower(t.Get("Currency")),
	}
	row.raw, row.digest = t.Raw()
	if row.id == "" {
		return row, t.FieldError("Transaction ID", errors.New("empty: every row has one"))
	}
	if len(row.id) > 255 || strings.ContainsFunc(row.id, notTransactionIDRune) {
		return row, t.FieldError("Transaction ID", fmt.Errorf("%.40q is not a PayPal transaction id (letters and digits)", row.id))
	}
	if !reconcile.KnownCurrency(row.currency) {
		return row, t.FieldError("Currency", fmt.Errorf("%q is not an ISO 4217 currency code", t.Get("Currency")))
	}
	var err error
	if row.gross, err = reconcile.ParseMajorAmount(t.Get("Gross"), row.currency); err != nil {
		return row, t.FieldError("Gross", err)
	}
	zoneColumn, _ := t.Column(activityZone...)
	loc, err := activityLocation(t.Get(zoneColumn))
	if err != nil {
		return row, t.FieldError(zoneColumn, err)
	}
	row.date = activityDate{text: t.Get("Date"), loc: loc}
	if !row.date.split() {
		return row, t.FieldError("Date", fmt.Errorf("%q is not a date as PayPal writes it (MM/DD/YYYY, or DD/MM/YYYY)", row.date.text))
	}
	clock, err := time.Parse("15:04:05", t.Get("Time"))
	if err != nil {
		return row, t.FieldError("Time", fmt.Errorf("%q is not a time as PayPal writes it (HH:MM:SS)", t.Get("Time")))
	}
	row.date.clock = time.Duration(clock.Hour())*time.Hour + time.Duration(clock.Minute())*time.Minute +
		time.Duration(clock.Second())*time.Second
	return row, nil
}

// activityDate is a row's Date, Time and TimeZone, read once the file's
// date order is known.
type activityDate struct {
	text          string
	first, second int // the two numbers before the year
	year          int
	clock         time.Duration
	loc           *time.Location
}

// split reads the three numbers of text, separated by slashes.
func (d *activityDate) split() bool {
	parts := strings.Split(d.text, "/")
	if len(parts) != 3 || len(parts[2]) != 4 {
		return false
	}
	n := make([]int, 3)
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || p == "" || len(p) > 4 || strings.ContainsAny(p, "+-") {
			return false
		}
		n[i] = v
	}
	d.first, d.second, d.year = n[0], n[1], n[2]
	return d.first >= 1 && d.second >= 1 && d.first <= 31 && d.second <= 31
}

// time is the row's time in UTC, its date read day first or month first.
func (row *activityRow) time(dayFirst bool) (time.Time, error) {
	d := row.date
	month, day, order := d.first, d.second, "MM/DD/YYYY"
	if dayFirst {
		month, day, order = d.second, d.first, "DD/MM/YYYY"
	}
	at := time.Date(d.year, time.Month(month), day, 0, 0, 0, 0, d.loc)
	if month > 12 || at.Day() != day { // no 31 April: time.Date would roll over
		return time.Time{}, fmt.Errorf("%s, Date: %q is not a date as the file writes them (%s)", row.place, d.text, order)
	}
	return at.Add(d.clock).UTC(), nil
}

// activityDateOrder learns whether a download writes its dates month first
// (MM/DD/YYYY, as PayPal's US downloads) or day first (DD/MM/YYYY, as its
// UK and European ones): a first number above 12 says day first, a second
// one month first. A file that says neither is read month first.
type activityDateOrder struct {
	dayFirst, monthFirst bool
	dayAt, monthAt       reconcile.Place // the first rows that said so
	dayText, monthText   string
}

func (o *activityDateOrder) see(row activityRow) error {
	switch {
	case row.date.first > 12 && !o.dayFirst:
		o.dayFirst, o.dayAt, o.dayText = true, row.place, row.date.text
	case row.date.second > 12 && !o.monthFirst:
		o.monthFirst, o.monthAt, o.monthText = true, row.place, row.date.text
	default:
		return nil
	}
	if !o.dayFirst || !o.monthFirst {
		return nil
	}
	if row.date.first > 12 {
		return fmt.Errorf("%s, Date: %q is written day first, but %q on line %d month first; which of the file's dates are which is not known",
			row.place, row.date.text, o.monthText, o.monthAt.Line)
	}
	return fmt.Errorf("%s, Date: %q is written month first, but %q on line %d day first; which of the file's dates are which is not known",
		row.place, row.date.text, o.dayText, o.dayAt.Line)
}

func notTransactionIDRune(r rune) bool {
	return !('0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z')
}

// What a row of the download is to an import.
type activityRowKind int

const (
	activityLeftOut activityRowKind = iota
	activityIsPayment
	activityIsRefund
	activityIsPendingRefund
	activityIsDispute
)

// activityKind tells a payment to the merchant (money in, a Type naming a
// payment), its completed refund (money out, a Type naming a refund) and a
// chargeback or reversal of it from the rows that move no money to the
// merchant: currency conversions, holds and their releases, transfers,
// withdrawals, authorizations, memos, payments the merchant sent.
func activityKind(t *reconcile.CSVTable, row activityRow) activityRowKind {
	kind := strings.ToLower(row.kind)
	impact := strings.ToLower(t.Get("Balance Impact"))
	switch {
	case impact == "memo":
		return activityLeftOut
	case isActivityDispute(row.kind):
		return activityIsDispute
	case strings.Contains(kind, "refund") && row.gross < 0:
		if !strings.EqualFold(row.status, "Completed") {
			return activityIsPendingRefund
		}
		return activityIsRefund
	case strings.Contains(kind, "payment") && row.gross > 0 && impact != "debit" &&
		!containsAny(kind, "refund", "hold", "release", "authorization", "reversal", "cancel", "conversion", "transfer", "withdrawal", "fee"):
		return activityIsPayment
	}
	return activityLeftOut
}

// isActivityDispute is whether a Type is a chargeback or reversal of a
// payment (not a hold on the balance while a dispute is investigated).
func isActivityDispute(kind string) bool {
	kind = strings.ToLower(kind)
	return containsAny(kind, "chargeback", "payment reversal") && !containsAny(kind, "hold", "release")
}

func containsAny(s string, words ...string) bool {
	return slices.ContainsFunc(words, func(w string) bool { return strings.Contains(s, w) })
}

// activityStatuses are the statuses of a payment row: what the API would call
// the charge, and whether the money was taken.
var activityStatuses = map[string]struct {
	status   string
	captured bool
}{
	"completed":          {"succeeded", true},
	"cleared":            {"succeeded", true},
	"refunded":           {"succeeded", true}, // its refund rows say how much
	"partially refunded": {"succeeded", true},
	"reversed":           {"succeeded", true}, // returned to the payer: all of it refunded
	"pending":            {"pending", false},
	"uncleared":          {"pending", false},
	"held":               {"pending", false},
	"denied":             {"failed", false},
	"failed":             {"failed", false},
	"declined":           {"failed", false},
	"canceled":           {"failed", false},
	"cancelled":          {"failed", false},
}

// activityCharge is the charge of a payment row.
func activityCharge(t *reconcile.CSVTable, row activityRow) (reconcile.Charge, error) {
	// reconcile.ValidateCharge checks the id again once the payment is
	// whole; here the message can name the column.
	if !reconcile.ProviderPayPal.IsChargeID(row.id) {
		return reconcile.Charge{}, t.FieldError("Transaction ID", fmt.Errorf("%.40q is not %s", row.id, reconcile.ProviderPayPal.ChargeIDForm()))
	}
	st, ok := activityStatuses[strings.ToLower(row.status)]
	if !ok {
		return reconcile.Charge{}, t.FieldError("Status", fmt.Errorf("%q is not a status of a PayPal payment (%s)",
			row.status, strings.Join(slices.Sorted(maps.Keys(activityStatuses)), ", ")))
	}
	c := reconcile.Charge{
		ID: row.id,
		// Created and Observed: once the file's date order is known.
		Amount:      row.gross,
		Currency:    row.currency,
		Status:      st.status,
		Captured:    st.captured,
		Email:       t.Get("From Email Address"),
		Description: t.Get("Item Title"),
		Livemode:    true, // the download does not say which; read as live (README)
		Provider:    reconcile.ProviderPayPal,
		// Raw: its record of refunds and disputes, once they are applied
		// (built); a download's row is no Transaction Search row to keep.
	}
	if c.Description == "" {
		c.Description = row.kind
	}
	if c.Captured {
		c.AmountCaptured = c.Amount
	}
	c.Metadata = withOrderRefs(nil, t.Get("Invoice Number"), t.Get("Custom Number"))
	return c, nil
}
