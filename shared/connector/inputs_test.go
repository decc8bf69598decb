package connector

import (
	"strings"
	"testing"
)

// TestBadInput runs each action with each required parameter missing, empty or
// of the wrong type, through the real Lambda path: the errorType is the
// catalogue's and the message names the parameter.
func TestBadInput(t *testing.T) {
	w := setup(t)
	c := w.conn
	const id = `"001D000000IqhSLIAZ"`
	tests := []struct {
		name     string
		h        handler
		event    string
		wantType string
		wantText string
	}{
		{"create without SObjectName", c.Create, `{"salesforcePayload":{"Name":"x"}}`, "MISSING_INPUT", "SObjectName"},
		{"create without payload", c.Create, `{"SObjectName":"Account"}`, "MISSING_INPUT", "salesforcePayload"},
		{"create with array payload", c.Create, `{"SObjectName":"Account","salesforcePayload":[1]}`, "INVALID_INPUT", "salesforcePayload"},
		{"create with numeric SObjectName", c.Create, `{"SObjectName":7,"salesforcePayload":{}}`, "INVALID_INPUT", "SObjectName"},
		{"create with traversal", c.Create, `{"SObjectName":"Account/../../limits","salesforcePayload":{}}`, "INVALID_INPUT", "SObjectName"},
		{"get without SObjectId", c.Get, `{"SObjectName":"Account"}`, "MISSING_INPUT", "SObjectId"},
		{"get without SObjectName", c.Get, `{"SObjectId":` + id + `}`, "MISSING_INPUT", "SObjectName"},
		{"get with bad id", c.Get, `{"SObjectName":"Account","SObjectId":"001D000000IqhSLIAA"}`, "INVALID_INPUT", "SObjectId"},
		{"get with id path", c.Get, `{"SObjectName":"Account","SObjectId":"001D000000IqhSL/../"}`, "INVALID_INPUT", "SObjectId"},
		{"update without payload", c.Update, `{"SObjectName":"Account","SObjectId":` + id + `}`, "MISSING_INPUT", "salesforcePayload"},
		{"update with string payload not JSON", c.Update, `{"SObjectName":"Account","SObjectId":` + id + `,"salesforcePayload":"Name=x"}`, "INVALID_INPUT", "salesforcePayload"},
		{"delete without SObjectId", c.Delete, `{"SObjectName":"Account","SObjectId":""}`, "MISSING_INPUT", "SObjectId"},
		{"query without query", c.Query, `{}`, "MISSING_INPUT", "salesforceQuery"},
		{"query with object", c.Query, `{"salesforceQuery":{"q":1}}`, "INVALID_INPUT", "salesforceQuery"},
		{"submit without payload", c.ApprovalSubmit, `{}`, "MISSING_INPUT", "salesforcePayload"},
		{"submit without contextId", c.ApprovalSubmit, `{"salesforcePayload":{"comments":"x"}}`, "MISSING_INPUT", "contextId"},
		{"approve with contradicting actionType", c.ApprovalApprove, `{"salesforcePayload":{"contextId":"04iD0000000Cw6SIAS","actionType":"Reject"}}`, "INVALID_INPUT", "actionType"},
		{"reject without payload", c.ApprovalReject, `{"salesforcePayload":null}`, "MISSING_INPUT", "salesforcePayload"},
		{"custom object without payload", c.CustomObjectCreate, `{}`, "MISSING_INPUT", "salesforcePayload"},
		{"custom object without fullName", c.CustomObjectCreate, `{"salesforcePayload":{"label":"Invoice"}}`, "MISSING_INPUT", "fullName"},
		{"custom object with unknown field", c.CustomObjectCreate, `{"salesforcePayload":{"fullName":"A__c","colour":"red"}}`, "INVALID_INPUT", "colour"},
		{"custom object with a 200 KB unknown field name", c.CustomObjectCreate, `{"salesforcePayload":{"fullName":"A__c","` + strings.Repeat("k", 200_000) + `":1}}`, "INVALID_INPUT", `unknown field "kkkk`},
		{"custom object with wrong type", c.CustomObjectCreate, `{"salesforcePayload":{"fullName":"A__c","label":7}}`, "INVALID_INPUT", "label"},
		{"event not JSON", c.Get, `{"SObjectName":`, "INVALID_INPUT", "JSON"},
		{"event an array", c.ApprovalList, `[]`, "INVALID_INPUT", "object"},
		{"eventbridge detail missing a parameter", c.Get, `{"detail-type":"Get","source":"my.app","detail":{"SObjectName":"Account"}}`, "MISSING_INPUT", "SObjectId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := invoke(t, tt.h, tt.event)
			if r.ErrorType != tt.wantType || !strings.Contains(r.ErrorMessage, tt.wantText) {
				t.Errorf("got %q %.300q, want %q naming %q", r.ErrorType, r.ErrorMessage, tt.wantType, tt.wantText)
			}
			if len(r.ErrorMessage) > 1000 {
				t.Errorf("got a %d-byte message, want one that quotes the input cut short", len(r.ErrorMessage))
			}
		})
	}
	if n := w.org.Requests("*"); n != 0 {
		t.Errorf("got %d requests to Salesforce, want none for bad input", n)
	}
}

