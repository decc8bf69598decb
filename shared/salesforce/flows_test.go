package salesforce

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sfconnect/connector/sforg"
	"github.com/sfconnect/connector/shared/credentials"
	"github.com/sfconnect/connector/shared/faults"
)

// Keys for the JWT bearer tests: generating one is slow, so each is made once.
var (
	appKey   = sync.OnceValue(func() *rsa.PrivateKey { return mustRSA() })
	otherKey = sync.OnceValue(func() *rsa.PrivateKey { return mustRSA() })
)

func mustRSA() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}

// publicPEM is what the connected app holds: the public half of key.
func publicPEM(t testing.TB, key *rsa.PrivateKey) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func pkcs8(t testing.TB, key *rsa.PrivateKey) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func pkcs1(key *rsa.PrivateKey) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
}

// startOrg runs the emulator for the test, its connected app holding the public
// half of appKey.
func startOrg(t testing.TB, tune func(*sforg.Options)) *sforg.Server {
	t.Helper()
	o := sforg.Options{JWTPublicKeyPEM: publicPEM(t, appKey())}
	if tune != nil {
		tune(&o)
	}
	org, err := sforg.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { org.Close() })
	return org
}

// flowConfig is the configuration of flow for org.
func flowConfig(t testing.TB, org *sforg.Server, flow string) credentials.Config {
	t.Helper()
	s := org.Settings()
	return credentials.Config{
		ClientID:      s[credentials.KeyClientID],
		ClientSecret:  s[credentials.KeyClientSecret],
		Username:      s[credentials.KeyUsername],
		Password:      s[credentials.KeyPassword],
		SecurityToken: s[credentials.KeySecurityToken],
		LoginURL:      s[credentials.KeyLoginURL],
		SOAPLoginURL:  s[credentials.KeySOAPLoginURL],
		Version:       "45.0",
		AuthFlow:      flow,
		PrivateKey:    pkcs8(t, appKey()),
	}
}

// tokenRequests records the forms posted to the token endpoint.
type tokenRequests struct {
	mu    sync.Mutex
	forms []url.Values
}

func (r *tokenRequests) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.URL.Path, "/services/oauth2/token") && req.Body != nil {
		b, _ := io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(b))
		form, _ := url.ParseQuery(string(b))
		r.mu.Lock()
		r.forms = append(r.forms, form)
		r.mu.Unlock()
	}
	return http.DefaultTransport.RoundTrip(req)
}

func (r *tokenRequests) all() []url.Values {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]url.Values(nil), r.forms...)
}

// flowClient returns a client logging in with cfg, recording its token requests.
func flowClient(cfg credentials.Config, tune func(*Options)) (*Client, *tokenRequests) {
	rec := &tokenRequests{}
	opts := testOptions(&fakeCredentials{configs: []credentials.Config{cfg}})
	opts.Transport.HTTPClient = &http.Client{Transport: rec}
	if tune != nil {
		tune(&opts)
	}
	return New(opts), rec
}

// assertRejected checks a failed login: MISSING_TOKEN carrying Salesforce's
// error code and description, and none of the configuration's secrets.
func assertRejected(t *testing.T, err error, cfg credentials.Config, want ...string) {
	t.Helper()
	if faults.CodeOf(err) != faults.MissingToken {
		t.Fatalf("got %v, want MISSING_TOKEN", err)
	}
	msg := faults.MessageOf(err)
	t.Logf("message: %s", msg)
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("got %q, want it to contain %q", msg, w)
		}
	}
	secrets := []string{cfg.ClientSecret, cfg.Password}
	if lines := strings.Split(strings.TrimSpace(cfg.PrivateKey), "\n"); len(lines) > 1 {
		secrets = append(secrets, lines[1]) // the key's first line of base64
	} else {
		secrets = append(secrets, cfg.PrivateKey)
	}
	for _, s := range secrets {
		if s != "" && (strings.Contains(msg, s) || strings.Contains(err.Error(), s)) {
			t.Errorf("got %q, want no secret in it", err)
		}
	}
}

