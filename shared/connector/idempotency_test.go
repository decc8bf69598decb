package connector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/sfconnect/connector/local/moto"
	"github.com/sfconnect/connector/sforg"
	"github.com/sfconnect/connector/shared/faults"
	"github.com/sfconnect/connector/shared/ledger"
	"github.com/sfconnect/connector/shared/salesforce"
)

// apiVersion sets the API version the connector logs in with. The org's
// settings name 45.0; Salesforce honours Idempotency-Key from 56.0.
func apiVersion(v string) func(*salesforce.Options, map[string]string) {
	return func(_ *salesforce.Options, s map[string]string) { s["SALESFORCE_VERSION"] = v }
}

// withKey returns event with idempotencyKey set.
func withKey(t *testing.T, event, key string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(event), &m); err != nil {
		t.Fatal(err)
	}
	m["idempotencyKey"] = key
	return jsonEvent(t, m)
}

// setLedger gives w's connector a ledger on a new table of the moto at
// endpoint.
func setLedger(t *testing.T, w *world, endpoint string) {
	t.Helper()
	client := moto.DynamoDB(endpoint)
	table := moto.NewTable(t, client, "ledger", ledger.AttrKey, ledger.AttrExpiry)
	w.conn.ledger = ledger.New(client, ledger.Options{Table: table, Logger: w.opts.Logger})
}

// environment is a new execution environment of w: no session, no pooled
// connection, the same ledger.
func (w *world) environment() *Connector {
	c := w.coldStart()
	c.ledger = w.conn.ledger
	return c
}

// config is one way a deployment is protected.
type config struct {
	name    string
	version string
	ledger  bool
	// protects lists the writes a key makes exactly-once in it.
	protects []string
}

var allWrites = []string{"CREATE", "UPDATE", "DELETE", "UPSERT", "APPROVAL_SUBMIT", "APPROVAL_APPROVE", "APPROVAL_REJECT", "CUSTOM_OBJECT_CREATE"}

// world is an org and a connector configured as cfg says, the ledger on the
// moto at endpoint.
func (cfg config) world(t *testing.T, endpoint string) *world {
	t.Helper()
	w := setup(t, apiVersion(cfg.version))
	if cfg.ledger {
		setLedger(t, w, endpoint)
	}
	return w
}

func configs() []config {
	return []config{
		{"Salesforce's key, no ledger", "66.0", false, []string{"CREATE", "UPDATE", "DELETE"}},
		{"ledger and Salesforce's key", "66.0", true, allWrites},
		{"ledger, API 45.0", "45.0", true, allWrites},
	}
}

// once is how a test sees that a write happened exactly once: after the
// first invoke it may tamper with what the write made, and check reports
// what shows a second change ("" when none).
type onceCheck struct {
	after func(t *testing.T, w *world, event string)
	check func(t *testing.T, w *world, event string) string
}

// rowsOf checks that object has want rows (those whose field is value, when
// field is not "").
func rowsOf(object, field string, value any, want int) func(*testing.T, *world, string) string {
	return func(t *testing.T, w *world, _ string) string {
		n := w.org.Store().Count(object)
		if field != "" {
			n = len(w.org.Store().FindBy(object, field, value))
		}
		if n != want {
			return fmt.Sprintf("got %d %s records, want %d", n, object, want)
		}
		return ""
	}
}

// tamper sets the record's Name behind the connector's back; a write that ran
// again would set it back.
func tamper(object string, id func(event string) string) onceCheck {
	return onceCheck{
		after: func(t *testing.T, w *world, event string) {
			if err := w.org.Store().Update(object, id(event), map[string]any{"Name": "tampered"}); err != nil {
				t.Fatal(err)
			}
		},
		check: func(t *testing.T, w *world, event string) string {
			_, rec, err := w.org.Store().Get(object, id(event), []string{"Name"})
			if err != nil {
				t.Fatal(err)
			}
			if rec["Name"] != "tampered" {
				return fmt.Sprintf("the write ran again: Name is %q", rec["Name"])
			}
			return ""
		},
	}
}

func eventField(name string) func(string) string {
	return func(event string) string {
		var m map[string]any
		_ = json.Unmarshal([]byte(event), &m)
		s, _ := m[name].(string)
		return s
	}
}

