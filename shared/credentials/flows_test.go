package credentials

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"strings"
	"sync"
	"testing"
)

// rsaKey is one RSA key for the whole package's tests: generating one is slow.
var rsaKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func pkcs8PEM(t *testing.T, key any) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func pkcs1PEM() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey())}))
}

func TestValidateNewFlows(t *testing.T) {
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key := pkcs8PEM(t, rsaKey())
	myDomain := "https://acme.my.salesforce.com/services/oauth2/token"
	cc := Config{ClientID: "id", ClientSecret: testClientSecret, LoginURL: myDomain, Version: "66.0"}
	jwtCfg := Config{ClientID: "id", Username: "u@example.com", PrivateKey: key,
		LoginURL: "https://login.salesforce.com/services/oauth2/token", Version: "66.0"}
	with := func(c Config, edit func(*Config)) Config {
		edit(&c)
		return c
	}
	tests := []struct {
		name string
		cfg  Config
		flow string
		want []string // what the error must name; nil means valid
	}{
		{"client credentials on My Domain", cc, FlowClientCredentials, nil},
		{"client credentials on loopback", with(cc, func(c *Config) { c.LoginURL = "http://127.0.0.1:8080/services/oauth2/token" }), FlowClientCredentials, nil},
		{"client credentials needs no user", with(cc, func(c *Config) { c.Username, c.Password = "", "" }), FlowClientCredentials, nil},
		{"client credentials at login.salesforce.com", with(cc, func(c *Config) { c.LoginURL = "https://login.salesforce.com/services/oauth2/token" }),
			FlowClientCredentials, []string{KeyLoginURL, "My Domain"}},
		{"client credentials at test.salesforce.com", with(cc, func(c *Config) { c.LoginURL = "https://TEST.salesforce.com./services/oauth2/token" }),
			FlowClientCredentials, []string{KeyLoginURL, "My Domain"}},
		{"client credentials lacks secret and url", with(cc, func(c *Config) { c.ClientSecret, c.LoginURL = "", "" }),
			FlowClientCredentials, []string{KeyClientSecret, KeyLoginURL}},
		{"password may use login.salesforce.com", with(goodConfig(), func(c *Config) {}), FlowPassword, nil},
		{"jwt with PKCS#8", jwtCfg, FlowJWT, nil},
		{"jwt with PKCS#1", with(jwtCfg, func(c *Config) { c.PrivateKey = pkcs1PEM() }), FlowJWT, nil},
		{"jwt with escaped line breaks", with(jwtCfg, func(c *Config) { c.PrivateKey = strings.ReplaceAll(key, "\n", `\n`) }), FlowJWT, nil},
		{"jwt on My Domain", with(jwtCfg, func(c *Config) { c.LoginURL = myDomain }), FlowJWT, nil},
		{"jwt lacks key and user", with(jwtCfg, func(c *Config) { c.PrivateKey, c.Username = "", "" }),
			FlowJWT, []string{KeyPrivateKey, KeyUsername}},
		{"jwt key not PEM", with(jwtCfg, func(c *Config) { c.PrivateKey = testPrivateKey }), FlowJWT, []string{KeyPrivateKey, "PEM"}},
		{"jwt key encrypted", with(jwtCfg, func(c *Config) {
			c.PrivateKey = string(pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte(testPrivateKey)}))
		}), FlowJWT, []string{KeyPrivateKey, "encrypted"}},
		{"jwt key is EC", with(jwtCfg, func(c *Config) { c.PrivateKey = pkcs8PEM(t, ecKey) }), FlowJWT, []string{KeyPrivateKey, "RSA"}},
		{"jwt key is a certificate", with(jwtCfg, func(c *Config) {
			c.PrivateKey = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1, 2, 3}}))
		}), FlowJWT, []string{KeyPrivateKey, "certificate"}},
		{"jwt key garbage DER", with(jwtCfg, func(c *Config) {
			c.PrivateKey = string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: []byte(testPrivateKey)}))
		}), FlowJWT, []string{KeyPrivateKey, "PKCS#1"}},
		{"jwt audience must be https", with(jwtCfg, func(c *Config) { c.JWTAudience = "http://login.salesforce.com" }),
			FlowJWT, []string{KeyJWTAudience}},
		{"bad key ignored by the password flow", with(goodConfig(), func(c *Config) { c.PrivateKey = testPrivateKey }), FlowPassword, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate(tt.flow)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("got %v, want no error", err)
				}
				return
			}
			assertMissingToken(t, err, tt.want...)
			if k := strings.TrimSpace(key); strings.Contains(err.Error(), k[40:80]) {
				t.Errorf("got %q, want no part of the private key", err)
			}
		})
	}
}

