package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/doublecheck-dev/doublecheck/reconcile"
	"github.com/doublecheck-dev/doublecheck/store"
)

// TestImportRecognisesEachFormat: every format is recognised from the file
// itself (or taken from --format), the import says which it took, and the
// charges land in the store as scan sees them.
func TestImportRecognisesEachFormat(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		file    string
		args    []string
		said    string
		charges int
		group   []string // the charges of the one group expected, if any
		status  string   // that group's status
		summary string   // more the import's summary says
	}{
		{"../testdata/charges.jsonl", nil, "as Stripe charge objects (JSON or JSONL)\n", 462, nil, "", ""},
		{"../testdata/stripe_unified_payments.csv", nil, "as a Stripe Dashboard payments export\n", 8,
			[]string{"ch_3PdashA1aaaaaaaa01", "ch_3PdashA1aaaaaaaa02"}, "open", ""},
		{"../testdata/stripe_unified_payments_old.csv", nil, "as a Stripe Dashboard payments export\n", 4,
			[]string{"ch_3PdashA1aaaaaaaa01", "ch_3PdashA1aaaaaaaa02"}, "open", ""},
		{"../testdata/stripe_unified_payments_old.csv", []string{"--format", "stripe-dashboard"},
			"as a Stripe Dashboard payments export (--format stripe-dashboard)\n", 4, nil, "", ""},
		{"../testdata/paypal_activity.csv", nil, "as a PayPal activity download\n", 4,
			[]string{"8PY00000000000001", "8PY00000000000002"}, "open",
			"; 1 refund applied to its payment; left out 4 rows, neither payments to you nor their completed refunds (General Authorization ×1, General Currency Conversion ×2, General Withdrawal ×1)"},
		{"../testdata/paypal_activity_uk_vat.csv", nil, "as a PayPal activity download\n", 3,
			// One of the two was refunded in full: resolved.
			[]string{"7PY00000000000001", "7PY00000000000002"}, "resolved", "; 1 refund applied to its payment"},
		{"../testdata/paypal_activity_custom.csv", nil, "as a PayPal activity download\n", 2,
			[]string{"6PY00000000000001", "6PY00000000000002"}, "resolved", "; 1 refund applied to its payment; left out 1 row"},
		{"../adyenapi/testdata/received_payment_details_2023.csv", nil, "as an Adyen Received payment details report\n", 4,
			[]string{"8815000000000001", "8815000000000002"}, "open",
			"; 1 payment authorised with no capture known, not counted as money taken (import the Settlement details report with them)"},
		{"../adyenapi/testdata/settlement_details_pre2023.csv", []string{"--format", "adyen-settlement-details"},
			"as an Adyen Settlement details report (--format adyen-settlement-details)\n", 3,
			[]string{"8815000000000001", "8815000000000002"}, "open",
			"; left out 1 payment only refunded or charged back here and not in the store (settled in a batch not among the files); no shopper email or shopper reference column: matched on merchant references, amounts and timing only"},
	} {
		t.Run(filepath.Base(tc.file)+strings.Join(tc.args, " "), func(t *testing.T) {
			t.Parallel()
			db := filepath.Join(t.TempDir(), "s.db")
			code, _, stderr := runCLI(t, "", append([]string{"import", tc.file, "--db", db}, tc.args...)...)
			if code != exitOK {
				t.Fatalf("import exited %d: %s", code, stderr)
			}
			if want := "read " + tc.file + " " + tc.said; !strings.HasPrefix(stderr, want) {
				t.Errorf("stderr %q\ndoes not begin %q", stderr, want)
			}
			if !strings.Contains(stderr, " into "+db+tc.summary) {
				t.Errorf("stderr %q\ndoes not end with the summary %q", stderr, tc.summary)
			}
			got := scanStore(t, db)
			if got.Summary.Charges != tc.charges {
				t.Errorf("%d charges stored, want %d", got.Summary.Charges, tc.charges)
			}
			want := reconcile.ProviderStripe
			if strings.Contains(tc.file, "paypal") {
				want = reconcile.ProviderPayPal
			}
			if strings.Contains(tc.file, "adyen") {
				want = reconcile.ProviderAdyen
			}
			for provider, n := range storedProviders(t, db) {
				if provider != want {
					t.Errorf("%d charges of %s stored, want every one of %s", n, provider, want)
				}
			}
			if tc.group == nil {
				return
			}
			if len(got.Groups) != 1 {
				t.Fatalf("%d groups, want 1", len(got.Groups))
			}
			var ids []string
			for _, c := range got.Groups[0].Charges {
				ids = append(ids, c.ID)
			}
			if strings.Join(ids, " ") != strings.Join(tc.group, " ") || got.Groups[0].Status != tc.status {
				t.Errorf("group of %v, %s; want %v, %s", ids, got.Groups[0].Status, tc.group, tc.status)
			}
			if got.Groups[0].Cause != "unknown" {
				t.Errorf("cause %q: the export carries no keys, so the cause is not known", got.Groups[0].Cause)
			}
		})
	}
}

