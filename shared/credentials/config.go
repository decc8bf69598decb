// Package credentials gives the connector its Salesforce configuration: from an AWS
// Secrets Manager secret in a deployment, or from fixed values for local runs
// (the environment, as package settings read it). A Cache keeps the loaded Config for a while and can be told to read again
// when Salesforce rejects the credentials, so a rotated secret is picked up without
// a redeploy. No value this package prints, logs or returns in an error holds a
// password, security token, client secret or any other secret.
package credentials

import (
	"crypto/sha256"
	"fmt"
	"maps"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/sfconnect/connector/shared/faults"
)

// The configuration keys of the connector contract. They are the environment
// variable names and, in a deployment, the keys of the secret's JSON object.
const (
	KeyClientID      = "SALESFORCE_CLIENT_ID"
	KeyClientSecret  = "SALESFORCE_CLIENT_SECRET"
	KeyUsername      = "SALESFORCE_USERNAME"
	KeyPassword      = "SALESFORCE_PASSWORD"
	KeySecurityToken = "SALESFORCE_SECURITY_TOKEN"
	KeyLoginURL      = "SALESFORCE_URL_LOGIN"
	KeySOAPLoginURL  = "SALESFORCE_SOAP_URL_LOGIN"
	KeyVersion       = "SALESFORCE_VERSION"
)

// KeyAuthFlow chooses the login flow. It may sit in the secret; in the
// environment it is the default of a secret without it.
const KeyAuthFlow = "SALESFORCE_AUTH_FLOW"

// Keys of the client credentials and JWT bearer flows, beyond the eight of the
// contract. Both may sit in the secret; the private key belongs nowhere else.
const (
	// KeyPrivateKey is the PEM-encoded RSA private key (PKCS#1 or PKCS#8, not
	// encrypted) that signs the JWT bearer assertion; its certificate is the one
	// uploaded to the connected app.
	KeyPrivateKey = "SALESFORCE_PRIVATE_KEY"
	// KeyJWTAudience is the assertion's aud claim: https://login.salesforce.com
	// (production), https://test.salesforce.com (sandbox) or an Experience Cloud
	// site URL. When absent it follows SALESFORCE_URL_LOGIN (see Config.Audience).
	KeyJWTAudience = "SALESFORCE_JWT_AUDIENCE"
)

// Keys lists the eight configuration keys of the contract, in its order.
var Keys = []string{
	KeyClientID, KeyClientSecret, KeyUsername, KeyPassword,
	KeySecurityToken, KeyLoginURL, KeySOAPLoginURL, KeyVersion,
}

// The authentication flows Validate knows. A new flow is one entry in flowKeys.
//
// The username-password flow and SOAP login() are being retired
// (docs/salesforce-protocol.md §1.2, §1.5); the client credentials and JWT bearer
// flows are the ones that keep working.
const (
	FlowPassword          = "password"           // OAuth 2.0 username-password
	FlowSOAP              = "soap"               // SOAP login()
	FlowClientCredentials = "client_credentials" // OAuth 2.0 client credentials, as the connected app's run-as user
	FlowJWT               = "jwt"                // OAuth 2.0 JWT bearer, an assertion signed with the private key

	// FlowAuto, the default, picks the flow from what the configuration holds:
	// a private key, the JWT bearer flow; else a username (and its password),
	// the username-password flow; else a client id and secret, the client
	// credentials flow (what an External Client App gives). SOAP is never
	// picked: it must be named.
	FlowAuto = "auto"
)

// flowKeys lists the keys each flow cannot work without. An empty security token
// is accepted when the key is present (orgs that trust the caller's IP range issue
// none), so it is listed but checked for presence, not for a value.
var flowKeys = map[string][]string{
	FlowPassword: {KeyClientID, KeyClientSecret, KeyUsername, KeyPassword, KeySecurityToken, KeyLoginURL, KeyVersion},
	FlowSOAP:     {KeyUsername, KeyPassword, KeySOAPLoginURL}, // the version can come from the URL
	// The client credentials flow logs in as the run-as user set on the
	// connected app: no username or password.
	FlowClientCredentials: {KeyClientID, KeyClientSecret, KeyLoginURL, KeyVersion},
	// The JWT bearer flow proves the app with a signature: no secret, no password.
	FlowJWT: {KeyClientID, KeyUsername, KeyPrivateKey, KeyLoginURL, KeyVersion},
}

