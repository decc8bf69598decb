package credentials

import "testing"

// TestAutoFlow: with no flow named, or "auto", the flow follows what the
// configuration holds; a named flow wins.
func TestAutoFlow(t *testing.T) {
	myDomain := "https://acme.my.salesforce.com/services/oauth2/token"
	tests := []struct {
		name   string
		values map[string]string
		want   string
	}{
		{"username and password", goodEnv(), FlowPassword},
		{"private key", map[string]string{KeyClientID: "3MVG9", KeyUsername: "u@example.com", KeyPrivateKey: testPrivateKey,
			KeyLoginURL: myDomain, KeyVersion: "66.0"}, FlowJWT},
		{"only a client id and secret (an External Client App)", map[string]string{KeyClientID: "3MVG9", KeyClientSecret: testClientSecret,
			KeyLoginURL: myDomain, KeyVersion: "66.0"}, FlowClientCredentials},
		{"auto named", merge(goodEnv(), map[string]string{KeyAuthFlow: "AUTO"}), FlowPassword},
		{"a named flow wins", merge(goodEnv(), map[string]string{KeyAuthFlow: "soap"}), FlowSOAP},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := build(func(k string) (string, bool) { v, ok := tt.values[k]; return v, ok }, "")
			if c.AuthFlow != tt.want {
				t.Errorf("got flow %q, want %q", c.AuthFlow, tt.want)
			}
		})
	}
	t.Run("nothing to pick from", func(t *testing.T) {
		_, err := Static(map[string]string{KeyVersion: "66.0", KeyLoginURL: myDomain}).Load(t.Context())
		assertMissingToken(t, err, KeyAuthFlow, "auto", KeyPrivateKey, KeyUsername, KeyClientID)
	})
}

func merge(a, b map[string]string) map[string]string {
	for k, v := range b {
		a[k] = v
	}
	return a
}

// TestFingerprint: any value, a secret included, changes it; the revision
// does not (the same values in a new version of the secret are the same
// credentials).
func TestFingerprint(t *testing.T) {
	base, err := Static(goodEnv()).Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	same := base
	same.Revision = "v2"
	if same.Fingerprint() != base.Fingerprint() {
		t.Errorf("a new revision with the same values changed the fingerprint")
	}
	for key, value := range map[string]string{KeyPassword: "other", KeySecurityToken: "other", KeyClientSecret: "other", KeyUsername: "x@example.com"} {
		env := goodEnv()
		env[key] = value
		c, err := Static(env).Load(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if c.Fingerprint() == base.Fingerprint() {
			t.Errorf("%s changed, the fingerprint did not", key)
		}
	}
}
