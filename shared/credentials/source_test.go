package credentials

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"

	"github.com/sfconnect/connector/shared/faults"
)

func TestStatic(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(map[string]string)
		want    func(t *testing.T, c Config)
		wantErr []string // keys the MISSING_TOKEN message must name
	}{
		{name: "complete", want: func(t *testing.T, c Config) {
			if c.ClientID != "3MVG9-client-id" || c.ClientSecret != testClientSecret || c.Username != "integration@example.com" ||
				c.Password != testPassword || c.SecurityToken != testToken ||
				c.LoginURL != "https://login.salesforce.com/services/oauth2/token" ||
				c.SOAPLoginURL != "https://login.salesforce.com/services/Soap/c/45.0" {
				t.Errorf("got %#v, want the environment's values", c)
			}
			if c.Version != "45.0" {
				t.Errorf("got version %q, want %q", c.Version, "45.0")
			}
			if c.AuthFlow != FlowPassword {
				t.Errorf("got flow %q, want %q", c.AuthFlow, FlowPassword)
			}
		}},
		{name: "whitespace around urls and version", edit: func(m map[string]string) {
			m[KeyLoginURL] = " https://login.salesforce.com/services/oauth2/token\n"
			m[KeyVersion] = "45.0\n"
		}, want: func(t *testing.T, c Config) {
			if c.LoginURL != "https://login.salesforce.com/services/oauth2/token" || c.Version != "45.0" {
				t.Errorf("got %q / %q, want trimmed values", c.LoginURL, c.Version)
			}
		}},
		{name: "password kept exactly", edit: func(m map[string]string) { m[KeyPassword] = " p w " }, want: func(t *testing.T, c Config) {
			if c.Password != " p w " {
				t.Errorf("password was altered")
			}
		}},
		{name: "nothing set", edit: func(m map[string]string) { clear(m) },
			wantErr: []string{KeyAuthFlow, "auto", KeyPrivateKey, KeyUsername, KeyPassword, KeyClientID, KeyClientSecret}},
		{name: "missing password", edit: func(m map[string]string) { delete(m, KeyPassword) }, wantErr: []string{KeyPassword}},
		{name: "empty token is allowed", edit: func(m map[string]string) { m[KeySecurityToken] = "" },
			want: func(t *testing.T, c Config) {
				if c.SecurityToken != "" {
					t.Errorf("got a token, want none")
				}
			}},
		{name: "unset token is missing", edit: func(m map[string]string) { delete(m, KeySecurityToken) },
			wantErr: []string{KeySecurityToken}},
		{name: "plain http to a remote host", edit: func(m map[string]string) { m[KeyLoginURL] = "http://login.salesforce.com/services/oauth2/token" },
			wantErr: []string{KeyLoginURL}},
		{name: "plain http to loopback", edit: func(m map[string]string) {
			m[KeyLoginURL] = "http://127.0.0.1:8443/services/oauth2/token"
			m[KeySOAPLoginURL] = "http://localhost:8443/services/Soap/u/45.0"
		}, want: func(t *testing.T, c Config) {}},
		{name: "bad version", edit: func(m map[string]string) { m[KeyVersion] = "45" }, wantErr: []string{KeyVersion}},
		{name: "soap flow derives the version", edit: func(m map[string]string) {
			keep(m, KeyUsername, KeyPassword, KeySOAPLoginURL)
			m[KeyAuthFlow] = "SOAP"
		}, want: func(t *testing.T, c Config) {
			if c.AuthFlow != FlowSOAP || c.Version != "45.0" {
				t.Errorf("got flow %q version %q, want %q %q", c.AuthFlow, c.Version, FlowSOAP, "45.0")
			}
		}},
		{name: "unknown flow", edit: func(m map[string]string) { m[KeyAuthFlow] = "magic" }, wantErr: []string{KeyAuthFlow}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := goodEnv()
			if tt.edit != nil {
				tt.edit(env)
			}
			c, err := Static(env).Load(t.Context())
			if tt.wantErr != nil {
				assertMissingToken(t, err, tt.wantErr...)
				return
			}
			if err != nil {
				t.Fatalf("got %v, want no error", err)
			}
			tt.want(t, c)
		})
	}
}

