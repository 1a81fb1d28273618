package reconcile

import (
	"bytes"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

func planMember(id, order string, role Role, refunded, refundable int64) Member {
	return Member{Charge: Charge{ID: id, Amount: 2000, AmountRefunded: refunded, Currency: "usd", Customer: "cus_1"},
		Role: role, OrderRef: order, Refundable: refundable}
}

// TestPlanRefunds: one plan for the dashboard and the refund command. A new
// refund's key counts what was refunded on the charge before it (the ledger's
// own refunds included, before a sync brings them); a refund in flight is
// planned as itself, with its stored key, whatever its format; each suspect
// names the kept charge of its own order; suspects that need or take no
// refund are listed with the reason.
func TestPlanRefunds(t *testing.T) {
	inFlight := planMember("ch_d", "", Duplicate, 0, 0)
	inFlight.NotRefundable = notRefundablePending
	inFlight.InFlight = []RefundRequest{{Key: "doublecheck-refund-ch_d-2000", ChargeID: "ch_d", KeptChargeID: "ch_k", GroupID: "grp_k", Amount: 2000, Currency: "usd"}}
	done := planMember("ch_d", "", Duplicate, 2000, 0)
	done.NotRefundable, done.RefundID = notRefundableDone, "re_1"
	disputed := planMember("ch_d", "", Duplicate, 0, 0)
	disputed.Disputed, disputed.NotRefundable = true, notRefundableDisputed
	tests := []struct {
		name      string
		members   []Member
		status    Status
		scope     PlanScope
		wantKeys  []string
		wantLines []string // kind charge
		wantErr   string
	}{
		{"whole charge", []Member{planMember("ch_k", "", Keep, 0, 0), planMember("ch_d", "", Duplicate, 0, 2000)}, Open, AllThatIsLeft,
			[]string{"doublecheck-refund-ch_d-0-2000"}, []string{"group ", "keep ch_k", "refund ch_d"}, ""},
		{"a part", []Member{planMember("ch_k", "", Keep, 0, 0), planMember("ch_d", "", Duplicate, 0, 2000)}, Open, PlanScope{ChargeID: "ch_d", Amount: 500},
			[]string{"doublecheck-refund-ch_d-0-500"}, []string{"group ", "keep ch_k", "refund ch_d"}, ""},
		{"the rest after a synced part", []Member{planMember("ch_k", "", Keep, 0, 0), planMember("ch_d", "", Duplicate, 1000, 1000)}, Open, AllThatIsLeft,
			[]string{"doublecheck-refund-ch_d-1000-1000"}, []string{"group ", "keep ch_k", "refund ch_d"}, ""},
		{"the rest after a part not synced yet", []Member{planMember("ch_k", "", Keep, 0, 0), planMember("ch_d", "", Duplicate, 0, 1000)}, Open, AllThatIsLeft,
			[]string{"doublecheck-refund-ch_d-1000-1000"}, []string{"group ", "keep ch_k", "refund ch_d"}, ""},
		{"in flight is finished with its stored key", []Member{planMember("ch_k", "", Keep, 0, 0), inFlight}, Open, AllThatIsLeft,
			[]string{"doublecheck-refund-ch_d-2000"}, []string{"group ", "keep ch_k", "resume ch_d"}, ""},
		{"in flight in a dismissed group is still finished", []Member{planMember("ch_k", "", Keep, 0, 0), inFlight}, Dismissed, AllThatIsLeft,
			[]string{"doublecheck-refund-ch_d-2000"}, []string{"group ", "keep ch_k", "resume ch_d"}, ""},
		{"already refunded", []Member{planMember("ch_k", "", Keep, 0, 0), done}, Resolved, AllThatIsLeft,
			nil, []string{"group ", "keep ch_k", "done ch_d"}, ""},
		{"disputed", []Member{planMember("ch_k", "", Keep, 0, 0), disputed}, Open, AllThatIsLeft,
			nil, []string{"group ", "keep ch_k", "skip ch_d"}, ""},
		{"dismissed", []Member{planMember("ch_k", "", Keep, 0, 0), planMember("ch_d", "", Duplicate, 0, 2000)}, Dismissed, AllThatIsLeft,
			nil, []string{"group ", "keep ch_k", "skip ch_d"}, ""},
		{"each suspect names its own order's kept charge", []Member{planMember("ch_1", "o-1", Keep, 0, 0), planMember("ch_2", "o-1", Duplicate, 0, 2000),
			planMember("ch_3", "o-2", Keep, 0, 0), planMember("ch_4", "o-2", Duplicate, 0, 2000)}, Open, AllThatIsLeft,
			[]string{"doublecheck-refund-ch_2-0-2000", "doublecheck-refund-ch_4-0-2000"},
			[]string{"group ", "keep ch_1", "refund ch_2", "keep ch_3", "refund ch_4"}, ""},
		{"a kept charge is refused", []Member{planMember("ch_k", "", Keep, 0, 0), planMember("ch_d", "", Duplicate, 0, 2000)}, Open, PlanScope{ChargeID: "ch_k", WholeRemainder: true},
			nil, nil, "is the charge kept"},
		{"more than is left is refused", []Member{planMember("ch_k", "", Keep, 0, 0), planMember("ch_d", "", Duplicate, 1500, 500)}, Open, PlanScope{ChargeID: "ch_d", Amount: 600},
			nil, nil, "more than the 5.00 USD left"},
		{"a zero amount is refused, not read as all that is left", []Member{planMember("ch_k", "", Keep, 0, 0), planMember("ch_d", "", Duplicate, 0, 2000)}, Open, PlanScope{ChargeID: "ch_d"},
			nil, nil, "1 minor unit or more"},
		{"a negative amount is refused", []Member{planMember("ch_k", "", Keep, 0, 0), planMember("ch_d", "", Duplicate, 0, 2000)}, Open, PlanScope{ChargeID: "ch_d", Amount: -5},
			nil, nil, "1 minor unit or more"},
		{"a part without its charge is refused", []Member{planMember("ch_k", "", Keep, 0, 0), planMember("ch_d", "", Duplicate, 0, 2000)}, Open, PlanScope{Amount: 500},
			nil, nil, "needs the charge"},
		{"all that is left and an amount is refused", []Member{planMember("ch_k", "", Keep, 0, 0), planMember("ch_d", "", Duplicate, 0, 2000)}, Open, PlanScope{ChargeID: "ch_d", WholeRemainder: true, Amount: 500},
			nil, nil, "cannot also be"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := Group{ID: "grp_k", Status: tc.status, Charges: tc.members}
			plan, err := PlanRefunds([]*Group{&g}, tc.scope)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var keys, lines []string
			var total int64
			for _, rq := range plan.Requests {
				keys = append(keys, rq.Key)
				total += rq.Amount
				if rq.GroupID != "grp_k" || rq.KeptChargeID != g.KeptFor(memberByID(&g, rq.ChargeID)).ID {
					t.Errorf("request %+v does not name its group and kept charge", rq)
				}
			}
			for _, l := range plan.Lines {
				lines = append(lines, string(l.Kind)+" "+l.ChargeID)
			}
			if !slices.Equal(keys, tc.wantKeys) {
				t.Errorf("planned keys %v, want %v", keys, tc.wantKeys)
			}
			if !slices.Equal(lines, tc.wantLines) {
				t.Errorf("listing %v, want %v", lines, tc.wantLines)
			}
			if plan.Totals["usd"] != total {
				t.Errorf("total %d, want the requests' %d", plan.Totals["usd"], total)
			}
			if g.HasRefund() != (len(keys) > 0) {
				t.Errorf("HasRefund = %v with %d requests", g.HasRefund(), len(keys))
			}
		})
	}
}

