package ui

import (
	"strings"
	"testing"
	"time"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// TestDetailPaneKeyLines checks what the pane says about each charge's key
// evidence.
func TestDetailPaneKeyLines(t *testing.T) {
	cases := []struct {
		name string
		m    reconcile.Member
		want string
	}{
		{"a bare UUID may be a library's key for a call sent without one",
			reconcile.Member{IdempotencyKey: "954fc873-dce4-416c-8692-4043909caba5", KeySources: []string{"event"}, KeyEvidence: reconcile.EvidenceAppKey},
			"a UUID: the application's, or one a Stripe library put on a call sent without a key (Python, Java, .NET do on every POST)"},
		{"a charge event's key without the PaymentIntent's create request is not known",
			reconcile.Member{IdempotencyKey: "browser-1", KeySources: []string{"event"}, KeyEvidence: reconcile.EvidenceUnknown},
			"the confirmation's, not the create call's: not known, as its PaymentIntent's create request is not"},
		{"a charge Stripe Checkout made has no key to know",
			reconcile.Member{CheckoutSession: "cs_test_1", KeyEvidence: reconcile.EvidenceCheckout},
			"key — none: made by Stripe Checkout (session cs_test_1), which created its PaymentIntent"},
		{"a Checkout session without client_reference_id says to set one",
			reconcile.Member{CheckoutSession: "cs_test_1", KeyEvidence: reconcile.EvidenceCheckout},
			"the session has no client_reference_id: set it to the cart id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			styles := DefaultStyles()
			d := newDetailPane(&styles, reconcile.ResumeCommand(reconcile.ResumeTarget{}))
			d.SetSize(400, 40)
			tc.m.ID, tc.m.Amount, tc.m.Currency, tc.m.Created = "ch_a", 2000, "usd", time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC)
			g := reconcile.Group{ID: "grp_ch_a", Amount: 2000, Currency: "usd", Charges: []reconcile.Member{tc.m}}
			if content := d.render(&g, nil); !strings.Contains(content, tc.want) {
				t.Errorf("detail lacks %q:\n%s", tc.want, content)
			}
		})
	}
}
