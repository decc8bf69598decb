package sforg

// HTTPS for the org (Options.TLS): its own certificate authority, a server
// certificate for the loopback names signed by it, and the faults that only a
// TLS connection can show a client: a handshake that breaks before any request
// was read, and garbage instead of a TLS record after the work was committed.
//
// The CA is an ECDSA P-256 key and a self-signed certificate, made at start or
// kept in Options.CADir (ca.pem, the certificate; ca-key.pem, the key and the
// certificate, mode 0600) so that repeated runs and a trust store can reuse it.
// The CA is name-constrained to localhost and the loopback addresses: trusting
// it cannot vouch for any other site, even if its key leaks. The server
// certificate is new on every start and names 127.0.0.1, ::1 and localhost.
//
// Over TLS the org speaks HTTP/1.1 only (ALPN "http/1.1"): the connection
// faults (drop-before, drop-after, garbage-after) take over the raw connection,
// which HTTP/2 does not allow. [UNCONFIRMED] which protocols Salesforce's own
// endpoints negotiate; a client should work with either.

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// The TLS fault kinds (see FaultKind). The handshake kinds apply only to
// RouteTLSHandshake, which "*" also matches; they need an org with Options.TLS.
const (
	// FaultGarbageAfter runs the handler (its work is committed), then writes
	// bytes that are neither a TLS record nor an HTTP answer on the raw
	// connection and closes it: over TLS the client's read fails with a
	// tls.RecordHeaderError, over plain HTTP with a malformed-response error,
	// in both cases after its request was sent.
	FaultGarbageAfter FaultKind = "garbage-after"
	// FaultHandshakeGarbage reads the client's hello and answers it with
	// bytes that are not a TLS record: the handshake fails with a
	// tls.RecordHeaderError before any request was read; nothing happened.
	FaultHandshakeGarbage FaultKind = "handshake-garbage"
	// FaultHandshakeReset reads the client's hello and resets the TCP
	// connection (RST): the client sees ECONNRESET during the handshake;
	// nothing happened.
	FaultHandshakeReset FaultKind = "handshake-reset"
)

// RouteTLSHandshake names the TLS handshake of a new connection, before any
// request: the handshake faults are scoped to it, and Requests(RouteTLSHandshake)
// (counter "requests.tls-handshake") counts the connections accepted over TLS.
// Requests("*") leaves it out: it counts requests, not connections.
const RouteTLSHandshake = "tls-handshake"

// CA files in Options.CADir.
const (
	caCertFile = "ca.pem"     // the CA certificate, for trust stores and SSL_CERT_FILE
	caKeyFile  = "ca-key.pem" // the CA's private key followed by its certificate
)

// garbage is what the garbage faults send: its first five bytes are no TLS
// record header (type 'S', version "FO") and its first line, without a space,
// is no HTTP status line.
var garbage = []byte("SFORG-GARBAGE\x00\xff\xfe-not-a-TLS-record-nor-an-HTTP-answer\r\n\r\n")

// handshake reports whether a fault kind breaks the TLS handshake.
func (k FaultKind) handshake() bool {
	return k == FaultHandshakeGarbage || k == FaultHandshakeReset
}

// validateHandshake refuses a fault that could never hit: a handshake kind on
// a route, or another kind on the handshake.
func (f Fault) validateHandshake() error {
	anyRoute := f.Route == "" || f.Route == "*"
	if f.Kind.handshake() && !anyRoute && f.Route != RouteTLSHandshake {
		return fmt.Errorf("fault kind %q applies only to route %q", f.Kind, RouteTLSHandshake)
	}
	if !f.Kind.handshake() && f.Route == RouteTLSHandshake {
		return fmt.Errorf("route %q takes only the kinds %q and %q", RouteTLSHandshake, FaultHandshakeGarbage, FaultHandshakeReset)
	}
	return nil
}

// tlsState is an org's CA and server certificate.
type tlsState struct {
	caPEM  []byte
	pool   *x509.CertPool
	server *tls.Config  // the listener's
	caFile string       // CADir's ca.pem, or ""
	client *http.Client // trusts the CA only
}

// setupTLS loads or makes the CA and issues the server certificate.
func (s *Server) setupTLS() error {
	caCert, caKey, err := loadOrMakeCA(s.opts.CADir)
	if err != nil {
		return err
	}
	leaf, err := issueServerCert(caCert, caKey)
	if err != nil {
		return err
	}
	st := &tlsState{
		caPEM:  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caCert.Raw}),
		pool:   x509.NewCertPool(),
		server: &tls.Config{Certificates: []tls.Certificate{leaf}, NextProtos: []string{"http/1.1"}, MinVersion: tls.VersionTLS12},
	}
	st.pool.AddCert(caCert)
	if s.opts.CADir != "" {
		st.caFile = filepath.Join(s.opts.CADir, caCertFile)
	}
	s.tls = st
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = s.ClientTLSConfig()
	st.client = &http.Client{Transport: tr}
	return nil
}

