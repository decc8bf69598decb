package main

import (
	"encoding/xml"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestCommandTLS runs the command with -tls: the ninth line names the CA file,
// the org answers HTTPS with a certificate that file verifies, a Go program
// trusts it through SSL_CERT_FILE and not without, and the file goes at exit.
func TestCommandTLS(t *testing.T) {
	rc := startCommand(t, "-tls")
	want := []string{"SALESFORCE_CLIENT_ID", "SALESFORCE_CLIENT_SECRET", "SALESFORCE_PASSWORD", "SALESFORCE_SECURITY_TOKEN", "SALESFORCE_SOAP_URL_LOGIN", "SALESFORCE_URL_LOGIN", "SALESFORCE_USERNAME", "SALESFORCE_VERSION", "SFORG_CA_FILE"}
	if !slices.Equal(rc.keys, want) {
		t.Fatalf("lines: got %v, want %v", rc.keys, want)
	}
	caFile := rc.settings["SFORG_CA_FILE"]
	for _, k := range []string{"SALESFORCE_URL_LOGIN", "SALESFORCE_SOAP_URL_LOGIN"} {
		if !strings.HasPrefix(rc.settings[k], "https://127.0.0.1:") {
			t.Errorf("%s: got %q, want https://127.0.0.1:PORT/...", k, rc.settings[k])
		}
	}

	res, body := passwordLogin(t, caClient(t, caFile), rc.settings)
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `"instance_url":"https://127.0.0.1:`) {
		t.Fatalf("login over HTTPS: got %d %s", res.StatusCode, body)
	}

	versions := strings.TrimSuffix(rc.settings["SALESFORCE_URL_LOGIN"], "/oauth2/token") + "/data"
	tests := []struct {
		name    string
		env     []string
		wantOK  bool
		wantOut string
	}{
		{"SSL_CERT_FILE names the CA file", []string{"SSL_CERT_FILE=" + caFile}, true, "200 OK"},
		{"no SSL_CERT_FILE", nil, false, "certificate signed by unknown authority"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			child := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^$")
			child.Env = append(withoutCertEnv(os.Environ()), append(tt.env, childGetEnv+"="+versions)...)
			out, err := child.CombinedOutput()
			var exit *exec.ExitError
			if tt.wantOK && err != nil || !tt.wantOK && !errors.As(err, &exit) {
				t.Errorf("child: got %v, want success %v\n%s", err, tt.wantOK, out)
			}
			if !strings.Contains(string(out), tt.wantOut) {
				t.Errorf("child output: got %q, want it to contain %q", out, tt.wantOut)
			}
		})
	}

	if more := rc.stop(t); len(more) != 0 {
		t.Errorf("more lines on stdout: got %q, want none", more)
	}
	if _, err := os.Stat(caFile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("CA file after exit: got %v, want it removed (the CA lived only for this run)", err)
	}
	if !strings.Contains(rc.stderr.String(), "listening on https://127.0.0.1:") {
		t.Errorf("stderr: got %s, want the https URL", rc.stderr.String())
	}
}

// withoutCertEnv drops the variables that choose Go's trusted roots.
func withoutCertEnv(env []string) []string {
	return slices.DeleteFunc(slices.Clone(env), func(kv string) bool {
		return strings.HasPrefix(kv, "SSL_CERT_FILE=") || strings.HasPrefix(kv, "SSL_CERT_DIR=") || strings.HasPrefix(kv, childGetEnv+"=")
	})
}

// TestCommandCADir: with -ca-dir the CA file is DIR/ca.pem, stays after exit
// and the next run reuses the CA.
func TestCommandCADir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	first := startCommand(t, "-tls", "-ca-dir", dir)
	if got, want := first.settings["SFORG_CA_FILE"], filepath.Join(dir, "ca.pem"); got != want {
		t.Fatalf("SFORG_CA_FILE: got %q, want %q", got, want)
	}
	first.stop(t)
	pem, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err != nil {
		t.Fatalf("CA file after exit: %v, want it kept", err)
	}
	second := startCommand(t, "-tls", "-ca-dir", dir)
	again, err := os.ReadFile(second.settings["SFORG_CA_FILE"])
	if err != nil || string(again) != string(pem) {
		t.Fatalf("second run: got a different CA (%v), want the one in %s", err, dir)
	}
	if res, body := passwordLogin(t, caClient(t, filepath.Join(dir, "ca.pem")), second.settings); res.StatusCode != http.StatusOK {
		t.Errorf("second run with the first run's CA file: got %d %s", res.StatusCode, body)
	}
	second.stop(t)
}

// TestCommandPolicyFlags: -block-password-flow and -disable-soap-login make the
// org refuse those logins as such orgs do, and plain HTTP prints only the eight lines.
func TestCommandPolicyFlags(t *testing.T) {
	rc := startCommand(t, "-block-password-flow", "-disable-soap-login")
	res, body := passwordLogin(t, http.DefaultClient, rc.settings)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `"error":"invalid_grant"`) || !strings.Contains(string(body), `"error_description":"authentication failure"`) {
		t.Errorf("password flow: got %d %s, want 400 invalid_grant authentication failure", res.StatusCode, body)
	}

	envelope := `<?xml version="1.0" encoding="utf-8"?><env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Body><n1:login xmlns:n1="urn:enterprise.soap.sforce.com"><n1:username>` +
		rc.settings["SALESFORCE_USERNAME"] + `</n1:username><n1:password>` + rc.settings["SALESFORCE_PASSWORD"] + rc.settings["SALESFORCE_SECURITY_TOKEN"] + `</n1:password></n1:login></env:Body></env:Envelope>`
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, rc.settings["SALESFORCE_SOAP_URL_LOGIN"], strings.NewReader(envelope))
	req.Header.Set("Content-Type", "text/xml; charset=UTF-8")
	req.Header.Set("SOAPAction", "login")
	soap, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer soap.Body.Close()
	var fault struct {
		Code string `xml:"Body>Fault>faultcode"`
	}
	if err := xml.NewDecoder(soap.Body).Decode(&fault); err != nil || soap.StatusCode != http.StatusInternalServerError || fault.Code != "sf:INVALID_OPERATION" {
		t.Errorf("SOAP login: got %d %q (%v), want 500 sf:INVALID_OPERATION", soap.StatusCode, fault.Code, err)
	}

	if more := rc.stop(t); len(more) != 0 {
		t.Errorf("lines after the eight without -tls: got %q, want none", more)
	}
}

func TestTLSFlagErrors(t *testing.T) {
	var out, errs strings.Builder
	if code := run([]string{"-addr", "127.0.0.1:0", "-ca-dir", t.TempDir()}, &out, &errs); code != 2 {
		t.Errorf("-ca-dir without -tls: got exit %d, want 2", code)
	}
	if !strings.Contains(errs.String(), "-ca-dir needs -tls") {
		t.Errorf("stderr: got %q, want it to say -ca-dir needs -tls", errs.String())
	}
	broken := t.TempDir()
	if err := os.WriteFile(filepath.Join(broken, "ca-key.pem"), []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code := run([]string{"-addr", "127.0.0.1:0", "-tls", "-ca-dir", broken}, &out, &errs); code != 1 {
		t.Errorf("broken CA dir: got exit %d, want 1", code)
	}
	if out.Len() != 0 {
		t.Errorf("stdout on failure: got %q, want nothing", out.String())
	}
}
