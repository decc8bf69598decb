package credentials

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/url"
	"strings"

	"github.com/sfconnect/connector/shared/faults"
)

// The audiences of a JWT bearer assertion for Salesforce's own login servers
// (docs/salesforce-protocol.md §1.4).
const (
	AudienceProduction = "https://login.salesforce.com"
	AudienceSandbox    = "https://test.salesforce.com"
)

// flowChecks holds what a flow needs beyond the presence of its keys. Each
// returns problems that name keys, never values.
var flowChecks = map[string]func(c *Config) []string{
	FlowClientCredentials: func(c *Config) []string {
		if c.LoginURL != "" && isGenericLoginHost(c.LoginURL) {
			return []string{KeyLoginURL + " must be the org's My Domain token URL " +
				"(https://MyDomainName.my.salesforce.com/services/oauth2/token) for the " + FlowClientCredentials +
				" flow: Salesforce does not accept it at login.salesforce.com or test.salesforce.com"}
		}
		return nil
	},
	FlowJWT: func(c *Config) []string {
		if c.PrivateKey == "" {
			return nil // reported as missing
		}
		if _, err := c.RSAPrivateKey(); err != nil {
			return []string{faults.MessageOf(err)}
		}
		return nil
	},
}

// genericLoginHosts are Salesforce's shared login servers, which know no single
// org and so cannot run the client credentials flow.
var genericLoginHosts = map[string]bool{"login.salesforce.com": true, "test.salesforce.com": true}

func isGenericLoginHost(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	return genericLoginHosts[strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")]
}

// Audience is the aud claim of the JWT bearer assertion: SALESFORCE_JWT_AUDIENCE
// when set, otherwise https://test.salesforce.com when the token URL is a
// sandbox's (test.salesforce.com or a *.sandbox.my.salesforce.com My Domain) and
// https://login.salesforce.com for everything else.
func (c Config) Audience() string {
	if c.JWTAudience != "" {
		return strings.TrimSuffix(c.JWTAudience, "/")
	}
	u, err := url.Parse(c.LoginURL)
	if err != nil {
		return AudienceProduction
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if host == "test.salesforce.com" || strings.HasSuffix(host, ".sandbox.my.salesforce.com") {
		return AudienceSandbox
	}
	return AudienceProduction
}

// RSAPrivateKey parses SALESFORCE_PRIVATE_KEY: a PEM "RSA PRIVATE KEY" (PKCS#1)
// or "PRIVATE KEY" (PKCS#8) block, not encrypted. A key pasted into a single-line
// setting with its line breaks written as \n is accepted too. Errors are
// faults.MissingToken naming the key; they never quote it.
func (c Config) RSAPrivateKey() (*rsa.PrivateKey, error) {
	text := strings.TrimSpace(c.PrivateKey)
	if text == "" {
		return nil, faults.New(faults.MissingToken, "missing %s", KeyPrivateKey)
	}
	if !strings.Contains(text, "\n") && strings.Contains(text, `\n`) {
		text = strings.ReplaceAll(text, `\n`, "\n")
	}
	bad := func(why string) error {
		return faults.New(faults.MissingToken, "%s %s; it must be a PEM-encoded RSA private key (PKCS#1 or PKCS#8) without a passphrase", KeyPrivateKey, why)
	}
	block, _ := pem.Decode([]byte(text))
	switch {
	case block == nil:
		return nil, bad("holds no PEM block")
	case block.Type == "ENCRYPTED PRIVATE KEY" || block.Headers["Proc-Type"] != "":
		return nil, bad("is encrypted")
	case block.Type == "RSA PRIVATE KEY":
		key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, bad("is not a valid PKCS#1 key")
		}
		return key, nil
	case block.Type == "PRIVATE KEY":
		parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, bad("is not a valid PKCS#8 key")
		}
		key, ok := parsed.(*rsa.PrivateKey)
		if !ok {
			return nil, bad("is not an RSA key (Salesforce signs with RS256)")
		}
		return key, nil
	default:
		return nil, bad("has a PEM block of type " + strings.ToLower(block.Type))
	}
}
