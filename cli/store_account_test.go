package cli

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/doublecheck-dev/doublecheck/sandbox"
	"github.com/doublecheck-dev/doublecheck/store"
)

// otherAccountProxy forwards to target but answers GET /v1/account as
// another Stripe account, "Other Shop" (acct_2OtherShop): the same sandbox
// data, seen through a second merchant's key.
func otherAccountProxy(t *testing.T, target string) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	forward := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/account" {
			forward.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"acct_2OtherShop","object":"account","settings":{"dashboard":{"display_name":"Other Shop"}}}`)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestSyncRefusesAnotherAccountsStore: a sync into a --db store that holds
// another account's data (another provider's, or another Stripe account's)
// is refused in one sentence naming the store's account and how to choose
// another store, and the store keeps its account and its charges.
func TestSyncRefusesAnotherAccountsStore(t *testing.T) {
	t.Parallel()
	_, sbURL := listenSandbox(t, sandbox.Options{Ordinary: -1, Seed: 5})
	stripeSync := func(base string) []string {
		return []string{"sync", "--since", "90d", "--api-key", sandbox.TestKey, "--api-base", base}
	}
	paypalSync := []string{"sync", "--provider", "paypal", "--paypal-env", "sandbox", "--paypal-base", sbURL}
	paypalName := "PayPal " + sandbox.PayPalAccountNumber + " (sandbox)"
	for _, tc := range []struct {
		name         string
		first, then  []string
		storeAccount string // whose the store is, as the refusal names it
		want         string
	}{
		{"Stripe store, then PayPal", stripeSync(sbURL), paypalSync, sandbox.AccountName,
			"the store %s holds the data of Stripe account " + sandbox.AccountName + ", not of " + paypalName + ": pass --db with another path for " + paypalName + "'s store (or leave --db out for its default store)"},
		{"PayPal store, then Stripe", paypalSync, stripeSync(sbURL), paypalName,
			"the store %s holds the data of " + paypalName + ", not of Stripe account " + sandbox.AccountName + ": pass --db with another path for " + sandbox.AccountName + "'s store (or leave --db out for its default store)"},
		{"two Stripe accounts", stripeSync(sbURL), stripeSync(otherAccountProxy(t, sbURL)), sandbox.AccountName,
			"the store %s holds the data of Stripe account " + sandbox.AccountName + ", not of Stripe account Other Shop: pass --db with another path for Other Shop's store (or leave --db out for its default store)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			db := filepath.Join(t.TempDir(), "mixed.db")
			var out bytes.Buffer
			env := paypalEnv(t, &out, nil)
			if code := Run(context.Background(), append(tc.first, "--db", db), env); code != 0 {
				t.Fatalf("the first sync exited %d:\n%s", code, out.String())
			}
			before := len(storeCharges(t, db))
			out.Reset()
			code := Run(context.Background(), append(tc.then, "--db", db), env)
			want := "doublecheck: " + strings.Replace(tc.want, "%s", db, 1) + ".\n"
			if code == 0 || out.String() != want {
				t.Errorf("the second sync exited %d with:\n%s\nwant non-zero and:\n%s", code, out.String(), want)
			}
			if after := len(storeCharges(t, db)); after != before {
				t.Errorf("the refused sync changed the store's charges: %d, then %d", before, after)
			}
			st, err := store.Open(context.Background(), db)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if name, _, err := storeAccount(context.Background(), st); err != nil || name != tc.storeAccount {
				t.Errorf("the store's account is %q (%v), want %q still", name, err, tc.storeAccount)
			}
		})
	}
}
