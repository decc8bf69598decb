// Package session gives the client its Salesforce sessions: the four login
// flows (Login), and a cache in front of them (Reuse) that reuses a session
// until its TTL and lets fifty concurrent callers share one login. It is
// golang/oauth2's TokenSource seam with a context and invalidation: a layer
// such as the fleet-wide session table (package sessionstore) sits between
// the cache and the login as one more Source.
package session

import (
	"context"
	"errors"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/sfconnect/connector/shared/faults"
	"github.com/sfconnect/connector/shared/salesforce/transport"
)

// Token is a Salesforce session and where to use it.
type Token struct {
	AccessToken string    // OAuth access token or SOAP sessionId: never logged
	InstanceURL string    // scheme://host of the org
	Version     string    // API version without the "v", e.g. "45.0"
	IssuedAt    time.Time // by the client's clock, for the TTL
	Identity    string    // the Identity.Key of the configuration that logged in
}

// Identity is whom a Source logs in as, and where: the sessions it gives
// belong to it.
type Identity struct {
	// Key is a hash of the flow, the login endpoint, the username, the client
	// id and the configuration's revision (the secret's version): it names the
	// identity without holding any of them. A session made for one key is
	// never used for another.
	Key string
	// Version is the API version the sessions are used with.
	Version string
	// Seal is a key derived from the credentials' secrets (HKDF-SHA256), for
	// what is stored about this identity outside the process: the session
	// table keeps its access tokens encrypted with it, so reading the table
	// without the secret gives nothing usable. Never logged or stored.
	Seal [32]byte
}

// Source gives sessions.
type Source interface {
	// Token returns a session, logging in when it must.
	Token(ctx context.Context) (*Token, error)
	// Invalidate tells the source that Salesforce refused t, so that it is
	// not given again.
	Invalidate(t *Token)
	// Identity returns whom Token logs in as now.
	Identity(ctx context.Context) (Identity, error)
}

// errBudget is the cause of a shared login that ran out of its budget.
var errBudget = errors.New("salesforce: login took longer than its budget")

// Reuse returns a Source that keeps the session of next for ttl, by now's
// clock: concurrent callers share one call of next.Token, bounded by budget
// and detached from the first caller's cancellation, and a session Salesforce
// rejected is dropped only if no one has replaced it yet.
func Reuse(next Source, ttl, budget time.Duration, now func() time.Time) *Cache {
	return &Cache{next: next, ttl: ttl, budget: budget, now: now}
}

// Cache is the Source Reuse returns.
type Cache struct {
	next   Source
	ttl    time.Duration
	budget time.Duration
	now    func() time.Time

	mu    sync.Mutex
	tok   *Token
	group singleflight.Group
}

// Cached returns the session if it is still within its TTL, or nil.
func (c *Cache) Cached() *Token {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tok != nil && c.now().Sub(c.tok.IssuedAt) < c.ttl {
		return c.tok
	}
	return nil
}

// Token returns the cached session while it belongs to the identity the
// configuration names now, or obtains one from next once for all the callers
// waiting at that moment, under a context that keeps the first caller's
// values (its counts) but not its cancellation, bounded by the budget: one
// caller giving up does not fail the others.
//
// A changed identity (the secret now names another org, user or app) drops
// the session at once rather than at the end of its TTL. When the identity
// cannot be read (the secret store is down), a cached session is used as it
// is: it was valid for the last identity read.
func (c *Cache) Token(ctx context.Context) (*Token, error) {
	if t := c.Cached(); t != nil {
		id, err := c.next.Identity(ctx)
		if err != nil || id.Key == t.Identity {
			return t, nil
		}
		c.drop(t)
	}
	ch := c.group.DoChan("login", func() (_ any, err error) {
		// A panic here would be re-raised in a goroutine of singleflight's
		// and end the execution environment; it is an error instead.
		defer faults.Recover(&err, "the Salesforce login")
		// A login that finished just before this one started already did the
		// work (when the identity changed, drop() took the old session out).
		if t := c.Cached(); t != nil {
			return t, nil
		}
		lctx, cancel := context.WithTimeoutCause(context.WithoutCancel(ctx), c.budget, errBudget)
		defer cancel()
		t, err := c.next.Token(lctx)
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		c.tok = t
		c.mu.Unlock()
		return t, nil
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*Token), nil
	case <-ctx.Done():
		return nil, transport.Stopped(ctx, "waiting for the Salesforce login")
	}
}

// drop forgets t if it is still the cached session.
func (c *Cache) drop(t *Token) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tok == t {
		c.tok = nil
	}
}

// Invalidate drops t if it is still the cached session, and tells next. A
// caller holding an older session must not throw away the fresh one another
// caller just obtained.
func (c *Cache) Invalidate(t *Token) {
	c.mu.Lock()
	current := c.tok == t
	if current {
		c.tok = nil
	}
	c.mu.Unlock()
	if current {
		c.next.Invalidate(t)
	}
}

// Identity is next's.
func (c *Cache) Identity(ctx context.Context) (Identity, error) { return c.next.Identity(ctx) }