// onceChecks shows, for each write, that it happened once.
func onceChecks(t *testing.T) map[string]onceCheck {
	steps := func(status string) func(*testing.T, *world, string) string {
		return rowsOf("ProcessInstanceStep", "StepStatus", status, 1)
	}
	invoiceID := func(w *world) func(string) string {
		return func(string) string {
			ids := w.org.Store().FindBy("Invoice__c", "Invoice_Number__c", "INV-0001")
			if len(ids) != 1 {
				t.Fatalf("got %d invoices, want 1", len(ids))
			}
			return ids[0]
		}
	}
	return map[string]onceCheck{
		"CREATE": {check: rowsOf("Account", "", nil, 1)},
		"UPDATE": tamper("Account", eventField("SObjectId")),
		"DELETE": {check: rowsOf("Account", "", nil, 0)},
		"UPSERT": {
			after: func(t *testing.T, w *world, event string) { tamper("Invoice__c", invoiceID(w)).after(t, w, event) },
			check: func(t *testing.T, w *world, event string) string {
				return tamper("Invoice__c", invoiceID(w)).check(t, w, event)
			},
		},
		"APPROVAL_SUBMIT":  {check: rowsOf("ProcessInstance", "", nil, 1)},
		"APPROVAL_APPROVE": {check: steps("Approved")},
		"APPROVAL_REJECT":  {check: steps("Rejected")},
		"CUSTOM_OBJECT_CREATE": {check: func(t *testing.T, w *world, _ string) string {
			if _, ok := w.org.Store().Object("Invoice__c"); !ok {
				return "no Invoice__c object"
			}
			return ""
		}},
	}
}

// confirm runs the check of a write that succeeded: it tampers with what the
// write made, repeats the write once more and checks that nothing changed.
func (oc onceCheck) confirm(t *testing.T, w *world, h handler, event string, want result) {
	t.Helper()
	if oc.after != nil {
		oc.after(t, w, event)
	}
	if again := invoke(t, h, event); again.ErrorType != "" || answerOf(again) != answerOf(want) {
		t.Errorf("repeat: got %q %q %q, want %q", again.ErrorType, again.ErrorMessage, answerOf(again), answerOf(want))
	}
	if problem := oc.check(t, w, event); problem != "" {
		t.Error(problem)
	}
}

// answerOf is what must be the same in every repeat: the status and the
// result (salesforceApiUsage is the org's usage at the time of each repeat;
// the local org ends its JSON bodies with a newline).
func answerOf(r result) string {
	return r.SalesforceStatus + " " + strings.TrimSpace(r.SalesforceResult)
}

// TestRepeatedKeyMakesOneChange invokes each write with one key three times in
// a row, and twenty times at once, in each configuration that protects it:
// one change, and every answer the same (or, while the first runs,
// REQUEST_TIMEOUT saying so).
func TestRepeatedKeyMakesOneChange(t *testing.T) {
	endpoint := moto.StartSerialTest(t) // conditional writes counted: see moto.StartSerialTest
	events := testEvents()
	checks := onceChecks(t)
	for _, cfg := range configs() {
		t.Run(cfg.name, func(t *testing.T) {
			for _, name := range cfg.protects {
				a := *actionOf(functionOf(name))
				t.Run(name+" sequential", func(t *testing.T) {
					w := cfg.world(t, endpoint)
					event := withKey(t, events[name].event(t, w), "order-42/"+name)
					first := invoke(t, w.conn.Handler(a), event)
					mustOK(t, first, success[name])
					for i := range 2 {
						again := invoke(t, w.environment().Handler(a), event)
						if answerOf(again) != answerOf(first) || again.ErrorType != "" {
							t.Errorf("repeat %d: got %q %q %q, want %q", i+1, again.ErrorType, again.ErrorMessage, answerOf(again), answerOf(first))
						}
					}
					checks[name].confirm(t, w, w.environment().Handler(a), event, first)
				})
				t.Run(name+" 20 at once", func(t *testing.T) {
					w := cfg.world(t, endpoint)
					event := withKey(t, events[name].event(t, w), "order-43/"+name)
					envs := make([]*Connector, 20)
					for i := range envs {
						envs[i] = w.environment()
					}
					results := make([]result, len(envs))
					var wg sync.WaitGroup
					for i, c := range envs {
						wg.Go(func() { results[i] = invoke(t, c.Handler(a), event) })
					}
					wg.Wait()
					final := invoke(t, w.environment().Handler(a), event)
					mustOK(t, final, success[name])
					for i, r := range results {
						switch {
						case r.ErrorType == string(faults.RequestTimeout) && strings.Contains(r.ErrorMessage, "still running"):
						case r.ErrorType == "" && answerOf(r) == answerOf(final):
						default:
							t.Errorf("invocation %d: got %q %q %q, want %q or REQUEST_TIMEOUT while the first runs", i, r.ErrorType, r.ErrorMessage, answerOf(r), answerOf(final))
						}
					}
					checks[name].confirm(t, w, w.environment().Handler(a), event, final)
				})
			}
		})
	}
}

