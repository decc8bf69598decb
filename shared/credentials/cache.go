package credentials

import (
	"context"
	"maps"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/sfconnect/connector/shared/faults"
)

// DefaultTTL is how long a loaded Config is reused when SALESFORCE_SECRET_TTL is
// not set: short enough to follow a rotation, long enough that a busy function
// reads the secret a few times an hour.
const DefaultTTL = 5 * time.Minute

// loadTimeout bounds one shared load. The load runs on a context detached from
// its callers, so that one caller giving up does not fail the others waiting on
// it; this keeps a hung store from holding the flight forever.
const loadTimeout = 30 * time.Second

// Cache is a Source that reuses the Config loaded from another Source while it is
// younger than the TTL. Concurrent callers share one load; errors are not cached.
// Call Invalidate when Salesforce rejects the credentials, so the next Load reads
// a possibly rotated secret.
type Cache struct {
	src   Source
	ttl   time.Duration
	now   func() time.Time // test seam
	wait  func()           // test seam: called when a caller starts waiting on a load
	group singleflight.Group

	mu       sync.Mutex
	cfg      Config
	loadedAt time.Time
	valid    bool
	gen      uint64 // bumped by Invalidate, so a load started before it is not kept
	stored   uint64 // bumped by every load kept, for Fresh
}

var _ Source = (*Cache)(nil)

// NewCache returns a Cache over src. A ttl of zero or less means DefaultTTL.
func NewCache(src Source, ttl time.Duration) *Cache {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	return &Cache{src: src, ttl: ttl, now: time.Now}
}

// TTL returns how long a loaded Config is reused.
func (c *Cache) TTL() time.Duration { return c.ttl }

// Load returns the cached Config while it is fresh, and otherwise loads it once
// for all concurrent callers. A caller whose ctx ends first gets RequestTimeout;
// the shared load goes on for the others.
func (c *Cache) Load(ctx context.Context) (Config, error) {
	c.mu.Lock()
	if c.valid && c.now().Sub(c.loadedAt) < c.ttl {
		cfg := c.cfg
		c.mu.Unlock()
		return cfg.clone(), nil
	}
	gen := c.gen
	c.mu.Unlock()

	if err := ctx.Err(); err != nil {
		return Config{}, faults.Wrap(faults.RequestTimeout, err, "no time left to load the Salesforce configuration")
	}
	ch := c.group.DoChan("load", func() (_ any, err error) {
		// A panic here would be re-raised in a goroutine of singleflight's
		// and end the execution environment; it is an error instead.
		defer faults.Recover(&err, "loading the Salesforce configuration")
		return c.load(context.WithoutCancel(ctx), gen)
	})
	if c.wait != nil {
		c.wait()
	}
	select {
	case res := <-ch:
		if res.Err != nil {
			return Config{}, res.Err
		}
		return res.Val.(Config).clone(), nil
	case <-ctx.Done():
		return Config{}, faults.Wrap(faults.RequestTimeout, ctx.Err(), "timed out loading the Salesforce configuration")
	}
}

// load reads the source and keeps the result unless Invalidate was called since
// gen was read.
func (c *Cache) load(ctx context.Context, gen uint64) (Config, error) {
	ctx, cancel := context.WithTimeout(ctx, loadTimeout)
	defer cancel()
	cfg, err := c.src.Load(ctx)
	if err != nil {
		return Config{}, err
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if gen == c.gen {
		c.cfg, c.loadedAt, c.valid = cfg, c.now(), true
		c.stored++
	}
	return cfg, nil
}

// Fresh reports whether the cached Config is still within its TTL, and which
// load it came from: while it reports the same number, Load gives the same
// Config, so a caller may keep what it derived from it (package session keeps
// the login identity) without loading and cloning it on every call.
func (c *Cache) Fresh() (uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stored, c.valid && c.now().Sub(c.loadedAt) < c.ttl
}

// clone copies Extra, so a caller editing its Config cannot change the cached one.
func (c Config) clone() Config {
	c.Extra = maps.Clone(c.Extra)
	return c
}

// Invalidate drops the cached Config, and makes a load already under way not
// count, so the next Load reads the source again.
func (c *Cache) Invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.valid = false
	c.gen++
	c.group.Forget("load")
}
