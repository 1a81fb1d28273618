// Package adyenapi is doublecheck's Adyen side: the readers of Adyen's
// Received payment details and Settlement details reports (Adyen has no API
// that lists payments), the one Checkout API call a refund needs, and the
// verification of the REFUND notifications that confirm refunds.
package adyenapi

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// Report is which of Adyen's reports a file is.
type Report int

// The reports doublecheck reads.
const (
	// ReceivedPaymentDetails is one row per payment: its status, amount and
	// the shopper (https://docs.adyen.com/reporting/received-payment-details-report).
	ReceivedPaymentDetails Report = iota + 1
	// SettlementDetails is one row per booking of a settlement batch:
	// settlements, refunds, chargebacks, fees, payouts
	// (https://docs.adyen.com/reporting/settlement-detail-report).
	SettlementDetails
)

func (r Report) String() string {
	switch r {
	case ReceivedPaymentDetails:
		return "Adyen Received payment details report"
	case SettlementDetails:
		return "Adyen Settlement details report"
	}
	return "unknown Adyen report"
}

// Column names, as Adyen writes them; reconcile.CSVTable matches them
// whatever their case and surrounding spaces. Adyen changed the default
// column order in its 2023 reporting migration, so columns are found by name,
// never by position.
const (
	colPsp          = "Psp Reference"
	colMerchantRef  = "Merchant Reference"
	colMerchant     = "Merchant Account"
	colMethod       = "Payment Method"
	colCreated      = "Creation Date"
	colTimeZone     = "TimeZone"
	colType         = "Type"
	colGrossCur     = "Gross Currency"
	colGrossDebit   = "Gross Debit (GC)"
	colGrossCredit  = "Gross Credit (GC)"
	colModification = "Modification Reference"
)

// Shopper columns: their exact names are not in the report's published
// standard columns (they are optional, and unmasked only with the Merchant
// View PII role), so the plausible spellings are accepted.
var (
	emailColumns    = []string{"Shopper Email", "Shopper E-mail", "ShopperEmail", "Email"}
	shopperColumns  = []string{"Shopper Reference", "ShopperReference"}
	statusColumns   = []string{"Type", "Status", "Record Type"}
	amountColumns   = []string{"Amount", "Value", "Authorised Amount"}
	currencyColumns = []string{"Currency", "Payment Currency"}
)

// IsReceivedPaymentDetails reports whether header (reconcile.CSVHeaderRow's)
// is a Received payment details report's: Psp Reference, Creation Date and
// an amount, and no settlement (Gross …) columns.
func IsReceivedPaymentDetails(header []string) bool {
	return reconcile.HasAll(header, colPsp, colCreated) && hasAny(header, amountColumns) &&
		!hasAny(header, []string{colGrossCredit, colGrossDebit})
}

// IsSettlementDetails reports whether header is a Settlement details
// report's: Psp Reference with Gross Debit and Gross Credit (GC).
func IsSettlementDetails(header []string) bool {
	return reconcile.HasAll(header, colPsp, colGrossCredit, colGrossDebit)
}

// reportOf is which report a header row is; 0 for neither.
func reportOf(header []string) Report {
	switch {
	case IsSettlementDetails(header):
		return SettlementDetails
	case IsReceivedPaymentDetails(header):
		return ReceivedPaymentDetails
	}
	return 0
}

func hasAny(header []string, names []string) bool {
	return slices.ContainsFunc(names, func(n string) bool { return reconcile.HasAll(header, n) })
}

// File is one report file to read.
type File struct {
	R    io.Reader
	Name string // its path, for messages
	// Report is the file's report; 0 to recognise it from its header row.
	Report Report
}

// Options are what the files do not say.
type Options struct {
	// Live is the mode of the Adyen account the reports come from: a report
	// does not say whether it was made in the test or the live Customer Area.
	Live bool
	// OrderField is the metadata field detection reads the order reference
	// from (reconcile.Options.OrderField): the Merchant Reference goes there.
	OrderField string
	// Now is the command's clock: a payment created after it is refused.
	// Zero is the time of the call.
	Now time.Time
}

