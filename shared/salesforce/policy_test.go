package salesforce

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sfconnect/connector/internal/testclock"
	"github.com/sfconnect/connector/shared/credentials"
	"github.com/sfconnect/connector/shared/faults"
)

// staleInstance is an org's instance whose kept-alive connections go stale on
// demand, as they do when a NAT or Salesforce's edge drops them while Lambda has
// the execution environment frozen: a request arriving on a connection opened
// before freeze is dropped unanswered and its work is not done. Connections
// opened afterwards work.
type staleInstance struct {
	srv     *httptest.Server
	mu      sync.Mutex
	stale   map[net.Conn]bool
	opened  atomic.Int32 // connections accepted
	dropped atomic.Int32 // requests dropped on a stale connection
}

type connKey struct{}

// newStaleInstance serves o's API from a second loopback server and makes o's
// logins point there.
func newStaleInstance(t *testing.T, o *org) *staleInstance {
	t.Helper()
	s := &staleInstance{stale: map[net.Conn]bool{}}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn := r.Context().Value(connKey{}).(net.Conn)
		s.mu.Lock()
		stale := s.stale[conn]
		s.mu.Unlock()
		if stale {
			s.dropped.Add(1)
			reset(w, r)
			return
		}
		o.srv.Config.Handler.ServeHTTP(w, r)
	}))
	s.srv.Config.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		s.opened.Add(1)
		s.mu.Lock()
		s.stale[c] = false
		s.mu.Unlock()
		return context.WithValue(ctx, connKey{}, c)
	}
	s.srv.Start()
	t.Cleanup(s.srv.Close)
	o.mu.Lock()
	o.instance = s.srv.URL
	o.mu.Unlock()
	return s
}

// freeze makes every connection open now stale.
func (s *staleInstance) freeze() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.stale {
		s.stale[c] = true
	}
}

// newClock is a settable time source for the client.
func newClock() *testclock.Clock {
	return testclock.New(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
}
func createdAnswer(t *testing.T) http.HandlerFunc {
	return status(t, http.StatusCreated, "create_success_response.json")
}

// TestStaleConnectionBeforeCreate is the create after an idle pause: without
// the idle reset, the POST goes out on the connection the network dropped and
// fails as "outcome unknown" although nothing was created; with it, the POST
// goes out on a fresh connection and succeeds. Within IdleReset the pooled
// connection is reused.
func TestStaleConnectionBeforeCreate(t *testing.T) {
	tests := []struct {
		name        string
		idleReset   time.Duration
		pause       time.Duration
		freeze      bool
		wantCode    faults.Code
		wantOpened  int32
		wantDropped int32
	}{
		{"stale connection, reset off", -1, 10 * time.Minute, true, faults.UnknownError, 1, 1},
		{"stale connection, idle past IdleReset", 5 * time.Second, 6 * time.Second, true, "", 2, 0},
		{"healthy connection, idle within IdleReset", 5 * time.Second, 4 * time.Second, false, "", 1, 0},
		{"healthy connection, idle past IdleReset", 5 * time.Second, time.Minute, false, "", 2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOrg(t, script(okRecord(t), createdAnswer(t)))
			inst := newStaleInstance(t, o)
			clk := newClock()
			c, _ := newClient(t, o, func(opts *Options) {
				opts.Now = clk.Now
				opts.Transport.IdleReset = tt.idleReset
			})
			if _, err := get(c, t.Context()); err != nil { // opens the pooled connection
				t.Fatal(err)
			}
			clk.Advance(tt.pause)
			if tt.freeze {
				inst.freeze()
			}
			resp, err := create(c, t.Context())
			if faults.CodeOf(err) != tt.wantCode {
				t.Fatalf("error: got %v, want code %q", err, tt.wantCode)
			}
			if err == nil && resp.Status != http.StatusCreated {
				t.Errorf("status: got %d, want 201", resp.Status)
			}
			if err != nil && !strings.Contains(faults.MessageOf(err), "outcome is unknown") {
				t.Errorf("message: got %q, want it to say the outcome is unknown", faults.MessageOf(err))
			}
			if n := inst.opened.Load(); n != tt.wantOpened {
				t.Errorf("connections opened: got %d, want %d", n, tt.wantOpened)
			}
			if n := inst.dropped.Load(); n != tt.wantDropped {
				t.Errorf("requests on a stale connection: got %d, want %d", n, tt.wantDropped)
			}
		})
	}
}

