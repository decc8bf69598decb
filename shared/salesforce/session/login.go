package session

import (
	"bytes"
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sfconnect/connector/shared/credentials"
	"github.com/sfconnect/connector/shared/faults"
	"github.com/sfconnect/connector/shared/salesforce/soap"
	"github.com/sfconnect/connector/shared/salesforce/transport"
)

// rejection is Salesforce refusing the credentials: an OAuth error or a SOAP login
// fault. Its text is Salesforce's code and description with every credential value
// taken out.
type rejection struct {
	flow        string // the flow that was refused, for hint
	status      int
	code        string
	description string
}

func (r *rejection) String() string {
	switch {
	case r.code != "" && r.description != "":
		return r.code + ": " + r.description
	case r.code != "":
		return r.code
	default:
		return "HTTP " + http.StatusText(r.status)
	}
}

// loginFlow logs in once with cfg. It returns a token, or a rejection when
// Salesforce refused the credentials, or an error for anything else.
type loginFlow func(l *Login, ctx context.Context, cfg credentials.Config) (*Token, *rejection, error)

// loginFlows maps the configuration's flow names to their implementation.
var loginFlows = map[string]loginFlow{
	credentials.FlowPassword: (*Login).passwordLogin,
	credentials.FlowSOAP:     (*Login).soapLogin,

	credentials.FlowClientCredentials: (*Login).clientCredentialsLogin,
	credentials.FlowJWT:               (*Login).jwtLogin,
}

// Credentials gives Login the configuration to log in with. Invalidate is
// called when Salesforce rejects the credentials, so that the next Load reads
// them again (a rotated secret is picked up without a redeploy).
type Credentials interface {
	Load(ctx context.Context) (credentials.Config, error)
	Invalidate()
}

// Login is the Source at the bottom of the chain: it logs in with the flow the
// configuration names. It remembers a rejection: the same configuration is not
// tried again for LoginOptions.Cooldown, since every failed login counts
// towards the user's lockout.
type Login struct {
	creds    Credentials
	send     func(ctx context.Context, req transport.Request) (*transport.Response, error)
	log      *slog.Logger
	now      func() time.Time
	cooldown time.Duration

	mu       sync.Mutex
	refused  *refusal        // the last rejection, while it is remembered
	warnedOf map[string]bool // flows whose retirement has been logged
	// identity was derived from the configuration of the credentials' load
	// identityOf (see Identity).
	identity      Identity
	identityOf    uint64
	identityKnown bool
}

// refusal is a configuration Salesforce rejected, and the error it gave.
type refusal struct {
	fingerprint [32]byte
	err         error
	until       time.Time
}

// LoginOptions tunes a Login. Zero values take the defaults noted.
type LoginOptions struct {
	Logger *slog.Logger     // default slog.Default()
	Now    func() time.Time // the clock of IssuedAt, JWT assertions and the cool-down (default time.Now)
	// Cooldown is how long a rejected configuration is not tried again
	// (default DefaultCooldown); a changed configuration is tried at once.
	Cooldown time.Duration
}

// DefaultCooldown is how long a rejected configuration waits before its next
// login: Salesforce locks a user out after 3 to 10 failed logins (the org's
// password policy), and a fan-out of fresh environments would reach that in
// seconds.
const DefaultCooldown = 5 * time.Minute

// NewLogin returns a Login that loads its configuration from creds and sends
// through tr.
func NewLogin(creds Credentials, tr *transport.Client, o LoginOptions) *Login {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Cooldown <= 0 {
		o.Cooldown = DefaultCooldown
	}
	return &Login{creds: creds, send: tr.Send, log: o.Logger, now: o.Now, cooldown: o.Cooldown, warnedOf: map[string]bool{}}
}

