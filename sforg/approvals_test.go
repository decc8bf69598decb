package sforg

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/sfconnect/connector/shared/sfid"
)

const approvalsPath = "/services/data/v45.0/process/approvals/"

// approve posts {"requests":[...]} and returns the status and body.
func (c *orgClient) approve(requests ...map[string]any) (int, []byte) {
	c.t.Helper()
	b, err := json.Marshal(map[string]any{"requests": requests})
	if err != nil {
		c.t.Fatal(err)
	}
	return c.do("POST", approvalsPath, strings.NewReader(string(b)), nil)
}

// result is a decoded ProcessResult.
type result struct {
	ActorIDs       []string         `json:"actorIds"`
	EntityID       *string          `json:"entityId"`
	Errors         []map[string]any `json:"errors"`
	InstanceID     *string          `json:"instanceId"`
	InstanceStatus *string          `json:"instanceStatus"`
	NewWorkitemIDs []string         `json:"newWorkitemIds"`
	Success        bool             `json:"success"`
}

// mustApprove posts one request and decodes its single ProcessResult.
func (c *orgClient) mustApprove(req map[string]any) (result, json.RawMessage) {
	c.t.Helper()
	status, body := c.approve(req)
	if status != http.StatusOK {
		c.t.Fatalf("approval %v: status %d: %s", req, status, body)
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil || len(raw) != 1 {
		c.t.Fatalf("want a JSON array of one ProcessResult: %v: %s", err, body)
	}
	var r result
	if err := json.Unmarshal(raw[0], &r); err != nil {
		c.t.Fatal(err)
	}
	return r, raw[0]
}

func wantID(t *testing.T, what, id, prefix string) {
	t.Helper()
	if len(id) != 18 || !sfid.Valid(id) || !strings.HasPrefix(id, prefix) {
		t.Errorf("%s: got %q, want an 18-character %s... id", what, id, prefix)
	}
}

func TestApprovalListShape(t *testing.T) {
	c := startOrgClient(t, Options{})
	status, body := c.do("GET", approvalsPath, nil, nil)
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, body)
	}
	var got struct {
		Approvals map[string][]map[string]any `json:"approvals"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Approvals) != 1 || len(got.Approvals["Account"]) != 1 {
		t.Fatalf("got %s, want one Account process", body)
	}
	p := got.Approvals["Account"][0]
	id, _ := p["id"].(string)
	if len(id) != 15 || !strings.HasPrefix(id, "04a") || !sfid.Valid(id) {
		t.Errorf("id: got %q, want a 15-character 04a id as in Salesforce's example", id)
	}
	want := fmt.Sprintf(`{"approvals":{"Account":[{"description":null,"id":%q,"name":"Account Approval Process","object":"Account","sortOrder":1}]}}`, id)
	if strings.TrimSpace(string(body)) != want {
		t.Errorf("body:\ngot  %s\nwant %s", body, want)
	}
	// The same id is the ProcessDefinition row SOQL sees.
	defs := c.records("SELECT Id, Name, DeveloperName, TableEnumOrId, Type, State FROM ProcessDefinition", false)
	if len(defs) != 1 || defs[0]["Id"] != sfid.To18(id) || defs[0]["DeveloperName"] != "Account_Approval" || defs[0]["State"] != "Active" || defs[0]["Type"] != "Approval" {
		t.Errorf("ProcessDefinition rows: got %v", defs)
	}

	if _, err := c.s.DefineApprovalProcess(ApprovalProcess{Name: "Large Accounts", DeveloperName: "Large_Accounts", Object: "Account", Description: "over a million"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.s.DefineApprovalProcess(ApprovalProcess{DeveloperName: "Contact_Check", Object: "Contact"}); err != nil {
		t.Fatal(err)
	}
	_, body = c.do("GET", strings.TrimSuffix(approvalsPath, "/"), nil, nil)
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	second := got.Approvals["Account"][1]
	if second["sortOrder"] != 2.0 || second["description"] != "over a million" || second["name"] != "Large Accounts" {
		t.Errorf("second Account process: got %v", second)
	}
	if c := got.Approvals["Contact"]; len(c) != 1 || c[0]["name"] != "Contact_Check" || c[0]["sortOrder"] != 1.0 {
		t.Errorf("Contact processes: got %v", c)
	}
}

func TestDefineApprovalProcessErrors(t *testing.T) {
	c := startOrgClient(t, Options{})
	tests := []struct {
		name string
		p    ApprovalProcess
	}{
		{"unknown object", ApprovalProcess{DeveloperName: "X", Object: "Nope__c"}},
		{"duplicate developer name", ApprovalProcess{DeveloperName: "account_approval", Object: "Account"}},
		{"bad developer name", ApprovalProcess{DeveloperName: "two words", Object: "Account"}},
		{"approver not a user", ApprovalProcess{DeveloperName: "Y", Object: "Account", Approvers: []string{"001000000000000AAA"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := c.s.DefineApprovalProcess(tt.p); err == nil {
				t.Errorf("DefineApprovalProcess(%+v): got nil error, want one", tt.p)
			}
		})
	}
}

// TestApprovalLifecycle submits a record, then approves or rejects it, checking
// each ProcessResult and what SOQL sees after each step.
func TestApprovalLifecycle(t *testing.T) {
	tests := []struct {
		action, status string
	}{
		{"Approve", "Approved"},
		{"Reject", "Rejected"},
	}
	for _, tt := range tests {
		t.Run(tt.action, func(t *testing.T) {
			c := startOrgClient(t, Options{})
			user := c.s.Store().UserID()
			acct := c.insert("Account", map[string]any{"Name": "Needs approval"})

			sub, raw := c.mustApprove(map[string]any{"actionType": "Submit", "contextId": acct[:15], "comments": "please", "processDefinitionNameOrId": "Account_Approval"})
			if got, want := strings.Join(keysInOrder(t, raw), ","), "actorIds,entityId,errors,instanceId,instanceStatus,newWorkitemIds,success"; got != want {
				t.Errorf("ProcessResult keys: got %q, want %q", got, want)
			}
			if !sub.Success || sub.Errors != nil || !strings.Contains(string(raw), `"errors":null`) {
				t.Errorf("submit: got success %v errors %v, want true and null", sub.Success, sub.Errors)
			}
			if len(sub.ActorIDs) != 1 || sub.ActorIDs[0] != user {
				t.Errorf("actorIds: got %v, want [%s]", sub.ActorIDs, user)
			}
			if sub.EntityID == nil || *sub.EntityID != acct {
				t.Errorf("entityId: got %v, want %s (18 characters)", sub.EntityID, acct)
			}
			if sub.InstanceStatus == nil || *sub.InstanceStatus != "Pending" {
				t.Errorf("instanceStatus: got %v, want Pending", sub.InstanceStatus)
			}
			if sub.InstanceID == nil || len(sub.NewWorkitemIDs) != 1 {
				t.Fatalf("instanceId %v, newWorkitemIds %v: want one of each", sub.InstanceID, sub.NewWorkitemIDs)
			}
			instance, item := *sub.InstanceID, sub.NewWorkitemIDs[0]
			wantID(t, "instanceId", instance, "04g")
			wantID(t, "newWorkitemIds[0]", item, "04i")

			inst := c.records("SELECT Id, Status, ProcessDefinitionId, SubmittedById, CompletedDate FROM ProcessInstance WHERE TargetObjectId = '"+acct+"'", false)
			if len(inst) != 1 || inst[0]["Id"] != instance || inst[0]["Status"] != "Pending" || inst[0]["SubmittedById"] != user || inst[0]["CompletedDate"] != nil {
				t.Errorf("ProcessInstance after submit: got %v", inst)
			}
			pending := c.records("SELECT Id, ProcessInstance.TargetObjectId FROM ProcessInstanceWorkitem WHERE ProcessInstance.Status = 'Pending'", false)
			if len(pending) != 1 || pending[0]["Id"] != item {
				t.Fatalf("pending work items: got %v, want %s", pending, item)
			}
			if pi, _ := pending[0]["ProcessInstance"].(map[string]any); pi == nil || pi["TargetObjectId"] != acct {
				t.Errorf("work item's ProcessInstance.TargetObjectId: got %v, want %s", pending[0]["ProcessInstance"], acct)
			}

			// Salesforce takes 15-character ids in requests.
			dec, raw := c.mustApprove(map[string]any{"actionType": tt.action, "contextId": item[:15], "comments": "done by test"})
			if string(raw) != fmt.Sprintf(`{"actorIds":null,"entityId":%q,"errors":null,"instanceId":%q,"instanceStatus":%q,"newWorkitemIds":[],"success":true}`, acct, instance, tt.status) {
				t.Errorf("%s result: got %s", tt.action, raw)
			}
			if !dec.Success {
				t.Fatal("decision failed")
			}

			inst = c.records("SELECT Id, Status, CompletedDate, LastActorId FROM ProcessInstance WHERE TargetObjectId = '"+acct+"'", false)
			if len(inst) != 1 || inst[0]["Status"] != tt.status || inst[0]["CompletedDate"] == nil || inst[0]["LastActorId"] != user {
				t.Errorf("ProcessInstance after %s: got %v", tt.action, inst)
			}
			if got := c.records("SELECT Id FROM ProcessInstanceWorkitem WHERE ProcessInstance.Status = 'Pending'", false); len(got) != 0 {
				t.Errorf("pending work items after %s: got %v, want none", tt.action, got)
			}
			all := c.records("SELECT Id, IsDeleted FROM ProcessInstanceWorkitem", true)
			if len(all) != 1 || all[0]["IsDeleted"] != true {
				t.Errorf("queryAll work items: got %v, want the deleted one", all)
			}
			steps := c.records("SELECT StepStatus, Comments, ActorId FROM ProcessInstanceStep WHERE ProcessInstanceId = '"+instance+"' ORDER BY CreatedDate, StepStatus DESC", false)
			if len(steps) != 2 {
				t.Fatalf("steps: got %v, want Started and %s", steps, tt.status)
			}
			got := map[string]any{}
			for _, s := range steps {
				got[s["StepStatus"].(string)] = s["Comments"]
			}
			if got["Started"] != "please" || got[tt.status] != "done by test" {
				t.Errorf("steps: got %v", steps)
			}

			// The record may be submitted again once decided.
			again, _ := c.mustApprove(map[string]any{"actionType": "Submit", "contextId": acct})
			if !again.Success || *again.InstanceStatus != "Pending" || *again.InstanceID == instance {
				t.Errorf("resubmit: got %+v", again)
			}
			// A decided work item cannot be decided again.
			status, body := c.approve(map[string]any{"actionType": tt.action, "contextId": item})
			wantError(t, status, body, http.StatusBadRequest, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
		})
	}
}

func TestApprovalErrors(t *testing.T) {
	c := startOrgClient(t, Options{})
	if _, err := c.s.DefineApprovalProcess(ApprovalProcess{
		Name: "Contact Check", DeveloperName: "Contact_Check", Object: "Contact",
		EntryCriteria: func(f map[string]any) bool { return f["LastName"] == "Approvable" },
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.s.DefineApprovalProcess(ApprovalProcess{DeveloperName: "Old_Process", Object: "Lead", Inactive: true}); err != nil {
		t.Fatal(err)
	}
	acct := c.insert("Account", map[string]any{"Name": "Pending already"})
	c.mustApprove(map[string]any{"actionType": "Submit", "contextId": acct})
	fresh := c.insert("Account", map[string]any{"Name": "Fresh"})
	other := c.insert("Contact", map[string]any{"LastName": "Other"})
	lead := c.insert("Lead", map[string]any{"LastName": "L", "Company": "C"})
	opp := c.insert("Opportunity", map[string]any{"Name": "O", "StageName": "Prospecting", "CloseDate": "2026-01-01"})
	gone := c.insert("Account", map[string]any{"Name": "Deleted"})
	if err := c.s.Store().Delete("Account", gone); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		body    string
		code    string
		message string
	}{
		{"record does not exist", `{"requests":[{"actionType":"Submit","contextId":"001000000000000AAA"}]}`, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id"},
		{"record deleted", fmt.Sprintf(`{"requests":[{"actionType":"Submit","contextId":%q}]}`, gone), "INVALID_CROSS_REFERENCE_KEY", ""},
		{"not an id", `{"requests":[{"actionType":"Submit","contextId":"hello"}]}`, "INVALID_CROSS_REFERENCE_KEY", ""},
		{"no process for the object", fmt.Sprintf(`{"requests":[{"actionType":"Submit","contextId":%q}]}`, opp), "NO_APPLICABLE_PROCESS", "No applicable approval process was found."},
		{"entry criteria refuse", fmt.Sprintf(`{"requests":[{"actionType":"Submit","contextId":%q}]}`, other), "NO_APPLICABLE_PROCESS", "No applicable approval process was found."},
		{"named process refuses by criteria", fmt.Sprintf(`{"requests":[{"actionType":"Submit","contextId":%q,"processDefinitionNameOrId":"Contact_Check"}]}`, other), "NO_APPLICABLE_PROCESS", ""},
		{"named process of another object", fmt.Sprintf(`{"requests":[{"actionType":"Submit","contextId":%q,"processDefinitionNameOrId":"Account_Approval","skipEntryCriteria":true}]}`, other), "NO_APPLICABLE_PROCESS", ""},
		{"unknown process name", fmt.Sprintf(`{"requests":[{"actionType":"Submit","contextId":%q,"processDefinitionNameOrId":"Nope"}]}`, fresh), "NO_APPLICABLE_PROCESS", ""},
		{"inactive process", fmt.Sprintf(`{"requests":[{"actionType":"Submit","contextId":%q,"processDefinitionNameOrId":"Old_Process"}]}`, lead), "NO_APPLICABLE_PROCESS", ""},
		{"already pending", fmt.Sprintf(`{"requests":[{"actionType":"Submit","contextId":%q}]}`, acct), "ALREADY_IN_PROCESS", "Cannot submit object already in process."},
		{"unknown work item", `{"requests":[{"actionType":"Approve","contextId":"04i5g0000000999AAA"}]}`, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id"},
		{"approve a record id", fmt.Sprintf(`{"requests":[{"actionType":"Reject","contextId":%q}]}`, acct), "INVALID_CROSS_REFERENCE_KEY", ""},
		{"unknown submitter", fmt.Sprintf(`{"requests":[{"actionType":"Submit","contextId":%q,"contextActorId":"0055g0000000999AAA"}]}`, opp), "INVALID_CROSS_REFERENCE_KEY", ""},
		{"unknown next approver", fmt.Sprintf(`{"requests":[{"actionType":"Submit","contextId":%q,"nextApproverIds":[%q]}]}`, other, acct), "INVALID_CROSS_REFERENCE_KEY", ""},
		{"unknown action", `{"requests":[{"actionType":"Recall","contextId":"001000000000000AAA"}]}`, "JSON_PARSER_ERROR", ""},
		{"missing action", `{"requests":[{"contextId":"001000000000000AAA"}]}`, "REQUIRED_FIELD_MISSING", ""},
		{"skipEntryCriteria not boolean", fmt.Sprintf(`{"requests":[{"actionType":"Submit","contextId":%q,"skipEntryCriteria":"maybe"}]}`, other), "JSON_PARSER_ERROR", ""},
		{"malformed JSON", `{"requests":[{"actionType":}]}`, "JSON_PARSER_ERROR", ""},
		{"no requests", `{"requests":[]}`, "MISSING_ARGUMENT", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := c.do("POST", approvalsPath, strings.NewReader(tt.body), nil)
			wantError(t, status, body, http.StatusBadRequest, tt.code, tt.message)
		})
	}
	if n := len(c.records("SELECT Id FROM ProcessInstance", false)); n != 1 {
		t.Errorf("ProcessInstance rows after failures: got %d, want only the first submit", n)
	}
}

func TestApprovalEntryCriteriaAndSkip(t *testing.T) {
	c := startOrgClient(t, Options{})
	if _, err := c.s.DefineApprovalProcess(ApprovalProcess{
		DeveloperName: "Contact_Check", Object: "Contact",
		EntryCriteria: func(f map[string]any) bool { return f["LastName"] == "Approvable" },
	}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, lastName string
		skip           any
		named          bool
	}{
		{"criteria met", "Approvable", nil, false},
		{"skip as string", "Other", "true", true},
		{"skip as boolean", "Other", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := c.insert("Contact", map[string]any{"LastName": tt.lastName})
			req := map[string]any{"actionType": "Submit", "contextId": id}
			if tt.named {
				req["processDefinitionNameOrId"] = "Contact_Check"
			}
			if tt.skip != nil {
				req["skipEntryCriteria"] = tt.skip
			}
			r, _ := c.mustApprove(req)
			if !r.Success || *r.InstanceStatus != "Pending" {
				t.Errorf("got %+v, want a Pending instance", r)
			}
		})
	}
	// skipEntryCriteria without a named process does not bypass the criteria.
	id := c.insert("Contact", map[string]any{"LastName": "Other"})
	status, body := c.approve(map[string]any{"actionType": "Submit", "contextId": id, "skipEntryCriteria": true})
	wantError(t, status, body, http.StatusBadRequest, "NO_APPLICABLE_PROCESS", "No applicable approval process was found.")
}

func TestApprovalNextApproversAndProcessApprovers(t *testing.T) {
	c := startOrgClient(t, Options{})
	user := c.s.Store().UserID()
	id, err := c.s.DefineApprovalProcess(ApprovalProcess{DeveloperName: "Lead_Review", Object: "Lead", Approvers: []string{user[:15]}})
	if err != nil {
		t.Fatal(err)
	}
	wantID(t, "DefineApprovalProcess id", id, "04a")
	lead := c.insert("Lead", map[string]any{"LastName": "L", "Company": "C"})
	r, _ := c.mustApprove(map[string]any{"actionType": "Submit", "contextId": lead, "processDefinitionNameOrId": id[:15], "nextApproverIds": []string{user}})
	if len(r.ActorIDs) != 1 || r.ActorIDs[0] != user {
		t.Errorf("actorIds: got %v, want [%s]", r.ActorIDs, user)
	}
	items := c.records("SELECT ActorId, OriginalActorId FROM ProcessInstanceWorkitem", false)
	if len(items) != 1 || items[0]["ActorId"] != user {
		t.Errorf("work items: got %v", items)
	}
}

func TestApprovalMixedBatch(t *testing.T) {
	c := startOrgClient(t, Options{})
	good := c.insert("Account", map[string]any{"Name": "Good"})
	status, body := c.approve(
		map[string]any{"actionType": "Submit", "contextId": good},
		map[string]any{"actionType": "Submit", "contextId": "001000000000000AAA"},
	)
	if status != http.StatusOK {
		t.Fatalf("status: got %d, want 200: %s", status, body)
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil || len(raw) != 2 {
		t.Fatalf("want two results: %s", body)
	}
	var ok, bad result
	json.Unmarshal(raw[0], &ok)  //nolint:errcheck // checked below
	json.Unmarshal(raw[1], &bad) //nolint:errcheck // same
	if !ok.Success || *ok.InstanceStatus != "Pending" {
		t.Errorf("first: got %s", raw[0])
	}
	want := `{"actorIds":null,"entityId":null,"errors":[{"statusCode":"INVALID_CROSS_REFERENCE_KEY","message":"invalid cross reference id","fields":[]}],"instanceId":null,"instanceStatus":null,"newWorkitemIds":null,"success":false}`
	if string(raw[1]) != want {
		t.Errorf("second:\ngot  %s\nwant %s", raw[1], want)
	}
	if got := c.records("SELECT Status FROM ProcessInstance WHERE TargetObjectId = '"+good+"'", false); len(got) != 1 {
		t.Errorf("the successful request is committed: got %v", got)
	}
}

func TestApprovalConcurrentSubmitsOfOneRecord(t *testing.T) {
	c := startOrgClient(t, Options{})
	acct := c.insert("Account", map[string]any{"Name": "Raced"})
	const n = 20
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		statuses = map[int]int{}
		codes    = map[string]int{}
	)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, body := c.approve(map[string]any{"actionType": "Submit", "contextId": acct})
			mu.Lock()
			defer mu.Unlock()
			statuses[status]++
			if status != http.StatusOK {
				var errs []map[string]any
				json.Unmarshal(body, &errs) //nolint:errcheck // counted below
				if len(errs) == 1 {
					codes[fmt.Sprint(errs[0]["errorCode"])]++
				}
			}
		}()
	}
	wg.Wait()
	if statuses[http.StatusOK] != 1 || statuses[http.StatusBadRequest] != n-1 || codes["ALREADY_IN_PROCESS"] != n-1 {
		t.Errorf("got statuses %v codes %v, want one 200 and %d ALREADY_IN_PROCESS", statuses, codes, n-1)
	}
	if got := c.records("SELECT Id FROM ProcessInstance WHERE Status = 'Pending'", false); len(got) != 1 {
		t.Errorf("pending instances: got %d, want 1", len(got))
	}
	if got := c.records("SELECT Id FROM ProcessInstanceWorkitem", false); len(got) != 1 {
		t.Errorf("work items: got %d, want 1", len(got))
	}
}

func TestApprovalUpdatesAllowedWhilePending(t *testing.T) {
	c := startOrgClient(t, Options{})
	acct := c.insert("Account", map[string]any{"Name": "Locked for others"})
	c.mustApprove(map[string]any{"actionType": "Submit", "contextId": acct})
	status, body := c.do("PATCH", "/services/data/v45.0/sobjects/Account/"+acct, strings.NewReader(`{"Name":"Edited by admin"}`), nil)
	if status != http.StatusNoContent {
		t.Fatalf("update of a pending record by the integration user (an admin): status %d: %s", status, body)
	}
}

func TestApprovalProcessesSurviveReset(t *testing.T) {
	c := startOrgClient(t, Options{})
	if _, err := c.s.DefineApprovalProcess(ApprovalProcess{DeveloperName: "Lead_Review", Object: "Lead"}); err != nil {
		t.Fatal(err)
	}
	acct := c.insert("Account", map[string]any{"Name": "Before reset"})
	c.mustApprove(map[string]any{"actionType": "Submit", "contextId": acct})
	if err := c.s.Reset(); err != nil {
		t.Fatal(err)
	}
	c.token = c.s.newSession(c.s.Store().UserID())
	status, body := c.do("GET", approvalsPath, nil, nil)
	if status != http.StatusOK || !strings.Contains(string(body), `"Lead_Review"`) || !strings.Contains(string(body), `"Account Approval Process"`) {
		t.Fatalf("after Reset: status %d: %s", status, body)
	}
	if got := c.records("SELECT DeveloperName FROM ProcessDefinition ORDER BY DeveloperName", false); len(got) != 2 {
		t.Errorf("ProcessDefinition rows after Reset: got %v, want 2", got)
	}
	if got := c.records("SELECT Id FROM ProcessInstance", false); len(got) != 0 {
		t.Errorf("instances after Reset: got %d, want 0", len(got))
	}
	acct = c.insert("Account", map[string]any{"Name": "After reset"})
	if r, _ := c.mustApprove(map[string]any{"actionType": "Submit", "contextId": acct, "processDefinitionNameOrId": "Account_Approval"}); !r.Success {
		t.Errorf("submit after Reset: got %+v", r)
	}
}
