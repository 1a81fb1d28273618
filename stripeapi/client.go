package stripeapi

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	stripe "github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"
)

// Default request rates: a client-side budget that leaves most of Stripe's
// per-account limit (25 req/s in test mode, 100 in live mode) to production
// traffic.
const (
	DefaultTestRate = 10.0
	DefaultLiveRate = 20.0
)

const (
	requestTimeout = 30 * time.Second
	maxAttempts    = 8 // one request and seven retries: about half a minute of backoff
	retryBase      = 500 * time.Millisecond
	retryCap       = 10 * time.Second
	retryAfterCap  = time.Minute // the longest Retry-After honoured
	// accountLookupTimeout bounds Account's single attempt.
	accountLookupTimeout = 5 * time.Second
)

// Client talks to Stripe (or any Stripe-compatible server) with one key. Every
// request goes through call: the shared pacer, then retries with backoff
// for 429s, 5xx and network failures. It is safe for concurrent use.
type Client struct {
	key     Key
	base    string // "" is Stripe itself
	api     *client.API
	backend stripe.Backend
	http    *http.Client // its Timeout bounds each request

	pace *pacer // spaces every request; adapts to the server's 429s

	syncMu sync.Mutex // one Sync at a time: two would race for the same plan

	retryBase time.Duration // first backoff; tests shorten it

	requests atomic.Int64 // HTTP requests sent, retries included
	retries  atomic.Int64
}

// NewClient builds a client for key against apiBase ("" for api.stripe.com).
// stripe-go's own retries are off (its backoff sleeps ignore the context and it
// does not retry a plain 429): call retries instead. Its logger is silenced, so
// nothing it does can print the key.
func NewClient(key Key, apiBase string) *Client {
	// Every worker of a sync (two lists of up to maxConcurrency each) keeps its
	// connection between pages: Go's default keeps two idle connections a
	// host, so the others would be closed after each page and dialled again,
	// a TLS handshake each against Stripe, and a request's departure would
	// wander by the dial's time, which a strict limiter counts.
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 2 * maxConcurrency
	httpClient := &http.Client{Timeout: requestTimeout, Transport: adviceTransport{next: transport}}
	cfg := &stripe.BackendConfig{
		HTTPClient:        httpClient,
		MaxNetworkRetries: stripe.Int64(0),
		LeveledLogger:     &stripe.LeveledLogger{Level: stripe.LevelNull},
	}
	if apiBase != "" {
		cfg.URL = stripe.String(apiBase)
	}
	backend := stripe.GetBackendWithConfig(stripe.APIBackend, cfg)
	limit := DefaultTestRate
	if key.Live {
		limit = DefaultLiveRate
	}
	c := &Client{
		key:       key,
		base:      apiBase,
		api:       client.New(key.Secret, &stripe.Backends{API: backend, Connect: backend, Uploads: backend}),
		backend:   backend,
		http:      httpClient,
		pace:      newPacer(limit),
		retryBase: retryBase,
	}
	return c
}

// Key is the key the client uses.
func (c *Client) Key() Key { return c.key }

// Live reports whether the client works on live-mode data.
func (c *Client) Live() bool { return c.key.Live }

// APIBase is the server the client talks to, for messages.
func (c *Client) APIBase() string {
	if c.base == "" {
		return stripe.APIURL
	}
	return c.base
}

// Format keeps %v and friends from printing the key held inside the client.
func (c *Client) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "stripeapi.Client{%s at %s}", c.key.Redacted(), c.APIBase())
}

// SetRate changes the client-side request budget (requests per second).
func (c *Client) SetRate(perSecond float64) {
	if perSecond > 0 {
		c.pace.setTarget(perSecond)
	}
}

// Account is who the key belongs to.
type Account struct {
	ID   string // "" when the server would not say
	Name string // the dashboard display name, else the business name, else the email, else ID
	Live bool
	// Unknown says what the lookup could not learn, as a phrase ("the
	// account's name: …"); "" when it learned everything. It is not remembered.
	Unknown string `json:"-"`
}

// accountRE finds the account Stripe names in a restricted key's 403; a masked
// id ("acct_1AbC***") does not match.
var accountRE = regexp.MustCompile(`on account '(acct_[A-Za-z0-9]+)'`)