// Token logs in. When Salesforce rejects the credentials they may just have
// been rotated: the cached configuration is dropped and loaded again, and
// tried once more only if it changed; otherwise, and after a second
// rejection, the rejection is remembered for the cool-down and MISSING_TOKEN
// is returned without another login until it ends or the configuration
// changes.
func (l *Login) Token(ctx context.Context) (*Token, error) {
	cfg, err := l.load(ctx)
	if err != nil {
		return nil, err
	}
	if err := l.remembered(cfg); err != nil {
		return nil, err
	}
	t, rej, err := l.loginWith(ctx, cfg)
	if err != nil || rej == nil {
		return t, err
	}
	l.log.Warn("salesforce rejected the login; loading the credentials again", "error", rej.code)
	l.creds.Invalidate()
	fresh, err := l.load(ctx)
	if err != nil {
		return nil, err
	}
	if fresh.Fingerprint() == cfg.Fingerprint() {
		return nil, l.remember(cfg, rej, "Salesforce rejected the login")
	}
	t, rej, err = l.loginWith(ctx, fresh)
	if err != nil || rej == nil {
		return t, err
	}
	return nil, l.remember(fresh, rej, "Salesforce rejected the login, also with freshly loaded credentials")
}

// remembered returns the remembered rejection of cfg, or nil.
func (l *Login) remembered(cfg credentials.Config) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if r := l.refused; r != nil && r.fingerprint == cfg.Fingerprint() && l.now().Before(r.until) {
		return r.err
	}
	return nil
}

// remember keeps the rejection of cfg for the cool-down and returns its error.
func (l *Login) remember(cfg credentials.Config, rej *rejection, what string) error {
	until := l.now().Add(l.cooldown)
	err := faults.New(faults.MissingToken, "%s: %s%s; these credentials are not tried again before %s (SALESFORCE_LOGIN_COOLDOWN) unless they change",
		what, rej, rej.hint(), until.UTC().Format(time.RFC3339))
	l.mu.Lock()
	l.refused = &refusal{fingerprint: cfg.Fingerprint(), err: err, until: until}
	l.mu.Unlock()
	return err
}

// Invalidate does nothing: a login gives a new session every time.
func (l *Login) Invalidate(*Token) {}

// Identity hashes the flow, the login endpoint, the username, the client id
// and the revision of the current configuration. It runs before every call of
// a warm environment (session.Cache checks the session's identity), so while
// the credentials report the configuration unchanged (credentials.Cache's
// Fresh) the identity derived from it is reused.
func (l *Login) Identity(ctx context.Context) (Identity, error) {
	fresh, _ := l.creds.(interface{ Fresh() (uint64, bool) })
	if fresh != nil {
		if stored, ok := fresh.Fresh(); ok {
			l.mu.Lock()
			id, known := l.identity, l.identityOf == stored && l.identityKnown
			l.mu.Unlock()
			if known {
				return id, nil
			}
		}
	}
	cfg, err := l.load(ctx)
	if err != nil {
		return Identity{}, err
	}
	id, err := identityOf(cfg)
	if err == nil && fresh != nil {
		if stored, ok := fresh.Fresh(); ok {
			l.mu.Lock()
			l.identity, l.identityOf, l.identityKnown = id, stored, true
			l.mu.Unlock()
		}
	}
	return id, err
}

func identityOf(cfg credentials.Config) (Identity, error) {
	version, err := credentials.NormalizeVersion(cfg.Version)
	if err != nil {
		return Identity{}, err
	}
	endpoint := cfg.LoginURL
	if cfg.AuthFlow == credentials.FlowSOAP {
		endpoint = cfg.SOAPLoginURL
	}
	key := hash(cfg.AuthFlow, endpoint, cfg.Username, cfg.ClientID, cfg.Revision)
	fp := cfg.Fingerprint()
	seal, err := hkdf.Key(sha256.New, fp[:], []byte(key), "sfconnect session seal v1", 32)
	if err != nil {
		return Identity{}, faults.Wrap(faults.UnknownError, err, "cannot derive the session key")
	}
	return Identity{Key: key, Version: version, Seal: [32]byte(seal)}, nil
}

// hash is a SHA-256 of parts, each prefixed by its length, so that the key
// holds no part of the configuration and no two lists of parts collide.
func hash(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(strconv.Itoa(len(p))))
		h.Write([]byte{':'})
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (l *Login) load(ctx context.Context) (credentials.Config, error) {
	if l.creds == nil {
		return credentials.Config{}, faults.New(faults.MissingToken, "no Salesforce credentials configured")
	}
	return l.creds.Load(ctx) // already a faults error
}

