package stripeapi

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// The Stripe Dashboard's payments export (Payments → Export, unified_payments.csv)
// names its creation column "Created date (UTC)" today and "Created (UTC)" in
// older exports; amounts are in major units, Status in title case, metadata in
// "<field> (metadata)" columns, and it carries no idempotency key. Its columns
// are the operator's choice, so they are read by name. (Column names from
// exports seen in public repositories and Stripe's support articles; see
// README, "The Stripe Dashboard payments export".)
var (
	dashboardCreated  = []string{"Created date (UTC)", "Created (UTC)"}
	dashboardRequired = [][]string{{"id"}, dashboardCreated, {"Amount"}, {"Currency"}, {"Status"}, {"Mode"}}
)

// dashboardMetadataSuffix ends the name of a metadata column.
const dashboardMetadataSuffix = " (metadata)"

// IsDashboardExport is whether header, a CSV file's first row, is the Stripe
// Dashboard's payments export: an id, a creation time, an amount and a
// currency under the Dashboard's names.
func IsDashboardExport(header []string) bool {
	return reconcile.HasAll(header, "id", "Amount", "Currency", "Status") &&
		slices.ContainsFunc(dashboardCreated, func(c string) bool { return reconcile.HasAll(header, c) })
}

// dashboardStatus is what a Status of the export says of the charge: the
// API's status, and whether the money was captured when the export has no
// Captured column.
type dashboardStatus struct {
	status   string
	captured bool
}

// dashboardStatuses are the Dashboard's payment statuses, lower-cased. A
// refund or dispute is also in the amount columns, which say how much.
var dashboardStatuses = map[string]dashboardStatus{
	"paid":               {"succeeded", true},
	"succeeded":          {"succeeded", true},
	"refunded":           {"succeeded", true},
	"partially refunded": {"succeeded", true},
	"disputed":           {"succeeded", true},
	"uncaptured":         {"succeeded", false},
	"canceled":           {"succeeded", false}, // an uncaptured payment released
	"pending":            {"pending", false},
	"failed":             {"failed", false},
	"blocked":            {"failed", false}, // refused by Radar: a failed charge
}

