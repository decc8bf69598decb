package connector

import (
	"strings"
	"testing"
)

// TestHostileInput sends traversal and injection attempts in every parameter
// of every action that takes it, through the real Lambda path: each is
// INVALID_INPUT and nothing reaches Salesforce.
func TestHostileInput(t *testing.T) {
	w := setup(t)
	c := w.conn
	const id = "001D000000IqhSLIAZ"
	names := []string{
		"../Account", "Account/../../limits", "Account%2F..%2Flimits", "Account%252F", "Account?fields=Id",
		"Account#x", "Acc\x00ount", "Account\n", "Account\r\nX-Injected: 1", ".", "..", "Account.Name",
		"Account;x", "Account ", " Account", "Acc\u043eunt", "Account\u202e", strings.Repeat("A", 100_000),
		"Invoice__c</met:fullName>", "Account&q=1",
	}
	ids := []string{
		id + "/../", "..%2F..%2F" + id[:9], id + "?x=1", id[:17] + "#", id[:17] + "\x00", id + "\n",
		id[:15] + ".js", id[:14] + "/", strings.Repeat("0", 100_000), "001D000000IqhSL%2F", "001D000000Iqh SL",
	}
	deep := strings.Repeat(`{"a":`, 40) + "1" + strings.Repeat("}", 40)
	payloads := []string{
		deep,
		`"` + strings.ReplaceAll(deep, `"`, `\"`) + `"`,
		`[{"Name":"x"}]`,
		`"Name=x&Id=1"`,
		`{"Name":"` + strings.Repeat("x", 1<<20) + `"}`,
	}

	type param struct {
		name   string
		h      handler
		events func(v string) string
		values []string
	}
	str := func(v string) string { return jsonEvent(t, v) }
	params := []param{}
	for _, a := range []struct {
		name string
		h    handler
	}{{"CREATE", c.Create}, {"GET", c.Get}, {"UPDATE", c.Update}, {"DELETE", c.Delete}} {
		params = append(params, param{a.name + " SObjectName", a.h, func(v string) string {
			return `{"SObjectName":` + str(v) + `,"SObjectId":"` + id + `","salesforcePayload":{"Name":"x"}}`
		}, names})
		if a.name != "CREATE" {
			params = append(params, param{a.name + " SObjectId", a.h, func(v string) string {
				return `{"SObjectName":"Account","SObjectId":` + str(v) + `,"salesforcePayload":{"Name":"x"}}`
			}, ids})
		}
	}
	for _, a := range []struct {
		name string
		h    handler
	}{{"CREATE", c.Create}, {"UPDATE", c.Update}, {"APPROVAL_SUBMIT", c.ApprovalSubmit}, {"APPROVAL_APPROVE", c.ApprovalApprove},
		{"APPROVAL_REJECT", c.ApprovalReject}, {"CUSTOM_OBJECT_CREATE", c.CustomObjectCreate}} {
		params = append(params, param{a.name + " salesforcePayload", a.h, func(v string) string {
			return `{"SObjectName":"Account","SObjectId":"` + id + `","salesforcePayload":` + v + `}`
		}, payloads})
	}
	for _, a := range []struct {
		name string
		h    handler
	}{{"APPROVAL_SUBMIT", c.ApprovalSubmit}, {"APPROVAL_APPROVE", c.ApprovalApprove}, {"APPROVAL_REJECT", c.ApprovalReject}} {
		params = append(params, param{a.name + " contextId", a.h, func(v string) string {
			return `{"salesforcePayload":{"contextId":` + str(v) + `}}`
		}, ids}, param{a.name + " nextApproverIds", a.h, func(v string) string {
			return `{"salesforcePayload":{"contextId":"` + id + `","nextApproverIds":[` + str(v) + `]}}`
		}, ids})
	}
	params = append(params,
		param{"CUSTOM_OBJECT_CREATE fullName", c.CustomObjectCreate, func(v string) string {
			return `{"salesforcePayload":{"fullName":` + str(v) + `,"label":"X"}}`
		}, names},
		param{"QUERY salesforceQuery", c.Query, func(v string) string { return `{"salesforceQuery":` + str(v) + `}` },
			[]string{"SELECT Id FROM Account WHERE Name = '" + strings.Repeat("x", 100_001) + "'"}},
		param{"any event", c.Get, func(v string) string { return v },
			[]string{"{\"SObjectName\":\"Acc\xffount\"}", `{"SObjectName":"Account",` + strings.Repeat(" ", 1<<20) + `}`, "\x00"}},
	)

	for _, p := range params {
		for i, v := range p.values {
			t.Run(p.name+"/"+strings.ToValidUTF8(quote(v), "?"), func(t *testing.T) {
				r := invoke(t, p.h, p.events(v))
				if r.ErrorType != "INVALID_INPUT" {
					t.Errorf("value %d: got %q %q (status %s), want INVALID_INPUT", i, r.ErrorType, r.ErrorMessage, r.SalesforceStatus)
				}
				if len(r.ErrorMessage) > maxMessage {
					t.Errorf("value %d: got a message of %d bytes, want at most %d", i, len(r.ErrorMessage), maxMessage)
				}
			})
		}
	}
	if n := w.org.Requests("*"); n != 0 {
		t.Errorf("got %d requests to Salesforce, want none for hostile input", n)
	}
}
