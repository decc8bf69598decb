package sforg_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sfconnect/connector/sforg"
)

// startTLSOrg runs an org over HTTPS and logs in through its own client.
func startTLSOrg(t *testing.T, opts sforg.Options) (*sforg.Server, string) {
	t.Helper()
	opts.TLS = true
	s := startOrg(t, opts)
	res := tlsDo(t, s.Client(), http.MethodPost, s.URL+"/services/oauth2/token", "", "application/x-www-form-urlencoded", passwordForm(s).Encode())
	if res.status != http.StatusOK {
		t.Fatalf("login: got %d %s", res.status, res.body)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		InstanceURL string `json:"instance_url"`
	}
	res.json(t, &tok)
	if tok.InstanceURL != s.URL {
		t.Fatalf("instance_url: got %q, want %q", tok.InstanceURL, s.URL)
	}
	return s, tok.AccessToken
}

// tlsDo makes one request with client and fails the test on a transport error.
func tlsDo(t *testing.T, client *http.Client, method, rawURL, token, contentType, body string) response {
	t.Helper()
	res, err := tryDo(t, client, method, rawURL, token, contentType, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, rawURL, err)
	}
	return res
}

// tryDo makes one request and returns the transport error, if any.
func tryDo(t *testing.T, client *http.Client, method, rawURL, token, contentType, body string) (response, error) {
	t.Helper()
	return tryDoContext(t, t.Context(), client, method, rawURL, token, contentType, body)
}

// tryDoWritten is tryDo that also reports whether the whole request was
// written to the connection (httptrace's WroteRequest without an error), which
// is how a client decides whether the request may have reached the org.
func tryDoWritten(t *testing.T, client *http.Client, method, rawURL, token, contentType, body string) (response, bool, error) {
	t.Helper()
	var wrote atomic.Bool
	ctx := httptrace.WithClientTrace(t.Context(), &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) { wrote.Store(info.Err == nil) },
	})
	res, err := tryDoContext(t, ctx, client, method, rawURL, token, contentType, body)
	return res, wrote.Load(), err
}

func tryDoContext(t *testing.T, ctx context.Context, client *http.Client, method, rawURL, token, contentType, body string) (response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, rawURL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := client.Do(req)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return response{}, err
	}
	return response{status: res.StatusCode, header: res.Header, body: data}, nil
}

