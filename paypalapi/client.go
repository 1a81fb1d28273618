// Package paypalapi is doublecheck's PayPal side, and the only importer of
// github.com/plutov/paypal/v4: the client (OAuth2 client credentials), the sync
// through Transaction Search and the refund gateway for captures.
package paypalapi

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	paypal "github.com/plutov/paypal/v4"

	"github.com/doublecheck-dev/doublecheck/internal/endpoint"
	"github.com/doublecheck-dev/doublecheck/internal/redact"
)

// Environment is which PayPal a client talks to. There is no default: live
// and sandbox hold different accounts and money, so the operator says which.
type Environment string

const (
	Sandbox Environment = "sandbox"
	Live    Environment = "live"
)

// Base URLs of PayPal's REST APIs (developer.paypal.com, "Get started":
// api-m.sandbox.paypal.com and api-m.paypal.com; plutov/paypal's own
// constants still name the older api.* hosts).
const (
	SandboxBaseURL = "https://api-m.sandbox.paypal.com"
	LiveBaseURL    = "https://api-m.paypal.com"
)

// Environment variables holding the REST app's credentials.
const (
	EnvClientID = "PAYPAL_CLIENT_ID"
	EnvSecret   = "PAYPAL_CLIENT_SECRET"
)

// ParseEnvironment reads --paypal-env.
func ParseEnvironment(s string) (Environment, error) {
	switch e := Environment(strings.ToLower(strings.TrimSpace(s))); e {
	case Sandbox, Live:
		return e, nil
	case "":
		return "", errors.New("say which PayPal to use: --paypal-env sandbox or --paypal-env live")
	}
	return "", fmt.Errorf("--paypal-env is %q; it must be sandbox or live", s)
}

// Title is how the dashboard and every command name the environment.
func (e Environment) Title() string {
	if e == Live {
		return "PAYPAL LIVE"
	}
	return "PAYPAL SANDBOX"
}

// BaseURL is PayPal's API host for the environment.
func (e Environment) BaseURL() string {
	if e == Live {
		return LiveBaseURL
	}
	return SandboxBaseURL
}

// hosts are PayPal's own API hosts: api-m.paypal.com and api.paypal.com are
// live, api-m.sandbox.paypal.com and api.sandbox.paypal.com the sandbox's
// (developer.paypal.com, "Get started"; plutov/paypal's APIBaseLive and
// APIBaseSandBox). A base URL on one of them must match the environment.
var hosts = endpoint.Provider{Name: "PayPal", Setting: "--paypal-env or PAYPAL_ENV", TestWord: string(Sandbox),
	Platform: func(host string) endpoint.Platform {
		switch {
		case endpoint.Under(host, "sandbox.paypal.com"):
			return endpoint.Test
		case endpoint.Under(host, "paypal.com"):
			return endpoint.Live
		}
		return endpoint.Other
	}}

// Config is what a Client needs. Env is required; BaseURL overrides the
// environment's host (doublecheck's sandbox, a proxy) without changing what
// the environment is called.
type Config struct {
	ClientID, Secret string
	Env              Environment
	BaseURL          string
	HTTPClient       *http.Client // nil: a client with a 30 s timeout per request
}

// Client talks to one PayPal REST app's account.
type Client struct {
	env    Environment
	base   string
	id     string
	secret string
	hc     *http.Client

	// mu guards api: the dashboard syncs and refunds at once, and a token
	// PayPal stopped accepting is dropped by replacing the library's client
	// (its token is not safe to touch while another call uses it).
	mu  sync.RWMutex
	api *paypal.Client

	// tokens are the access tokens the client has sent (noteTokens records
	// them): an answer may echo one, and mask removes them all, since an
	// answer to a request sent before a renewal can carry the older one.
	tokensMu sync.Mutex
	tokens   []string
}