// Config is the connector's Salesforce configuration. Its String, GoString, Format,
// LogValue and MarshalJSON methods show which secrets are set, never their values;
// keep it in exported fields or behind a pointer, since fmt prints an unexported
// struct field without calling its methods.
type Config struct {
	ClientID      string
	ClientSecret  string `json:"-"`
	Username      string
	Password      string `json:"-"`
	SecurityToken string `json:"-"`
	LoginURL      string // OAuth token endpoint, e.g. https://login.salesforce.com/services/oauth2/token
	SOAPLoginURL  string // e.g. https://login.salesforce.com/services/Soap/c/45.0
	Version       string // API version without the "v", e.g. "45.0"
	AuthFlow      string // a concrete flow once built (FlowAuto is resolved)
	PrivateKey    string `json:"-"` // PEM RSA key of the JWT bearer flow
	JWTAudience   string // aud of the JWT assertion; see Audience

	// Revision is the secret's version (Secrets Manager's VersionId), "" for
	// fixed values. Not a secret: sessions and remembered rejections belong
	// to one revision.
	Revision string

	// Extra holds the other SALESFORCE_* keys of a secret (for settings added
	// later), so they reach the client without a change here. Their values are
	// treated as secrets.
	Extra map[string]string `json:"-"`

	// tokenSet records that SALESFORCE_SECURITY_TOKEN was present, possibly empty.
	tokenSet bool
}

// field ties a key to its Config field. Adding a key to Config is one struct field
// and one row here: reading, validation and redaction follow the table.
type field struct {
	key    string
	name   string // Go field name, for String and GoString
	secret bool
	url    bool
	get    func(*Config) *string
}

var fields = []field{
	{KeyClientID, "ClientID", false, false, func(c *Config) *string { return &c.ClientID }},
	{KeyClientSecret, "ClientSecret", true, false, func(c *Config) *string { return &c.ClientSecret }},
	{KeyUsername, "Username", false, false, func(c *Config) *string { return &c.Username }},
	{KeyPassword, "Password", true, false, func(c *Config) *string { return &c.Password }},
	{KeySecurityToken, "SecurityToken", true, false, func(c *Config) *string { return &c.SecurityToken }},
	{KeyLoginURL, "LoginURL", false, true, func(c *Config) *string { return &c.LoginURL }},
	{KeySOAPLoginURL, "SOAPLoginURL", false, true, func(c *Config) *string { return &c.SOAPLoginURL }},
	{KeyVersion, "Version", false, false, func(c *Config) *string { return &c.Version }},
	{KeyAuthFlow, "AuthFlow", false, false, func(c *Config) *string { return &c.AuthFlow }},
	{KeyPrivateKey, "PrivateKey", true, false, func(c *Config) *string { return &c.PrivateKey }},
	{KeyJWTAudience, "JWTAudience", false, true, func(c *Config) *string { return &c.JWTAudience }},
}

func fieldOf(key string) (field, bool) {
	i := slices.IndexFunc(fields, func(f field) bool { return f.key == key })
	if i < 0 {
		return field{}, false
	}
	return fields[i], true
}

// has reports whether key counts as given. Every key but the security token needs a
// value; the token only needs to have been present.
func (c *Config) has(key string) bool {
	if key == KeySecurityToken && c.tokenSet {
		return true
	}
	f, ok := fieldOf(key)
	if !ok {
		return c.Extra[key] != ""
	}
	return *f.get(c) != ""
}

// Validate reports, as one faults.MissingToken error, every key the flow needs but
// lacks and every URL or version that is malformed. An empty flow means
// FlowPassword. Messages name keys, never values.
func (c Config) Validate(flow string) error {
	if problems := c.problems(flow); len(problems) > 0 {
		return faults.New(faults.MissingToken, "invalid Salesforce configuration: %s", strings.Join(problems, "; "))
	}
	return nil
}

