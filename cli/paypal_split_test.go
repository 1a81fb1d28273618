package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A refund or chargeback in a later activity download, whose payment was in
// an earlier one, updates the stored payment; a download imported twice (the
// periods overlap) counts each refund once.
func TestPayPalLaterDownloadUpdatesStoredPayment(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "paypal.db")
	const header = `"Date","Time","TimeZone","Type","Status","Currency","Gross","From Email Address","Transaction ID","Reference Txn ID","Balance Impact"` + "\n"
	write := func(name, rows string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(header+rows), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	october := write("october.csv", "10/01/2026,10:00:00,PDT,Express Checkout Payment,Completed,USD,100.00,a@example.com,PAY10000000000000,,Credit\n"+
		"10/01/2026,10:05:00,PDT,Express Checkout Payment,Completed,USD,100.00,a@example.com,PAY20000000000000,,Credit\n")
	november := write("november.csv", "11/02/2026,10:00:00,PST,Payment Refund,Completed,USD,-30.00,a@example.com,RF100000000000000,PAY10000000000000,Debit\n")
	december := write("december.csv", "12/01/2026,09:00:00,PST,Payment Refund,Completed,USD,-20.00,a@example.com,RF200000000000000,PAY10000000000000,Debit\n"+
		"11/02/2026,10:00:00,PST,Payment Refund,Completed,USD,-30.00,a@example.com,RF100000000000000,PAY10000000000000,Debit\n"+
		"12/01/2026,09:30:00,PST,Chargeback,Completed,USD,-100.00,,CB100000000000000,PAY20000000000000,Debit\n")
	created := time.Date(2026, 10, 1, 17, 0, 0, 0, time.UTC)
	for _, step := range []struct {
		file     string
		refunded int64 // PAY10000000000000's, after the import
		disputed bool  // PAY20000000000000's
	}{
		{october, 0, false},
		{november, 3000, false},
		{november, 3000, false}, // again: RF100000000000000 counts once
		{december, 5000, true},  // RF100000000000000 once more, with RF200000000000000 and a chargeback of PAY20000000000000
	} {
		code, _, stderr := runCLI(t, "", "import", step.file, "--db", db)
		if code != exitOK || strings.Contains(stderr, "not in the file") {
			t.Fatalf("import %s exited %d: %s", filepath.Base(step.file), code, stderr)
		}
		charges := storeCharges(t, db)
		pay1, pay2 := charges["PAY10000000000000"], charges["PAY20000000000000"]
		if pay1.AmountRefunded != step.refunded || pay1.Amount != 10000 || pay1.Email != "a@example.com" || !pay1.Created.Equal(created) {
			t.Errorf("after %s, PAY10000000000000 is stored with %d of %d refunded, email %q, created %s; want %d refunded, its email and creation time kept",
				filepath.Base(step.file), pay1.AmountRefunded, pay1.Amount, pay1.Email, pay1.Created, step.refunded)
		}
		if pay2.Disputed != step.disputed {
			t.Errorf("after %s, PAY20000000000000 disputed %t, want %t", filepath.Base(step.file), pay2.Disputed, step.disputed)
		}
	}
}
