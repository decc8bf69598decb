package integration

import (
	"strings"
	"testing"

	"github.com/sfconnect/connector/local/demo/stack"
	"github.com/sfconnect/connector/local/moto"
	"github.com/sfconnect/connector/local/rie"
)

// TestSecretsManager configures the functions as template.yaml does, with
// SALESFORCE_SECRET_ID only, and puts the secret in a real moto_server.
func TestSecretsManager(t *testing.T) {
	stack.Require(t)
	org := startOrg(t)
	secrets := moto.StartTest(t)

	good, err := stack.SecretString(org.Settings())
	if err != nil {
		t.Fatal(err)
	}
	if err := secrets.CreateSecret(t.Context(), "sfconnect/good", good); err != nil {
		t.Fatal(err)
	}
	// Cut short inside the password's value: the message must not quote it.
	const leaked = "do-not-show-this-password"
	if err := secrets.CreateSecret(t.Context(), "sfconnect/malformed", `{"SALESFORCE_USERNAME": "a@b.c", "SALESFORCE_PASSWORD": "`+leaked); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name        string
		secretID    string
		wantType    string   // "" for a result
		wantMessage []string // parts of the errorMessage
	}{
		{name: "good secret", secretID: "sfconnect/good"},
		{name: "missing secret", secretID: "sfconnect/missing", wantType: "MISSING_TOKEN", wantMessage: []string{`"sfconnect/missing"`, "not found"}},
		{name: "malformed secret", secretID: "sfconnect/malformed", wantType: "MISSING_TOKEN", wantMessage: []string{`"sfconnect/malformed"`, "not a JSON object"}},
	}
	event, err := stack.Sample("query.json", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logins := org.Logins()
			var logs rie.Buffer
			e := rie.StartTest(t, rie.Options{Bootstrap: bootstraps(t)["query"], FunctionName: "query",
				Env: stack.FunctionEnv(tt.secretID, secrets), Log: &logs})
			res, err := e.Invoke(t.Context(), event)
			if err != nil {
				t.Fatal(err)
			}
			if res.ErrorType != tt.wantType {
				t.Fatalf("got errorType %q (%s), want %q; body %s", res.ErrorType, res.ErrorMessage, tt.wantType, res.Body)
			}
			for _, part := range tt.wantMessage {
				if !strings.Contains(res.ErrorMessage, part) {
					t.Errorf("got errorMessage %q, want it to contain %q", res.ErrorMessage, part)
				}
			}
			if tt.wantType == "" {
				out := call(t, e, event) // a second invoke: the cached configuration and session
				if out.Status != "200" {
					t.Errorf("got salesforceStatus %q, want 200", out.Status)
				}
				if got := org.Logins() - logins; got != 1 {
					t.Errorf("got %d logins, want 1", got)
				}
			} else if got := org.Logins() - logins; got != 0 {
				t.Errorf("got %d logins without a usable secret, want 0", got)
			}
			e.Close() // flush the function's logs before reading them
			if strings.Contains(res.ErrorMessage+logs.String(), leaked) || strings.Contains(logs.String(), "sforg-password") {
				t.Errorf("a password reached the error or the logs:\n%s\n%s", res.ErrorMessage, logs.String())
			}
		})
	}
}
