package salesforce

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sfconnect/connector/shared/credentials"
	"github.com/sfconnect/connector/shared/salesforce/session"
	"github.com/sfconnect/connector/shared/salesforce/transport"
)

// org is a fake Salesforce org on loopback: it logs in with the OAuth
// username-password flow and SOAP login(), checks sessions, and hands every
// authenticated API call to api. It counts logins and API calls as they arrive.
type org struct {
	t   testing.TB
	srv *httptest.Server
	api http.HandlerFunc

	logins atomic.Int32 // login requests, accepted or not
	calls  atomic.Int32 // API requests after login, accepted or not

	mu       sync.Mutex
	sessions map[string]bool
	seq      int
	forms    []url.Values  // password-login forms, in order
	soap     []loginSOAP   // SOAP login bodies, in order
	headers  []http.Header // login request headers, in order
	// loginFail, when set, may answer login number n (from 1) itself.
	loginFail func(w http.ResponseWriter, n int) bool
	// instance overrides the instance URL given at login (a refusing port, say).
	instance string
}

// loginSOAP is what the fake read from a SOAP login request.
type loginSOAP struct {
	raw      string
	ns       string
	username string
	password string
}

func newOrg(t testing.TB, api http.HandlerFunc) *org {
	t.Helper()
	o := &org{t: t, api: api, sessions: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /services/oauth2/token", o.passwordLogin)
	mux.HandleFunc("POST /services/Soap/u/{version}", o.soapLogin)
	mux.HandleFunc("POST /services/Soap/c/{version}", o.soapLogin)
	mux.HandleFunc("POST /services/Soap/m/{version}", o.metadata)
	mux.HandleFunc("/services/data/", o.rest)
	o.srv = httptest.NewServer(mux) // listens on 127.0.0.1, port 0
	t.Cleanup(o.srv.Close)
	return o
}

func (o *org) URL() string { return o.srv.URL }

// loginsSeen returns copies of what the login requests carried, in order.
func (o *org) loginsSeen() (forms []url.Values, soap []loginSOAP, headers []http.Header) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]url.Values(nil), o.forms...), append([]loginSOAP(nil), o.soap...), append([]http.Header(nil), o.headers...)
}

func (o *org) instanceURL() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.instance != "" {
		return o.instance
	}
	return o.srv.URL
}

// newSession issues a session id shaped like Salesforce's: org id, "!", opaque.
func (o *org) newSession() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.seq++
	s := "00Dx0000000BV7z!AR8AQAxo9UfVkh8AlV0Gomt9Czx9LjHnSSpw" + strconv.Itoa(o.seq)
	o.sessions[s] = true
	return s
}

// revoke ends every session, as an org's session timeout does.
func (o *org) revoke() {
	o.mu.Lock()
	defer o.mu.Unlock()
	clear(o.sessions)
}

func (o *org) valid(session string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.sessions[session]
}

func (o *org) failed(w http.ResponseWriter, r *http.Request) bool {
	n := int(o.logins.Add(1))
	o.mu.Lock()
	o.headers = append(o.headers, r.Header.Clone())
	fail := o.loginFail
	o.mu.Unlock()
	return fail != nil && fail(w, n)
}

func (o *org) passwordLogin(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		o.t.Errorf("login form: %v", err)
	}
	o.mu.Lock()
	o.forms = append(o.forms, r.PostForm)
	o.mu.Unlock()
	if o.failed(w, r) {
		return
	}
	var body map[string]any
	if err := json.Unmarshal(fixture(o.t, "auth_success_response.json"), &body); err != nil {
		o.t.Fatalf("fixture: %v", err)
	}
	body["access_token"] = o.newSession()
	body["instance_url"] = o.instanceURL()
	body["token_type"] = "Bearer"
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	json.NewEncoder(w).Encode(body)
}

func (o *org) soapLogin(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var env struct {
		Body struct {
			Login struct {
				XMLName  xml.Name
				Username string `xml:"username"`
				Password string `xml:"password"`
			} `xml:"login"`
		} `xml:"Body"`
	}
	if err := xml.Unmarshal(raw, &env); err != nil {
		o.t.Errorf("SOAP login body: %v", err)
	}
	l := env.Body.Login
	o.mu.Lock()
	o.soap = append(o.soap, loginSOAP{raw: string(raw), ns: l.XMLName.Space, username: l.Username, password: l.Password})
	o.mu.Unlock()
	if o.failed(w, r) {
		return
	}
	wsdl := "u"
	if strings.Contains(r.URL.Path, "/Soap/c/") {
		wsdl = "c"
	}
	body := strings.NewReplacer(
		"{{ns}}", l.XMLName.Space,
		"{{instance}}", o.instanceURL(),
		"{{wsdl}}", wsdl,
		"{{session}}", o.newSession(),
	).Replace(string(fixture(o.t, "soap_login_response.xml")))
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	io.WriteString(w, body)
}