// functionOf is the function of an action.
func functionOf(action string) string {
	for _, a := range Actions() {
		if a.Name == action {
			return a.Function
		}
	}
	return ""
}

// routeOf is the org route a keyed write calls in a configuration.
func routeOf(action string, cfg config) string {
	if cfg.version >= "56.0" {
		switch action {
		case "CREATE":
			return sforg.RouteUIRecordCreate
		case "UPDATE":
			return sforg.RouteUIRecordUpdate
		case "DELETE":
			return sforg.RouteUIRecordDelete
		}
	}
	return testEvents()[action].route
}

// TestDropAfterCommitThenRetry drops the connection after the org did each
// write, then retries the whole invocation with the same key, as a workflow's
// Retry does: one change, and the retry answers what the write did. The
// exceptions: an UPSERT that the transport sent again in one invocation
// answers as an update; a CREATE that neither Salesforce's key nor a look-up can
// protect (API 45.0): it is never sent again and stays UNKNOWN_ERROR.
func TestDropAfterCommitThenRetry(t *testing.T) {
	endpoint := moto.StartSerialTest(t)
	events := testEvents()
	checks := onceChecks(t)
	for _, cfg := range configs() {
		t.Run(cfg.name, func(t *testing.T) {
			for _, name := range cfg.protects {
				a := *actionOf(functionOf(name))
				t.Run(name, func(t *testing.T) {
					w := cfg.world(t, endpoint)
					event := withKey(t, events[name].event(t, w), "order-44/"+name)
					mustInject(t, w.org, sforg.Fault{Route: routeOf(name, cfg), Kind: sforg.FaultDropAfter, Times: 1})
					var r result
					for attempt := range 3 {
						r = invoke(t, w.environment().Handler(a), event)
						if r.ErrorType == "" {
							break
						}
						if r.ErrorType != string(faults.UnknownError) || !strings.Contains(r.ErrorMessage, "outcome is unknown") {
							t.Fatalf("attempt %d: got %q %q, want UNKNOWN_ERROR saying the outcome is unknown", attempt+1, r.ErrorType, r.ErrorMessage)
						}
					}
					switch {
					case name == "CREATE" && cfg.version < "56.0":
						wantError(t, r, faults.UnknownError, "not sent again")
						if problem := checks[name].check(t, w, event); problem != "" {
							t.Error(problem)
						}
						return
					case name == "UPSERT":
						// Sent again in the same invocation, it updates the
						// record the dropped attempt inserted.
						if r.ErrorType != "" || !strings.HasPrefix(r.SalesforceStatus, "20") {
							t.Fatalf("got %q %q %q, want a 2xx answer", r.ErrorType, r.ErrorMessage, answerOf(r))
						}
					default:
						mustOK(t, r, success[name])
					}
					checks[name].confirm(t, w, w.environment().Handler(a), event, r)
				})
			}
		})
	}
}

