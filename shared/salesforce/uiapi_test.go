package salesforce

import (
	"errors"
	"net/http"
	"testing"

	"github.com/sfconnect/connector/sforg"
	"github.com/sfconnect/connector/shared/credentials"
	"github.com/sfconnect/connector/shared/faults"
)

// TestKeyedCreateSurvivesADroppedAnswer drops the connection after the org
// made the record of a keyed create, on a kept-alive connection: the create
// is sent again (by net/http itself, which replays a request carrying an
// Idempotency-Key on a reused connection, or by the transport), Salesforce
// answers it from the first, and the attempts counted are the requests the
// org received.
func TestKeyedCreateSurvivesADroppedAnswer(t *testing.T) {
	org := startOrg(t, nil)
	cfg := flowConfig(t, org, credentials.FlowPassword)
	cfg.Version = "66.0"
	c, _ := flowClient(cfg, nil)
	key := "2f0c1a9e-7b7d-4c1e-9b1e-5a0d3f6e8c21"
	// A pooled connection to the instance.
	if _, err := c.CreateRecordWithKey(t.Context(), "Account", []byte(`{"Name":"Warm"}`), "0f0c1a9e-7b7d-4c1e-9b1e-5a0d3f6e8c21"); err != nil {
		t.Fatal(err)
	}
	if err := org.Inject(sforg.Fault{Route: sforg.RouteUIRecordCreate, Kind: sforg.FaultDropAfter, Times: 1}); err != nil {
		t.Fatal(err)
	}
	before := org.Requests(sforg.RouteUIRecordCreate)
	var stats Stats
	resp, err := c.CreateRecordWithKey(WithStats(t.Context(), &stats), "Account", []byte(`{"Name":"Acme"}`), key)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusCreated {
		t.Fatalf("got %d %s, want 201", resp.Status, resp.Body)
	}
	ids := org.Store().FindBy("Account", "Name", "Acme")
	if len(ids) != 1 {
		t.Fatalf("got %d accounts, want 1", len(ids))
	}
	if got, want := string(resp.Body), `{"id":"`+ids[0]+`","success":true,"errors":[]}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	sent := int64(org.Requests(sforg.RouteUIRecordCreate) - before)
	if sent != 2 || stats.Attempts.Load() != sent {
		t.Errorf("got %d requests and %d attempts counted, want 2 and 2", sent, stats.Attempts.Load())
	}
}

// TestKeyedWriteRefusals: Salesforce's refusals of an Idempotency-Key are
// errors whose cause tells them apart, the others answers in the sObject
// error array.
func TestKeyedWriteRefusals(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		code   faults.Code
		cause  error
		want   string
	}{
		{"in flight", http.StatusConflict, `[{"errorCode":"IDEMPOTENT_REQUEST_IN_PROGRESS","message":"running"}]`, faults.RequestTimeout, ErrKeyInFlight, ""},
		{"reused", http.StatusUnprocessableEntity, `[{"errorCode":"IDEMPOTENCY_KEY_REUSED","message":"used"}]`, faults.InvalidInput, ErrKeyReused, ""},
		{"plain error array", http.StatusNotFound, `[{"errorCode":"NOT_FOUND","message":"The requested resource does not exist"}]`, "", nil,
			`[{"message":"The requested resource does not exist","errorCode":"NOT_FOUND"}]`},
		{"error with output", http.StatusBadRequest,
			`{"enhancedErrorType":"RecordError","message":"An error occurred while trying to update the record. Please try again.","output":{"errors":[{"errorCode":"FIELD_CUSTOM_VALIDATION_EXCEPTION","message":"Site is wrong"}],` +
				`"fieldErrors":{"Name":[{"errorCode":"REQUIRED_FIELD_MISSING","field":"Name","message":"Required fields are missing: [Name, Site]"}],` +
				`"Site":[{"errorCode":"REQUIRED_FIELD_MISSING","field":"Site","message":"Required fields are missing: [Name, Site]"}]}}}`, "", nil,
			`[{"message":"Site is wrong","errorCode":"FIELD_CUSTOM_VALIDATION_EXCEPTION","fields":[]},{"message":"Required fields are missing: [Name, Site]","errorCode":"REQUIRED_FIELD_MISSING","fields":["Name","Site"]}]`},
		{"another body", http.StatusBadRequest, `not JSON`, "", nil, `not JSON`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOrg(t, func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Idempotency-Key") == "" {
					t.Errorf("got no Idempotency-Key on %s %s", r.Method, r.URL.Path)
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.body))
			})
			c, _ := newClient(t, o, nil)
			resp, err := c.CreateRecordWithKey(t.Context(), "Account", []byte(`{"Name":"A"}`), "2f0c1a9e-7b7d-4c1e-9b1e-5a0d3f6e8c21")
			if tt.cause != nil {
				if faults.CodeOf(err) != tt.code || !errors.Is(err, tt.cause) {
					t.Fatalf("got %v, want %s caused by %v", err, tt.code, tt.cause)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != tt.status || string(resp.Body) != tt.want {
				t.Errorf("got %d %s, want %d %s", resp.Status, resp.Body, tt.status, tt.want)
			}
		})
	}
}