func memberByID(g *Group, id string) *Member {
	for i := range g.Charges {
		if g.Charges[i].ID == id {
			return &g.Charges[i]
		}
	}
	return nil
}

// TestPendingRefundShowsEverywhere: a refund begun and not finished makes its
// group pending (never plain open) in the table, the JSON and the CSV, each
// with the command that finishes it.
func TestPendingRefundShowsEverywhere(t *testing.T) {
	in := Input{
		Charges: []Charge{charge("ch_a", 0), charge("ch_b", time.Minute)},
		Refunds: []RefundIntent{{RefundRequest: RefundRequest{Key: RefundKey("ch_b", 0, 2000), ChargeID: "ch_b", Amount: 2000, Currency: "usd"},
			Status: RefundPending, CreatedAt: t0}},
	}
	r := Detect(in, DefaultOptions())
	r.Resume = ResumeTarget{PayPalEnv: "sandbox", Store: "/data/pp.db"}
	resume := "doublecheck refund --resume --provider paypal --paypal-env sandbox --db /data/pp.db"
	g := onlyGroup(t, r)
	if g.Status != Pending || !g.NeedsAction() || r.Summary.Pending != 1 || r.Summary.ByCurrency[0].AtRisk != 2000 {
		t.Fatalf("status %s, summary %+v; want pending with 20.00 at risk", g.Status, r.Summary)
	}
	for _, tc := range []struct {
		name  string
		write func(io.Writer, Report) error
		want  []string
	}{
		{"table", WriteTable, []string{"pending", "1 group with a refund pending", resume + " finishes it"}},
		{"json", WriteJSON, []string{`"status": "pending"`, `"pending": 1`, `"next_step": "a refund is pending and the money may have moved: ` + resume + ` finishes it"`}},
		{"csv", WriteCSV, []string{",pending,", resume + " finishes it"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := tc.write(&buf, r); err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(buf.String(), w) {
					t.Errorf("%s lacks %q:\n%s", tc.name, w, buf.String())
				}
			}
			if strings.Contains(buf.String(), " open ") || strings.Contains(buf.String(), ",open,") || strings.Contains(buf.String(), `"status": "open"`) {
				t.Errorf("%s shows the pending group as open:\n%s", tc.name, buf.String())
			}
		})
	}
}