// FileRead is a file and the report it was read as.
type FileRead struct {
	Name   string
	Report Report
}

// Summary is what an import of reports found beyond the charges.
type Summary struct {
	Files []FileRead // each file and the report it was read as
	// Payments is the number of distinct Psp References.
	Payments int
	// AuthorisedOnly counts payments authorised with no capture known: they
	// are not counted as money taken until a Settlement details report (or a
	// capture status) shows they were.
	AuthorisedOnly int
	// LaterBookingsOnly counts payments of which the files hold only refunds
	// or chargebacks (settled in a batch not among them) and the store holds
	// nothing: left out, since they say neither the amount nor when the
	// payment was made.
	LaterBookingsOnly int
	// Merged counts payments an earlier import stored that these files add to.
	Merged int
	// Bookings are the refund bookings of the Settlement details reports:
	// a Refunded row confirms the refund its Modification Reference names
	// (what the refund call answered as pspReference), a RefundedReversed row
	// says it came back.
	Bookings []RefundBooking
	// Identity is false when no file had a shopper email or shopper reference
	// column: detection then matches on order references and timing only.
	Identity bool
}

// ReadReports reads Adyen report files and emits one charge per payment
// (Psp Reference), joining what the Received payment details and the
// Settlement details reports say about it: Read, then Emit with nothing
// stored.
func ReadReports(files []File, opts Options, emit func(*reconcile.ChargeRecord) error) (Summary, error) {
	r, err := Read(files, opts)
	if err != nil {
		return Summary{}, err
	}
	return r.Emit(nil, emit)
}

// Reports are report files read and joined, their charges not yet emitted.
type Reports struct {
	j    *join
	opts Options
	sum  Summary
}

// Read reads Adyen report files and joins them on Psp Reference. It reads
// every file whole, so a bad row anywhere means no charge is emitted; the
// error is one sentence naming the file, the line and the field.
func Read(files []File, opts Options) (*Reports, error) {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	r := &Reports{j: newJoin(), opts: opts}
	for _, f := range files {
		rep, err := r.j.read(f, opts)
		if err != nil {
			return nil, err
		}
		r.sum.Files = append(r.sum.Files, FileRead{Name: f.Name, Report: rep})
	}
	r.sum.Identity, r.sum.Bookings = r.j.identity, r.j.refundBookings
	return r, nil
}

// Payments is the number of payments (Psp References) the files name.
func (r *Reports) Payments() int { return len(r.j.order) }

// Emit emits one charge per payment. stored, when not nil, gives the raw
// JSON a store keeps of those of the payments an earlier import stored: what
// the files say is added to it (identity and creation time of a Received
// payment details report, settlements, refunds and chargebacks of Settlement
// details reports, each booking counted once), so reports imported in
// separate runs, in any order, store what one import of them all would.
func (r *Reports) Emit(stored func(psps []string) (map[string][]byte, error), emit func(*reconcile.ChargeRecord) error) (Summary, error) {
	sum := r.sum
	if stored != nil {
		raws, err := stored(r.j.order)
		if err != nil {
			return sum, err
		}
		for _, psp := range r.j.order {
			raw, ok := raws[psp]
			if !ok {
				continue
			}
			var old reportState
			if err := json.Unmarshal(raw, &old); err != nil {
				return sum, fmt.Errorf("the stored record of Adyen payment %s is unreadable (%v); it was not written by an import of Adyen reports", psp, err)
			}
			p := r.j.payments[psp]
			if err := p.merge(old); err != nil {
				return sum, fmt.Errorf("%s: %w", p.place, err)
			}
			sum.Merged++
		}
	}
	for _, psp := range r.j.order {
		p := r.j.payments[psp]
		rec, err := p.charge(r.opts)
		if err != nil {
			return sum, fmt.Errorf("%s: %w", p.place, err)
		}
		if rec == nil {
			sum.LaterBookingsOnly++
			continue
		}
		sum.Payments++
		if p.authorisedOnly() {
			sum.AuthorisedOnly++
		}
		if err := emit(rec); err != nil {
			return sum, err
		}
	}
	return sum, nil
}

