package transport

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sfconnect/connector/shared/faults"
	"github.com/sfconnect/connector/shared/salesforce/soap"
)

// failure sorts what went wrong with one attempt.
type failure int

const (
	noFailure   failure = iota // Salesforce answered (any status the policy does not retry)
	refused                    // connection refused
	unreachable                // DNS or TLS failure
	lost                       // connection reset or closed
	timedOut                   // the per-attempt timeout elapsed
	deadline                   // ctx's deadline (minus the margin) elapsed
	cancelled                  // ctx was cancelled
	serverError                // a 5xx or 429 answer
)

// failureInfo says how a failure is treated; failures is the lookup table.
type failureInfo struct {
	code      faults.Code // when it happened on the only attempt
	transient bool        // another attempt may succeed; counts against the breaker
}

var failures = map[failure]failureInfo{
	refused:     {faults.ConnectionError, true},
	unreachable: {faults.ConnectionError, true},
	lost:        {faults.ConnectionError, true},
	timedOut:    {faults.RequestTimeout, true},
	deadline:    {faults.RequestTimeout, false},
	cancelled:   {faults.RequestTimeout, false},
	serverError: {faults.UnknownError, true},
}

// outcome is the result of one attempt.
type outcome struct {
	failure failure
	desc    string // e.g. "503", "connection refused"
	// reached says the request may have been processed: the connection
	// carried the whole request (httptrace's WroteRequest without an error),
	// whatever went wrong after. A request that was never written whole
	// cannot have been processed, so even a POST may be sent again.
	reached    bool
	resp       *Response
	err        error         // an answer that is an error in itself (too large, redirect)
	retryAfter time.Duration // from Retry-After; negative when absent
	blocked    bool          // the breaker refused the attempt: nothing was sent
}

// retryable is the retry policy. An idempotent request is tried again after any
// transient failure; a POST only when it cannot have reached Salesforce: the
// connection never carried the whole request (refused, the name did not
// resolve, the TLS handshake failed, the connection broke while writing). What
// was written may have created a record or submitted an approval that a replay
// would duplicate (creates and approval requests carry no idempotency key).
func retryable(req Request, o outcome) bool {
	return failures[o.failure].transient && (req.Idempotent || !o.reached)
}

// errAttemptTimeout is the cause of an attempt context that hit Options.Timeout;
// errCancelled marks, for the breaker, attempts the caller abandoned.
var (
	errAttemptTimeout = errors.New("salesforce: attempt timed out")
	errTransient      = errors.New("salesforce: transient failure")
	errCancelled      = errors.New("salesforce: cancelled")
)

// Send makes the attempts for req within ctx's deadline, as the policy allows,
// and returns Salesforce's answer or the error the last failure maps to.
func (c *Client) Send(ctx context.Context, req Request) (*Response, error) {
	if !AllowedURL(req.URL) {
		return nil, faults.New(faults.UnknownError,
			"%s: not sent: Salesforce URLs must use https (plain http is allowed only to a loopback host)", req.Name)
	}
	var last outcome
	for attempt := 1; ; attempt++ {
		if ctx.Err() != nil {
			if attempt == 1 {
				return nil, Stopped(ctx, req.Name)
			}
			return nil, c.giveUp(req, last, attempt-1, true)
		}
		o := c.attempt(ctx, req)
		if o.blocked {
			return nil, c.blockedError(req, last, attempt-1)
		}
		if o.failure == noFailure {
			return o.resp, o.err
		}
		last = o
		c.log.Info("salesforce attempt failed", "request", req.Name, "attempt", attempt, "failure", o.desc)
		if !retryable(req, o) || attempt >= c.opts.MaxAttempts {
			return nil, c.giveUp(req, o, attempt, false)
		}
		wait := c.backoff(attempt, o.retryAfter)
		if !fits(ctx, wait) {
			return nil, c.giveUp(req, o, attempt, true)
		}
		if err := c.opts.Sleep(ctx, wait); err != nil {
			return nil, c.giveUp(req, o, attempt, true)
		}
	}
}

