package credentials

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sfconnect/connector/internal/testclock"
	"github.com/sfconnect/connector/shared/faults"
)

// countingSource returns a Config whose Username is "user-<n>" for the n-th load,
// or err when set. When gate is set, each load waits for it to close.
type countingSource struct {
	loads atomic.Int64
	gate  chan struct{}
	mu    sync.Mutex
	err   error
}

func (s *countingSource) Load(ctx context.Context) (Config, error) {
	n := s.loads.Add(1)
	if s.gate != nil {
		<-s.gate
	}
	s.mu.Lock()
	err := s.err
	s.mu.Unlock()
	if err != nil {
		return Config{}, err
	}
	return Config{Username: "user-" + strconv.FormatInt(n, 10)}, nil
}

func (s *countingSource) fail(err error) {
	s.mu.Lock()
	s.err = err
	s.mu.Unlock()
}

func newTestCache(src Source, ttl time.Duration) (*Cache, *testclock.Clock) {
	clock := testclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	c := NewCache(src, ttl)
	c.now = clock.Now
	return c, clock
}

func mustLoad(t *testing.T, c *Cache, want string) {
	t.Helper()
	cfg, err := c.Load(t.Context())
	if err != nil {
		t.Fatalf("got %v, want %q", err, want)
	}
	if cfg.Username != want {
		t.Errorf("got %q, want %q", cfg.Username, want)
	}
}

func TestCacheTTL(t *testing.T) {
	src := &countingSource{}
	c, clock := newTestCache(src, time.Minute)
	mustLoad(t, c, "user-1")
	clock.Advance(59 * time.Second)
	mustLoad(t, c, "user-1")
	clock.Advance(time.Second)
	mustLoad(t, c, "user-2")
	mustLoad(t, c, "user-2")
	if got := src.loads.Load(); got != 2 {
		t.Errorf("got %d loads, want 2", got)
	}
}

func TestCacheDefaultTTL(t *testing.T) {
	for _, ttl := range []time.Duration{0, -time.Second} {
		if got := NewCache(&countingSource{}, ttl).TTL(); got != DefaultTTL {
			t.Errorf("got %v for %v, want %v", got, ttl, DefaultTTL)
		}
	}
	src := &countingSource{}
	c, clock := newTestCache(src, 0)
	mustLoad(t, c, "user-1")
	clock.Advance(DefaultTTL - time.Nanosecond)
	mustLoad(t, c, "user-1")
	clock.Advance(time.Nanosecond)
	mustLoad(t, c, "user-2")
}

func TestCacheInvalidate(t *testing.T) {
	src := &countingSource{}
	c, _ := newTestCache(src, time.Hour)
	mustLoad(t, c, "user-1")
	mustLoad(t, c, "user-1")
	c.Invalidate()
	mustLoad(t, c, "user-2")
	mustLoad(t, c, "user-2")
	if got := src.loads.Load(); got != 2 {
		t.Errorf("got %d loads, want 2", got)
	}
}

func TestCacheDoesNotCacheErrors(t *testing.T) {
	src := &countingSource{}
	src.fail(faults.New(faults.ConnectionError, "down"))
	c, _ := newTestCache(src, time.Hour)
	for range 2 {
		if _, err := c.Load(t.Context()); faults.CodeOf(err) != faults.ConnectionError {
			t.Fatalf("got %v, want %q", err, faults.ConnectionError)
		}
	}
	src.fail(nil)
	mustLoad(t, c, "user-3")
	mustLoad(t, c, "user-3")
	if got := src.loads.Load(); got != 3 {
		t.Errorf("got %d loads, want 3", got)
	}
}