// New builds a client; nothing is sent until a call needs a token.
func New(cfg Config) (*Client, error) {
	switch {
	case cfg.Env != Sandbox && cfg.Env != Live:
		return nil, errors.New("say which PayPal to use: --paypal-env sandbox or --paypal-env live")
	case cfg.ClientID == "" || cfg.Secret == "":
		return nil, fmt.Errorf("PayPal needs a REST app's client id and secret: set %s and %s", EnvClientID, EnvSecret)
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	if base == "" {
		base = cfg.Env.BaseURL()
	}
	if err := hosts.Check(base, cfg.Env == Live); err != nil {
		return nil, err
	}
	hc := &http.Client{Timeout: 30 * time.Second}
	if cfg.HTTPClient != nil {
		copied := *cfg.HTTPClient
		hc = &copied
	}
	c := &Client{env: cfg.Env, base: base, id: cfg.ClientID, secret: cfg.Secret, hc: hc}
	next := hc.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	hc.Transport = noteTokens{next: next, c: c}
	var err error
	if c.api, err = c.newAPI(); err != nil {
		return nil, err
	}
	return c, nil
}

// newAPI is a plutov/paypal client without a token yet.
func (c *Client) newAPI() (*paypal.Client, error) {
	api, err := paypal.NewClient(c.id, c.secret, c.base)
	if err != nil {
		return nil, fmt.Errorf("PayPal client: %w", err)
	}
	api.SetHTTPClient(c.hc)
	return api, nil
}

// Env is the environment the client was told it talks to.
func (c *Client) Env() Environment { return c.env }

// BaseURL is the API host in use.
func (c *Client) BaseURL() string { return c.base }

// noteTokens is the client's transport: it records the access token each
// request carries, for mask.
type noteTokens struct {
	next http.RoundTripper
	c    *Client
}

func (t noteTokens) RoundTrip(r *http.Request) (*http.Response, error) {
	if token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		t.c.tokensMu.Lock()
		if !slices.Contains(t.c.tokens, token) {
			t.c.tokens = append(t.c.tokens, token)
		}
		t.c.tokensMu.Unlock()
	}
	return t.next.RoundTrip(r)
}

// mask removes the client's credentials from s, text taken from an answer
// or a library's error: a server or proxy may echo what it was sent, and
// none of it may reach output, logs or the store. The credentials are the
// client secret, the Basic credential it is sent as (base64 of id:secret)
// and the access tokens sent.
func (c *Client) mask(s string) string {
	c.tokensMu.Lock()
	secrets := append(redact.Secrets{c.secret, base64.StdEncoding.EncodeToString([]byte(c.id + ":" + c.secret))}, c.tokens...)
	c.tokensMu.Unlock()
	return secrets.In(s)
}

// call runs one read request: a 401 on an API call gets one new token (see
// once); a network failure, a 5xx or a 429 is tried up to three times.
func (c *Client) call(ctx context.Context, fn func(*paypal.Client) error) error {
	return c.do(ctx, 3, fn)
}

// once runs a request one time: a refund, whose retries belong to the refund
// protocol (its PayPal-Request-Id makes them safe). Only a 401 on the call
// itself (the token expired early or was revoked) is sent again with a new
// token: PayPal authenticates before it does anything.
func (c *Client) once(ctx context.Context, fn func(*paypal.Client) error) error {
	return c.do(ctx, 1, fn)
}

func (c *Client) do(ctx context.Context, tries int, fn func(*paypal.Client) error) error {
	renewed := false
	for attempt := 1; ; attempt++ {
		c.mu.RLock()
		api := c.api
		c.mu.RUnlock()
		err := fn(api)
		switch {
		case err == nil:
			return nil
		case status(err) == http.StatusUnauthorized && !renewed && !tokenRequest(err):
			// A refused token, not refused credentials: start again without it.
			renewed = true
			fresh, ferr := c.newAPI()
			if ferr != nil {
				return ferr
			}
			c.mu.Lock()
			if c.api == api {
				c.api = fresh
			}
			c.mu.Unlock()
			attempt--
			continue
		case !transient(err) || attempt >= tries || ctx.Err() != nil:
			return c.explain(err)
		}
		select {
		case <-ctx.Done():
			return c.explain(ctx.Err())
		case <-time.After(time.Duration(attempt) * 500 * time.Millisecond):
		}
	}
}

// tokenRequest is whether err is the token endpoint's answer (refused
// credentials), not an API call's.
func tokenRequest(err error) bool {
	var pe *paypal.ErrorResponse
	return errors.As(err, &pe) && pe.Response != nil && pe.Response.Request != nil &&
		strings.HasSuffix(pe.Response.Request.URL.Path, "/v1/oauth2/token")
}

