package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/sfconnect/connector/local/rie"
)

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr bool
		event   string
		pkg     string
	}{
		{name: "defaults", args: []string{"-fn", "approval-submit"}, event: filepath.Join("events", "approval-submit.json"), pkg: "./functions/approval-submit"},
		{name: "explicit event", args: []string{"-fn", "get", "-event", "events/eventbridge-create.json"}, event: "events/eventbridge-create.json", pkg: "./functions/get"},
		{name: "no function", args: nil, wantErr: true},
		{name: "path in function name", args: []string{"-fn", "../shared"}, wantErr: true},
		{name: "stray argument", args: []string{"-fn", "get", "extra"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseFlags(tt.args, io.Discard)
			if (err != nil) != tt.wantErr {
				t.Fatalf("got error %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if c.event != tt.event {
				t.Errorf("event: got %q, want %q", c.event, tt.event)
			}
			if c.pkg != tt.pkg {
				t.Errorf("pkg: got %q, want %q", c.pkg, tt.pkg)
			}
		})
	}
}

func TestReadEnvVars(t *testing.T) {
	path := filepath.Join(t.TempDir(), "env.json")
	writeFile(t, path, `{
		"Parameters": {"LOG_LEVEL": "info", "SALESFORCE_VERSION": 45.0, "FLAG": true, "DROPPED": null, "SHARED": "all"},
		"GetFunction": {"LOG_LEVEL": "debug"},
		"get": {"SHARED": "get only"},
		"QueryFunction": {"LOG_LEVEL": "error"}
	}`)
	got, err := readEnvVars(path, "get")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"LOG_LEVEL": "debug", "SALESFORCE_VERSION": "45.0", "FLAG": "true", "SHARED": "get only"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", got, want)
	}

	writeFile(t, path, `["not", "an", "object"]`)
	if _, err := readEnvVars(path, "get"); err == nil {
		t.Error("array file: got nil error, want one")
	}
}

// The sample env file must parse and point at the local org's defaults.
func TestSampleEnvFile(t *testing.T) {
	root, err := rie.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	env, err := readEnvVars(filepath.Join(root, "events", "env.json"), "create")
	if err != nil {
		t.Fatal(err)
	}
	if addr, ok := orgAddr(env); !ok || addr != "127.0.0.1:8080" {
		t.Errorf("orgAddr: got %q %v, want %q true", addr, ok, "127.0.0.1:8080")
	}
	if got := env["SALESFORCE_SECRET_ID"]; got != "" {
		t.Errorf("SALESFORCE_SECRET_ID: got %q, want empty (settings from the environment)", got)
	}
}

func TestLogicalID(t *testing.T) {
	tests := map[string]string{
		"create":               "CreateFunction",
		"approval-submit":      "ApprovalSubmitFunction",
		"custom-object-create": "CustomObjectCreateFunction",
	}
	for in, want := range tests {
		if got := logicalID(in); got != want {
			t.Errorf("logicalID(%q): got %q, want %q", in, got, want)
		}
	}
}

