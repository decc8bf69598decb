package salesforce

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sfconnect/connector/shared/credentials"
	"github.com/sfconnect/connector/shared/faults"
)

const accountID = "001D000000IqhSLIAZ"

// okRecord answers every API call with the restforce record fixture.
func okRecord(t testing.TB) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		jsonAnswer(w, http.StatusOK, fixture(t, "sobject_find_success_response.json"))
	}
}

func TestPasswordLoginRequest(t *testing.T) {
	var mu sync.Mutex
	var got *http.Request
	o := newOrg(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = r.Clone(context.Background())
		mu.Unlock()
		okRecord(t)(w, r)
	})
	c, _ := newClient(t, o, nil)
	var stats Stats
	resp, err := c.GetRecord(WithStats(t.Context(), &stats), "Account", accountID, "Name", "Phone")
	if err != nil {
		t.Fatalf("GetRecord: %v", err)
	}
	if resp.Status != http.StatusOK {
		t.Errorf("status: got %d, want 200", resp.Status)
	}

	forms, _, headers := o.loginsSeen()
	form := forms[0]
	for key, want := range map[string]string{
		"grant_type":    "password",
		"client_id":     testClientID,
		"client_secret": testSecret,
		"username":      testUsername,
		"password":      testPassword + testToken, // concatenated, no separator
	} {
		if form.Get(key) != want {
			t.Errorf("form %s: got %q, want %q", key, form.Get(key), want)
		}
	}
	if ct := headers[0].Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		t.Errorf("login Content-Type: got %q, want %q", ct, "application/x-www-form-urlencoded")
	}

	mu.Lock()
	defer mu.Unlock()
	wantPath := "/services/data/v45.0/sobjects/Account/" + accountID
	if got.URL.Path != wantPath {
		t.Errorf("path: got %q, want %q", got.URL.Path, wantPath)
	}
	if f := got.URL.Query().Get("fields"); f != "Name,Phone" {
		t.Errorf("fields: got %q, want %q", f, "Name,Phone")
	}
	if a := got.Header.Get("Authorization"); !strings.HasPrefix(a, "Bearer 00Dx0000000BV7z!") {
		t.Errorf("Authorization: got %q, want the session as a bearer token", a)
	}
	if h := resp.Header.Get("Sforce-Limit-Info"); h != "api-usage=18/5000" {
		t.Errorf("Sforce-Limit-Info: got %q, want %q", h, "api-usage=18/5000")
	}
	if stats.Logins.Load() != 1 || stats.Attempts.Load() != 2 {
		t.Errorf("stats: got %d logins %d attempts, want 1 and 2", stats.Logins.Load(), stats.Attempts.Load())
	}
}

func TestSOAPLoginRequest(t *testing.T) {
	tests := []struct {
		name   string
		path   string
		wantNS string
	}{
		{"partner", "/services/Soap/u/45.0", "urn:partner.soap.sforce.com"},
		{"enterprise", "/services/Soap/c/45.0", "urn:enterprise.soap.sforce.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var auth string
			o := newOrg(t, func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				auth = r.Header.Get("Authorization")
				mu.Unlock()
				okRecord(t)(w, r)
			})
			cfg := o.config(credentials.FlowSOAP)
			cfg.SOAPLoginURL = o.URL() + tt.path
			creds := &fakeCredentials{configs: []credentials.Config{cfg}}
			c := New(testOptions(creds))

			if _, err := c.GetRecord(t.Context(), "Account", accountID); err != nil {
				t.Fatalf("GetRecord: %v", err)
			}
			if n := o.logins.Load(); n != 1 {
				t.Fatalf("logins: got %d, want 1", n)
			}
			_, soap, headers := o.loginsSeen()
			l := soap[0]
			if l.ns != tt.wantNS {
				t.Errorf("namespace: got %q, want %q", l.ns, tt.wantNS)
			}
			if l.username != testUsername || l.password != testPassword+testToken {
				t.Errorf("credentials: got %q/%q, want %q/%q", l.username, l.password, testUsername, testPassword+testToken)
			}
			if !strings.Contains(l.raw, "pa&amp;ss&lt;w0rd&gt;XXXXXXXXXX") {
				t.Errorf("password not XML-escaped in %q", l.raw)
			}
			h := headers[0]
			if h.Get("SOAPAction") != "login" || !strings.HasPrefix(h.Get("Content-Type"), "text/xml") {
				t.Errorf("headers: got SOAPAction %q Content-Type %q, want login and text/xml", h.Get("SOAPAction"), h.Get("Content-Type"))
			}
			mu.Lock()
			defer mu.Unlock()
			if !strings.HasPrefix(auth, "Bearer 00Dx0000000BV7z!") {
				t.Errorf("Authorization: got %q, want the sessionId as a bearer token", auth)
			}
		})
	}
}