// TestImportRefusesFilesOfNoFormat: a file no format recognises, or one read
// as a format it is not, is refused in one sentence, naming the file, and
// leaves nothing behind.
func TestImportRefusesFilesOfNoFormat(t *testing.T) {
	t.Parallel()
	dashboard, err := os.ReadFile("../testdata/stripe_unified_payments.csv")
	if err != nil {
		t.Fatal(err)
	}
	paypal, err := os.ReadFile("../testdata/paypal_activity.csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(dashboard), "\n")
	for _, tc := range []struct {
		name, content string
		args          []string
		code          int
		want          string
	}{
		{"a CSV of something else", "name,amount\nx,1\n", nil, exitError,
			`is not a file doublecheck import recognises (its first line is "name,amount"): expected Stripe charge objects (JSON or JSONL), a Stripe Dashboard payments export, a PayPal activity download, an Adyen Received payment details report or an Adyen Settlement details report; if it is one, say which with --format stripe-json|stripe-dashboard|paypal-activity|adyen-received-payments|adyen-settlement-details`},
		{"a key log", "idempotency_key,order_ref,charge_id,created_at\nk1,o1,ch_1,2026-01-01T00:00:00Z\n", nil, exitError,
			"is an idempotency-key log, not charges: load it with doublecheck keys import"},
		{"a Dashboard export with a bad amount late in it", strings.Join(lines[:8], "") +
			strings.Replace(lines[8], "20.00", "20.001", 1), nil, exitError,
			`line 9, Amount: "20.001" has 3 decimals but GBP has 2`},
		{"a Dashboard export that mixes modes", strings.Join(lines[:3], "") + strings.Replace(lines[3], ",Live,", ",Test,", 1), nil, exitError,
			"line 4: charge ch_3PdashA1aaaaaaaa03: livemode is false (test-mode), but charge ch_3PdashA1aaaaaaaa01 on line 2 is LIVE: the file mixes modes"},
		{"a PayPal download with an unknown zone", strings.Replace(string(paypal), `"PDT"`, `"XST"`, 1), nil, exitError,
			`line 7, TimeZone: "XST" is not a time zone doublecheck knows`},
		{"a Dashboard export read as PayPal's", string(dashboard), []string{"--format", "paypal-activity"}, exitError,
			"line 1: the header has no Date column, which a PayPal activity download needs"},
		{"an unknown format", string(dashboard), []string{"--format", "adyen"}, exitUsage,
			`--format must be one of stripe-json, stripe-dashboard, paypal-activity, adyen-received-payments, adyen-settlement-details, not "adyen"`},
		{"empty", "\n\n", nil, exitError, "is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			file := filepath.Join(dir, "export.csv")
			if err := os.WriteFile(file, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			db := filepath.Join(dir, "s.db")
			code, _, stderr := runCLI(t, "", append([]string{"import", file, "--db", db}, tc.args...)...)
			if code != tc.code {
				t.Fatalf("import exited %d, want %d: %s", code, tc.code, stderr)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr %q\nwant %q", stderr, tc.want)
			}
			if tc.code == exitError {
				if !strings.Contains(stderr, file) {
					t.Errorf("stderr %q does not name the file", stderr)
				}
				if n := strings.Count(strings.TrimSpace(stderr), "\n"); n != 0 {
					t.Errorf("want one sentence, got %d lines: %q", n+1, stderr)
				}
			}
			if _, err := os.Stat(db); err == nil {
				t.Errorf("a refused import left the store %s behind", db)
			}
		})
	}
}

// TestImportFormatFromStandardInput: a format is recognised from a pipe too,
// whose first bytes cannot be read twice.
func TestImportFormatFromStandardInput(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../testdata/paypal_activity_uk_vat.csv")
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "s.db")
	code, _, stderr := runCLI(t, string(data), "import", "-", "--db", db)
	if code != exitOK || !strings.HasPrefix(stderr, "read standard input as a PayPal activity download\n") {
		t.Fatalf("import exited %d: %s", code, stderr)
	}
	if got := scanStore(t, db); got.Summary.Charges != 3 {
		t.Errorf("%d charges stored, want 3", got.Summary.Charges)
	}
}