// rejectionHints says where to look when Salesforce's description points at the
// org's or the connected app's setup rather than only at a wrong value. Keys are
// "flow|description" in lower case; "|description" holds for every flow.
var rejectionHints = map[string]string{
	credentials.FlowPassword + "|authentication failure": "a wrong password or security token, a locked user, or the " +
		"username-password flow blocked, as it is by default in orgs created since Summer '23 and for every connected app " +
		"from February 2027: consider the client_credentials or jwt flow",
	credentials.FlowJWT + "|authentication failure": "check that " + credentials.KeyUsername +
		" names an active user of this org (a sandbox appends its name to usernames)",
	"|user hasn't approved this consumer": "pre-authorise the user for the connected app: Admin approved users are pre-authorized, " +
		"and the user's profile or permission set added to the app",
	"|audience validation failed": "check " + credentials.KeyJWTAudience + ": https://login.salesforce.com for production, " +
		"https://test.salesforce.com for a sandbox",
	"|invalid assertion": "check that the certificate uploaded to the connected app belongs to " + credentials.KeyPrivateKey +
		" and that the app uses digital signatures",
	"|expired authorization code":         "the assertion had expired when Salesforce read it: check the clock",
	"|no client credentials user enabled": "enable the client credentials flow on the connected app and set its run-as user",
	// SOAP faults are matched by their code: login() disabled in the org, or
	// not served by the API version.
	credentials.FlowSOAP + "|invalid_operation": "SOAP API login() is disabled in this org or gone from this API version " +
		"(65.0 and later), and it is retired for every version in Summer '27: move to the client_credentials or jwt flow",
}

// hint returns " (what to check)" for a known rejection, or "".
func (r *rejection) hint() string {
	for _, k := range []string{r.flow + "|" + strings.ToLower(r.description), "|" + strings.ToLower(r.description), r.flow + "|" + strings.ToLower(r.code)} {
		if h, ok := rejectionHints[k]; ok {
			return " (" + h + ")"
		}
	}
	return ""
}

// retiring names the flows Salesforce is retiring, and when.
var retiring = map[string]string{
	credentials.FlowPassword: "the OAuth username-password flow is blocked by default in orgs created since Summer '23 " +
		"and retired for connected apps on 2027-02-20",
	credentials.FlowSOAP: "SOAP API login() is gone from API 65.0 and retired for every version in Summer '27",
}

// loginWith logs in once with cfg.
func (l *Login) loginWith(ctx context.Context, cfg credentials.Config) (*Token, *rejection, error) {
	flowName := cfg.AuthFlow
	flow, ok := loginFlows[flowName]
	if !ok {
		return nil, nil, faults.New(faults.MissingToken, "%s %q is not one of %s", credentials.KeyAuthFlow, flowName, strings.Join(credentials.Flows(), ", "))
	}
	l.warnRetiring(flowName)
	transport.CountLogin(ctx)
	t, rej, err := flow(l, ctx, cfg)
	if rej != nil {
		rej.description = redact(rej.description, cfg)
		rej.code = redact(rej.code, cfg)
		rej.flow = flowName
	}
	if t != nil {
		if id, err := identityOf(cfg); err == nil {
			t.Identity = id.Key
		}
		l.log.Info("salesforce login", "flow", flowName, "instance", t.InstanceURL)
	}
	return t, rej, err
}

// warnRetiring logs, once per execution environment, that flow is being
// retired and what to move to.
func (l *Login) warnRetiring(flow string) {
	when, ok := retiring[flow]
	if !ok {
		return
	}
	l.mu.Lock()
	first := !l.warnedOf[flow]
	l.warnedOf[flow] = true
	l.mu.Unlock()
	if first {
		l.log.Warn("salesforce login flow is being retired: move to client_credentials or jwt (see README, Authentication)",
			"flow", flow, "retirement", when)
	}
}

// passwordLogin is the OAuth 2.0 username-password flow (docs/salesforce-protocol.md §1.1).
func (l *Login) passwordLogin(ctx context.Context, cfg credentials.Config) (*Token, *rejection, error) {
	return l.oauthLogin(ctx, cfg, "OAuth token request", url.Values{
		"grant_type":    {"password"},
		"client_id":     {cfg.ClientID},
		"client_secret": {cfg.ClientSecret},
		"username":      {cfg.Username},
		"password":      {cfg.Password + cfg.SecurityToken}, // concatenated, no separator
	})
}