// giveUp maps the last failure to the catalogue. outOfTime says the deadline, not
// the policy, ended the attempts.
func (c *Client) giveUp(req Request, o outcome, attempts int, outOfTime bool) error {
	info := failures[o.failure]
	unknown := !req.Idempotent && o.reached
	switch {
	case (o.failure == deadline || o.failure == cancelled) && unknown:
		return faults.New(faults.RequestTimeout,
			"%s: the deadline came before Salesforce answered; the outcome is unknown and the request was not retried to avoid a duplicate", req.Name)
	case o.failure == deadline || o.failure == cancelled:
		return faults.New(faults.RequestTimeout, "%s: no answer from Salesforce before the deadline (%s)", req.Name, attemptsText(attempts))
	case outOfTime:
		return faults.New(faults.RequestTimeout, "%s: %s after %s and no time left before the deadline for another", req.Name, o.desc, attemptsText(attempts))
	case unknown:
		return faults.New(faults.UnknownError,
			"%s: %s; the outcome is unknown and the request was not retried to avoid a duplicate", req.Name, o.desc)
	case attempts > 1 && info.code == faults.ConnectionError && !o.reached:
		// Salesforce was never reached: a network or endpoint problem, not an
		// unhealthy org, so the more specific code.
		return faults.New(faults.ConnectionError, "%s: %s after %s", req.Name, o.desc, attemptsText(attempts))
	case attempts > 1:
		return faults.New(faults.CircuitBreakerOpen, "%s: %s after %s", req.Name, o.desc, attemptsText(attempts))
	default:
		return faults.New(info.code, "%s: %s", req.Name, o.desc)
	}
}

// blockedError is the fail-fast answer of an open breaker.
func (c *Client) blockedError(req Request, last outcome, attempts int) error {
	if attempts == 0 {
		return faults.New(faults.CircuitBreakerOpen,
			"%s: not sent: the circuit breaker is open after %d consecutive failures and lets a request through %s after it opened",
			req.Name, c.opts.BreakerFailures, c.opts.BreakerCooldown)
	}
	return faults.New(faults.CircuitBreakerOpen, "%s: %s after %s; the circuit breaker is now open",
		req.Name, last.desc, attemptsText(attempts))
}

// Stopped is the error for a context that ended before or while waiting.
func Stopped(ctx context.Context, what string) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return faults.Wrap(faults.RequestTimeout, context.Cause(ctx), "%s: cancelled", what)
	}
	return faults.Wrap(faults.RequestTimeout, context.Cause(ctx), "%s: no time left before the deadline", what)
}

// attempt sends req once through the breaker and reads the answer.
func (c *Client) attempt(ctx context.Context, req Request) outcome {
	done, err := c.breaker.Allow()
	if err != nil {
		return outcome{blocked: true}
	}
	countAttempt(ctx)
	c.freshConnections(req)
	start := time.Now()
	o := c.exchange(ctx, req)
	c.idle.touch(hostOf(req.URL), c.opts.Now())
	var verdict error
	switch {
	case o.failure == cancelled:
		verdict = errCancelled
	case o.failure != noFailure:
		verdict = errTransient
	}
	done(verdict)
	c.log.Debug("salesforce request", "request", req.Name, "status", statusOf(o), "failure", o.desc,
		"ms", time.Since(start).Milliseconds())
	return o
}

func statusOf(o outcome) int {
	if o.resp == nil {
		return 0
	}
	return o.resp.Status
}