// TestStaleConnectionIdempotent shows why only requests that must not be
// replayed pay for a fresh connection: a PATCH on a stale connection is simply
// sent again.
func TestStaleConnectionIdempotent(t *testing.T) {
	o := newOrg(t, script(okRecord(t), func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	inst := newStaleInstance(t, o)
	clk := newClock()
	c, _ := newClient(t, o, func(opts *Options) { opts.Now = clk.Now })
	if _, err := get(c, t.Context()); err != nil {
		t.Fatal(err)
	}
	clk.Advance(10 * time.Minute) // idle, the session still valid
	inst.freeze()
	var stats Stats
	resp, err := c.UpdateRecord(WithStats(t.Context(), &stats), "Account", accountID, []byte(`{"Name":"B"}`))
	if err != nil || resp.Status != http.StatusNoContent {
		t.Fatalf("UpdateRecord: got %v %v, want 204", resp, err)
	}
	if n := inst.dropped.Load(); n != 1 {
		t.Errorf("requests on a stale connection: got %d, want 1", n)
	}
	if n := stats.Attempts.Load(); n != 2 {
		t.Errorf("attempts: got %d, want 2", n)
	}
}

// loopbackOnly is an HTTP client that refuses to dial anything but loopback and
// records what it was asked to dial, so that a broken check cannot send test
// traffic out.
func loopbackOnly(t *testing.T) (*http.Client, *[]string) {
	var mu sync.Mutex
	var dialled []string
	tr := http.DefaultTransport.(*http.Transport).Clone()
	var d net.Dialer
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		mu.Lock()
		dialled = append(dialled, addr)
		mu.Unlock()
		host, _, _ := net.SplitHostPort(addr)
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			return nil, fmt.Errorf("test refuses to dial %s", addr)
		}
		return d.DialContext(ctx, network, addr)
	}
	return &http.Client{Transport: tr}, &dialled
}

// TestPlainHTTPRefused: a login answer pointing the client at plain http on a
// host that is not loopback is refused, so that no session crosses the network
// in clear.
func TestPlainHTTPRefused(t *testing.T) {
	tests := []struct {
		name     string
		flow     string
		instance string
		wantCode faults.Code
		wantText string
	}{
		{"OAuth instance_url http", credentials.FlowPassword, "http://na1.salesforce.example", faults.UnknownError, "instance_url"},
		{"SOAP serverUrl http", credentials.FlowSOAP, "http://na1.salesforce.example/services/Soap/u/45.0/00D", faults.UnknownError, "serverUrl"},
		{"OAuth instance_url http on an IP", credentials.FlowPassword, "http://10.1.2.3:8080", faults.UnknownError, "instance_url"},
		{"OAuth instance_url ftp", credentials.FlowPassword, "ftp://na1.salesforce.example", faults.UnknownError, "instance_url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOrg(t, okRecord(t))
			o.instance = tt.instance
			hc, dialled := loopbackOnly(t)
			creds := &fakeCredentials{configs: []credentials.Config{o.config(tt.flow)}}
			opts := testOptions(creds)
			opts.Transport.HTTPClient = hc
			c := New(opts)
			_, err := get(c, t.Context())
			if faults.CodeOf(err) != tt.wantCode || !strings.Contains(faults.MessageOf(err), tt.wantText) {
				t.Fatalf("error: got %v, want code %q naming %s", err, tt.wantCode, tt.wantText)
			}
			if c.tokens.Cached() != nil {
				t.Errorf("the session of the refused login was kept")
			}
			if o.calls.Load() != 0 {
				t.Errorf("API calls: got %d, want none", o.calls.Load())
			}
			for _, addr := range *dialled {
				if host, _, _ := net.SplitHostPort(addr); host != "127.0.0.1" {
					t.Errorf("dialled %s, want only loopback", addr)
				}
			}
		})
	}
}