// TestSalesforceErrorsAreOutputs checks that Salesforce's 4xx answers reach the
// workflow as outputs with their status and error array, not as Lambda errors.
func TestSalesforceErrorsAreOutputs(t *testing.T) {
	w := setup(t)
	c := w.conn
	tests := []struct {
		name       string
		h          handler
		event      string
		wantStatus string
		wantCode   string
	}{
		{"create without a required field", c.Create, `{"SObjectName":"Account","salesforcePayload":{"Industry":"Energy"}}`, "400", "REQUIRED_FIELD_MISSING"},
		{"create with an unknown field", c.Create, `{"SObjectName":"Account","salesforcePayload":{"Name":"x","Colour__c":"red"}}`, "400", "INVALID_FIELD"},
		{"create of an unknown object", c.Create, `{"SObjectName":"Nope__c","salesforcePayload":{"Name":"x"}}`, "404", "NOT_FOUND"},
		{"get of an absent record", c.Get, `{"SObjectName":"Account","SObjectId":"001D000000IqhSLIAZ"}`, "404", "NOT_FOUND"},
		{"update of an absent record", c.Update, `{"SObjectName":"Account","SObjectId":"001D000000IqhSLIAZ","salesforcePayload":{"Name":"x"}}`, "404", "NOT_FOUND"},
		{"delete of an absent record", c.Delete, `{"SObjectName":"Account","SObjectId":"001D000000IqhSLIAZ"}`, "404", "NOT_FOUND"},
		{"malformed query", c.Query, `{"salesforceQuery":"SELECT FROM Account"}`, "400", "MALFORMED_QUERY"},
		{"query of an unknown object", c.Query, `{"salesforceQuery":"SELECT Id FROM Missing__c"}`, "400", "INVALID_TYPE"},
		{"submit of an absent record", c.ApprovalSubmit, `{"salesforcePayload":{"contextId":"001D000000IqhSLIAZ"}}`, "400", ""},
		{"submit of a record with no process", c.ApprovalSubmit, `{"salesforcePayload":{"contextId":"CONTACT"}}`, "400", "NO_APPLICABLE_PROCESS"},
		{"approve of an absent work item", c.ApprovalApprove, `{"salesforcePayload":{"contextId":"04iD0000000Cw6SIAS"}}`, "400", ""},
	}
	contact := invoke(t, c.Create, `{"SObjectName":"Contact","salesforcePayload":{"LastName":"Doe"}}`)
	mustOK(t, contact, "201")
	contactID := field(t, contact, "id").(string)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := invoke(t, tt.h, strings.ReplaceAll(tt.event, "CONTACT", contactID))
			mustOK(t, r, tt.wantStatus)
			if !strings.Contains(r.SalesforceResult, tt.wantCode) {
				t.Errorf("got %s, want errorCode %s", r.SalesforceResult, tt.wantCode)
			}
		})
	}
	t.Run("custom object failure is a SaveResult", func(t *testing.T) {
		r := invoke(t, c.CustomObjectCreate, `{"salesforcePayload":{"fullName":"NoSuffix","label":"X","pluralLabel":"Xs","nameField":{"label":"X Name","type":"Text"},"deploymentStatus":"Deployed","sharingModel":"ReadWrite"}}`)
		mustOK(t, r, "200")
		if field(t, r, "success") != false || field(t, r, "errors") == nil {
			t.Errorf("got %s, want success false with errors", r.SalesforceResult)
		}
	})
}
