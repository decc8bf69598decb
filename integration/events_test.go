package integration

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sfconnect/connector/local/demo/stack"
	"github.com/sfconnect/connector/local/rie"
	"github.com/sfconnect/connector/sforg"
	"github.com/sfconnect/connector/sforg/soql"
)

// fixture is what the samples' placeholders are replaced with: records of the
// local org, created before the events run.
type fixture struct {
	t         *testing.T
	org       *sforg.Server
	functions map[string]*rie.Emulator
}

// account returns a new Account's id.
func (f *fixture) account() string {
	return newAccount(f.t, f.org, "Sample target "+f.t.Name())
}

// workitem submits a new Account for approval through the approval-submit
// function and returns the Pending work item's id.
func (f *fixture) workitem() string {
	f.t.Helper()
	event := mustJSON(f.t, map[string]any{"salesforcePayload": map[string]any{"contextId": f.account()}})
	out := call(f.t, f.functions["approval-submit"], event)
	var results []struct {
		InstanceStatus string   `json:"instanceStatus"`
		NewWorkitemIDs []string `json:"newWorkitemIds"`
	}
	if err := json.Unmarshal([]byte(out.Result), &results); err != nil || len(results) != 1 || len(results[0].NewWorkitemIDs) != 1 {
		f.t.Fatalf("submit for a work item: got %s %s, want one Pending result with a work item", out.Status, out.Result)
	}
	return results[0].NewWorkitemIDs[0]
}

// invoiceNumber gives the org the external id field the UPSERT sample keys
// Invoice__c by, defining Invoice__c first when the CUSTOM_OBJECT_CREATE sample
// has not.
func (f *fixture) invoiceNumber() {
	f.t.Helper()
	if _, ok := f.org.Store().Object("Invoice__c"); !ok {
		if err := f.org.Store().Define(sforg.NewCustomObject("Invoice__c", "Invoice", "Invoices", "Invoice Name", "Text")); err != nil {
			f.t.Fatal(err)
		}
	}
	for _, fld := range []*sforg.Field{
		{Name: "Invoice_Number__c", Label: "Invoice Number", Type: soql.TypeString, Length: 255, ExternalID: true, Unique: true, Custom: true},
		{Name: "Amount__c", Label: "Amount", Type: soql.TypeCurrency, Precision: 18, Scale: 2, Custom: true},
	} {
		if err := f.org.Store().AddField("Invoice__c", fld); err != nil {
			f.t.Fatal(err)
		}
	}
}

// sample is one file of events/ and how it runs.
type sample struct {
	file string
	fn   string
	// set replaces the sample's ids of someone else's org with ids of the
	// local one: path (see stack.Sample) -> value. nil: the sample as it is.
	set func(f *fixture) map[string]any
	// event builds the invoke from the file's content when the file is not an
	// event itself (the workflow's input); nil: the file is the event.
	event func(t *testing.T, raw []byte) []byte
	// status is the salesforceStatus the invoke must return.
	status string
	// direct names the sample an EventBridge sample must behave the same as.
	direct string
	// check looks further at the outcome; set is what set returned.
	check func(t *testing.T, org *sforg.Server, set map[string]any, out output)
}

// stored reads a record's fields from the org, or returns nil when it is gone.
func stored(t *testing.T, org *sforg.Server, object string, id any) map[string]any {
	t.Helper()
	_, rec, err := org.Store().Get(object, fmt.Sprint(id), nil)
	if err != nil {
		return nil
	}
	return rec
}

// instanceStatus checks the one ProcessResult of an approval action.
func instanceStatus(want string) func(*testing.T, *sforg.Server, map[string]any, output) {
	return func(t *testing.T, _ *sforg.Server, _ map[string]any, out output) {
		var results []struct {
			Success        bool   `json:"success"`
			InstanceStatus string `json:"instanceStatus"`
		}
		if err := json.Unmarshal([]byte(out.Result), &results); err != nil || len(results) != 1 {
			t.Fatalf("got %s, want one ProcessResult", out.Result)
		}
		if !results[0].Success || results[0].InstanceStatus != want {
			t.Errorf("got success %v, instanceStatus %q, want true, %q", results[0].Success, results[0].InstanceStatus, want)
		}
	}
}

// pendingAccounts checks a pending APPROVAL_LIST output: work items of
// Accounts, at least one, with the paging fields.
func pendingAccounts(t *testing.T, _ *sforg.Server, _ map[string]any, out output) {
	var list struct {
		Records []struct {
			WorkItemID string `json:"workItemId"`
			TargetType string `json:"targetType"`
		} `json:"records"`
	}
	if err := json.Unmarshal([]byte(out.Result), &list); err != nil || len(list.Records) == 0 {
		t.Fatalf("got %s, want at least one pending work item", out.Result)
	}
	for _, it := range list.Records {
		if it.TargetType != "Account" || len(it.WorkItemID) != 18 || it.WorkItemID[:3] != "04i" {
			t.Errorf("got %+v, want an Account's work item", it)
		}
	}
}

