package connector

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/sfconnect/connector/shared/faults"
)

func TestDecode(t *testing.T) {
	deep := strings.Repeat(`{"a":`, 40) + `1` + strings.Repeat(`}`, 40)
	tests := []struct {
		name     string
		event    string
		wantCode faults.Code
		wantName string
	}{
		{"direct", `{"SObjectName":"Account"}`, "", `"Account"`},
		{"eventbridge detail", `{"version":"0","id":"x","detail-type":"Salesforce Create","source":"my.app","detail":{"SObjectName":"Contact"}}`, "", `"Contact"`},
		{"detail without envelope is a parameter-less direct event", `{"detail":{"SObjectName":"Contact"}}`, "", ``},
		{"eventbridge detail not an object", `{"detail-type":"x","source":"y","detail":"SObjectName"}`, faults.InvalidInput, ""},
		{"empty event", ``, "", ""},
		{"null event", `null`, "", ""},
		{"array event", `[1,2]`, faults.InvalidInput, ""},
		{"string event", `"Account"`, faults.InvalidInput, ""},
		{"broken JSON", `{"SObjectName":`, faults.InvalidInput, ""},
		{"invalid UTF-8", "{\"SObjectName\":\"\xff\"}", faults.InvalidInput, ""},
		{"too deep", `{"salesforcePayload":` + deep + `}`, faults.InvalidInput, ""},
		{"too large", `{"x":"` + strings.Repeat("a", maxEventBytes) + `"}`, faults.InvalidInput, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := decode([]byte(tt.event))
			if got := faults.CodeOf(err); got != tt.wantCode {
				t.Fatalf("got %q (%v), want %q", got, err, tt.wantCode)
			}
			if err == nil && string(in.SObjectName) != tt.wantName {
				t.Errorf("got SObjectName %q, want %q", in.SObjectName, tt.wantName)
			}
		})
	}
}

func TestParameters(t *testing.T) {
	tests := []struct {
		name     string
		event    string
		get      func(*input) (string, error)
		want     string
		wantCode faults.Code
	}{
		{"name", `{"SObjectName":"Invoice__c"}`, (*input).objectName, "Invoice__c", ""},
		{"name missing", `{}`, (*input).objectName, "", faults.MissingInput},
		{"name empty", `{"SObjectName":""}`, (*input).objectName, "", faults.MissingInput},
		{"name null", `{"SObjectName":null}`, (*input).objectName, "", faults.MissingInput},
		{"name number", `{"SObjectName":42}`, (*input).objectName, "", faults.InvalidInput},
		{"name object", `{"SObjectName":{"a":1}}`, (*input).objectName, "", faults.InvalidInput},
		{"name traversal", `{"SObjectName":"Account/../../limits"}`, (*input).objectName, "", faults.InvalidInput},
		{"name encoded slash", `{"SObjectName":"Account%2F..%2Flimits"}`, (*input).objectName, "", faults.InvalidInput},
		{"name query", `{"SObjectName":"Account?fields=Id"}`, (*input).objectName, "", faults.InvalidInput},
		{"name fragment", `{"SObjectName":"Account#x"}`, (*input).objectName, "", faults.InvalidInput},
		{"name control character", `{"SObjectName":"Acc\u0000ount"}`, (*input).objectName, "", faults.InvalidInput},
		{"name huge", `{"SObjectName":"` + strings.Repeat("A", 5000) + `"}`, (*input).objectName, "", faults.InvalidInput},
		{"id 18", `{"SObjectId":"001D000000IqhSLIAZ"}`, (*input).objectID, "001D000000IqhSLIAZ", ""},
		{"id 15", `{"SObjectId":"001D000000IqhSL"}`, (*input).objectID, "001D000000IqhSL", ""},
		{"id bad checksum", `{"SObjectId":"001D000000IqhSLAAA"}`, (*input).objectID, "", faults.InvalidInput},
		{"id traversal", `{"SObjectId":"../../../limits"}`, (*input).objectID, "", faults.InvalidInput},
		{"id missing", `{"SObjectName":"Account"}`, (*input).objectID, "", faults.MissingInput},
		{"id number", `{"SObjectId":1}`, (*input).objectID, "", faults.InvalidInput},
		{"query", `{"salesforceQuery":"SELECT Id FROM Account"}`, (*input).query, "SELECT Id FROM Account", ""},
		{"query missing", `{}`, (*input).query, "", faults.MissingInput},
		{"query array", `{"salesforceQuery":["SELECT"]}`, (*input).query, "", faults.InvalidInput},
		{"query too long", `{"salesforceQuery":"` + strings.Repeat("x", maxQueryBytes+1) + `"}`, (*input).query, "", faults.InvalidInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := decode([]byte(tt.event))
			if err != nil {
				t.Fatal(err)
			}
			got, err := tt.get(in)
			if code := faults.CodeOf(err); code != tt.wantCode {
				t.Fatalf("got %q (%v), want %q", code, err, tt.wantCode)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "main.") {
				t.Errorf("message %q names a Go type", err)
			}
		})
	}
}