// TestSOAPFaultStatus: a SOAP fault is an answer only with 500, the status SOAP
// 1.1 gives every fault; a 503 is the server being unavailable, whatever the
// body, so a SOAP login is retried and a createMetadata is not replayed.
func TestSOAPFaultStatus(t *testing.T) {
	unavailableFault := func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte(`<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><soapenv:Fault>` +
			`<faultcode>sf:SERVER_UNAVAILABLE</faultcode><faultstring>SERVER_UNAVAILABLE: Server too busy</faultstring>` +
			`</soapenv:Fault></soapenv:Body></soapenv:Envelope>`))
	}
	t.Run("SOAP login 503 fault is retried", func(t *testing.T) {
		o := newOrg(t, okRecord(t))
		o.loginFail = func(w http.ResponseWriter, n int) bool {
			if n == 1 {
				unavailableFault(w)
				return true
			}
			return false
		}
		creds := &fakeCredentials{configs: []credentials.Config{o.config(credentials.FlowSOAP)}}
		c := New(testOptions(creds))
		if _, err := get(c, t.Context()); err != nil {
			t.Fatalf("GetRecord: %v", err)
		}
		if loads, inv := creds.counts(); o.logins.Load() != 2 || loads != 1 || inv != 0 {
			t.Errorf("got %d logins, %d loads, %d invalidations, want 2, 1, 0 (a retry, not a rejection)", o.logins.Load(), loads, inv)
		}
	})
	t.Run("createMetadata 503 fault is not replayed", func(t *testing.T) {
		o := newOrg(t, func(w http.ResponseWriter, r *http.Request) { unavailableFault(w) })
		c, _ := newClient(t, o, nil)
		_, err := c.CreateCustomObject(t.Context(), invoice)
		if faults.CodeOf(err) != faults.UnknownError || !strings.Contains(faults.MessageOf(err), "outcome is unknown") {
			t.Fatalf("error: got %v, want %s saying the outcome is unknown", err, faults.UnknownError)
		}
		if n := o.calls.Load(); n != 1 {
			t.Errorf("calls: got %d, want 1", n)
		}
	})
}

// TestPOSTRetriedWhenNotSent: a create is sent again only after failures that
// happen before a request leaves the client (a name that did not resolve, a
// refused connection), never after a lost answer.
func TestPOSTRetriedWhenNotSent(t *testing.T) {
	tests := []struct {
		name      string
		fail      func(addr string) error // the first dial's error
		wantTries int64
	}{
		{"DNS failure", func(addr string) error {
			return &net.DNSError{Err: "no such host", Name: "na1.salesforce.example", IsNotFound: true}
		}, 2},
		{"connection refused", func(addr string) error {
			var d net.Dialer
			_, err := d.Dial("tcp", strings.TrimPrefix(refusedURL(t), "http://"))
			return err
		}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOrg(t, createdAnswer(t))
			var failNext atomic.Bool
			tr := http.DefaultTransport.(*http.Transport).Clone()
			var d net.Dialer
			tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
				if failNext.CompareAndSwap(true, false) {
					return nil, tt.fail(addr)
				}
				return d.DialContext(ctx, network, addr)
			}
			tr.DisableKeepAlives = true
			c, _ := newClient(t, o, func(opts *Options) { opts.Transport.HTTPClient = &http.Client{Transport: tr} })
			if err := c.warmUp(t); err != nil {
				t.Fatal(err)
			}
			failNext.Store(true)
			var stats Stats
			if _, err := create(c, WithStats(t.Context(), &stats)); err != nil {
				t.Fatalf("CreateRecord: %v", err)
			}
			if n := stats.Attempts.Load(); n != tt.wantTries {
				t.Errorf("attempts: got %d, want %d", n, tt.wantTries)
			}
			if n := o.calls.Load(); n != 1 {
				t.Errorf("creates at the org: got %d, want 1", n)
			}
		})
	}
}
