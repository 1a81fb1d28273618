package cli

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/doublecheck-dev/doublecheck/reconcile"
	"github.com/doublecheck-dev/doublecheck/store"
)

// storeCharges are the charges of a store, by id.
func storeCharges(t *testing.T, db string) map[string]reconcile.Charge {
	t.Helper()
	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	in, err := st.LoadInput(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]reconcile.Charge{}
	for _, c := range in.Charges {
		out[c.ID] = c
	}
	return out
}

// The Received payment details report one day and the Settlement details
// report of its batch in a later import (the weekly routine), in either
// order, store what one import of both stores: each payment keeps its
// creation time and shopper identity from the one, its settlement, refunds
// and chargebacks from the other.
func TestAdyenReportsImportedSeparately(t *testing.T) {
	t.Parallel()
	bin := builtBinary(t)
	w := newAdyenWorld(t)
	together := *w
	together.db = filepath.Join(w.dir, "together.db")
	if code, _, stderr := together.run(t, bin, "", "import", w.received, w.settled, "--yes"); code != 0 {
		t.Fatalf("%d %s", code, stderr)
	}
	want := storeCharges(t, together.db)
	for name, order := range map[string][]string{
		"received first":   {w.received, w.settled},
		"settlement first": {w.settled, w.received},
	} {
		split := *w
		split.db = filepath.Join(w.dir, strings.ReplaceAll(name, " ", "-")+".db")
		for _, file := range order {
			if code, _, stderr := split.run(t, bin, "", "import", file, "--yes"); code != 0 {
				t.Fatalf("%s: import %s: %d %s", name, file, code, stderr)
			}
		}
		got := storeCharges(t, split.db)
		if len(got) != len(want) {
			t.Errorf("%s: %d charges, want %d as one import stores", name, len(got), len(want))
		}
		differ := 0
		for id, c := range want {
			g, ok := got[id]
			same := ok && g.Created.Equal(c.Created) && g.Email == c.Email && g.Customer == c.Customer &&
				g.Amount == c.Amount && g.AmountRefunded == c.AmountRefunded && g.Refunded == c.Refunded &&
				g.Captured == c.Captured && g.Disputed == c.Disputed && g.Status == c.Status
			if !same {
				if differ < 3 {
					t.Errorf("%s: %s stored as created %s, email %q, shopper %q, %d/%d refunded, captured %t, disputed %t, %s; "+
						"one import stores created %s, email %q, shopper %q, %d/%d refunded, captured %t, disputed %t, %s", name, id,
						g.Created, g.Email, g.Customer, g.AmountRefunded, g.Amount, g.Captured, g.Disputed, g.Status,
						c.Created, c.Email, c.Customer, c.AmountRefunded, c.Amount, c.Captured, c.Disputed, c.Status)
				}
				differ++
			}
		}
		if differ > 0 {
			t.Errorf("%s: %d of %d payments differ from one import of both reports", name, differ, len(want))
		}
	}
}

// A chargeback booked in a later batch's Settlement details report, imported
// on its own, marks the stored payment disputed, so it is no longer offered
// for a refund; imported again, it changes nothing.
func TestAdyenLaterChargebackMarksStoredPaymentDisputed(t *testing.T) {
	t.Parallel()
	bin := builtBinary(t)
	w := newAdyenWorld(t)
	if code, _, stderr := w.run(t, bin, "", "import", w.received, w.settled, "--yes"); code != 0 {
		t.Fatalf("%d %s", code, stderr)
	}
	var suspect reconcile.Member
	for _, g := range w.report(t).Groups {
		if g.Charges[0].Provider == reconcile.ProviderAdyen && g.Status == reconcile.Open && len(g.Charges) == 2 &&
			g.Charges[1].Refundable > 0 && suspect.ID == "" {
			suspect = g.Charges[1]
		}
	}
	if suspect.ID == "" {
		t.Fatal("no Adyen payment offered for a refund")
	}
	later := filepath.Join(w.dir, "settlement_batch_43.csv")
	writeChargeback(t, w.settled, suspect.ID, later)
	for range 2 {
		code, _, stderr := w.run(t, bin, "", "import", later, "--yes")
		if code != 0 || strings.Contains(stderr, "left out") {
			t.Fatalf("import of the later batch: %d %s", code, stderr)
		}
		if c := storeCharges(t, w.db)[suspect.ID]; !c.Disputed || c.Email == "" || c.Amount != suspect.Amount {
			t.Fatalf("after the later chargeback %s is stored as %+v; want it disputed, with its shopper and amount", suspect.ID, c)
		}
	}
	for _, g := range w.report(t).Groups {
		for _, m := range g.Charges {
			if m.ID == suspect.ID && (m.Refundable != 0 || m.NotRefundable == "") {
				t.Errorf("charged-back %s is still offered for a refund of %d (%q)", m.ID, m.Refundable, m.NotRefundable)
			}
		}
	}
}

// writeChargeback writes to path a Settlement details report, with the
// header of settled, whose one row books a chargeback of payment psp.
func writeChargeback(t *testing.T, settled, psp, path string) {
	t.Helper()
	f, err := os.Open(settled)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := func(name string) int { return slices.Index(rows[0], name) }
	for _, r := range rows[1:] {
		if r[col("Psp Reference")] != psp || r[col("Type")] != "Settled" {
			continue
		}
		r[col("Type")] = "Chargeback"
		r[col("Gross Debit (GC)")], r[col("Gross Credit (GC)")] = r[col("Gross Credit (GC)")], ""
		r[col("Batch Number")] = "43"
		out, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		cw := csv.NewWriter(out)
		cw.WriteAll([][]string{rows[0], r})
		if err := out.Close(); err != nil || cw.Error() != nil {
			t.Fatal(err, cw.Error())
		}
		return
	}
	t.Fatalf("no Settled row of %s in %s", psp, settled)
}
