package connector

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sfconnect/connector/sforg"
	"github.com/sfconnect/connector/shared/faults"
	"github.com/sfconnect/connector/shared/salesforce"
)

// action is one action of the table with a valid event and the org route it
// calls.
type action struct {
	Action
	name  string
	h     func(*Connector) handler
	event func(t *testing.T, w *world) string
	route string
	post  bool // not replayed once it may have reached Salesforce
}

// testEvent makes a valid event of an action, creating what it needs first,
// and names the org route the action calls.
type testEvent struct {
	event func(t *testing.T, w *world) string
	route string
}

// testEvents has one entry per action of the table (TestEveryActionIsTested).
func testEvents() map[string]testEvent {
	account := func(t *testing.T, w *world) string {
		r := invoke(t, w.conn.Create, `{"SObjectName":"Account","salesforcePayload":{"Name":"Acme"}}`)
		mustOK(t, r, "201")
		return field(t, r, "id").(string)
	}
	workitem := func(t *testing.T, w *world) string {
		r := invoke(t, w.conn.ApprovalSubmit, jsonEvent(t, map[string]any{"salesforcePayload": map[string]any{"contextId": account(t, w)}}))
		mustOK(t, r, "200")
		return processResults(t, r)[0].NewWorkitemIDs[0]
	}
	fixed := func(event string) func(*testing.T, *world) string {
		return func(*testing.T, *world) string { return event }
	}
	events := map[string]testEvent{
		"CREATE": {fixed(`{"SObjectName":"Account","salesforcePayload":{"Name":"Acme"}}`), sforg.RouteCreate},
		"GET": {func(t *testing.T, w *world) string {
			return jsonEvent(t, map[string]any{"SObjectName": "Account", "SObjectId": account(t, w)})
		}, sforg.RouteGet},
		"UPDATE": {func(t *testing.T, w *world) string {
			return jsonEvent(t, map[string]any{"SObjectName": "Account", "SObjectId": account(t, w), "salesforcePayload": map[string]any{"Name": "B"}})
		}, sforg.RouteUpdate},
		"DELETE": {func(t *testing.T, w *world) string {
			return jsonEvent(t, map[string]any{"SObjectName": "Account", "SObjectId": account(t, w)})
		}, sforg.RouteDelete},
		"QUERY":         {fixed(`{"salesforceQuery":"SELECT Id FROM Account"}`), "query"},
		"APPROVAL_LIST": {fixed(`{}`), "approvals"},
		"APPROVAL_SUBMIT": {func(t *testing.T, w *world) string {
			return jsonEvent(t, map[string]any{"salesforcePayload": map[string]any{"contextId": account(t, w)}})
		}, "approvals"},
		"APPROVAL_APPROVE": {func(t *testing.T, w *world) string {
			return jsonEvent(t, map[string]any{"salesforcePayload": map[string]any{"contextId": workitem(t, w)}})
		}, "approvals"},
		"APPROVAL_REJECT": {func(t *testing.T, w *world) string {
			return jsonEvent(t, map[string]any{"salesforcePayload": map[string]any{"contextId": workitem(t, w)}})
		}, "approvals"},
		"CUSTOM_OBJECT_CREATE": {fixed(`{"salesforcePayload":{"fullName":"Invoice__c","label":"Invoice","pluralLabel":"Invoices","nameField":{"label":"Invoice Name","type":"Text"},"deploymentStatus":"Deployed","sharingModel":"ReadWrite"}}`), "metadata"},
		"UPSERT": {func(t *testing.T, w *world) string {
			defineInvoice(t, w.org)
			return upsertEvent(t, "INV-0001", map[string]any{"Name": "First"})
		}, sforg.RouteUpsert},
		"COLLECTION": {fixed(`{"operation":"create","SObjectName":"Account","salesforcePayload":[{"Name":"Acme"}]}`), sforg.RouteCollectionCreate},
		"COMPOSITE":  {fixed(compositeEvent), sforg.RouteComposite},
	}
	maps.Copy(events, bulkTestEvents())
	return events
}