// storedProviders counts the charges of the store at db by provider.
func storedProviders(t *testing.T, db string) map[reconcile.Provider]int {
	t.Helper()
	st, err := store.OpenReadOnly(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	in, err := st.LoadInput(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n := map[reconcile.Provider]int{}
	for _, c := range in.Charges {
		n[c.Provider.Resolved()]++
	}
	return n
}

// TestPayPalImportNeedsItsOwnStore: the stores doublecheck picks without
// --db are a Stripe account's (or those of files of no account), so a PayPal
// download is refused there, before any store is made.
func TestPayPalImportNeedsItsOwnStore(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	env := testEnv(t, "", &out, &out)
	code := Run(context.Background(), []string{"import", "../testdata/paypal_activity.csv"}, env)
	if code != exitError {
		t.Fatalf("import exited %d, want 1: %s", code, out.String())
	}
	want := "../testdata/paypal_activity.csv is a PayPal activity download: import it into a store of its own, named with --db PATH (one store per PayPal account); nothing was stored"
	if !strings.Contains(out.String(), want) {
		t.Errorf("output %q\nwant %q", out.String(), want)
	}
	if entries, _ := os.ReadDir(env.DataDir); len(entries) > 0 {
		t.Errorf("the refused import made %s in the data directory", entries[0].Name())
	}
}

// TestDashboardImportIsAllOrNothing: a bad row late in an export, after rows
// already handed to the store, leaves a store that existed as it was.
func TestDashboardImportIsAllOrNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "s.db")
	if code, _, stderr := runCLI(t, "", "import", "../testdata/stripe_unified_payments.csv", "--db", db); code != exitOK {
		t.Fatalf("import exited %d: %s", code, stderr)
	}
	data, err := os.ReadFile("../testdata/stripe_unified_payments.csv")
	if err != nil {
		t.Fatal(err)
	}
	// The same payments under new ids, the last with an amount GBP cannot have.
	bad := strings.ReplaceAll(string(data), "ch_3PdashA1aaaaaaaa", "ch_3PdashB2bbbbbbbb")
	bad = strings.Replace(bad, "20.00,0.00,gbp", "20.001,0.00,gbp", 1)
	file := filepath.Join(dir, "unified_payments.csv")
	if err := os.WriteFile(file, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, "", "import", file, "--db", db)
	if code != exitError || !strings.Contains(stderr, file+` line 9, Amount: "20.001" has 3 decimals but GBP has 2`) {
		t.Fatalf("import exited %d: %s", code, stderr)
	}
	if got := scanStore(t, db); got.Summary.Charges != 8 {
		t.Errorf("%d charges in the store after a refused import, want the 8 it held", got.Summary.Charges)
	}
}

// TestKeyLogExplainsPayPalPayments: the merchant's key log, naming PayPal
// transaction ids, gives the download's payments the key evidence the
// download lacks: two payments of one invoice under two logged keys are
// new_key_per_retry, as Stripe charges would be.
func TestKeyLogExplainsPayPalPayments(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "paypal.db")
	if code, _, stderr := runCLI(t, "", "import", "../testdata/paypal_activity.csv", "--db", db); code != exitOK {
		t.Fatalf("import exited %d: %s", code, stderr)
	}
	keys := filepath.Join(dir, "keys.csv")
	log := "idempotency_key,order_ref,charge_id,provider\nreq-1,INV-3001,8PY00000000000001,paypal\nreq-2,INV-3001,8PY00000000000002,\n"
	if err := os.WriteFile(keys, []byte(log), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCLI(t, "", "keys", "import", keys, "--db", db); code != exitOK {
		t.Fatalf("keys import exited %d: %s", code, stderr)
	}
	got := scanStore(t, db)
	if len(got.Groups) != 1 || got.Groups[0].Cause != string(reconcile.CauseNewKeyPerRetry) {
		t.Fatalf("groups %+v; want one, new_key_per_retry", got.Groups)
	}
}
