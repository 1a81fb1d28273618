package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

func email(c testCharge) string { return c.BillingDetails.Email }

func customer(c testCharge) string {
	if c.Customer == nil {
		return ""
	}
	return *c.Customer
}

func span(cs []testCharge) int64 { return cs[len(cs)-1].Created - cs[0].Created }

func sameAmount(cs []testCharge) bool {
	for _, c := range cs[1:] {
		if c.Amount != cs[0].Amount || c.Currency != cs[0].Currency {
			return false
		}
	}
	return true
}

// TestScenarioShapes checks that every DESIGN.md case is present and looks like
// what its name promises, on the charges as a client sees them.
func TestScenarioShapes(t *testing.T) {
	s, _ := start(t, Options{Seed: 42})
	checks := map[string]func(cs []testCharge) string{
		"double_click": func(cs []testCharge) string {
			if len(cs) != 2 || !sameAmount(cs) || span(cs) > 10 || fp(cs[0]) != fp(cs[1]) {
				return "want 2 charges, same card and amount, under 10 s apart"
			}
			return ""
		},
		"retry_new_key": func(cs []testCharge) string {
			if len(cs) != 2 || !sameAmount(cs) || span(cs) < 30 || span(cs) > 90 || order(cs[0]) == "" || order(cs[0]) != order(cs[1]) {
				return "want 2 charges of one order 30–90 s apart"
			}
			return ""
		},
		"key_reused_after_expiry": func(cs []testCharge) string {
			if len(cs) != 2 || !sameAmount(cs) || span(cs) < 26*3600 || order(cs[0]) != order(cs[1]) {
				return "want 2 charges of one order at least 26 h apart"
			}
			return ""
		},
		"guest_same_card": func(cs []testCharge) string {
			if len(cs) != 2 || customer(cs[0]) != "" || customer(cs[1]) != "" || fp(cs[0]) != fp(cs[1]) ||
				email(cs[0]) == email(cs[1]) || span(cs) > 600 {
				return "want 2 guest charges on one card with different emails within 10 min"
			}
			return ""
		},
		"email_only": func(cs []testCharge) string {
			if len(cs) != 2 || customer(cs[0]) != "" || fp(cs[0]) == fp(cs[1]) || email(cs[0]) != email(cs[1]) || span(cs) > 600 {
				return "want 2 guest charges, one email, different cards, within 10 min"
			}
			return ""
		},
		"legit_repeat": func(cs []testCharge) string {
			if len(cs) != 2 || !sameAmount(cs) || customer(cs[0]) == "" || customer(cs[0]) != customer(cs[1]) ||
				order(cs[0]) == order(cs[1]) || span(cs) > 600 {
				return "want 2 charges of one customer and amount within 10 min, different orders"
			}
			return ""
		},
		"subscription": func(cs []testCharge) string {
			for i, c := range cs {
				if c.Invoice == nil || order(c) != "" || (i > 0 && c.Created-cs[i-1].Created < 28*86400) {
					return "want monthly invoice charges without order ids"
				}
			}
			if len(cs) < 2 || !sameAmount(cs) || customer(cs[0]) != customer(cs[1]) {
				return "want at least 2 invoices of one customer and amount"
			}
			return ""
		},
		"declined_then_paid": func(cs []testCharge) string {
			if len(cs) != 2 || cs[0].Status != "failed" || cs[1].Status != "succeeded" || order(cs[0]) != order(cs[1]) {
				return "want a failed then a succeeded charge of one order"
			}
			return ""
		},
		"other_currency": func(cs []testCharge) string {
			if len(cs) != 2 || !sameAmount(cs) || cs[0].Currency == "usd" {
				return "want 2 same-amount charges in a currency other than usd"
			}
			if cs[0].Currency == "jpy" && cs[0].Amount%100 != 0 {
				return "jpy is zero-decimal: want a whole-yen price"
			}
			return ""
		},
		"uncaptured": func(cs []testCharge) string {
			if len(cs) != 2 || !cs[0].Captured || cs[1].Captured || cs[1].Status != "succeeded" {
				return "want a captured charge then an uncaptured one"
			}
			return ""
		},
		"already_refunded": func(cs []testCharge) string {
			if len(cs) != 2 || !sameAmount(cs) || !cs[1].Refunded || cs[1].AmountRefunded != cs[1].Amount || cs[0].AmountRefunded != 0 {
				return "want a pair whose later charge is fully refunded"
			}
			return ""
		},
		"partly_refunded": func(cs []testCharge) string {
			if len(cs) != 2 || cs[1].Refunded || cs[1].AmountRefunded <= 0 || cs[1].AmountRefunded >= cs[1].Amount {
				return "want a pair whose later charge is partly refunded"
			}
			return ""
		},
		"disputed": func(cs []testCharge) string {
			if len(cs) != 2 || cs[0].Disputed || !cs[1].Disputed {
				return "want a pair whose later charge is disputed"
			}
			return ""
		},
		"same_payment_intent": func(cs []testCharge) string {
			if len(cs) != 2 || cs[0].PaymentIntent != cs[1].PaymentIntent || cs[0].Status != "succeeded" || cs[1].Status != "succeeded" {
				return "want 2 succeeded charges on one PaymentIntent"
			}
			return ""
		},
		"intent_per_attempt": func(cs []testCharge) string {
			if len(cs) != 2 || !sameAmount(cs) || order(cs[0]) == "" || order(cs[0]) != order(cs[1]) || cs[0].PaymentIntent == cs[1].PaymentIntent {
				return "want 2 charges of one order on two PaymentIntents"
			}
			return ""
		},
		"intent_without_key": func(cs []testCharge) string {
			if len(cs) != 2 || !sameAmount(cs) || order(cs[0]) == "" || order(cs[0]) != order(cs[1]) || cs[0].PaymentIntent == cs[1].PaymentIntent {
				return "want 2 charges of one order on two PaymentIntents"
			}
			return ""
		},
		"double_checkout": func(cs []testCharge) string {
			if len(cs) != 2 || !sameAmount(cs) || order(cs[0]) != "" || fp(cs[0]) != fp(cs[1]) || cs[0].PaymentIntent == cs[1].PaymentIntent {
				return "want 2 charges on one card, two PaymentIntents, no order in the charges' metadata"
			}
			return ""
		},
		"checkout_without_reference": func(cs []testCharge) string {
			if len(cs) != 2 || !sameAmount(cs) || order(cs[0]) != "" || fp(cs[0]) != fp(cs[1]) || cs[0].PaymentIntent == cs[1].PaymentIntent {
				return "want 2 charges on one card, two PaymentIntents, no order"
			}
			return ""
		},
		"triple_retry": func(cs []testCharge) string {
			if len(cs) != 3 || !sameAmount(cs) || span(cs) >= 60 {
				return "want 3 charges of one amount in under a minute"
			}
			return ""
		},
	}
	list := s.ScenarioList()
	seen := map[string]int{}
	recent := 0
	for _, sc := range list {
		seen[sc.Kind]++
		check, ok := checks[sc.Kind]
		if !ok {
			t.Errorf("scenario %s has an unexpected kind", sc.Name)
			continue
		}
		var cs []testCharge
		for _, id := range sc.Charges {
			cs = append(cs, chargeByID(t, s, id))
		}
		for i := 1; i < len(cs); i++ {
			if cs[i].Created < cs[i-1].Created {
				t.Errorf("%s: charges not earliest first", sc.Name)
			}
		}
		if msg := check(cs); msg != "" {
			t.Errorf("%s: %s", sc.Name, msg)
		}
		if sc.Note == "" || !strings.HasPrefix(sc.Name, sc.Kind+"/") {
			t.Errorf("scenario %+v: want a note and a kind/instance name", sc)
		}
		if cs[0].Created >= testNow.Add(-EventRetention).Unix() {
			recent++
		}
	}
	for kind := range checks {
		if seen[kind] == 0 {
			t.Errorf("no %s scenario", kind)
		}
	}
	if frac := float64(recent) / float64(len(list)); frac < 0.4 || frac > 0.7 {
		t.Errorf("%d of %d scenarios within the last 30 days, want about half", recent, len(list))
	}
	if got := len(s.Scenarios()); got != len(list) {
		t.Errorf("Scenarios() has %d entries, ScenarioList %d", got, len(list))
	}
}