func TestClientCredentialsFlow(t *testing.T) {
	t.Run("logs in and calls the API", func(t *testing.T) {
		org := startOrg(t, nil)
		c, rec := flowClient(flowConfig(t, org, credentials.FlowClientCredentials), nil)
		resp, err := c.ListApprovals(t.Context())
		if err != nil || resp.Status != http.StatusOK {
			t.Fatalf("got %v %v, want 200", resp, err)
		}
		forms := rec.all()
		if len(forms) != 1 {
			t.Fatalf("got %d token requests, want 1", len(forms))
		}
		for key, want := range map[string]string{
			"grant_type": "client_credentials", "client_id": sforg.DefaultClientID, "client_secret": sforg.DefaultClientSecret,
		} {
			if got := forms[0].Get(key); got != want {
				t.Errorf("form %s: got %q, want %q", key, got, want)
			}
		}
		if forms[0].Has("username") || forms[0].Has("password") {
			t.Errorf("got form %v, want no username or password", forms[0])
		}
		if got := org.Counters()["logins.client_credentials"]; got != 1 {
			t.Errorf("got %d client credentials logins, want 1", got)
		}
	})

	tests := []struct {
		name string
		org  func(*sforg.Options)
		cfg  func(*credentials.Config)
		want []string
	}{
		{"wrong secret", nil, func(c *credentials.Config) { c.ClientSecret = "not-the-secret" },
			[]string{"invalid_client", "invalid client credentials"}},
		{"unknown client", nil, func(c *credentials.Config) { c.ClientID = "3MVG9-unknown" },
			[]string{"invalid_client_id", "client identifier invalid"}},
		{"no run-as user", func(o *sforg.Options) { o.DisableClientCredentials = true }, nil,
			[]string{"invalid_grant", "no client credentials user enabled", "run-as user"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			org := startOrg(t, tt.org)
			cfg := flowConfig(t, org, credentials.FlowClientCredentials)
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			c, rec := flowClient(cfg, nil)
			_, err := c.ListApprovals(t.Context())
			assertRejected(t, err, cfg, tt.want...)
			// Rejected credentials are loaded again; unchanged, they are not
			// tried a second time (each failed login counts towards a lockout).
			if got := len(rec.all()); got != 1 {
				t.Errorf("got %d token requests, want 1", got)
			}
			if org.Logins() != 0 {
				t.Errorf("got %d logins, want 0", org.Logins())
			}
		})
	}

	t.Run("refused at login.salesforce.com before sending anything", func(t *testing.T) {
		org := startOrg(t, nil)
		cfg := flowConfig(t, org, credentials.FlowClientCredentials)
		cfg.LoginURL = "https://login.salesforce.com/services/oauth2/token"
		c, rec := flowClient(cfg, nil)
		_, err := c.ListApprovals(t.Context())
		assertRejected(t, err, cfg, credentials.KeyLoginURL, "My Domain")
		if got := len(rec.all()); got != 0 {
			t.Errorf("got %d token requests, want none", got)
		}
	})
}