// RefundBooking is a refund of a payment a Settlement details report books.
type RefundBooking struct {
	PaymentPsp, RefundPsp string
	Amount                int64 // doublecheck's minor units
	Currency              string
	Reversed              bool // RefundedReversed: the money came back to the merchant
	Place                 reconcile.Place
}

// payment is what the reports say about one Psp Reference.
type payment struct {
	psp   string
	place reconcile.Place // its first row
	reportState
}

// reportState is what the reports say about a payment, kept as its charge's
// raw JSON: a report imported later adds to it (the Settlement details report
// of its batch to its Received payment details row, or the other way round;
// a chargeback booked in a later batch to both).
type reportState struct {
	// Received is its Received payment details row; nil when none was read.
	Received    *receivedRow       `json:"received,omitempty"`
	MerchantRef string             `json:"merchant_reference,omitempty"`
	Merchant    string             `json:"merchant_account,omitempty"`
	Method      string             `json:"payment_method,omitempty"`
	Currency    string             `json:"currency"`           // lower case
	FirstRow    time.Time          `json:"first_row"`          // the earliest row of any report
	LastRow     time.Time          `json:"last_row"`           // the latest row of any report
	Bookings    map[string]booking `json:"bookings,omitempty"` // its Settlement details rows, by digest: each counts once
}

// receivedRow is what a Received payment details row says of its payment.
type receivedRow struct {
	Status  string    `json:"status"` // its Type, canonical spelling
	Created time.Time `json:"created"`
	Amount  int64     `json:"amount"` // authorised, doublecheck's minor units
	Email   string    `json:"email,omitempty"`
	Shopper string    `json:"shopper_reference,omitempty"`
}

// booking is one Settlement details row of a payment: its Type (canonical
// spelling) and the gross amount it moves.
type booking struct {
	Type   string `json:"type"`
	Amount int64  `json:"amount"`
}

// join collects payments across report files.
type join struct {
	payments map[string]*payment
	order    []string
	identity bool
	// receivedRows finds a payment listed twice in Received payment details
	// reports: the same row is a repeat, another row a conflict.
	receivedRows   map[string]receivedPlace
	refundBookings []RefundBooking
}

type receivedPlace struct {
	place   reconcile.Place
	content string
}

func newJoin() *join {
	return &join{payments: map[string]*payment{}, receivedRows: map[string]receivedPlace{}}
}

func (j *join) payment(psp string, place reconcile.Place) *payment {
	p, ok := j.payments[psp]
	if !ok {
		p = &payment{psp: psp, place: place}
		j.payments[psp] = p
		j.order = append(j.order, psp)
	}
	return p
}

// reportRow is the current data row of a report being read.
type reportRow struct {
	t    *reconcile.CSVTable
	file string
	line int
}

// fieldError is the one sentence about a bad field: the file, the line, the
// column and what is wrong.
func (r *reportRow) fieldError(col string, format string, args ...any) error {
	return r.t.FieldError(col, fmt.Errorf(format, args...))
}

// get is the row's value of column col (trimmed); "" when the report has no
// such column.
func (r *reportRow) get(col string) string {
	if col == "" {
		return ""
	}
	return r.t.Get(col)
}

