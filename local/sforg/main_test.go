package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// TestCommand builds the command, runs it on a free port, loads its settings,
// logs in with them and stops it with SIGTERM.
func TestCommand(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "sforg")
	build := exec.CommandContext(t.Context(), "go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.CommandContext(t.Context(), bin, "-addr", "127.0.0.1:0", "-daily-limit", "100")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill() //nolint:errcheck // best effort after a failure
			cmd.Wait()         //nolint:errcheck // best effort after a failure
		}
	})

	settings := map[string]string{}
	var keys []string
	lines := bufio.NewScanner(stdout)
	for len(keys) < 8 && lines.Scan() {
		k, v, ok := strings.Cut(lines.Text(), "=")
		if !ok {
			t.Fatalf("line %q is not KEY=VALUE", lines.Text())
		}
		keys = append(keys, k)
		settings[k] = v
	}
	want := []string{"SALESFORCE_CLIENT_ID", "SALESFORCE_CLIENT_SECRET", "SALESFORCE_PASSWORD", "SALESFORCE_SECURITY_TOKEN", "SALESFORCE_SOAP_URL_LOGIN", "SALESFORCE_URL_LOGIN", "SALESFORCE_USERNAME", "SALESFORCE_VERSION"}
	if !slices.Equal(keys, want) {
		t.Fatalf("settings: got %v, want %v (sorted)", keys, want)
	}
	tokenURL, err := url.Parse(settings["SALESFORCE_URL_LOGIN"])
	if err != nil || tokenURL.Port() == "0" || tokenURL.Path != "/services/oauth2/token" {
		t.Fatalf("SALESFORCE_URL_LOGIN: got %q, want the real port", settings["SALESFORCE_URL_LOGIN"])
	}

	form := url.Values{
		"grant_type":    {"password"},
		"client_id":     {settings["SALESFORCE_CLIENT_ID"]},
		"client_secret": {settings["SALESFORCE_CLIENT_SECRET"]},
		"username":      {settings["SALESFORCE_USERNAME"]},
		"password":      {settings["SALESFORCE_PASSWORD"] + settings["SALESFORCE_SECURITY_TOKEN"]},
	}
	res, err := http.PostForm(tokenURL.String(), form)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		InstanceURL string `json:"instance_url"`
	}
	err = json.NewDecoder(res.Body).Decode(&tok)
	res.Body.Close()
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

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: got %v, want 0\nstderr:\n%s", err, stderr.String())
	}
	logs := stderr.String()
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