// TestAskingAgainAfterARefusalGetsANewKey: a refund the provider refused is
// never planned under its key again (the provider replays its first answer
// to a key it has seen, so nothing new would be asked); the next ask of the
// same money is keyed -r<n> past every refused ask, the same for each
// planner, and an ask of other money keeps its own key.
func TestAskingAgainAfterARefusalGetsANewKey(t *testing.T) {
	base := RefundKey("ch_b", 0, 2000)
	ended := func(key string, amount int64) RefundIntent {
		return RefundIntent{RefundRequest: RefundRequest{Key: key, ChargeID: "ch_b", Amount: amount, Currency: "usd"},
			Status: RefundFailed, ErrorCode: "refund", CreatedAt: t0, FinishedAt: t0.Add(time.Hour)}
	}
	tests := []struct {
		name    string
		refunds []RefundIntent
		scope   PlanScope
		want    string // the planned request's key
		kind    PlanLineKind
	}{
		{"never asked", nil, AllThatIsLeft, base, PlanRefund},
		{"refused once", []RefundIntent{ended(base, 2000)}, AllThatIsLeft, base + "-r1", PlanRefund},
		{"refused twice", []RefundIntent{ended(base, 2000), ended(base+"-r1", 2000)}, AllThatIsLeft, base + "-r2", PlanRefund},
		{"reversed after it succeeded", []RefundIntent{func() RefundIntent { it := ended(base, 2000); it.Status = RefundReversed; return it }()},
			AllThatIsLeft, base + "-r1", PlanRefund},
		{"the new ask in flight is finished with its key", []RefundIntent{ended(base, 2000),
			{RefundRequest: RefundRequest{Key: base + "-r1", ChargeID: "ch_b", Amount: 2000, Currency: "usd"}, Status: RefundPending, CreatedAt: t0.Add(2 * time.Hour)}},
			AllThatIsLeft, base + "-r1", PlanResume},
		{"a refused part does not move the whole charge's key", []RefundIntent{ended(RefundKey("ch_b", 0, 500), 500)}, AllThatIsLeft, base, PlanRefund},
		{"the refused part asked again", []RefundIntent{ended(RefundKey("ch_b", 0, 500), 500)}, PlanScope{ChargeID: "ch_b", Amount: 500},
			RefundKey("ch_b", 0, 500) + "-r1", PlanRefund},
		{"another charge's key that merely starts alike is not counted", []RefundIntent{ended(RefundKey("ch_b", 0, 200), 200), ended(base+"-rx", 2000)},
			AllThatIsLeft, base, PlanRefund},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Detect(Input{Charges: []Charge{charge("ch_a", 0), charge("ch_b", time.Minute)}, Refunds: tc.refunds}, DefaultOptions())
			g := onlyGroup(t, r)
			plan, err := PlanRefunds([]*Group{&g}, tc.scope)
			if err != nil {
				t.Fatal(err)
			}
			if len(plan.Requests) != 1 || plan.Requests[0].Key != tc.want {
				t.Fatalf("planned %+v, want one request keyed %s", plan.Requests, tc.want)
			}
			if kind := plan.Lines[len(plan.Lines)-1].Kind; kind != tc.kind {
				t.Errorf("planned as %s, want %s", kind, tc.kind)
			}
			if g.Status == Resolved {
				t.Errorf("the group is resolved, though no refund moved money")
			}
		})
	}
	// Adyen's Idempotency-Key holds 64 characters: a 16-character PSP
	// reference's key asked again still fits.
	long := askedAgainKey(RefundKey("8815000000000001", 9999999999, 9999999999), []string{RefundKey("8815000000000001", 9999999999, 9999999999)})
	if err := ProviderAdyen.CheckRefundKey(long); err != nil {
		t.Errorf("%s: %v", long, err)
	}
}

