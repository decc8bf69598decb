package credentials

import (
	"strings"
	"testing"

	"github.com/sfconnect/connector/shared/faults"
)

// Secret values used across the tests; no output may ever contain them.
const (
	testClientSecret = "cs-3MVG9-very-secret"
	testPassword     = "pw-hunter2-secret"
	testToken        = "tok-XXXXXXXXXX-secret"
	testPrivateKey   = "-----BEGIN PRIVATE KEY-----secret"
	testExtraSecret  = "extra-value-secret"
)

var secretValues = []string{testClientSecret, testPassword, testToken, testPrivateKey, testExtraSecret}

// goodEnv is a complete password-flow configuration.
func goodEnv() map[string]string {
	return map[string]string{
		KeyClientID:      "3MVG9-client-id",
		KeyClientSecret:  testClientSecret,
		KeyUsername:      "integration@example.com",
		KeyPassword:      testPassword,
		KeySecurityToken: testToken,
		KeyLoginURL:      "https://login.salesforce.com/services/oauth2/token",
		KeySOAPLoginURL:  "https://login.salesforce.com/services/Soap/c/45.0",
		KeyVersion:       "v45.0",
	}
}

// assertNoSecrets fails when s holds any of the test secret values.
func assertNoSecrets(t *testing.T, s string) {
	t.Helper()
	for _, secret := range secretValues {
		if strings.Contains(s, secret) {
			t.Errorf("output leaks a secret: %q", s)
		}
	}
}

// assertMissingToken fails unless err is MISSING_TOKEN with a message naming every
// one of want, and no secret.
func assertMissingToken(t *testing.T, err error, want ...string) {
	t.Helper()
	if got := faults.CodeOf(err); got != faults.MissingToken {
		t.Fatalf("got code %q (%v), want %q", got, err, faults.MissingToken)
	}
	msg := faults.MessageOf(err)
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("got message %q, want it to name %q", msg, w)
		}
	}
	assertNoSecrets(t, msg)
	assertNoSecrets(t, err.Error())
}

func TestKeys(t *testing.T) {
	if len(Keys) != 8 {
		t.Fatalf("got %d keys, want 8", len(Keys))
	}
	for _, k := range Keys {
		if _, ok := fieldOf(k); !ok {
			t.Errorf("key %q has no Config field", k)
		}
	}
}