// TestSameKeyOtherInput: a key used again for another input is INVALID_INPUT
// naming the key, and nothing changes; with the ledger nothing is even sent.
func TestSameKeyOtherInput(t *testing.T) {
	endpoint := moto.StartSerialTest(t)
	for _, cfg := range configs()[:2] {
		t.Run(cfg.name, func(t *testing.T) {
			w := cfg.world(t, endpoint)
			first := `{"SObjectName":"Account","salesforcePayload":{"Name":"Acme"},"idempotencyKey":"invoice 7"}`
			mustOK(t, invoke(t, w.conn.Create, first), "201")
			before := w.org.Requests("*")
			r := invoke(t, w.conn.Create, `{"SObjectName":"Account","salesforcePayload":{"Name":"Globex"},"idempotencyKey":"invoice 7"}`)
			wantError(t, r, faults.InvalidInput, `idempotencyKey "invoice 7" was used before with a different input`)
			if got := w.org.Store().Count("Account"); got != 1 {
				t.Errorf("got %d accounts, want 1", got)
			}
			if sent := w.org.Requests("*") - before; cfg.ledger && sent != 0 {
				t.Errorf("got %d requests, want none", sent)
			}
			// The same input in another form is the same input.
			mustOK(t, invoke(t, w.conn.Create, `{"idempotencyKey":"invoice 7","salesforcePayload":"{\"Name\": \"Acme\"}","SObjectName":"Account"}`), "201")
		})
	}
}

// TestEventBridgeDeliveredTwice: the event's id is the key, unless the detail
// names one.
func TestEventBridgeDeliveredTwice(t *testing.T) {
	endpoint := moto.StartSerialTest(t)
	for _, cfg := range configs()[:2] {
		t.Run(cfg.name, func(t *testing.T) {
			w := cfg.world(t, endpoint)
			event := `{"version":"0","id":"1b4c7e4e-3f0a-4d5c-9a51-6f8e2b1d0c01","detail-type":"Salesforce Create","source":"my.app",` +
				`"time":"2026-11-28T12:00:00Z","detail":{"SObjectName":"Account","salesforcePayload":{"Name":"Acme"}}}`
			first := invoke(t, w.conn.Create, event)
			mustOK(t, first, "201")
			again := invoke(t, w.environment().Create, strings.Replace(event, "12:00:00Z", "12:01:00Z", 1))
			if answerOf(again) != answerOf(first) {
				t.Errorf("got %q, want %q", answerOf(again), answerOf(first))
			}
			if got := w.org.Store().Count("Account"); got != 1 {
				t.Errorf("got %d accounts, want 1", got)
			}
			// A new event (a new id) is a new write; the detail's key wins.
			mustOK(t, invoke(t, w.conn.Create, strings.Replace(event, "0c01", "0c02", 1)), "201")
			detailKey := strings.Replace(event, `"detail":{`, `"detail":{"idempotencyKey":"order-1",`, 1)
			mustOK(t, invoke(t, w.conn.Create, detailKey), "201")
			mustOK(t, invoke(t, w.conn.Create, strings.Replace(detailKey, "0c01", "0c03", 1)), "201")
			if got := w.org.Store().Count("Account"); got != 3 {
				t.Errorf("got %d accounts, want 3", got)
			}
		})
	}
}