// TestReversedRefundReopensTheGroup: a refund its provider reversed after
// confirming it no longer counts as refunded: the group is open again, the
// money at risk, and the headline, the table and the charge's state say it
// was reversed.
func TestReversedRefundReopensTheGroup(t *testing.T) {
	adyen := func(c *Charge) { c.Provider = ProviderAdyen }
	key := RefundKey("ch_b", 0, 2000)
	for _, tc := range []struct {
		name     string
		status   RefundStatus
		want     Status
		atRisk   int64
		reversed bool
	}{
		{"confirmed", RefundSucceeded, Resolved, 0, false},
		{"reversed after it was confirmed", RefundReversed, Open, 2000, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Detect(Input{Charges: []Charge{charge("ch_a", 0, adyen), charge("ch_b", time.Minute, adyen)},
				Refunds: []RefundIntent{{RefundRequest: RefundRequest{Key: key, ChargeID: "ch_b", Amount: 2000, Currency: "usd", Provider: ProviderAdyen},
					Status: tc.status, RefundID: "psp_r", ErrorCode: "refunded_reversed", ErrorMessage: "REFUNDED_REVERSED", CreatedAt: t0, FinishedAt: t0.Add(time.Hour)}},
			}, DefaultOptions())
			g := onlyGroup(t, r)
			if g.Status != tc.want || r.Summary.ByCurrency[0].AtRisk != tc.atRisk || (r.Summary.Reversed == 1) != tc.reversed {
				t.Fatalf("status %s, at risk %d, %d reversed; want %s, %d", g.Status, r.Summary.ByCurrency[0].AtRisk, r.Summary.Reversed, tc.want, tc.atRisk)
			}
			headline := "refund psp_r of ch_b (20.00 USD) reversed by Adyen (REFUNDED_REVERSED): the money came back and is at risk again"
			var table bytes.Buffer
			if err := WriteTable(&table, r); err != nil {
				t.Fatal(err)
			}
			shown := strings.HasPrefix(g.Headline(), headline) && strings.Contains(table.String(), "1 group with a refund the provider reversed after it succeeded") &&
				RefundStatus(g.Charges[1].Decision).Describe(ProviderAdyen) == "reversed by Adyen"
			if shown != tc.reversed {
				t.Errorf("headline %q, decision %q, table:\n%s\nwant the reversal shown: %v", g.Headline(), g.Charges[1].Decision, table.String(), tc.reversed)
			}
		})
	}
}

// TestResumeCommand: the resume command names what finds the store and sends
// its refunds, quoted so that it can be pasted into a shell as printed.
func TestResumeCommand(t *testing.T) {
	for _, tc := range []struct {
		name string
		t    ResumeTarget
		want string
	}{
		{"default store", ResumeTarget{}, "doublecheck refund --resume"},
		{"named store", ResumeTarget{Store: "/srv/dc/acme.db"}, "doublecheck refund --resume --db /srv/dc/acme.db"},
		{"paypal default store", ResumeTarget{PayPalEnv: "live"}, "doublecheck refund --resume --provider paypal --paypal-env live"},
		{"paypal named store and base", ResumeTarget{PayPalEnv: "sandbox", PayPalBase: "http://127.0.0.1:8080", Store: "/tmp/pp.db"},
			"doublecheck refund --resume --provider paypal --paypal-env sandbox --paypal-base http://127.0.0.1:8080 --db /tmp/pp.db"},
		{"stripe server", ResumeTarget{StripeBase: "http://localhost:12111", Store: "/tmp/s.db"},
			"doublecheck refund --resume --api-base http://localhost:12111 --db /tmp/s.db"},
		{"path with spaces and a quote", ResumeTarget{Store: "/home/o'neil/my store.db"}, `doublecheck refund --resume --db '/home/o'\''neil/my store.db'`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ResumeCommand(tc.t); got != tc.want {
				t.Errorf("ResumeCommand(%+v) = %q, want %q", tc.t, got, tc.want)
			}
		})
	}
}
