package salesforce

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sfconnect/connector/sforg"
	"github.com/sfconnect/connector/shared/credentials"
	"github.com/sfconnect/connector/shared/faults"
)

// TestRetiringFlows: an org that blocks the username-password flow or SOAP
// login() answers as Salesforce does, and the error says which flow to move
// to; an environment that logs in with either flow warns once of the
// retirement.
func TestRetiringFlows(t *testing.T) {
	tests := []struct {
		name string
		flow string
		org  func(*sforg.Options)
	}{
		{"password flow blocked", credentials.FlowPassword, func(o *sforg.Options) { o.BlockPasswordFlow = true }},
		{"SOAP login disabled", credentials.FlowSOAP, func(o *sforg.Options) { o.DisableSOAPLogin = true }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			org := startOrg(t, tt.org)
			c, _ := flowClient(flowConfig(t, org, tt.flow), nil)
			_, err := c.ListApprovals(t.Context())
			if faults.CodeOf(err) != faults.MissingToken || !strings.Contains(faults.MessageOf(err), "client_credentials or jwt") {
				t.Fatalf("got %v, want MISSING_TOKEN naming the flows to move to", err)
			}
		})
	}
	for _, flow := range []string{credentials.FlowPassword, credentials.FlowSOAP} {
		t.Run("one warning for "+flow, func(t *testing.T) {
			org := startOrg(t, nil)
			var logs bytes.Buffer
			c, _ := flowClient(flowConfig(t, org, flow), func(o *Options) { o.Logger = slog.New(slog.NewJSONHandler(&logs, nil)) })
			for range 3 {
				if _, err := c.ListApprovals(t.Context()); err != nil {
					t.Fatal(err)
				}
				org.ExpireSessions() // a login every time
			}
			if n := strings.Count(logs.String(), "being retired"); n != 1 {
				t.Errorf("got %d retirement warnings over 3 logins, want 1:\n%s", n, logs.String())
			}
		})
	}
}

// TestBadNextRecordsURL: a page whose nextRecordsUrl is not this org's query
// locator is Salesforce's fault (UNKNOWN_ERROR), not the caller's input, and
// nothing is fetched from it.
func TestBadNextRecordsURL(t *testing.T) {
	var calls atomic.Int32
	o := newOrg(t, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		jsonAnswer(w, http.StatusOK, []byte(`{"totalSize":3,"done":false,"nextRecordsUrl":"https://evil.example/services/data/v45.0/query/01g-2","records":[{"Id":"1"}]}`))
	})
	c, _ := newClient(t, o, nil)
	_, err := c.Query(t.Context(), "SELECT Id FROM Account")
	if faults.CodeOf(err) != faults.UnknownError || !strings.Contains(faults.MessageOf(err), "nextRecordsUrl") {
		t.Fatalf("got %v, want UNKNOWN_ERROR about Salesforce's nextRecordsUrl", err)
	}
	if calls.Load() != 1 {
		t.Errorf("got %d requests, want 1", calls.Load())
	}
}
