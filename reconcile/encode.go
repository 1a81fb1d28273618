package reconcile

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
)

// The JSON shape of `scan --format json`. Amounts are in minor
// units, times RFC 3339 in UTC.
type (
	jsonReport struct {
		Groups   []jsonGroup   `json:"groups"`
		Findings []jsonFinding `json:"findings"`
		Summary  jsonSummary   `json:"summary"`
	}
	jsonGroup struct {
		ID         string       `json:"id"`
		Provider   Provider     `json:"provider"`
		Confidence Confidence   `json:"confidence"`
		Status     Status       `json:"status"`
		Cause      Cause        `json:"cause"`
		Amount     int64        `json:"amount"`
		Currency   string       `json:"currency"`
		Identity   string       `json:"identity"`
		Reasons    []string     `json:"reasons"`
		NextStep   string       `json:"next_step,omitempty"`
		Charges    []jsonCharge `json:"charges"`
	}
	jsonCharge struct {
		ID             string   `json:"id"`
		Provider       Provider `json:"provider"`
		Role           Role     `json:"role"`
		Created        string   `json:"created"`
		Amount         int64    `json:"amount"`
		AmountRefunded int64    `json:"amount_refunded"`
		Customer       string   `json:"customer"`
		Email          string   `json:"email"`
		CardLast4      string   `json:"card_last4"`
		IdempotencyKey string   `json:"idempotency_key"`
		// KeyEvidence: application_key, no_application_key, not_known or made_by_checkout.
		KeyEvidence KeyEvidence `json:"key_evidence"`
		OrderRef    string      `json:"order_ref"`
		Disputed    bool        `json:"disputed"`
		Decision    string      `json:"decision"`
	}
	jsonFinding struct {
		Kind      string   `json:"kind"`
		ChargeID  string   `json:"charge_id"`
		ChargeIDs []string `json:"charge_ids,omitempty"`
		Key       string   `json:"key"`
		OrderRef  string   `json:"order_ref"`
		Amount    int64    `json:"amount"`
		Currency  string   `json:"currency"`
		Created   string   `json:"created"`
		Detail    string   `json:"detail"`
		Provider  Provider `json:"provider,omitempty"`
	}
	jsonSummary struct {
		Account           string         `json:"account,omitempty"`
		Livemode          bool           `json:"livemode"`
		Charges           int            `json:"charges"`
		Groups            int            `json:"groups"`
		Open              int            `json:"open"`
		Pending           int            `json:"pending"`
		Resolved          int            `json:"resolved"`
		Dismissed         int            `json:"dismissed"`
		Received          int            `json:"received"`
		ChargesWithoutKey int            `json:"charges_without_key"`
		Causes            map[Cause]int  `json:"causes"`
		ByCurrency        []jsonCurrency `json:"by_currency"`
	}
	jsonCurrency struct {
		Currency        string `json:"currency"`
		AtRisk          int64  `json:"at_risk"`
		RefundedByUs    int64  `json:"refunded_by_us"`
		Dismissed       int64  `json:"dismissed"`
		OpenGroups      int    `json:"open_groups"`
		ResolvedGroups  int    `json:"resolved_groups"`
		DismissedGroups int    `json:"dismissed_groups"`
		// AwaitingConfirmation: refunds the provider received and has not
		// confirmed, not counted in RefundedByUs.
		AwaitingConfirmation int64 `json:"awaiting_confirmation"`
		ReceivedGroups       int   `json:"received_groups"`
	}
)

// utcTime is t as RFC 3339 in UTC, or "" for the zero time.
func utcTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// WriteJSON writes the report as `scan --format json` prints it.
func WriteJSON(w io.Writer, r Report) error {
	out := jsonReport{Groups: []jsonGroup{}, Findings: []jsonFinding{}}
	for _, g := range r.Groups {
		jg := jsonGroup{
			ID: g.ID, Provider: g.Provider(), Confidence: g.Confidence, Status: g.Status, Cause: g.Cause,
			Amount: g.Amount, Currency: g.Currency, Identity: g.Identity,
			Reasons: append([]string{}, g.Reasons...), NextStep: g.NextStep(ResumeCommand(r.Resume)), Charges: []jsonCharge{},
		}
		for _, m := range g.Charges {
			jg.Charges = append(jg.Charges, jsonCharge{
				ID: m.ID, Provider: m.Provider.Resolved(), Role: m.Role, Created: utcTime(m.Created), Amount: m.Amount,
				AmountRefunded: m.AmountRefunded, Customer: m.Customer, Email: m.Email,
				CardLast4: m.CardLast4, IdempotencyKey: m.IdempotencyKey, KeyEvidence: m.KeyEvidence, OrderRef: m.OrderRef,
				Disputed: m.Disputed, Decision: m.Decision,
			})
		}
		out.Groups = append(out.Groups, jg)
	}
	for _, f := range r.Findings {
		out.Findings = append(out.Findings, jsonFinding{
			Kind: f.Kind, ChargeID: f.ChargeID, ChargeIDs: f.ChargeIDs, Key: f.Key, OrderRef: f.OrderRef,
			Amount: f.Amount, Currency: f.Currency, Created: utcTime(f.Created), Detail: f.Detail, Provider: f.Provider,
		})
	}
	s := r.Summary
	out.Summary = jsonSummary{
		Account: r.Account, Livemode: r.Live,
		Charges: s.Charges, Groups: s.Groups, Open: s.Open, Pending: s.Pending, Resolved: s.Resolved, Dismissed: s.Dismissed, Received: s.Received,
		ChargesWithoutKey: s.ChargesWithoutKey, Causes: map[Cause]int{}, ByCurrency: []jsonCurrency{},
	}
	for c, n := range s.Causes {
		out.Summary.Causes[c] = n
	}
	for _, t := range s.ByCurrency {
		out.Summary.ByCurrency = append(out.Summary.ByCurrency, jsonCurrency(t))
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("write JSON report: %w", err)
	}
	return nil
}

