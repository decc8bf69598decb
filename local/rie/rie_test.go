package rie

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"
)

func TestParseResult(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		body      string
		errorType string
		message   string
		timedOut  bool
		failed    bool
	}{
		{name: "result", status: 200, body: `{"salesforceStatus":"200"}`},
		{name: "result with an errorType field of null", status: 200, body: `{"errorType":null}`},
		{name: "string result", status: 200, body: `"errorType"`},
		{name: "typed error", status: 200, body: `{"errorMessage":"SObjectName is required","errorType":"MISSING_INPUT"}`,
			errorType: "MISSING_INPUT", message: "SObjectName is required", failed: true},
		{name: "panic", status: 502, body: `{"errorMessage":"boom","errorType":"string","stackTrace":[]}`,
			errorType: "string", message: "boom", failed: true},
		{name: "timeout", status: 200, body: "Task timed out after 1.00 seconds",
			message: "Task timed out after 1.00 seconds", timedOut: true, failed: true},
		{name: "emulator failure", status: 500, body: "internal", failed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := parseResult(tt.status, []byte(tt.body))
			if r.ErrorType != tt.errorType {
				t.Errorf("ErrorType: got %q, want %q", r.ErrorType, tt.errorType)
			}
			if r.ErrorMessage != tt.message {
				t.Errorf("ErrorMessage: got %q, want %q", r.ErrorMessage, tt.message)
			}
			if r.TimedOut != tt.timedOut {
				t.Errorf("TimedOut: got %v, want %v", r.TimedOut, tt.timedOut)
			}
			if r.Failed() != tt.failed {
				t.Errorf("Failed(): got %v, want %v", r.Failed(), tt.failed)
			}
		})
	}
}

func TestEnvironment(t *testing.T) {
	env := environment("/x/build/query/bootstrap", Options{
		Timeout: 1500 * time.Millisecond,
		Env:     map[string]string{"LOG_LEVEL": "debug", "AWS_REGION": "eu-west-1", "AWS_LAMBDA_MAX_CONCURRENCY": "4"},
	})
	want := map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME":        "query",
		"AWS_LAMBDA_FUNCTION_TIMEOUT":     "2",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
		"AWS_REGION":                      "eu-west-1",
		"LOG_LEVEL":                       "debug",
	}
	got := map[string]string{}
	for _, kv := range env {
		for i := range len(kv) {
			if kv[i] == '=' {
				got[kv[:i]] = kv[i+1:]
				break
			}
		}
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %q, want %q", k, got[k], v)
		}
	}
	if v, ok := got["AWS_LAMBDA_MAX_CONCURRENCY"]; ok {
		t.Errorf("AWS_LAMBDA_MAX_CONCURRENCY: got %q, want it removed", v)
	}
}

func TestStartErrors(t *testing.T) {
	t.Run("no bootstrap", func(t *testing.T) {
		if _, err := Start(t.Context(), Options{}); err == nil {
			t.Fatal("got nil error, want one")
		}
	})
	t.Run("missing bootstrap", func(t *testing.T) {
		_, err := Start(t.Context(), Options{Bootstrap: filepath.Join(t.TempDir(), "bootstrap"), Binary: "/bin/true"})
		if err == nil {
			t.Fatal("got nil error, want one")
		}
	})
	t.Run("emulator exits at once", func(t *testing.T) {
		bootstrap := filepath.Join(t.TempDir(), "bootstrap")
		writeExecutable(t, bootstrap)
		_, err := Start(t.Context(), Options{Bootstrap: bootstrap, Binary: "/bin/true"})
		if err == nil {
			t.Fatal("got nil error, want one")
		}
	})
	t.Run("no emulator installed", func(t *testing.T) {
		t.Setenv("AWS_LAMBDA_RIE", "")
		t.Setenv("PATH", t.TempDir())
		t.Chdir(t.TempDir())
		bootstrap := filepath.Join(t.TempDir(), "bootstrap")
		writeExecutable(t, bootstrap)
		_, err := Start(t.Context(), Options{Bootstrap: bootstrap})
		if !errors.Is(err, ErrNotInstalled) {
			t.Fatalf("got %v, want ErrNotInstalled", err)
		}
	})
}