// exchange does the HTTP round trip with resty, the body read included, under the
// per-attempt timeout. A trace of the connection tells whether the whole
// request was written.
func (c *Client) exchange(ctx context.Context, req Request) outcome {
	actx, cancel := context.WithTimeoutCause(ctx, cmp.Or(req.Timeout, c.opts.Timeout), errAttemptTimeout)
	defer cancel()
	var wrote atomic.Bool
	var conns atomic.Int32
	actx = httptrace.WithClientTrace(actx, &httptrace.ClientTrace{
		// net/http sends a replayable request (one with an Idempotency-Key)
		// again by itself when its kept-alive connection closed first: that
		// second connection carries an attempt too.
		GetConn: func(string) {
			if conns.Add(1) > 1 {
				countAttempt(ctx)
			}
		},
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				wrote.Store(true)
			}
		},
	})

	r := c.http.R().SetContext(actx).SetDoNotParseResponse(true).SetHeaders(req.Header)
	if req.Bearer != "" {
		r.SetAuthToken(req.Bearer)
	}
	switch {
	case req.Form != nil:
		r.SetFormDataFromValues(req.Form)
	case len(req.Body) > 0:
		r.SetBody(req.Body)
	}
	var res answer
	var err error
	if req.Upload != nil {
		var unopened error
		if res, unopened, err = c.upload(actx, req); unopened != nil {
			return outcome{err: unopened, retryAfter: -1} // nothing was sent
		}
	} else {
		res, err = r.Execute(req.Method, req.URL)
	}
	if err != nil {
		return c.networkFailure(ctx, actx, err, wrote.Load())
	}
	raw := res.RawBody()
	if raw == nil {
		return outcome{failure: lost, desc: "no response", reached: true, retryAfter: -1}
	}
	defer raw.Close()
	status := res.StatusCode()
	o := outcome{
		resp:       &Response{Status: status, Header: res.Header()},
		desc:       "Salesforce answered " + strconv.Itoa(status),
		reached:    true,
		retryAfter: -1,
	}
	body := &capped{r: raw, left: bodyCap(req, c.opts.MaxBodyBytes)}
	streamed := req.Read != nil && status >= 200 && status < 300
	limit, limited := ctx.Value(bodyLimitKey{}).(bodyLimit)
	if limited && !streamed && limit.n < body.left {
		body.left = limit.n
	} else {
		limited = false
	}
	if streamed {
		v, err := req.Read(body)
		switch {
		case body.netErr != nil:
			return c.networkFailure(ctx, actx, body.netErr, true)
		case body.over:
			o.resp, o.err = nil, c.tooLarge(req)
		case errors.As(err, new(*faults.Error)):
			o.resp, o.err = nil, err // the reader's own verdict, in the catalogue already
		case err != nil:
			o.resp, o.err = nil, faults.Wrap(faults.UnknownError, err, "%s: Salesforce's answer cannot be read", req.Name)
		default:
			o.resp.Value = v
		}
		return o
	}
	b, err := io.ReadAll(body)
	switch {
	case body.netErr != nil:
		return c.networkFailure(ctx, actx, body.netErr, true)
	case body.over && limited:
		o.resp, o.err = nil, faults.New(faults.UnknownError, "%s: the Salesforce response is larger than %d bytes, %s", req.Name, limit.n, limit.why())
		return o
	case body.over:
		o.resp, o.err = nil, c.tooLarge(req)
		return o
	case err != nil:
		return c.networkFailure(ctx, actx, err, true)
	}
	o.resp.Body = b
	switch {
	case status == http.StatusInternalServerError && req.SOAP && soap.FaultOf(b) != nil:
		// A SOAP fault is Salesforce's considered answer, not a server failure.
		// SOAP 1.1 sends every fault with 500; a 502, 503 or 504 comes from the
		// edge or a server that is down, whatever its body says.
	case status >= 500 || (status == http.StatusTooManyRequests && req.Idempotent):
		// A 429 to a POST stays an answer: it was not processed, and the policy
		// would not retry it anyway.
		o.failure = serverError
		o.retryAfter = retryAfter(res.Header())
	case status < 200 || (status >= 300 && status < 400 && status != http.StatusMultipleChoices):
		// 300 is Salesforce's answer to an external id matching several records
		// (the body lists them); any other 1xx or 3xx is not an answer we know.
		o.resp = nil
		o.err = faults.New(faults.UnknownError, "%s: unexpected %d answer from Salesforce", req.Name, status)
	}
	return o
}

func (c *Client) tooLarge(req Request) error {
	return faults.New(faults.UnknownError, "%s: the Salesforce response is larger than %d bytes", req.Name, c.opts.MaxBodyBytes)
}

// capped reads a body up to a byte cap. It tells a network failure of the
// read (netErr) from a reader's own error, and a body over the cap (over)
// from one that ended.
type capped struct {
	r      io.Reader
	left   int64
	over   bool
	netErr error
}

var errOverCap = errors.New("salesforce: response over the size cap")

func (c *capped) Read(p []byte) (int, error) {
	if c.over {
		return 0, errOverCap
	}
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1]
	}
	n, err := c.r.Read(p)
	if int64(n) > c.left {
		c.over = true
		return int(c.left), errOverCap
	}
	c.left -= int64(n)
	if err != nil && err != io.EOF {
		c.netErr = err
	}
	return n, err
}

// networkFailure sorts an error from the round trip or the body read. The context
// tells a deadline from a per-attempt timeout; the error's type names the
// rest. Whether the request may have been processed is reached, what the
// connection did, never the error's type: a TLS record error after the
// request was written is no proof that nothing happened.
func (c *Client) networkFailure(ctx, actx context.Context, err error, reached bool) outcome {
	o := outcome{retryAfter: -1, reached: reached}
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		o.failure, o.desc = cancelled, "cancelled"
	case ctx.Err() != nil:
		o.failure, o.desc = deadline, "deadline"
	case context.Cause(actx) == errAttemptTimeout:
		o.failure, o.desc = timedOut, fmt.Sprintf("no answer within %s", c.opts.Timeout)
	default:
		o.failure, o.desc = lost, "connection closed"
		for _, k := range netFailures {
			if k.match(err) {
				o.failure, o.desc = k.failure, k.desc
				break
			}
		}
	}
	c.log.Debug("salesforce network error", "failure", o.desc, "error", withoutURL(err))
	return o
}

