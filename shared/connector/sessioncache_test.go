package connector

import (
	"encoding/json"
	"io"
	"sync"
	"testing"

	"github.com/sfconnect/connector/local/moto"
	"github.com/sfconnect/connector/sforg"
	"github.com/sfconnect/connector/shared/faults"
	"github.com/sfconnect/connector/shared/sessionstore"
	"github.com/sfconnect/connector/shared/settings"
)

// TestSharedSessionCacheFromEnv builds 20 execution environments the way a
// function's main does, from the environment with SALESFORCE_SESSION_TABLE set,
// against one org and one DynamoDB table (moto): invoked at once they log in
// once, and once more after Salesforce revokes the session.
func TestSharedSessionCacheFromEnv(t *testing.T) {
	endpoint := moto.StartSerialTest(t)
	table := moto.NewTable(t, moto.DynamoDB(endpoint), "sessions", sessionstore.AttrKey, sessionstore.AttrExpiry)

	org, err := sforg.Start(sforg.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { org.Close() })
	env := org.Settings()
	env["SALESFORCE_AUTH_FLOW"] = "password"
	env[settings.SessionTable] = table
	env["LOG_LEVEL"] = "warn"
	// Everything, the AWS SDK's settings included, is read through lookup.
	env["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint
	env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], env["AWS_REGION"] = moto.AccessKeyID, moto.SecretAccessKey, moto.Region
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }

	const n = 20
	fleet := make([]*Connector, n)
	for i := range fleet {
		if fleet[i], err = FromEnv(lookup, io.Discard); err != nil {
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

// TestFromEnvReadsTheSecret: with SALESFORCE_SECRET_ID the credentials come
// from the secret (moto) and those in the environment are ignored; the AWS
// SDK's settings are read through lookup too. A secret that does not exist is
// a typed error on the first invoke, not at start-up.
func TestFromEnvReadsTheSecret(t *testing.T) {
	m := moto.StartTest(t)
	org, err := sforg.Start(sforg.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { org.Close() })
	secret, err := json.Marshal(org.Settings())
	if err != nil {
		t.Fatal(err)
	}
	if err := m.CreateSecret(t.Context(), "sf/good", string(secret)); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		settings.SecretID: "sf/good", settings.SecretTTL: "90s",
		"SALESFORCE_PASSWORD":              "env-password-ignored",
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": m.URL,
		"AWS_ACCESS_KEY_ID":                moto.AccessKeyID, "AWS_SECRET_ACCESS_KEY": moto.SecretAccessKey, "AWS_REGION": moto.Region,
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	c, err := FromEnv(lookup, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	mustOK(t, invoke(t, c.ApprovalList, `{}`), "200")

	env[settings.SecretID] = "sf/does-not-exist"
	if c, err = FromEnv(lookup, io.Discard); err != nil {
		t.Fatalf("got %v, want FromEnv to defer the read", err)
	}
	wantError(t, invoke(t, c.ApprovalList, `{}`), faults.MissingToken, "sf/does-not-exist")

	delete(env, "AWS_ACCESS_KEY_ID")
	_, err = FromEnv(lookup, io.Discard)
	if faults.CodeOf(err) != faults.MissingToken {
		t.Errorf("without AWS credentials: got %v, want MISSING_TOKEN", err)
	}
}