// clientCredentialsLogin is the OAuth 2.0 client credentials flow
// (docs/salesforce-protocol.md §1.3): the session belongs to the connected app's
// run-as user. Salesforce serves it only on the org's My Domain.
func (l *Login) clientCredentialsLogin(ctx context.Context, cfg credentials.Config) (*Token, *rejection, error) {
	if err := cfg.Validate(credentials.FlowClientCredentials); err != nil {
		return nil, nil, err
	}
	return l.oauthLogin(ctx, cfg, "OAuth client credentials request", url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {cfg.ClientID},
		"client_secret": {cfg.ClientSecret},
	})
}

// grantJWTBearer is the grant type of the JWT bearer flow (RFC 7523).
const grantJWTBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// assertionLifetime is how long a JWT bearer assertion is valid: three minutes,
// as public clients use; the exact tolerance Salesforce enforces is unconfirmed
// (docs/salesforce-protocol.md §1.4).
const assertionLifetime = 3 * time.Minute

// jwtLogin is the OAuth 2.0 JWT bearer flow (docs/salesforce-protocol.md §1.4): an
// RS256 assertion that the connected app's certificate verifies, for the user
// in sub, whom an admin pre-authorised for the app.
func (l *Login) jwtLogin(ctx context.Context, cfg credentials.Config) (*Token, *rejection, error) {
	if err := cfg.Validate(credentials.FlowJWT); err != nil {
		return nil, nil, err
	}
	key, err := cfg.RSAPrivateKey()
	if err != nil {
		return nil, nil, err
	}
	now := l.now()
	assertion, err := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.RegisteredClaims{
		Issuer:    cfg.ClientID,
		Subject:   cfg.Username,
		Audience:  jwt.ClaimStrings{cfg.Audience()},
		ExpiresAt: jwt.NewNumericDate(now.Add(assertionLifetime)),
	}).SignedString(key)
	if err != nil {
		return nil, nil, faults.New(faults.MissingToken, "cannot sign the JWT bearer assertion with %s", credentials.KeyPrivateKey)
	}
	return l.oauthLogin(ctx, cfg, "OAuth JWT bearer request", url.Values{
		"grant_type": {grantJWTBearer},
		"assertion":  {assertion},
	})
}

// oauthLogin posts one grant to the token endpoint and reads Salesforce's answer:
// the session, or its error object as a rejection.
func (l *Login) oauthLogin(ctx context.Context, cfg credentials.Config, name string, form url.Values) (*Token, *rejection, error) {
	version, err := credentials.NormalizeVersion(cfg.Version)
	if err != nil {
		return nil, nil, err
	}
	resp, err := l.send(ctx, transport.Request{
		Name:       name,
		Method:     http.MethodPost,
		URL:        cfg.LoginURL,
		Header:     map[string]string{"Accept": "application/json"},
		Form:       form,
		Idempotent: true, // a second token request only issues another token
	})
	if err != nil {
		return nil, nil, err
	}
	if resp.Status >= 400 {
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		_ = json.Unmarshal(resp.Body, &e) // a body that is not Salesforce's JSON still means no
		return nil, &rejection{status: resp.Status, code: e.Error, description: e.Description}, nil
	}
	var ok struct {
		AccessToken string `json:"access_token"`
		InstanceURL string `json:"instance_url"`
	}
	if err := json.Unmarshal(resp.Body, &ok); err != nil || resp.Status != http.StatusOK {
		return nil, nil, faults.New(faults.UnknownError, "%s: unexpected answer from Salesforce (status %d)", name, resp.Status)
	}
	if ok.AccessToken == "" {
		return nil, nil, faults.New(faults.UnknownError, "%s: Salesforce's answer lacks access_token", name)
	}
	instance, err := instanceOf(ok.InstanceURL)
	if err != nil {
		return nil, nil, faults.New(faults.UnknownError, "%s: the answer's instance_url is %s; the session is not used", name, faults.MessageOf(err))
	}
	return &Token{AccessToken: ok.AccessToken, InstanceURL: instance, Version: version, IssuedAt: l.now()}, nil, nil
}

// soapNamespaces maps the WSDL letter of a SOAP login URL to its namespace
// (docs/salesforce-protocol.md §1.5): u is the partner WSDL, c the enterprise one.
var soapNamespaces = map[string]string{
	"u": "urn:partner.soap.sforce.com",
	"c": "urn:enterprise.soap.sforce.com",
}