func TestOrgAddr(t *testing.T) {
	tests := []struct {
		name  string
		login string
		soap  string
		want  string
		ok    bool
	}{
		{"loopback", "http://127.0.0.1:8080/services/oauth2/token", "http://127.0.0.1:8080/services/Soap/c/45.0", "127.0.0.1:8080", true},
		{"localhost", "http://localhost:9000/services/oauth2/token", "http://localhost:9000/services/Soap/c/45.0", "localhost:9000", true},
		{"salesforce", "https://login.salesforce.com/services/oauth2/token", "https://login.salesforce.com/services/Soap/c/45.0", "", false},
		{"different ports", "http://127.0.0.1:8080/services/oauth2/token", "http://127.0.0.1:8081/services/Soap/c/45.0", "", false},
		{"no port", "http://127.0.0.1/services/oauth2/token", "http://127.0.0.1/services/Soap/c/45.0", "", false},
		{"not loopback", "http://10.0.0.1:8080/services/oauth2/token", "http://10.0.0.1:8080/services/Soap/c/45.0", "", false},
		{"unset", "", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := orgAddr(map[string]string{"SALESFORCE_URL_LOGIN": tt.login, "SALESFORCE_SOAP_URL_LOGIN": tt.soap})
			if got != tt.want || ok != tt.ok {
				t.Errorf("got %q %v, want %q %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestCheckHostBinary(t *testing.T) {
	other := map[string]string{"amd64": "arm64", "arm64": "amd64"}[runtime.GOARCH]
	if other == "" {
		t.Skipf("no cross architecture known for %s", runtime.GOARCH)
	}
	host := rie.BuildTest(t, "./local/rie/testdata/fn")
	if err := checkHostBinary(host); err != nil {
		t.Errorf("host binary: got %v, want nil", err)
	}
	cross := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.CommandContext(t.Context(), "go", "build", "-o", cross, "./local/rie/testdata/fn")
	cmd.Dir, _ = rie.ModuleRoot()
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+other)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cross build: %v\n%s", err, out)
	}
	if err := checkHostBinary(cross); err == nil {
		t.Errorf("%s binary: got nil error, want one", other)
	}
	if err := checkHostBinary(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("missing binary: got nil error, want one")
	}
}

// TestRun drives the whole command with the rie package's throwaway function.
func TestRun(t *testing.T) {
	rie.RequireInstalled(t)
	dir := t.TempDir()
	env := filepath.Join(dir, "env.json")
	writeFile(t, env, `{"Parameters": {"RIE_TEST_MARKER": "from the env file"}}`)
	common := []string{"-fn", "testfn", "-pkg", "./local/rie/testdata/fn", "-dir", dir, "-env-vars", env, "-quiet"}

	tests := []struct {
		name   string
		event  string
		extra  []string
		code   int
		stdout string
	}{
		{name: "result", event: `{"name":"Acme"}`, code: 0, stdout: `{"hello":"Acme"}`},
		{name: "environment from the env file", event: `{"mode":"env","name":"RIE_TEST_MARKER"}`, code: 0, stdout: `{"env":"from the env file"}`},
		{name: "function name", event: `{"mode":"env","name":"AWS_LAMBDA_FUNCTION_NAME"}`, code: 0, stdout: `{"env":"testfn"}`},
		{name: "typed error", event: `{"mode":"fail"}`, code: 1, stdout: `{"errorMessage":"name is required","errorType":"MISSING_INPUT"}`},
		{name: "timeout", event: `{"mode":"sleep"}`, extra: []string{"-timeout", "1s"}, code: 1, stdout: "Task timed out after 1.00 seconds"},
		{name: "prebuilt", event: `{"name":"again"}`, extra: []string{"-build=false"}, code: 0, stdout: `{"hello":"again"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := append(append(append([]string{}, common...), tt.extra...), "-event", "-")
			code := run(t.Context(), args, strings.NewReader(tt.event), &stdout, &stderr)
			if code != tt.code {
				t.Errorf("exit code: got %d, want %d (stderr: %s)", code, tt.code, stderr.String())
			}
			if got := strings.TrimSpace(stdout.String()); got != tt.stdout {
				t.Errorf("stdout: got %q, want %q", got, tt.stdout)
			}
		})
	}

	t.Run("bad event", func(t *testing.T) {
		code := run(t.Context(), append(common, "-event", "-"), strings.NewReader(`{not json`), io.Discard, io.Discard)
		if code != 2 {
			t.Errorf("exit code: got %d, want 2", code)
		}
	})
}

// TestRunStartsOrg runs the real create function against a local org that
// the command starts itself, because the env file points at a free loopback
// port, as events/env.json points at 127.0.0.1:8080.
func TestRunStartsOrg(t *testing.T) {
	rie.RequireInstalled(t)
	root, err := rie.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	sample, err := readEnvVars(filepath.Join(root, "events", "env.json"), "create")
	if err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	sample["SALESFORCE_URL_LOGIN"] = "http://" + addr + "/services/oauth2/token"
	sample["SALESFORCE_SOAP_URL_LOGIN"] = "http://" + addr + "/services/Soap/c/45.0"
	params, err := json.Marshal(map[string]any{"Parameters": sample})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	env := filepath.Join(dir, "env.json")
	writeFile(t, env, string(params))

	var stdout, stderr bytes.Buffer
	code := run(t.Context(), []string{"-fn", "create", "-dir", dir, "-env-vars", env, "-event", filepath.Join(root, "events", "create.json")},
		nil, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit code: got %d, want 0\nstdout: %s\nstderr: %s", code, stdout.String(), stderr.String())
	}
	var out struct {
		SalesforceStatus string `json:"salesforceStatus"`
		SalesforceResult string `json:"salesforceResult"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("stdout %q: %v", stdout.String(), err)
	}
	if out.SalesforceStatus != "201" {
		t.Errorf("salesforceStatus: got %q, want %q", out.SalesforceStatus, "201")
	}
	var created struct {
		ID      string `json:"id"`
		Success bool   `json:"success"`
	}
	if err := json.Unmarshal([]byte(out.SalesforceResult), &created); err != nil || !created.Success || !strings.HasPrefix(created.ID, "001") {
		t.Errorf("salesforceResult: got %q, want a successful Account create", out.SalesforceResult)
	}
	if !strings.Contains(stderr.String(), "started an empty local org") {
		t.Errorf("stderr: got %q, want the notice about the started org", stderr.String())
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