// updated checks that the record at path now has the sample's Phone.
func updated(path string) func(*testing.T, *sforg.Server, map[string]any, output) {
	return func(t *testing.T, org *sforg.Server, set map[string]any, _ output) {
		if got := stored(t, org, "Account", set[path])["Phone"]; got != "+1 415 555 0100" {
			t.Errorf("Phone: got %v, want the sample's +1 415 555 0100", got)
		}
	}
}

var samples = []sample{
	{file: "create.json", fn: "create", status: "201"},
	{file: "create-idempotent.json", fn: "create", status: "201"},
	{file: "eventbridge-create.json", fn: "create", status: "201", direct: "create.json"},
	{file: "get.json", fn: "get", status: "200",
		set: func(f *fixture) map[string]any { return map[string]any{"SObjectId": f.account()} }},
	{file: "update.json", fn: "update", status: "204", check: updated("SObjectId"),
		set: func(f *fixture) map[string]any { return map[string]any{"SObjectId": f.account()} }},
	{file: "eventbridge-update.json", fn: "update", status: "204", direct: "update.json", check: updated("detail.SObjectId"),
		set: func(f *fixture) map[string]any { return map[string]any{"detail.SObjectId": f.account()} }},
	{file: "delete.json", fn: "delete", status: "204",
		set: func(f *fixture) map[string]any { return map[string]any{"SObjectId": f.account()} },
		check: func(t *testing.T, org *sforg.Server, set map[string]any, _ output) {
			if rec := stored(t, org, "Account", set["SObjectId"]); rec != nil {
				t.Errorf("the Account is still there: %v", rec)
			}
		}},
	{file: "query.json", fn: "query", status: "200"},
	{file: "eventbridge-query.json", fn: "query", status: "200", direct: "query.json"},
	{file: "approval-submit.json", fn: "approval-submit", status: "200",
		set: func(f *fixture) map[string]any { return map[string]any{"salesforcePayload.contextId": f.account()} }},
	{file: "approval-list.json", fn: "approval-list", status: "200"},
	// The Account submitted by approval-submit.json above is still pending.
	{file: "approval-list-pending.json", fn: "approval-list", status: "200", check: pendingAccounts},
	{file: "approval-approve.json", fn: "approval-approve", status: "200", check: instanceStatus("Approved"),
		set: func(f *fixture) map[string]any { return map[string]any{"salesforcePayload.contextId": f.workitem()} }},
	{file: "approval-reject.json", fn: "approval-reject", status: "200", check: instanceStatus("Rejected"),
		set: func(f *fixture) map[string]any {
			return map[string]any{"salesforcePayload.requests[0].contextId": f.workitem()}
		}},
	{file: "custom-object-create.json", fn: "custom-object-create", status: "200"},
	{file: "upsert.json", fn: "upsert", status: "201",
		set: func(f *fixture) map[string]any { f.invoiceNumber(); return nil },
		check: func(t *testing.T, org *sforg.Server, _ map[string]any, _ output) {
			if ids, err := org.Store().FindByExternal("Invoice__c", "Invoice_Number__c", "INV-2026-0042"); err != nil || len(ids) != 1 {
				t.Errorf("got %v %v, want the one invoice keyed INV-2026-0042", ids, err)
			}
		}},
	{file: "collection.json", fn: "collection", status: "200",
		check: func(t *testing.T, org *sforg.Server, _ map[string]any, out output) {
			var results []struct {
				ID      string `json:"id"`
				Success bool   `json:"success"`
			}
			if err := json.Unmarshal([]byte(out.Result), &results); err != nil || len(results) != 3 {
				t.Fatalf("got %s, want three record results", out.Result)
			}
			for i, r := range results {
				if !r.Success || stored(t, org, "Account", r.ID) == nil {
					t.Errorf("record %d: got success %v, id %q, want an Account written", i, r.Success, r.ID)
				}
			}
		}},
	{file: "eventbridge-collection.json", fn: "collection", status: "200", direct: "collection.json"},
	{file: "composite.json", fn: "composite", status: "200",
		check: func(t *testing.T, org *sforg.Server, _ map[string]any, out output) {
			var answer struct {
				CompositeResponse []struct {
					HTTPStatusCode int `json:"httpStatusCode"`
					Body           struct {
						ID        string `json:"id"`
						AccountID string `json:"AccountId"`
					} `json:"body"`
				} `json:"compositeResponse"`
			}
			if err := json.Unmarshal([]byte(out.Result), &answer); err != nil || len(answer.CompositeResponse) != 3 {
				t.Fatalf("got %s, want three subrequest results", out.Result)
			}
			account, contact := answer.CompositeResponse[0].Body.ID, answer.CompositeResponse[1].Body.ID
			if got := stored(t, org, "Contact", contact)["AccountId"]; got != account {
				t.Errorf("the new Contact's AccountId: got %v, want the new Account %s", got, account)
			}
			if got := answer.CompositeResponse[2].Body.AccountID; got != account {
				t.Errorf("read back: got AccountId %q, want %s", got, account)
			}
		}},
	{file: "query-page.json", fn: "query", status: "200"},
	// A cursor of someone else's org: this one never opened it, as Salesforce
	// answers for a cursor left idle over 15 minutes.
	{file: "query-page-cursor.json", fn: "query", status: "400"},
	// The paging workflow's input: the FetchPage state passes query and
	// pageSize, and a null cursor on the first page.
	{file: "query-page-workflow.json", fn: "query", status: "200",
		event: func(t *testing.T, raw []byte) []byte {
			var in struct {
				Query    string          `json:"query"`
				PageSize json.RawMessage `json:"pageSize"`
			}
			if err := json.Unmarshal(raw, &in); err != nil || in.Query == "" || in.PageSize == nil {
				t.Fatalf("want {\"query\": ..., \"pageSize\": ...}, got %s", raw)
			}
			return mustJSON(t, map[string]any{"salesforceQuery": in.Query, "pageSize": in.PageSize, "cursor": nil})
		}},
	// The workflow's input: the CreateAccount state passes its account as the
	// create function's payload (Parameters in the state machine).
	{file: "workflow-account-approval.json", fn: "create", status: "201",
		event: func(t *testing.T, raw []byte) []byte {
			var in struct {
				Account json.RawMessage `json:"account"`
			}
			if err := json.Unmarshal(raw, &in); err != nil || in.Account == nil {
				t.Fatalf("want {\"account\": {...}}, got %s", raw)
			}
			return mustJSON(t, map[string]any{"SObjectName": "Account", "salesforcePayload": in.Account})
		}},
}

