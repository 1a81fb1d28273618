package sandbox

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"
)

// API keys the sandbox accepts.
const (
	TestKey = "sk_test_doublecheck_sandbox"
	LiveKey = "sk_live_doublecheck_sandbox" // same data, objects have livemode=true
	// RestrictedKey is the restricted key the README recommends: read charges,
	// events, PaymentIntents and Checkout Sessions, write refunds. Like every
	// restricted key it gets 403 from GET /v1/account.
	RestrictedKey = "rk_test_doublecheck_restricted"
	// NoReadKey is a restricted key without read access: charges, events and refunds
	// answer 403.
	NoReadKey = "rk_test_doublecheck_noread"
	// NoRefundKey is a restricted key that reads everything but may not create refunds.
	NoRefundKey = "rk_test_doublecheck_norefund"
	// NoIntentKey is RestrictedKey without PaymentIntents: Read: it may not
	// retrieve a PaymentIntent or list payment_intent.* events.
	NoIntentKey = "rk_test_doublecheck_nointent"
)

// The sandbox account.
const (
	AccountID   = "acct_1DoubleCheckSbx"
	AccountName = "Acme Coffee Roasters (sandbox)"
)

// APIVersion is the Stripe API version the sandbox claims to speak (stripe-go v76's).
const APIVersion = "2023-10-16"

// EventRetention is how far back Stripe lets you list events.
const EventRetention = 30 * 24 * time.Hour

// Options configures a Server. The zero value is a usable server with the
// default data set and no faults.
type Options struct {
	Seed int64 // seeds the data and the fault injection; same seed → same data
	// Now is the server clock's start. Zero: the clock follows the wall clock.
	// Set: the clock is frozen at Now (and moves only with Advance), which
	// makes the data byte-for-byte reproducible.
	Now         time.Time
	Span        time.Duration // how far back ordinary charges go; default 60 days
	Ordinary    int           // ordinary charges; 0 → 3000, negative → none
	NoScenarios bool          // leave out the duplicate scenarios

	Latency   time.Duration // added to every request; honours the client's cancel
	RateLimit float64       // requests per second (token bucket); 0 = unlimited
	RateBurst int           // bucket size; default ceil(RateLimit)
	// WindowLimit, when set, is a strict sliding-window limiter instead: at
	// most WindowLimit requests arrive in any one second, and the rest are
	// answered 429 rate_limit at once, before the Latency (the limiter refuses
	// a request before any work is done, which is what Latency stands for).
	// Refused requests do not count against the window. It measures what a
	// strict server does to a client that bursts; Stripe's own limiter is a
	// token bucket, which forgives a short burst.
	WindowLimit int
	// ErrorRate is the fraction of requests answered with a 500 or 503 api_error
	// before they run (nothing happens, nothing is stored under the idempotency key).
	ErrorRate float64
	// TimeoutRate is the fraction of requests that hang, before they run, until the
	// client gives up (or Close is called).
	TimeoutRate float64
	// FailAfterCommitRate is the fraction of POST /v1/refunds that create the refund
	// (and store its result under the idempotency key) and then answer 500 or hang:
	// Stripe succeeded but the client never heard.
	FailAfterCommitRate float64
	// ArrivalEvery makes new charges arrive while the server runs, one per
	// ArrivalEvery of server-clock time, every fourth a fresh duplicate scenario:
	// something for a dashboard's watch mode to find. 0: nothing arrives.
	ArrivalEvery time.Duration
	NoEvents     bool          // /v1/events answers 404, as on a server without it
	NoAccount    bool          // /v1/account answers 404, as on a Stripe-compatible server without it
	KeyTTL       time.Duration // idempotency key lifetime on the server clock; default 24h

	// PayPalLag is the most a new PayPal transaction waits before Transaction
	// Search lists it (each draws its own wait up to it); 0 means PayPal's
	// three hours, negative none.
	PayPalLag time.Duration
	// PayPalOrdinary is the number of everyday PayPal payments; 0 → 300,
	// negative → none.
	PayPalOrdinary int
	// PayPalStale is how far behind PayPal's reporting data is refreshed
	// (last_refreshed_datetime): a search starting after it is refused with
	// "Data for the given start date is not available.", as PayPal does while
	// its data catches up. 0: refreshed up to now.
	PayPalStale time.Duration
}

