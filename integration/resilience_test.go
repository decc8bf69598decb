package integration

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sfconnect/connector/local/moto"
	"github.com/sfconnect/connector/local/rie"
	"github.com/sfconnect/connector/sforg"
)

// TestNoDuplicateUnderEmulator drops the connection of a create or an approval
// submission, before or after the org did the work, under the emulator: the
// function never sends the POST twice, says the outcome is unknown, and the org
// holds exactly the records the one request made.
func TestNoDuplicateUnderEmulator(t *testing.T) {
	tests := []struct {
		name        string
		fn          string
		route       string
		kind        sforg.FaultKind
		wantRecords int
	}{
		{"create, dropped after the work", "create", sforg.RouteCreate, sforg.FaultDropAfter, 1},
		{"create, dropped before the work", "create", sforg.RouteCreate, sforg.FaultDropBefore, 0},
		{"approval submit, dropped after the work", "approval-submit", "approvals", sforg.FaultDropAfter, 1},
		{"approval submit, dropped before the work", "approval-submit", "approvals", sforg.FaultDropBefore, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			org := startOrg(t)
			e := start(t, tt.fn, sampleEnv(t, org))
			name := "Exactly once " + tt.name
			var event []byte
			count := func() int { return len(org.Store().FindBy("Account", "Name", name)) }
			if tt.fn == "approval-submit" {
				account := newAccount(t, org, name)
				event = mustJSON(t, map[string]any{"salesforcePayload": map[string]any{"contextId": account}})
				count = func() int { return len(org.Store().FindBy("ProcessInstance", "TargetObjectId", account)) }
			} else {
				event = mustJSON(t, map[string]any{"SObjectName": "Account", "salesforcePayload": map[string]any{"Name": name}})
			}
			if err := org.Inject(sforg.Fault{Route: tt.route, Kind: tt.kind, Times: 1}); err != nil {
				t.Fatal(err)
			}
			before := org.Requests(tt.route)

			res, err := e.Invoke(t.Context(), event)
			if err != nil {
				t.Fatal(err)
			}
			if res.ErrorType != "UNKNOWN_ERROR" || !strings.Contains(res.ErrorMessage, "outcome is unknown") {
				t.Errorf("got %d %q %q, want UNKNOWN_ERROR saying the outcome is unknown", res.Status, res.ErrorType, res.ErrorMessage)
			}
			t.Logf("%s: %s", res.ErrorType, res.ErrorMessage)
			if got := org.Requests(tt.route) - before; got != 1 {
				t.Errorf("got %d requests to %s, want the POST sent once", got, tt.route)
			}
			if got := count(); got != tt.wantRecords {
				t.Errorf("got %d records, want %d", got, tt.wantRecords)
			}
		})
	}
}

// TestDeadlineUnderEmulator gives the function 2 seconds and makes the slow
// part a login, the secret read or Salesforce's answer to a create: the
// function answers REQUEST_TIMEOUT itself, so the emulator never reports "Task
// timed out" and a workflow can Catch the error.
func TestDeadlineUnderEmulator(t *testing.T) {
	const slow = 5 * time.Second
	hanging := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-time.After(2 * slow):
		}
	}))
	t.Cleanup(hanging.Close)

	create := `{"SObjectName":"Account","salesforcePayload":{"Name":"Deadline"}}`
	tests := []struct {
		name     string
		fn       string
		fault    *sforg.Fault
		env      func(org *sforg.Server) map[string]string
		event    string
		wantText string
	}{
		{name: "slow OAuth login", fn: "get", fault: &sforg.Fault{Route: sforg.RouteToken, Kind: sforg.FaultLatency, Delay: slow},
			event: `{"SObjectName":"Account","SObjectId":"001D000000IqhSLIAZ"}`, wantText: "login"},
		{name: "slow SOAP login", fn: "query", fault: &sforg.Fault{Route: sforg.RouteSOAPLogin, Kind: sforg.FaultLatency, Delay: slow},
			env:   func(*sforg.Server) map[string]string { return map[string]string{"SALESFORCE_AUTH_FLOW": "soap"} },
			event: `{"salesforceQuery":"SELECT Id FROM Account"}`, wantText: "login"},
		{name: "slow secret read", fn: "get", env: func(*sforg.Server) map[string]string {
			return map[string]string{
				"SALESFORCE_SECRET_ID":             "sfconnect/slow",
				"AWS_ENDPOINT_URL_SECRETS_MANAGER": hanging.URL,
				"AWS_ACCESS_KEY_ID":                moto.AccessKeyID,
				"AWS_SECRET_ACCESS_KEY":            moto.SecretAccessKey,
				"AWS_EC2_METADATA_DISABLED":        "true",
			}
		}, event: `{"SObjectName":"Account","SObjectId":"001D000000IqhSLIAZ"}`, wantText: "login"},
		{name: "slow answer to a create", fn: "create", fault: &sforg.Fault{Route: sforg.RouteCreate, Kind: sforg.FaultLatency, Delay: slow},
			event: create, wantText: "outcome is unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			org := startOrg(t)
			env := sampleEnv(t, org)
			if tt.env != nil {
				env = merge(env, tt.env(org))
			}
			if tt.fault != nil {
				if err := org.Inject(*tt.fault); err != nil {
					t.Fatal(err)
				}
			}
			e := rie.StartTest(t, rie.Options{Bootstrap: bootstraps(t)[tt.fn], FunctionName: tt.fn, Env: env, Timeout: 2 * time.Second})
			res, err := e.Invoke(t.Context(), []byte(tt.event))
			if err != nil {
				t.Fatal(err)
			}
			if res.TimedOut || res.Status != http.StatusOK {
				t.Fatalf("got status %d, timed out %v: %s; want the function's own REQUEST_TIMEOUT", res.Status, res.TimedOut, res.Body)
			}
			var body map[string]string
			if err := json.Unmarshal(res.Body, &body); err != nil || body["errorType"] != "REQUEST_TIMEOUT" {
				t.Fatalf("got %s, want errorType REQUEST_TIMEOUT", res.Body)
			}
			if !strings.Contains(res.ErrorMessage, tt.wantText) {
				t.Errorf("got errorMessage %q, want it to mention %q", res.ErrorMessage, tt.wantText)
			}
			t.Logf("%s: %s", res.ErrorType, res.ErrorMessage)
		})
	}
}