// CACertPEM returns the org's CA certificate in PEM, or nil without
// Options.TLS.
func (s *Server) CACertPEM() []byte {
	if s.tls == nil {
		return nil
	}
	return bytes.Clone(s.tls.caPEM)
}

// CAFile returns the path of the CA certificate in Options.CADir, or "" when
// the org has no CADir (write CACertPEM to a file of your own then).
func (s *Server) CAFile() string {
	if s.tls == nil {
		return ""
	}
	return s.tls.caFile
}

// CertPool returns a pool holding only the org's CA, or nil without
// Options.TLS.
func (s *Server) CertPool() *x509.CertPool {
	if s.tls == nil {
		return nil
	}
	return s.tls.pool.Clone()
}

// ClientTLSConfig returns a client configuration that trusts the org's CA
// (and nothing else), or nil without Options.TLS.
func (s *Server) ClientTLSConfig() *tls.Config {
	if s.tls == nil {
		return nil
	}
	return &tls.Config{RootCAs: s.tls.pool.Clone(), MinVersion: tls.VersionTLS12}
}

// Client returns an HTTP client for the org, as httptest.Server.Client does:
// with Options.TLS it trusts the org's CA and nothing else, and its idle
// connections close with the org; without, it is http.DefaultClient.
func (s *Server) Client() *http.Client {
	if s.tls == nil {
		return http.DefaultClient
	}
	return s.tls.client
}

// WrapListener prepares ln to serve this org and sets URL from its address:
// with Options.TLS every connection is TLS (and the handshake faults apply),
// without it ln is returned as is. Listen calls it; call it yourself to serve
// the org with your own http.Server, as local/sforg does.
func (s *Server) WrapListener(ln net.Listener) net.Listener {
	if s.tls == nil {
		s.URL = "http://" + ln.Addr().String()
		return ln
	}
	s.URL = "https://" + ln.Addr().String()
	return &tlsListener{Listener: ln, s: s, broken: map[net.Conn]struct{}{}}
}

// tlsListener hands out TLS connections, breaking the handshake of those a
// handshake fault hits.
type tlsListener struct {
	net.Listener
	s *Server

	mu     sync.Mutex
	closed bool
	broken map[net.Conn]struct{} // connections being broken, closed with the listener
}

func (l *tlsListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		l.s.countRequest(RouteTLSHandshake)
		_, f := l.s.takeFaults(RouteTLSHandshake)
		if f == nil {
			return tls.Server(c, l.s.tls.server), nil
		}
		l.mu.Lock()
		if l.closed {
			l.mu.Unlock()
			c.Close()
			continue
		}
		l.broken[c] = struct{}{}
		l.mu.Unlock()
		go func() {
			breakHandshake(c, f.Kind)
			l.mu.Lock()
			delete(l.broken, c)
			l.mu.Unlock()
		}()
	}
}

// Close stops the listener, the connections being broken and the idle
// connections of Client.
func (l *tlsListener) Close() error {
	err := l.Listener.Close()
	l.mu.Lock()
	l.closed = true
	for c := range l.broken {
		c.Close()
	}
	l.mu.Unlock()
	l.s.tls.client.CloseIdleConnections()
	return err
}

// breakHandshake waits for the client's first TLS record (its hello), so that
// the client is inside its handshake, then fails it as the fault says.
func breakHandshake(c net.Conn, kind FaultKind) {
	defer c.Close()
	// A safety net for a client that never sends its hello, not a behaviour.
	c.SetReadDeadline(time.Now().Add(10 * time.Second)) //nolint:errcheck // the read below fails instead
	var hdr [5]byte
	if _, err := io.ReadFull(c, hdr[:]); err == nil && hdr[0] == 0x16 { // a handshake record
		io.CopyN(io.Discard, c, int64(hdr[3])<<8|int64(hdr[4])) //nolint:errcheck // nothing to do with a short hello
	}
	switch kind {
	case FaultHandshakeReset:
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0) //nolint:errcheck // if it fails, Close sends a FIN instead of a RST
		}
	case FaultHandshakeGarbage:
		c.Write(garbage) //nolint:errcheck // the client went away
	}
}

// garble answers with garbage on the raw connection, under TLS, and closes it.
func garble(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*tls.Conn); ok {
		conn = tc.NetConn()
	}
	conn.Write(garbage) //nolint:errcheck // the client went away
	conn.Close()
}

