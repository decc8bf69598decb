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
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sfconnect/connector/shared/faults"
	"github.com/sfconnect/connector/shared/salesforce/session"
	"github.com/sfconnect/connector/shared/salesforce/soap"
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

// call runs one authenticated REST request under ctx with the deadline margin.
func (c *Client) call(ctx context.Context, method, path string, body []byte) (*Response, error) {
	ctx, cancel := c.bound(ctx)
	defer cancel()
	return c.do(ctx, func(t *session.Token) transport.Request { return rest(t, method, path, body) })
}

// bound takes the deadline margin off ctx, so that every attempt and wait ends
// early enough for the handler to report REQUEST_TIMEOUT itself.
func (c *Client) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok {
		return context.WithDeadline(ctx, dl.Add(-c.opts.DeadlineMargin))
	}
	return context.WithCancel(ctx)
}

// do sends an authenticated request built for the current session, logging in
// first when there is none. When Salesforce rejects the session (REST 401, SOAP
// fault INVALID_SESSION_ID) it was not processed, so the client logs in again and
// replays it once, POSTs included; a second rejection is MISSING_TOKEN. The API
// usage guard may refuse the request before anything is sent, and every answer's
// Sforce-Limit-Info is remembered.
func (c *Client) do(ctx context.Context, build func(t *session.Token) transport.Request) (*Response, error) {
	if ctx.Err() != nil {
		// No time left at all: not even a login is started, since the shared
		// login goes on without the caller (session.Cache) and nobody would wait for it.
		return nil, transport.Stopped(ctx, "Salesforce call")
	}
	if err := c.admitUsage(ctx); err != nil {
		return nil, err
	}
	resp, err := c.doSession(ctx, build)
	if resp != nil {
		c.observeUsage(ctx, resp.Header)
	}
	return resp, err
}

func (c *Client) doSession(ctx context.Context, build func(t *session.Token) transport.Request) (*Response, error) {
	tok, err := c.tokens.Token(ctx)
	if err != nil {
		return nil, err
	}
	req := build(tok)
	resp, err := c.tr.Send(ctx, req)
	if err != nil || !sessionRejected(req, resp) {
		return resp, err
	}
	c.log.Info("salesforce rejected the session; logging in again", "request", req.Name)
	c.tokens.Invalidate(tok)
	if tok, err = c.tokens.Token(ctx); err != nil {
		return nil, err
	}
	req = build(tok)
	if resp, err = c.tr.Send(ctx, req); err != nil {
		return nil, err
	}
	if sessionRejected(req, resp) {
		c.tokens.Invalidate(tok)
		return nil, faults.New(faults.MissingToken, "%s: Salesforce rejected a fresh session too (%s)", req.Name, rejectionText(req, resp))
	}
	return resp, nil
}

// sessionRejected reports whether Salesforce refused the session of req.
func sessionRejected(req transport.Request, resp *Response) bool {
	if req.SOAP {
		f := soap.FaultOf(resp.Body)
		return resp.Status == http.StatusInternalServerError && f != nil && f.Name() == "INVALID_SESSION_ID"
	}
	return resp.Status == http.StatusUnauthorized
}

// rejectionText is Salesforce's own words for a rejected session.
func rejectionText(req transport.Request, resp *Response) string {
	if req.SOAP {
		if f := soap.FaultOf(resp.Body); f != nil {
			return f.Name()
		}
	}
	var errs []struct {
		ErrorCode string `json:"errorCode"`
		Message   string `json:"message"`
	}
	if json.Unmarshal(resp.Body, &errs) == nil && len(errs) > 0 {
		return errs[0].ErrorCode + ": " + errs[0].Message
	}
	return http.StatusText(resp.Status)
}

// rest builds a REST request against the session's instance and version. path is
// relative to /services/data/vNN.N/ and already escaped.
func rest(t *session.Token, method, path string, body []byte) transport.Request {
	h := map[string]string{"Accept": "application/json"}
	if body != nil {
		h["Content-Type"] = "application/json"
	}
	return transport.Request{
		Name:       method + " " + strings.SplitN(path, "?", 2)[0],
		Method:     method,
		URL:        t.InstanceURL + "/services/data/v" + t.Version + "/" + path,
		Header:     h,
		Body:       body,
		Bearer:     t.AccessToken,
		Idempotent: method != http.MethodPost,
	}
}