// rest checks the bearer session and hands the call to api; an unknown session
// gets Salesforce's 401.
func (o *org) rest(w http.ResponseWriter, r *http.Request) {
	o.calls.Add(1)
	session, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	w.Header().Set("Sforce-Limit-Info", "api-usage=18/5000")
	if !o.valid(session) {
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write(fixture(o.t, "expired_session_response.json"))
		return
	}
	o.api(w, r)
}

// metadata checks the SessionHeader of a Metadata API call and hands it to api;
// an unknown session gets the INVALID_SESSION_ID fault.
func (o *org) metadata(w http.ResponseWriter, r *http.Request) {
	o.calls.Add(1)
	raw, _ := io.ReadAll(r.Body)
	var env struct {
		Header struct {
			Session string `xml:"SessionHeader>sessionId"`
		} `xml:"Header"`
	}
	if err := xml.Unmarshal(raw, &env); err != nil {
		o.t.Errorf("metadata body: %v", err)
	}
	if !o.valid(env.Header.Session) {
		w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
		w.WriteHeader(http.StatusInternalServerError)
		w.Write(fixture(o.t, "soap_invalid_session_fault.xml"))
		return
	}
	r.Body = io.NopCloser(strings.NewReader(string(raw)))
	o.api(w, r)
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	return b
}

// fakeCredentials hands out configurations in turn (the last one repeats) and
// counts loads and invalidations.
type fakeCredentials struct {
	mu          sync.Mutex
	configs     []credentials.Config
	loads       int
	invalidated int
	gate        chan struct{} // when set, Load waits for it to close
}

func (f *fakeCredentials) Load(ctx context.Context) (credentials.Config, error) {
	if f.gate != nil {
		<-f.gate
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	i := min(f.loads, len(f.configs)-1)
	f.loads++
	return f.configs[i], nil
}

func (f *fakeCredentials) Invalidate() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.invalidated++
}

func (f *fakeCredentials) counts() (loads, invalidated int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.loads, f.invalidated
}

// Credential values the tests look for in messages and requests.
const (
	testUsername = "integration@example.com"
	testPassword = "pa&ss<w0rd>"
	testToken    = "XXXXXXXXXX"
	testSecret   = "3F2B7C9D1E5A4F60"
	testClientID = "3MVG9-consumer-key"
)

func (o *org) config(flow string) credentials.Config {
	return credentials.Config{
		ClientID:      testClientID,
		ClientSecret:  testSecret,
		Username:      testUsername,
		Password:      testPassword,
		SecurityToken: testToken,
		LoginURL:      o.URL() + "/services/oauth2/token",
		SOAPLoginURL:  o.URL() + "/services/Soap/u/45.0",
		Version:       "45.0",
		AuthFlow:      flow,
	}
}

// testOptions are fast, deterministic settings: tiny waits, a discarding logger.
func testOptions(creds session.Credentials) Options {
	return Options{
		Credentials: creds,
		Transport: transport.Options{
			Timeout:         5 * time.Second,
			MaxAttempts:     3,
			RetryBaseDelay:  time.Millisecond,
			RetryMaxDelay:   2 * time.Millisecond,
			BreakerFailures: 100,
		},
		DeadlineMargin: 50 * time.Millisecond,
		Logger:         slog.New(slog.DiscardHandler),
	}
}

// newClient returns a client of o with the password flow and the options edited
// by tune.
func newClient(t testing.TB, o *org, tune func(*Options)) (*Client, *fakeCredentials) {
	t.Helper()
	creds := &fakeCredentials{configs: []credentials.Config{o.config(credentials.FlowPassword)}}
	opts := testOptions(creds)
	if tune != nil {
		tune(&opts)
	}
	return New(opts), creds
}

// recordWaits makes the client of o record its backoff waits instead of
// sleeping them.
func recordWaits(o *Options) *[]time.Duration {
	var mu sync.Mutex
	var waits []time.Duration
	o.Transport.Sleep = func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		defer mu.Unlock()
		waits = append(waits, d)
		return ctx.Err()
	}
	return &waits
}

// refusedURL returns a loopback URL nothing listens on.
func refusedURL(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// jsonAnswer writes a JSON answer with status.
func jsonAnswer(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	w.Write(body)
}

// hang holds the request until the client gives up on it. The body is read
// first: only then does the server watch the connection and cancel r.Context()
// when the client closes it. The timer only keeps a broken test from hanging.
func hang(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	select {
	case <-r.Context().Done():
	case <-time.After(30 * time.Second):
	}
}

// reset closes the connection without an answer.
func reset(w http.ResponseWriter, r *http.Request) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(err)
	}
	conn.Close()
}
