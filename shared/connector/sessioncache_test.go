package connector

import (
	"sync"
	"testing"

	"github.com/sfconnect/connector/local/moto"
	"github.com/sfconnect/connector/sforg"
	"github.com/sfconnect/connector/shared/sessionstore"
)

// TestSharedSessionCacheFromEnv builds 20 execution environments the way a
// function's main does, from the environment with SALESFORCE_SESSION_TABLE set,
// against one org and one DynamoDB table (moto): invoked at once they log in
// once, and once more after Salesforce revokes the session.
func TestSharedSessionCacheFromEnv(t *testing.T) {
	endpoint := moto.StartSerialTest(t)
	// The AWS SDK reads its settings from the process environment.
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", endpoint)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	table := moto.NewTable(t, moto.DynamoDB(endpoint), "sessions", sessionstore.AttrKey, sessionstore.AttrExpiry)

	org, err := sforg.Start(sforg.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { org.Close() })
	env := org.Settings()
	env["SALESFORCE_AUTH_FLOW"] = "password"
	env[sessionstore.EnvTable] = table
	env["LOG_LEVEL"] = "warn"
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }

	const n = 20
	fleet := make([]*Connector, n)
	for i := range fleet {
		if fleet[i], err = FromEnv(t.Context(), lookup); err != nil {
			t.Fatalf("FromEnv: %v", err)
		}
	}
	all := func(round string) {
		t.Helper()
		var wg sync.WaitGroup
		for i, c := range fleet {
			wg.Go(func() {
				if r := invoke(t, c.ApprovalList, `{}`); r.ErrorType != "" || r.SalesforceStatus != "200" {
					t.Errorf("%s, environment %d: got %s %s %s, want 200", round, i, r.ErrorType, r.ErrorMessage, r.SalesforceStatus)
				}
			})
		}
		wg.Wait()
	}

	all("cold start")
	if got := org.Logins(); got != 1 {
		t.Fatalf("got %d logins, want 1 for 20 environments", got)
	}
	org.ExpireSessions()
	all("after revocation")
	if got := org.Logins(); got != 2 {
		t.Errorf("got %d logins, want 2", got)
	}
}