func TestNormalizeVersion(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{"45.0", "45.0", false},
		{"v45.0", "45.0", false},
		{"V45.0", "45.0", false},
		{" v66.0\n", "66.0", false},
		{"31.0", "31.0", false},
		{"100.0", "100.0", false},
		{"066.0", "66.0", false},
		{"30.0", "", true},
		{"v20.0", "", true},
		{"45", "", true},
		{"45.1", "", true},
		{"vv45.0", "", true},
		{"1000.0", "", true},
		{"5.0", "", true},
		{"", "", true},
		{"latest", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := NormalizeVersion(tt.in)
			if tt.wantErr {
				assertMissingToken(t, err, KeyVersion)
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want %q", err, tt.want)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCheckURL(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"https://login.salesforce.com/services/oauth2/token", true},
		{"https://test.salesforce.com/services/Soap/c/45.0", true},
		{"HTTPS://login.salesforce.com/x", true},
		{"http://127.0.0.1:8080/services/oauth2/token", true},
		{"http://127.8.9.10/x", true},
		{"http://[::1]:9000/x", true},
		{"http://localhost:3000/x", true},
		{"http://LocalHost/x", true},
		{"http://login.salesforce.com/services/oauth2/token", false},
		{"http://localhost.example.com/x", false},
		{"http://10.0.0.1/x", false},
		{"http://[::2]/x", false},
		{"ftp://login.salesforce.com/x", false},
		{"/services/oauth2/token", false},
		{"login.salesforce.com/services/oauth2/token", false},
		{"https://", false},
		{"https://user:pw@login.salesforce.com/x", false},
		{"https://login.salesforce.com/%zz", false},
		{":no-scheme", false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			got := checkURL(tt.url)
			if (got == "") != tt.ok {
				t.Errorf("got reason %q, want ok=%v", got, tt.ok)
			}
			if strings.Contains(got, tt.url) {
				t.Errorf("reason %q quotes the URL", got)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	full := Config{
		ClientID: "id", ClientSecret: testClientSecret, Username: "u@example.com",
		Password: testPassword, SecurityToken: testToken,
		LoginURL:     "https://login.salesforce.com/services/oauth2/token",
		SOAPLoginURL: "https://login.salesforce.com/services/Soap/c/45.0",
		Version:      "45.0",
	}
	with := func(edit func(*Config)) Config {
		c := full
		edit(&c)
		return c
	}
	tests := []struct {
		name string
		cfg  Config
		flow string
		want []string // keys the error must name; nil means valid
	}{
		{"password full", full, FlowPassword, nil},
		{"empty flow is password", full, "", nil},
		{"soap full", full, FlowSOAP, nil},
		{"password lacks client id and secret", with(func(c *Config) { c.ClientID, c.ClientSecret = "", "" }), FlowPassword,
			[]string{KeyClientID, KeyClientSecret}},
		{"soap needs no client id", with(func(c *Config) { c.ClientID, c.ClientSecret, c.LoginURL = "", "", "" }), FlowSOAP, nil},
		{"password lacks token", with(func(c *Config) { c.SecurityToken = "" }), FlowPassword, []string{KeySecurityToken}},
		{"password empty but present token", with(func(c *Config) { c.SecurityToken, c.tokenSet = "", true }), FlowPassword, nil},
		{"password lacks version", with(func(c *Config) { c.Version = "" }), FlowPassword, []string{KeyVersion}},
		{"soap derives version", with(func(c *Config) { c.Version = "" }), FlowSOAP, nil},
		{"soap without any version", with(func(c *Config) {
			c.Version, c.SOAPLoginURL = "", "https://login.salesforce.com/services/Soap/c/"
		}), FlowSOAP, []string{KeyVersion}},
		{"soap lacks url", with(func(c *Config) { c.SOAPLoginURL = "" }), FlowSOAP, []string{KeySOAPLoginURL}},
		{"soap lacks username and password", with(func(c *Config) { c.Username, c.Password = "", "" }), FlowSOAP,
			[]string{KeyUsername, KeyPassword}},
		{"plain http login url", with(func(c *Config) { c.LoginURL = "http://login.salesforce.com/services/oauth2/token" }),
			FlowPassword, []string{KeyLoginURL, "https"}},
		{"bad url not required by flow", with(func(c *Config) { c.SOAPLoginURL = "soap.example.com" }), FlowPassword,
			[]string{KeySOAPLoginURL}},
		{"retired version", with(func(c *Config) { c.Version = "30.0" }), FlowPassword, []string{KeyVersion}},
		{"v-prefixed version is fine", with(func(c *Config) { c.Version = "v45.0" }), FlowPassword, nil},
		{"unknown flow", full, "kerberos", []string{KeyAuthFlow, "kerberos", FlowPassword, FlowSOAP}},
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
		})
	}
}

func TestVersionFromSOAPURL(t *testing.T) {
	tests := map[string]string{
		"https://login.salesforce.com/services/Soap/c/45.0":   "45.0",
		"https://login.salesforce.com/services/Soap/u/66.0/":  "66.0",
		"http://127.0.0.1:1234/services/Soap/u/52.0?x=1":      "52.0",
		"https://login.salesforce.com/services/Soap/m/45.0":   "",
		"https://login.salesforce.com/services/oauth2/token":  "",
		"https://login.salesforce.com/services/Soap/c/latest": "",
	}
	for in, want := range tests {
		t.Run(in, func(t *testing.T) {
			if got := versionFromSOAPURL(in); got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}
