package sandbox

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestAuth(t *testing.T) {
	_, ts := start(t, Options{Seed: 1, Ordinary: 50})
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(TestKey+":"))
	tests := []struct {
		name       string
		method     string
		path       string
		key        string
		header     map[string]string
		wantStatus int
		wantType   string
	}{
		{"no key", "GET", "/v1/charges", "", nil, 401, "invalid_request_error"},
		{"unknown key", "GET", "/v1/charges", "sk_test_wrong_secret_1234", nil, 401, "invalid_request_error"},
		{"test key", "GET", "/v1/charges", TestKey, nil, 200, ""},
		{"live key", "GET", "/v1/charges", LiveKey, nil, 200, ""},
		{"basic auth", "GET", "/v1/charges", "", map[string]string{"Authorization": basic}, 200, ""},
		{"no-read key on charges", "GET", "/v1/charges", NoReadKey, nil, 403, "permission_error"},
		{"no-read key on a charge", "GET", "/v1/charges/ch_x", NoReadKey, nil, 403, "permission_error"},
		{"no-read key on events", "GET", "/v1/events", NoReadKey, nil, 403, "permission_error"},
		{"no-read key on account: no restricted key reads it", "GET", "/v1/account", NoReadKey, nil, 403, "invalid_request_error"},
		{"no-refund key reads", "GET", "/v1/charges", NoRefundKey, nil, 200, ""},
		{"no-refund key reads events", "GET", "/v1/events", NoRefundKey, nil, 200, ""},
		{"no-refund key refunds", "POST", "/v1/refunds", NoRefundKey, nil, 403, "permission_error"},
		{"unknown path", "GET", "/v1/customers", TestKey, nil, 404, "invalid_request_error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := request(t, ts, tt.method, tt.path, tt.key, nil, tt.header)
			if rep.status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", rep.status, tt.wantStatus, rep.body)
			}
			if rep.header.Get("Request-Id") == "" || !strings.HasPrefix(rep.header.Get("Request-Id"), "req_") {
				t.Errorf("Request-Id header %q", rep.header.Get("Request-Id"))
			}
			if tt.wantType != "" {
				e := decode[testError](t, rep)
				if e.Error.Type != tt.wantType || e.Error.Message == "" {
					t.Errorf("error %+v, want type %s with a message", e.Error, tt.wantType)
				}
			}
			if strings.Contains(string(rep.body), "wrong_secret") || strings.Contains(string(rep.body), "noread") {
				t.Errorf("the response echoes the key: %s", rep.body)
			}
		})
	}
}

func TestLivemodeFollowsKey(t *testing.T) {
	_, ts := start(t, Options{Seed: 1, Ordinary: 20})
	for _, tt := range []struct {
		key  string
		live bool
	}{{TestKey, false}, {LiveKey, true}} {
		rep := request(t, ts, "GET", "/v1/charges", tt.key, url.Values{"limit": {"5"}}, nil)
		for _, c := range decode[testList[testCharge]](t, rep).Data {
			if c.Livemode != tt.live {
				t.Errorf("key %s: charge %s livemode=%v", tt.key[:8], c.ID, c.Livemode)
			}
		}
	}
}

type testAccount struct {
	ID              string `json:"id"`
	Object          string `json:"object"`
	BusinessProfile struct {
		Name string `json:"name"`
	} `json:"business_profile"`
	Settings struct {
		Dashboard struct {
			DisplayName string `json:"display_name"`
		} `json:"dashboard"`
	} `json:"settings"`
}

func TestAccount(t *testing.T) {
	_, ts := start(t, Options{Seed: 1, Ordinary: 10})
	acct := decode[testAccount](t, get(t, ts, "/v1/account", nil))
	if acct.ID != AccountID || acct.Object != "account" || acct.BusinessProfile.Name != AccountName ||
		acct.Settings.Dashboard.DisplayName != AccountName {
		t.Errorf("account %+v", acct)
	}
}

