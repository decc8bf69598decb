package salesforce

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sfconnect/connector/internal/testclock"
	"github.com/sfconnect/connector/shared/faults"
)

func TestParseLimitInfo(t *testing.T) {
	tests := []struct {
		header string
		want   Usage
		ok     bool
	}{
		{"api-usage=18/5000", Usage{18, 5000, 0.36}, true},
		{"api-usage=25/5000; per-app-api-usage=17/250(appName=sample-connected-app)", Usage{25, 5000, 0.5}, true},
		{"per-app-api-usage=17/250(appName=x); api-usage=4500/5000", Usage{4500, 5000, 90}, true},
		{"api-bursts=1/750, API-Usage = 2 / 3", Usage{2, 3, 66.67}, true},
		{"api-usage=5000/5000", Usage{5000, 5000, 100}, true},
		{"", Usage{}, false},
		{"per-app-api-usage=17/250", Usage{}, false},
		{"api-usage=18", Usage{}, false},
		{"api-usage=18/0", Usage{}, false},
		{"api-usage=-1/5000", Usage{}, false},
		{"api-usage=x/5000", Usage{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			got, ok := ParseLimitInfo(tt.header)
			if got != tt.want || ok != tt.ok {
				t.Errorf("got %+v %v, want %+v %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

// usageOrg answers every REST call 200 with the usage it is told to report.
type usageOrg struct {
	*org
	usage atomic.Value // string: the Sforce-Limit-Info value
}

func newUsageOrg(t *testing.T) *usageOrg {
	u := &usageOrg{}
	u.usage.Store("api-usage=18/5000")
	u.org = newOrg(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Sforce-Limit-Info", u.usage.Load().(string))
		jsonAnswer(w, http.StatusOK, []byte(`{"attributes":{"type":"Account"},"Name":"Acme"}`))
	})
	return u
}

func TestUsageGuard(t *testing.T) {
	o := newUsageOrg(t)
	clk := testclock.New(time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC))
	c, _ := newClient(t, o.org, func(opts *Options) {
		opts.APIUsageLimitPercent = 90
		opts.Transport.BreakerCooldown = 30 * time.Second
		opts.Now = clk.Now
	})
	getAccount := func() error {
		_, err := c.GetRecord(t.Context(), "Account", "001D000000IqhSLIAZ")
		return err
	}
	steps := []struct {
		name      string
		usage     string        // what Salesforce reports from this step on
		wait      time.Duration // clock advance before the call
		wantCode  faults.Code
		wantCalls int32 // API calls the org has seen after the step
	}{
		{"under the limit", "api-usage=18/5000", 0, "", 1},
		{"the call that reports 90% goes through", "api-usage=4500/5000", 0, "", 2},
		{"then calls fail fast", "", 0, faults.CircuitBreakerOpen, 2},
		{"still within the cool-down", "", 29 * time.Second, faults.CircuitBreakerOpen, 2},
		{"one probe after the cool-down", "", time.Second, "", 3},
		{"the probe still saw 90%", "", 0, faults.CircuitBreakerOpen, 3},
		{"the next probe sees the window moved on", "api-usage=3000/5000", 30 * time.Second, "", 4},
		{"calls flow again", "", 0, "", 5},
	}
	for _, s := range steps {
		if s.usage != "" {
			o.usage.Store(s.usage)
		}
		clk.Advance(s.wait)
		err := getAccount()
		if faults.CodeOf(err) != s.wantCode {
			t.Fatalf("%s: got error %v, want code %q", s.name, err, s.wantCode)
		}
		if n := o.calls.Load(); n != s.wantCalls {
			t.Fatalf("%s: got %d API calls, want %d", s.name, n, s.wantCalls)
		}
		if err != nil {
			for _, want := range []string{"not sent", "4500 of its 5000", "90.00%", "SALESFORCE_API_USAGE_LIMIT_PERCENT", "30s"} {
				if !strings.Contains(faults.MessageOf(err), want) {
					t.Errorf("%s: message %q does not contain %q", s.name, faults.MessageOf(err), want)
				}
			}
		}
	}
	if u, ok := c.APIUsage(); !ok || u != (Usage{3000, 5000, 60}) {
		t.Errorf("APIUsage: got %+v %v, want 3000/5000", u, ok)
	}
}

func TestUsageGuardAdmitsAnInvocationOnce(t *testing.T) {
	o := newUsageOrg(t)
	c, _ := newClient(t, o.org, func(opts *Options) { opts.APIUsageLimitPercent = 50 })
	o.usage.Store("api-usage=2600/5000")

	// One invocation: the first call is let through (the guard had not seen the
	// usage yet) and so are the calls after it, although they report 52%.
	var first Stats
	ctx := WithStats(t.Context(), &first)
	for i := range 3 {
		if _, err := c.GetRecord(ctx, "Account", "001D000000IqhSLIAZ"); err != nil {
			t.Fatalf("call %d of the admitted invocation: %v", i+1, err)
		}
	}
	if u, ok := first.APIUsage(); !ok || u.Used != 2600 || u.Percent != 52 {
		t.Errorf("Stats.APIUsage: got %+v %v, want 2600/5000 52%%", u, ok)
	}

	// The next invocation is refused before it sends anything.
	var second Stats
	_, err := c.GetRecord(WithStats(t.Context(), &second), "Account", "001D000000IqhSLIAZ")
	if faults.CodeOf(err) != faults.CircuitBreakerOpen {
		t.Fatalf("second invocation: got %v, want CIRCUIT_BREAKER_OPEN", err)
	}
	if n := second.Attempts.Load(); n != 0 {
		t.Errorf("second invocation: got %d attempts, want 0", n)
	}
	if _, ok := second.APIUsage(); ok {
		t.Error("second invocation: got a usage, want none (nothing was sent)")
	}
	if n := o.calls.Load(); n != 3 {
		t.Errorf("got %d API calls, want 3", n)
	}
}

func TestUsageGuardOff(t *testing.T) {
	o := newUsageOrg(t)
	o.usage.Store("api-usage=5000/5000")
	c, _ := newClient(t, o.org, nil)
	for i := range 3 {
		if _, err := c.GetRecord(context.Background(), "Account", "001D000000IqhSLIAZ"); err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
	if u, ok := c.APIUsage(); !ok || u.Percent != 100 {
		t.Errorf("got %+v %v, want 100%%", u, ok)
	}
}