// keep deletes from m every key but the given ones.
func keep(m map[string]string, keys ...string) {
	for k := range m {
		found := false
		for _, want := range keys {
			found = found || k == want
		}
		if !found {
			delete(m, k)
		}
	}
}

func secretJSON(t *testing.T, m map[string]any) string {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func goodSecret() map[string]any {
	m := map[string]any{}
	for k, v := range goodEnv() {
		m[k] = v
	}
	return m
}

func TestParseSecret(t *testing.T) {
	const id = "prod/salesforce"
	with := func(edit func(map[string]any)) string {
		m := goodSecret()
		edit(m)
		return secretJSON(t, m)
	}
	tests := []struct {
		name    string
		text    string
		flow    string
		want    func(t *testing.T, c Config)
		wantErr []string
	}{
		{name: "good", text: secretJSON(t, goodSecret()), want: func(t *testing.T, c Config) {
			if c.Password != testPassword || c.SecurityToken != testToken || c.ClientSecret != testClientSecret || c.Version != "45.0" {
				t.Errorf("got %#v, want the secret's values", c)
			}
			if c.Extra != nil {
				t.Errorf("got extra %v, want none", c.Extra)
			}
		}},
		{name: "unknown keys ignored, SALESFORCE_ ones kept in Extra", text: with(func(m map[string]any) {
			m["description"] = map[string]any{"nested": 1}
			m["rotatedAt"] = 1700000000
			m["SALESFORCE_FUTURE_SECRET"] = testExtraSecret
			m[KeyPrivateKey] = testPrivateKey
			m[KeyAuthFlow] = FlowPassword // a key alone would make auto pick jwt
		}), want: func(t *testing.T, c Config) {
			if len(c.Extra) != 1 || c.Extra["SALESFORCE_FUTURE_SECRET"] != testExtraSecret {
				t.Errorf("got extra keys %v, want only SALESFORCE_FUTURE_SECRET", c.extraKeys())
			}
			if c.PrivateKey != testPrivateKey {
				t.Errorf("got no private key, want the secret's %s", KeyPrivateKey)
			}
		}},
		{name: "empty token present", text: with(func(m map[string]any) { m[KeySecurityToken] = "" }), want: func(t *testing.T, c Config) {
			if c.SecurityToken != "" {
				t.Errorf("got a token, want none")
			}
		}},
		{name: "flow from secret", text: with(func(m map[string]any) { m[KeyAuthFlow] = "soap"; delete(m, KeyVersion) }),
			want: func(t *testing.T, c Config) {
				if c.AuthFlow != FlowSOAP || c.Version != "45.0" {
					t.Errorf("got flow %q version %q, want soap 45.0", c.AuthFlow, c.Version)
				}
			}},
		{name: "default flow applies", flow: FlowSOAP, text: with(func(m map[string]any) { delete(m, KeyClientID) }),
			want: func(t *testing.T, c Config) {
				if c.AuthFlow != FlowSOAP {
					t.Errorf("got flow %q, want soap", c.AuthFlow)
				}
			}},
		{name: "malformed", text: `{"SALESFORCE_PASSWORD": "` + testPassword + `",`, wantErr: []string{id, "not a JSON object"}},
		{name: "syntax error after a secret", text: `{"SALESFORCE_PASSWORD": "` + testPassword + `" x}`, wantErr: []string{id, "not a JSON object"}},
		{name: "plain string", text: testPassword, wantErr: []string{id, "not a JSON object"}},
		{name: "array", text: `["` + testPassword + `"]`, wantErr: []string{id, "not a JSON object"}},
		{name: "null", text: `null`, wantErr: []string{id, "not a JSON object"}},
		{name: "empty", text: ``, wantErr: []string{id, "not a JSON object"}},
		{name: "number value", text: with(func(m map[string]any) { m[KeyVersion] = 45.0 }), wantErr: []string{id, KeyVersion, "a number"}},
		{name: "object and boolean values", text: with(func(m map[string]any) {
			m[KeyPassword] = map[string]any{"value": testPassword}
			m[KeySecurityToken] = true
		}), wantErr: []string{id, KeyPassword + " is an object", KeySecurityToken + " is a boolean"}},
		{name: "null value", text: with(func(m map[string]any) { m[KeyUsername] = nil }), wantErr: []string{id, KeyUsername + " is null"}},
		{name: "missing key", text: with(func(m map[string]any) { delete(m, KeyClientSecret) }), wantErr: []string{id, "missing", KeyClientSecret}},
		{name: "missing token", text: with(func(m map[string]any) { delete(m, KeySecurityToken) }), wantErr: []string{id, KeySecurityToken}},
		{name: "bad url", text: with(func(m map[string]any) { m[KeyLoginURL] = "http://evil.example.com/token" }), wantErr: []string{id, KeyLoginURL}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseSecret(id, tt.text, tt.flow)
			if tt.wantErr != nil {
				assertMissingToken(t, err, tt.wantErr...)
				return
			}
			if err != nil {
				t.Fatalf("got %v, want no error", err)
			}
			tt.want(t, c)
		})
	}
}