// Stripe refuses GET /v1/account to every restricted key, whatever its
// permissions, and names the account in the message; a server without the
// endpoint answers 404.
func TestAccountRefusedToRestrictedKeys(t *testing.T) {
	_, ts := start(t, Options{Seed: 1, Ordinary: 10})
	for _, key := range []string{RestrictedKey, NoReadKey, NoRefundKey} {
		rep := request(t, ts, http.MethodGet, "/v1/account", key, nil, nil)
		e := decode[testError](t, rep).Error
		// Stripe's wording as of 2025 (stripe-node issue #2246).
		if rep.status != http.StatusForbidden || !strings.Contains(e.Message, "on account '"+AccountID+"'. Having the 'rak_accounts_kyc_id_numbers_read' permission would allow this request to continue.") ||
			strings.Contains(e.Message, key) {
			t.Errorf("%s: HTTP %d %+v", key, rep.status, e)
		}
	}
	if rep := request(t, ts, http.MethodGet, "/v1/charges", RestrictedKey, nil, nil); rep.status != http.StatusOK {
		t.Errorf("the restricted key cannot list charges: HTTP %d", rep.status)
	}
	_, none := start(t, Options{Seed: 1, Ordinary: 10, NoAccount: true})
	if rep := request(t, none, http.MethodGet, "/v1/account", TestKey, nil, nil); rep.status != http.StatusNotFound {
		t.Errorf("NoAccount: HTTP %d, want 404", rep.status)
	}
}

// TestChargesPaging walks every page at several sizes: each charge exactly once,
// newest first with ties by id, and the same set as the server holds.
func TestChargesPaging(t *testing.T) {
	s, ts := start(t, Options{Seed: 7, Ordinary: 400})
	want := allCharges(t, s)
	for _, limit := range []int{1, 7, 100} {
		t.Run("limit "+strconv.Itoa(limit), func(t *testing.T) {
			got := walk[testCharge](t, ts, "/v1/charges", nil, limit)
			if len(got) != len(want) {
				t.Fatalf("walked %d charges, server has %d", len(got), len(want))
			}
			seen := map[string]bool{}
			for i, c := range got {
				if seen[c.ID] {
					t.Fatalf("charge %s listed twice", c.ID)
				}
				seen[c.ID] = true
				if i > 0 {
					prev := got[i-1]
					if prev.Created < c.Created || (prev.Created == c.Created && prev.ID <= c.ID) {
						t.Fatalf("not newest first at %d: %s(%d) then %s(%d)", i, prev.ID, prev.Created, c.ID, c.Created)
					}
				}
				if c.ID != want[i].ID {
					t.Fatalf("position %d: %s, want %s", i, c.ID, want[i].ID)
				}
			}
		})
	}
}

func TestChargesEndingBefore(t *testing.T) {
	s, ts := start(t, Options{Seed: 7, Ordinary: 100})
	all := allCharges(t, s)
	ids := func(cs []testCharge) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return out
	}
	tests := []struct {
		name        string
		cursor      int // index of the ending_before charge
		limit       int
		wantFrom    int
		wantHasMore bool
	}{
		{"middle", 30, 10, 20, true},
		{"reaches the newest", 5, 10, 0, false},
		{"exactly the newest", 10, 10, 0, false},
		{"newest cursor", 0, 10, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := get(t, ts, "/v1/charges", url.Values{"ending_before": {all[tt.cursor].ID}, "limit": {strconv.Itoa(tt.limit)}})
			page := decode[testList[testCharge]](t, rep)
			want := ids(all[tt.wantFrom:tt.cursor])
			if !slices.Equal(ids(page.Data), want) || page.HasMore != tt.wantHasMore {
				t.Errorf("got %v has_more=%v, want %v has_more=%v", ids(page.Data), page.HasMore, want, tt.wantHasMore)
			}
		})
	}
}

func TestChargesCreatedFilters(t *testing.T) {
	s, ts := start(t, Options{Seed: 3, Ordinary: 300})
	all := allCharges(t, s)
	mid := all[len(all)/2].Created
	older := all[len(all)*3/4].Created
	tests := []struct {
		params url.Values
		keep   func(created int64) bool
	}{
		{url.Values{"created[gt]": {i64(mid)}}, func(c int64) bool { return c > mid }},
		{url.Values{"created[gte]": {i64(mid)}}, func(c int64) bool { return c >= mid }},
		{url.Values{"created[lt]": {i64(mid)}}, func(c int64) bool { return c < mid }},
		{url.Values{"created[lte]": {i64(mid)}}, func(c int64) bool { return c <= mid }},
		{url.Values{"created": {i64(mid)}}, func(c int64) bool { return c == mid }},
		{url.Values{"created[gte]": {i64(older)}, "created[lt]": {i64(mid)}}, func(c int64) bool { return c >= older && c < mid }},
		{url.Values{"created[gt]": {i64(testNow.Unix())}}, func(c int64) bool { return false }},
	}
	for _, tt := range tests {
		t.Run(tt.params.Encode(), func(t *testing.T) {
			var want []string
			for _, c := range all {
				if tt.keep(c.Created) {
					want = append(want, c.ID)
				}
			}
			var got []string
			for _, c := range walk[testCharge](t, ts, "/v1/charges", tt.params, 50) {
				got = append(got, c.ID)
			}
			if !slices.Equal(got, want) {
				t.Errorf("got %d charges, want %d", len(got), len(want))
			}
		})
	}
}

