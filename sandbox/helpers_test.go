package sandbox

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)

// start runs a sandbox with a frozen clock behind httptest.
func start(t *testing.T, opts Options) (*Server, *httptest.Server) {
	t.Helper()
	if opts.Now.IsZero() {
		opts.Now = testNow
	}
	s := New(opts)
	ts := httptest.NewServer(s)
	t.Cleanup(func() {
		s.Close() // release hanging requests first, or ts.Close would wait for them
		ts.Close()
	})
	return s, ts
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

// request sends one API call with the given key ("" → no Authorization).
// GET params go in the query string, POST params in a form body, as stripe-go does.
func request(t *testing.T, ts *httptest.Server, method, path, key string, params url.Values, header map[string]string) reply {
	t.Helper()
	rep, err := requestCtx(context.Background(), ts.URL, method, path, key, params, header)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return rep
}

func requestCtx(ctx context.Context, base, method, path, key string, params url.Values, header map[string]string) (reply, error) {
	var body io.Reader
	target := base + path
	if method == http.MethodGet && len(params) > 0 {
		target += "?" + params.Encode()
	} else if len(params) > 0 {
		body = strings.NewReader(params.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return reply{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, err
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

func get(t *testing.T, ts *httptest.Server, path string, params url.Values) reply {
	t.Helper()
	return request(t, ts, http.MethodGet, path, TestKey, params, nil)
}

// testCharge is the subset of Stripe's charge the tests look at.
type testCharge struct {
	ID             string            `json:"id"`
	Object         string            `json:"object"`
	Amount         int64             `json:"amount"`
	AmountCaptured int64             `json:"amount_captured"`
	AmountRefunded int64             `json:"amount_refunded"`
	Captured       bool              `json:"captured"`
	Created        int64             `json:"created"`
	Currency       string            `json:"currency"`
	Customer       *string           `json:"customer"`
	Disputed       bool              `json:"disputed"`
	Invoice        *string           `json:"invoice"`
	Livemode       bool              `json:"livemode"`
	Metadata       map[string]string `json:"metadata"`
	PaymentIntent  string            `json:"payment_intent"`
	ReceiptEmail   string            `json:"receipt_email"`
	Refunded       bool              `json:"refunded"`
	Status         string            `json:"status"`
	BillingDetails struct {
		Email string `json:"email"`
	} `json:"billing_details"`
	PaymentMethodDetails struct {
		Card struct {
			Brand       string `json:"brand"`
			Last4       string `json:"last4"`
			Fingerprint string `json:"fingerprint"`
		} `json:"card"`
	} `json:"payment_method_details"`
}

type testEvent struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Type    string `json:"type"`
	Created int64  `json:"created"`
	Request struct {
		ID             *string `json:"id"`
		IdempotencyKey *string `json:"idempotency_key"`
	} `json:"request"`
	Data struct {
		Object             json.RawMessage `json:"object"`
		PreviousAttributes map[string]any  `json:"previous_attributes"`
	} `json:"data"`
}

type testList[T any] struct {
	Object  string `json:"object"`
	Data    []T    `json:"data"`
	HasMore bool   `json:"has_more"`
	URL     string `json:"url"`
}

type testError struct {
	Error struct {
		Type    string `json:"type"`
		Code    string `json:"code"`
		Message string `json:"message"`
		Param   string `json:"param"`
	} `json:"error"`
}

func decodeRaw[T any](t *testing.T, raw []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("decode %T from %s: %v", v, raw, err)
	}
	return v
}

func decode[T any](t *testing.T, rep reply) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(rep.body, &v); err != nil {
		t.Fatalf("decode %T from %d %s: %v", v, rep.status, rep.body, err)
	}
	return v
}

// walk pages through a list endpoint with starting_after and returns every item.
func walk[T interface{ id() string }](t *testing.T, ts *httptest.Server, path string, params url.Values, limit int) []T {
	t.Helper()
	var all []T
	q := url.Values{}
	for k, v := range params {
		q[k] = v
	}
	q.Set("limit", strconv.Itoa(limit))
	for pages := 0; ; pages++ {
		if pages > 10000 {
			t.Fatal("paging does not end")
		}
		rep := get(t, ts, path, q)
		if rep.status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, rep.status, rep.body)
		}
		page := decode[testList[T]](t, rep)
		if len(page.Data) > limit {
			t.Fatalf("page of %d items for limit %d", len(page.Data), limit)
		}
		all = append(all, page.Data...)
		if !page.HasMore {
			return all
		}
		if len(page.Data) == 0 {
			t.Fatal("has_more with an empty page")
		}
		q.Set("starting_after", page.Data[len(page.Data)-1].id())
	}
}

func (c testCharge) id() string { return c.ID }
func (e testEvent) id() string  { return e.ID }

// allCharges decodes the server's charges, newest first.
func allCharges(t *testing.T, s *Server) []testCharge {
	t.Helper()
	raw := s.Charges()
	out := make([]testCharge, len(raw))
	for i, r := range raw {
		if err := json.Unmarshal(r, &out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func chargeByID(t *testing.T, s *Server, id string) testCharge {
	t.Helper()
	raw, ok := s.ChargeJSON(id)
	if !ok {
		t.Fatalf("no charge %s", id)
	}
	var c testCharge
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c
}