// Server is the sandbox. It is an http.Handler; all methods are safe for
// concurrent use.
type Server struct {
	opts Options
	mux  *http.ServeMux

	closing   chan struct{}
	closeOnce sync.Once

	mu       sync.Mutex
	frozen   bool      // clock frozen at base (+offset)
	base     time.Time // frozen clock value, or the wall-clock origin
	offset   time.Duration
	idRNG    *rand.Rand // ids and data, so the same seed gives the same objects
	faultRNG *rand.Rand // fault decisions, independent of the data
	tokens   float64
	lastFill time.Time
	window   *SlidingWindow // WindowLimit's; nil without
	data     *store
	gen      *gen // the data generator, kept for arrivals
	// arrivals made so far and when the next one is due (unix seconds)
	arrivals    int
	nextArrival int64
	idem        map[string]*idemEntry
	stats       Stats
	pp          *paypalState // the PayPal merchant account (paypal.go)
	ppRNG       *rand.Rand   // its ids and data, apart from the Stripe data's
}

// Stats counts what the server has answered since it started.
type Stats struct {
	Requests     int
	ByPath       map[string]int // "GET /v1/charges" → count (route patterns, ids folded)
	ByStatus     map[int]int
	RateLimited  int // 429s
	ServerErrors int // 5xx written
	Timeouts     int // requests hung on purpose (TimeoutRate, FailAfterCommitRate)
	Abandoned    int // requests whose client gave up before the answer
	Replays      int // idempotent replays
	Refunds      int // refunds created
}

// New builds a server and generates its data. Generating the default 3000
// ordinary charges takes a few milliseconds.
func New(opts Options) *Server {
	if opts.Span <= 0 {
		opts.Span = 60 * 24 * time.Hour
	}
	switch {
	case opts.Ordinary == 0:
		opts.Ordinary = 3000
	case opts.Ordinary < 0:
		opts.Ordinary = 0
	}
	if opts.KeyTTL <= 0 {
		opts.KeyTTL = 24 * time.Hour
	}
	if opts.RateLimit > 0 && opts.RateBurst <= 0 {
		opts.RateBurst = int(math.Ceil(opts.RateLimit))
	}
	s := &Server{
		opts:     opts,
		closing:  make(chan struct{}),
		idRNG:    rand.New(rand.NewPCG(uint64(opts.Seed), 0x5eedd0ab1e)),
		faultRNG: rand.New(rand.NewPCG(uint64(opts.Seed), 0xfa017)),
		idem:     map[string]*idemEntry{},
		ppRNG:    rand.New(rand.NewPCG(uint64(opts.Seed), 0x9a7a1)),
		pp:       newPayPalState(opts),
		tokens:   float64(opts.RateBurst),
		stats:    Stats{ByPath: map[string]int{}, ByStatus: map[int]int{}},
	}
	if opts.WindowLimit > 0 {
		s.window = NewSlidingWindow(opts.WindowLimit)
	}
	if opts.Now.IsZero() {
		s.base = time.Now()
	} else {
		s.base, s.frozen = opts.Now, true
	}
	s.data = newStore()
	generate(s, s.nowLocked())
	s.generatePayPal(s.nowLocked())
	s.nextArrival = s.nowLocked().Unix() + int64(opts.ArrivalEvery/time.Second)
	s.mux = s.routes()
	return s
}

// Now is the server clock: charges are created, events expire and idempotency
// keys age against it.
func (s *Server) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nowLocked()
}