// read reads one report file into the join.
func (j *join) read(f File, opts Options) (Report, error) {
	t, err := reconcile.NewCSVTable(f.R, f.Name)
	if err != nil {
		return 0, err
	}
	rep := f.Report
	if rep == 0 {
		rep = reportOf(t.Header())
	}
	if rep == 0 {
		return 0, fmt.Errorf("%s line 1: not an Adyen report doublecheck reads: a Received payment details report needs the columns Psp Reference, Creation Date and Amount; a Settlement details report Psp Reference, Gross Debit (GC) and Gross Credit (GC)", f.Name)
	}
	cols, err := rep.columns(t, f.Name)
	if err != nil {
		return 0, err
	}
	if cols.email != "" || cols.shopper != "" {
		j.identity = true
	}
	rows := 0
	for {
		more, err := t.Next()
		if err != nil {
			return 0, err
		}
		if !more {
			break
		}
		raw, _ := t.Raw()
		if string(raw) == "{}" {
			continue // a row of empty fields
		}
		rows++
		row := &reportRow{t: t, file: f.Name, line: t.Line()}
		if rep == ReceivedPaymentDetails {
			err = j.addReceived(row, cols, string(raw), opts)
		} else {
			err = j.addSettlement(row, cols, string(raw), opts)
		}
		if err != nil {
			return 0, err
		}
	}
	if rows == 0 {
		return 0, fmt.Errorf("%s holds a header row and no payments", f.Name)
	}
	return rep, nil
}

// columns are the names of the columns a report is read by, as the
// report's header has them; "" when absent.
type columns struct {
	psp, merchantRef, merchant, method, created, zone string
	currency, amount, status                          string
	grossCur, debit, credit, modification             string
	email, shopper                                    string
}

func (rep Report) columns(t *reconcile.CSVTable, name string) (columns, error) {
	col := func(names ...string) string { n, _ := t.Column(names...); return n }
	c := columns{
		psp: col(colPsp), merchantRef: col(colMerchantRef), merchant: col(colMerchant), method: col(colMethod),
		created: col(colCreated), zone: col(colTimeZone), email: col(emailColumns...), shopper: col(shopperColumns...),
	}
	need := [][]string{{colPsp}, {colCreated}, {colTimeZone}}
	if rep == ReceivedPaymentDetails {
		c.currency, c.amount, c.status = col(currencyColumns...), col(amountColumns...), col(statusColumns...)
		need = append(need, currencyColumns, amountColumns, statusColumns)
	} else {
		c.status, c.grossCur = col(colType), col(colGrossCur)
		c.debit, c.credit, c.modification = col(colGrossDebit), col(colGrossCredit), col(colModification)
		need = append(need, []string{colType}, []string{colGrossCur}, []string{colGrossDebit}, []string{colGrossCredit})
	}
	return c, t.Require("the "+rep.String(), need...)
}

// Received payment details statuses: the payment statuses of Adyen's payments
// lifecycle (https://docs.adyen.com/reporting/reports-and-the-payments-lifecycle:
// Received, Authorised, Refused, Error, Cancelled, Expired, SentForSettle,
// Settled, SentForRefund, Refunded, Chargeback).
var (
	// receivedPending: a payment attempt whose outcome is not known yet.
	receivedPending = []string{"Received"}
	// receivedAuthorised: authorised; whether it was captured is not in the row.
	receivedAuthorised = []string{"Authorised"}
	// receivedCaptured: capture requested or settled: money taken.
	receivedCaptured = []string{"SentForSettle", "Settled"}
	// receivedRefunded: captured, and a refund of an amount the row does not
	// give was requested or made; taken as all of it refunded, so that
	// doublecheck never offers to refund it again (the Settlement details
	// report gives the amounts).
	receivedRefunded = []string{"SentForRefund", "Refunded"}
	receivedDisputed = []string{"Chargeback"}
	// receivedFailed: no money taken.
	receivedFailed = []string{"Refused", "Error", "Cancelled", "Expired"}
)

// canonical finds v among the known spellings of the lists, ignoring case.
func canonical(v string, lists ...[]string) (string, bool) {
	for _, l := range lists {
		for _, k := range l {
			if strings.EqualFold(k, v) {
				return k, true
			}
		}
	}
	return "", false
}