// withoutURL is an error's text without the URL a *url.Error quotes: a query's
// URL carries its SOQL, and a WHERE clause can name people.
func withoutURL(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Op + ": " + ue.Err.Error()
	}
	return err.Error()
}

// netFailures sorts network errors, first match wins; anything unmatched is lost.
var netFailures = []struct {
	match   func(error) bool
	failure failure
	desc    string
}{
	{func(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }, refused, "connection refused"},
	{func(err error) bool { var e *net.DNSError; return errors.As(err, &e) }, unreachable, "DNS lookup failed"},
	{isTLSError, unreachable, "TLS handshake failed"},
	{func(err error) bool { return errors.Is(err, syscall.ECONNRESET) }, lost, "connection reset"},
	{func(err error) bool { return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) }, lost, "connection closed"},
}

func isTLSError(err error) bool {
	var (
		header   tls.RecordHeaderError
		verify   *tls.CertificateVerificationError
		alert    tls.AlertError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
	)
	return errors.As(err, &header) || errors.As(err, &verify) || errors.As(err, &alert) ||
		errors.As(err, &unknown) || errors.As(err, &hostname) || errors.As(err, &invalid)
}

// retryAfter reads a Retry-After given in seconds; -1 when absent or a date.
func retryAfter(h http.Header) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return -1
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || n > int64(24*time.Hour/time.Second) {
		return -1
	}
	return time.Duration(n) * time.Second
}

// backoff is the wait before attempt+1: Retry-After when Salesforce gave one,
// otherwise exponential with full jitter; both capped by RetryMaxDelay.
func (c *Client) backoff(attempt int, after time.Duration) time.Duration {
	if after >= 0 {
		return min(after, c.opts.RetryMaxDelay)
	}
	ceiling := c.opts.RetryBaseDelay
	for i := 1; i < attempt && ceiling < c.opts.RetryMaxDelay; i++ {
		ceiling *= 2
	}
	return c.jitter(min(ceiling, c.opts.RetryMaxDelay))
}

func fullJitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return rand.N(d + 1)
}

// fits reports whether waiting d still leaves time for an attempt before ctx's
// deadline (which already has the margin taken off).
func fits(ctx context.Context, d time.Duration) bool {
	dl, ok := ctx.Deadline()
	return !ok || time.Until(dl) > d
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// attemptsText is "1 attempt" or "n attempts".
func attemptsText(n int) string {
	if n == 1 {
		return "1 attempt"
	}
	return strconv.Itoa(n) + " attempts"
}

// AllowedURL reports whether a request may go to raw: https, or plain http to a
// loopback host (the local org emulator). Anywhere else plain http would carry
// the password or the session in clear. The credentials package checks the
// configured login URLs; this also covers the instance URL a login returns.
func AllowedURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return true
	case "http":
		host := u.Hostname()
		ip := net.ParseIP(host)
		return strings.EqualFold(host, "localhost") || (ip != nil && ip.IsLoopback())
	}
	return false
}

// idleHosts remembers when each host last carried a request, by the client's
// clock, so that the client can tell when its pooled connections to it may
// have gone stale.
type idleHosts struct {
	mu   sync.Mutex
	last map[string]time.Time
}

func (h *idleHosts) touch(host string, now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.last == nil {
		h.last = make(map[string]time.Time)
	}
	h.last[host] = now
}

// since returns how long host has been idle; false when it never carried a
// request, so that no pooled connection to it can exist.
func (h *idleHosts) since(host string, now time.Time) (time.Duration, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t, ok := h.last[host]
	return now.Sub(t), ok
}

// freshConnections closes the pooled connections before a request that must not
// be replayed when its host has been idle for Options.IdleReset or longer, so
// that the request goes out on a new connection rather than one a NAT or the
// server dropped while the execution environment was frozen. Idempotent
// requests skip it: a stale connection only costs them a retry.
func (c *Client) freshConnections(req Request) {
	if req.Idempotent || c.opts.IdleReset < 0 {
		return
	}
	host := hostOf(req.URL)
	if idle, ok := c.idle.since(host, c.opts.Now()); ok && idle >= c.opts.IdleReset {
		c.http.GetClient().CloseIdleConnections()
		c.log.Debug("salesforce connections idle; closing them before a request that is not replayed",
			"host", host, "idleMs", idle.Milliseconds())
	}
}

// hostOf is the scheme and host of a URL, the key of a connection pool.
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