// TestEmulator runs the throwaway function in testdata/fn under the real
// emulator.
func TestEmulator(t *testing.T) {
	RequireInstalled(t)
	bootstrap := BuildTest(t, "./local/rie/testdata/fn")
	e := StartTest(t, Options{
		Bootstrap:    bootstrap,
		FunctionName: "rie-test",
		Env:          map[string]string{"RIE_TEST_MARKER": "m1"},
	})

	invoke := func(t *testing.T, e *Emulator, event string) InvokeResult {
		t.Helper()
		r, err := e.Invoke(t.Context(), []byte(event))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}

	t.Run("result", func(t *testing.T) {
		r := invoke(t, e, `{"name":"Acme"}`)
		if r.Failed() {
			t.Fatalf("got a failure %+v, want a result", r)
		}
		if got, want := string(r.Body), `{"hello":"Acme"}`; got != want {
			t.Errorf("body: got %q, want %q", got, want)
		}
	})

	t.Run("environment", func(t *testing.T) {
		t.Setenv("RIE_TEST_HOST_ONLY", "leaked")
		tests := []struct {
			name string
			want string // "" means absent
		}{
			{"RIE_TEST_MARKER", `{"env":"m1"}`},
			{"AWS_LAMBDA_FUNCTION_NAME", `{"env":"rie-test"}`},
			{"AWS_LAMBDA_FUNCTION_TIMEOUT", `{"env":"30"}`},
			{"HOME", `{}`},
			{"RIE_TEST_HOST_ONLY", `{}`}, // set after the start, and never inherited anyway
		}
		for _, tt := range tests {
			r := invoke(t, e, fmt.Sprintf(`{"mode":"env","name":%q}`, tt.name))
			if got := string(r.Body); got != tt.want {
				t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
			}
		}
	})

	t.Run("typed error", func(t *testing.T) {
		r := invoke(t, e, `{"mode":"fail"}`)
		if r.Status != http.StatusOK {
			t.Errorf("status: got %d, want %d", r.Status, http.StatusOK)
		}
		if r.ErrorType != "MISSING_INPUT" {
			t.Errorf("errorType: got %q, want %q", r.ErrorType, "MISSING_INPUT")
		}
		if r.ErrorMessage != "name is required" {
			t.Errorf("errorMessage: got %q, want %q", r.ErrorMessage, "name is required")
		}
	})

	t.Run("panic", func(t *testing.T) {
		r := invoke(t, e, `{"mode":"panic"}`)
		if r.Status != http.StatusBadGateway || !r.Failed() {
			t.Errorf("got status %d failed %v, want %d and a failure", r.Status, r.Failed(), http.StatusBadGateway)
		}
		// The emulator restarts the function for the next event.
		if r := invoke(t, e, `{"name":"again"}`); r.Failed() {
			t.Errorf("after a panic: got %+v, want a result", r)
		}
	})

	t.Run("concurrent invokes are serialized", func(t *testing.T) {
		const n = 8
		var wg sync.WaitGroup
		results := make([]InvokeResult, n)
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				results[i], errs[i] = e.Invoke(t.Context(), fmt.Appendf(nil, `{"name":"n%d"}`, i))
			})
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Errorf("invoke %d: %v", i, errs[i])
				continue
			}
			var got struct{ Hello string }
			if err := json.Unmarshal(results[i].Body, &got); err != nil || got.Hello != fmt.Sprintf("n%d", i) {
				t.Errorf("invoke %d: got %q, want hello n%d", i, results[i].Body, i)
			}
		}
	})

	t.Run("timeout", func(t *testing.T) {
		short := StartTest(t, Options{Bootstrap: bootstrap, Timeout: time.Second})
		r := invoke(t, short, `{"mode":"sleep"}`)
		if !r.TimedOut {
			t.Fatalf("got %+v, want a timeout", r)
		}
		if r := invoke(t, short, `{"name":"after"}`); r.Failed() {
			t.Errorf("after a timeout: got %+v, want a result", r)
		}
	})

	t.Run("closed", func(t *testing.T) {
		closed := StartTest(t, Options{Bootstrap: bootstrap})
		closed.Close()
		closed.Close() // idempotent
		if _, err := closed.Invoke(t.Context(), []byte(`{}`)); err == nil {
			t.Error("invoke after Close: got nil error, want one")
		}
	})
}

func writeExecutable(t *testing.T, path string) {
	t.Helper()
	if err := os.WriteFile(path, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestBuildAll builds the throwaway function for this host and finds it where
// a Lambda deployment package has it, with go build's scratch directory gone.
func TestBuildAll(t *testing.T) {
	dir := t.TempDir()
	paths, err := BuildAll(t.Context(), dir, runtime.GOOS, runtime.GOARCH, []string{"./local/rie/testdata/fn"})
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(dir, "fn", "bootstrap")
	if len(paths) != 1 || paths["fn"] != want {
		t.Fatalf("got %v, want fn at %q", paths, want)
	}
	if st, err := os.Stat(want); err != nil || st.Mode()&0o111 == 0 {
		t.Errorf("got %v (%v), want an executable bootstrap", st, err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".bin")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("got %v, want the build's scratch directory removed", err)
	}
}
