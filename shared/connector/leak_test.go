package connector

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/sfconnect/connector/sforg"
	"github.com/sfconnect/connector/shared/credentials"
	"github.com/sfconnect/connector/shared/salesforce"
)

// Canary credentials: distinctive, so that any trace of them is found.
const (
	canaryPassword = "Pw-canary-7Qx2!z"
	canaryToken    = "TOKcanary93Lm"
	canarySecret   = "CS-canary-4f1e9a7b2c"
)

// leakScene is one way an invocation can go: a fault in the org, or a broken
// environment the action runs in.
type leakScene struct {
	name    string
	fault   *sforg.Fault                                                        // injected on the action's route when Route is empty
	env     func(t *testing.T, w *world, settings map[string]string) *Connector // a replacement execution environment
	event   func(t *testing.T, a action, ev string) string                      // a replacement event
	timeout time.Duration
}

func leakScenes() []leakScene {
	f := func(k sforg.FaultKind, status int, times int) *sforg.Fault {
		return &sforg.Fault{Kind: k, Status: status, Times: times}
	}
	secretEnv := func(api credentials.SecretsAPI) func(*testing.T, *world, map[string]string) *Connector {
		return func(t *testing.T, w *world, _ map[string]string) *Connector {
			opts := w.opts
			opts.Credentials = secretSource(api)
			return New(salesforce.New(opts), slog.Default())
		}
	}
	settingsEnv := func(change map[string]string) func(*testing.T, *world, map[string]string) *Connector {
		return func(t *testing.T, w *world, settings map[string]string) *Connector {
			s := maps.Clone(settings)
			for k, v := range change {
				s[k] = v
			}
			opts := w.opts
			opts.Credentials = settingsSource(s)
			return New(salesforce.New(opts), slog.Default())
		}
	}
	secretJSON := func(settings map[string]string) string {
		b, _ := json.Marshal(settings)
		return string(b)
	}
	return []leakScene{
		{name: "success"},
		{name: "500", fault: f(sforg.FaultStatus, 500, 0)},
		{name: "503 HTML", fault: &sforg.Fault{Kind: sforg.FaultStatus, Status: 503, HTML: true}},
		{name: "dropped before", fault: f(sforg.FaultDropBefore, 0, 1)},
		{name: "dropped after", fault: f(sforg.FaultDropAfter, 0, 1)},
		{name: "401 once", fault: f(sforg.FaultSessionExpired, 0, 1)},
		{name: "401 always", fault: f(sforg.FaultSessionExpired, 0, 0)},
		{name: "limit exceeded", fault: f(sforg.FaultLimitExceeded, 0, 0)},
		{name: "deadline", fault: &sforg.Fault{Kind: sforg.FaultLatency, Delay: 400 * time.Millisecond}, timeout: 200 * time.Millisecond},
		{name: "token endpoint 400", fault: &sforg.Fault{Route: sforg.RouteToken, Kind: sforg.FaultLoginFailure},
			env: settingsEnv(nil)},
		{name: "SOAP login fault", fault: &sforg.Fault{Route: sforg.RouteSOAPLogin, Kind: sforg.FaultLoginFailure},
			env: settingsEnv(map[string]string{credentials.KeyAuthFlow: credentials.FlowSOAP})},
		{name: "token endpoint 503", fault: &sforg.Fault{Route: sforg.RouteToken, Kind: sforg.FaultStatus, Status: 503},
			env: settingsEnv(nil)},
		{name: "wrong password", env: settingsEnv(map[string]string{credentials.KeyPassword: canaryPassword + "x"})},
		{name: "wrong client secret", env: settingsEnv(map[string]string{credentials.KeyClientSecret: canarySecret + "x"})},
		{name: "plain http login URL", env: settingsEnv(map[string]string{credentials.KeyLoginURL: "http://login.invalid/services/oauth2/token"})},
		{name: "secret missing", env: secretEnv(fakeSecrets{err: &types.ResourceNotFoundException{Message: aws.String("Secrets Manager can't find the specified secret.")}})},
		{name: "secret malformed", env: func(t *testing.T, w *world, settings map[string]string) *Connector {
			// A syntax error right after the password: a JSON error would quote it.
			broken := strings.Replace(secretJSON(settings), canaryPassword+`"`, canaryPassword+`" x`, 1)
			return secretEnv(fakeSecrets{value: aws.String(broken)})(t, w, settings)
		}},
		{name: "secret with a wrong type", env: func(t *testing.T, w *world, settings map[string]string) *Connector {
			typed := strings.Replace(secretJSON(settings), `"`+canaryToken+`"`, `["`+canaryToken+`"]`, 1)
			return secretEnv(fakeSecrets{value: aws.String(typed)})(t, w, settings)
		}},
		{name: "org down", env: func(t *testing.T, w *world, _ map[string]string) *Connector {
			w.org.Close()
			return w.coldStart()
		}},
		{name: "bad input", event: func(t *testing.T, a action, ev string) string {
			return `{"SObjectName":"Account/../x","SObjectId":"bad","salesforcePayload":[` + `"` + canaryPassword[:3] + `"]}`
		}},
	}
}

