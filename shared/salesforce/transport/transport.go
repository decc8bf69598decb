// Package transport sends requests to Salesforce: one policy of attempts,
// backoff and Retry-After within the caller's deadline, a circuit breaker per
// execution environment, a body size cap, and the rule that a request that may
// have reached Salesforce is not sent again unless it is idempotent. Every
// failure becomes a faults code a workflow can match on.
package transport

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/go-resty/resty/v2"
	"github.com/sony/gobreaker/v2"
)

// Request is one HTTP exchange with Salesforce, ready to be sent (again).
type Request struct {
	Name       string // for logs and messages, e.g. "GET sobjects/Account/001…": never a secret
	Method     string
	URL        string
	Header     map[string]string
	Body       []byte
	Form       url.Values
	Bearer     string // access token for the Authorization header
	Idempotent bool   // may be sent again after it may have reached Salesforce
	SOAP       bool   // a 500 carrying a SOAP fault is an answer, not a server failure

	// Read, when set, reads a 2xx answer's body as it arrives, instead of the
	// transport reading it whole into Response.Body; what it returns is
	// Response.Value. The body it gets stops at Options.MaxBodyBytes. A
	// network failure while it reads is an attempt that failed (the next one
	// calls Read afresh); an error of its own is UNKNOWN_ERROR.
	Read func(body io.Reader) (any, error)

	// Transfers (Bulk API 2.0 uploads and result sets, see stream.go).
	// Upload, when set, opens the body of one attempt, read as it is sent
	// rather than held in Body; Sized gives it a Content-Length.
	Upload func() (io.ReadCloser, error)
	// Timeout, when above 0, is this request's per-attempt timeout instead
	// of Options.Timeout.
	Timeout time.Duration
	// MaxBodyBytes, when not 0, caps the body Read gets instead of
	// Options.MaxBodyBytes; negative: no cap (a reader that keeps nothing).
	MaxBodyBytes int64
}

// Response is Salesforce's answer: any 2xx or 4xx is returned as is, so that a
// workflow can branch on the status and Salesforce's error array. Header keeps
// Sforce-Limit-Info.
type Response struct {
	Status int
	Body   []byte // nil when Request.Read read it
	Header http.Header
	Value  any // what Request.Read returned
}

// Options tunes a Client. Zero values take the defaults noted on each field.
type Options struct {
	Timeout        time.Duration // per attempt (default 10s)
	MaxAttempts    int           // per request, the first one included (default 3)
	RetryBaseDelay time.Duration // first backoff ceiling (default 200ms)
	RetryMaxDelay  time.Duration // backoff and Retry-After cap (default 2s)

	BreakerFailures uint32        // consecutive transient failures that open the breaker (default 5)
	BreakerCooldown time.Duration // open time before one probe is let through (default 30s)

	MaxBodyBytes int64 // response body cap (default 64 MiB)

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
	// Now is the clock of the idle times of connections (default time.Now).
	Now func() time.Time
	// Sleep waits between attempts (default: a timer that ctx can cut short);
	// tests record the waits instead.
	Sleep func(ctx context.Context, d time.Duration) error
}

// The defaults of Options.
const (
	DefaultTimeout         = 10 * time.Second
	DefaultMaxAttempts     = 3
	DefaultRetryBaseDelay  = 200 * time.Millisecond
	DefaultRetryMaxDelay   = 2 * time.Second
	DefaultBreakerFailures = 5
	DefaultBreakerCooldown = 30 * time.Second
	DefaultMaxBodyBytes    = 64 << 20
	DefaultIdleReset       = 5 * time.Second
)

// WithDefaults returns o with every zero value replaced by its default.
func (o Options) WithDefaults() Options {
	set := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	set(&o.Timeout, DefaultTimeout)
	set(&o.RetryBaseDelay, DefaultRetryBaseDelay)
	set(&o.RetryMaxDelay, DefaultRetryMaxDelay)
	set(&o.BreakerCooldown, DefaultBreakerCooldown)
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
	if o.Sleep == nil {
		o.Sleep = sleepCtx
	}
	return o
}

// Client sends requests to Salesforce. It is safe for concurrent use; keep one
// per execution environment so that the breaker and the connection pool are
// shared.
type Client struct {
	opts    Options
	log     *slog.Logger
	http    *resty.Client
	breaker *gobreaker.TwoStepCircuitBreaker[struct{}]
	idle    idleHosts

	// jitter returns a random duration in [0, d]; tests make it deterministic.
	jitter func(d time.Duration) time.Duration
}

// New returns a Client. It does no network I/O.
func New(o Options) *Client {
	o = o.WithDefaults()
	c := &Client{opts: o, log: o.Logger, jitter: fullJitter}

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
		SetRetryCount(0) // the retry loop is ours: see Send

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
	return c
}

// Options returns the client's options, defaults filled in.
func (c *Client) Options() Options { return c.opts }

// Budget is the longest time n requests may take: every attempt timing out,
// with the longest wait between attempts.
func (c *Client) Budget(n int) time.Duration {
	return time.Duration(n*c.opts.MaxAttempts) * (c.opts.Timeout + c.opts.RetryMaxDelay)
}

// Counts counts what one invocation cost, for the connector's logs. Pass it
// with WithCounts; the clients add to it from any goroutine.
type Counts struct {
	Attempts atomic.Int64 // HTTP requests sent or tried, logins included
	Logins   atomic.Int64 // login requests (a credentials retry is a second one)
}

type countsKey struct{}

// WithCounts returns a context whose requests add their counts to c.
func WithCounts(ctx context.Context, c *Counts) context.Context {
	return context.WithValue(ctx, countsKey{}, c)
}

// CountsFrom returns the Counts of ctx, or nil.
func CountsFrom(ctx context.Context) *Counts {
	c, _ := ctx.Value(countsKey{}).(*Counts)
	return c
}

type bodyLimitKey struct{}

// WithBodyLimit returns a context whose answers are read up to n bytes (below
// Options.MaxBodyBytes), for a caller that can use nothing larger: an answer
// past it fails with UNKNOWN_ERROR saying why, before it is
// all in memory. Answers that Request.Read streams keep MaxBodyBytes: the
// reader keeps only what fits.
// why is called only when an answer is over the limit.
func WithBodyLimit(ctx context.Context, n int64, why func() string) context.Context {
	return context.WithValue(ctx, bodyLimitKey{}, bodyLimit{n, why})
}

type bodyLimit struct {
	n   int64
	why func() string
}

// CountLogin counts one login request in ctx's Counts.
func CountLogin(ctx context.Context) {
	if c := CountsFrom(ctx); c != nil {
		c.Logins.Add(1)
	}
}

func countAttempt(ctx context.Context) {
	if c := CountsFrom(ctx); c != nil {
		c.Attempts.Add(1)
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