func goodConfig() Config {
	c, problems := build(func(k string) (string, bool) { v, ok := goodEnv()[k]; return v, ok }, "")
	if len(problems) > 0 {
		panic(problems)
	}
	return c
}

func TestAudience(t *testing.T) {
	tests := []struct {
		loginURL, audience, want string
	}{
		{"https://login.salesforce.com/services/oauth2/token", "", AudienceProduction},
		{"https://test.salesforce.com/services/oauth2/token", "", AudienceSandbox},
		{"https://acme.my.salesforce.com/services/oauth2/token", "", AudienceProduction},
		{"https://acme--uat.sandbox.my.salesforce.com/services/oauth2/token", "", AudienceSandbox},
		{"http://127.0.0.1:8080/services/oauth2/token", "", AudienceProduction},
		{"https://test.salesforce.com/services/oauth2/token", "https://acme.my.site.com/customers/", "https://acme.my.site.com/customers"},
	}
	for _, tt := range tests {
		t.Run(tt.loginURL+" "+tt.audience, func(t *testing.T) {
			c := Config{LoginURL: tt.loginURL, JWTAudience: tt.audience}
			if got := c.Audience(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRSAPrivateKeyRoundTrip(t *testing.T) {
	for name, text := range map[string]string{"pkcs8": pkcs8PEM(t, rsaKey()), "pkcs1": pkcs1PEM()} {
		t.Run(name, func(t *testing.T) {
			got, err := Config{PrivateKey: "\n" + text + "\n"}.RSAPrivateKey()
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(rsaKey()) {
				t.Errorf("got another key, want the one encoded")
			}
		})
	}
}

// TestJWTSecret reads a JWT bearer secret as it is stored: JSON, the PEM's line
// breaks escaped by the JSON encoding, and checks the key is redacted everywhere.
func TestJWTSecret(t *testing.T) {
	key := pkcs8PEM(t, rsaKey())
	secret, err := json.Marshal(map[string]string{
		KeyAuthFlow:    FlowJWT,
		KeyClientID:    "3MVG9-client-id",
		KeyUsername:    "integration@example.com",
		KeyPrivateKey:  key,
		KeyLoginURL:    "https://acme--uat.sandbox.my.salesforce.com/services/oauth2/token",
		KeyJWTAudience: "https://test.salesforce.com",
		KeyVersion:     "66.0",
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := parseSecret("sf/jwt", string(secret), "")
	if err != nil {
		t.Fatalf("got %v, want the config", err)
	}
	if c.AuthFlow != FlowJWT || c.PrivateKey != key || c.Audience() != AudienceSandbox || c.Extra != nil {
		t.Errorf("got %v, want the jwt flow with its key and audience", c)
	}
	body := strings.Split(strings.TrimSpace(key), "\n")[1]
	b, _ := json.Marshal(c)
	for _, out := range []string{c.String(), c.GoString(), string(b)} {
		if strings.Contains(out, body) {
			t.Errorf("got %q, want the private key redacted", out)
		}
		if !strings.Contains(out, Redacted) {
			t.Errorf("got %q, want %q in place of the key", out, Redacted)
		}
	}

	t.Run("missing key named", func(t *testing.T) {
		var m map[string]string
		_ = json.Unmarshal(secret, &m)
		delete(m, KeyPrivateKey)
		b, _ := json.Marshal(m)
		_, err := parseSecret("sf/jwt", string(b), "")
		assertMissingToken(t, err, KeyPrivateKey, "sf/jwt")
	})
	t.Run("flow from the environment", func(t *testing.T) {
		var m map[string]string
		_ = json.Unmarshal(secret, &m)
		delete(m, KeyAuthFlow)
		delete(m, KeyPrivateKey)
		b, _ := json.Marshal(m)
		_, err := parseSecret("sf/jwt", string(b), FlowClientCredentials)
		assertMissingToken(t, err, KeyClientSecret)
	})
}
