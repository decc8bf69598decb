package salesforce

import (
	"context"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sfconnect/connector/shared/faults"
)

// script answers the n-th API call (from 1) with steps[n-1]; the last step repeats.
func script(steps ...http.HandlerFunc) http.HandlerFunc {
	var n atomic.Int32
	return func(w http.ResponseWriter, r *http.Request) {
		i := min(int(n.Add(1)), len(steps)) - 1
		steps[i](w, r)
	}
}

func status(t *testing.T, code int, name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(name, ".html") {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(code)
			w.Write(fixture(t, name))
			return
		}
		jsonAnswer(w, code, fixture(t, name))
	}
}

func unavailable(t *testing.T) http.HandlerFunc {
	return status(t, http.StatusServiceUnavailable, "service_unavailable.html")
}

func TestAnswersAndFailures(t *testing.T) {
	type call func(c *Client, ctx context.Context) (*Response, error)
	update := func(c *Client, ctx context.Context) (*Response, error) {
		return c.UpdateRecord(ctx, "Account", accountID, []byte(`{"Name":"Acme"}`))
	}
	submit := func(c *Client, ctx context.Context) (*Response, error) {
		return c.ProcessApprovals(ctx, []byte(`{"requests":[{"actionType":"Submit","contextId":"`+accountID+`"}]}`))
	}
	tests := []struct {
		name        string
		api         http.HandlerFunc
		call        call
		maxAttempts int
		wantStatus  int // when no error is wanted
		wantCode    faults.Code
		wantMessage string
		wantCalls   int32
	}{
		{name: "400 is an answer", api: status(t, 400, "write_error_response.json"), call: create,
			wantStatus: 400, wantCalls: 1},
		{name: "404 is an answer", api: status(t, 404, "sobject_find_error_response.json"), call: get,
			wantStatus: 404, wantCalls: 1},
		{name: "GET 500 then 200", api: script(status(t, 500, "write_error_response.json"), okRecord(t)), call: get,
			wantStatus: 200, wantCalls: 2},
		{name: "PATCH reset then 204", api: script(reset, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }),
			call: update, wantStatus: 204, wantCalls: 2},
		{name: "503 HTML persists", api: unavailable(t), call: get,
			wantCode: faults.CircuitBreakerOpen, wantMessage: "503 after 3 attempts", wantCalls: 3},
		{name: "429 persists", api: status(t, 429, "write_error_response.json"), call: get,
			wantCode: faults.CircuitBreakerOpen, wantMessage: "429 after 3 attempts", wantCalls: 3},
		{name: "503 on the only attempt", api: unavailable(t), call: get, maxAttempts: 1,
			wantCode: faults.UnknownError, wantMessage: "503", wantCalls: 1},
		{name: "POST 500 not retried", api: status(t, 500, "write_error_response.json"), call: create,
			wantCode: faults.UnknownError, wantMessage: "outcome is unknown", wantCalls: 1},
		{name: "approval POST 503 not retried", api: unavailable(t), call: submit,
			wantCode: faults.UnknownError, wantMessage: "not retried to avoid a duplicate", wantCalls: 1},
		{name: "POST reset not retried", api: reset, call: create,
			wantCode: faults.UnknownError, wantMessage: "outcome is unknown", wantCalls: 1},
		{name: "POST 429 is an answer", api: status(t, 429, "write_error_response.json"), call: create,
			wantStatus: 429, wantCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOrg(t, tt.api)
			c, _ := newClient(t, o, func(opts *Options) {
				if tt.maxAttempts > 0 {
					opts.Transport.MaxAttempts = tt.maxAttempts
				}
			})
			resp, err := tt.call(c, t.Context())
			if faults.CodeOf(err) != tt.wantCode {
				t.Fatalf("error: got %v, want code %q", err, tt.wantCode)
			}
			if err != nil && !strings.Contains(faults.MessageOf(err), tt.wantMessage) {
				t.Errorf("message: got %q, want it to contain %q", faults.MessageOf(err), tt.wantMessage)
			}
			if err == nil && resp.Status != tt.wantStatus {
				t.Errorf("status: got %d, want %d", resp.Status, tt.wantStatus)
			}
			if n := o.calls.Load(); n != tt.wantCalls {
				t.Errorf("calls: got %d, want %d", n, tt.wantCalls)
			}
		})
	}
}

