package adyenapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/doublecheck-dev/doublecheck/internal/endpoint"
	"github.com/doublecheck-dev/doublecheck/internal/redact"
	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// Environment is the Adyen platform a client talks to. There is no default:
// Adyen's test and live platforms are different hosts with different keys,
// and the operator names which one every time.
type Environment string

// The two Adyen platforms.
const (
	EnvTest Environment = "test"
	EnvLive Environment = "live"
)

// ParseEnvironment reads "test" or "live".
func ParseEnvironment(s string) (Environment, error) {
	switch Environment(strings.ToLower(strings.TrimSpace(s))) {
	case EnvTest:
		return EnvTest, nil
	case EnvLive:
		return EnvLive, nil
	}
	return "", fmt.Errorf("Adyen environment %q: say test or live", s)
}

// APIVersion is the Checkout API version the client speaks.
const APIVersion = "v71"

// Endpoints of the Checkout API (Adyen/adyen-openapi json/CheckoutService-v71.json
// servers; live endpoints: https://docs.adyen.com/development-resources/live-endpoints,
// where the prefix is the company account's, from Customer Area > Developers
// > API URLs; the live URL has a /checkout segment the test URL has not).
const (
	TestBaseURL = "https://checkout-test.adyen.com/" + APIVersion
	// LiveBaseURLFormat takes the account's live URL prefix.
	LiveBaseURLFormat = "https://%s-checkout-live.adyenpayments.com/checkout/" + APIVersion
)

// MaxIdempotencyKeyLen is Adyen's limit on an Idempotency-Key: "a unique
// identifier for the message with a maximum of 64 characters"
// (https://docs.adyen.com/development-resources/api-idempotency).
const MaxIdempotencyKeyLen = 64

// KeyLifetime is how long Adyen keeps an Idempotency-Key: "valid for a minimum
// period of 31 days after first submission", per company account, and not
// checked across regional endpoints (same page).
const KeyLifetime = 31 * 24 * time.Hour

// hosts are Adyen's own hosts, whose first label names the platform: live
// ones end in -live (PREFIX-checkout-live.adyenpayments.com, the older
// checkout-live.adyen.com and pal-live.adyen.com), test ones in -test
// (checkout-test.adyen.com) (https://docs.adyen.com/development-resources/live-endpoints;
// Adyen's Java library's CHECKOUT_ENDPOINT_* constants). A base URL on one of
// them must match ADYEN_ENV.
var hosts = endpoint.Provider{Name: "Adyen", Setting: EnvEnvironment, TestWord: string(EnvTest),
	Platform: func(host string) endpoint.Platform {
		if !endpoint.Under(host, "adyen.com") && !endpoint.Under(host, "adyenpayments.com") {
			return endpoint.Other
		}
		label, _, _ := strings.Cut(host, ".")
		switch {
		case label == "live" || strings.HasPrefix(label, "live-") || strings.HasSuffix(label, "-live"):
			return endpoint.Live
		case label == "test" || strings.HasSuffix(label, "-test"):
			return endpoint.Test
		}
		return endpoint.Other
	}}

// Config is how to reach one Adyen merchant account.
type Config struct {
	Env Environment
	// LivePrefix is the company account's live URL prefix (live only).
	LivePrefix string
	// APIKey goes in the X-API-Key header; never printed.
	APIKey          string
	MerchantAccount string
	// BaseURL overrides the endpoint (the sandbox); empty for Adyen's.
	BaseURL string
	// HTTP is the client to use; nil for one with a 60 s timeout.
	HTTP *http.Client
}

// Client makes the one Checkout API call doublecheck needs: a refund. Adyen's
// Go library is not available to this build, so the call is written from
// Adyen's OpenAPI description of Checkout v71 (Adyen/adyen-openapi,
// json/CheckoutService-v71.json, operation post-payments-paymentPspReference-refunds).
type Client struct {
	base     string
	key      string
	merchant string
	env      Environment
	http     *http.Client
}

