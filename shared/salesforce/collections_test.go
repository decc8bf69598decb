package salesforce

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/sfconnect/connector/shared/faults"
)

// TestManyRecordCalls checks what each call sends, and that the retry policy
// treats it by its method: the POSTs (a collection create, a composite) are
// never sent again after a 503, the PATCH and DELETE collections are.
func TestManyRecordCalls(t *testing.T) {
	records := []json.RawMessage{json.RawMessage(`{"attributes":{"type":"Account"},"Name":"A"}`)}
	tests := []struct {
		name      string
		call      func(c *Client, ctx context.Context) (*Response, error)
		method    string
		uri       string // escaped path and query
		body      string
		postCalls bool // a POST: one call on a 503
	}{
		{"create", func(c *Client, ctx context.Context) (*Response, error) { return c.CreateRecords(ctx, true, records) },
			http.MethodPost, "/services/data/v45.0/composite/sobjects", `{"allOrNone":true,"records":[{"attributes":{"type":"Account"},"Name":"A"}]}`, true},
		{"update", func(c *Client, ctx context.Context) (*Response, error) { return c.UpdateRecords(ctx, false, records) },
			http.MethodPatch, "/services/data/v45.0/composite/sobjects", `{"allOrNone":false,"records":[{"attributes":{"type":"Account"},"Name":"A"}]}`, false},
		{"upsert", func(c *Client, ctx context.Context) (*Response, error) {
			return c.UpsertRecords(ctx, "Invoice__c", "Ext__c", false, nil)
		}, http.MethodPatch, "/services/data/v45.0/composite/sobjects/Invoice__c/Ext__c", `{"allOrNone":false,"records":[]}`, false},
		{"delete", func(c *Client, ctx context.Context) (*Response, error) {
			return c.DeleteRecords(ctx, true, []string{accountID, "001D000000IqhSL"})
		}, http.MethodDelete, "/services/data/v45.0/composite/sobjects?allOrNone=true&ids=001D000000IqhSLIAZ%2C001D000000IqhSL", ``, false},
		{"composite", func(c *Client, ctx context.Context) (*Response, error) {
			return c.Composite(ctx, json.RawMessage(`{"compositeRequest":[]}`))
		}, http.MethodPost, "/services/data/v45.0/composite", `{"compositeRequest":[]}`, true},
	}
	for _, tt := range tests {
		for _, status := range []int{http.StatusOK, http.StatusServiceUnavailable} {
			t.Run(tt.name+"/"+http.StatusText(status), func(t *testing.T) {
				var mu sync.Mutex
				var seen []string
				o := newOrg(t, func(w http.ResponseWriter, r *http.Request) {
					b, _ := io.ReadAll(r.Body)
					mu.Lock()
					seen = append(seen, r.Method+" "+r.URL.RequestURI()+" "+string(b))
					mu.Unlock()
					jsonAnswer(w, status, []byte(`[]`))
				})
				c, _ := newClient(t, o, nil)
				resp, err := tt.call(c, t.Context())
				wantCalls := int32(1)
				switch {
				case status == http.StatusOK:
					if err != nil || resp.Status != 200 {
						t.Fatalf("got %+v %v, want 200", resp, err)
					}
				case tt.postCalls:
					if faults.CodeOf(err) != faults.UnknownError {
						t.Errorf("got %v, want UNKNOWN_ERROR: a POST is not sent again", err)
					}
				default:
					wantCalls = 3
					if faults.CodeOf(err) != faults.CircuitBreakerOpen {
						t.Errorf("got %v, want CIRCUIT_BREAKER_OPEN after the retries", err)
					}
				}
				if n := o.calls.Load(); n != wantCalls {
					t.Errorf("calls: got %d, want %d", n, wantCalls)
				}
				mu.Lock()
				defer mu.Unlock()
				if want := tt.method + " " + tt.uri + " " + tt.body; seen[0] != want {
					t.Errorf("got %q, want %q", seen[0], want)
				}
			})
		}
	}
}