// CSVHeader is the header row of the reconciliation report.
var CSVHeader = []string{
	"kind", "group_id", "confidence", "status", "cause", "role", "charge_id", "created_utc",
	"customer", "email", "card_last4", "amount", "currency", "amount_refunded",
	"idempotency_key", "key_sources", "order_ref", "decision", "refund_id", "operator",
	"decided_at", "reasons",
	// Columns added later go last, so readers of the older columns by
	// position keep working.
	"provider",
}

// WriteCSV writes the reconciliation report: a header, one row per charge of
// every group, then one row per finding. Amounts are in major units.
func WriteCSV(w io.Writer, r Report) error {
	cw := csv.NewWriter(w)
	write := func(row []string) error {
		for i, cell := range row {
			row[i] = neutralizeCell(cell)
		}
		return cw.Write(row)
	}
	if err := cw.Write(CSVHeader); err != nil {
		return fmt.Errorf("write CSV report: %w", err)
	}
	for _, g := range r.Groups {
		reasons := strings.Join(g.Reasons, "; ")
		if next := g.NextStep(ResumeCommand(r.Resume)); next != "" {
			reasons = next + "; " + reasons
		}
		for _, m := range g.Charges {
			row := []string{
				KindDuplicate, g.ID, string(g.Confidence), string(g.Status), string(g.Cause), string(m.Role),
				m.ID, utcTime(m.Created), m.Customer, m.Email, m.CardLast4,
				FormatAmount(m.Amount, m.Currency), strings.ToUpper(m.Currency), FormatAmount(m.AmountRefunded, m.Currency),
				m.IdempotencyKey, strings.Join(m.KeySources, " "), m.OrderRef,
				m.Decision, m.RefundID, m.Operator, utcTime(m.DecidedAt), reasons,
				string(m.Provider.Resolved()),
			}
			if err := write(row); err != nil {
				return fmt.Errorf("write CSV report: %w", err)
			}
		}
	}
	for _, f := range r.Findings {
		ids := f.ChargeID
		if len(f.ChargeIDs) > 0 {
			ids = strings.Join(f.ChargeIDs, " ")
		}
		amount := ""
		if f.Currency != "" {
			amount = FormatAmount(f.Amount, f.Currency)
		}
		row := []string{
			f.Kind, "", "", "", "", "", ids, utcTime(f.Created), "", "", "",
			amount, strings.ToUpper(f.Currency), "", f.Key, "", f.OrderRef, "", "", "", "", f.Detail,
			string(f.Provider),
		}
		if err := write(row); err != nil {
			return fmt.Errorf("write CSV report: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write CSV report: %w", err)
	}
	return nil
}

// neutralizeCell defuses spreadsheet formulas as OWASP advises for CSV
// injection: a cell whose first visible character is = + - or @ (full-width or
// small forms included, which spreadsheets fold to the ASCII ones), or that
// starts with a tab or a carriage return, gets a leading single quote. Leading
// spaces and invisible characters (see invisible) are skipped first, since a spreadsheet may strip them before it reads the
// formula. Negative amounts are treated the same way, so every such cell reads
// back the same.
func neutralizeCell(s string) string {
	for _, r := range s {
		switch {
		case r == '\t' || r == '\r':
			return "'" + s
		case invisible(r):
			continue
		case strings.ContainsRune("=+-@", foldFormWidth(r)):
			return "'" + s
		}
		return s
	}
	return s
}

// invisible is a character a spreadsheet may drop or show as nothing before a
// formula: spaces, control characters (NUL, ESC, DEL, U+0080…), format
// characters (zero-width spaces, joiners, byte-order marks), combining marks,
// variation selectors and other default-ignorable characters (U+034F), and the
// blank letters U+2800 (Braille blank), U+3164 and U+FFA0 (Hangul fillers).
func invisible(r rune) bool {
	switch r {
	case 0x2800, 0x3164, 0xFFA0:
		return true
	}
	return unicode.IsSpace(r) || unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.M,
		unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector)
}