func i64(n int64) string { return strconv.FormatInt(n, 10) }

func TestListParameterErrors(t *testing.T) {
	s, ts := start(t, Options{Seed: 3, Ordinary: 30})
	someID := allCharges(t, s)[3].ID
	tests := []struct {
		name       string
		path       string
		params     url.Values
		wantStatus int
		wantParam  string
		wantCode   string
	}{
		{"limit 0", "/v1/charges", url.Values{"limit": {"0"}}, 400, "limit", ""},
		{"limit 101", "/v1/charges", url.Values{"limit": {"101"}}, 400, "limit", ""},
		{"limit text", "/v1/charges", url.Values{"limit": {"ten"}}, 400, "limit", "parameter_invalid_integer"},
		{"created text", "/v1/charges", url.Values{"created[gte]": {"yesterday"}}, 400, "created[gte]", "parameter_invalid_integer"},
		{"unknown parameter", "/v1/charges", url.Values{"colour": {"red"}}, 400, "colour", "parameter_unknown"},
		{"unknown cursor", "/v1/charges", url.Values{"starting_after": {"ch_nope"}}, 400, "starting_after", "resource_missing"},
		{"both cursors", "/v1/charges", url.Values{"starting_after": {someID}, "ending_before": {someID}}, 400, "ending_before", ""},
		{"expand is ignored", "/v1/charges", url.Values{"expand[]": {"data.customer"}}, 200, "", ""},
		{"indexed expand is ignored", "/v1/charges", url.Values{"expand[0]": {"data.balance_transaction"}}, 200, "", ""},
		{"limit 100", "/v1/charges", url.Values{"limit": {"100"}}, 200, "", ""},
		{"missing charge", "/v1/charges/ch_nope", nil, 404, "id", "resource_missing"},
		{"type and types", "/v1/events", url.Values{"type": {"charge.failed"}, "types[]": {"charge.succeeded"}}, 400, "types", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := get(t, ts, tt.path, tt.params)
			if rep.status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", rep.status, tt.wantStatus, rep.body)
			}
			if tt.wantStatus == 200 {
				return
			}
			e := decode[testError](t, rep)
			if e.Error.Type != "invalid_request_error" || e.Error.Param != tt.wantParam || e.Error.Code != tt.wantCode {
				t.Errorf("error %+v, want param %q code %q", e.Error, tt.wantParam, tt.wantCode)
			}
		})
	}
}

func TestGetChargeMatchesList(t *testing.T) {
	_, ts := start(t, Options{Seed: 3, Ordinary: 30})
	page := decode[testList[testCharge]](t, get(t, ts, "/v1/charges", url.Values{"limit": {"3"}}))
	if page.Object != "list" || page.URL != "/v1/charges" || len(page.Data) != 3 {
		t.Fatalf("list envelope %+v", page)
	}
	for _, c := range page.Data {
		one := decode[testCharge](t, get(t, ts, "/v1/charges/"+c.ID, nil))
		if one.ID != c.ID || one.Amount != c.Amount || one.Created != c.Created || one.Object != "charge" {
			t.Errorf("retrieve %s gives %+v", c.ID, one)
		}
	}
}

func TestCustomerFilter(t *testing.T) {
	s, ts := start(t, Options{Seed: 3, Ordinary: 200})
	var customer string
	for _, c := range allCharges(t, s) {
		if c.Customer != nil {
			customer = *c.Customer
			break
		}
	}
	got := walk[testCharge](t, ts, "/v1/charges", url.Values{"customer": {customer}}, 100)
	if len(got) == 0 {
		t.Fatal("no charges for a customer that has some")
	}
	for _, c := range got {
		if c.Customer == nil || *c.Customer != customer {
			t.Errorf("charge %s of customer %v listed for %s", c.ID, c.Customer, customer)
		}
	}
}

func TestStatsCountRequests(t *testing.T) {
	s, ts := start(t, Options{Seed: 3, Ordinary: 10})
	get(t, ts, "/v1/charges", nil)
	get(t, ts, "/v1/charges", nil)
	get(t, ts, "/v1/charges/ch_nope", nil)
	st := s.Stats()
	if st.Requests != 3 || st.ByPath["GET /v1/charges"] != 2 || st.ByPath["GET /v1/charges/{id}"] != 1 ||
		st.ByStatus[http.StatusNotFound] != 1 {
		t.Errorf("stats %+v", st)
	}
}