// freshClient trusts the org's CA and opens a new connection for every
// request, so that every request goes through a TLS handshake.
func freshTLSClient(t *testing.T, s *sforg.Server) *http.Client {
	t.Helper()
	tr := &http.Transport{TLSClientConfig: s.ClientTLSConfig(), DisableKeepAlives: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

func TestHTTPSRoundTrip(t *testing.T) {
	s, token := startTLSOrg(t, sforg.Options{})
	if !strings.HasPrefix(s.URL, "https://127.0.0.1:") {
		t.Fatalf("URL: got %q, want https://127.0.0.1:PORT", s.URL)
	}
	for _, k := range []string{"SALESFORCE_URL_LOGIN", "SALESFORCE_SOAP_URL_LOGIN"} {
		if got := s.Settings()[k]; !strings.HasPrefix(got, s.URL+"/services/") {
			t.Errorf("%s: got %q, want it under %s", k, got, s.URL)
		}
	}
	res := tlsDo(t, s.Client(), http.MethodPost, s.URL+"/services/data/v45.0/sobjects/Account/", token, "application/json", `{"Name":"Acme"}`)
	if res.status != http.StatusCreated {
		t.Fatalf("create: got %d %s, want 201", res.status, res.body)
	}
	var created struct{ ID string }
	res.json(t, &created)
	res = tlsDo(t, s.Client(), http.MethodGet, s.URL+"/services/data/v45.0/sobjects/Account/"+created.ID, token, "", "")
	if res.status != http.StatusOK || !strings.Contains(string(res.body), `"Acme"`) {
		t.Errorf("get: got %d %s, want 200 with the record", res.status, res.body)
	}

	// SOAP login over HTTPS names the https instance.
	_, env := soapLoginWith(t, s.Client(), s.URL+"/services/Soap/u/45.0", sforg.DefaultUsername, sforg.DefaultPassword+sforg.DefaultSecurityToken)
	if lr := env.Body.LoginResponse; lr == nil || !strings.HasPrefix(lr.Result.ServerURL, s.URL+"/services/Soap/u/45.0/") {
		t.Errorf("serverUrl: got %+v, want it under %s", lr, s.URL)
	}

	// The certificate names every loopback name; the pool and the PEM hold the same CA.
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(s.CACertPEM()) || !pool.Equal(s.CertPool()) {
		t.Fatalf("CACertPEM and CertPool disagree")
	}
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(s.URL, "https://"))
	for _, host := range []string{"localhost", "127.0.0.1"} {
		d := tls.Dialer{Config: &tls.Config{RootCAs: pool, ServerName: host, NextProtos: []string{"h2", "http/1.1"}}}
		c, err := d.DialContext(t.Context(), "tcp", net.JoinHostPort("127.0.0.1", port))
		if err != nil {
			t.Errorf("server name %s: %v", host, err)
			continue
		}
		conn := c.(*tls.Conn)
		if got := conn.ConnectionState().NegotiatedProtocol; got != "http/1.1" {
			t.Errorf("ALPN with h2 offered: got %q, want %q (the connection faults need HTTP/1.1)", got, "http/1.1")
		}
		conn.Close()
	}
	if s.CAFile() != "" {
		t.Errorf("CAFile without CADir: got %q, want empty", s.CAFile())
	}
}

func TestHTTPSUntrustedClient(t *testing.T) {
	s := startOrg(t, sforg.Options{TLS: true})
	other := startOrg(t, sforg.Options{TLS: true})
	tests := []struct {
		name   string
		config *tls.Config
	}{
		{"system roots", nil},
		{"another org's CA", other.ClientTLSConfig()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := &http.Transport{TLSClientConfig: tt.config}
			t.Cleanup(tr.CloseIdleConnections)
			before := s.Requests(sforg.RouteTLSHandshake)
			_, err := tryDo(t, &http.Client{Transport: tr}, http.MethodPost, s.URL+"/services/oauth2/token", "", "application/x-www-form-urlencoded", passwordForm(s).Encode())
			var unknown x509.UnknownAuthorityError
			if !errors.As(err, &unknown) {
				t.Fatalf("got %v, want x509.UnknownAuthorityError", err)
			}
			if got := s.Requests(sforg.RouteTLSHandshake); got != before+1 {
				t.Errorf("handshakes: got %d, want %d", got, before+1)
			}
			if got := s.Requests(sforg.RouteToken); got != 0 {
				t.Errorf("token requests: got %d, want 0", got)
			}
		})
	}
	if s.Logins() != 0 {
		t.Errorf("logins: got %d, want 0", s.Logins())
	}
}

