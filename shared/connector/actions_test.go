package connector

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestStory runs every action in the order a workflow would, against the org.
func TestStory(t *testing.T) {
	w := setup(t)
	c := w.conn

	created := invoke(t, c.Create, `{"SObjectName":"Account","salesforcePayload":{"Name":"Acme","Industry":"Energy"}}`)
	mustOK(t, created, "201")
	id, _ := field(t, created, "id").(string)
	if len(id) != 18 || !strings.HasPrefix(id, "001") || field(t, created, "success") != true {
		t.Fatalf("got create result %s, want an 18-character Account id", created.SalesforceResult)
	}

	got := invoke(t, c.Get, jsonEvent(t, map[string]any{"SObjectName": "Account", "SObjectId": id}))
	mustOK(t, got, "200")
	if field(t, got, "Name") != "Acme" {
		t.Errorf("got %s, want Name Acme", got.SalesforceResult)
	}

	// salesforcePayload as a string holding JSON, as templated workflows send it.
	updated := invoke(t, c.Update, jsonEvent(t, map[string]any{"SObjectName": "Account", "SObjectId": id[:15], "salesforcePayload": `{"Name":"Acme Corp"}`}))
	mustOK(t, updated, "204")
	if updated.SalesforceResult != "" {
		t.Errorf("got result %q, want none for UPDATE", updated.SalesforceResult)
	}

	queried := invoke(t, c.Query, `{"salesforceQuery":"SELECT Id, Name FROM Account WHERE Name = 'Acme Corp'"}`)
	mustOK(t, queried, "200")
	if field(t, queried, "totalSize") != 1.0 || field(t, queried, "done") != true {
		t.Errorf("got %s, want one record", queried.SalesforceResult)
	}

	listed := invoke(t, c.ApprovalList, `{}`)
	mustOK(t, listed, "200")
	if _, ok := field(t, listed, "approvals").(map[string]any)["Account"]; !ok {
		t.Errorf("got %s, want an Account approval process", listed.SalesforceResult)
	}

	submitted := invoke(t, c.ApprovalSubmit, jsonEvent(t, map[string]any{"salesforcePayload": map[string]any{"contextId": id, "comments": "please"}}))
	mustOK(t, submitted, "200")
	results := processResults(t, submitted)
	if results[0].InstanceStatus != "Pending" || len(results[0].NewWorkitemIDs) != 1 {
		t.Fatalf("got %s, want a pending instance with one work item", submitted.SalesforceResult)
	}

	approved := invoke(t, c.ApprovalApprove, jsonEvent(t, map[string]any{"salesforcePayload": map[string]any{"contextId": results[0].NewWorkitemIDs[0], "comments": "ok"}}))
	mustOK(t, approved, "200")
	if got := processResults(t, approved)[0].InstanceStatus; got != "Approved" {
		t.Errorf("got %q, want Approved", got)
	}

	// A second record, rejected.
	other := invoke(t, c.Create, `{"SObjectName":"Account","salesforcePayload":{"Name":"Globex"}}`)
	mustOK(t, other, "201")
	submitted = invoke(t, c.ApprovalSubmit, jsonEvent(t, map[string]any{"salesforcePayload": map[string]any{"requests": []any{map[string]any{"contextId": field(t, other, "id")}}}}))
	mustOK(t, submitted, "200")
	rejected := invoke(t, c.ApprovalReject, jsonEvent(t, map[string]any{"salesforcePayload": map[string]any{"contextId": processResults(t, submitted)[0].NewWorkitemIDs[0]}}))
	mustOK(t, rejected, "200")
	if got := processResults(t, rejected)[0].InstanceStatus; got != "Rejected" {
		t.Errorf("got %q, want Rejected", got)
	}

	object := invoke(t, c.CustomObjectCreate, `{"salesforcePayload":{"fullName":"Invoice__c","label":"Invoice","pluralLabel":"Invoices","nameField":{"label":"Invoice Name","type":"Text"},"deploymentStatus":"Deployed","sharingModel":"ReadWrite"}}`)
	mustOK(t, object, "200")
	if field(t, object, "success") != true || field(t, object, "fullName") != "Invoice__c" {
		t.Fatalf("got %s, want a successful SaveResult", object.SalesforceResult)
	}
	invoice := invoke(t, c.Create, `{"SObjectName":"Invoice__c","salesforcePayload":{"Name":"INV-1"}}`)
	mustOK(t, invoice, "201")

	deleted := invoke(t, c.Delete, jsonEvent(t, map[string]any{"SObjectName": "Invoice__c", "SObjectId": field(t, invoice, "id")}))
	mustOK(t, deleted, "204")
	gone := invoke(t, c.Get, jsonEvent(t, map[string]any{"SObjectName": "Invoice__c", "SObjectId": field(t, invoice, "id")}))
	mustOK(t, gone, "404")
}

type processResult struct {
	InstanceStatus string   `json:"instanceStatus"`
	NewWorkitemIDs []string `json:"newWorkitemIds"`
	Success        bool     `json:"success"`
}

func processResults(t *testing.T, r result) []processResult {
	t.Helper()
	var out []processResult
	if err := json.Unmarshal([]byte(r.SalesforceResult), &out); err != nil || len(out) == 0 {
		t.Fatalf("got %q, want a ProcessResult array", r.SalesforceResult)
	}
	return out
}
