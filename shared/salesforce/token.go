package salesforce

import (
	"context"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/sfconnect/connector/shared/credentials"
	"github.com/sfconnect/connector/shared/faults"
	"github.com/sfconnect/connector/shared/sessionstore"
)

// token is a Salesforce session and where to use it.
type token struct {
	AccessToken string    // OAuth access token or SOAP sessionId: never logged
	InstanceURL string    // scheme://host of the org
	Version     string    // API version without the "v", e.g. "45.0"
	IssuedAt    time.Time // by the client's clock, for the TTL
}

// tokenCache is oauth2's ReuseTokenSource with a context and invalidation: the
// session is reused until its TTL, concurrent callers share one login, and a
// session Salesforce rejected is dropped only if no one has replaced it yet.
type tokenCache struct {
	ttl    time.Duration
	now    func() time.Time
	login  func(ctx context.Context) (*token, error)
	budget time.Duration // how long one shared login may take

	mu       sync.Mutex
	tok      *token
	rejected string // the last access token Salesforce refused, for a shared store
	group    singleflight.Group
}

// cached returns the session if it is still within its TTL.
func (tc *tokenCache) cached() *token {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if tc.tok != nil && tc.now().Sub(tc.tok.IssuedAt) < tc.ttl {
		return tc.tok
	}
	return nil
}

// get returns a valid session, logging in when there is none. The login runs once
// for all callers waiting at that moment, under a context that keeps the first
// caller's values (its Stats) but not its cancellation, bounded by the budget: one
// caller giving up does not fail the others.
func (tc *tokenCache) get(ctx context.Context) (*token, error) {
	if t := tc.cached(); t != nil {
		return t, nil
	}
	ch := tc.group.DoChan("login", func() (any, error) {
		// A login that finished just before this one started already did the work.
		if t := tc.cached(); t != nil {
			return t, nil
		}
		lctx, cancel := context.WithTimeoutCause(context.WithoutCancel(ctx), tc.budget, errLoginBudget)
		defer cancel()
		t, err := tc.login(lctx)
		if err != nil {
			return nil, err
		}
		tc.mu.Lock()
		tc.tok = t
		tc.rejected = ""
		tc.mu.Unlock()
		return t, nil
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*token), nil
	case <-ctx.Done():
		return nil, stopped(ctx, "waiting for the Salesforce login")
	}
}

// invalidate drops rejected if it is still the cached session. A caller holding an
// older session must not throw away the fresh one another caller just obtained.
//
// The rejected access token is remembered for the next login, so that a shared
// store replaces it only if it still holds that very session.
func (tc *tokenCache) invalidate(rejected *token) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if tc.tok == rejected {
		tc.tok = nil
		tc.rejected = rejected.AccessToken
	}
}

// lastRejected returns the access token Salesforce refused since the last
// login, or "".
func (tc *tokenCache) lastRejected() string {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	return tc.rejected
}

// TokenStore shares sessions between execution environments (package
// sessionstore over DynamoDB): Session returns a stored session for key that is
// not rejected, or runs login once for the whole fleet and stores its result.
type TokenStore interface {
	Session(ctx context.Context, key, rejected string, login func(context.Context) (sessionstore.Session, error)) (sessionstore.Session, error)
}

// sharedLogin obtains the session through Options.TokenStore: the session
// another execution environment stored, or a login of this one that the others
// then reuse. The local cache still sits in front: the store is read only when
// this environment has no valid session.
func (c *Client) sharedLogin(ctx context.Context) (*token, error) {
	if c.opts.Credentials == nil {
		return nil, faults.New(faults.MissingToken, "no Salesforce credentials configured")
	}
	cfg, err := c.opts.Credentials.Load(ctx)
	if err != nil {
		return nil, err
	}
	version, err := credentials.NormalizeVersion(cfg.Version)
	if err != nil {
		return nil, err
	}
	flow := c.flowOf(cfg)
	endpoint := cfg.LoginURL
	if flow == credentials.FlowSOAP {
		endpoint = cfg.SOAPLoginURL
	}
	key := sessionstore.Key(flow, endpoint, cfg.Username, cfg.ClientID)
	s, err := c.opts.TokenStore.Session(ctx, key, c.tokens.lastRejected(), func(ctx context.Context) (sessionstore.Session, error) {
		t, err := c.loginWithRetry(ctx)
		if err != nil {
			return sessionstore.Session{}, err
		}
		return sessionstore.Session{AccessToken: t.AccessToken, InstanceURL: t.InstanceURL,
			IssuedAt: t.IssuedAt, ExpiresAt: t.IssuedAt.Add(c.opts.TokenTTL)}, nil
	})
	if err != nil {
		return nil, err
	}
	return &token{AccessToken: s.AccessToken, InstanceURL: s.InstanceURL, Version: version, IssuedAt: s.IssuedAt}, nil
}