// TestTLSFaults proves what each connection fault did in the org and what the
// client saw: whether the work was committed and the client's error.
func TestTLSFaults(t *testing.T) {
	createPath := "/services/data/v45.0/sobjects/Account/"
	tests := []struct {
		name      string
		plain     bool // the org serves plain HTTP
		fault     sforg.Fault
		wantErr   func(error) bool
		wantDesc  string
		wantRows  int  // Accounts afterwards: 1 when the work was committed
		wantReach int  // requests that reached the create route
		wantWrote bool // the client wrote its whole request
	}{
		{"garbage after commit", false, sforg.Fault{Route: sforg.RouteCreate, Kind: sforg.FaultGarbageAfter},
			isRecordHeaderError, "tls.RecordHeaderError", 1, 1, true},
		{"garbage after commit, any route", false, sforg.Fault{Kind: sforg.FaultGarbageAfter},
			isRecordHeaderError, "tls.RecordHeaderError", 1, 1, true},
		{"garbage during the handshake", false, sforg.Fault{Route: sforg.RouteTLSHandshake, Kind: sforg.FaultHandshakeGarbage},
			isRecordHeaderError, "tls.RecordHeaderError", 0, 0, false},
		{"reset during the handshake", false, sforg.Fault{Kind: sforg.FaultHandshakeReset},
			func(err error) bool { return errors.Is(err, syscall.ECONNRESET) }, "ECONNRESET", 0, 0, false},
		{"drop after commit over TLS", false, sforg.Fault{Route: sforg.RouteCreate, Kind: sforg.FaultDropAfter},
			func(err error) bool { return err != nil }, "an error", 1, 1, true},
		{"garbage after commit, plain HTTP", true, sforg.Fault{Route: sforg.RouteCreate, Kind: sforg.FaultGarbageAfter},
			func(err error) bool { return err != nil && strings.Contains(err.Error(), "malformed HTTP response") }, "a malformed HTTP response", 1, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s *sforg.Server
			var token string
			client := http.DefaultClient
			if tt.plain {
				o := newOrg(t, sforg.Options{})
				s, token = o.Server, o.token
			} else {
				s, token = startTLSOrg(t, sforg.Options{})
				client = freshTLSClient(t, s)
			}
			tt.fault.Times = 1
			if err := s.Inject(tt.fault); err != nil {
				t.Fatal(err)
			}
			res, wrote, err := tryDoWritten(t, client, http.MethodPost, s.URL+createPath, token, "application/json", `{"Name":"Acme"}`)
			if wrote != tt.wantWrote {
				t.Errorf("request written: got %v, want %v", wrote, tt.wantWrote)
			}
			if !tt.wantErr(err) {
				t.Fatalf("got %d %s, error %v, want %s", res.status, res.body, err, tt.wantDesc)
			}
			t.Logf("client error: %v", err)
			if got := s.Store().Count("Account"); got != tt.wantRows {
				t.Errorf("accounts: got %d, want %d", got, tt.wantRows)
			}
			if got := s.Requests(sforg.RouteCreate); got != tt.wantReach {
				t.Errorf("create requests: got %d, want %d", got, tt.wantReach)
			}
			if f := s.Faults(); len(f) != 0 {
				t.Errorf("fault not used up: %+v", f)
			}
			// The org answers normally afterwards, on a new connection.
			if res := tlsDo(t, client, http.MethodGet, s.URL+"/services/data/v45.0/limits", token, "", ""); res.status != http.StatusOK {
				t.Errorf("after the fault: got %d", res.status)
			}
		})
	}
}

func isRecordHeaderError(err error) bool {
	var rh tls.RecordHeaderError
	return errors.As(err, &rh)
}