// TestIdempotencyKeyInput checks the key's form: 1 to 255 printable ASCII
// characters; reads take no key.
func TestIdempotencyKeyInput(t *testing.T) {
	w := setup(t, apiVersion("66.0"))
	tests := []struct {
		name, key string
		ok        bool
	}{
		{"255 characters", `"` + strings.Repeat("k", 255) + `"`, true},
		{"spaces and punctuation", `"arn:aws:states:us-east-1:123456789012:execution:sm:run-1/CreateAccount #1"`, true},
		{"null", `null`, true},
		{"empty", `""`, false},
		{"256 characters", `"` + strings.Repeat("k", 256) + `"`, false},
		{"not ASCII", `"clé"`, false},
		{"a control character", `"a\tb"`, false},
		{"a number", `42`, false},
		{"an object", `{"id":1}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := invoke(t, w.conn.Create, `{"SObjectName":"Account","salesforcePayload":{"Name":"A"},"idempotencyKey":`+tt.key+`}`)
			if tt.ok {
				mustOK(t, r, "201")
				return
			}
			wantError(t, r, faults.InvalidInput, "idempotencyKey must be a string of 1 to 255 printable ASCII characters")
		})
	}
	t.Run("ignored by reads", func(t *testing.T) {
		mustOK(t, invoke(t, w.conn.Query, `{"salesforceQuery":"SELECT Id FROM Account","idempotencyKey":""}`), "200")
	})
}

// TestSalesforceKeyShape: the Idempotency-Key is a version 4 UUID, the same
// for the same function, action and key, and another for another action.
func TestSalesforceKeyShape(t *testing.T) {
	uuid4 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	a, b, c := newKey("CREATE", "k", false), newKey("CREATE", "k", true), newKey("UPDATE", "k", false)
	if !uuid4.MatchString(a.header()) {
		t.Errorf("got %q, want a version 4 UUID", a.header())
	}
	if a.header() != b.header() || a.ledgerID() != b.ledgerID() {
		t.Errorf("got %q and %q for one key, want the same", a.header(), b.header())
	}
	if a.header() == c.header() || a.ledgerID() == c.ledgerID() {
		t.Errorf("got %q for CREATE and UPDATE, want two keys", a.header())
	}
}

// TestKeyedRefusalsKeepTheirShape: Salesforce's refusals of a keyed write
// (through the UI API) read as those of the same write without a key: the
// sObject error array, the same status.
func TestKeyedRefusalsKeepTheirShape(t *testing.T) {
	w := setup(t, apiVersion("66.0"))
	id := insertAccount(t, w)
	missing := "001000000000000AAA"
	tests := []struct {
		name  string
		h     handler
		event string
	}{
		{"create without a required field", w.conn.Create, `{"SObjectName":"Account","salesforcePayload":{"Industry":"Energy"}}`},
		{"create with a value too long", w.conn.Create, `{"SObjectName":"Account","salesforcePayload":{"Name":"` + strings.Repeat("n", 300) + `"}}`},
		{"update of a record that does not exist", w.conn.Update, `{"SObjectName":"Account","SObjectId":"` + missing + `","salesforcePayload":{"Name":"B"}}`},
		{"update clearing a required field", w.conn.Update, `{"SObjectName":"Account","SObjectId":"` + id + `","salesforcePayload":{"Name":null}}`},
		{"delete of a record that does not exist", w.conn.Delete, `{"SObjectName":"Account","SObjectId":"` + missing + `"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plain := invoke(t, tt.h, tt.event)
			keyed := invoke(t, tt.h, withKey(t, tt.event, "refusal "+tt.name))
			if plain.ErrorType != "" || keyed.ErrorType != "" {
				t.Fatalf("got errors %q %q and %q %q, want answers", plain.ErrorType, plain.ErrorMessage, keyed.ErrorType, keyed.ErrorMessage)
			}
			if answerOf(keyed) != answerOf(plain) {
				t.Errorf("got %q, want %q", answerOf(keyed), answerOf(plain))
			}
		})
	}
}

