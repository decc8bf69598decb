// Package sforg is a local Salesforce org: an in-memory emulator of the parts of
// Salesforce's OAuth, SOAP, REST, approval and Metadata APIs the connector uses,
// with Salesforce's shapes, statuses and error bodies, and fault injection for
// tests. Start one in-process with Start (httptest-style) or run local/sforg.
//
// Tests steer it through Go (Inject, ClearFaults, SetDailyLimit,
// ExpireSessions, Reset, LoadSeed, Requests, Logins, Counters) or over HTTP
// under the reserved path /__sforg/ (see admin.go), which needs no session.
package sforg

import (
	"crypto/rsa"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Options configures an org. The zero value is a working org with the defaults
// below.
type Options struct {
	ClientID      string        // connected app consumer key; default DefaultClientID
	ClientSecret  string        // default DefaultClientSecret
	Username      string        // the integration user; default DefaultUsername
	Password      string        // default DefaultPassword
	SecurityToken string        // default DefaultSecurityToken
	SessionTTL    time.Duration // session lifetime; default 2h, Salesforce's default timeout
	DailyLimit    int           // DailyApiRequests max; default 15000
	Version       string        // newest API version served; default CurrentVersion
	Now           func() time.Time

	// NoSecurityToken makes the org accept the bare password (as for a trusted
	// IP range); SecurityToken is then empty.
	NoSecurityToken bool
	// BlockPasswordFlow blocks the OAuth username-password flow, as orgs
	// created in Summer '23 or later do by default: invalid_grant.
	BlockPasswordFlow bool
	// DisableClientCredentials leaves the connected app without a run-as user.
	DisableClientCredentials bool
	// DisableSOAPLogin turns "Enable SOAP API login()" off (the default of
	// orgs created in Winter '26 or later).
	DisableSOAPLogin bool
	// JWTPublicKeyPEM is the certificate (or PUBLIC KEY) uploaded to the
	// connected app; JWT bearer logins are refused without it.
	JWTPublicKeyPEM string
	// JWTAudiences are the accepted "aud" values of a JWT assertion; default
	// the org's URL and its login host: https://login.salesforce.com, or
	// https://test.salesforce.com for a sandbox.
	JWTAudiences []string
	// SeedFile is a JSON seed document ({"Account":[{...}]}) loaded at start.
	SeedFile string
	// TLS serves HTTPS with a certificate for 127.0.0.1, ::1 and localhost
	// signed by the org's own CA (see tls.go); URL is then https://...
	TLS bool
	// CADir keeps the CA between runs (ca.pem, ca-key.pem), made there when
	// missing; empty: a new CA for every org. Only with TLS.
	CADir string
	// Sandbox makes the org a sandbox (org.go): Organization.IsSandbox, the
	// SOAP login result's sandbox flag and the JWT audience
	// https://test.salesforce.com instead of https://login.salesforce.com.
	Sandbox bool
	// Users are login users besides the integration user (users.go).
	Users []LoginUser
	// Idempotency tunes the UI API's Idempotency-Key handling (idempotency.go).
	Idempotency IdempotencyOptions
	// Bulk paces Bulk API 2.0 processing and sets its allocations (bulk.go).
	Bulk BulkOptions
}

// Defaults of a new org. They are not secrets: the org exists only on loopback.
const (
	DefaultClientID      = "sforg-local-client-id"
	DefaultClientSecret  = "sforg-local-client-secret"
	DefaultUsername      = "integration@sforg.local"
	DefaultPassword      = "sforg-password"
	DefaultSecurityToken = "SFORGTOKEN"
	CurrentVersion       = "66.0"
	OrgID                = "00D5g000004XyZaEAK"
)

// Server is a running (or mountable) org.
type Server struct {
	// URL is the base URL, e.g. http://127.0.0.1:43123 (https://... with
	// Options.TLS), once started.
	URL string

	opts  Options
	store *Store
	mux   *http.ServeMux

	book *approvalBook // approval processes; serialises approval actions
	idem *idempotency  // UI API Idempotency-Key responses (idempotency.go)
	bulk *bulkEngine   // Bulk API 2.0 jobs

	mu       sync.Mutex
	sessions map[string]*session
	issued   []string // every token newSession made, for IssuedTokens

	// ctl guards the control plane: faults, counters and API usage.
	ctl        sync.Mutex
	faults     []*injected
	requests   map[string]int // route -> requests received
	logins     map[string]int // grant type or "soap" -> sessions issued
	apiUsed    int
	apiCalls   map[string]int // kind of API call (usage.go) -> calls counted
	dailyLimit int
	seeds      [][]byte // LoadSeed documents, replayed by Reset

	jwtKey  *rsa.PublicKey
	tls     *tlsState // Options.TLS: CA and server certificate (tls.go)
	initErr error

	table     []Route        // every registered route (routes.go)
	listViews *listViewTable // list view ids (resources.go)
	// gate keeps an all-or-none composite apart from other REST requests (txn.go).
	gate sync.RWMutex

	ln  net.Listener
	srv *http.Server
}

type session struct {
	token   string
	userID  string
	expires time.Time
}

// New returns an org that is not listening yet; it is an http.Handler.
func New(opts Options) *Server {
	if opts.ClientID == "" {
		opts.ClientID = DefaultClientID
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = DefaultClientSecret
	}
	if opts.Username == "" {
		opts.Username = DefaultUsername
	}
	if opts.Password == "" {
		opts.Password = DefaultPassword
	}
	if opts.NoSecurityToken {
		opts.SecurityToken = ""
	} else if opts.SecurityToken == "" {
		opts.SecurityToken = DefaultSecurityToken
	}
	if opts.SessionTTL == 0 {
		opts.SessionTTL = 2 * time.Hour
	}
	if opts.DailyLimit == 0 {
		opts.DailyLimit = 15000
	}
	if opts.Version == "" {
		opts.Version = CurrentVersion
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{opts: opts, store: NewStore(opts.Now), mux: http.NewServeMux(), sessions: map[string]*session{},
		requests: map[string]int{}, logins: map[string]int{}, apiCalls: map[string]int{}, dailyLimit: opts.DailyLimit}
	s.book = &approvalBook{store: s.store}
	s.bulk = newBulkEngine(s, opts.Bulk)
	if opts.JWTPublicKeyPEM != "" {
		s.jwtKey, s.initErr = parseJWTKey(opts.JWTPublicKeyPEM)
	}
	if s.initErr == nil && opts.TLS {
		s.initErr = s.setupTLS()
	}
	s.seedSchema()
	if s.initErr == nil && opts.SeedFile != "" {
		_, s.initErr = s.LoadSeedFile(opts.SeedFile)
	}
	s.routes()
	return s
}

// Err reports a configuration error found by New (a bad JWT key or seed
// file); Start and Listen return it.
func (s *Server) Err() error { return s.initErr }

// Start runs an org on 127.0.0.1 with a free port.
func Start(opts Options) (*Server, error) {
	return Listen("127.0.0.1:0", opts)
}

// Listen runs an org on addr.
func Listen(addr string, opts Options) (*Server, error) {
	s := New(opts)
	if s.initErr != nil {
		return nil, s.initErr
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s.ln = s.WrapListener(ln) // sets URL; TLS when Options.TLS (tls.go)
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go s.srv.Serve(s.ln) //nolint:errcheck // Serve returns ErrServerClosed on Close
	return s, nil
}

// Close stops the listener and drops open connections.
func (s *Server) Close() error {
	s.bulk.shutdown()
	if s.srv == nil {
		return nil
	}
	return s.srv.Close()
}

// Store gives tests direct access to the org's data.
func (s *Server) Store() *Store { return s.store }

// Settings returns the eight SALESFORCE_* settings that point the connector at
// this org.
func (s *Server) Settings() map[string]string {
	return map[string]string{
		"SALESFORCE_CLIENT_ID":      s.opts.ClientID,
		"SALESFORCE_CLIENT_SECRET":  s.opts.ClientSecret,
		"SALESFORCE_USERNAME":       s.opts.Username,
		"SALESFORCE_PASSWORD":       s.opts.Password,
		"SALESFORCE_SECURITY_TOKEN": s.opts.SecurityToken,
		"SALESFORCE_URL_LOGIN":      s.URL + "/services/oauth2/token",
		"SALESFORCE_SOAP_URL_LOGIN": s.URL + "/services/Soap/c/45.0",
		"SALESFORCE_VERSION":        "45.0",
	}
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

// routes registers every endpoint; each group lives in its own file.
func (s *Server) routes() {
	s.authRoutes()       // auth.go: OAuth token endpoint, SOAP login
	s.restRoutes()       // rest.go: versions, sObjects, describe, limits
	s.collectionRoutes() // collections.go: sObject Collections
	s.compositeRoutes()  // composite.go: Composite, sObject Tree, Collections upsert
	s.queryRoutes()      // query.go: query, queryAll, query locators
	s.approvalRoutes()   // approvals.go: process/approvals
	s.metadataRoutes()   // metadata.go: Metadata API createMetadata
	s.uiAPIRoutes()      // uiapi.go: UI API records, with Idempotency-Key
	s.historyRoutes()    // history.go: get deleted, get updated
	s.searchRoutes()     // search.go: SOSL search, parameterizedSearch
	s.bulkRoutes()       // bulk.go, bulkquery.go: Bulk API 2.0 ingest and query jobs
	s.adminRoutes()      // admin.go: fault injection, counters, reset, seed
	s.resourceRoutes()   // resources.go: recent, layouts, list views, process rules; revoke.go
	s.unknownRoutes()    // routes.go: every other path, in the shape of its API
}

// handle registers h for pattern ("[METHOD ]/path") with and without a trailing
// slash, as Salesforce answers both (/sobjects/Account and /sobjects/Account/).
func (s *Server) handle(pattern string, h http.Handler) {
	s.mux.Handle(pattern, h)
	s.mux.Handle(pattern+"/{$}", h)
	s.record(pattern)
}

// newSession issues an access token (also a valid SOAP session id).
func (s *Server) newSession(userID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	tok := OrgID[:15] + "!" + randomToken()
	s.sessions[tok] = &session{token: tok, userID: userID, expires: s.opts.Now().Add(s.opts.SessionTTL)}
	s.issued = append(s.issued, tok)
	return tok
}

// IssuedTokens returns every access token and SOAP session id the org has
// issued since it started, expired ones included, so that a test can check that
// none of them reached a log line, an error or an output.
func (s *Server) IssuedTokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.issued...)
}

// sessionFor returns the live session of a token, extending it as activity does
// in Salesforce.
func (s *Server) sessionFor(token string) (*session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.sessions[token]
	if !ok {
		return nil, false
	}
	now := s.opts.Now()
	if now.After(ss.expires) {
		delete(s.sessions, token)
		return nil, false
	}
	ss.expires = now.Add(s.opts.SessionTTL)
	return ss, true
}

// ExpireSessions ends every session, so the next API call gets 401 INVALID_SESSION_ID.
func (s *Server) ExpireSessions() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.sessions)
}

// RevokeSession ends one session.
func (s *Server) RevokeSession(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, token)
}

// bearer extracts the token of "Authorization: Bearer x" or "OAuth x".
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	for _, scheme := range []string{"Bearer ", "OAuth "} {
		if len(h) > len(scheme) && strings.EqualFold(h[:len(scheme)], scheme) {
			return strings.TrimSpace(h[len(scheme):])
		}
	}
	return ""
}

// writeJSON sends v with a status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v) //nolint:errcheck // the client went away
}

// writeFailure sends a Salesforce error array.
func writeFailure(w http.ResponseWriter, f *Failure) {
	writeJSON(w, f.Status, f.Errors)
}