func fp(c testCharge) string { return c.PaymentMethodDetails.Card.Fingerprint }

func order(c testCharge) string { return c.Metadata["order_id"] }

// TestOrdinaryChargesHaveNoDuplicates: outside the scenarios nothing matches
// DESIGN's rule (same currency and amount, a shared identity, within 10 minutes),
// checked by brute force per currency and amount.
func TestOrdinaryChargesHaveNoDuplicates(t *testing.T) {
	for _, opts := range []Options{
		{Seed: 42},
		{Seed: 42, Span: 12 * time.Hour}, // dense: lookalikes are likely unless prevented
	} {
		t.Run(opts.Span.String(), func(t *testing.T) { checkOrdinary(t, opts) })
	}
}

func checkOrdinary(t *testing.T, opts Options) {
	s, _ := start(t, opts)
	inScenario := map[string]bool{}
	for _, ids := range s.Scenarios() {
		for _, id := range ids {
			inScenario[id] = true
		}
	}
	all := allCharges(t, s)
	byPrice := map[string][]testCharge{}
	var failed, refunded, guests, withOrder int
	for _, c := range all {
		if inScenario[c.ID] {
			continue
		}
		switch {
		case c.Status == "failed":
			failed++
		case c.AmountRefunded > 0:
			refunded++
		}
		if customer(c) == "" {
			guests++
		}
		if order(c) != "" {
			withOrder++
		}
		if c.Status == "succeeded" && c.Captured {
			k := c.Currency + "/" + i64(c.Amount)
			byPrice[k] = append(byPrice[k], c)
		}
	}
	ordinary := len(all) - len(inScenario)
	if ordinary != 3000 {
		t.Errorf("%d ordinary charges, want the default 3000", ordinary)
	}
	for name, n := range map[string]int{"failed": failed, "refunded": refunded, "guest": guests, "with order_id": withOrder} {
		if n == 0 || n == ordinary {
			t.Errorf("%d of %d ordinary charges are %s; want a realistic mix", n, ordinary, name)
		}
	}
	for _, cs := range byPrice {
		for i := range cs {
			for j := i + 1; j < len(cs); j++ {
				a, b := cs[i], cs[j]
				shared := (customer(a) != "" && customer(a) == customer(b)) || fp(a) == fp(b) || email(a) == email(b)
				if shared && abs(a.Created-b.Created) <= 600 {
					t.Errorf("ordinary charges %s and %s look like duplicates", a.ID, b.ID)
				}
			}
		}
	}
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

func TestDeterminism(t *testing.T) {
	snapshot := func(seed int64) ([]byte, []byte) {
		s, ts := start(t, Options{Seed: seed, Ordinary: 500})
		charges, err := json.Marshal(s.Charges())
		if err != nil {
			t.Fatal(err)
		}
		var extra bytes.Buffer
		for _, path := range []string{"/v1/events", "/v1/refunds"} {
			extra.Write(get(t, ts, path, url.Values{"limit": {"100"}}).body)
		}
		scen, _ := json.Marshal(s.ScenarioList())
		extra.Write(scen)
		if err := s.WriteKeyLogCSV(&extra); err != nil {
			t.Fatal(err)
		}
		return charges, extra.Bytes()
	}
	c1, e1 := snapshot(8)
	c2, e2 := snapshot(8)
	c3, _ := snapshot(9)
	if !bytes.Equal(c1, c2) || !bytes.Equal(e1, e2) {
		t.Error("the same seed gave different data")
	}
	if bytes.Equal(c1, c3) {
		t.Error("different seeds gave the same charges")
	}
}

func TestKeyLog(t *testing.T) {
	s, _ := start(t, Options{Seed: 42, Ordinary: 300})
	log := s.KeyLog()
	if len(log) == 0 {
		t.Fatal("empty key log")
	}
	withoutCharge := 0
	for i, e := range log {
		if e.IdempotencyKey == "" || libraryKeyShape.MatchString(e.IdempotencyKey) {
			t.Errorf("log entry %+v: the merchant logs only its own keys", e)
		}
		if i > 0 && e.CreatedAt.Before(log[i-1].CreatedAt) {
			t.Errorf("key log not oldest first at %d", i)
		}
		if e.ChargeID == "" {
			withoutCharge++
		} else if _, ok := s.ChargeJSON(e.ChargeID); !ok {
			t.Errorf("log entry %+v names an unknown charge", e)
		}
	}
	if withoutCharge == 0 {
		t.Error("no logged key without a charge (timeouts, requests that never arrived)")
	}
	var buf bytes.Buffer
	if err := s.WriteKeyLogCSV(&buf); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if lines[0] != "idempotency_key,order_ref,charge_id,created_at" || len(lines) != len(log)+1 {
		t.Errorf("CSV header %q and %d lines for %d entries", lines[0], len(lines), len(log))
	}
}

func TestAddCharge(t *testing.T) {
	s, ts := start(t, Options{Seed: 3, Ordinary: 50})
	newest := allCharges(t, s)[0]
	s.Advance(time.Minute)
	id := s.AddCharge(ChargeSpec{Amount: 1234, Customer: "cus_incremental", Email: "new@example.com",
		Metadata: map[string]string{"order_id": "o-99999"}, IdempotencyKey: "key-o-99999"})

	page := decode[testList[testCharge]](t, get(t, ts, "/v1/charges", url.Values{"created[gt]": {i64(newest.Created)}}))
	if len(page.Data) != 1 || page.Data[0].ID != id {
		t.Fatalf("created[gt] the previous newest: %+v", page.Data)
	}
	c := page.Data[0]
	if c.Amount != 1234 || c.Currency != "usd" || customer(c) != "cus_incremental" || c.Created != s.Now().Unix() ||
		order(c) != "o-99999" || fp(c) == "" || c.Status != "succeeded" || !c.Captured {
		t.Errorf("added charge %+v", c)
	}
	// Its PaymentIntent's payment_intent.created has the same second.
	events := decode[testList[testEvent]](t, get(t, ts, "/v1/events", url.Values{"limit": {"1"}, "type": {"charge.succeeded"}}))
	if len(events.Data) != 1 || events.Data[0].Type != "charge.succeeded" || events.Data[0].Request.IdempotencyKey == nil ||
		*events.Data[0].Request.IdempotencyKey != "key-o-99999" {
		t.Errorf("newest event %+v", events.Data)
	}
	failed := s.AddCharge(ChargeSpec{Failed: true, CardFingerprint: fp(c)})
	if got := chargeByID(t, s, failed); got.Status != "failed" || fp(got) != fp(c) {
		t.Errorf("failed charge %+v", got)
	}
}

func TestListen(t *testing.T) {
	s := New(Options{Seed: 1, Ordinary: 10, Now: testNow})
	base, shutdown, err := s.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := requestCtx(context.Background(), base, "GET", "/v1/charges", TestKey, url.Values{"limit": {"2"}}, nil)
	if err != nil || rep.status != http.StatusOK {
		t.Fatalf("GET %s/v1/charges: %v %d", base, err, rep.status)
	}
	if page := decode[testList[testCharge]](t, rep); len(page.Data) != 2 || !slices.ContainsFunc(page.Data, func(c testCharge) bool { return c.ID != "" }) {
		t.Errorf("page %+v", page)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if _, err := requestCtx(context.Background(), base, "GET", "/v1/account", TestKey, nil, nil); err == nil {
		t.Error("the server still answers after shutdown")
	}
}

// TestShutdownReleasesHangingRequests: a request hung by TimeoutRate must not
// keep shutdown waiting.
func TestShutdownReleasesHangingRequests(t *testing.T) {
	s := New(Options{Seed: 1, Ordinary: 10, Now: testNow, TimeoutRate: 1})
	base, shutdown, err := s.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := requestCtx(context.Background(), base, "GET", "/v1/account", TestKey, nil, nil)
		done <- err
	}()
	for s.Stats().Timeouts == 0 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := shutdown(ctx); err != nil {
		t.Fatalf("shutdown with a hanging request: %v", err)
	}
	<-done
}

// TestArrivals: with ArrivalEvery, charges keep arriving as the clock moves,
// among them fresh duplicate scenarios, and an incremental poller that asks for
// created[gt] its newest charge misses none of them.
func TestArrivals(t *testing.T) {
	s, ts := start(t, Options{Seed: 3, Ordinary: 100, ArrivalEvery: time.Minute})
	before := map[string]bool{}
	for _, c := range allCharges(t, s) {
		before[c.ID] = true
	}
	cursor := allCharges(t, s)[0].Created
	polled := map[string]bool{}
	for range 40 { // 20 minutes in 30 s steps
		s.Advance(30 * time.Second)
		for _, c := range walk[testCharge](t, ts, "/v1/charges", url.Values{"created[gt]": {i64(cursor)}}, 100) {
			if polled[c.ID] || before[c.ID] {
				t.Fatalf("charge %s polled twice", c.ID)
			}
			polled[c.ID] = true
			cursor = max(cursor, c.Created)
		}
	}
	var arrived int
	for _, c := range allCharges(t, s) {
		if !before[c.ID] && c.Created <= s.Now().Unix() {
			arrived++
			if !polled[c.ID] {
				t.Errorf("arrived charge %s was never polled", c.ID)
			}
		}
	}
	if arrived < 20 {
		t.Errorf("%d charges arrived in 20 minutes at one a minute", arrived)
	}
	scen := s.Scenarios()
	for _, name := range []string{"double_click/4", "retry_new_key/3", "triple_retry/3", "guest_same_card/3"} {
		if len(scen[name]) < 2 {
			t.Errorf("arrived scenario %s: %v", name, scen[name])
		}
	}
}
