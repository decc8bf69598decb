package connector

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/sfconnect/connector/sforg"
	"github.com/sfconnect/connector/shared/faults"
	"github.com/sfconnect/connector/shared/salesforce"
)

// recordResult is one per-record result of a COLLECTION output.
type recordResult struct {
	ID      string `json:"id"`
	Success bool   `json:"success"`
	Created *bool  `json:"created"`
	Errors  []struct {
		StatusCode string `json:"statusCode"`
	} `json:"errors"`
}

func (r recordResult) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	return r.Errors[0].StatusCode
}

// recordResults reads the per-record results of a COLLECTION output.
func recordResults(t *testing.T, r result) []recordResult {
	t.Helper()
	var out []recordResult
	if err := json.Unmarshal([]byte(r.SalesforceResult), &out); err != nil {
		t.Fatalf("got %q, want a list of record results", r.SalesforceResult)
	}
	return out
}

// wantTally checks the counts of an output.
func wantTally(t *testing.T, r result, success, failure, collateral int) {
	t.Helper()
	if r.Tally == nil {
		t.Fatalf("got no counts in %+v", r.Output)
	}
	got := []int{r.SuccessCount, r.FailureCount, -1}
	switch {
	case r.RolledBackCount != nil:
		got[2] = *r.RolledBackCount
	case r.HaltedCount != nil:
		got[2] = *r.HaltedCount
	}
	if want := []int{success, failure, collateral}; got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("got success/failure/collateral %v, want %v: %s", got, want, r.SalesforceResult)
	}
}

// collectionEvent is a COLLECTION event.
func collectionEvent(t *testing.T, op, object string, allOrNone bool, records ...map[string]any) string {
	t.Helper()
	e := map[string]any{"operation": op, "salesforcePayload": records, "allOrNone": allOrNone}
	if object != "" {
		e["SObjectName"] = object
	}
	if op == "upsert" {
		e["externalIdField"] = "Invoice_Number__c"
	}
	return jsonEvent(t, e)
}

