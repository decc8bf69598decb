package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestCommand builds the command, runs it on a free port, loads its settings,
// logs in with them and stops it with SIGTERM.
func TestCommand(t *testing.T) {
	rc := startCommand(t, "-daily-limit", "100")
	settings := rc.settings
	want := []string{"SALESFORCE_CLIENT_ID", "SALESFORCE_CLIENT_SECRET", "SALESFORCE_PASSWORD", "SALESFORCE_SECURITY_TOKEN", "SALESFORCE_SOAP_URL_LOGIN", "SALESFORCE_URL_LOGIN", "SALESFORCE_USERNAME", "SALESFORCE_VERSION"}
	if !slices.Equal(rc.keys, want) {
		t.Fatalf("settings: got %v, want %v (sorted)", rc.keys, want)
	}
	tokenURL, err := url.Parse(settings["SALESFORCE_URL_LOGIN"])
	if err != nil || tokenURL.Port() == "0" || tokenURL.Path != "/services/oauth2/token" {
		t.Fatalf("SALESFORCE_URL_LOGIN: got %q, want the real port", settings["SALESFORCE_URL_LOGIN"])
	}

	res, body := passwordLogin(t, http.DefaultClient, settings)
	var tok struct {
		AccessToken string `json:"access_token"`
		InstanceURL string `json:"instance_url"`
	}
	err = json.Unmarshal(body, &tok)
	if err != nil || res.StatusCode != 200 || tok.AccessToken == "" {
		t.Fatalf("login: got %d %v", res.StatusCode, err)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, tok.InstanceURL+"/services/data/v"+settings["SALESFORCE_VERSION"]+"/limits", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Sforce-Limit-Info") != "api-usage=1/100" {
		t.Errorf("limits: got %d %q", res.StatusCode, res.Header.Get("Sforce-Limit-Info"))
	}

	if more := rc.stop(t); len(more) != 0 {
		t.Errorf("stdout after the settings: got %q, want nothing", more)
	}
	logs := rc.stderr.String()
	for _, secret := range []string{tok.AccessToken, settings["SALESFORCE_PASSWORD"], settings["SALESFORCE_CLIENT_SECRET"], settings["SALESFORCE_SECURITY_TOKEN"]} {
		if strings.Contains(logs, secret) {
			t.Errorf("stderr holds a secret: %s", logs)
		}
	}
	if !strings.Contains(logs, "POST /services/oauth2/token 200") || !strings.Contains(logs, "/limits 200") {
		t.Errorf("stderr lacks request lines:\n%s", logs)
	}
}

func TestShellQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"http://127.0.0.1:8080/services/oauth2/token", "http://127.0.0.1:8080/services/oauth2/token"},
		{"", ""},
		{"a b", "'a b'"},
		{"it's", `'it'\''s'`},
	}
	for _, tt := range tests {
		if got := shellQuote(tt.in); got != tt.want {
			t.Errorf("shellQuote(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestBadFlags(t *testing.T) {
	var out, errs strings.Builder
	if code := run([]string{"-nope"}, &out, &errs); code != 2 {
		t.Errorf("unknown flag: got exit %d, want 2", code)
	}
	if code := run([]string{"-addr", "127.0.0.1:0", "-jwt-public-key", filepath.Join(t.TempDir(), "missing.pem")}, &out, &errs); code != 1 {
		t.Errorf("missing key file: got exit %d, want 1", code)
	}
	if out.Len() != 0 {
		t.Errorf("stdout on failure: got %q, want nothing", out.String())
	}
}
