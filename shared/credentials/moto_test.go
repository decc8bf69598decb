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
	endpoint, client := m.URL, m.SecretsManager()

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

	t.Run("FromEnv picks the secret", func(t *testing.T) {
		// The SDK reads these from the process environment.
		t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", endpoint)
		t.Setenv("AWS_ACCESS_KEY_ID", "test")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
		t.Setenv("AWS_SESSION_TOKEN", "")
		t.Setenv("AWS_REGION", "us-east-1")
		t.Setenv("AWS_PROFILE", "")
		t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
		t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
		t.Setenv("AWS_EC2_METADATA_DISABLED", "true")

		env := map[string]string{KeySecretID: "sf/good", KeySecretTTL: "90s", KeyPassword: "env-password-ignored"}
		cache, err := FromEnv(t.Context(), getenvOf(env))
		if err != nil {
			t.Fatal(err)
		}
		if cache.TTL() != 90*time.Second {
			t.Errorf("got TTL %v, want 90s", cache.TTL())
		}
		c, err := cache.Load(t.Context())
		if err != nil {
			t.Fatalf("got %v, want the config", err)
		}
		if c.Password != testPassword {
			t.Errorf("got a password that is not the secret's")
		}

		env[KeySecretID] = "sf/does-not-exist"
		cache, err = FromEnv(t.Context(), getenvOf(env))
		if err != nil {
			t.Fatalf("got %v, want FromEnv to defer the read", err)
		}
		_, err = cache.Load(t.Context())
		assertMissingToken(t, err, "sf/does-not-exist")
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

func TestFromEnvWithoutSecret(t *testing.T) {
	t.Run("env source", func(t *testing.T) {
		cache, err := FromEnv(t.Context(), getenvOf(goodEnv()))
		if err != nil {
			t.Fatal(err)
		}
		if cache.TTL() != DefaultTTL {
			t.Errorf("got TTL %v, want %v", cache.TTL(), DefaultTTL)
		}
		c, err := cache.Load(t.Context())
		if err != nil || c.Password != testPassword {
			t.Fatalf("got %v, want the environment's config", err)
		}
	})
	t.Run("bad config is an error on Load, not on FromEnv", func(t *testing.T) {
		cache, err := FromEnv(t.Context(), getenvOf(map[string]string{}))
		if err != nil {
			t.Fatal(err)
		}
		_, err = cache.Load(t.Context())
		assertMissingToken(t, err, KeyClientID)
	})
	t.Run("empty token allowed through lookup", func(t *testing.T) {
		env := goodEnv()
		env[KeySecurityToken] = ""
		cache, err := FromLookupEnv(t.Context(), lookupOf(env))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cache.Load(t.Context()); err != nil {
			t.Errorf("got %v, want an empty token accepted", err)
		}
	})
	for _, ttl := range []string{"soon", "-5m", "0s", "300"} {
		t.Run("bad ttl "+ttl, func(t *testing.T) {
			env := goodEnv()
			env[KeySecretTTL] = ttl
			_, err := FromEnv(t.Context(), getenvOf(env))
			assertMissingToken(t, err, KeySecretTTL)
		})
	}
}