func (j *join) addReceived(row *reportRow, c columns, content string, opts Options) error {
	psp, err := pspReference(row, c.psp)
	if err != nil {
		return err
	}
	place := reconcile.Place{File: row.file, Line: row.line, Element: -1}
	if prev, ok := j.receivedRows[psp]; ok {
		if prev.content != content {
			return fmt.Errorf("%s line %d, field \"Psp Reference\": payment %s is also on %s, with different contents; keep the right one and import again", row.file, row.line, psp, prev.place)
		}
		return nil // the same row again (an overlapping report): read once
	}
	j.receivedRows[psp] = receivedPlace{place: place, content: content}
	status, ok := canonical(row.get(c.status), receivedPending, receivedAuthorised, receivedCaptured, receivedRefunded, receivedDisputed, receivedFailed)
	if !ok {
		return row.fieldError(c.status, "payment status %q is not one Adyen documents for a payment (%s)", row.get(c.status),
			strings.Join(slices.Concat(receivedPending, receivedAuthorised, receivedCaptured, receivedRefunded, receivedDisputed, receivedFailed), ", "))
	}
	created, err := createdAt(row, c, opts.Now)
	if err != nil {
		return err
	}
	currency, err := currencyOf(row, c.currency)
	if err != nil {
		return err
	}
	amount, err := majorAmount(row, c.amount, currency)
	if err != nil {
		return err
	}
	if amount <= 0 {
		return row.fieldError(c.amount, "amount %q is not more than zero", row.get(c.amount))
	}
	p := j.payment(psp, place)
	if p.Currency != "" && p.Currency != currency {
		return row.fieldError(c.currency, "payment %s is in %s here but in %s in the Settlement details report", psp, strings.ToUpper(currency), strings.ToUpper(p.Currency))
	}
	p.Received = &receivedRow{Status: status, Created: created, Amount: amount, Email: row.get(c.email), Shopper: row.get(c.shopper)}
	p.Currency = currency
	p.MerchantRef, p.Merchant, p.Method = row.get(c.merchantRef), row.get(c.merchant), row.get(c.method)
	p.seen(created)
	return nil
}

// Settlement details record types (the Type column), from Adyen's Settlement
// details report documentation (https://docs.adyen.com/reporting/settlement-detail-report)
// and the statuses it lists in the payments lifecycle
// (https://docs.adyen.com/reporting/reports-and-the-payments-lifecycle).
var (
	settledTypes = []string{"Settled", "SettledBulk", "SettledExternally", "SettledExternallyWithInfo", "SettledInstallment"}
	refundTypes  = []string{"Refunded", "RefundedBulk", "RefundedExternally", "RefundedExternallyWithInfo", "RefundedInstallment"}
	// refundReversedTypes: a refund that did not reach the shopper came back.
	refundReversedTypes = []string{"RefundedReversed"}
	chargebackTypes     = []string{"Chargeback", "ChargebackExternally", "ChargebackExternallyWithInfo", "SecondChargeback",
		"ChargebackReversed", "ChargebackReversedExternally", "ChargebackReversedExternallyWithInfo"}
	// balanceTypes move the merchant's balance, not a payment's money: fees,
	// payouts, corrections. Read and left out.
	balanceTypes = []string{"Fee", "MiscCosts", "MerchantPayout", "DepositCorrection", "InvoiceDeduction",
		"Balancetransfer", "ReserveAdjustment", "PaymentCost", "ManualCorrected", "AdvancementCommission"}
)