// status is the HTTP status of PayPal's answer, 0 when none came.
func status(err error) int {
	var pe *paypal.ErrorResponse
	if errors.As(err, &pe) && pe.Response != nil {
		return pe.Response.StatusCode
	}
	return 0
}

// transient: no answer (network, timeout), a 5xx, a 429, or 409 (a previous
// request with the same PayPal-Request-Id still in progress).
func transient(err error) bool {
	switch s := status(err); {
	case s == 0:
		var pe *paypal.ErrorResponse
		return !errors.As(err, &pe)
	case s >= 500, s == http.StatusTooManyRequests, s == http.StatusConflict:
		return true
	}
	return false
}

// APIError is PayPal's refusal, in its own words, every field masked (see mask).
type APIError struct {
	Status  int
	Name    string // e.g. UNPROCESSABLE_ENTITY, INVALID_REQUEST, or invalid_client for the token
	Issue   string // the first detail's issue, e.g. REFUND_AMOUNT_EXCEEDED
	Message string
	err     error
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("PayPal answered %d %s", e.Status, e.Name)
	if e.Issue != "" {
		msg += " (" + e.Issue + ")"
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

func (e *APIError) Unwrap() error { return e.err }

// explain turns plutov/paypal's error into an APIError (or a masked network
// error); plutov's own Error() prints the request URL and details verbatim.
func (c *Client) explain(err error) error {
	var pe *paypal.ErrorResponse
	if !errors.As(err, &pe) || pe.Response == nil {
		return &maskedError{msg: c.mask(err.Error()), err: err}
	}
	e := &APIError{Status: pe.Response.StatusCode, Name: pe.Name, Message: pe.Message, err: err}
	if len(pe.Details) > 0 {
		e.Issue = pe.Details[0].Issue
		if d := pe.Details[0].Description; d != "" {
			e.Message = d
		}
	}
	if e.Status == http.StatusUnauthorized {
		e.Name = "AUTHENTICATION_FAILURE"
		e.Message = fmt.Sprintf("PayPal refused the client id and secret (%s); check %s and %s, and that they belong to the %s environment",
			c.env, EnvClientID, EnvSecret, c.env)
	}
	c.maskFields(e)
	return e
}

// maskFields masks every text of e, which PayPal's answer wrote.
func (c *Client) maskFields(e *APIError) {
	e.Name, e.Issue, e.Message = c.mask(e.Name), c.mask(e.Issue), c.mask(e.Message)
}

// maskedError is a failure without an answer from PayPal, its text masked.
type maskedError struct {
	msg string
	err error
}

func (e *maskedError) Error() string { return e.msg }
func (e *maskedError) Unwrap() error { return e.err }

// Account is the merchant account number the app's credentials open, as
// Transaction Search reports it (account_number): one request for the first
// row of a recent window. It names the account's store. Without the
// Transaction Search permission PayPal refuses it (403); PayPal says enabling
// it may take up to nine hours.
//
// PayPal refuses a start_date its reporting has not refreshed to yet ("Data
// for the given start date is not available."), and its reporting can be a
// day or more behind; the lookup then steps back to a window starting three
// days, then 31 days (the widest PayPal takes) ago, so every command keeps
// working while the data is late. It does not fall back on an account
// remembered for the credentials instead: that would name a store from what
// the credentials opened once, not from what PayPal says they open now.
func (c *Client) Account(ctx context.Context, now time.Time) (string, error) {
	now = now.UTC().Truncate(time.Second)
	var resp *paypal.TransactionSearchResponse
	var err error
	for _, back := range accountWindows {
		resp, err = c.listPage(ctx, now.Add(-back), now, 1, 1)
		if !notRefreshed(err) {
			break
		}
	}
	switch {
	case notRefreshed(err):
		return "", fmt.Errorf("ask PayPal whose account the credentials open: PayPal's reporting is more than %d days behind (%w); try again later", int(MaxWindow/(24*time.Hour)), err)
	case err != nil:
		return "", fmt.Errorf("ask PayPal whose account the credentials open: %w", err)
	case resp.AccountNumber == "":
		return "", errors.New("PayPal's transaction search did not name the merchant account")
	}
	return resp.AccountNumber, nil
}

// accountWindows are how far back Account's window starts, tried in turn
// while PayPal answers that its data does not reach the start yet.
var accountWindows = []time.Duration{24 * time.Hour, 3 * 24 * time.Hour, MaxWindow}