// dashboardStatusNames lists the statuses for an error.
func dashboardStatusNames() string {
	names := make([]string, 0, len(dashboardStatuses))
	for s := range dashboardStatuses {
		names = append(names, s)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// dashboardTimeLayouts are how the export writes a UTC time.
var dashboardTimeLayouts = []string{"2006-01-02 15:04:05", "2006-01-02 15:04", time.RFC3339}

// StreamDashboardCSV reads the Stripe Dashboard's payments export and hands
// each payment to emit as a charge, in the order of the file, as
// StreamCharges does for charge objects: amounts in minor units by the
// currency's decimals, Mode as the charge's mode, metadata columns as its
// metadata (so --order-field order_id reads "order_id (metadata)"). It stops
// at the first problem with one sentence naming the file, the line and the
// column. now is the command's clock: a charge created after it is refused.
func StreamDashboardCSV(r io.Reader, name string, now time.Time, emit func(*ChargeRecord) error) error {
	t, err := reconcile.NewCSVTable(r, name)
	if err != nil {
		return err
	}
	if err := t.Require("a Stripe Dashboard payments export", dashboardRequired...); err != nil {
		return err
	}
	for {
		ok, err := t.Next()
		if err != nil || !ok {
			return err
		}
		rec, err := dashboardCharge(t, now)
		if err != nil {
			return err
		}
		if err := emit(rec); err != nil {
			return err
		}
	}
}

// dashboardCharge is the charge of the table's current row.
func dashboardCharge(t *reconcile.CSVTable, now time.Time) (*ChargeRecord, error) {
	c := reconcile.Charge{
		ID:              t.Get("id"),
		Currency:        strings.ToLower(t.Get("Currency")),
		Customer:        t.Get("Customer ID"),
		Email:           t.Get("Customer Email"),
		CardFingerprint: t.Get("Card Fingerprint"),
		CardBrand:       strings.ToLower(t.Get("Card Brand")),
		CardLast4:       t.Get("Card Last4"),
		PaymentIntent:   t.Get("PaymentIntent ID"),
		Description:     t.Get("Description"),
		Provider:        reconcile.ProviderStripe,
	}
	if c.ID == "" {
		return nil, t.FieldError("id", errors.New("empty: every payment has an id"))
	}
	if !reconcile.KnownCurrency(c.Currency) {
		return nil, t.FieldError("Currency", fmt.Errorf("%q is not an ISO 4217 currency code", t.Get("Currency")))
	}
	created, _ := t.Column(dashboardCreated...)
	var err error
	if c.Created, err = parseDashboardTime(t.Get(created)); err != nil {
		return nil, t.FieldError(created, err)
	}
	c.Observed = c.Created
	if refunded := t.Get("Refunded date (UTC)"); refunded != "" {
		at, err := parseDashboardTime(refunded)
		if err != nil {
			return nil, t.FieldError("Refunded date (UTC)", err)
		}
		if at.After(c.Observed) {
			c.Observed = at
		}
	}
	if c.Amount, err = dashboardAmount(t, "Amount", c.Currency); err != nil {
		return nil, err
	}
	if c.AmountRefunded, err = dashboardAmount(t, "Amount Refunded", c.Currency); err != nil {
		return nil, err
	}
	disputed, err := dashboardAmount(t, "Disputed Amount", c.Currency)
	if err != nil {
		return nil, err
	}
	status, ok := dashboardStatuses[strings.ToLower(t.Get("Status"))]
	if !ok {
		return nil, t.FieldError("Status", fmt.Errorf("%q is not a status of the Dashboard's export (%s)", t.Get("Status"), dashboardStatusNames()))
	}
	c.Status, c.Captured = status.status, status.captured
	if captured := t.Get("Captured"); captured != "" {
		switch strings.ToLower(captured) {
		case "true":
			c.Captured = true
		case "false":
			c.Captured = false
		default:
			return nil, t.FieldError("Captured", fmt.Errorf("%q is neither true nor false", captured))
		}
	}
	if c.Captured {
		c.AmountCaptured = c.Amount
	}
	if _, ok := t.Column("Amount Refunded"); !ok {
		// A selection of columns without the amount: the status says
		// all of it, or that some part was refunded.
		switch strings.ToLower(t.Get("Status")) {
		case "refunded":
			c.AmountRefunded = c.Amount
		case "partially refunded":
			return nil, t.FieldError("Status", errors.New("partially refunded, but the export has no Amount Refunded column to say how much; export it with that column"))
		}
	}
	c.Refunded = c.Amount > 0 && c.AmountRefunded == c.Amount
	c.Disputed = disputed > 0 || strings.EqualFold(t.Get("Status"), "disputed")
	switch mode := t.Get("Mode"); strings.ToLower(mode) {
	case "live":
		c.Livemode = true
	case "test":
	default:
		return nil, t.FieldError("Mode", fmt.Errorf("%q is neither Live nor Test", mode))
	}
	t.Each(func(header, value string) {
		if field, ok := strings.CutSuffix(header, dashboardMetadataSuffix); ok && value != "" {
			if c.Metadata == nil {
				c.Metadata = map[string]string{}
			}
			c.Metadata[field] = value
		}
	})
	if err := reconcile.ValidateCharge(c, now); err != nil {
		return nil, fmt.Errorf("%s: %w", t.Place(), err)
	}
	rec := &ChargeRecord{Charge: c, Place: t.Place()}
	rec.Charge.Raw, rec.Digest = t.Raw()
	return rec, nil
}

// dashboardAmount is the row's amount in column, in minor units of currency;
// 0 when the export has no such column or leaves it empty.
func dashboardAmount(t *reconcile.CSVTable, column, currency string) (int64, error) {
	v := t.Get(column)
	if v == "" {
		return 0, nil
	}
	n, err := reconcile.ParseMajorAmount(v, currency)
	if err != nil {
		return 0, t.FieldError(column, err)
	}
	if n < 0 {
		return 0, t.FieldError(column, fmt.Errorf("%q is negative", v))
	}
	return n, nil
}

// parseDashboardTime reads a time of the export, which is in UTC.
func parseDashboardTime(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, errors.New("empty")
	}
	for _, layout := range dashboardTimeLayouts {
		if at, err := time.Parse(layout, v); err == nil {
			return at.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time as the Dashboard writes it (2006-01-02 15:04:05, in UTC)", v)
}