// actions is every action of the table with its test event.
func actions() []action {
	events := testEvents()
	var out []action
	for _, a := range Actions() {
		e, ok := events[a.Name]
		if !ok {
			continue // TestEveryActionIsTested fails
		}
		out = append(out, action{Action: a, name: a.Name, h: func(c *Connector) handler { return c.Handler(a) },
			event: e.event, route: e.route, post: a.Method == http.MethodPost})
	}
	return out
}

// TestEveryActionIsTested: a new action of the table cannot go without the
// catalogue, matrix and leak tests, which run every action of actions().
func TestEveryActionIsTested(t *testing.T) {
	events := testEvents()
	for _, a := range Actions() {
		if _, ok := events[a.Name]; !ok {
			t.Errorf("%s has no test event in testEvents", a.Name)
		}
	}
	if len(events) != len(Actions()) {
		t.Errorf("testEvents has %d entries, the table %d actions", len(events), len(Actions()))
	}
}

// TestCatalogueErrors drives every action into each catalogue error it can
// produce against a misbehaving org, and checks the errorType a workflow sees.
func TestCatalogueErrors(t *testing.T) {
	for _, a := range actions() {
		t.Run(a.name, func(t *testing.T) {
			t.Run("MISSING_TOKEN when the login is rejected", func(t *testing.T) {
				w := setup(t)
				event := a.event(t, w)
				w.org.ExpireSessions()
				mustInject(t, w.org, sforg.Fault{Route: sforg.RouteToken, Kind: sforg.FaultLoginFailure})
				wantError(t, invoke(t, a.h(w.conn), event), faults.MissingToken, "authentication failure")
			})
			t.Run("MISSING_TOKEN when the session is rejected after a re-login", func(t *testing.T) {
				w := setup(t)
				event := a.event(t, w)
				mustInject(t, w.org, sforg.Fault{Route: a.route, Kind: sforg.FaultSessionExpired})
				wantError(t, invoke(t, a.h(w.conn), event), faults.MissingToken, "")
			})
			t.Run("CONNECTION_ERROR when the org is down", func(t *testing.T) {
				w := setup(t)
				event := a.event(t, w)
				w.org.Close()
				wantError(t, invoke(t, a.h(w.coldStart()), event), faults.ConnectionError, "refused")
			})
			t.Run("REQUEST_TIMEOUT before the invocation's deadline", func(t *testing.T) {
				// A margin of a second before a 3s deadline: the answer must come
				// inside it however busy the machine is (50ms was seen to be
				// overrun under a load of 13 on two cores).
				w := setup(t, func(o *salesforce.Options, _ map[string]string) { o.DeadlineMargin = time.Second })
				event := a.event(t, w)
				mustInject(t, w.org, sforg.Fault{Route: a.route, Kind: sforg.FaultLatency, Delay: 10 * time.Second, Times: 1})
				ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
				defer cancel()
				r := invokeCtx(ctx, t, a.h(w.conn), event)
				wantError(t, r, faults.RequestTimeout, "")
				if ctx.Err() != nil {
					t.Errorf("got the answer after the deadline, want it before")
				}
			})
			t.Run("503 answers", func(t *testing.T) {
				w := setup(t)
				event := a.event(t, w)
				mustInject(t, w.org, sforg.Fault{Route: a.route, Kind: sforg.FaultStatus, Status: 503, HTML: true})
				r := invoke(t, a.h(w.conn), event)
				if a.post {
					wantError(t, r, faults.UnknownError, "not retried")
					if got := w.org.Requests(a.route); got != 1+requestsBefore(a) {
						t.Errorf("got %d requests to %s, want the POST sent once", got, a.route)
					}
					return
				}
				wantError(t, r, faults.CircuitBreakerOpen, "503 after 3 attempts")
			})
		})
	}
}

// requestsBefore counts the calls an action's event set-up makes on its route.
func requestsBefore(a action) int {
	switch a.name {
	case "APPROVAL_SUBMIT":
		return 0
	case "APPROVAL_APPROVE", "APPROVAL_REJECT":
		return 1
	}
	return 0
}

