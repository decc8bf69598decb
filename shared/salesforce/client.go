// Package salesforce is the one Salesforce client the connector's Lambda functions
// share: REST records, query, approvals and the Metadata API, with the session
// cached across invocations, one retry policy, a circuit breaker and every failure
// turned into a faults code a workflow can match on.
//
// A Client is built once per execution environment and does no network I/O until
// its first call; the first call loads the credentials and logs in.
package salesforce

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/go-resty/resty/v2"
	"github.com/sony/gobreaker/v2"

	"github.com/sfconnect/connector/shared/credentials"
)

// Credentials gives the client the configuration to log in with. Invalidate is
// called when Salesforce rejects the credentials, so that the next Load reads them
// again (a rotated secret is picked up without a redeploy).
type Credentials interface {
	Load(ctx context.Context) (credentials.Config, error)
	Invalidate()
}

// Options tunes a Client. Zero values take the defaults noted on each field.
type Options struct {
	Credentials Credentials

	// AuthFlow is used when the loaded configuration names no flow (its AuthFlow
	// is empty): credentials.FlowPassword (the default), FlowSOAP,
	// FlowClientCredentials or FlowJWT.
	AuthFlow string
	// TokenStore, when set, shares the session with the other execution
	// environments (sessionstore.Store): one logs in, the others reuse its
	// session. Off by default.
	TokenStore TokenStore
	// TokenTTL is how long a session is reused before logging in again (default
	// 1h). Salesforce returns no expires_in; sessions time out after 2h idle by
	// default, so an hour stays on the safe side.
	TokenTTL time.Duration

	Timeout        time.Duration // per attempt (default 10s)
	MaxAttempts    int           // per request, the first one included (default 3)
	RetryBaseDelay time.Duration // first backoff ceiling (default 200ms)
	RetryMaxDelay  time.Duration // backoff and Retry-After cap (default 2s)

	BreakerFailures uint32        // consecutive transient failures that open the breaker (default 5)
	BreakerCooldown time.Duration // open time before one probe is let through (default 30s)

	// APIUsageLimitPercent, when above 0, makes calls fail fast with
	// CIRCUIT_BREAKER_OPEN once Salesforce reports the org's daily API usage at or
	// over this percentage; one call per BreakerCooldown still goes through to
	// read the usage again (see usageGuard).
	APIUsageLimitPercent float64

	// DeadlineMargin is kept free before ctx's deadline so that the handler can
	// return REQUEST_TIMEOUT itself before Lambda kills it (default 500ms).
	DeadlineMargin time.Duration
	MaxBodyBytes   int64 // response body cap (default 64 MiB)

	// IdleReset is how long a host's pooled connections may sit unused before a
	// request that must not be replayed (a create, an approval) closes them and
	// goes out on a fresh connection (default 5s). Between invocations Lambda
	// freezes the process; a NAT or Salesforce's edge may drop a kept-alive
	// connection meanwhile, and a POST written to it fails in a way the client
	// cannot tell from a lost answer: UNKNOWN_ERROR on a create that never
	// happened. A negative value turns the reset off.
	IdleReset time.Duration

	HTTPClient *http.Client // optional; its redirect policy is not changed
	Logger     *slog.Logger // default slog.Default()
	// Now is the client's clock, for tests: the session TTL and the idle time of
	// connections (default time.Now).
	Now func() time.Time
}

// The defaults of Options.
const (
	DefaultTokenTTL        = time.Hour
	DefaultTimeout         = 10 * time.Second
	DefaultMaxAttempts     = 3
	DefaultRetryBaseDelay  = 200 * time.Millisecond
	DefaultRetryMaxDelay   = 2 * time.Second
	DefaultBreakerFailures = 5
	DefaultBreakerCooldown = 30 * time.Second
	DefaultDeadlineMargin  = 500 * time.Millisecond
	DefaultMaxBodyBytes    = 64 << 20
	DefaultIdleReset       = 5 * time.Second
)