// soapLogin is SOAP login() (docs/salesforce-protocol.md §1.5). The sessionId is used
// as a bearer token; the instance is serverUrl's scheme and host.
func (l *Login) soapLogin(ctx context.Context, cfg credentials.Config) (*Token, *rejection, error) {
	version, err := credentials.NormalizeVersion(cfg.Version)
	if err != nil {
		return nil, nil, err
	}
	ns, ok := soapNamespaces[wsdlLetter(cfg.SOAPLoginURL)]
	if !ok {
		return nil, nil, faults.New(faults.MissingToken,
			"%s must end in /services/Soap/u/NN.N (partner) or /services/Soap/c/NN.N (enterprise)", credentials.KeySOAPLoginURL)
	}
	resp, err := l.send(ctx, transport.Request{
		Name:   "SOAP login",
		Method: http.MethodPost,
		URL:    cfg.SOAPLoginURL,
		Header: map[string]string{"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": "login", "Accept": "text/xml"},
		Body:   loginEnvelope(ns, cfg.Username, cfg.Password+cfg.SecurityToken),
		// login() creates nothing; sending it twice only opens another session.
		Idempotent: true,
		SOAP:       true,
	})
	if err != nil {
		return nil, nil, err
	}
	env, perr := soap.Parse(resp.Body)
	switch {
	case perr == nil && env.Body.Fault != nil:
		f := env.Body.Fault
		return nil, &rejection{status: resp.Status, code: f.Name(), description: f.String}, nil
	case resp.Status >= 400:
		return nil, &rejection{status: resp.Status}, nil
	case perr != nil || env.Body.Login == nil || resp.Status != http.StatusOK:
		return nil, nil, faults.New(faults.UnknownError, "SOAP login: unexpected answer from Salesforce (status %d)", resp.Status)
	}
	r := env.Body.Login.Result
	if r.PasswordExpired {
		return nil, nil, faults.New(faults.MissingToken, "SOAP login: the Salesforce user's password has expired")
	}
	if r.SessionID == "" {
		return nil, nil, faults.New(faults.UnknownError, "SOAP login: Salesforce's answer lacks sessionId")
	}
	instance, err := instanceOf(r.ServerURL)
	if err != nil {
		return nil, nil, faults.New(faults.UnknownError, "SOAP login: the answer's serverUrl is %s; the session is not used", faults.MessageOf(err))
	}
	return &Token{AccessToken: r.SessionID, InstanceURL: instance, Version: version, IssuedAt: l.now()}, nil, nil
}

// wsdlLetter returns the "u" or "c" of .../services/Soap/u/45.0, or "".
func wsdlLetter(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	for i := 0; i+2 < len(parts); i++ {
		if parts[i] == "services" && parts[i+1] == "Soap" {
			return parts[i+2]
		}
	}
	return ""
}

// instanceOf keeps the scheme and host of an instance or server URL. It must
// be on one of Salesforce's own domains over https, or on a loopback host (the
// local emulator): the access token and every record go there, so a login
// answer naming any other host is refused and no session is kept from it.
func instanceOf(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || !transport.SalesforceURL(raw) {
		return "", faults.New(faults.UnknownError, "not an https URL on a Salesforce domain")
	}
	return u.Scheme + "://" + u.Host, nil
}

// redact removes every credential value from s, which Salesforce wrote and which
// goes into an error message. Salesforce's texts do not quote them; this makes sure.
func redact(s string, cfg credentials.Config) string {
	for _, v := range []string{cfg.Password + cfg.SecurityToken, cfg.Password, cfg.SecurityToken, cfg.ClientSecret, cfg.PrivateKey, cfg.Username} {
		if len(v) >= 3 {
			s = strings.ReplaceAll(s, v, credentials.Redacted)
		}
	}
	const maxLen = 300
	if len(s) > maxLen {
		n := maxLen
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n] + "…"
	}
	return s
}

// loginEnvelope is the login() request in the WSDL's namespace ns.
func loginEnvelope(ns, username, password string) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` +
		`<env:Envelope xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:env="http://schemas.xmlsoap.org/soap/envelope/">` +
		`<env:Body><n1:login xmlns:n1="`)
	soap.Escape(&b, ns)
	b.WriteString(`">`)
	soap.Element(&b, "n1:username", username)
	soap.Element(&b, "n1:password", password)
	b.WriteString(`</n1:login></env:Body></env:Envelope>`)
	return b.Bytes()
}