func (j *join) addSettlement(row *reportRow, c columns, content string, opts Options) error {
	raw := row.get(c.status)
	typ, ok := canonical(raw, settledTypes, refundTypes, refundReversedTypes, chargebackTypes, balanceTypes)
	if !ok {
		return row.fieldError(c.status, "record type %q is not one doublecheck knows (%s); nothing was imported", raw,
			strings.Join(slices.Concat(settledTypes, refundTypes, refundReversedTypes, chargebackTypes), ", ")+" and balance bookings such as Fee and MerchantPayout")
	}
	if slices.Contains(balanceTypes, typ) {
		return nil
	}
	psp, err := pspReference(row, c.psp)
	if err != nil {
		return err
	}
	at, err := createdAt(row, c, opts.Now)
	if err != nil {
		return err
	}
	currency, err := currencyOf(row, c.grossCur)
	if err != nil {
		return err
	}
	debit, err := optionalAmount(row, c.debit, currency)
	if err != nil {
		return err
	}
	credit, err := optionalAmount(row, c.credit, currency)
	if err != nil {
		return err
	}
	// An aggregated report and a batch report overlap, and a booking read
	// twice, in one import or two, would count twice.
	key := bookingKey(content)
	if p := j.payments[psp]; p != nil && p.Bookings[key] != (booking{}) {
		return nil
	}
	p := j.payment(psp, reconcile.Place{File: row.file, Line: row.line, Element: -1})
	if p.Currency != "" && p.Currency != currency {
		return row.fieldError(c.grossCur, "payment %s is in %s here but in %s on an earlier row", psp, strings.ToUpper(currency), strings.ToUpper(p.Currency))
	}
	p.Currency = currency
	b := booking{Type: typ}
	switch {
	case slices.Contains(settledTypes, typ):
		if credit <= 0 {
			return row.fieldError(c.credit, "a %s row needs the settled amount in Gross Credit (GC)", typ)
		}
		b.Amount = credit
	case slices.Contains(refundTypes, typ):
		if debit <= 0 {
			return row.fieldError(c.debit, "a %s row needs the refunded amount in Gross Debit (GC)", typ)
		}
		b.Amount = debit
		j.book(row, c, psp, debit, currency, false)
	case slices.Contains(refundReversedTypes, typ):
		if credit <= 0 {
			return row.fieldError(c.credit, "a %s row needs the returned amount in Gross Credit (GC)", typ)
		}
		b.Amount = credit
		j.book(row, c, psp, credit, currency, true)
	}
	if p.Bookings == nil {
		p.Bookings = map[string]booking{}
	}
	p.Bookings[key] = b
	p.fill(row.get(c.merchantRef), row.get(c.merchant), row.get(c.method))
	p.seen(at)
	return nil
}

// book keeps a refund booking that names its refund.
func (j *join) book(row *reportRow, c columns, psp string, amount int64, currency string, reversed bool) {
	if ref := row.get(c.modification); ref != "" {
		j.refundBookings = append(j.refundBookings, RefundBooking{PaymentPsp: psp, RefundPsp: ref, Amount: amount,
			Currency: currency, Reversed: reversed, Place: reconcile.Place{File: row.file, Line: row.line, Element: -1}})
	}
}

// bookingKey is the digest a Settlement details row is known by.
func bookingKey(content string) string {
	sum := sha256.Sum256([]byte(content))
	return hex.EncodeToString(sum[:16])
}

// fill sets the merchant reference, merchant account and payment method
// where nothing set them yet.
func (p *payment) fill(merchantRef, merchant, method string) {
	p.MerchantRef, p.Merchant, p.Method = cmp.Or(p.MerchantRef, merchantRef), cmp.Or(p.Merchant, merchant), cmp.Or(p.Method, method)
}

func (p *payment) seen(t time.Time) {
	if p.FirstRow.IsZero() || t.Before(p.FirstRow) {
		p.FirstRow = t
	}
	if t.After(p.LastRow) {
		p.LastRow = t
	}
}

