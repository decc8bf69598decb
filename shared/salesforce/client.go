// Package salesforce is the one Salesforce client the connector's Lambda
// functions share: REST records, query, approvals and the Metadata API. It
// stands on two layers of its own: package session (login and the session
// cache, a token source seam) and package transport (attempts, backoff, the
// circuit breaker). This package builds requests for the current session,
// replays one that Salesforce refused for its session after a fresh login, and
// guards the org's daily API allocation.
//
// A Client is built once per execution environment and does no network I/O until
// its first call; the first call loads the credentials and logs in.
package salesforce

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/sfconnect/connector/shared/salesforce/session"
	"github.com/sfconnect/connector/shared/salesforce/transport"
)

// Response is Salesforce's answer (see transport.Response).
type Response = transport.Response

// Options tunes a Client. Zero values take the defaults noted on each field.
type Options struct {
	// Credentials loads the configuration to log in with (package
	// credentials' Cache).
	Credentials session.Credentials
	// Share, when set, puts a layer between the session cache and the login,
	// such as the fleet-wide session table (sessionstore.Store.Shared): one
	// execution environment logs in, the others reuse its session.
	Share func(session.Source) session.Source
	// TokenTTL is how long a session is reused before logging in again (default
	// 1h). Salesforce returns no expires_in; sessions time out after 2h idle by
	// default, so an hour stays on the safe side.
	TokenTTL time.Duration
	// LoginCooldown is how long credentials Salesforce rejected are not tried
	// again, unless they change (default session.DefaultCooldown).
	LoginCooldown time.Duration

	// Transport tunes the attempts, the breaker and the connections.
	Transport transport.Options

	// APIUsageLimitPercent, when above 0, makes calls fail fast with
	// CIRCUIT_BREAKER_OPEN once Salesforce reports the org's daily API usage at or
	// over this percentage; one call per Transport.BreakerCooldown still goes
	// through to read the usage again (see usageGuard).
	APIUsageLimitPercent float64

	// DeadlineMargin is kept free before ctx's deadline so that the handler can
	// return REQUEST_TIMEOUT itself before Lambda kills it (default 500ms).
	DeadlineMargin time.Duration

	Logger *slog.Logger // default slog.Default(); also the transport's when it has none
	// Now is the client's clock, for tests: the session TTL, JWT assertions
	// and the idle time of connections (default time.Now).
	Now func() time.Time
}

// The defaults of Options.
const (
	DefaultTokenTTL       = time.Hour
	DefaultDeadlineMargin = 500 * time.Millisecond
)

func (o Options) withDefaults() Options {
	if o.TokenTTL <= 0 {
		o.TokenTTL = DefaultTokenTTL
	}
	if o.DeadlineMargin < 0 {
		o.DeadlineMargin = 0
	} else if o.DeadlineMargin == 0 {
		o.DeadlineMargin = DefaultDeadlineMargin
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Transport.Logger == nil {
		o.Transport.Logger = o.Logger
	}
	if o.Transport.Now == nil {
		o.Transport.Now = o.Now
	}
	return o
}

// Client talks to one Salesforce org. It is safe for concurrent use; keep one per
// execution environment so that the session and the breaker are shared.
type Client struct {
	opts   Options
	log    *slog.Logger
	tr     *transport.Client
	tokens *session.Cache
	usage  *usageGuard
}

// New returns a Client: the session cache over the login (and Options.Share's
// layer) over one transport. It does no network I/O.
func New(o Options) *Client {
	o = o.withDefaults()
	tr := transport.New(o.Transport)
	var src session.Source = session.NewLogin(o.Credentials, tr, session.LoginOptions{Logger: o.Logger, Now: o.Now, Cooldown: o.LoginCooldown})
	if o.Share != nil {
		src = o.Share(src)
	}
	return &Client{
		opts: o,
		log:  o.Logger,
		tr:   tr,
		// A shared login may take every attempt of two logins (the credentials
		// retry) with the longest waits.
		tokens: session.Reuse(src, o.TokenTTL, tr.Budget(2), o.Now),
		usage:  &usageGuard{limit: o.APIUsageLimitPercent, cooldown: tr.Options().BreakerCooldown, now: o.Now},
	}
}

// Stats counts what one invocation cost, for the connector's logs. Pass it with
// WithStats; the client adds to it from any goroutine.
type Stats struct {
	transport.Counts // attempts and logins

	usage    atomic.Pointer[Usage] // the last API usage Salesforce reported (see APIUsage)
	admitted atomic.Bool           // the usage guard let this invocation through
}

type statsKey struct{}

// WithStats returns a context whose calls add their counts to s.
func WithStats(ctx context.Context, s *Stats) context.Context {
	return context.WithValue(transport.WithCounts(ctx, &s.Counts), statsKey{}, s)
}

func statsOf(ctx context.Context) *Stats {
	s, _ := ctx.Value(statsKey{}).(*Stats)
	return s
}
