package stripeapi

import (
	"strings"
	"testing"

	"github.com/stripe/stripe-go/v76"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// stripe-go's own keys, straight from the library: every one is recognised as
// a library's key, those with - or _ in their random part included.
func TestStripeGoKeysAreLibraryKeys(t *testing.T) {
	special := 0
	for range 20000 {
		key := stripe.NewIdempotencyKey()
		if !reconcile.LibraryGeneratedKey(key) {
			t.Fatalf("LibraryGeneratedKey(%q) = false for stripe-go's NewIdempotencyKey", key)
		}
		if strings.ContainsAny(key[20:], "-_") {
			special++
		}
	}
	// About one in six has - or _ (4 random bytes → 6 of 64 characters, 2 of
	// which are - and _); none would mean the samples miss the hard case.
	if special == 0 {
		t.Error("no sampled key had - or _ in its random part")
	}
}
