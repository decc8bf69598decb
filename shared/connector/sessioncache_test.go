package connector

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/sfconnect/connector/local/moto"
	"github.com/sfconnect/connector/sforg"
	"github.com/sfconnect/connector/shared/credentials"
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
	env[settings.SessionTableTimeout] = "30s" // moto on a loaded machine can take seconds
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

// TestNoSecretsInSessionTable runs each login flow with the shared session
// table, through a re-login after a revoked session and a rejected login, and
// scans every attribute of every item: no password, security token, client
// secret, private key or access token in clear.
func TestNoSecretsInSessionTable(t *testing.T) {
	endpoint := moto.StartSerialTest(t)
	db := moto.DynamoDB(endpoint)
	table := moto.NewTable(t, db, "sessions", sessionstore.AttrKey, sessionstore.AttrExpiry)
	var orgs []*sforg.Server
	for _, flow := range []string{credentials.FlowPassword, credentials.FlowSOAP, credentials.FlowClientCredentials, credentials.FlowJWT} {
		t.Run(flow, func(t *testing.T) {
			org, err := sforg.Start(sforg.Options{Password: canaryPassword, SecurityToken: canaryToken, ClientSecret: canarySecret,
				JWTPublicKeyPEM: canaryPublicPEM()})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { org.Close() })
			orgs = append(orgs, org)
			env := org.Settings()
			env[credentials.KeyAuthFlow] = flow
			if flow == credentials.FlowJWT {
				env[credentials.KeyPrivateKey] = canaryPrivatePEM()
			}
			env[settings.SessionTable] = table
			env[settings.SessionTableTimeout] = "30s"
			env["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint
			env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], env["AWS_REGION"] = moto.AccessKeyID, moto.SecretAccessKey, moto.Region
			c, err := FromEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			mustOK(t, invoke(t, c.Create, `{"SObjectName":"Account","salesforcePayload":{"Name":"Acme"}}`), "201")
			org.ExpireSessions()
			mustOK(t, invoke(t, c.ApprovalList, `{}`), "200")

			// A rejected login is stored for the fleet too.
			env[credentials.KeyClientSecret] = canarySecret + "-wrong"
			env[credentials.KeyPassword] = canaryPassword + "-wrong"
			env[credentials.KeyUsername] = "someone-else@sforg.local"
			bad, err := FromEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if r := invoke(t, bad.ApprovalList, `{}`); r.ErrorType != string(faults.MissingToken) {
				t.Errorf("with wrong credentials: got %s %s, want MISSING_TOKEN", r.ErrorType, r.ErrorMessage)
			}
		})
	}
	out, err := db.Scan(t.Context(), &dynamodb.ScanInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	var items strings.Builder
	for _, item := range out.Items {
		for name, v := range item {
			fmt.Fprintf(&items, "%s=%v\n", name, v)
		}
	}
	secrets := map[string]string{"password": canaryPassword, "security token": canaryToken, "client secret": canarySecret,
		"private key": canaryKeyLine()}
	tokens := 0
	for i, org := range orgs {
		for j, tok := range org.IssuedTokens() {
			secrets[fmt.Sprintf("access token %d of org %d", j+1, i+1)] = tok
			tokens++
		}
	}
	if tokens < 8 || len(out.Items) < 4 || !strings.Contains(items.String(), "accessToken") {
		t.Fatalf("got %d tokens and %d items: the scan would prove nothing\n%s", tokens, len(out.Items), items.String())
	}
	for _, leak := range findLeaks(map[string]string{"session table": items.String()}, secrets) {
		t.Error(leak)
	}
}