// Account asks Stripe whose account the key opens. The lookup is best effort:
// Stripe answers GET /v1/account with 403 to every restricted key, whatever its
// permissions (dj-stripe PR #1131, stripe-node issue #2246), but names the
// account in the message, and some Stripe-compatible servers have no such
// endpoint (404). Both return what is known, with Unknown saying what is not;
// a rejected key (401) and every other failure are errors. It is one attempt
// of at most accountLookupTimeout, never retried: every command, a refund
// resume included, starts with it, and what it learns is a nicety.
func (c *Client) Account(ctx context.Context) (Account, error) {
	var acct stripe.Account
	lookupCtx, cancel := context.WithTimeout(ctx, accountLookupTimeout)
	defer cancel()
	params := &stripe.AccountParams{}
	_, err := c.send(lookupCtx, func(ctx context.Context) error {
		params.Context = ctx
		return c.backend.Call(http.MethodGet, "/v1/account", c.key.Secret, params, &acct)
	})
	var se *stripe.Error
	switch {
	case err != nil && ctx.Err() != nil:
		return Account{}, ctx.Err()
	case err != nil && lookupCtx.Err() != nil:
		err = &apiError{kind: ErrUnreachable, err: err, msg: fmt.Sprintf("no answer from %s within %s", c.APIBase(), accountLookupTimeout)}
	case errors.As(err, &se) && (se.HTTPStatusCode >= 500 || se.HTTPStatusCode == http.StatusTooManyRequests):
		kind := ErrServer
		if se.HTTPStatusCode == http.StatusTooManyRequests {
			kind = ErrRateLimited
		}
		err = &apiError{kind: kind, err: err, msg: fmt.Sprintf("%s answered HTTP %d", c.APIBase(), se.HTTPStatusCode)}
	}
	err = c.explain(err, 1)
	switch {
	case errors.Is(err, ErrPermission) && errors.As(err, &se):
		if m := accountRE.FindStringSubmatch(se.Msg); m != nil {
			return Account{ID: m[1], Name: m[1], Live: c.key.Live,
				Unknown: "the account's name (Stripe never shows it to a restricted key)"}, nil
		}
		return Account{Live: c.key.Live, Unknown: "which account the key opens (Stripe never shows it to a restricted key)"}, nil
	case errors.Is(err, ErrNotFound):
		return Account{Live: c.key.Live, Unknown: fmt.Sprintf("which account the key opens (%s has no /v1/account)", c.APIBase())}, nil
	case err != nil:
		return Account{}, fmt.Errorf("look up the account: %w", err)
	}
	name := acct.ID
	switch {
	case acct.Settings != nil && acct.Settings.Dashboard != nil && acct.Settings.Dashboard.DisplayName != "":
		name = acct.Settings.Dashboard.DisplayName
	case acct.BusinessProfile != nil && acct.BusinessProfile.Name != "":
		name = acct.BusinessProfile.Name
	case acct.Email != "":
		name = acct.Email
	}
	return Account{ID: acct.ID, Name: name, Live: c.key.Live}, nil
}