func TestJWTBearerFlow(t *testing.T) {
	clock := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }

	for name, key := range map[string]string{"PKCS#8": pkcs8(t, appKey()), "PKCS#1": pkcs1(appKey())} {
		t.Run("logs in with a "+name+" key", func(t *testing.T) {
			org := startOrg(t, func(o *sforg.Options) { o.Now = now })
			cfg := flowConfig(t, org, credentials.FlowJWT)
			cfg.PrivateKey = key
			cfg.ClientSecret, cfg.Password, cfg.SecurityToken = "", "", "" // the flow needs none of them
			c, rec := flowClient(cfg, func(o *Options) { o.Now = now })
			resp, err := c.ListApprovals(t.Context())
			if err != nil || resp.Status != http.StatusOK {
				t.Fatalf("got %v %v, want 200", resp, err)
			}
			forms := rec.all()
			if len(forms) != 1 || forms[0].Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
				t.Fatalf("got token requests %v, want one JWT bearer grant", forms)
			}
			if len(forms[0]) != 2 {
				t.Errorf("got form keys %v, want grant_type and assertion only", forms[0])
			}
			var claims jwt.RegisteredClaims
			tok, _, err := jwt.NewParser().ParseUnverified(forms[0].Get("assertion"), &claims)
			if err != nil {
				t.Fatal(err)
			}
			if tok.Method.Alg() != "RS256" {
				t.Errorf("alg: got %q, want RS256", tok.Method.Alg())
			}
			if claims.Issuer != sforg.DefaultClientID || claims.Subject != sforg.DefaultUsername ||
				len(claims.Audience) != 1 || claims.Audience[0] != "https://login.salesforce.com" {
				t.Errorf("claims: got iss %q sub %q aud %v, want the client id, the user, login.salesforce.com",
					claims.Issuer, claims.Subject, claims.Audience)
			}
			if got := claims.ExpiresAt.Time.Sub(clock); got != 3*time.Minute {
				t.Errorf("exp: got now+%v, want now+3m", got)
			}
			if got := org.Counters()["logins.jwt-bearer"]; got != 1 {
				t.Errorf("got %d JWT logins, want 1", got)
			}

			// An expired session is replaced by a new assertion: there is no refresh token.
			org.ExpireSessions()
			if resp, err := c.ListApprovals(t.Context()); err != nil || resp.Status != http.StatusOK {
				t.Fatalf("after expiry: got %v %v, want 200", resp, err)
			}
			if got := org.Counters()["logins.jwt-bearer"]; got != 2 {
				t.Errorf("got %d JWT logins, want 2", got)
			}
		})
	}

	tests := []struct {
		name string
		org  func(*sforg.Options)
		cfg  func(*credentials.Config)
		want []string
	}{
		{"signed with another key", func(o *sforg.Options) { o.JWTPublicKeyPEM = publicPEM(t, otherKey()) }, nil,
			[]string{"invalid_grant", "invalid assertion", "certificate"}},
		{"no certificate on the app", func(o *sforg.Options) { o.JWTPublicKeyPEM = "" }, nil,
			[]string{"invalid_grant", "invalid assertion"}},
		{"wrong audience", func(o *sforg.Options) { o.JWTAudiences = []string{"https://acme.my.salesforce.com"} }, nil,
			[]string{"invalid_grant", "Audience validation failed", credentials.KeyJWTAudience}},
		{"expired by Salesforce's clock", func(o *sforg.Options) { o.Now = func() time.Time { return clock.Add(10 * time.Minute) } }, nil,
			[]string{"invalid_grant", "expired authorization code", "clock"}},
		{"unknown user", nil, func(c *credentials.Config) { c.Username = "someone@else.example" },
			[]string{"invalid_grant", "authentication failure"}},
		{"unknown client", nil, func(c *credentials.Config) { c.ClientID = "3MVG9-unknown" },
			[]string{"invalid_client_id", "client identifier invalid"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			org := startOrg(t, func(o *sforg.Options) {
				o.Now = now
				if tt.org != nil {
					tt.org(o)
				}
			})
			cfg := flowConfig(t, org, credentials.FlowJWT)
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			c, rec := flowClient(cfg, func(o *Options) { o.Now = now })
			_, err := c.ListApprovals(t.Context())
			assertRejected(t, err, cfg, tt.want...)
			if got := len(rec.all()); got != 1 {
				t.Errorf("got %d token requests, want 1 (the reloaded credentials are the same)", got)
			}
			if org.Logins() != 0 {
				t.Errorf("got %d logins, want 0", org.Logins())
			}
		})
	}

	t.Run("custom audience", func(t *testing.T) {
		org := startOrg(t, func(o *sforg.Options) { o.JWTAudiences = []string{"https://acme.my.site.com/customers"} })
		cfg := flowConfig(t, org, credentials.FlowJWT)
		cfg.JWTAudience = "https://acme.my.site.com/customers"
		c, _ := flowClient(cfg, nil)
		if resp, err := c.ListApprovals(t.Context()); err != nil || resp.Status != http.StatusOK {
			t.Fatalf("got %v %v, want 200", resp, err)
		}
	})

	for name, edit := range map[string]func(*credentials.Config){
		"missing private key": func(c *credentials.Config) { c.PrivateKey = "" },
		"private key not PEM": func(c *credentials.Config) { c.PrivateKey = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" },
		"missing username":    func(c *credentials.Config) { c.Username = "" },
		"missing token URL":   func(c *credentials.Config) { c.LoginURL = "" },
		"encrypted private key": func(c *credentials.Config) {
			c.PrivateKey = string(pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1, 2, 3}}))
		},
	} {
		t.Run(name+" is named, nothing sent", func(t *testing.T) {
			org := startOrg(t, nil)
			cfg := flowConfig(t, org, credentials.FlowJWT)
			edit(&cfg)
			c, rec := flowClient(cfg, nil)
			_, err := c.ListApprovals(t.Context())
			wantKey := credentials.KeyPrivateKey
			switch name {
			case "missing username":
				wantKey = credentials.KeyUsername
			case "missing token URL":
				wantKey = credentials.KeyLoginURL
			}
			assertRejected(t, err, cfg, wantKey)
			if got := len(rec.all()); got != 0 {
				t.Errorf("got %d token requests, want none", got)
			}
		})
	}
}
