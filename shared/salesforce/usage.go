package salesforce

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sfconnect/connector/shared/faults"
)

// Usage is the org's API request usage as Salesforce reports it on every REST
// answer, in the header Sforce-Limit-Info: api-usage=N/M (docs/salesforce-protocol.md
// §7): N requests made in the last 24 hours out of a daily allocation of M.
// Past M, Salesforce can refuse every call with 403 REQUEST_LIMIT_EXCEEDED,
// whichever integration made them.
type Usage struct {
	Used    int     `json:"used"`
	Max     int     `json:"max"`
	Percent float64 `json:"percent"` // Used/Max as a percentage, rounded to two decimals
}

// String is the header's own notation, "N/M".
func (u Usage) String() string { return strconv.Itoa(u.Used) + "/" + strconv.Itoa(u.Max) }

// ratio is the exact percentage, for comparisons; Percent is rounded for show.
func (u Usage) ratio() float64 { return float64(u.Used) * 100 / float64(u.Max) }

// ParseLimitInfo reads the api-usage part of a Sforce-Limit-Info value such as
// "api-usage=18/5000; per-app-api-usage=17/250(appName=sample-app)". It reports
// false when there is none or it is not two counts with a positive maximum.
func ParseLimitInfo(header string) (Usage, bool) {
	for part := range strings.FieldsFuncSeq(header, func(r rune) bool { return r == ';' || r == ',' }) {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "api-usage") {
			continue
		}
		n, m, ok := strings.Cut(strings.TrimSpace(v), "/")
		used, err1 := strconv.Atoi(strings.TrimSpace(n))
		limit, err2 := strconv.Atoi(strings.TrimSpace(m))
		if !ok || err1 != nil || err2 != nil || used < 0 || limit <= 0 {
			return Usage{}, false
		}
		u := Usage{Used: used, Max: limit}
		u.Percent = math.Round(u.ratio()*100) / 100
		return u, true
	}
	return Usage{}, false
}

// APIUsage returns the last API usage Salesforce reported to the calls counted
// in s: after a multi-page query, that of its last page.
func (s *Stats) APIUsage() (Usage, bool) {
	if u := s.usage.Load(); u != nil {
		return *u, true
	}
	return Usage{}, false
}

// APIUsage returns the last API usage Salesforce reported to this client, that is
// to this execution environment.
func (c *Client) APIUsage() (Usage, bool) { return c.usage.lastSeen() }

// observeUsage remembers the usage an answer reports, for the invocation (its
// Stats) and the execution environment (the guard).
func (c *Client) observeUsage(ctx context.Context, h http.Header) {
	u, ok := ParseLimitInfo(h.Get("Sforce-Limit-Info"))
	if !ok {
		return
	}
	c.usage.observe(u)
	if s := statsOf(ctx); s != nil {
		s.usage.Store(&u)
	}
}

// admitUsage is the usage guard's check before a call is sent. With Stats in
// ctx (one connector invocation) only the first call is checked: an invocation
// that was let through runs to its end, so a query is never cut between pages.
func (c *Client) admitUsage(ctx context.Context) error {
	s := statsOf(ctx)
	if s != nil && s.admitted.Load() {
		return nil
	}
	if err := c.usage.admit(); err != nil {
		return err
	}
	if s != nil {
		s.admitted.Store(true)
	}
	return nil
}

// usageGuard stops calls before the org's daily API allocation runs out. Once the
// last usage Salesforce reported is at or over limit percent, calls fail fast
// with CIRCUIT_BREAKER_OPEN without being sent, except one every cooldown: that
// one reads the usage again (it only falls as the 24-hour window moves on), so
// the guard never blocks for good.
type usageGuard struct {
	limit    float64 // percent of the allocation; 0 turns the guard off
	cooldown time.Duration
	now      func() time.Time

	mu      sync.Mutex
	last    Usage
	seen    bool
	probeAt time.Time // while over: when the next call may go through to re-read the usage
}

func (g *usageGuard) over() bool {
	return g.limit > 0 && g.seen && g.last.ratio() >= g.limit
}

func (g *usageGuard) observe(u Usage) {
	g.mu.Lock()
	defer g.mu.Unlock()
	was := g.over()
	g.last, g.seen = u, true
	if g.over() && !was {
		g.probeAt = g.now().Add(g.cooldown)
	}
}

func (g *usageGuard) lastSeen() (Usage, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.last, g.seen
}

func (g *usageGuard) admit() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.over() {
		return nil
	}
	now := g.now()
	if !now.Before(g.probeAt) {
		g.probeAt = now.Add(g.cooldown)
		return nil
	}
	return faults.New(faults.CircuitBreakerOpen,
		"not sent: the org has used %d of its %d daily API requests (%.2f%%), at or over the %g%% set by %s; one call is let through every %s to read the usage again",
		g.last.Used, g.last.Max, g.last.Percent, g.limit, "SALESFORCE_API_USAGE_LIMIT_PERCENT", g.cooldown)
}
