package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/doublecheck-dev/doublecheck/adyenapi"
	"github.com/doublecheck-dev/doublecheck/reconcile"
	"github.com/doublecheck-dev/doublecheck/sandbox"
	"github.com/doublecheck-dev/doublecheck/store"
)

// adyenWorld is the Stripe sandbox (synced into a store, as an operator's
// account), the Adyen sandbox on loopback and its two reports on disk.
type adyenWorld struct {
	stripeURL, adyenURL string
	sb                  *sandbox.Adyen
	db, home, dir       string
	received, settled   string
}

func newAdyenWorld(t *testing.T) *adyenWorld {
	t.Helper()
	w := &adyenWorld{home: t.TempDir(), dir: t.TempDir()}
	_, w.stripeURL = listenSandbox(t, sandbox.Options{Seed: 3, Ordinary: 50, NoScenarios: true})
	w.sb = sandbox.NewAdyen(sandbox.AdyenOptions{Seed: 3, Now: time.Now().Add(-time.Hour)})
	base, stop, err := w.sb.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stop(context.Background()) })
	w.adyenURL = base
	w.db = filepath.Join(w.dir, "doublecheck.db")
	w.received, w.settled = filepath.Join(w.dir, "received.csv"), filepath.Join(w.dir, "settlement.csv")
	for path, write := range map[string]func(*bytes.Buffer) error{
		w.received: func(b *bytes.Buffer) error { return w.sb.WriteReceivedPaymentDetails(b, sandbox.Layout2023) },
		w.settled:  func(b *bytes.Buffer) error { return w.sb.WriteSettlementDetails(b, sandbox.LayoutPre2023) },
	} {
		var b bytes.Buffer
		if err := write(&b); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// run runs the built binary with the sandboxes' credentials; crashAt sets
// DOUBLECHECK_CRASH_AT. The code is the exit status, or minus the signal.
func (w *adyenWorld) run(t *testing.T, bin, crashAt string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(bin, append(args, "--db", w.db)...)
	cmd.Env = []string{"HOME=" + w.home, "XDG_DATA_HOME=" + w.home, "PATH=" + os.Getenv("PATH"),
		"STRIPE_API_KEY=" + sandbox.TestKey, "STRIPE_API_BASE=" + w.stripeURL,
		adyenapi.EnvAPIKey + "=" + sandbox.AdyenTestKey, adyenapi.EnvMerchantAccount + "=" + sandbox.AdyenMerchantAccount,
		adyenapi.EnvEnvironment + "=test", adyenapi.EnvAPIBase + "=" + w.adyenURL, adyenapi.EnvHMACKey + "=" + sandbox.AdyenHMACKey}
	if crashAt != "" {
		cmd.Env = append(cmd.Env, crashEnv+"="+crashAt)
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	code = childExit(t, bin, cmd.Run())
	return code, out.String(), errOut.String()
}

func (w *adyenWorld) report(t *testing.T) reconcile.Report {
	t.Helper()
	st, err := store.Open(context.Background(), w.db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	report, err := detect(context.Background(), st, reconcile.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	return report
}

func (w *adyenWorld) intent(t *testing.T, chargeID string) reconcile.RefundIntent {
	t.Helper()
	st, err := store.Open(context.Background(), w.db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	intents, err := st.RefundIntents(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range intents {
		if it.ChargeID == chargeID {
			return it
		}
	}
	return reconcile.RefundIntent{}
}

// Import both reports, refund an Adyen duplicate with a crash after Adyen
// received it, resume, and confirm it with a signed REFUND notification: one
// refund at Adyen, received until the notification, then refunded.
func TestAdyenEndToEnd(t *testing.T) {
	t.Parallel()
	bin := builtBinary(t)
	w := newAdyenWorld(t)
	if code, _, stderr := w.run(t, bin, "", "sync"); code != 0 {
		t.Fatalf("sync exited %d: %s", code, stderr)
	}
	code, _, stderr := w.run(t, bin, "", "import", w.received, w.settled, "--yes")
	if code != 0 || !strings.Contains(stderr, "read "+w.received+" as an Adyen Received payment details report") ||
		!strings.Contains(stderr, "read "+w.settled+" as an Adyen Settlement details report") {
		t.Fatalf("import exited %d: %s", code, stderr)
	}
	var group reconcile.Group
	for _, g := range w.report(t).Groups {
		if g.Charges[0].Provider == reconcile.ProviderAdyen && g.Status == reconcile.Open && g.Charges[0].Currency == "eur" && len(g.Charges) == 2 &&
			g.Charges[1].Refundable == g.Charges[1].Amount && group.ID == "" {
			group = g
		}
		for _, m := range g.Charges {
			if m.Provider != g.Charges[0].Provider {
				t.Errorf("group %s mixes providers", g.ID)
			}
		}
	}
	if group.ID == "" {
		t.Fatal("no open Adyen group")
	}
	suspect := group.Charges[1]

	code, _, stderr = w.run(t, bin, "after-stripe", "refund", "--group", group.ID, "--yes")
	if code != -int(syscall.SIGKILL) {
		t.Fatalf("refund did not crash after Adyen received it: %d %s", code, stderr)
	}
	if it := w.intent(t, suspect.ID); it.Status != reconcile.RefundPending {
		t.Fatalf("after the crash the intent is %+v, want pending", it)
	}
	code, stdout, stderr := w.run(t, bin, "", "refund", "--resume")
	if code != 0 || !strings.Contains(stdout, "awaiting Adyen confirmation") {
		t.Fatalf("resume exited %d:\n%s\n%s", code, stdout, stderr)
	}
	refunds := 0
	for _, r := range w.sb.Refunds() {
		if r.PaymentPsp == suspect.ID {
			refunds++
		}
	}
	it := w.intent(t, suspect.ID)
	if refunds != 1 || it.Status != reconcile.RefundReceived {
		t.Fatalf("%d refunds of %s at Adyen, intent %s; want 1, received", refunds, suspect.ID, it.Status)
	}

	notes := bytes.Join(w.sb.Notify(), []byte("\n"))
	tampered := filepath.Join(w.dir, "tampered.jsonl")
	os.WriteFile(tampered, bytes.Replace(notes, []byte(`"success":"true"`), []byte(`"success":"false"`), 1), 0o600)
	if code, _, stderr := w.run(t, bin, "", "adyen-notifications", tampered); code == 0 || !strings.Contains(stderr, "HMAC signature does not match") ||
		strings.Contains(stderr, sandbox.AdyenHMACKey) {
		t.Fatalf("tampered notifications: exit %d: %s", code, stderr)
	}
	if w.intent(t, suspect.ID).Status != reconcile.RefundReceived {
		t.Fatal("a tampered notification changed the ledger")
	}
	file := filepath.Join(w.dir, "notifications.jsonl")
	os.WriteFile(file, notes, 0o600)
	code, stdout, stderr = w.run(t, bin, "", "adyen-notifications", file)
	if code != 0 || !strings.Contains(stdout, "confirmed by Adyen") {
		t.Fatalf("notifications exited %d:\n%s\n%s", code, stdout, stderr)
	}
	if it := w.intent(t, suspect.ID); it.Status != reconcile.RefundSucceeded || it.RefundID == "" {
		t.Fatalf("after the notification: %+v", it)
	}
	// Imported again: nothing new, and it says so.
	code, stdout, stderr = w.run(t, bin, "", "adyen-notifications", file)
	if code != 0 || strings.Contains(stdout, "confirmed by Adyen") || !strings.Contains(stderr, "1 already recorded") {
		t.Fatalf("notifications again: exit %d:\n%s\n%s", code, stdout, stderr)
	}
}

// A bad row refuses the whole import, naming the file, line and field, and
// leaves no store behind.
func TestAdyenImportRefusesHostileReport(t *testing.T) {
	t.Parallel()
	bin := builtBinary(t)
	w := newAdyenWorld(t)
	data, _ := os.ReadFile(w.received)
	lines := strings.Split(string(data), "\n")
	lines[3] = strings.Replace(lines[3], ",CET,", ",Mars,", 1)
	bad := filepath.Join(w.dir, "bad.csv")
	os.WriteFile(bad, []byte(strings.Join(lines, "\n")), 0o600)
	code, _, stderr := w.run(t, bin, "", "import", bad, w.settled)
	if code == 0 || !strings.Contains(stderr, "bad.csv line 4, TimeZone: time zone \"Mars\"") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Fatalf("exit %d: %q", code, stderr)
	}
	if _, err := os.Stat(w.db); !os.IsNotExist(err) {
		t.Errorf("the refused import left a store: %v", err)
	}
	if code, _, stderr := w.run(t, bin, "", "import", filepath.Join("..", "testdata", "charges.jsonl"), w.settled); code == 0 || !strings.Contains(stderr, "only Adyen") {
		t.Errorf("a Stripe file with another: exit %d %s", code, stderr)
	}
}

// The demo imports the Adyen sandbox's reports: Adyen groups show beside
// Stripe's, and the demo's Adyen settings are the sandbox's whatever the
// user's environment says.
func TestDemoHasAdyenGroups(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "demo.db")
	env := Env{Now: time.Now, Getenv: func(name string) string {
		if name == adyenapi.EnvAPIKey {
			return "AQE_the_users_real_key"
		}
		return ""
	}}
	env, stop, err := startAdyenDemo(context.Background(), env, db, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer stop(context.Background())
	if env.Getenv(adyenapi.EnvAPIKey) != sandbox.AdyenTestKey || !strings.HasPrefix(env.Getenv(adyenapi.EnvAPIBase), "http://127.0.0.1:") {
		t.Fatalf("the demo's Adyen settings are not the sandbox's")
	}
	w := &adyenWorld{db: db}
	groups := 0
	for _, g := range w.report(t).Groups {
		if g.Charges[0].Provider == reconcile.ProviderAdyen {
			groups++
		}
	}
	if groups < 3 {
		t.Errorf("%d Adyen groups in the demo, want the sandbox's scenarios", groups)
	}
	if gw, note := adyenGateway(env, false); gw == nil {
		t.Errorf("no Adyen gateway in the demo: %s", note)
	}
}

// signedNotification is one Adyen notification body with one item, signed
// with the sandbox's HMAC key.
func signedNotification(t *testing.T, event, refundPsp, reference, success string) string {
	t.Helper()
	it := adyenapi.NotificationRequestItem{Amount: adyenapi.Amount{Currency: "EUR", Value: 500}, EventCode: event,
		MerchantAccountCode: sandbox.AdyenMerchantAccount, MerchantReference: reference, OriginalReference: "8815000000000001",
		PspReference: refundPsp, Success: success, Reason: "reason " + refundPsp}
	sig, err := it.Sign(sandbox.AdyenHMACKey)
	if err != nil {
		t.Fatal(err)
	}
	it.AdditionalData = map[string]string{"hmacSignature": sig}
	b, err := json.Marshal(adyenapi.NotificationRequest{Live: "false", NotificationItems: []adyenapi.NotificationItem{{Item: it}}})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Each notification goes where the ledger says: a received refund is
// confirmed or refused; a refund that came back after it was confirmed, and
// one whose intent is still pending (its answer was lost), need the
// operator; a refund made elsewhere is left alone.
func TestAdyenNotificationOutcomes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "d.db")
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	intent := func(key string, status reconcile.RefundStatus, refundID string) {
		t.Helper()
		it := reconcile.RefundIntent{RefundRequest: reconcile.RefundRequest{Key: key, ChargeID: "8815000000000001", Amount: 500,
			Currency: "eur", Provider: reconcile.ProviderAdyen}, Operator: "ops", CreatedAt: time.Now()}
		if _, _, err := st.BeginRefund(ctx, it); err != nil {
			t.Fatal(err)
		}
		if err := st.MarkAttempt(ctx, key, "ops"); err != nil {
			t.Fatal(err)
		}
		if status == reconcile.RefundPending {
			return
		}
		if err := st.FinishRefund(ctx, key, reconcile.RefundOutcome{Status: reconcile.RefundReceived, RefundID: refundID}); err != nil {
			t.Fatal(err)
		}
		if status == reconcile.RefundSucceeded {
			if err := st.ConfirmRefund(ctx, refundID, reconcile.RefundOutcome{Status: reconcile.RefundSucceeded}); err != nil {
				t.Fatal(err)
			}
		}
	}
	intent("k-confirm", reconcile.RefundReceived, "8800000000000001")
	intent("k-refuse", reconcile.RefundReceived, "8800000000000002")
	intent("k-reversed", reconcile.RefundSucceeded, "8800000000000003")
	intent("k-lost", reconcile.RefundPending, "")
	st.Close()
	file := filepath.Join(t.TempDir(), "n.jsonl")
	os.WriteFile(file, []byte(strings.Join([]string{
		signedNotification(t, "REFUND", "8800000000000001", "k-confirm", "true"),
		signedNotification(t, "REFUND", "8800000000000002", "k-refuse", "false"),
		signedNotification(t, "REFUNDED_REVERSED", "8800000000000003", "k-reversed", "true"),
		signedNotification(t, "REFUND", "8800000000000004", "k-lost", "true"),
		signedNotification(t, "REFUND", "8800000000000005", "someone-else", "true"),
		signedNotification(t, "CAPTURE", "8800000000000006", "", "true"),
	}, "\n")), 0o600)

	var stdout, stderr bytes.Buffer
	env := testEnv(t, "", &stdout, &stderr)
	env.Getenv = func(name string) string {
		if name == adyenapi.EnvHMACKey {
			return sandbox.AdyenHMACKey
		}
		return ""
	}
	// A dry run shows what would be recorded and records nothing.
	if code := Run(ctx, []string{"adyen-notifications", file, "--db", db, "--dry-run"}, env); code != 0 ||
		!strings.Contains(stdout.String(), "refund 8800000000000001 of payment 8815000000000001 (5.00 EUR): REFUND would be recorded as refunded (dry run)") {
		t.Fatalf("dry run: exit %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
	if st, err := store.Open(ctx, db); err == nil {
		intents, _ := st.RefundIntents(ctx)
		for _, it := range intents {
			if it.Key == "k-confirm" && it.Status != reconcile.RefundReceived {
				t.Errorf("the dry run recorded %s", it.Status)
			}
		}
		st.Close()
	}
	stdout.Reset()
	stderr.Reset()
	code := Run(ctx, []string{"adyen-notifications", file, "--db", db}, env)
	if code != exitError {
		t.Errorf("exit %d, want %d: two notifications need the operator\n%s\n%s", code, exitError, stdout.String(), stderr.String())
	}
	for _, want := range []string{
		"refund 8800000000000001 of payment 8815000000000001 (5.00 EUR): confirmed by Adyen",
		"refund 8800000000000002 of payment 8815000000000001 (5.00 EUR): refused by Adyen (reason 8800000000000002)",
		"came back (REFUNDED_REVERSED: reason 8800000000000003) after Adyen confirmed it",
		"is doublecheck's pending refund of charge 8815000000000001: run doublecheck refund --resume --db " + db + " first",
	} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout.String())
		}
	}
	if !strings.Contains(stderr.String(), "6 notification items verified") || !strings.Contains(stderr.String(), "1 refund made elsewhere") ||
		!strings.Contains(stderr.String(), "1 item about other events") {
		t.Errorf("summary: %s", stderr.String())
	}
	st, err = store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	intents, _ := st.RefundIntents(ctx)
	want := map[string]reconcile.RefundStatus{"k-confirm": reconcile.RefundSucceeded, "k-refuse": reconcile.RefundFailed,
		"k-reversed": reconcile.RefundReversed, "k-lost": reconcile.RefundPending}
	for _, it := range intents {
		if it.Status != want[it.Key] {
			t.Errorf("intent %s is %s, want %s", it.Key, it.Status, want[it.Key])
		}
	}
}

// Without a Stripe key, Adyen charges of an imported store are refunded
// through Adyen alone; without Adyen settings it is the Stripe key error.
func TestAdyenRefundWithoutStripeKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newAdyenWorld(t)
	settings := map[string]string{adyenapi.EnvAPIKey: sandbox.AdyenTestKey, adyenapi.EnvMerchantAccount: sandbox.AdyenMerchantAccount,
		adyenapi.EnvEnvironment: "test", adyenapi.EnvAPIBase: w.adyenURL}
	run := func(withAdyen bool, args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		env := testEnv(t, "", &stdout, &stderr)
		if withAdyen {
			env.Getenv = func(k string) string { return settings[k] }
		}
		code := Run(ctx, append(args, "--db", w.db), env)
		return code, stdout.String(), stderr.String()
	}
	if code, _, stderr := run(true, "import", w.received, w.settled); code != 0 {
		t.Fatalf("import: %s", stderr)
	}
	var group reconcile.Group
	for _, g := range w.report(t).Groups {
		if g.Charges[0].Provider == reconcile.ProviderAdyen && g.Status == reconcile.Open && group.ID == "" {
			group = g
		}
	}
	if code, _, stderr := run(false, "refund", "--group", group.ID, "--yes"); code == 0 || !strings.Contains(stderr, "no Stripe API key") {
		t.Fatalf("without any credentials: exit %d: %s", code, stderr)
	}
	code, stdout, stderr := run(true, "refund", "--group", group.ID, "--yes")
	if code != 0 || !strings.Contains(stderr, "refunds without a Stripe key") || !strings.Contains(stdout, "awaiting Adyen confirmation") {
		t.Fatalf("exit %d:\n%s\n%s", code, stdout, stderr)
	}
	for _, m := range group.Charges[1:] {
		refs := filterRefunds(w.sb.Refunds(), m.ID)
		if len(refs) != 1 || refs[0].Value != m.Refundable {
			t.Errorf("refunds of %s by doublecheck at Adyen: %+v, want one of %d (what was left)", m.ID, refs, m.Refundable)
		}
	}
}

// filterRefunds are doublecheck's refunds of payment (the sandbox seeds
// others, made in the Customer Area).
func filterRefunds(refunds []sandbox.AdyenRefund, payment string) []sandbox.AdyenRefund {
	var out []sandbox.AdyenRefund
	for _, r := range refunds {
		if r.PaymentPsp == payment && strings.HasPrefix(r.Key, "doublecheck-refund-") {
			out = append(out, r)
		}
	}
	return out
}

// The demo confirms its Adyen refunds from the sandbox's notifications; one
// whose answer is not recorded yet waits for the next round.
func TestDemoConfirmsAdyenRefunds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sb := sandbox.NewAdyen(sandbox.AdyenOptions{})
	base, stop, err := sb.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer stop(ctx)
	client, _ := adyenapi.NewClient(adyenapi.Config{Env: adyenapi.EnvTest, APIKey: sandbox.AdyenTestKey, MerchantAccount: sandbox.AdyenMerchantAccount, BaseURL: base})
	var psp string
	for _, p := range sb.Payments() {
		if p.Scenario == "double_click/1" {
			psp = p.Psp
		}
	}
	db := filepath.Join(t.TempDir(), "demo.db")
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	key := reconcile.RefundKey(psp, 0, 8900)
	it := reconcile.RefundIntent{RefundRequest: reconcile.RefundRequest{Key: key, ChargeID: psp, Amount: 8900, Currency: "eur",
		Provider: reconcile.ProviderAdyen}, Operator: "ops", CreatedAt: time.Now()}
	st.BeginRefund(ctx, it)
	st.MarkAttempt(ctx, key, "ops")
	resp, err := client.Refund(ctx, psp, 8900, "eur", key, key)
	if err != nil {
		t.Fatal(err)
	}
	// The notification comes before the answer is recorded: it waits.
	waiting := confirmDemoRefunds(ctx, db, sb.Notify())
	if len(waiting) != 1 {
		t.Fatalf("%d notifications waiting, want 1", len(waiting))
	}
	if err := st.FinishRefund(ctx, key, reconcile.RefundOutcome{Status: reconcile.RefundReceived, RefundID: resp.PspReference}); err != nil {
		t.Fatal(err)
	}
	if waiting = confirmDemoRefunds(ctx, db, waiting); len(waiting) != 0 {
		t.Fatalf("%d still waiting", len(waiting))
	}
	intents, _ := st.RefundIntents(ctx)
	if len(intents) != 1 || intents[0].Status != reconcile.RefundSucceeded {
		t.Fatalf("intents %+v: want the refund confirmed", intents)
	}
}

// A file of notifications is checked whole (signatures, modes) and recorded
// in one transaction, each event reading its refund as the earlier ones left
// it: REFUND success then REFUND_FAILED or REFUNDED_REVERSED for one refund
// ends reversed by Adyen, no longer refunded, its group open again with the
// money at risk; a file with one event of the other mode, or one the ledger
// contradicts, records nothing and names the line.
func TestAdyenNotificationFileIsAllOrNothing(t *testing.T) {
	t.Parallel()
	live := func(body string) string { return strings.Replace(body, `"live":"false"`, `"live":"true"`, 1) }
	cases := []struct {
		name       string
		lines      func(t *testing.T) []string
		stdout     string
		stderr     string
		k1         reconcile.RefundStatus // the received refund 8800000000000001's intent after the import
		groupOpen  bool
		wantStatus int
	}{
		{name: "success then REFUND_FAILED", lines: func(t *testing.T) []string {
			return []string{signedNotification(t, "REFUND", "8800000000000001", "k1", "true"), signedNotification(t, "REFUND_FAILED", "8800000000000001", "k1", "true")}
		}, stdout: "refund 8800000000000001 of payment 8815000000000001 (5.00 EUR) came back (REFUND_FAILED: reason 8800000000000001) after Adyen confirmed it: recorded as reversed by Adyen",
			stderr: "1 confirmed, 0 refused, 1 reversed", k1: reconcile.RefundReversed, groupOpen: true, wantStatus: exitError},
		{name: "success then REFUNDED_REVERSED, delivered twice", lines: func(t *testing.T) []string {
			reversed := signedNotification(t, "REFUNDED_REVERSED", "8800000000000001", "k1", "true")
			return []string{signedNotification(t, "REFUND", "8800000000000001", "k1", "true"), reversed, reversed}
		}, stdout: "came back (REFUNDED_REVERSED: reason 8800000000000001) after Adyen confirmed it",
			stderr: "1 confirmed, 0 refused, 1 reversed, 1 already recorded", k1: reconcile.RefundReversed, groupOpen: true, wantStatus: exitError},
		{name: "a contradiction on line 2 refuses the file", lines: func(t *testing.T) []string {
			return []string{signedNotification(t, "REFUND", "8800000000000001", "k1", "true"), signedNotification(t, "REFUND", "8800000000000002", "k2", "false")}
		}, stderr: "line 2 (REFUND of refund 8800000000000002): refund 8800000000000002 of charge 8815000000000002 (intent k2): the intent is refunded, not awaiting confirmation; refusing to record it as refund_failed; nothing was recorded",
			k1: reconcile.RefundReceived, wantStatus: exitError},
		{name: "a notification of the other mode on line 2 refuses the file", lines: func(t *testing.T) []string {
			return []string{signedNotification(t, "REFUND", "8800000000000001", "k1", "true"), live(signedNotification(t, "REFUND", "8800000000000001", "k1", "true"))}
		}, stderr: "line 2: a LIVE notification, but the store", k1: reconcile.RefundReceived, wantStatus: exitError},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			db := filepath.Join(t.TempDir(), "d.db")
			st, err := store.Open(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			at := time.Now().Add(-time.Hour).UTC()
			var charges []reconcile.Charge
			for i, id := range []string{"8815000000000000", "8815000000000001", "8815000000000002"} {
				charges = append(charges, reconcile.Charge{ID: id, Created: at.Add(time.Duration(i) * time.Minute), Amount: 500, Currency: "eur",
					Status: "succeeded", Captured: true, Customer: "shopper-1", Provider: reconcile.ProviderAdyen, Observed: at})
			}
			if err := st.SaveCharges(ctx, charges); err != nil {
				t.Fatal(err)
			}
			if err := st.SetState(ctx, store.StateLivemode, "false"); err != nil {
				t.Fatal(err)
			}
			for _, r := range []struct{ key, charge, refund string }{{"k1", "8815000000000001", "8800000000000001"}, {"k2", "8815000000000002", "8800000000000002"}} {
				it := reconcile.RefundIntent{RefundRequest: reconcile.RefundRequest{Key: r.key, ChargeID: r.charge, Amount: 500, Currency: "eur",
					Provider: reconcile.ProviderAdyen}, Operator: "ops", CreatedAt: at}
				if _, _, err := st.BeginRefund(ctx, it); err != nil {
					t.Fatal(err)
				}
				if err := st.FinishRefund(ctx, r.key, reconcile.RefundOutcome{Status: reconcile.RefundReceived, RefundID: r.refund}); err != nil {
					t.Fatal(err)
				}
			}
			if err := st.ConfirmRefund(ctx, "8800000000000002", reconcile.RefundOutcome{Status: reconcile.RefundSucceeded}); err != nil {
				t.Fatal(err)
			}
			st.Close()
			file := filepath.Join(t.TempDir(), "n.jsonl")
			if err := os.WriteFile(file, []byte(strings.Join(tc.lines(t), "\n")+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			env := testEnv(t, "", &stdout, &stderr)
			env.Getenv = func(name string) string {
				if name == adyenapi.EnvHMACKey {
					return sandbox.AdyenHMACKey
				}
				return ""
			}
			code := Run(ctx, []string{"adyen-notifications", file, "--db", db}, env)
			if code != tc.wantStatus || !strings.Contains(stdout.String(), tc.stdout) || !strings.Contains(stderr.String(), tc.stderr) {
				t.Errorf("exit %d, want %d\nstdout (want %q):\n%s\nstderr (want %q):\n%s", code, tc.wantStatus, tc.stdout, stdout.String(), tc.stderr, stderr.String())
			}
			st, err = store.Open(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			report, err := detect(ctx, st, reconcile.DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			intents, err := st.RefundIntents(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range intents {
				if it.Key == "k1" && it.Status != tc.k1 {
					t.Errorf("intent k1 is %s, want %s", it.Status, tc.k1)
				}
			}
			var g *reconcile.Group
			for i := range report.Groups {
				g = &report.Groups[i]
			}
			if g == nil {
				t.Fatal("no group")
			}
			if open := g.Status == reconcile.Open && strings.Contains(g.Headline(), "reversed by Adyen") && report.Summary.ByCurrency[0].AtRisk >= 500; open != tc.groupOpen {
				t.Errorf("group %s %s (%q), at risk %d; want open again with the reversal in its headline: %v",
					g.ID, g.Status, g.Headline(), report.Summary.ByCurrency[0].AtRisk, tc.groupOpen)
			}
		})
	}
}

// TestAdyenDashboardWithoutStripeKey: the dashboard on a store of imported
// Adyen reports, with only ADYEN_* set, refunds an Adyen duplicate through
// Adyen; it needs no Stripe key.
func TestAdyenDashboardWithoutStripeKey(t *testing.T) {
	t.Parallel()
	w := newAdyenWorld(t)
	home := t.TempDir()
	adyenOnly := []string{"HOME=" + home, "XDG_DATA_HOME=" + filepath.Join(home, "data"), "TERM=xterm-256color", "USER=tester",
		adyenapi.EnvAPIKey + "=" + sandbox.AdyenTestKey, adyenapi.EnvMerchantAccount + "=" + sandbox.AdyenMerchantAccount,
		adyenapi.EnvEnvironment + "=test", adyenapi.EnvAPIBase + "=" + w.adyenURL}
	imp := exec.Command(builtBinary(t), "import", w.received, w.settled, "--db", w.db)
	imp.Env = append(adyenOnly, "PATH="+os.Getenv("PATH"))
	if out, err := imp.CombinedOutput(); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	d := startInTerminal(t, "", adyenOnly, "--db", w.db)
	at := d.scr.waitFor(t, 0, "grp_", "Adyen")
	d.press("r")
	at = d.scr.waitFor(t, at, "refund")
	if text, _ := d.scr.since(0); strings.Contains(text, "type refund") {
		d.press("r", "e", "f", "u", "n", "d", "\r")
	} else {
		d.press("G", "y")
	}
	d.scr.waitFor(t, at, "1 received")
	d.quit()
	if len(w.sb.Refunds()) == 0 {
		t.Fatal("no refund reached Adyen")
	}
	n := 0
	for _, r := range w.sb.Refunds() {
		if strings.HasPrefix(r.Key, "doublecheck-refund-") {
			n++
		}
	}
	if n == 0 {
		t.Error("no refund of doublecheck's reached Adyen")
	}
}

// TestAdyenGatewayRefusesAMislabelledHost: a test label on Adyen's live host
// (or the reverse), or a live key over plain http, gives no Adyen gateway,
// and the note says why.
func TestAdyenGatewayRefusesAMislabelledHost(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		adyenEnv, base string
		live           bool
		want           string
	}{
		{"test", "https://1797a841fbb37ca7-AdyenDemo-checkout-live.adyenpayments.com/checkout/v71", false,
			"Adyen refunds are off: the Adyen environment is test (ADYEN_ENV) but 1797a841fbb37ca7-adyendemo-checkout-live.adyenpayments.com is Adyen's live host"},
		{"live", "https://checkout-test.adyen.com/v71", true, "checkout-test.adyen.com is Adyen's test host"},
		{"live", "http://adyen-proxy.example", true, "refusing to send live Adyen credentials over plain http to adyen-proxy.example"},
	} {
		vars := map[string]string{adyenapi.EnvAPIKey: "AQE_key", adyenapi.EnvMerchantAccount: "M", adyenapi.EnvEnvironment: tc.adyenEnv,
			adyenapi.EnvLivePrefix: "1797a841fbb37ca7-AdyenDemo", adyenapi.EnvAPIBase: tc.base}
		env := Env{Now: time.Now, Getenv: func(name string) string { return vars[name] }}
		if gw, note := adyenGateway(env, tc.live); gw != nil || !strings.Contains(note, tc.want) {
			t.Errorf("ADYEN_ENV=%s %s: gateway %v, note %q; want none and %q", tc.adyenEnv, tc.base, gw != nil, note, tc.want)
		}
	}
}