func TestTokenReuse(t *testing.T) {
	o := newOrg(t, okRecord(t))
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	var clock sync.Mutex
	c, _ := newClient(t, o, func(opts *Options) {
		opts.TokenTTL = time.Hour
		opts.Now = func() time.Time { clock.Lock(); defer clock.Unlock(); return now }
	})
	for i := range 100 {
		if _, err := c.GetRecord(t.Context(), "Account", accountID); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if n := o.logins.Load(); n != 1 {
		t.Errorf("logins after 100 calls: got %d, want 1", n)
	}
	if n := o.calls.Load(); n != 100 {
		t.Errorf("calls: got %d, want 100", n)
	}

	clock.Lock()
	now = now.Add(time.Hour)
	clock.Unlock()
	if _, err := c.GetRecord(t.Context(), "Account", accountID); err != nil {
		t.Fatal(err)
	}
	if n := o.logins.Load(); n != 2 {
		t.Errorf("logins after the TTL: got %d, want 2", n)
	}
}

func TestConcurrentCallersShareOneLogin(t *testing.T) {
	o := newOrg(t, okRecord(t))
	c, creds := newClient(t, o, nil)
	creds.gate = make(chan struct{})

	const callers = 50
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Go(func() {
			_, err := c.GetRecord(t.Context(), "Account", accountID)
			errs <- err
		})
	}
	// A caller that gives up while the login is under way must not fail the others.
	cancelled, cancel := context.WithCancel(t.Context())
	quit := make(chan error, 1)
	go func() {
		_, err := c.GetRecord(cancelled, "Account", accountID)
		quit <- err
	}()
	time.Sleep(50 * time.Millisecond) // let the callers pile up behind the login
	cancel()
	if err := <-quit; faults.CodeOf(err) != faults.RequestTimeout {
		t.Errorf("cancelled caller: got %v, want %s", err, faults.RequestTimeout)
	}
	close(creds.gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("caller: %v", err)
		}
	}
	if n := o.logins.Load(); n != 1 {
		t.Errorf("logins: got %d, want 1", n)
	}
	if loads, _ := creds.counts(); loads != 1 {
		t.Errorf("credential loads: got %d, want 1", loads)
	}
}

func TestSessionRejected(t *testing.T) {
	tests := []struct {
		name       string
		call       func(c *Client, ctx context.Context) (*Response, error)
		always     bool // the org rejects every session
		wantCode   faults.Code
		wantLogins int32
		wantCalls  int32
	}{
		{"GET replayed once after 401", get, false, "", 2, 2},
		{"POST replayed once after 401", create, false, "", 2, 2},
		{"401 that persists", get, true, faults.MissingToken, 2, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var o *org
			o = newOrg(t, func(w http.ResponseWriter, r *http.Request) {
				if tt.always {
					o.revoke()
					jsonAnswer(w, http.StatusUnauthorized, fixture(t, "expired_session_response.json"))
					return
				}
				jsonAnswer(w, http.StatusCreated, fixture(t, "create_success_response.json"))
			})
			c, _ := newClient(t, o, nil)
			// Log in, then let the session expire on the org's side.
			if err := c.warmUp(t); err != nil {
				t.Fatal(err)
			}
			o.revoke()

			_, err := tt.call(c, t.Context())
			if faults.CodeOf(err) != tt.wantCode {
				t.Fatalf("error: got %v, want code %q", err, tt.wantCode)
			}
			if n := o.logins.Load(); n != tt.wantLogins {
				t.Errorf("logins: got %d, want %d", n, tt.wantLogins)
			}
			if n := o.calls.Load(); n != tt.wantCalls {
				t.Errorf("calls: got %d, want %d", n, tt.wantCalls)
			}
		})
	}
}

