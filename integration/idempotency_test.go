package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/sfconnect/connector/local/moto"
	"github.com/sfconnect/connector/local/rie"
	"github.com/sfconnect/connector/shared/ledger"
)

// TestEventBridgeEventDeliveredTwice delivers events/eventbridge-create.json
// to the built create function under the emulator twice at once (two
// execution environments, as Lambda's at-least-once queue may) and once more
// after: the org holds one Account and every delivery answers the same. The
// event's id is the key. With the ledger (as the template deploys) at the
// sample's API 45.0, and without it at 66.0, where Salesforce's own
// Idempotency-Key protects the create.
func TestEventBridgeEventDeliveredTwice(t *testing.T) {
	root, err := rie.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	event, err := os.ReadFile(filepath.Join(root, "events", "eventbridge-create.json"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		version string
		ledger  bool
	}{
		{"the ledger, API 45.0", "45.0", true},
		{"Salesforce's key, API 66.0", "66.0", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			org := startOrg(t)
			env := sampleEnv(t, org)
			env["SALESFORCE_VERSION"] = tt.version
			if tt.ledger {
				// Two invocations race for the key: serialised moto, whose
				// conditional writes are then atomic (moto.StartSerialTest).
				endpoint := moto.StartSerialTest(t)
				env["SALESFORCE_IDEMPOTENCY_TABLE"] = moto.NewTable(t, moto.DynamoDB(endpoint), "ledger", ledger.AttrKey, ledger.AttrExpiry)
				env["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint
				env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], env["AWS_REGION"] = moto.AccessKeyID, moto.SecretAccessKey, moto.Region
			}
			environments := []*rie.Emulator{start(t, "create", env), start(t, "create", env)}
			results := make([]rie.InvokeResult, len(environments))
			var wg sync.WaitGroup
			for i, e := range environments {
				wg.Go(func() {
					res, err := e.Invoke(t.Context(), event)
					if err != nil {
						t.Error(err)
					}
					results[i] = res
				})
			}
			wg.Wait()
			final := call(t, environments[0], event)
			if final.Status != "201" {
				t.Fatalf("got %s %s, want 201", final.Status, final.Result)
			}
			for i, res := range results {
				switch {
				case res.ErrorType == "REQUEST_TIMEOUT": // the other was still running: Lambda retries it
				case res.Failed():
					t.Errorf("delivery %d: got %s: %s", i+1, res.ErrorType, res.ErrorMessage)
				default:
					if got := string(res.Body); !sameAnswer(t, got, final) {
						t.Errorf("delivery %d: got %s, want %s %s", i+1, got, final.Status, final.Result)
					}
				}
			}
			if got := org.Store().FindBy("Account", "Name", "Acme Corporation"); len(got) != 1 {
				t.Errorf("got %d accounts, want 1", len(got))
			}
		})
	}
}

// sameAnswer reports whether an output has the status and result of want.
func sameAnswer(t *testing.T, body string, want output) bool {
	t.Helper()
	var got output
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("output %s: %v", body, err)
	}
	return got == want
}