func insert(t *testing.T, org *sforg.Server, object string, fields map[string]any) string {
	t.Helper()
	id, err := org.Store().Insert(object, fields)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestCollectionOperations runs every operation against the org: all records
// written; a partial failure (allOrNone false: the others are written); and
// allOrNone true, where the failure rolls every record back and the others
// report ALL_OR_NONE_OPERATION_ROLLED_BACK.
func TestCollectionOperations(t *testing.T) {
	type outcome struct {
		codes                       []string // per record: "" for a success
		success, failure, rolledBck int
	}
	tests := []struct {
		name  string
		event func(t *testing.T, w *world, allOrNone bool) string
		// check looks at the org after the call; written says whether the
		// records that could be written were.
		check func(t *testing.T, w *world, written bool)
		all   outcome // every record valid
		part  outcome // one record fails, allOrNone false
		none  outcome // one record fails, allOrNone true
	}{
		{
			name: "create",
			event: func(t *testing.T, w *world, allOrNone bool) string {
				return collectionEvent(t, "create", "Account", allOrNone,
					map[string]any{"Name": "Create One"}, map[string]any{"Industry": "Energy"}, map[string]any{"Name": "Create Three", "attributes": map[string]any{"type": "account"}})
			},
			check: func(t *testing.T, w *world, written bool) {
				if got, want := w.org.Store().Count("Account"), map[bool]int{true: 2, false: 0}[written]; got != want {
					t.Errorf("got %d accounts, want %d", got, want)
				}
			},
			part: outcome{[]string{"", "REQUIRED_FIELD_MISSING", ""}, 2, 1, 0},
			none: outcome{[]string{"ALL_OR_NONE_OPERATION_ROLLED_BACK", "REQUIRED_FIELD_MISSING", "ALL_OR_NONE_OPERATION_ROLLED_BACK"}, 0, 3, 2},
		},
		{
			name: "update",
			event: func(t *testing.T, w *world, allOrNone bool) string {
				a := insert(t, w.org, "Account", map[string]any{"Name": "Before A"})
				gone := insert(t, w.org, "Account", map[string]any{"Name": "Gone"})
				if err := w.org.Store().Delete("Account", gone); err != nil {
					t.Fatal(err)
				}
				b := insert(t, w.org, "Account", map[string]any{"Name": "Before B"})
				return collectionEvent(t, "update", "Account", allOrNone,
					map[string]any{"Id": a, "Name": "After A"}, map[string]any{"id": gone, "Name": "After"}, map[string]any{"ID": b[:15], "Name": "After B"})
			},
			check: func(t *testing.T, w *world, written bool) {
				q, err := w.org.Store().Query("SELECT Name FROM Account WHERE Name LIKE 'After%'", false)
				if err != nil {
					t.Fatal(err)
				}
				if got, want := q.TotalSize, map[bool]int{true: 2, false: 0}[written]; got != want {
					t.Errorf("got %d accounts updated, want %d", got, want)
				}
			},
			part: outcome{[]string{"", "ENTITY_IS_DELETED", ""}, 2, 1, 0},
			none: outcome{[]string{"ALL_OR_NONE_OPERATION_ROLLED_BACK", "ENTITY_IS_DELETED", "ALL_OR_NONE_OPERATION_ROLLED_BACK"}, 0, 3, 2},
		},
		{
			name: "upsert",
			event: func(t *testing.T, w *world, allOrNone bool) string {
				defineInvoice(t, w.org)
				insert(t, w.org, "Invoice__c", map[string]any{"Name": "Old", "Invoice_Number__c": "INV-1"})
				return collectionEvent(t, "upsert", "Invoice__c", allOrNone,
					map[string]any{"Invoice_Number__c": "INV-1", "Name": "Updated"},
					map[string]any{"Invoice_Number__c": "INV-2", "Name": "Twice"},
					map[string]any{"invoice_number__c": "INV-3", "Name": "New", "Amount__c": 10},
					map[string]any{"Invoice_Number__c": "inv-2", "Name": "Twice again"})
			},
			check: func(t *testing.T, w *world, written bool) {
				ids, _ := w.org.Store().FindByExternal("Invoice__c", "Invoice_Number__c", "INV-3")
				if got := len(ids) == 1; got != written {
					t.Errorf("INV-3 inserted: got %v, want %v", got, written)
				}
			},
			// INV-2 appears twice: both fail; INV-1 is updated, INV-3 inserted.
			part: outcome{[]string{"", "DUPLICATE_VALUE", "", "DUPLICATE_VALUE"}, 2, 2, 0},
			none: outcome{[]string{"ALL_OR_NONE_OPERATION_ROLLED_BACK", "DUPLICATE_VALUE", "ALL_OR_NONE_OPERATION_ROLLED_BACK", "DUPLICATE_VALUE"}, 0, 4, 2},
		},
		{
			name: "delete",
			event: func(t *testing.T, w *world, allOrNone bool) string {
				a := insert(t, w.org, "Account", map[string]any{"Name": "Delete A"})
				gone := insert(t, w.org, "Account", map[string]any{"Name": "Gone"})
				if err := w.org.Store().Delete("Account", gone); err != nil {
					t.Fatal(err)
				}
				b := insert(t, w.org, "Account", map[string]any{"Name": "Delete B"})
				return collectionEvent(t, "delete", "", allOrNone, map[string]any{"Id": a}, map[string]any{"Id": gone}, map[string]any{"id": b})
			},
			check: func(t *testing.T, w *world, written bool) {
				if got, want := w.org.Store().Count("Account"), map[bool]int{true: 0, false: 2}[written]; got != want {
					t.Errorf("got %d accounts left, want %d", got, want)
				}
			},
			part: outcome{[]string{"", "ENTITY_IS_DELETED", ""}, 2, 1, 0},
			none: outcome{[]string{"ALL_OR_NONE_OPERATION_ROLLED_BACK", "ENTITY_IS_DELETED", "ALL_OR_NONE_OPERATION_ROLLED_BACK"}, 0, 3, 2},
		},
	}
	for _, tt := range tests {
		for _, mode := range []struct {
			name      string
			allOrNone bool
			want      func() outcome
			written   bool
		}{
			{"partial failure", false, func() outcome { return tt.part }, true},
			{"allOrNone rolled back", true, func() outcome { return tt.none }, false},
		} {
			t.Run(tt.name+"/"+mode.name, func(t *testing.T) {
				// API 50.0: collection upsert needs 46.0.
				w := setup(t, func(_ *salesforce.Options, s map[string]string) { s["SALESFORCE_VERSION"] = "50.0" })
				want := mode.want()
				r := invoke(t, w.conn.Collection, tt.event(t, w, mode.allOrNone))
				mustOK(t, r, "200")
				results := recordResults(t, r)
				if len(results) != len(want.codes) {
					t.Fatalf("got %d results, want %d: %s", len(results), len(want.codes), r.SalesforceResult)
				}
				for i, res := range results {
					if res.code() != want.codes[i] || res.Success != (want.codes[i] == "") {
						t.Errorf("record %d: got success %v %q, want %q", i, res.Success, res.code(), want.codes[i])
					}
				}
				wantTally(t, r, want.success, want.failure, want.rolledBck)
				tt.check(t, w, mode.written)
			})
		}
	}
}

// TestCollectionUpsertCreatedThenUpdated: the same upsert twice inserts, then
// updates the same records: created true, then false, never duplicates.
func TestCollectionUpsertCreatedThenUpdated(t *testing.T) {
	w := setup(t, func(_ *salesforce.Options, s map[string]string) { s["SALESFORCE_VERSION"] = "50.0" })
	defineInvoice(t, w.org)
	event := collectionEvent(t, "upsert", "Invoice__c", true,
		map[string]any{"Invoice_Number__c": "INV-10", "Name": "Ten"}, map[string]any{"Invoice_Number__c": 11, "Name": "Eleven"})
	for round, created := range []bool{true, false} {
		r := invoke(t, w.conn.Collection, event)
		mustOK(t, r, "200")
		wantTally(t, r, 2, 0, 0)
		for i, res := range recordResults(t, r) {
			if res.Created == nil || *res.Created != created {
				t.Errorf("round %d, record %d: got created %v, want %v", round+1, i, res.Created, created)
			}
		}
	}
	if n := w.org.Store().Count("Invoice__c"); n != 2 {
		t.Errorf("got %d invoices, want 2", n)
	}
}

// TestCollectionSentAsGiven checks what reaches Salesforce: attributes.type
// set from SObjectName (first, other attributes kept), the fields as given,
// the payload as a string holding the list, allOrNone as a string.
func TestCollectionSentAsGiven(t *testing.T) {
	w := setup(t)
	records := `[{"Name":"Str \"quoted\" <b>","NumberOfEmployees":7,"attributes":{"url":"/x","type":"Account"}},{"Name":"Two"}]`
	event := jsonEvent(t, map[string]any{"operation": "CREATE", "SObjectName": "Account", "allOrNone": "TRUE", "salesforcePayload": records})
	r := invoke(t, w.conn.Collection, event)
	mustOK(t, r, "200")
	wantTally(t, r, 2, 0, 0)
	results := recordResults(t, r)
	_, rec, err := w.org.Store().Get("Account", results[0].ID, nil)
	if err != nil || rec["Name"] != `Str "quoted" <b>` || rec["NumberOfEmployees"] != 7.0 {
		t.Errorf("got %v %v, want the fields as sent", rec, err)
	}

	call, err := (&input{Operation: json.RawMessage(`"create"`), SObjectName: json.RawMessage(`"Account"`),
		SalesforcePayload: json.RawMessage(records)}).collectionCall()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(call.records[0]), `{"attributes":{"type":"Account","url":"/x"},"Name":"Str \"quoted\" <b>","NumberOfEmployees":7}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// TestCollectionInputs: every shape the operation does not take is
// INVALID_INPUT (or MISSING_INPUT) with the reason, and nothing is sent.
func TestCollectionInputs(t *testing.T) {
	const id = "001D000000IqhSLIAZ"
	many := make([]map[string]any, 201)
	for i := range many {
		many[i] = map[string]any{"Name": "x"}
	}
	rec := func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	ev := func(kv ...any) map[string]any { return rec(kv...) }
	create := func(records ...any) map[string]any {
		return ev("operation", "create", "SObjectName", "Account", "salesforcePayload", records)
	}
	wantRefused(t, func(c *Connector) handler { return c.Collection }, []refusal{
		{"no operation", ev("SObjectName", "Account", "salesforcePayload", []any{rec("Name", "x")}), faults.MissingInput, "operation is required"},
		{"unknown operation", ev("operation", "merge", "SObjectName", "Account", "salesforcePayload", []any{rec("Name", "x")}), faults.InvalidInput, "not one of create, update, upsert, delete"},
		{"no SObjectName", ev("operation", "create", "salesforcePayload", []any{rec("Name", "x")}), faults.MissingInput, "SObjectName is required"},
		{"SObjectName with a path", ev("operation", "create", "SObjectName", "Account/../x", "salesforcePayload", []any{rec("Name", "x")}), faults.InvalidInput, "SObjectName"},
		{"no payload", ev("operation", "create", "SObjectName", "Account"), faults.MissingInput, "salesforcePayload is required"},
		{"payload an object", ev("operation", "create", "SObjectName", "Account", "salesforcePayload", rec("Name", "x")), faults.InvalidInput, "JSON array"},
		{"payload a string not holding a list", ev("operation", "create", "SObjectName", "Account", "salesforcePayload", `{"Name":"x"}`), faults.InvalidInput, "JSON array"},
		{"empty list", ev("operation", "create", "SObjectName", "Account", "salesforcePayload", []any{}), faults.MissingInput, "empty list"},
		{"201 records", ev("operation", "create", "SObjectName", "Account", "salesforcePayload", many), faults.InvalidInput, "201 records, more than the 200"},
		{"a record that is a string", create(rec("Name", "x"), "Name=y"), faults.InvalidInput, "salesforcePayload[1] must be a JSON object"},
		{"a record that is null", create(nil), faults.InvalidInput, "salesforcePayload[0] must be a JSON object"},
		{"a field twice in two cases", ev("operation", "create", "SObjectName", "Account", "salesforcePayload", `[{"Name":"a","name":"b"}]`), faults.InvalidInput, `salesforcePayload[0] names "name" twice`},
		{"create with an Id", create(rec("Name", "x"), rec("Id", id, "Name", "y")), faults.InvalidInput, "salesforcePayload[1] has an Id"},
		{"another type", create(rec("Name", "x", "attributes", rec("type", "Contact"))), faults.InvalidInput, `attributes.type "\"Contact\"", not SObjectName "Account"`},
		{"attributes not an object", create(rec("Name", "x", "attributes", "Account")), faults.InvalidInput, "attributes that are not a JSON object"},
		{"allOrNone a number", ev("operation", "create", "SObjectName", "Account", "allOrNone", 1, "salesforcePayload", []any{rec("Name", "x")}), faults.InvalidInput, "allOrNone must be true or false"},
		{"allOrNone yes", ev("operation", "create", "SObjectName", "Account", "allOrNone", "yes", "salesforcePayload", []any{rec("Name", "x")}), faults.InvalidInput, "allOrNone must be true or false"},
		{"externalIdField on a create", ev("operation", "create", "SObjectName", "Account", "externalIdField", "Ext__c", "salesforcePayload", []any{rec("Name", "x")}), faults.InvalidInput, "externalIdField is only for operation upsert"},
		{"update without an Id", ev("operation", "update", "SObjectName", "Account", "salesforcePayload", []any{rec("Id", id, "Name", "x"), rec("Name", "y")}), faults.InvalidInput, "salesforcePayload[1] has no Id"},
		{"update with a bad Id", ev("operation", "update", "SObjectName", "Account", "salesforcePayload", []any{rec("Id", "001D000000IqhSLIAA", "Name", "x")}), faults.InvalidInput, "not a 15- or 18-character Salesforce id"},
		{"update with an Id path", ev("operation", "update", "SObjectName", "Account", "salesforcePayload", []any{rec("Id", id+"/../x", "Name", "x")}), faults.InvalidInput, "salesforcePayload[0] has Id"},
		{"update with a numeric Id", ev("operation", "update", "SObjectName", "Account", "salesforcePayload", []any{rec("Id", 7, "Name", "x")}), faults.InvalidInput, `salesforcePayload[0] has Id "7"`},
		{"upsert without externalIdField", ev("operation", "upsert", "SObjectName", "Invoice__c", "salesforcePayload", []any{rec("Name", "x")}), faults.MissingInput, "externalIdField is required"},
		{"upsert by Id", ev("operation", "upsert", "SObjectName", "Invoice__c", "externalIdField", "Id", "salesforcePayload", []any{rec("Id", id)}), faults.InvalidInput, "not the record id"},
		{"upsert by a field with a path", ev("operation", "upsert", "SObjectName", "Invoice__c", "externalIdField", "Ext__c/../x", "salesforcePayload", []any{rec("Ext__c", "1")}), faults.InvalidInput, "externalIdField"},
		{"upsert record without the key", ev("operation", "upsert", "SObjectName", "Invoice__c", "externalIdField", "Ext__c", "salesforcePayload", []any{rec("Ext__c", "1"), rec("Name", "x")}), faults.InvalidInput, "salesforcePayload[1] has no Ext__c"},
		{"upsert with an empty key", ev("operation", "upsert", "SObjectName", "Invoice__c", "externalIdField", "Ext__c", "salesforcePayload", []any{rec("Ext__c", "")}), faults.InvalidInput, "has an empty Ext__c"},
		{"upsert with a null key", ev("operation", "upsert", "SObjectName", "Invoice__c", "externalIdField", "Ext__c", "salesforcePayload", []any{rec("Ext__c", nil)}), faults.InvalidInput, "has an empty Ext__c"},
		{"upsert with a boolean key", ev("operation", "upsert", "SObjectName", "Invoice__c", "externalIdField", "Ext__c", "salesforcePayload", []any{rec("Ext__c", true)}), faults.InvalidInput, "a string or a number"},
		{"delete with more than the Id", ev("operation", "delete", "salesforcePayload", []any{rec("Id", id, "Name", "x")}), faults.InvalidInput, `must be {"Id": "<record id>"} and nothing else`},
		{"delete with a bare id", ev("operation", "delete", "salesforcePayload", []any{id}), faults.InvalidInput, "salesforcePayload[0] must be a JSON object"},
		{"delete with a bad id", ev("operation", "delete", "salesforcePayload", []any{rec("Id", id[:17]+"&ids=x")}), faults.InvalidInput, "not a 15- or 18-character Salesforce id"},
		{"delete with a bad SObjectName", ev("operation", "delete", "SObjectName", "Acc ount", "salesforcePayload", []any{rec("Id", id)}), faults.InvalidInput, "SObjectName"},
	})
}

// refusal is an event an action refuses before it sends anything.
type refusal struct {
	name  string
	event any // encoded as the event
	code  faults.Code
	text  string // in the message
}

// wantRefused invokes the action with each event: each is refused with its
// error, a bounded message, and nothing reaches the org.
func wantRefused(t *testing.T, h func(*Connector) handler, tests []refusal) {
	t.Helper()
	w := setup(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := invoke(t, h(w.conn), jsonEvent(t, tt.event))
			wantError(t, r, tt.code, tt.text)
			if len(r.ErrorMessage) > maxMessage {
				t.Errorf("got a message of %d bytes, want at most %d", len(r.ErrorMessage), maxMessage)
			}
		})
	}
	if n := w.org.Requests("*"); n != 0 {
		t.Errorf("got %d requests to the org, want none", n)
	}
}

// TestCollectionDroppedAnswer drops the connection after the org committed
// each operation. A create (a POST) is not sent again: UNKNOWN_ERROR, the
// records written once. Update, upsert and delete are sent again and answer
// 200: the update sets the same values, the upsert updates what the lost
// attempt inserted (created false), and the delete reports ENTITY_IS_DELETED
// for the records the lost attempt deleted, which read as deleted.
func TestCollectionDroppedAnswer(t *testing.T) {
	tests := []struct {
		op       string
		route    string
		event    func(t *testing.T, w *world) string
		requests int
		wantErr  bool
		code     string // per record after the replay
		check    func(t *testing.T, w *world)
	}{
		{"create", sforg.RouteCollectionCreate, func(t *testing.T, w *world) string {
			return collectionEvent(t, "create", "Account", false, map[string]any{"Name": "Once"}, map[string]any{"Name": "Once"})
		}, 1, true, "", func(t *testing.T, w *world) {
			if n := w.org.Store().Count("Account"); n != 2 {
				t.Errorf("got %d accounts, want the 2 of the lost attempt, written once", n)
			}
		}},
		{"update", sforg.RouteCollectionUpdate, func(t *testing.T, w *world) string {
			id := insert(t, w.org, "Account", map[string]any{"Name": "Before"})
			return collectionEvent(t, "update", "Account", true, map[string]any{"Id": id, "Name": "After"})
		}, 2, false, "", func(t *testing.T, w *world) {
			q, _ := w.org.Store().Query("SELECT Id FROM Account WHERE Name = 'After'", false)
			if q.TotalSize != 1 {
				t.Errorf("got %d updated accounts, want 1", q.TotalSize)
			}
		}},
		{"upsert", sforg.RouteCollectionUpsert, func(t *testing.T, w *world) string {
			defineInvoice(t, w.org)
			return collectionEvent(t, "upsert", "Invoice__c", true, map[string]any{"Invoice_Number__c": "INV-7", "Name": "Seven"})
		}, 2, false, "", func(t *testing.T, w *world) {
			if n := w.org.Store().Count("Invoice__c"); n != 1 {
				t.Errorf("got %d invoices, want 1", n)
			}
		}},
		{"delete", sforg.RouteCollectionDelete, func(t *testing.T, w *world) string {
			id := insert(t, w.org, "Account", map[string]any{"Name": "Doomed"})
			return collectionEvent(t, "delete", "", false, map[string]any{"Id": id})
		}, 2, false, "ENTITY_IS_DELETED", func(t *testing.T, w *world) {
			if n := w.org.Store().Count("Account"); n != 0 {
				t.Errorf("got %d accounts, want none", n)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) {
			w := setup(t, func(_ *salesforce.Options, s map[string]string) { s["SALESFORCE_VERSION"] = "50.0" })
			event := tt.event(t, w)
			mustInject(t, w.org, sforg.Fault{Route: tt.route, Kind: sforg.FaultDropAfter, Times: 1})
			r := invoke(t, w.conn.Collection, event)
			if tt.wantErr {
				wantError(t, r, faults.UnknownError, "outcome is unknown")
			} else {
				mustOK(t, r, "200")
				for i, res := range recordResults(t, r) {
					if res.code() != tt.code {
						t.Errorf("record %d: got %q, want %q", i, res.code(), tt.code)
					}
					if tt.op == "upsert" && (res.Created == nil || *res.Created) {
						t.Errorf("record %d: got created %v, want false: the replay updated the inserted record", i, res.Created)
					}
				}
			}
			if n := w.org.Requests(tt.route); n != tt.requests {
				t.Errorf("got %d requests to %s, want %d", n, tt.route, tt.requests)
			}
			tt.check(t, w)
		})
	}
}

// TestCollectionIsOneAPICall: 200 records cost one call against the daily
// allocation, counted as a collections call.
func TestCollectionIsOneAPICall(t *testing.T) {
	w := setup(t)
	records := make([]map[string]any, maxCollectionRecords)
	for i := range records {
		records[i] = map[string]any{"Name": "Bulk"}
	}
	mustOK(t, invoke(t, w.conn.ApprovalList, `{}`), "200") // log in first
	before := w.org.Counters()
	r := invoke(t, w.conn.Collection, collectionEvent(t, "create", "Account", false, records...))
	mustOK(t, r, "200")
	wantTally(t, r, 200, 0, 0)
	after := w.org.Counters()
	for _, k := range []string{"api-usage", "api-calls.collections"} {
		if got := after[k] - before[k]; got != 1 {
			t.Errorf("%s: got %d more, want 1", k, got)
		}
	}
	if r.SalesforceAPIUsage == nil || r.SalesforceAPIUsage.Used != after["api-usage"] {
		t.Errorf("got salesforceApiUsage %+v, want used %d", r.SalesforceAPIUsage, after["api-usage"])
	}
}

// TestCollectionOutputBudget measures the output of 200 records, all written
// and all failed, against the default budget; and a budget too small fails
// with the hint.
func TestCollectionOutputBudget(t *testing.T) {
	w := setup(t)
	ok := make([]map[string]any, maxCollectionRecords)
	bad := make([]map[string]any, maxCollectionRecords)
	for i := range ok {
		ok[i] = map[string]any{"Name": "Fits"}
		bad[i] = map[string]any{"Industry": "No name"}
	}
	for _, tt := range []struct {
		name    string
		records []map[string]any
		success int
	}{{"200 written", ok, 200}, {"200 failed", bad, 0}} {
		t.Run(tt.name, func(t *testing.T) {
			body, r := invokeRaw(t.Context(), t, w.conn.Collection, collectionEvent(t, "create", "Account", false, tt.records...))
			mustOK(t, r, "200")
			wantTally(t, r, tt.success, 200-tt.success, 0)
			if len(body) > w.conn.budget {
				t.Errorf("got a %d-byte output, want it within the default budget of %d", len(body), w.conn.budget)
			}
			t.Logf("%s: output of %d bytes (%.1f%% of the default %d-byte budget)", tt.name, len(body), 100*float64(len(body))/float64(w.conn.budget), w.conn.budget)
		})
	}
	t.Run("over a small budget", func(t *testing.T) {
		w.conn.budget = 4096
		r := invoke(t, w.conn.Collection, collectionEvent(t, "create", "Account", false, ok...))
		wantError(t, r, faults.UnknownError, "send fewer records per call")
	})
}

// TestCollectionOldVersion: before API 42.0 the resource does not exist;
// Salesforce's 404 is the output, every record counted as failed.
func TestCollectionOldVersion(t *testing.T) {
	w := setup(t, func(_ *salesforce.Options, s map[string]string) { s["SALESFORCE_VERSION"] = "41.0" })
	r := invoke(t, w.conn.Collection, collectionEvent(t, "create", "Account", false, map[string]any{"Name": "A"}, map[string]any{"Name": "B"}))
	mustOK(t, r, "404")
	wantTally(t, r, 0, 2, 0)
	if !strings.Contains(r.SalesforceResult, "NOT_FOUND") {
		t.Errorf("got %s, want NOT_FOUND", r.SalesforceResult)
	}
}

// TestCollectionSampleEvent runs events/collection.json: three Accounts, all
// or none, written.
func TestCollectionSampleEvent(t *testing.T) {
	w := setup(t)
	event, err := os.ReadFile("../../events/collection.json")
	if err != nil {
		t.Fatal(err)
	}
	r := invoke(t, w.conn.Collection, string(event))
	mustOK(t, r, "200")
	wantTally(t, r, 3, 0, 0)
	if n := w.org.Store().Count("Account"); n != 3 {
		t.Errorf("got %d accounts, want 3", n)
	}
}