// TestNoSecretLeaks runs every action through every scene, with each of the
// four login flows, and scans every log line (the connector's, the client's
// and slog's default logger, at debug level), every error message and every
// output for the password, the security token, the client secret and every
// access token the org issued.
func TestNoSecretLeaks(t *testing.T) {
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	prev := slog.Default()
	slog.SetDefault(log) // resty, the SDK and anything else logging through slog or log
	t.Cleanup(func() { slog.SetDefault(prev) })

	var mu sync.Mutex
	var seen []string
	var orgs []*sforg.Server
	keep := func(org *sforg.Server, r result) {
		mu.Lock()
		defer mu.Unlock()
		orgs = append(orgs, org)
		seen = append(seen, r.ErrorType+"\n"+r.ErrorMessage+"\n"+r.SalesforceResult+"\n"+r.SalesforceStatus)
	}

	for _, flow := range []string{credentials.FlowPassword, credentials.FlowSOAP, credentials.FlowClientCredentials, credentials.FlowJWT} {
		for _, sc := range leakScenes() {
			for _, a := range actions() {
				t.Run(flow+"/"+sc.name+"/"+a.name, func(t *testing.T) {
					t.Parallel()
					w, settings := leakWorld(t, flow, log, logs)
					event := a.event(t, w)
					mustOK(t, invoke(t, w.conn.ApprovalList, `{}`), "200")
					env := w.conn
					if sc.env != nil {
						env = sc.env(t, w, settings)
					}
					if sc.fault != nil {
						f := *sc.fault
						if f.Route == "" {
							f.Route = a.route
						}
						mustInject(t, w.org, f)
					}
					if sc.event != nil {
						event = sc.event(t, a, event)
					}
					ctx := t.Context()
					if sc.timeout > 0 {
						var cancel context.CancelFunc
						ctx, cancel = context.WithTimeout(ctx, sc.timeout)
						defer cancel()
					}
					keep(w.org, invokeCtx(ctx, t, a.h(env), event))
				})
			}
		}
	}

	t.Cleanup(func() {
		secrets := map[string]string{
			"password":       canaryPassword,
			"security token": canaryToken,
			"client secret":  canarySecret,
			"private key":    canaryKeyLine(),
		}
		tokens := 0
		for i, org := range orgs {
			for j, tok := range org.IssuedTokens() {
				secrets[fmt.Sprintf("access token %d of org %d", j+1, i+1)] = tok
				tokens++
			}
		}
		if tokens == 0 || logs.String() == "" || len(seen) == 0 {
			t.Fatalf("got %d tokens, %d bytes of logs, %d results: the scan would prove nothing", tokens, len(logs.String()), len(seen))
		}
		for _, leak := range findLeaks(map[string]string{"logs": logs.String(), "outputs and errors": strings.Join(seen, "\n")}, secrets) {
			t.Error(leak)
		}
	})
}

// findLeaks reports every secret found in the texts, as it is or URL- or
// JSON-escaped.
func findLeaks(texts, secrets map[string]string) []string {
	var found []string
	for where, text := range texts {
		for what, secret := range secrets {
			for _, form := range []string{secret, url.QueryEscape(secret), jsonString(secret)} {
				if i := strings.Index(text, form); i >= 0 {
					found = append(found, fmt.Sprintf("the %s hold the %s: ...%s...", where, what, excerpt(text, i)))
					break
				}
			}
		}
	}
	return found
}

// TestLeakScanCanFail checks the scan itself: a planted secret is found in
// each form.
func TestLeakScanCanFail(t *testing.T) {
	secrets := map[string]string{"password": canaryPassword}
	for _, text := range []string{
		`{"level":"DEBUG","msg":"x","body":"` + canaryPassword + `"}`,
		`Post "http://127.0.0.1:1/services/oauth2/token?password=` + url.QueryEscape(canaryPassword) + `": EOF`,
		`{"msg":"` + jsonString(canaryPassword+`"`) + `"}`,
	} {
		if len(findLeaks(map[string]string{"logs": text}, secrets)) != 1 {
			t.Errorf("the scan misses the password in %q", text)
		}
	}
	if got := findLeaks(map[string]string{"logs": `{"msg":"invoke"}`}, secrets); len(got) != 0 {
		t.Errorf("got %v in a clean text", got)
	}
}

func excerpt(s string, i int) string {
	return s[max(0, i-60):min(len(s), i+20)]
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return strings.Trim(string(b), `"`)
}

// leakWorld is an org with the canary credentials and a connector for it that
// logs through log, with the given authentication flow and quick retries. Its
// client dials loopback only: a check that failed to refuse a URL cannot send
// anything out.
func leakWorld(t *testing.T, flow string, log *slog.Logger, logs *syncBuffer) (*world, map[string]string) {
	t.Helper()
	org, err := sforg.Start(sforg.Options{Password: canaryPassword, SecurityToken: canaryToken, ClientSecret: canarySecret,
		JWTPublicKeyPEM: canaryPublicPEM()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { org.Close() })
	settings := org.Settings()
	settings[credentials.KeyAuthFlow] = flow
	if flow == credentials.FlowJWT {
		settings[credentials.KeyPrivateKey] = canaryPrivatePEM()
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	var d net.Dialer
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if host, _, _ := net.SplitHostPort(addr); host != "127.0.0.1" {
			t.Errorf("the client dialled %s", addr)
			return nil, fmt.Errorf("test refuses to dial %s", addr)
		}
		return d.DialContext(ctx, network, addr)
	}
	opts := quickOptions(log)
	opts.Transport.HTTPClient = &http.Client{Transport: tr}
	opts.Credentials = settingsSource(settings)
	return newWorld(org, opts, logs), settings
}

// The canary RSA key of the JWT bearer flow, made once.
var canaryKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func canaryPrivatePEM() string {
	b, err := x509.MarshalPKCS8PrivateKey(canaryKey())
	if err != nil {
		panic(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: b}))
}

func canaryPublicPEM() string {
	b, err := x509.MarshalPKIXPublicKey(&canaryKey().PublicKey)
	if err != nil {
		panic(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: b}))
}

// canaryKeyLine is the first line of the private key's base64: any trace of
// the key holds it.
func canaryKeyLine() string {
	return strings.Split(canaryPrivatePEM(), "\n")[1]
}