// merge adds what an earlier import stored of the payment: its Received
// payment details row unless these files have one (a later report says the
// later status), and every booking these files do not repeat.
func (p *payment) merge(old reportState) error {
	if old.Currency != "" && p.Currency != old.Currency {
		return fmt.Errorf("payment %s is in %s here but in %s in the store", p.psp, strings.ToUpper(p.Currency), strings.ToUpper(old.Currency))
	}
	if p.Received == nil && old.Received != nil {
		// Its merchant reference and account are the Received payment
		// details row's, as one import of both reports takes them.
		p.Received = old.Received
		p.MerchantRef, p.Merchant, p.Method = cmp.Or(old.MerchantRef, p.MerchantRef), cmp.Or(old.Merchant, p.Merchant), cmp.Or(old.Method, p.Method)
	} else {
		p.fill(old.MerchantRef, old.Merchant, old.Method)
	}
	for key, b := range old.Bookings {
		if _, ok := p.Bookings[key]; ok {
			continue
		}
		if p.Bookings == nil {
			p.Bookings = map[string]booking{}
		}
		p.Bookings[key] = b
	}
	if !old.FirstRow.IsZero() {
		p.seen(old.FirstRow)
	}
	p.seen(old.LastRow)
	return nil
}

// pspReference is the row's Psp Reference, Adyen's id of the payment.
func pspReference(row *reportRow, col string) (string, error) {
	v := row.get(col)
	switch {
	case v == "":
		return "", row.fieldError(col, "empty; every payment row has Adyen's Psp Reference")
	case !reconcile.IsPspReference(v):
		return "", row.fieldError(col, "%.40q is not an Adyen Psp Reference (16 letters and digits)", v)
	}
	return v, nil
}

// createdAt is the row's Creation Date in its TimeZone.
func createdAt(row *reportRow, c columns, now time.Time) (time.Time, error) {
	zoneName := row.get(c.zone)
	loc, err := Zone(zoneName)
	if err != nil {
		return time.Time{}, row.fieldError(c.zone, "%v", err)
	}
	v := row.get(c.created)
	t, err := time.ParseInLocation("2006-01-02 15:04:05", v, loc)
	if err != nil {
		return time.Time{}, row.fieldError(c.created, "%q is not a date and time as Adyen writes them (YYYY-MM-DD HH:MM:SS)", v)
	}
	if t.After(now.Add(24 * time.Hour)) {
		return time.Time{}, row.fieldError(c.created, "%s is in the future", v)
	}
	return t.UTC(), nil
}

func currencyOf(row *reportRow, col string) (string, error) {
	v := strings.ToLower(row.get(col))
	if !reconcile.KnownCurrency(v) {
		return "", row.fieldError(col, "%q is not an ISO 4217 currency code", row.get(col))
	}
	if _, err := Decimals(v); err != nil {
		return "", row.fieldError(col, "%v", err)
	}
	return v, nil
}

// majorAmount reads an amount in major units ("12.50"), written with Adyen's
// decimals for currency, as doublecheck's minor units of currency.
func majorAmount(row *reportRow, col string, currency string) (int64, error) {
	v := row.get(col)
	if v == "" {
		return 0, row.fieldError(col, "empty; an amount is needed")
	}
	n, err := ParseAmount(v, currency)
	if err != nil {
		return 0, row.fieldError(col, "%v", err)
	}
	return n, nil
}

// optionalAmount is majorAmount, 0 for an empty field.
func optionalAmount(row *reportRow, col string, currency string) (int64, error) {
	if row.get(col) == "" {
		return 0, nil
	}
	n, err := majorAmount(row, col, currency)
	if err == nil && n < 0 {
		return 0, row.fieldError(col, "%q is negative; Adyen writes debits and credits as positive amounts in their own columns", row.get(col))
	}
	return n, err
}

// authorisedOnly is whether the payment was authorised and nothing says it
// was captured.
func (p *payment) authorisedOnly() bool {
	settled, _, _ := p.booked()
	return p.Received != nil && p.Received.Status == "Authorised" && settled == 0
}