func TestPassthroughKeepsBody(t *testing.T) {
	o := newOrg(t, status(t, 400, "write_error_response.json"))
	c, _ := newClient(t, o, nil)
	resp, err := create(c, t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if want := string(fixture(t, "write_error_response.json")); string(resp.Body) != want {
		t.Errorf("body: got %q, want %q", resp.Body, want)
	}
	if h := resp.Header.Get("Sforce-Limit-Info"); h == "" {
		t.Errorf("Sforce-Limit-Info missing from %v", resp.Header)
	}
}

func TestPOSTTimeout(t *testing.T) {
	tests := []struct {
		name     string
		deadline time.Duration // 0: none, the per-attempt timeout ends it
		wantCode faults.Code
	}{
		{"per-attempt timeout", 0, faults.UnknownError},
		{"deadline", 300 * time.Millisecond, faults.RequestTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOrg(t, hang)
			c, _ := newClient(t, o, func(opts *Options) {
				if tt.deadline == 0 {
					opts.Transport.Timeout = 100 * time.Millisecond
				}
			})
			if err := c.warmUp(t); err != nil {
				t.Fatal(err)
			}
			ctx := t.Context()
			if tt.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.deadline)
				defer cancel()
			}
			_, err := create(c, ctx)
			if faults.CodeOf(err) != tt.wantCode {
				t.Fatalf("error: got %v, want code %q", err, tt.wantCode)
			}
			if msg := faults.MessageOf(err); !strings.Contains(msg, "outcome is unknown") {
				t.Errorf("message: got %q, want it to say the outcome is unknown", msg)
			}
			if n := o.calls.Load(); n != 1 {
				t.Errorf("calls: got %d, want 1", n)
			}
		})
	}
}

func TestGETTimeoutRetried(t *testing.T) {
	o := newOrg(t, script(hang, okRecord(t)))
	c, _ := newClient(t, o, func(opts *Options) { opts.Transport.Timeout = 100 * time.Millisecond })
	if _, err := get(c, t.Context()); err != nil {
		t.Fatalf("GetRecord: %v", err)
	}
	if n := o.calls.Load(); n != 2 {
		t.Errorf("calls: got %d, want 2", n)
	}
}

func TestDeadline(t *testing.T) {
	o := newOrg(t, hang)
	c, _ := newClient(t, o, nil) // 5s per attempt: only the deadline can end the call
	if err := c.warmUp(t); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	_, err := get(c, ctx)
	if faults.CodeOf(err) != faults.RequestTimeout {
		t.Fatalf("error: got %v, want %s", err, faults.RequestTimeout)
	}
	if n := o.calls.Load(); n != 1 {
		t.Errorf("calls: got %d, want 1", n)
	}
}

func TestNoTimeLeft(t *testing.T) {
	o := newOrg(t, okRecord(t))
	c, _ := newClient(t, o, func(opts *Options) { opts.DeadlineMargin = time.Second })
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond) // inside the margin
	defer cancel()
	var stats Stats
	_, err := get(c, WithStats(ctx, &stats))
	if faults.CodeOf(err) != faults.RequestTimeout {
		t.Fatalf("error: got %v, want %s", err, faults.RequestTimeout)
	}
	if n := o.logins.Load() + o.calls.Load(); n != 0 || stats.Attempts.Load() != 0 {
		t.Errorf("requests: got %d at the org, %d attempts, want none", n, stats.Attempts.Load())
	}
}

