package stripeapi

import (
	"context"
	"strings"
	"testing"

	"github.com/doublecheck-dev/doublecheck/sandbox"
)

// A restricted key without PaymentIntents: Read still syncs the charges; the
// one warning names the permission as the Dashboard shows it.
func TestSyncWithoutPaymentIntentRead(t *testing.T) {
	_, base := newSandbox(t, sandbox.Options{Seed: 7, Ordinary: 100})
	var warnings []string
	opts := fast
	opts.Warn = func(msg string) { warnings = append(warnings, msg) }
	sink := newMemSink()
	res, err := testClient(t, sandbox.NoIntentKey, base).Sync(context.Background(), sink, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := "the restricted key (rk_test_…tent) lacks the PaymentIntents: Read permission (rak_payment_intent_read); grant it in the Stripe Dashboard under API keys"
	if !res.EventsSkipped || len(warnings) != 1 || !strings.Contains(warnings[0], want) {
		t.Errorf("events skipped %v, warnings %q, want one containing %q", res.EventsSkipped, warnings, want)
	}
	if len(sink.charges) == 0 {
		t.Error("no charges synced")
	}
}