// livePrefixPattern is a live URL prefix: "a hex-encoded random part and your
// company name" (1797a841fbb37ca7-AdyenDemo), letters, digits and hyphens.
var livePrefixPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,126}$`)

// NewClient checks cfg and makes a client.
func NewClient(cfg Config) (*Client, error) {
	c := &Client{key: cfg.APIKey, merchant: cfg.MerchantAccount, env: cfg.Env, http: cfg.HTTP}
	if c.http == nil {
		c.http = &http.Client{Timeout: 60 * time.Second}
	}
	switch {
	case cfg.APIKey == "":
		return nil, errors.New("no Adyen API key: set ADYEN_API_KEY to an API credential's key with the Checkout webservice role")
	case cfg.MerchantAccount == "":
		return nil, errors.New("no Adyen merchant account: set ADYEN_MERCHANT_ACCOUNT to the merchant account that processed the payments")
	case cfg.BaseURL != "":
		c.base = strings.TrimSuffix(cfg.BaseURL, "/")
	case cfg.Env == EnvTest:
		c.base = TestBaseURL
	case cfg.Env == EnvLive && !livePrefixPattern.MatchString(cfg.LivePrefix):
		return nil, errors.New("the Adyen live platform needs the company account's live URL prefix (Customer Area > Developers > API URLs): set ADYEN_LIVE_PREFIX")
	case cfg.Env == EnvLive:
		c.base = fmt.Sprintf(LiveBaseURLFormat, cfg.LivePrefix)
	default:
		return nil, fmt.Errorf("Adyen environment %q: say test or live", cfg.Env)
	}
	if cfg.Env != EnvTest && cfg.Env != EnvLive {
		return nil, fmt.Errorf("Adyen environment %q: say test or live", cfg.Env)
	}
	if err := hosts.Check(c.base, cfg.Env == EnvLive); err != nil {
		return nil, err
	}
	return c, nil
}

// Env is the platform the client talks to.
func (c *Client) Env() Environment { return c.env }

// secrets are what the client sends that no text may show: the API key. An
// answer (a server, a proxy, a mock) may echo it, so every field taken from
// one is masked with them before it reaches an error, stderr or the ledger.
func (c *Client) secrets() redact.Secrets { return redact.Secrets{c.key} }

// BaseURL is the endpoint the client calls, for messages (it holds no secret).
func (c *Client) BaseURL() string { return c.base }

// Amount is Checkout's amount: minor units as Adyen counts them.
type Amount struct {
	Currency string `json:"currency"`
	Value    int64  `json:"value"`
}

// RefundRequest is PaymentRefundRequest, the fields doublecheck sends.
type RefundRequest struct {
	Amount               Amount `json:"amount"`
	MerchantAccount      string `json:"merchantAccount"`
	Reference            string `json:"reference,omitempty"`
	MerchantRefundReason string `json:"merchantRefundReason,omitempty"`
}

// RefundResponse is PaymentRefundResponse: status is always "received"; the
// outcome comes later in a REFUND notification.
type RefundResponse struct {
	Amount              Amount `json:"amount"`
	MerchantAccount     string `json:"merchantAccount"`
	PaymentPspReference string `json:"paymentPspReference"`
	PspReference        string `json:"pspReference"`
	Reference           string `json:"reference"`
	Status              string `json:"status"`
}

// APIError is Adyen's ServiceError with the HTTP status, its texts masked
// (see secrets).
type APIError struct {
	HTTPStatus   int
	ErrorCode    string `json:"errorCode"`
	ErrorType    string `json:"errorType"`
	Message      string `json:"message"`
	PspReference string `json:"pspReference"`
	// Transient is Adyen's transient-error: true header: the request may be
	// retried later with the same Idempotency-Key.
	Transient bool `json:"-"`
}

func (e *APIError) Error() string {
	code := e.ErrorCode
	if code == "" {
		code = "no error code"
	}
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.HTTPStatus)
	}
	return fmt.Sprintf("Adyen answered HTTP %d (%s): %s", e.HTTPStatus, code, msg)
}

// ErrKeyInProgress is Adyen's error code 704, "request already processed or
// in progress": a request with the same Idempotency-Key has not finished
// (https://docs.adyen.com/development-resources/api-idempotency, Error handling).
const ErrKeyInProgress = "704"

// KeyMismatchError is an answer to an Idempotency-Key that is not the refund
// asked for: Adyen returns "the response to the first attempt" for a key it
// has seen, whatever the new request's body (same page), so a key used before
// with other parameters shows as a refund of another payment or amount.
type KeyMismatchError struct {
	Key       string
	Asked     string // what was asked: payment and amount
	Answered  string // what the answer says
	RefundPsp string
}

func (e *KeyMismatchError) Error() string {
	return fmt.Sprintf("Adyen answered Idempotency-Key %s with refund %s of %s, but %s was asked: the key was used before for another request",
		e.Key, e.RefundPsp, e.Answered, e.Asked)
}

// NetworkError is a refund request with no answer: it may or may not have
// reached Adyen.
type NetworkError struct{ Err error }

func (e *NetworkError) Error() string { return "no answer from Adyen: " + e.Err.Error() }
func (e *NetworkError) Unwrap() error { return e.Err }

// Refund asks Adyen to refund amount (doublecheck's minor units of currency)
// of payment psp with key as the Idempotency-Key, and checks that the answer
// is that refund. A nil error means Adyen received the request, not that the
// refund succeeded.
func (c *Client) Refund(ctx context.Context, psp string, amount int64, currency, reference, key string) (*RefundResponse, error) {
	switch {
	case key == "" || len(key) > MaxIdempotencyKeyLen:
		return nil, fmt.Errorf("refund of %s: Idempotency-Key %q is not 1 to %d characters", psp, key, MaxIdempotencyKeyLen)
	case psp == "":
		return nil, errors.New("refund: no payment Psp Reference")
	}
	value, err := AdyenValue(amount, currency)
	if err != nil {
		return nil, fmt.Errorf("refund of %s: %w", psp, err)
	}
	req := RefundRequest{
		Amount:               Amount{Currency: strings.ToUpper(currency), Value: value},
		MerchantAccount:      c.merchant,
		Reference:            reference,
		MerchantRefundReason: "DUPLICATE",
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	endpoint := c.base + "/payments/" + url.PathEscape(psp) + "/refunds"
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("refund of %s: %w", psp, err)
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("X-API-Key", c.key)
	hr.Header.Set("Idempotency-Key", key)
	resp, err := c.http.Do(hr)
	if err != nil {
		return nil, &NetworkError{Err: err} // the URL in it holds no secret: the key is a header
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, &NetworkError{Err: err}
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		e := &APIError{HTTPStatus: resp.StatusCode, Transient: strings.EqualFold(resp.Header.Get("transient-error"), "true")}
		_ = json.Unmarshal(data, e) // a body that is not ServiceError leaves the status alone
		c.secrets().Fields(&e.ErrorCode, &e.ErrorType, &e.Message, &e.PspReference)
		return nil, e
	}
	var out RefundResponse
	if err := json.Unmarshal(data, &out); err != nil {
		// Adyen answered 2xx: the refund was received, but its reference is
		// not readable. Left pending: a resend with the same key replays it.
		return nil, &NetworkError{Err: fmt.Errorf("unreadable refund response (HTTP %d): %w", resp.StatusCode, err)}
	}
	c.secrets().Fields(&out.PaymentPspReference, &out.PspReference, &out.Reference, &out.Status, &out.MerchantAccount, &out.Amount.Currency)
	if out.PaymentPspReference != psp || out.Amount != req.Amount {
		return nil, &KeyMismatchError{
			Key:       key,
			Asked:     fmt.Sprintf("%s of payment %s", reconcile.FormatMoney(amount, currency), psp),
			Answered:  fmt.Sprintf("%d %s (Adyen minor units) of payment %s", out.Amount.Value, out.Amount.Currency, out.PaymentPspReference),
			RefundPsp: out.PspReference,
		}
	}
	if out.PspReference == "" || out.Status != "received" {
		return nil, &NetworkError{Err: fmt.Errorf("refund response without a Psp Reference or with status %q (HTTP %d)", out.Status, resp.StatusCode)}
	}
	return &out, nil
}

// Environment variables that configure Adyen. ADYEN_API_BASE points the
// client at another endpoint (doublecheck's sandbox) and is for tests and the
// demo.
const (
	EnvAPIKey          = "ADYEN_API_KEY"
	EnvMerchantAccount = "ADYEN_MERCHANT_ACCOUNT"
	EnvHMACKey         = "ADYEN_HMAC_KEY"
	EnvEnvironment     = "ADYEN_ENV"
	EnvLivePrefix      = "ADYEN_LIVE_PREFIX"
	EnvAPIBase         = "ADYEN_API_BASE"
)

// ConfigFromEnv reads the Adyen settings; configured is false when
// ADYEN_API_KEY is not set (doublecheck then refunds no Adyen charge). With a
// key, ADYEN_ENV must say test or live: the platform is never guessed.
func ConfigFromEnv(getenv func(string) string) (cfg Config, configured bool, err error) {
	cfg = Config{
		APIKey:          strings.TrimSpace(getenv(EnvAPIKey)),
		MerchantAccount: strings.TrimSpace(getenv(EnvMerchantAccount)),
		LivePrefix:      strings.TrimSpace(getenv(EnvLivePrefix)),
		BaseURL:         strings.TrimSpace(getenv(EnvAPIBase)),
	}
	if cfg.APIKey == "" {
		return cfg, false, nil
	}
	env := getenv(EnvEnvironment)
	if strings.TrimSpace(env) == "" {
		return cfg, true, fmt.Errorf("%s is set but %s is not: set it to test or live (Adyen's test and live platforms are different endpoints with different keys)", EnvAPIKey, EnvEnvironment)
	}
	if cfg.Env, err = ParseEnvironment(env); err != nil {
		return cfg, true, fmt.Errorf("%s: %w", EnvEnvironment, err)
	}
	return cfg, true, nil
}