func TestRetryAfter(t *testing.T) {
	throttled := func(after string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", after)
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}
	tests := []struct {
		name      string
		after     string
		maxDelay  time.Duration
		deadline  time.Duration
		wantWaits []time.Duration
		wantCode  faults.Code
		wantCalls int32
	}{
		{"honoured", "1", 5 * time.Second, 0, []time.Duration{time.Second}, "", 2},
		{"capped by RetryMaxDelay", "30", 2 * time.Second, 0, []time.Duration{2 * time.Second}, "", 2},
		{"longer than the time left", "30", time.Minute, 2 * time.Second, nil, faults.RequestTimeout, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOrg(t, script(throttled(tt.after), okRecord(t)))
			var waits *[]time.Duration
			c, _ := newClient(t, o, func(opts *Options) {
				opts.Transport.RetryMaxDelay = tt.maxDelay
				waits = recordWaits(opts)
			})
			ctx := t.Context()
			if tt.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.deadline)
				defer cancel()
			}
			_, err := get(c, ctx)
			if faults.CodeOf(err) != tt.wantCode {
				t.Fatalf("error: got %v, want code %q", err, tt.wantCode)
			}
			if n := o.calls.Load(); n != tt.wantCalls {
				t.Errorf("calls: got %d, want %d", n, tt.wantCalls)
			}
			if len(*waits) != len(tt.wantWaits) {
				t.Fatalf("waits: got %v, want %v", *waits, tt.wantWaits)
			}
			for i := range tt.wantWaits {
				if (*waits)[i] != tt.wantWaits[i] {
					t.Errorf("wait %d: got %v, want %v", i, (*waits)[i], tt.wantWaits[i])
				}
			}
		})
	}
}

func TestConnectionRefused(t *testing.T) {
	tests := []struct {
		name        string
		call        func(c *Client, ctx context.Context) (*Response, error)
		maxAttempts int
		wantCode    faults.Code
		wantMessage string
		wantTries   int64
	}{
		{"POST retried, all refused", create, 3, faults.ConnectionError, "connection refused after 3 attempts", 3},
		{"GET retried, all refused", get, 3, faults.ConnectionError, "connection refused after 3 attempts", 3},
		{"only attempt refused", create, 1, faults.ConnectionError, "connection refused", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOrg(t, okRecord(t))
			o.instance = refusedURL(t) // login works, the instance refuses
			c, _ := newClient(t, o, func(opts *Options) { opts.Transport.MaxAttempts = tt.maxAttempts })
			if err := c.warmUp(t); err != nil {
				t.Fatal(err)
			}
			var stats Stats
			_, err := tt.call(c, WithStats(t.Context(), &stats))
			if faults.CodeOf(err) != tt.wantCode {
				t.Fatalf("error: got %v, want code %q", err, tt.wantCode)
			}
			if msg := faults.MessageOf(err); !strings.Contains(msg, tt.wantMessage) {
				t.Errorf("message: got %q, want it to contain %q", msg, tt.wantMessage)
			}
			if n := stats.Attempts.Load(); n != tt.wantTries {
				t.Errorf("attempts: got %d, want %d", n, tt.wantTries)
			}
		})
	}
}

func TestPOSTRetriedAfterRefusal(t *testing.T) {
	o := newOrg(t, status(t, http.StatusCreated, "create_success_response.json"))
	// Refuse the next dial, as a Salesforce host that is not accepting yet does.
	var refuse atomic.Int32
	dialer := &net.Dialer{}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.DisableKeepAlives = true
	transport.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if refuse.Add(-1) >= 0 {
			return dialer.DialContext(ctx, network, strings.Replace(refusedURL(t), "http://", "", 1))
		}
		return dialer.DialContext(ctx, network, addr)
	}
	c, _ := newClient(t, o, func(opts *Options) { opts.Transport.HTTPClient = &http.Client{Transport: transport} })
	if err := c.warmUp(t); err != nil {
		t.Fatal(err)
	}
	refuse.Store(1)
	var stats Stats
	resp, err := create(c, WithStats(t.Context(), &stats))
	if err != nil {
		t.Fatalf("CreateRecord: %v", err)
	}
	if resp.Status != http.StatusCreated {
		t.Errorf("status: got %d, want 201", resp.Status)
	}
	if n := o.calls.Load(); n != 1 {
		t.Errorf("creates at the org: got %d, want 1", n)
	}
	if n := stats.Attempts.Load(); n != 2 {
		t.Errorf("attempts: got %d, want 2", n)
	}
}

