package integration

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sfconnect/connector/local/demo/stack"
	"github.com/sfconnect/connector/local/rie"
	"github.com/sfconnect/connector/sforg"
	"github.com/sfconnect/connector/shared/sfid"
)

// The functions are built once per test binary, on first use, into a folder
// TestMain removes.
var (
	buildOnce sync.Once
	buildDir  string
	built     map[string]string // name -> bootstrap
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// bootstraps returns every function built for this host, or skips the test
// (fails it in CI) when the emulator is missing.
func bootstraps(t *testing.T) map[string]string {
	t.Helper()
	rie.RequireInstalled(t)
	buildOnce.Do(func() {
		names, err := stack.Functions()
		if err != nil {
			buildErr = err
			return
		}
		if buildDir, buildErr = os.MkdirTemp("", "sfconnect-integration-"); buildErr != nil {
			return
		}
		// Not t.Context(): the build outlives the first test that asks for it.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		built, buildErr = stack.Build(ctx, buildDir, names)
	})
	if buildErr != nil {
		t.Fatalf("build the functions: %v", buildErr)
	}
	return built
}

// startOrg runs an org on loopback for the test.
func startOrg(t *testing.T) *sforg.Server {
	t.Helper()
	org, err := sforg.Start(sforg.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { org.Close() })
	return org
}

// sampleEnv is events/env.json's Parameters, the SAM --env-vars file of
// `sam local invoke` and `make invoke`, with the login URLs moved to org.
func sampleEnv(t *testing.T, org *sforg.Server) map[string]string {
	t.Helper()
	root, err := rie.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(root, "events", "env.json"))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Parameters map[string]string `json:"Parameters"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatalf("events/env.json: %v", err)
	}
	env := file.Parameters
	for _, k := range []string{"SALESFORCE_URL_LOGIN", "SALESFORCE_SOAP_URL_LOGIN"} {
		if _, ok := env[k]; !ok {
			t.Fatalf("events/env.json has no %s", k)
		}
		env[k] = org.Settings()[k]
	}
	return env
}

// start runs one built function under the emulator for the test.
func start(t *testing.T, name string, env map[string]string) *rie.Emulator {
	t.Helper()
	bootstrap, ok := bootstraps(t)[name]
	if !ok {
		t.Fatalf("no function %q", name)
	}
	return rie.StartTest(t, rie.Options{Bootstrap: bootstrap, FunctionName: name, Env: env})
}

// output is the contract's result.
type output struct {
	Status string `json:"salesforceStatus"`
	Result string `json:"salesforceResult"`
}

// call invokes a function and returns its output, failing the test on a
// function error.
func call(t *testing.T, e *rie.Emulator, event []byte) output {
	t.Helper()
	res, err := e.Invoke(t.Context(), event)
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed() {
		t.Fatalf("event %s: got status %d, %s: %s, want a result", strings.Join(strings.Fields(string(event)), " "), res.Status, res.ErrorType, res.ErrorMessage)
	}
	var out output
	if err := json.Unmarshal(res.Body, &out); err != nil {
		t.Fatalf("output %s: %v", res.Body, err)
	}
	return out
}

// newAccount inserts an Account into the org directly and returns its id.
func newAccount(t *testing.T, org *sforg.Server, name string) string {
	t.Helper()
	id, err := org.Store().Insert("Account", map[string]any{"Name": name})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// idPattern finds candidate Salesforce ids in a JSON text.
var idPattern = regexp.MustCompile(`"[a-zA-Z0-9]{18}"`)

// maskIDs replaces every 18-character Salesforce id in text with "<id>", so
// two outputs about different records can be compared.
func maskIDs(text string) string {
	return idPattern.ReplaceAllStringFunc(text, func(q string) string {
		if sfid.Valid(q[1 : len(q)-1]) {
			return `"<id>"`
		}
		return q
	})
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