func (s *Server) nowLocked() time.Time {
	if s.frozen {
		return s.base.Add(s.offset)
	}
	return time.Now().Add(s.offset)
}

// Advance moves the server clock forward by d (for example past the 24 h
// idempotency-key lifetime or the 30-day event retention).
func (s *Server) Advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.offset += d
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.stats
	out.ByPath = maps.Clone(s.stats.ByPath)
	out.ByStatus = maps.Clone(s.stats.ByStatus)
	return out
}

// Close releases every request that is hanging (TimeoutRate, FailAfterCommitRate),
// so an httptest.Server or Listen's shutdown can finish. Safe to call twice.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.closing) })
}

// Listen serves the sandbox on addr (for example "127.0.0.1:0") and returns its
// base URL and a shutdown function that also releases hanging requests.
func (s *Server) Listen(addr string) (string, func(context.Context) error, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("sandbox: listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() {
		err := srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		done <- err
	}()
	shutdown := func(ctx context.Context) error {
		s.Close()
		if err := srv.Shutdown(ctx); err != nil {
			return fmt.Errorf("sandbox: shutdown: %w", err)
		}
		if err := <-done; err != nil {
			return fmt.Errorf("sandbox: serve: %w", err)
		}
		return nil
	}
	return "http://" + ln.Addr().String(), shutdown, nil
}

// chance draws from the fault RNG.
func (s *Server) chance(p float64) bool {
	if p <= 0 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faultRNG.Float64() < p
}

// takeToken runs the token bucket on the wall clock (rate limits are about real
// throughput, not the simulated server clock).
func (s *Server) takeToken() bool {
	if s.opts.RateLimit <= 0 {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if !s.lastFill.IsZero() {
		s.tokens = min(float64(s.opts.RateBurst), s.tokens+now.Sub(s.lastFill).Seconds()*s.opts.RateLimit)
	}
	s.lastFill = now
	if s.tokens < 1 {
		return false
	}
	s.tokens--
	return true
}

// admit runs the sliding-window limiter (WindowLimit) on the wall clock, for
// a request that arrived at arrived.
func (s *Server) admit(arrived time.Time) bool {
	return s.window == nil || s.window.Admit(arrived)
}

// SlidingWindow is a strict sliding-window rate limiter: it admits at most
// its limit of arrivals in any one second and refuses the rest, which do not
// count. The sandbox's WindowLimit is one; a client's pacer can be tested
// against one on a fake clock. It is safe for concurrent use.
type SlidingWindow struct {
	limit    int
	mu       sync.Mutex
	admitted []time.Time // arrivals within the last second, oldest first
}

// NewSlidingWindow is a limiter of limit arrivals in any second.
func NewSlidingWindow(limit int) *SlidingWindow { return &SlidingWindow{limit: limit} }

// Admit reports whether an arrival at arrived is within the limit, and counts
// it if so.
func (w *SlidingWindow) Admit(arrived time.Time) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	expired := 0
	for expired < len(w.admitted) && arrived.Sub(w.admitted[expired]) >= time.Second {
		expired++
	}
	w.admitted = w.admitted[expired:]
	if len(w.admitted) >= w.limit {
		return false
	}
	// Requests stamped at once may take the lock in either order.
	at := len(w.admitted)
	for at > 0 && w.admitted[at-1].After(arrived) {
		at--
	}
	w.admitted = slices.Insert(w.admitted, at, arrived)
	return true
}

// wait blocks for d, or until the client gives up or the server closes; it
// reports whether the full wait elapsed.
func (s *Server) wait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		s.abandoned()
		return false
	case <-s.closing:
		return false
	}
}

func (s *Server) abandoned() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Abandoned++
}

// hang blocks until the client gives up or the server closes.
func (s *Server) hang(ctx context.Context) {
	s.mu.Lock()
	s.stats.Timeouts++
	s.mu.Unlock()
	select {
	case <-ctx.Done():
		s.abandoned()
	case <-s.closing:
	}
}
