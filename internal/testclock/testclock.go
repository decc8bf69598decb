// Package testclock is a settable clock for tests of code with a
// `Now func() time.Time` seam (credentials' Cache, salesforce.Options,
// sforg.Options). It is safe for concurrent use, since the code under test
// reads it from its own goroutines while the test moves it.
package testclock

import (
	"sync"
	"time"
)

// Clock is a time that moves only when the test says so.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// New returns a clock showing t.
func New(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time; pass it as the code's Now seam.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