func (c *Config) problems(flow string) []string {
	if flow == "" || flow == FlowAuto {
		if flow = c.autoFlow(); flow == "" {
			return []string{fmt.Sprintf("%s %s cannot pick a flow: set %s (jwt), %s and %s (password), or %s and %s (client_credentials)",
				KeyAuthFlow, FlowAuto, KeyPrivateKey, KeyUsername, KeyPassword, KeyClientID, KeyClientSecret)}
		}
	}
	required, ok := flowKeys[flow]
	if !ok {
		return []string{fmt.Sprintf("%s %q is not one of %s", KeyAuthFlow, flow, strings.Join(flowNames(), ", "))}
	}
	var missing, problems []string
	for _, key := range required {
		if !c.has(key) {
			missing = append(missing, key)
		}
	}
	if flow == FlowSOAP && c.Version == "" && versionFromSOAPURL(c.SOAPLoginURL) == "" {
		missing = append(missing, KeyVersion)
	}
	if len(missing) > 0 {
		problems = append(problems, "missing "+strings.Join(missing, ", "))
	}
	if check := flowChecks[flow]; check != nil {
		problems = append(problems, check(c)...)
	}
	for _, f := range fields {
		v := *f.get(c)
		if v == "" {
			continue
		}
		if f.url {
			if err := checkURL(v); err != "" {
				problems = append(problems, f.key+" "+err)
			}
		}
	}
	if c.Version != "" {
		if _, err := NormalizeVersion(c.Version); err != nil {
			problems = append(problems, faults.MessageOf(err))
		}
	}
	return problems
}

// Flows returns the names of the authentication flows, sorted, FlowAuto
// included.
func Flows() []string { return append(flowNames(), FlowAuto) }

// autoFlow is the flow FlowAuto picks for c, or "" when c holds none of the
// three sets of keys.
func (c *Config) autoFlow() string {
	switch {
	case c.PrivateKey != "":
		return FlowJWT
	case c.Username != "":
		return FlowPassword
	case c.ClientID != "" && c.ClientSecret != "":
		return FlowClientCredentials
	}
	return ""
}

// Fingerprint is a SHA-256 of every value of the configuration, secrets
// included, to tell whether a reloaded configuration differs from one
// Salesforce rejected. It stays in memory: never log, store or send it.
func (c Config) Fingerprint() [32]byte {
	h := sha256.New()
	write := func(s string) {
		h.Write([]byte(strconv.Itoa(len(s))))
		h.Write([]byte{':'})
		h.Write([]byte(s))
	}
	for _, f := range fields {
		write(*f.get(&c))
	}
	write(strconv.FormatBool(c.tokenSet))
	for _, k := range slices.Sorted(maps.Keys(c.Extra)) {
		write(k)
		write(c.Extra[k])
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

func flowNames() []string {
	names := make([]string, 0, len(flowKeys))
	for name := range flowKeys {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// minVersion is the oldest API version Salesforce still serves (docs/salesforce-protocol.md
// §1.6: 21.0–30.0 were retired in Summer '25).
const minVersion = 31

var versionPattern = regexp.MustCompile(`^\d{2,3}\.0$`)

// NormalizeVersion accepts "45.0" or "v45.0" and returns "45.0". Anything else, or
// a retired version, is a faults.MissingToken error naming SALESFORCE_VERSION.
func NormalizeVersion(v string) (string, error) {
	s := strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(v), "v"), "V")
	if !versionPattern.MatchString(s) {
		return "", faults.New(faults.MissingToken, "%s must look like 45.0 or v45.0", KeyVersion)
	}
	major, _ := strconv.Atoi(strings.TrimSuffix(s, ".0"))
	if major < minVersion {
		return "", faults.New(faults.MissingToken, "%s %s is retired; the oldest served is %d.0", KeyVersion, s, minVersion)
	}
	return strconv.Itoa(major) + ".0", nil
}

// soapVersionPattern finds the version in a SOAP login URL such as
// https://login.salesforce.com/services/Soap/c/45.0 (enterprise) or /Soap/u/45.0 (partner).
var soapVersionPattern = regexp.MustCompile(`/services/Soap/[cu]/(\d{2,3}\.0)/?$`)

// versionFromSOAPURL returns the API version a SOAP login URL names, or "".
func versionFromSOAPURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	m := soapVersionPattern.FindStringSubmatch(u.Path)
	if m == nil {
		return ""
	}
	return m[1]
}

// checkURL returns why raw is not acceptable as a login URL, or "". Plain http is
// allowed only to a loopback host, where the local org emulator listens; anywhere
// else it would send the password in clear. The reason never quotes the URL, which
// could carry user info.
func checkURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "is not a valid URL"
	}
	if !u.IsAbs() || u.Host == "" {
		return "must be an absolute URL"
	}
	if u.User != nil {
		return "must not carry a user name or password"
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return ""
	case "http":
		if isLoopback(u.Hostname()) {
			return ""
		}
		return "must use https (plain http is allowed only to a loopback host)"
	default:
		return "must use https"
	}
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
