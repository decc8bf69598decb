package integration

import (
	"encoding/json"
	"maps"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sfconnect/connector/local/rie"
	"github.com/sfconnect/connector/sforg"
)

// TestErrorTypes checks that each error of the catalogue leaves the emulator
// as Lambda reports it to Step Functions: HTTP 200 with a body of exactly
// errorType (the catalogue code, not a Go type name) and errorMessage.
func TestErrorTypes(t *testing.T) {
	org := startOrg(t)
	base := sampleEnv(t, org)
	fast := map[string]string{ // quick retries, and a breaker that does not open first
		"SALESFORCE_RETRY_BASE_DELAY": "1ms", "SALESFORCE_RETRY_MAX_DELAY": "5ms", "SALESFORCE_BREAKER_FAILURES": "100",
	}
	closed := closedPort(t)
	account := newAccount(t, org, "Error types")
	get := `{"SObjectName":"Account","SObjectId":"` + account + `"}`

	tests := []struct {
		name     string
		fn       string
		env      map[string]string // over events/env.json
		fault    *sforg.Fault
		timeout  time.Duration
		event    string
		wantType string
		wantIn   string // part of the errorMessage
	}{
		{name: "no SObjectName", fn: "get", event: `{}`, wantType: "MISSING_INPUT", wantIn: "SObjectName is required"},
		{name: "no payload", fn: "create", event: `{"SObjectName":"Account"}`, wantType: "MISSING_INPUT", wantIn: "salesforcePayload is required"},
		{name: "event body not JSON", fn: "get", event: `this is not JSON`, wantType: "INVALID_INPUT"},
		{name: "bad id", fn: "get", event: `{"SObjectName":"Account","SObjectId":"nope"}`, wantType: "INVALID_INPUT", wantIn: "SObjectId"},
		{name: "no credentials", fn: "get", event: get, env: map[string]string{"SALESFORCE_PASSWORD": ""}, wantType: "MISSING_TOKEN", wantIn: "SALESFORCE_PASSWORD"},
		{name: "nothing listens", fn: "get", event: get, env: merge(fast, map[string]string{
			"SALESFORCE_URL_LOGIN": "http://" + closed + "/services/oauth2/token", "SALESFORCE_SOAP_URL_LOGIN": "http://" + closed + "/services/Soap/c/45.0",
		}), wantType: "CONNECTION_ERROR"},
		{name: "503 on every attempt", fn: "get", event: get, env: fast,
			fault: &sforg.Fault{Route: sforg.RouteGet, Kind: sforg.FaultStatus, Status: 503}, wantType: "CIRCUIT_BREAKER_OPEN", wantIn: "503 after 3 attempts"},
		{name: "no answer before the deadline", fn: "get", event: get, timeout: time.Second,
			fault: &sforg.Fault{Route: sforg.RouteGet, Kind: sforg.FaultLatency, Delay: 5 * time.Second}, wantType: "REQUEST_TIMEOUT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.fault != nil {
				if err := org.Inject(*tt.fault); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(org.ClearFaults)
			}
			e := rie.StartTest(t, rie.Options{Bootstrap: bootstraps(t)[tt.fn], FunctionName: tt.fn,
				Env: merge(base, tt.env), Timeout: tt.timeout})
			res, err := e.Invoke(t.Context(), []byte(tt.event))
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != 200 || res.TimedOut {
				t.Fatalf("got status %d (timed out: %v), want 200 with an error body: %s", res.Status, res.TimedOut, res.Body)
			}
			var body map[string]any
			if err := json.Unmarshal(res.Body, &body); err != nil {
				t.Fatalf("body %s: %v", res.Body, err)
			}
			if keys := slices.Sorted(maps.Keys(body)); !slices.Equal(keys, []string{"errorMessage", "errorType"}) {
				t.Errorf("got body keys %v, want [errorMessage errorType]", keys)
			}
			if res.ErrorType != tt.wantType {
				t.Errorf("got errorType %q (%s), want %q", res.ErrorType, res.ErrorMessage, tt.wantType)
			}
			if !strings.Contains(res.ErrorMessage, tt.wantIn) {
				t.Errorf("got errorMessage %q, want it to contain %q", res.ErrorMessage, tt.wantIn)
			}
		})
	}
}

// closedPort returns a loopback address where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func merge(layers ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range layers {
		maps.Copy(out, m)
	}
	return out
}