// fakeSecrets answers GetSecretValue from a fixed output or error and records the
// secret id it was asked for.
type fakeSecrets struct {
	out   *secretsmanager.GetSecretValueOutput
	err   error
	asked []string
}

func (f *fakeSecrets) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	f.asked = append(f.asked, aws.ToString(in.SecretId))
	return f.out, f.err
}

func TestSecretSourceErrors(t *testing.T) {
	const id = "arn:aws:secretsmanager:us-east-1:123456789012:secret:sf-AbCdEf"
	opErr := func(err error) error {
		return &smithy.OperationError{ServiceID: "Secrets Manager", OperationName: "GetSecretValue", Err: err}
	}
	tests := []struct {
		name     string
		out      *secretsmanager.GetSecretValueOutput
		err      error
		wantCode faults.Code
		wantMsg  []string
	}{
		{"ok", &secretsmanager.GetSecretValueOutput{SecretString: aws.String(secretJSON(t, goodSecret()))}, nil, "", nil},
		{"not found", nil, opErr(&types.ResourceNotFoundException{Message: aws.String("Secrets Manager can't find the specified secret.")}),
			faults.MissingToken, []string{id, "not found"}},
		{"access denied", nil, opErr(&smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not authorized"}),
			faults.MissingToken, []string{id, "access denied"}},
		{"decryption", nil, opErr(&types.DecryptionFailure{Message: aws.String("kms")}), faults.MissingToken, []string{id, "decrypted"}},
		{"other api error", nil, opErr(&smithy.GenericAPIError{Code: "SomethingNewException"}), faults.MissingToken,
			[]string{id, "SomethingNewException"}},
		{"service failure", nil, opErr(&types.InternalServiceError{Message: aws.String("oops")}), faults.ConnectionError, []string{id}},
		{"network", nil, opErr(&net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}),
			faults.ConnectionError, []string{id, "Secrets Manager"}},
		{"deadline", nil, opErr(fmt.Errorf("send: %w", context.DeadlineExceeded)), faults.RequestTimeout, []string{id}},
		{"binary secret", &secretsmanager.GetSecretValueOutput{SecretBinary: []byte(testPassword)}, nil, faults.MissingToken,
			[]string{id, "SecretString"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeSecrets{out: tt.out, err: tt.err}
			c, err := SecretsManager(fake, id).Load(t.Context())
			if len(fake.asked) != 1 || fake.asked[0] != id {
				t.Errorf("got calls for %q, want one for %q", fake.asked, id)
			}
			if got := faults.CodeOf(err); got != tt.wantCode {
				t.Fatalf("got code %q (%v), want %q", got, err, tt.wantCode)
			}
			if err == nil {
				if c.Password != testPassword {
					t.Errorf("got a config without the secret's password")
				}
				return
			}
			for _, w := range tt.wantMsg {
				if msg := faults.MessageOf(err); !strings.Contains(msg, w) {
					t.Errorf("got message %q, want it to name %q", msg, w)
				}
			}
			assertNoSecrets(t, err.Error())
			if tt.err != nil && !errors.Is(err, tt.err) {
				t.Errorf("cause %v is not kept for logs", tt.err)
			}
		})
	}
}

func TestSecretSourceCanceledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	fake := &fakeSecrets{err: errors.New("request canceled")} // the SDK's text varies; the context decides
	_, err := SecretsManager(fake, "sf").Load(ctx)
	if got := faults.CodeOf(err); got != faults.RequestTimeout {
		t.Errorf("got %q, want %q", got, faults.RequestTimeout)
	}
}