// TestHandshakeFaultScope checks that a handshake fault waits for a new
// connection, leaves kept-alive connections alone, counts down per connection
// and can be injected over the admin URL only on a TLS org.
func TestHandshakeFaultScope(t *testing.T) {
	s, token := startTLSOrg(t, sforg.Options{})
	res := tlsDo(t, s.Client(), http.MethodPost, s.URL+"/__sforg/faults", "", "application/json", `{"kind":"handshake-reset","times":2}`)
	if res.status != http.StatusCreated {
		t.Fatalf("inject: got %d %s, want 201", res.status, res.body)
	}
	// The client's kept-alive connection has done its handshake: unaffected.
	if res := tlsDo(t, s.Client(), http.MethodGet, s.URL+"/services/data/v45.0/limits", token, "", ""); res.status != http.StatusOK {
		t.Errorf("kept-alive connection: got %d, want 200", res.status)
	}
	fresh := freshTLSClient(t, s)
	for i := range 2 {
		if _, err := tryDo(t, fresh, http.MethodGet, s.URL+"/services/data/v45.0/limits", token, "", ""); !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("new connection %d: got %v, want ECONNRESET", i+1, err)
		}
	}
	if res := tlsDo(t, fresh, http.MethodGet, s.URL+"/services/data/v45.0/limits", token, "", ""); res.status != http.StatusOK {
		t.Errorf("third new connection: got %d, want 200", res.status)
	}
	if got := s.Requests(sforg.RouteLimits); got != 2 {
		t.Errorf("limits requests: got %d, want 2", got)
	}
	c := s.Counters()
	if c["requests.tls-handshake"] != 4 { // the client's one connection, then three fresh ones
		t.Errorf("handshakes: got %d, want 4 (%v)", c["requests.tls-handshake"], c)
	}
	if got, want := s.Requests("*"), 3; got != want { // token, limits twice (not the admin call): connections are not requests
		t.Errorf(`Requests("*"): got %d, want %d`, got, want)
	}

	plain := startOrg(t, sforg.Options{})
	for _, kind := range []sforg.FaultKind{sforg.FaultHandshakeGarbage, sforg.FaultHandshakeReset} {
		if err := plain.Inject(sforg.Fault{Kind: kind}); err == nil || !strings.Contains(err.Error(), "TLS") {
			t.Errorf("%s on a plain org: got %v, want an error naming TLS", kind, err)
		}
	}
	bad := []sforg.Fault{
		{Route: sforg.RouteCreate, Kind: sforg.FaultHandshakeReset},
		{Route: sforg.RouteTLSHandshake, Kind: sforg.FaultLatency, Delay: time.Second},
		{Route: sforg.RouteTLSHandshake, Kind: sforg.FaultGarbageAfter},
	}
	for _, f := range bad {
		if err := s.Inject(f); err == nil {
			t.Errorf("%s on route %s: got no error, want one (it could never hit)", f.Kind, f.Route)
		}
	}
	res = send(t, http.MethodPost, plain.URL+"/__sforg/faults", "", map[string]any{"kind": "handshake-garbage"})
	if res.status != http.StatusBadRequest {
		t.Errorf("admin inject on a plain org: got %d %s, want 400", res.status, res.body)
	}
	// Other kinds never hit the handshake, and handshake kinds never hit a route.
	if err := s.Inject(sforg.Fault{Kind: sforg.FaultStatus, Status: 503, Times: 1}); err != nil {
		t.Fatal(err)
	}
	if res, err := tryDo(t, fresh, http.MethodGet, s.URL+"/services/data/v45.0/limits", token, "", ""); err != nil || res.status != http.StatusServiceUnavailable {
		t.Errorf("503 on a new connection: got %d %v, want 503 (after a good handshake)", res.status, err)
	}
}

func TestCADir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	first := startOrg(t, sforg.Options{TLS: true, CADir: dir})
	if got, want := first.CAFile(), filepath.Join(dir, "ca.pem"); got != want {
		t.Fatalf("CAFile: got %q, want %q", got, want)
	}
	onDisk, err := os.ReadFile(first.CAFile())
	if err != nil || !bytes.Equal(onDisk, first.CACertPEM()) {
		t.Fatalf("ca.pem: got %q (%v), want CACertPEM", onDisk, err)
	}
	info, err := os.Stat(filepath.Join(dir, "ca-key.pem"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("ca-key.pem: got %v %v, want mode 0600", info, err)
	}

	// A second org (another run) reuses the CA: a client trusting the first
	// org's CA file trusts it.
	second := startOrg(t, sforg.Options{TLS: true, CADir: dir})
	if !bytes.Equal(second.CACertPEM(), first.CACertPEM()) {
		t.Fatalf("second org: a new CA, want the one in %s", dir)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(onDisk)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	t.Cleanup(tr.CloseIdleConnections)
	if res := tlsDo(t, &http.Client{Transport: tr}, http.MethodGet, second.URL+"/services/data", "", "", ""); res.status != http.StatusOK {
		t.Errorf("second org with the first CA file: got %d", res.status)
	}
	if bytes.Equal(startOrg(t, sforg.Options{TLS: true}).CACertPEM(), first.CACertPEM()) {
		t.Errorf("an org without CADir reused the CA, want a new one")
	}

	bad := []struct {
		name string
		data string
	}{
		{"not PEM", "garbage"},
		{"certificate only", string(first.CACertPEM())},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "ca-key.pem"), []byte(tt.data), 0o600); err != nil {
				t.Fatal(err)
			}
			if s, err := sforg.Start(sforg.Options{TLS: true, CADir: dir}); err == nil {
				s.Close()
				t.Fatalf("got an org, want an error for a broken ca-key.pem")
			} else if !strings.Contains(err.Error(), "ca-key.pem") {
				t.Errorf("error: got %q, want it to name ca-key.pem", err)
			}
		})
	}
}