// TestBreakerFailsFast checks that an open breaker answers without a request.
func TestBreakerFailsFast(t *testing.T) {
	w := setup(t, func(o *salesforce.Options, _ map[string]string) { o.Transport.BreakerFailures = 2 })
	mustOK(t, invoke(t, w.conn.ApprovalList, `{}`), "200")
	mustInject(t, w.org, sforg.Fault{Route: "approvals", Kind: sforg.FaultStatus, Status: 503})
	wantError(t, invoke(t, w.conn.ApprovalList, `{}`), faults.CircuitBreakerOpen, "")
	w.org.ClearFaults()
	before := w.org.Requests("*")
	wantError(t, invoke(t, w.conn.ApprovalList, `{}`), faults.CircuitBreakerOpen, "circuit breaker is open")
	if got := w.org.Requests("*"); got != before {
		t.Errorf("got %d requests while the breaker is open, want none", got-before)
	}
}

// TestCreateNeverDuplicated drops the connection after the org committed a
// create: the connector must not replay it, and must say the outcome is unknown.
func TestCreateNeverDuplicated(t *testing.T) {
	w := setup(t)
	mustOK(t, invoke(t, w.conn.ApprovalList, `{}`), "200") // log in first
	mustInject(t, w.org, sforg.Fault{Route: sforg.RouteCreate, Kind: sforg.FaultDropAfter, Times: 1})
	r := invoke(t, w.conn.Create, `{"SObjectName":"Account","salesforcePayload":{"Name":"Once Only"}}`)
	wantError(t, r, faults.UnknownError, "outcome is unknown")
	q := invoke(t, w.conn.Query, `{"salesforceQuery":"SELECT Id FROM Account WHERE Name = 'Once Only'"}`)
	mustOK(t, q, "200")
	if got := field(t, q, "totalSize"); got != 1.0 {
		t.Errorf("got %v records, want exactly 1", got)
	}
}

// TestLogs checks the one structured line per invocation: what it carries, and
// that no credential or token reaches it, on success and on failure.
func TestLogs(t *testing.T) {
	w := setup(t)
	mustOK(t, invoke(t, w.conn.ApprovalList, `{}`), "200")
	mustInject(t, w.org, sforg.Fault{Route: sforg.RouteToken, Kind: sforg.FaultLoginFailure})
	w.org.ExpireSessions()
	wantError(t, invoke(t, w.conn.ApprovalList, `{}`), faults.MissingToken, "")
	var invokes []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(w.logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q is not JSON", line)
		}
		if m["msg"] == "invoke" || m["msg"] == "invoke failed" {
			invokes = append(invokes, m)
		}
	}
	if len(invokes) != 2 {
		t.Fatalf("got %d invoke lines, want 2", len(invokes))
	}
	for _, key := range []string{"action", "durationMs", "attempts", "login"} {
		if _, ok := invokes[0][key]; !ok {
			t.Errorf("log line %v has no %q", invokes[0], key)
		}
	}
	if invokes[0]["status"] != "200" || invokes[0]["login"] != true || invokes[1]["errorType"] != "MISSING_TOKEN" {
		t.Errorf("got %v and %v, want a 200 with a login, then MISSING_TOKEN", invokes[0], invokes[1])
	}
	settings := w.org.Settings()
	for _, key := range []string{"SALESFORCE_PASSWORD", "SALESFORCE_SECURITY_TOKEN", "SALESFORCE_CLIENT_SECRET"} {
		if strings.Contains(w.logs.String(), settings[key]) {
			t.Errorf("logs hold %s", key)
		}
	}
	if strings.Contains(w.logs.String(), "00D") && strings.Contains(w.logs.String(), "!") {
		t.Errorf("logs may hold an access token: %s", w.logs.String())
	}
}

func mustInject(t *testing.T, org *sforg.Server, f sforg.Fault) {
	t.Helper()
	if err := org.Inject(f); err != nil {
		t.Fatal(err)
	}
}

func wantError(t *testing.T, r result, code faults.Code, text string) {
	t.Helper()
	if r.ErrorType != string(code) || !strings.Contains(r.ErrorMessage, text) {
		t.Errorf("got %q %q (status %q), want %q containing %q", r.ErrorType, r.ErrorMessage, r.SalesforceStatus, code, text)
	}
}