func get(c *Client, ctx context.Context) (*Response, error) {
	return c.GetRecord(ctx, "Account", accountID)
}

func create(c *Client, ctx context.Context) (*Response, error) {
	return c.CreateRecord(ctx, "Account", []byte(`{"Name":"Acme"}`))
}

// warmUp logs the client in by fetching its token.
func (c *Client) warmUp(t *testing.T) error {
	t.Helper()
	_, err := c.tokens.Token(t.Context())
	return err
}

func TestLoginRejected(t *testing.T) {
	oauthReject := func(w http.ResponseWriter, n int) bool {
		// Salesforce's body, plus the username to prove messages never carry it.
		jsonAnswer(w, http.StatusBadRequest, []byte(`{"error":"invalid_grant","error_description":"authentication failure for `+testUsername+`"}`))
		return true
	}
	soapReject := func(w http.ResponseWriter, n int) bool {
		w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
		w.WriteHeader(http.StatusInternalServerError)
		w.Write(fixture(t, "soap_invalid_login_fault.xml"))
		return true
	}
	tests := []struct {
		name        string
		flow        string
		reject      func(w http.ResponseWriter, n int) bool
		rotated     bool // the second load brings the new password
		wantCode    faults.Code
		wantMessage string
	}{
		{"OAuth 400 twice", credentials.FlowPassword, oauthReject, false, faults.MissingToken, "invalid_grant: authentication failure"},
		{"OAuth 400 then rotated secret", credentials.FlowPassword, oauthReject, true, "", ""},
		{"SOAP INVALID_LOGIN twice", credentials.FlowSOAP, soapReject, false, faults.MissingToken, "INVALID_LOGIN: INVALID_LOGIN: Invalid username"},
		{"SOAP INVALID_LOGIN then rotated secret", credentials.FlowSOAP, soapReject, true, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOrg(t, okRecord(t))
			old := o.config(tt.flow)
			rotated := old
			rotated.Password = "n3w-password"
			o.loginFail = func(w http.ResponseWriter, n int) bool {
				if tt.rotated && n > 1 {
					return false
				}
				return tt.reject(w, n)
			}
			creds := &fakeCredentials{configs: []credentials.Config{old, rotated}}
			c := New(testOptions(creds))

			_, err := c.GetRecord(t.Context(), "Account", accountID)
			if faults.CodeOf(err) != tt.wantCode {
				t.Fatalf("error: got %v, want code %q", err, tt.wantCode)
			}
			if loads, inv := creds.counts(); loads != 2 || inv != 1 {
				t.Errorf("credentials: got %d loads %d invalidations, want 2 and 1", loads, inv)
			}
			if n := o.logins.Load(); n != 2 {
				t.Errorf("logins: got %d, want 2", n)
			}
			if err == nil {
				return
			}
			msg := faults.MessageOf(err)
			if !strings.Contains(msg, tt.wantMessage) {
				t.Errorf("message: got %q, want it to contain %q", msg, tt.wantMessage)
			}
			for _, secret := range []string{testUsername, testPassword, testToken, testSecret} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q carries a credential", err.Error())
				}
			}
		})
	}
}

func TestLoginSentOnceWhenLoginEndpointFailsOver(t *testing.T) {
	// The token endpoint answers 503 once: the login is retried (it is idempotent).
	o := newOrg(t, okRecord(t))
	o.loginFail = func(w http.ResponseWriter, n int) bool {
		if n == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write(fixture(t, "service_unavailable.html"))
			return true
		}
		return false
	}
	c, creds := newClient(t, o, nil)
	if _, err := c.GetRecord(t.Context(), "Account", accountID); err != nil {
		t.Fatalf("GetRecord: %v", err)
	}
	if n := o.logins.Load(); n != 2 {
		t.Errorf("login requests: got %d, want 2", n)
	}
	if _, inv := creds.counts(); inv != 0 {
		t.Errorf("invalidations: got %d, want 0 (a 503 is not a rejection)", inv)
	}
}