// getCharge retrieves one charge.
func (c *Client) getCharge(ctx context.Context, id string) (*stripe.Charge, error) {
	params := &stripe.ChargeParams{}
	var ch *stripe.Charge
	err := c.call(ctx, func(ctx context.Context) (err error) {
		params.Context = ctx
		ch, err = c.api.Charges.Get(id, params)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("retrieve charge %s: %w", id, err)
	}
	return ch, nil
}

// call runs one Stripe request at the pacer's pace, retrying what may
// succeed on a second try: 429 (Stripe's rate limit or a lock timeout), 409,
// 5xx and network failures, with exponential backoff and jitter, at most
// maxAttempts times and never past ctx. A POST is safe to retry only with an
// idempotency key, which every POST doublecheck sends carries. request must
// send with the context it is given (stripe-go's Params.Context), which
// tells the pacer when the request left. The error call returns is explained
// (see explain) and unwraps to stripe-go's *stripe.Error.
//
// The server's advice overrides the status, as in stripe-go's shouldRetry
// (stripe.go, v76): "Stripe-Should-Retry: false" is never retried, "true"
// always is. A Retry-After of seconds lengthens the wait before the retry
// (up to retryAfterCap); Stripe itself does not send it (stripe-node pull
// request 2781), a Stripe-compatible server may.
func (c *Client) call(ctx context.Context, request func(context.Context) error) error {
	var (
		err      error
		advice   retryAdvice
		attempts int
		atEdge   bool
	)
	for attempts < maxAttempts {
		attempt := attempts
		attempts++
		if attempt > 0 {
			c.retries.Add(1)
			wait := max(backoff(c.retryBase, attempt), min(advice.after, retryAfterCap))
			if atEdge && attempt == 1 && advice.after == 0 {
				// Refused at the pacer's window's edge: the pacer has
				// widened its margin for every request, and a backoff on
				// top would only leave this slice's pages behind the others.
				wait = 0
			}
			if werr := sleep(ctx, wait); werr != nil {
				return werr
			}
		}
		advice = retryAdvice{}
		atEdge, err = c.send(context.WithValue(ctx, adviceKey{}, &advice), request)
		if err == nil || ctx.Err() != nil || advice.should == "false" ||
			advice.should != "true" && !retryable(ctx, err) {
			break
		}
	}
	if err != nil && ctx.Err() != nil {
		return ctx.Err() // the caller gave up; that is the whole story
	}
	return c.explain(err, attempts)
}

// send makes one attempt of request in its turn (see pacer.wait; ctx may
// carry a priority, see withPriority) and reports the answer to the pacer.
// It says whether a 429 came at the pacer's window's edge (see
// pacer.report).
func (c *Client) send(ctx context.Context, request func(context.Context) error) (atEdge bool, err error) {
	t, err := c.pace.wait(ctx, priorityOf(ctx))
	if err != nil {
		return false, err
	}
	c.requests.Add(1)
	err = request(c.pace.traced(ctx, t))
	return c.pace.report(t, rateLimited(err), answered(err)), err
}

// retryAdvice is what a server's answer said about sending the request again.
type retryAdvice struct {
	should string        // Stripe-Should-Retry: "true", "false" or ""
	after  time.Duration // Retry-After, when given in seconds
}

type adviceKey struct{}

// adviceTransport reads the retry headers of each answer into the
// retryAdvice its request's context carries (see call): stripe-go's errors
// keep no headers.
type adviceTransport struct{ next http.RoundTripper }

func (t adviceTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if a, ok := req.Context().Value(adviceKey{}).(*retryAdvice); ok && resp != nil {
		a.should = resp.Header.Get("Stripe-Should-Retry")
		if secs, perr := strconv.Atoi(resp.Header.Get("Retry-After")); perr == nil && secs > 0 {
			a.after = time.Duration(secs) * time.Second
		}
	}
	return resp, err
}

// rateLimited reports whether err is Stripe's rate limit. A 429 lock_timeout
// is about one object, not the rate, and stripe-go retries it as such
// (BackendImplementation.shouldRetry in stripe-go v76's stripe.go).
func rateLimited(err error) bool {
	var se *stripe.Error
	return errors.As(err, &se) && se.HTTPStatusCode == http.StatusTooManyRequests && se.Code != stripe.ErrorCodeLockTimeout
}

// answered reports whether the server answered without refusing for the rate.
func answered(err error) bool {
	var se *stripe.Error
	return err == nil || errors.As(err, &se) && se.HTTPStatusCode != http.StatusTooManyRequests
}

// backoff is the wait before retry number attempt: exponential from base,
// capped, with jitter (50–100%) so parallel workers do not retry in lockstep.
func backoff(base time.Duration, attempt int) time.Duration {
	d := base << (attempt - 1)
	if d > retryCap || d <= 0 {
		d = retryCap
	}
	return d/2 + rand.N(d/2+1)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// retryable reports whether a failed request may succeed if sent again.
func retryable(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var se *stripe.Error
	if errors.As(err, &se) {
		return se.HTTPStatusCode == http.StatusTooManyRequests || se.HTTPStatusCode == http.StatusConflict ||
			se.HTTPStatusCode >= 500
	}
	var ue *url.Error
	if errors.As(err, &ue) && strings.Contains(ue.Err.Error(), "unsupported protocol scheme") {
		return false // a mistyped --api-base never gets better
	}
	return true // no answer: connection refused or reset, timeout, a garbled response
}

// Kinds of Stripe failure callers may want to tell apart (errors.Is).
var (
	ErrBadKey      = errors.New("Stripe rejected the API key")
	ErrPermission  = errors.New("the restricted key lacks a permission")
	ErrUnreachable = errors.New("cannot reach Stripe")
	ErrRateLimited = errors.New("Stripe is rate limiting the key")
	ErrServer      = errors.New("Stripe had a server error")
	ErrNotFound    = errors.New("not found on the server")
	ErrRefused     = errors.New("Stripe refused the request")
)

// apiError is a Stripe failure explained in one sentence. It unwraps to the
// original error (stripe-go's *stripe.Error when Stripe answered) and matches its
// kind with errors.Is.
type apiError struct {
	kind error
	msg  string
	err  error
}

func (e *apiError) Error() string        { return e.msg }
func (e *apiError) Unwrap() error        { return e.err }
func (e *apiError) Is(target error) bool { return target == e.kind }

// permissionRE finds the permission Stripe names in a restricted key's 403.
var permissionRE = regexp.MustCompile(`'(rak_[a-z0-9_]+)'`)

// permissionNames say which Dashboard setting grants a restricted-key permission.
var permissionNames = map[string]string{
	"rak_charge_read":  "Charges: Read",
	"rak_charge_write": "Charges: Write",
	"rak_refund_read":  "Refunds: Read",
	"rak_refund_write": "Refunds: Write",
	"rak_event_read":   "Events: Read",
	"rak_dispute_read": "Disputes: Read",
	// The ids Stripe's Dashboard takes for these (apikeys/create?permissions[]=…).
	"rak_payment_intent_read":   "PaymentIntents: Read",
	"rak_checkout_session_read": "Checkout Sessions: Read",
}

// explain turns a failed request into one sentence an operator can act on. The
// key never appears: Stripe's messages show it masked, and any message that
// still contains it is masked here once more. Both sync and refunds use it (via
// call); attempts is how many times the request was sent. explain(nil, n)
// is nil.
func (c *Client) explain(err error, attempts int) error {
	if err == nil {
		return nil
	}
	var already *apiError
	if errors.As(err, &already) {
		return err
	}
	key := c.key.Redacted()
	var se *stripe.Error
	if !errors.As(err, &se) {
		reason := err.Error()
		var ue *url.Error
		switch {
		case errors.As(err, &ue) && ue.Timeout():
			reason = fmt.Sprintf("no answer within %s", c.http.Timeout)
		case errors.As(err, &ue):
			reason = ue.Err.Error() // the URL is in the sentence already
		}
		return &apiError{kind: ErrUnreachable, err: err,
			msg: fmt.Sprintf("cannot reach Stripe at %s: %s", c.APIBase(), c.mask(reason))}
	}
	serverMsg := c.mask(se.Msg)
	e := &apiError{kind: ErrRefused, err: err}
	switch status := se.HTTPStatusCode; {
	case status == http.StatusUnauthorized:
		e.kind, e.msg = ErrBadKey, fmt.Sprintf("Stripe rejected the API key (%s): check --api-key or STRIPE_API_KEY", key)
		if src := c.key.Source; src != "" && src != "--api-key" && src != "STRIPE_API_KEY" {
			e.msg = fmt.Sprintf("Stripe rejected the API key (%s from %s): run `stripe login` again, or pass --api-key or STRIPE_API_KEY", key, src)
		}
	case status == http.StatusForbidden:
		e.kind = ErrPermission
		perm := permissionRE.FindStringSubmatch(se.Msg)
		switch {
		case perm != nil && permissionNames[perm[1]] != "":
			e.msg = fmt.Sprintf("the restricted key (%s) lacks the %s permission (%s); grant it in the Stripe Dashboard under API keys", key, permissionNames[perm[1]], perm[1])
		case perm != nil:
			e.msg = fmt.Sprintf("the restricted key (%s) lacks the %s permission; grant it in the Stripe Dashboard under API keys", key, perm[1])
		default:
			e.msg = fmt.Sprintf("the key (%s) is not allowed to do this (Stripe says: %s)", key, strings.TrimSuffix(serverMsg, "."))
		}
	case status == http.StatusNotFound:
		e.kind, e.msg = ErrNotFound, fmt.Sprintf("not found on %s: %s", c.APIBase(), strings.TrimSuffix(serverMsg, "."))
	case status == http.StatusTooManyRequests:
		e.kind, e.msg = ErrRateLimited, fmt.Sprintf("Stripe kept rate limiting the key (%s) after %d attempts; try a lower --rate", key, attempts)
		if attempts == 1 {
			e.msg = fmt.Sprintf("Stripe rate limited the key (%s) and said not to retry; try a lower --rate", key)
		}
	case status >= 500:
		e.kind, e.msg = ErrServer, fmt.Sprintf("Stripe answered HTTP %d %d times in a row (%s); try again later", status, attempts, strings.TrimSuffix(serverMsg, "."))
		if attempts == 1 {
			e.msg = fmt.Sprintf("Stripe answered HTTP %d (%s) and said not to retry; try again later", status, strings.TrimSuffix(serverMsg, "."))
		}
	default:
		code := string(se.Code)
		if code == "" {
			code = string(se.Type)
		}
		e.msg = fmt.Sprintf("Stripe refused the request (HTTP %d, %s): %s", status, code, strings.TrimSuffix(serverMsg, "."))
	}
	return e
}

// mask removes the secret from text that came from elsewhere (a server message,
// a transport error), in case a server echoes it.
func (c *Client) mask(text string) string {
	if c.key.Secret == "" {
		return text
	}
	return strings.ReplaceAll(text, c.key.Secret, c.key.Redacted())
}