// loadOrMakeCA returns the CA kept in dir, making and saving one when dir has
// none; with dir empty it makes a CA that lives as long as the org.
func loadOrMakeCA(dir string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	if dir == "" {
		return makeCA()
	}
	keyPath := filepath.Join(dir, caKeyFile)
	data, err := os.ReadFile(keyPath)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, nil, fmt.Errorf("ca dir: %w", err)
		}
		cert, key, err := makeCA()
		if err != nil {
			return nil, nil, err
		}
		if data, err = saveCA(keyPath, cert, key); err != nil {
			return nil, nil, err
		}
	} else if err != nil {
		return nil, nil, fmt.Errorf("ca dir: %w", err)
	}
	cert, key, err := parseCA(data)
	if err != nil {
		return nil, nil, fmt.Errorf("ca dir: %s: %w (remove the directory to make a new CA)", keyPath, err)
	}
	// ca.pem is derived from ca-key.pem; writing it by rename every start
	// keeps it whole for a reader at any moment.
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
	if err := writeAtomic(filepath.Join(dir, caCertFile), certPEM, 0o644); err != nil {
		return nil, nil, fmt.Errorf("ca dir: %w", err)
	}
	return cert, key, nil
}

// saveCA creates keyPath with the key and certificate unless another process
// made it first, and returns what the file holds.
func saveCA(keyPath string, cert *x509.Certificate, key *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	data := append(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})...)
	tmp, err := writeTemp(filepath.Dir(keyPath), data, 0o600)
	if err != nil {
		return nil, fmt.Errorf("ca dir: %w", err)
	}
	defer os.Remove(tmp)
	// A link fails if the file exists: of two processes starting at once, the
	// first one's CA wins and both use it.
	if err := os.Link(tmp, keyPath); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("ca dir: %w", err)
	}
	return os.ReadFile(keyPath)
}

func parseCA(data []byte) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	var cert *x509.Certificate
	var key *ecdsa.PrivateKey
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		switch b.Type {
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
			if err != nil {
				return nil, nil, err
			}
			ek, ok := k.(*ecdsa.PrivateKey)
			if !ok {
				return nil, nil, errors.New("the key is not ECDSA")
			}
			key = ek
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, nil, err
			}
			cert = c
		}
	}
	if cert == nil || key == nil {
		return nil, nil, errors.New("want a PRIVATE KEY and a CERTIFICATE block")
	}
	if !cert.IsCA || !key.PublicKey.Equal(cert.PublicKey) {
		return nil, nil, errors.New("the certificate is not a CA of that key")
	}
	// Certificates use the wall clock, not Options.Now: clients verify with it.
	if now := time.Now(); now.After(cert.NotAfter.Add(-24 * time.Hour)) {
		return nil, nil, fmt.Errorf("the CA expires %s", cert.NotAfter.Format(time.DateOnly))
	}
	return cert, key, nil
}

func makeCA() (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{Organization: []string{"sforg"}, CommonName: "sforg local org CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
		// Only loopback names: see the top of this file.
		PermittedDNSDomainsCritical: true,
		PermittedDNSDomains:         []string{"localhost"},
		PermittedIPRanges: []*net.IPNet{
			{IP: net.IPv4(127, 0, 0, 0).To4(), Mask: net.CIDRMask(8, 32)},
			{IP: net.IPv6loopback, Mask: net.CIDRMask(128, 128)},
		},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return cert, key, err
}

// issueServerCert makes the server's key and a certificate for the loopback
// names, signed by the CA, valid for a year (a new one every start).
func issueServerCert(ca *x509.Certificate, caKey *ecdsa.PrivateKey) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{Organization: []string{"sforg"}, CommonName: "localhost"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(1, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	if tmpl.NotAfter.After(ca.NotAfter) {
		tmpl.NotAfter = ca.NotAfter
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, err
	}
	// The chain is the leaf alone: like public servers, the org does not send
	// the root a client must already trust.
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return n.Add(n, big.NewInt(1))
}

// writeTemp writes data to a new file in dir and returns its path.
func writeTemp(dir string, data []byte, mode os.FileMode) (string, error) {
	f, err := os.CreateTemp(dir, ".sforg-*")
	if err != nil {
		return "", err
	}
	name := f.Name()
	err = f.Chmod(mode)
	if err == nil {
		_, err = f.Write(data)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
		return "", err
	}
	return name, nil
}

// writeAtomic replaces path with data by rename.
func writeAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := writeTemp(filepath.Dir(path), data, mode)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