// newAccount creates an Account in the org directly.
func insertAccount(t *testing.T, w *world) string {
	t.Helper()
	id, err := w.org.Store().Insert("Account", map[string]any{"Name": "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestInProgressAndUnavailableLedger: a repeat while another invocation holds
// the key is REQUEST_TIMEOUT with the wait; a ledger that cannot be written
// is CONNECTION_ERROR, and nothing is sent either way.
func TestInProgressAndUnavailableLedger(t *testing.T) {
	endpoint := moto.StartSerialTest(t)
	w := setup(t, apiVersion("66.0"))
	setLedger(t, w, endpoint)
	event := `{"SObjectName":"Account","salesforcePayload":{"Name":"Acme"},"idempotencyKey":"held"}`
	in, err := decode([]byte(event))
	if err != nil {
		t.Fatal(err)
	}
	k := newKey("CREATE", "held", false)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if _, err := w.conn.ledger.Begin(ctx, k.ledgerID(), in.fingerprint("CREATE")); err != nil {
		t.Fatal(err)
	}
	before := w.org.Requests("*")
	r := invoke(t, w.conn.Create, event)
	wantError(t, r, faults.RequestTimeout, `idempotencyKey "held": an earlier invocation with this key is still running (for at most 30s more)`)

	c := w.environment()
	c.ledger = ledger.New(refusing{}, ledger.Options{Table: "t"})
	wantError(t, invoke(t, c.Create, withKey(t, event, "other")), faults.ConnectionError, "the idempotency table cannot be used; nothing was sent")
	if got := w.org.Requests("*") - before; got != 0 {
		t.Errorf("got %d requests, want none", got)
	}
}

type refusing struct{}

func (refusing) UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return nil, errors.New("connection refused")
}

// TestKeyedLogLine: the invoke line says what protected the write, whether
// the ledger answered it, and names the key by a hash, never as given.
func TestKeyedLogLine(t *testing.T) {
	endpoint := moto.StartSerialTest(t)
	w := setup(t, apiVersion("66.0"))
	setLedger(t, w, endpoint)
	event := `{"SObjectName":"Account","salesforcePayload":{"Name":"A"},"idempotencyKey":"secret-order-77"}`
	mustOK(t, invoke(t, w.conn.Create, event), "201")
	if strings.Contains(w.logs.String(), "idempotencyReplayed") {
		t.Errorf("got a first write logged as replayed: %s", w.logs.String())
	}
	mustOK(t, invoke(t, w.conn.Create, event), "201")
	logs := w.logs.String()
	if !strings.Contains(logs, `"idempotencyReplayed":true`) {
		t.Errorf("got %s, want the repeat logged as replayed", logs)
	}
	if strings.Contains(logs, "secret-order-77") {
		t.Errorf("the log holds the key: %s", logs)
	}
	if !strings.Contains(logs, `"idempotency":"ledger+salesforce"`) || !strings.Contains(logs, `"idempotencyKeyHash":"`) {
		t.Errorf("got %s, want the invoke line to say ledger+salesforce and the key's hash", logs)
	}
}

// TestLateFirstAttemptFoundAfterRefusal: the earlier attempt of a submission
// reaches Salesforce only after the look-up that follows its unknown outcome
// (it was still on its way); Salesforce refuses the resend (ALREADY_IN_PROCESS)
// and the connector looks again: the answer is the submission, and there is one.
func TestLateFirstAttemptFoundAfterRefusal(t *testing.T) {
	endpoint := moto.StartSerialTest(t)
	org := sforg.New(sforg.Options{})
	account, err := org.Store().Insert("Account", map[string]any{"Name": "Late"})
	if err != nil {
		t.Fatal(err)
	}
	submit := `{"requests":[{"actionType":"Submit","contextId":"` + account + `"}]}`
	var late sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		org.ServeHTTP(w, r)
		if r.Method == http.MethodGet && strings.Contains(r.URL.RawQuery, "ProcessInstance") {
			// The earlier attempt arrives now, after the look-up found nothing.
			late.Do(func() {
				req := httptest.NewRequest(http.MethodPost, "/services/data/v66.0/process/approvals/", strings.NewReader(submit))
				req.Header.Set("Authorization", r.Header.Get("Authorization"))
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				org.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					t.Errorf("the late submission: got %d %s", rec.Code, rec.Body)
				}
			})
		}
	}))
	t.Cleanup(srv.Close)
	org.URL = srv.URL
	settings := org.Settings()
	settings["SALESFORCE_VERSION"] = "66.0"
	logs := &syncBuffer{}
	opts := quickOptions(slog.New(slog.NewJSONHandler(logs, nil)))
	opts.Credentials = settingsSource(settings)
	w := newWorld(org, opts, logs)
	setLedger(t, w, endpoint)

	event := `{"salesforcePayload":{"contextId":"` + account + `"},"idempotencyKey":"late"}`
	in, err := decode([]byte(event))
	if err != nil {
		t.Fatal(err)
	}
	// The earlier attempt: its outcome unknown.
	k := newKey("APPROVAL_SUBMIT", "late", false)
	b, err := w.conn.ledger.Begin(t.Context(), k.ledgerID(), in.fingerprint("APPROVAL_SUBMIT"))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Claim.Release(t.Context(), true); err != nil {
		t.Fatal(err)
	}
	r := invoke(t, w.conn.ApprovalSubmit, event)
	mustOK(t, r, "200")
	instances := org.Store().FindBy("ProcessInstance", "TargetObjectId", account)
	if len(instances) != 1 {
		t.Fatalf("got %d submissions, want 1", len(instances))
	}
	if !strings.Contains(r.SalesforceResult, `"instanceId":"`+instances[0]+`"`) || processResults(t, r)[0].InstanceStatus != "Pending" {
		t.Errorf("got %s, want the Pending instance %s", r.SalesforceResult, instances[0])
	}
}