// booked sums the payment's Settlement details bookings: settled (gross
// credit of Settled… rows), refunded (gross debit of Refunded… rows less the
// gross credit of RefundedReversed rows) and whether any is a chargeback.
func (p *payment) booked() (settled, refunded int64, disputed bool) {
	for _, b := range p.Bookings {
		switch {
		case slices.Contains(settledTypes, b.Type):
			settled += b.Amount
		case slices.Contains(refundTypes, b.Type):
			refunded += b.Amount
		case slices.Contains(refundReversedTypes, b.Type):
			refunded -= b.Amount
		case slices.Contains(chargebackTypes, b.Type):
			disputed = true
		}
	}
	return settled, refunded, disputed
}

// charge is the payment as doublecheck's charge; nil when the reports hold
// only later bookings of it (a refund or chargeback of a payment settled in an
// earlier batch), which say neither its amount nor when it was made.
func (p *payment) charge(opts Options) (*reconcile.ChargeRecord, error) {
	settled, refunded, disputed := p.booked()
	if p.Received == nil && settled == 0 {
		return nil, nil
	}
	c := reconcile.Charge{
		ID:        p.psp,
		Currency:  p.Currency,
		CardBrand: p.Method,
		Livemode:  opts.Live,
		Provider:  reconcile.ProviderAdyen,
		Disputed:  disputed,
		Observed:  p.LastRow,
		Status:    "succeeded",
		Metadata:  map[string]string{"merchant_reference": p.MerchantRef, "merchant_account": p.Merchant},
	}
	if opts.OrderField != "" && p.MerchantRef != "" {
		c.Metadata[opts.OrderField] = p.MerchantRef
	}
	captured := settled
	if r := p.Received; r == nil {
		// Only the Settlement details report knows the payment: its
		// settlement is the amount, its first booking the nearest time known.
		c.Created, c.Amount = p.FirstRow, settled
	} else {
		c.Created, c.Amount, c.Email, c.Customer = r.Created, r.Amount, r.Email, r.Shopper
		switch {
		case slices.Contains(receivedPending, r.Status):
			c.Status = "pending"
		case slices.Contains(receivedFailed, r.Status):
			c.Status = "failed"
		case r.Status != "Authorised" && captured == 0:
			captured = r.Amount // the status says it was captured; the amount is the payment's
		}
		if slices.Contains(receivedDisputed, r.Status) {
			c.Disputed = true
		}
	}
	// A refund proves a capture at least as large (the capture may be in a
	// batch that is not among the files).
	captured = max(captured, refunded)
	if p.Received != nil && slices.Contains(receivedRefunded, p.Received.Status) && refunded == 0 {
		refunded = captured // an amount the row does not give: all of it, so it is never offered again
	}
	switch {
	case c.Status != "succeeded" && (captured > 0 || refunded > 0):
		return nil, fmt.Errorf("payment %s: its status is %s but the Settlement details report books money on it", p.psp, p.Received.Status)
	case captured > c.Amount:
		return nil, fmt.Errorf("payment %s: %s settled or refunded is more than its %s authorised", p.psp,
			reconcile.FormatMoney(captured, c.Currency), reconcile.FormatMoney(c.Amount, c.Currency))
	case refunded < 0:
		return nil, fmt.Errorf("payment %s: more refunds reversed (RefundedReversed) than refunded", p.psp)
	}
	c.AmountCaptured, c.Captured = captured, captured > 0
	c.AmountRefunded = refunded
	if c.Captured {
		// What was authorised and not captured was released: shown as
		// refunded, as Stripe shows a partial capture, so that only captured
		// money is ever offered for refund.
		c.AmountRefunded += c.Amount - captured
	}
	c.Refunded = c.AmountRefunded == c.Amount
	if err := reconcile.ValidateCharge(c, opts.Now); err != nil {
		return nil, err
	}
	raw, err := json.Marshal(p.reportState)
	if err != nil {
		return nil, fmt.Errorf("payment %s: %w", p.psp, err)
	}
	c.Raw = raw
	rec := &reconcile.ChargeRecord{Charge: c, Place: p.place}
	sum := sha256.Sum256(raw)
	copy(rec.Digest[:], sum[:])
	return rec, nil
}