func TestPayload(t *testing.T) {
	tests := []struct {
		name     string
		payload  string
		want     string
		wantCode faults.Code
	}{
		{"object", `{"Name":"Acme"}`, `{"Name":"Acme"}`, ""},
		{"string holding an object", `"{\"Name\":\"Acme\"}"`, `{"Name":"Acme"}`, ""},
		{"missing", ``, "", faults.MissingInput},
		{"null", `null`, "", faults.MissingInput},
		{"empty string", `""`, "", faults.MissingInput},
		{"blank string", `"  "`, "", faults.MissingInput},
		{"number", `42`, "", faults.InvalidInput},
		{"array", `[{"Name":"Acme"}]`, "", faults.InvalidInput},
		{"string holding an array", `"[1]"`, "", faults.InvalidInput},
		{"string holding broken JSON", `"{\"Name\":"`, "", faults.InvalidInput},
		{"string holding deep JSON", `"` + strings.Repeat(`{\"a\":`, 40) + `1` + strings.Repeat(`}`, 40) + `"`, "", faults.InvalidInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			event := `{}`
			if tt.payload != "" {
				event = `{"salesforcePayload":` + tt.payload + `}`
			}
			in, err := decode([]byte(event))
			if err != nil {
				t.Fatal(err)
			}
			got, err := in.payload()
			if code := faults.CodeOf(err); code != tt.wantCode {
				t.Fatalf("got %q (%v), want %q", code, err, tt.wantCode)
			}
			if string(got) != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestApprovalBody(t *testing.T) {
	const item = "04iD0000000Cw6SIAS"
	tests := []struct {
		name     string
		payload  string
		action   string
		want     string
		wantCode faults.Code
	}{
		{"one request", `{"contextId":"001D000000IqhSLIAZ","comments":"please"}`, "Submit",
			`{"requests":[{"actionType":"Submit","comments":"please","contextId":"001D000000IqhSLIAZ"}]}`, ""},
		{"matching actionType", `{"contextId":"` + item + `","actionType":"approve"}`, "Approve",
			`{"requests":[{"actionType":"Approve","contextId":"` + item + `"}]}`, ""},
		{"requests", `{"requests":[{"contextId":"` + item + `"},{"contextId":"04iD0000000Cw6c"}]}`, "Reject",
			`{"requests":[{"actionType":"Reject","contextId":"` + item + `"},{"actionType":"Reject","contextId":"04iD0000000Cw6c"}]}`, ""},
		{"contradicting actionType", `{"contextId":"` + item + `","actionType":"Reject"}`, "Approve", "", faults.InvalidInput},
		{"contradicting actionType in requests", `{"requests":[{"contextId":"` + item + `","actionType":"Submit"}]}`, "Approve", "", faults.InvalidInput},
		{"missing contextId", `{"comments":"x"}`, "Submit", "", faults.MissingInput},
		{"bad contextId", `{"contextId":"../x"}`, "Submit", "", faults.InvalidInput},
		{"bad next approver", `{"contextId":"` + item + `","nextApproverIds":["x"]}`, "Approve", "", faults.InvalidInput},
		{"next approvers not an array", `{"contextId":"` + item + `","nextApproverIds":"005D00000015rY9"}`, "Approve", "", faults.InvalidInput},
		{"empty requests", `{"requests":[]}`, "Submit", "", faults.MissingInput},
		{"requests not an array", `{"requests":{"contextId":"` + item + `"}}`, "Submit", "", faults.InvalidInput},
		{"requests with other fields", `{"requests":[],"contextId":"` + item + `"}`, "Submit", "", faults.InvalidInput},
		{"request not an object", `{"requests":[1]}`, "Submit", "", faults.InvalidInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := approvalBody(json.RawMessage(tt.payload), tt.action)
			if code := faults.CodeOf(err); code != tt.wantCode {
				t.Fatalf("got %q (%v), want %q", code, err, tt.wantCode)
			}
			if err == nil && string(got) != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}
