package credentials

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/sfconnect/connector/local/moto"
	"github.com/sfconnect/connector/shared/faults"
)

// freePort returns a loopback port nobody listens on at the time of the call.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// createSecret stores a secret in moto, failing the test when it cannot.
func createSecret(t *testing.T, m *moto.Server, name, value string) {
	t.Helper()
	if err := m.CreateSecret(t.Context(), name, value); err != nil {
		t.Fatal(err)
	}
}

func TestSecretsManagerMoto(t *testing.T) {
	m := moto.StartTest(t)
	client := m.SecretsManager()

	good := secretJSON(t, goodSecret())
	createSecret(t, m, "sf/good", good)
	createSecret(t, m, "sf/malformed", `{"SALESFORCE_PASSWORD": "`+testPassword+`"`)
	noToken := goodSecret()
	delete(noToken, KeySecurityToken)
	delete(noToken, KeyLoginURL)
	createSecret(t, m, "sf/missing-key", secretJSON(t, noToken))
	numeric := goodSecret()
	numeric[KeyVersion] = 45
	createSecret(t, m, "sf/numeric", secretJSON(t, numeric))

	t.Run("good", func(t *testing.T) {
		c, err := SecretsManager(client, "sf/good").Load(t.Context())
		if err != nil {
			t.Fatalf("got %v, want the config", err)
		}
		if c.Password != testPassword || c.SecurityToken != testToken || c.Version != "45.0" || c.ClientID != "3MVG9-client-id" {
			t.Errorf("got %#v, want the secret's values", c)
		}
	})

	errorTests := []struct {
		name, id string
		want     []string
	}{
		{"missing secret", "sf/does-not-exist", []string{"sf/does-not-exist", "not found"}},
		{"malformed secret", "sf/malformed", []string{"sf/malformed", "not a JSON object"}},
		{"secret missing keys", "sf/missing-key", []string{"sf/missing-key", KeySecurityToken, KeyLoginURL}},
		{"non-string value", "sf/numeric", []string{"sf/numeric", KeyVersion}},
	}
	for _, tt := range errorTests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := SecretsManager(client, tt.id).Load(t.Context())
			assertMissingToken(t, err, tt.want...)
		})
	}

	t.Run("rotation", func(t *testing.T) {
		createSecret(t, m, "sf/rotating", good)
		cache := NewCache(SecretsManager(client, "sf/rotating"), time.Hour)
		before, err := cache.Load(t.Context())
		if err != nil {
			t.Fatal(err)
		}

		rotated := goodSecret()
		rotated[KeyPassword] = "rotated-" + testPassword
		rotated[KeyVersion] = "52.0"
		if _, err := client.PutSecretValue(t.Context(), &secretsmanager.PutSecretValueInput{
			SecretId: aws.String("sf/rotating"), SecretString: aws.String(secretJSON(t, rotated)),
		}); err != nil {
			t.Fatal(err)
		}

		cached, err := cache.Load(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if cached.Password != before.Password || cached.Version != "45.0" {
			t.Errorf("got version %q before Invalidate, want the cached %q", cached.Version, "45.0")
		}
		cache.Invalidate()
		after, err := cache.Load(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if after.Password != "rotated-"+testPassword || after.Version != "52.0" {
			t.Errorf("got version %q after Invalidate, want the rotated %q", after.Version, "52.0")
		}
	})
}

// TestSecretsManagerUnreachable runs the real SDK against a loopback port where
// nothing listens.
func TestSecretsManagerUnreachable(t *testing.T) {
	endpoint := "http://127.0.0.1:" + strconv.Itoa(freePort(t))
	_, err := SecretsManager(moto.SecretsManager(endpoint), "sf/good").Load(t.Context())
	if got := faults.CodeOf(err); got != faults.ConnectionError {
		t.Fatalf("got %q (%v), want %q", got, err, faults.ConnectionError)
	}
}

// TestSecretsManagerDeadline runs the real SDK against a loopback server that
// never answers, with a context that ends.
func TestSecretsManagerDeadline(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })

	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	_, err := SecretsManager(moto.SecretsManager(srv.URL), "sf/good").Load(ctx)
	if got := faults.CodeOf(err); got != faults.RequestTimeout {
		t.Fatalf("got %q (%v), want %q", got, err, faults.RequestTimeout)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got cause %v, want context.DeadlineExceeded kept", err)
	}
}