func TestBreaker(t *testing.T) {
	var healthy atomic.Bool
	o := newOrg(t, func(w http.ResponseWriter, r *http.Request) {
		if healthy.Load() {
			okRecord(t)(w, r)
			return
		}
		unavailable(t)(w, r)
	})
	c, _ := newClient(t, o, func(opts *Options) {
		opts.Transport.BreakerFailures = 3
		opts.Transport.BreakerCooldown = 20 * time.Millisecond
	})
	if err := c.warmUp(t); err != nil {
		t.Fatal(err)
	}

	if _, err := get(c, t.Context()); faults.CodeOf(err) != faults.CircuitBreakerOpen {
		t.Fatalf("first call: got %v, want %s", err, faults.CircuitBreakerOpen)
	}
	if n := o.calls.Load(); n != 3 {
		t.Fatalf("calls: got %d, want 3", n)
	}

	var stats Stats
	_, err := get(c, WithStats(t.Context(), &stats))
	if faults.CodeOf(err) != faults.CircuitBreakerOpen {
		t.Fatalf("while open: got %v, want %s", err, faults.CircuitBreakerOpen)
	}
	if n := o.calls.Load(); n != 3 || stats.Attempts.Load() != 0 {
		t.Errorf("while open: got %d calls at the org and %d attempts, want 3 and 0", n, stats.Attempts.Load())
	}

	healthy.Store(true)
	time.Sleep(60 * time.Millisecond) // past the cooldown: the next call is the probe
	if _, err := get(c, t.Context()); err != nil {
		t.Fatalf("probe: %v", err)
	}
	if _, err := get(c, t.Context()); err != nil {
		t.Fatalf("after the probe: %v", err)
	}
	if n := o.calls.Load(); n != 5 {
		t.Errorf("calls: got %d, want 5", n)
	}
}

func TestBreakerCountsAnswersAsSuccess(t *testing.T) {
	// 503, 400, 503: never two transient failures in a row, so with a threshold
	// of 2 the breaker stays closed and the fourth call reaches the org.
	o := newOrg(t, script(unavailable(t), status(t, 400, "write_error_response.json"), unavailable(t), okRecord(t)))
	c, _ := newClient(t, o, func(opts *Options) {
		opts.Transport.BreakerFailures = 2
		opts.Transport.MaxAttempts = 1
	})
	for i := range 4 {
		get(c, t.Context())
		if n := o.calls.Load(); n != int32(i+1) {
			t.Fatalf("after call %d: got %d calls at the org, want %d", i+1, n, i+1)
		}
	}
}

func TestBodyCap(t *testing.T) {
	o := newOrg(t, func(w http.ResponseWriter, r *http.Request) {
		jsonAnswer(w, http.StatusOK, []byte(`{"Name":"`+strings.Repeat("x", 4096)+`"}`))
	})
	c, _ := newClient(t, o, func(opts *Options) { opts.Transport.MaxBodyBytes = 1024 })
	if err := c.warmUp(t); err != nil { // the login answer is under the cap
		t.Fatal(err)
	}
	_, err := get(c, t.Context())
	if faults.CodeOf(err) != faults.UnknownError {
		t.Fatalf("error: got %v, want %s", err, faults.UnknownError)
	}
	if n := o.calls.Load(); n != 1 {
		t.Errorf("calls: got %d, want 1", n)
	}
}
