package moto

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// A stored secret is what the SDK reads back from moto, and a missing secret
// is the SDK's ResourceNotFoundException.
func TestMoto(t *testing.T) {
	const name = "sfconnect/salesforce"
	m := StartTest(t)
	if err := m.CreateSecret(t.Context(), name, `{"SALESFORCE_VERSION":"45.0"}`); err != nil {
		t.Fatal(err)
	}
	out, err := m.SecretsManager().GetSecretValue(t.Context(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(out.SecretString); got != `{"SALESFORCE_VERSION":"45.0"}` {
		t.Errorf("got %q, want the stored string", got)
	}
	_, err = m.SecretsManager().GetSecretValue(t.Context(), &secretsmanager.GetSecretValueInput{SecretId: aws.String("nope")})
	var notFound *types.ResourceNotFoundException
	if !errors.As(err, &notFound) {
		t.Errorf("got %v, want ResourceNotFoundException", err)
	}
	if env := m.Env(); env["AWS_ENDPOINT_URL_SECRETS_MANAGER"] != m.URL {
		t.Errorf("got endpoint %q, want %q", env["AWS_ENDPOINT_URL_SECRETS_MANAGER"], m.URL)
	}
}