// waitingCache returns a Cache over a gated source and a function that blocks
// until n callers are waiting on the load.
func waitingCache(src *countingSource) (*Cache, func(n int)) {
	c, _ := newTestCache(src, time.Hour)
	var mu sync.Mutex
	cond := sync.NewCond(&mu)
	waiting := 0
	c.wait = func() {
		mu.Lock()
		waiting++
		cond.Broadcast()
		mu.Unlock()
	}
	return c, func(n int) {
		mu.Lock()
		for waiting < n {
			cond.Wait()
		}
		mu.Unlock()
	}
}

func TestCacheSingleflight(t *testing.T) {
	const callers = 50
	src := &countingSource{gate: make(chan struct{})}
	c, waitFor := waitingCache(src)

	var wg sync.WaitGroup
	results := make([]string, callers)
	errs := make([]error, callers)
	for i := range callers {
		wg.Go(func() {
			cfg, err := c.Load(t.Context())
			results[i], errs[i] = cfg.Username, err
		})
	}
	waitFor(callers) // every caller has joined the one load, which is still gated
	close(src.gate)
	wg.Wait()

	if got := src.loads.Load(); got != 1 {
		t.Errorf("got %d loads, want 1", got)
	}
	for i := range callers {
		if errs[i] != nil || results[i] != "user-1" {
			t.Errorf("caller %d: got %q, %v, want %q", i, results[i], errs[i], "user-1")
		}
	}
}

func TestCacheCallerCancelDoesNotFailOthers(t *testing.T) {
	src := &countingSource{gate: make(chan struct{})}
	c, waitFor := waitingCache(src)

	ctx, cancel := context.WithCancel(t.Context())
	impatient := make(chan error, 1)
	go func() {
		_, err := c.Load(ctx)
		impatient <- err
	}()
	patient := make(chan error, 1)
	go func() {
		cfg, err := c.Load(t.Context())
		if err == nil && cfg.Username != "user-1" {
			err = errors.New("got " + cfg.Username)
		}
		patient <- err
	}()
	waitFor(2)
	cancel()
	if err := <-impatient; faults.CodeOf(err) != faults.RequestTimeout {
		t.Errorf("got %v, want %q", err, faults.RequestTimeout)
	}
	close(src.gate)
	if err := <-patient; err != nil {
		t.Errorf("got %v, want user-1", err)
	}
	mustLoad(t, c, "user-1") // the shared load was kept
	if got := src.loads.Load(); got != 1 {
		t.Errorf("got %d loads, want 1", got)
	}
}

func TestCacheDoneContext(t *testing.T) {
	src := &countingSource{}
	c, _ := newTestCache(src, time.Hour)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := c.Load(ctx); faults.CodeOf(err) != faults.RequestTimeout {
		t.Errorf("got %v, want %q", err, faults.RequestTimeout)
	}
	if got := src.loads.Load(); got != 0 {
		t.Errorf("got %d loads, want 0", got)
	}
}

func TestCacheInvalidateDuringLoad(t *testing.T) {
	src := &countingSource{gate: make(chan struct{})}
	c, waitFor := waitingCache(src)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = c.Load(t.Context())
	}()
	waitFor(1)
	c.Invalidate() // the credentials in flight were just rejected
	close(src.gate)
	<-done
	mustLoad(t, c, "user-2")
	if got := src.loads.Load(); got != 2 {
		t.Errorf("got %d loads, want 2", got)
	}
}

// panicking is a source whose Load panics.
type panicking struct{}

func (panicking) Load(context.Context) (Config, error) { panic("a bug in a source") }

// TestCachePanicIsAnError: a panic in the shared load is an UNKNOWN_ERROR for
// every caller, not a crash of the execution environment (singleflight would
// re-raise it in a goroutine of its own).
func TestCachePanicIsAnError(t *testing.T) {
	c := NewCache(panicking{}, time.Minute)
	_, err := c.Load(t.Context())
	if faults.CodeOf(err) != faults.UnknownError || !strings.Contains(faults.MessageOf(err), "internal error") {
		t.Fatalf("got %v, want UNKNOWN_ERROR", err)
	}
}