func (o Options) withDefaults() Options {
	set := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	set(&o.TokenTTL, DefaultTokenTTL)
	set(&o.Timeout, DefaultTimeout)
	set(&o.RetryBaseDelay, DefaultRetryBaseDelay)
	set(&o.RetryMaxDelay, DefaultRetryMaxDelay)
	set(&o.BreakerCooldown, DefaultBreakerCooldown)
	if o.DeadlineMargin < 0 {
		o.DeadlineMargin = 0
	} else if o.DeadlineMargin == 0 {
		o.DeadlineMargin = DefaultDeadlineMargin
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.BreakerFailures == 0 {
		o.BreakerFailures = DefaultBreakerFailures
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.IdleReset == 0 {
		o.IdleReset = DefaultIdleReset
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Client talks to one Salesforce org. It is safe for concurrent use; keep one per
// execution environment so that the session and the breaker are shared.
type Client struct {
	opts    Options
	log     *slog.Logger
	http    *resty.Client
	breaker *gobreaker.TwoStepCircuitBreaker[struct{}]
	tokens  *tokenCache
	usage   *usageGuard
	idle    idleHosts

	// sleep waits between attempts; tests replace it to record the waits.
	sleep func(ctx context.Context, d time.Duration) error
	// jitter returns a random duration in [0, d]; tests make it deterministic.
	jitter func(d time.Duration) time.Duration
}

// New returns a Client. It does no network I/O.
func New(o Options) *Client {
	o = o.withDefaults()
	c := &Client{opts: o, log: o.Logger, sleep: sleepCtx, jitter: fullJitter}

	// A copy, so that turning redirects off does not change the caller's client:
	// Salesforce's REST API does not redirect, and following one would turn a POST
	// into a GET.
	hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	if o.HTTPClient != nil {
		cp := *o.HTTPClient
		hc = &cp
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.http = resty.NewWithClient(hc).
		SetDisableWarn(true). // it warns about bearer tokens over http, which only the loopback emulator uses
		SetLogger(restyLogger{o.Logger}).
		SetRetryCount(0) // the retry loop is ours: see send

	c.breaker = gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        "salesforce",
		MaxRequests: 1,
		Timeout:     o.BreakerCooldown,
		ReadyToTrip: func(n gobreaker.Counts) bool { return n.ConsecutiveFailures >= o.BreakerFailures },
		IsExcluded:  func(err error) bool { return err == errCancelled },
		OnStateChange: func(_ string, from, to gobreaker.State) {
			c.log.Warn("salesforce circuit breaker", "from", from.String(), "to", to.String())
		},
	})
	c.usage = &usageGuard{limit: o.APIUsageLimitPercent, cooldown: o.BreakerCooldown, now: o.Now}
	c.tokens = &tokenCache{ttl: o.TokenTTL, now: o.Now, login: c.login, budget: c.loginBudget()}
	return c
}

// Response is Salesforce's answer: any 2xx or 4xx but 401 is returned as is, so
// that a workflow can branch on the status and Salesforce's error array.
// Header keeps Sforce-Limit-Info.
type Response struct {
	Status int
	Body   []byte
	Header http.Header
}

// Stats counts what one invocation cost, for the connector's logs. Pass it with
// WithStats; the client adds to it from any goroutine.
type Stats struct {
	Attempts atomic.Int64 // HTTP requests sent or tried, logins included
	Logins   atomic.Int64 // login requests (a credentials retry is a second one)

	usage    atomic.Pointer[Usage] // the last API usage Salesforce reported (see APIUsage)
	admitted atomic.Bool           // the usage guard let this invocation through
}

type statsKey struct{}

// WithStats returns a context whose calls add their counts to s.
func WithStats(ctx context.Context, s *Stats) context.Context {
	return context.WithValue(ctx, statsKey{}, s)
}

func statsOf(ctx context.Context) *Stats {
	s, _ := ctx.Value(statsKey{}).(*Stats)
	return s
}

func countAttempt(ctx context.Context) {
	if s := statsOf(ctx); s != nil {
		s.Attempts.Add(1)
	}
}

func countLogin(ctx context.Context) {
	if s := statsOf(ctx); s != nil {
		s.Logins.Add(1)
	}
}

// restyLogger sends resty's own messages to slog at debug level; the client logs
// what matters itself.
type restyLogger struct{ l *slog.Logger }

func (r restyLogger) Errorf(format string, v ...any) {
	r.l.Debug("resty", "msg", fmt.Sprintf(format, v...))
}
func (r restyLogger) Warnf(format string, v ...any) {
	r.l.Debug("resty", "msg", fmt.Sprintf(format, v...))
}
func (r restyLogger) Debugf(format string, v ...any) {
	r.l.Debug("resty", "msg", fmt.Sprintf(format, v...))
}