// TestCANameConstraints: the CA can only vouch for loopback names, so adding it
// to a trust store cannot open the door to any other site, even with its key.
func TestCANameConstraints(t *testing.T) {
	dir := t.TempDir()
	s := startOrg(t, sforg.Options{TLS: true, CADir: dir})
	caCert, caKey := readCA(t, filepath.Join(dir, "ca-key.pem"))
	tests := []struct {
		name    string
		dns     string
		ip      net.IP
		wantErr bool
	}{
		{"localhost", "localhost", nil, false},
		{"loopback v4", "", net.IPv4(127, 0, 0, 2), false},
		{"another site", "login.salesforce.com", nil, true},
		{"another address", "", net.IPv4(10, 0, 0, 1), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "x"},
				NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
			opts := x509.VerifyOptions{Roots: s.CertPool()}
			if tt.dns != "" {
				tmpl.DNSNames, opts.DNSName = []string{tt.dns}, tt.dns
			} else {
				tmpl.IPAddresses, opts.DNSName = []net.IP{tt.ip}, tt.ip.String()
			}
			der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
			if err != nil {
				t.Fatal(err)
			}
			leaf, _ := x509.ParseCertificate(der)
			_, err = leaf.Verify(opts)
			var invalid x509.CertificateInvalidError
			if tt.wantErr && !(errors.As(err, &invalid) && invalid.Reason == x509.CANotAuthorizedForThisName) {
				t.Errorf("got %v, want CANotAuthorizedForThisName", err)
			}
			if !tt.wantErr && err != nil {
				t.Errorf("got %v, want a valid chain", err)
			}
		})
	}
}

func readCA(t *testing.T, path string) (*x509.Certificate, any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cert *x509.Certificate
	var key any
	for b, rest := pem.Decode(data); b != nil; b, rest = pem.Decode(rest) {
		switch b.Type {
		case "CERTIFICATE":
			cert, err = x509.ParseCertificate(b.Bytes)
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(b.Bytes)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if cert == nil || key == nil {
		t.Fatalf("%s: want a key and a certificate", path)
	}
	return cert, key
}

// soapLoginWith is soapLogin through a given client.
func soapLoginWith(t *testing.T, client *http.Client, rawURL, user, pass string) (response, loginEnvelope) {
	t.Helper()
	body := `<?xml version="1.0" encoding="utf-8" ?><env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Body><n1:login xmlns:n1="urn:partner.soap.sforce.com"><n1:username>` +
		user + `</n1:username><n1:password>` + pass + `</n1:password></n1:login></env:Body></env:Envelope>`
	res := tlsDo(t, client, http.MethodPost, rawURL, "", "text/xml; charset=UTF-8", body)
	var env loginEnvelope
	if err := xml.Unmarshal(res.body, &env); err != nil {
		t.Fatalf("response is not XML: %v\n%s", err, res.body)
	}
	return res, env
}