// foldFormWidth maps the full-width (U+FF01–U+FF5E) and small (U+FE62, U+FE63,
// U+FE66, U+FE6B) forms of ASCII punctuation, and the minus sign U+2212, to
// their ASCII characters.
func foldFormWidth(r rune) rune {
	switch {
	case r >= 0xFF01 && r <= 0xFF5E:
		return r - 0xFF01 + '!'
	case r == 0xFE62:
		return '+'
	case r == 0xFE63 || r == 0x2212:
		return '-'
	case r == 0xFE66:
		return '='
	case r == 0xFE6B:
		return '@'
	}
	return r
}

// WriteTable writes scan's human table: one line per group, then the summary.
func WriteTable(w io.Writer, r Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if r.Account != "" {
		mode := "TEST mode"
		if r.Live {
			mode = "LIVE mode"
		}
		if r.Environment != "" {
			mode = r.Environment
		}
		fmt.Fprintf(tw, "%s · %s\n\n", r.Account, mode)
	}
	if len(r.Groups) == 0 {
		fmt.Fprintln(tw, "No suspected duplicates.")
	} else {
		// A store of one provider keeps the narrower table.
		mixed := len(r.Summary.Providers) > 1
		if mixed {
			fmt.Fprint(tw, "PROVIDER\t")
		}
		fmt.Fprintln(tw, "GROUP\tCONFIDENCE\tSTATUS\tCAUSE\tAMOUNT\tIDENTITY\tCHARGES\tSPAN\tREASON")
		for i := range r.Groups {
			g := &r.Groups[i]
			if mixed {
				fmt.Fprintf(tw, "%s\t", g.Provider())
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n",
				g.ID, g.Confidence, g.Status, g.Cause, FormatMoney(g.Amount, g.Currency),
				oneLine(g.Identity), len(g.Charges), HumanDuration(g.Span()), oneLine(g.Headline()))
		}
	}
	s := r.Summary
	pending := ""
	if s.Pending > 0 {
		pending = fmt.Sprintf(" %d pending,", s.Pending)
	}
	if s.Received > 0 {
		pending += fmt.Sprintf(" %d received,", s.Received)
	}
	fmt.Fprintf(tw, "\n%s, %s: %d open,%s %d resolved, %d dismissed; %s with no idempotency key on record\n",
		Plural(s.Charges, "charge"), Plural(s.Groups, "group"), s.Open, pending, s.Resolved, s.Dismissed, Plural(s.ChargesWithoutKey, "charge"))
	if s.Pending > 0 {
		fmt.Fprintf(tw, "%s with a refund pending: the money may have moved; %s finishes it\n",
			Plural(s.Pending, "group"), ResumeCommand(r.Resume))
	}
	if s.Received > 0 {
		fmt.Fprintf(tw, "%s with refunds received by the provider and not confirmed yet: resolved once it confirms them\n",
			Plural(s.Received, "group"))
	}
	if s.Reversed > 0 {
		fmt.Fprintf(tw, "%s with a refund the provider reversed after it succeeded: the money came back and counts as at risk again; refund it again\n",
			Plural(s.Reversed, "group"))
	}
	if len(s.ByCurrency) > 0 {
		fmt.Fprintln(tw, "CURRENCY\tAT RISK\tREFUNDED BY DOUBLECHECK\tDISMISSED\tOPEN\tRESOLVED\tDISMISSED GROUPS")
		for _, t := range s.ByCurrency {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\n", strings.ToUpper(t.Currency),
				FormatAmount(t.AtRisk, t.Currency), FormatAmount(t.RefundedByUs, t.Currency),
				FormatAmount(t.Dismissed, t.Currency), t.OpenGroups, t.ResolvedGroups, t.DismissedGroups)
		}
	}
	if line := countsLine(s.Causes); line != "" {
		fmt.Fprintln(tw, "causes: "+line)
	}
	kinds := map[string]int{}
	for _, f := range r.Findings {
		kinds[f.Kind]++
	}
	if line := countsLine(kinds); line != "" {
		fmt.Fprintln(tw, "findings: "+line)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}

// Plural is "1 charge" or "3 charges": the count with a regular noun.
func Plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// countsLine is "a 2, b 1", sorted by name.
func countsLine[K ~string](counts map[K]int) string {
	names := make([]K, 0, len(counts))
	for k := range counts {
		names = append(names, k)
	}
	slices.Sort(names)
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = string(k) + " " + strconv.Itoa(counts[k])
	}
	return strings.Join(parts, ", ")
}

// oneLine keeps customer-controlled text from breaking the table's layout or
// sending escape sequences to the terminal.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}
