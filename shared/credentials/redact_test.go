package credentials

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func secretConfig() Config {
	return Config{
		ClientID:      "3MVG9-client-id",
		ClientSecret:  testClientSecret,
		Username:      "integration@example.com",
		Password:      testPassword,
		SecurityToken: testToken,
		LoginURL:      "https://login.salesforce.com/services/oauth2/token",
		SOAPLoginURL:  "https://login.salesforce.com/services/Soap/c/45.0",
		Version:       "45.0",
		AuthFlow:      FlowPassword,
		PrivateKey:    testPrivateKey,
		Extra:         map[string]string{"SALESFORCE_FUTURE_SECRET": testExtraSecret},
	}
}

func TestConfigRedaction(t *testing.T) {
	c := secretConfig()
	jsonOf := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	slogWith := func(h func(*bytes.Buffer) slog.Handler) string {
		var buf bytes.Buffer
		slog.New(h(&buf)).Info("loaded", "config", c, "ptr", &c)
		return buf.String()
	}
	type holder struct{ Cfg Config }
	outputs := map[string]string{
		"%v":           fmt.Sprintf("%v", c),
		"%+v":          fmt.Sprintf("%+v", c),
		"%#v":          fmt.Sprintf("%#v", c),
		"%s":           fmt.Sprintf("%s", c),
		"%q":           fmt.Sprintf("%q", c),
		"%d":           fmt.Sprintf("%d", c),
		"%x":           fmt.Sprintf("%x", c),
		"%10.3v":       fmt.Sprintf("%10.3v", c),
		"pointer %+v":  fmt.Sprintf("%+v", &c),
		"nested %+v":   fmt.Sprintf("%+v", holder{c}),
		"nested %#v":   fmt.Sprintf("%#v", holder{c}),
		"slice %v":     fmt.Sprint([]Config{c}),
		"String":       c.String(),
		"GoString":     c.GoString(),
		"json":         jsonOf(c),
		"json pointer": jsonOf(&c),
		"json nested":  jsonOf(holder{c}),
		"slog text": slogWith(func(b *bytes.Buffer) slog.Handler {
			return slog.NewTextHandler(b, nil)
		}),
		"slog json": slogWith(func(b *bytes.Buffer) slog.Handler {
			return slog.NewJSONHandler(b, nil)
		}),
	}
	for name, out := range outputs {
		t.Run(name, func(t *testing.T) {
			assertNoSecrets(t, out)
			// Redaction must not hide everything: the non-secret fields help debugging.
			if !strings.Contains(out, "3MVG9-client-id") {
				t.Errorf("got %q, want the client id shown", out)
			}
			if name != "%x" && !strings.Contains(out, Redacted) {
				t.Errorf("got %q, want %q in place of the secrets", out, Redacted)
			}
		})
	}
}

func TestConfigRedactionDetails(t *testing.T) {
	c := secretConfig()
	c.SecurityToken = ""
	c.LoginURL = "https://user:" + testPassword + "@login.salesforce.com/services/oauth2/token"

	t.Run("empty secret shows empty", func(t *testing.T) {
		if got := c.String(); !strings.Contains(got, `SecurityToken:""`) {
			t.Errorf("got %q, want an empty security token shown as empty", got)
		}
	})
	t.Run("url user info hidden", func(t *testing.T) {
		assertNoSecrets(t, c.String())
		assertNoSecrets(t, fmt.Sprintf("%#v", c))
	})
	t.Run("json keys are the configuration keys", func(t *testing.T) {
		b, err := json.Marshal(secretConfig())
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		for _, k := range Keys {
			if _, ok := m[k]; !ok {
				t.Errorf("got %s, want key %q", b, k)
			}
		}
		if got := m[KeyPassword]; got != Redacted {
			t.Errorf("got password %q, want %q", got, Redacted)
		}
		if got := m[KeyVersion]; got != "45.0" {
			t.Errorf("got version %q, want %q", got, "45.0")
		}
	})
	t.Run("slog group", func(t *testing.T) {
		v := secretConfig().LogValue()
		if v.Kind() != slog.KindGroup {
			t.Fatalf("got kind %v, want a group", v.Kind())
		}
		got := map[string]string{}
		for _, a := range v.Group() {
			got[a.Key] = a.Value.String()
		}
		if got[KeyClientSecret] != Redacted || got[KeyUsername] != "integration@example.com" {
			t.Errorf("got %v, want the client secret redacted and the username shown", got)
		}
	})
}