// Every file of events/ but the env file has a row, and every row a file.
func TestSamplesCoverEvents(t *testing.T) {
	root, err := rie.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(root, "events", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, s := range samples {
		rows = append(rows, s.file)
	}
	for _, f := range files {
		name := filepath.Base(f)
		if name != "env.json" && !slices.Contains(rows, name) {
			t.Errorf("events/%s has no row in samples: say which function runs it and what it returns", name)
		}
	}
	for _, s := range samples {
		if _, err := os.Stat(filepath.Join(root, "events", s.file)); err != nil {
			t.Errorf("row %s: %v", s.file, err)
		}
	}
}

// TestEvents runs every sample event through its function, built and under
// the emulator, configured by events/env.json against a local org. An
// EventBridge sample must give what its direct form gives.
func TestEvents(t *testing.T) {
	org := startOrg(t)
	env := sampleEnv(t, org)
	maps.Copy(env, bulkStorage(t))
	functions := map[string]*rie.Emulator{}
	for name := range bootstraps(t) {
		functions[name] = start(t, name, env)
	}
	// An Account in Technology, so that the query samples find a record.
	if _, err := org.Store().Insert("Account", map[string]any{"Name": "Acme Query Target", "Industry": "Technology"}); err != nil {
		t.Fatal(err)
	}

	outputs := map[string]output{}
	for _, s := range samples {
		t.Run(s.file, func(t *testing.T) {
			f := &fixture{t: t, org: org, functions: functions}
			var set map[string]any
			if s.set != nil {
				set = s.set(f)
			}
			event, err := stack.Sample(s.file, set)
			if err != nil {
				t.Fatal(err)
			}
			if s.event != nil {
				event = s.event(t, event)
			}
			out := call(t, functions[s.fn], event)
			if out.Status != s.status {
				t.Fatalf("got salesforceStatus %q, want %q: %s", out.Status, s.status, out.Result)
			}
			outputs[s.file] = out
			if s.check != nil {
				s.check(t, org, set, out)
			}
			if s.direct == "" {
				return
			}
			want, ok := outputs[s.direct]
			if !ok {
				t.Fatalf("the direct sample %s has not run before this one", s.direct)
			}
			if got, want := maskIDs(fmt.Sprint(out)), maskIDs(fmt.Sprint(want)); got != want {
				t.Errorf("got %s, want the direct form's %s (ids masked)", got, want)
			}
		})
	}

	// Every function environment logged in once, however many invokes it had.
	used := map[string]bool{}
	for _, s := range samples {
		used[s.fn] = true
	}
	if got, want := org.Logins(), len(used); got != want {
		t.Errorf("got %d logins, want %d (one per function environment)", got, want)
	}
}
