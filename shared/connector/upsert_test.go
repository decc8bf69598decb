package connector

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/sfconnect/connector/sforg"
	"github.com/sfconnect/connector/sforg/soql"
	"github.com/sfconnect/connector/shared/faults"
	"github.com/sfconnect/connector/shared/salesforce"
)

// defineInvoice adds Invoice__c with a unique external id (Invoice_Number__c),
// a non-unique one (Legacy_Code__c) and an amount, as an admin would.
func defineInvoice(t *testing.T, org *sforg.Server) {
	t.Helper()
	o := sforg.NewCustomObject("Invoice__c", "Invoice", "Invoices", "Invoice Name", "Text")
	o.Fields = append(o.Fields,
		&sforg.Field{Name: "Invoice_Number__c", Label: "Invoice Number", Type: soql.TypeString, Length: 255, ExternalID: true, Unique: true, Custom: true},
		&sforg.Field{Name: "Legacy_Code__c", Label: "Legacy Code", Type: soql.TypeString, Length: 40, ExternalID: true, Custom: true},
		&sforg.Field{Name: "Amount__c", Label: "Amount", Type: soql.TypeCurrency, Precision: 18, Scale: 2, Custom: true},
	)
	if err := org.Store().Define(o); err != nil {
		t.Fatal(err)
	}
}

func upsertEvent(t *testing.T, value any, payload map[string]any) string {
	t.Helper()
	return jsonEvent(t, map[string]any{
		"SObjectName":       "Invoice__c",
		"externalIdField":   "Invoice_Number__c",
		"externalIdValue":   value,
		"salesforcePayload": payload,
	})
}

// TestUpsertOutcomes runs each answer UPSERT can get, on API versions before
// and after 46.0 (where an update turned from 204 into 200 with created:false).
func TestUpsertOutcomes(t *testing.T) {
	for _, v := range []struct{ version, updated string }{{"45.0", "204"}, {"46.0", "200"}} {
		t.Run("API "+v.version, func(t *testing.T) {
			w := setup(t, func(_ *salesforce.Options, s map[string]string) { s["SALESFORCE_VERSION"] = v.version })
			defineInvoice(t, w.org)

			// Inserted: 201 with the new id.
			created := invoke(t, w.conn.Upsert, upsertEvent(t, "INV/2026 001?", map[string]any{"Name": "First", "Amount__c": 12.5}))
			mustOK(t, created, "201")
			id, _ := field(t, created, "id").(string)
			if len(id) != 18 || field(t, created, "success") != true {
				t.Fatalf("got %s, want an id and success", created.SalesforceResult)
			}
			// The value reached Salesforce as one path segment, whole.
			if ids, err := w.org.Store().FindByExternal("Invoice__c", "Invoice_Number__c", "INV/2026 001?"); err != nil || len(ids) != 1 || ids[0] != id {
				t.Fatalf("record by external id: got %v %v, want [%s]", ids, err, id)
			}

			// Updated: the same step again changes the record, never duplicates it.
			updated := invoke(t, w.conn.Upsert, upsertEvent(t, "INV/2026 001?", map[string]any{"Amount__c": 99}))
			mustOK(t, updated, v.updated)
			if v.updated == "200" && (field(t, updated, "created") != false || field(t, updated, "id") != id) {
				t.Errorf("got %s, want created:false and the same id", updated.SalesforceResult)
			}
			if v.updated == "204" && updated.SalesforceResult != "" {
				t.Errorf("got result %q, want none with 204", updated.SalesforceResult)
			}
			if n := w.org.Store().Count("Invoice__c"); n != 1 {
				t.Errorf("got %d invoices, want 1", n)
			}
			_, rec, err := w.org.Store().Get("Invoice__c", id, nil)
			if err != nil || rec["Amount__c"] != 99.0 || rec["Name"] != "First" {
				t.Errorf("got %v %v, want Amount__c 99 and Name kept", rec, err)
			}

			// Several matches: 300 with the records' URLs, passed on.
			for _, name := range []string{"A", "B"} {
				if _, err := w.org.Store().Insert("Invoice__c", map[string]any{"Name": name, "Legacy_Code__c": "L-7"}); err != nil {
					t.Fatal(err)
				}
			}
			multi := invoke(t, w.conn.Upsert, `{"SObjectName":"Invoice__c","externalIdField":"Legacy_Code__c","externalIdValue":"L-7","salesforcePayload":{"Amount__c":1}}`)
			mustOK(t, multi, "300")
			var urls []string
			if err := json.Unmarshal([]byte(multi.SalesforceResult), &urls); err != nil || len(urls) != 2 || !strings.Contains(urls[0], "/sobjects/Invoice__c/") {
				t.Errorf("got %s, want the two record URLs", multi.SalesforceResult)
			}

			// Not an external id field: Salesforce's 404, passed on.
			notExt := invoke(t, w.conn.Upsert, `{"SObjectName":"Invoice__c","externalIdField":"Amount__c","externalIdValue":"1","salesforcePayload":{"Name":"X"}}`)
			mustOK(t, notExt, "404")
			if !strings.Contains(notExt.SalesforceResult, "NOT_FOUND") {
				t.Errorf("got %s, want NOT_FOUND", notExt.SalesforceResult)
			}

			// A number as the value is its text.
			number := invoke(t, w.conn.Upsert, upsertEvent(t, json.Number("20260042"), map[string]any{"Name": "Numbered"}))
			mustOK(t, number, "201")
			if ids, _ := w.org.Store().FindByExternal("Invoice__c", "Invoice_Number__c", "20260042"); len(ids) != 1 {
				t.Errorf("got %v, want the record keyed 20260042", ids)
			}
		})
	}
}

// TestUpsertRetryNeverDuplicates drops the connection after Salesforce
// committed the upsert: the client sends it again, and the record is updated,
// not created twice.
func TestUpsertRetryNeverDuplicates(t *testing.T) {
	w := setup(t)
	defineInvoice(t, w.org)
	mustInject(t, w.org, sforg.Fault{Route: sforg.RouteUpsert, Kind: sforg.FaultDropAfter, Times: 1})
	r := invoke(t, w.conn.Upsert, upsertEvent(t, "INV-9", map[string]any{"Name": "Nine"}))
	mustOK(t, r, "204") // the replay found the record the first attempt created
	if n := w.org.Requests(sforg.RouteUpsert); n != 2 {
		t.Errorf("got %d upsert requests, want 2", n)
	}
	if n := w.org.Store().Count("Invoice__c"); n != 1 {
		t.Errorf("got %d invoices, want 1", n)
	}
}

func TestUpsertInputs(t *testing.T) {
	long := strings.Repeat("é", maxExternalID+1)
	tests := []struct {
		name  string
		event map[string]any
		code  faults.Code
		text  string
	}{
		{"no object", map[string]any{"externalIdField": "Invoice_Number__c", "externalIdValue": "1", "salesforcePayload": map[string]any{}}, faults.MissingInput, "SObjectName is required"},
		{"no field", map[string]any{"SObjectName": "Invoice__c", "externalIdValue": "1", "salesforcePayload": map[string]any{}}, faults.MissingInput, "externalIdField is required"},
		{"field with a slash", map[string]any{"SObjectName": "Invoice__c", "externalIdField": "Invoice_Number__c/x", "externalIdValue": "1", "salesforcePayload": map[string]any{}}, faults.InvalidInput, "externalIdField"},
		{"no value", map[string]any{"SObjectName": "Invoice__c", "externalIdField": "Invoice_Number__c", "salesforcePayload": map[string]any{}}, faults.MissingInput, "externalIdValue is required"},
		{"empty value", map[string]any{"SObjectName": "Invoice__c", "externalIdField": "Invoice_Number__c", "externalIdValue": "", "salesforcePayload": map[string]any{}}, faults.MissingInput, "externalIdValue is required"},
		{"dot-dot value", map[string]any{"SObjectName": "Invoice__c", "externalIdField": "Invoice_Number__c", "externalIdValue": "..", "salesforcePayload": map[string]any{}}, faults.InvalidInput, "not a usable external id"},
		{"control character", map[string]any{"SObjectName": "Invoice__c", "externalIdField": "Invoice_Number__c", "externalIdValue": "a\nb", "salesforcePayload": map[string]any{}}, faults.InvalidInput, "control character"},
		{"too long", map[string]any{"SObjectName": "Invoice__c", "externalIdField": "Invoice_Number__c", "externalIdValue": long, "salesforcePayload": map[string]any{}}, faults.InvalidInput, "longer than 255 characters"},
		{"a boolean value", map[string]any{"SObjectName": "Invoice__c", "externalIdField": "Invoice_Number__c", "externalIdValue": true, "salesforcePayload": map[string]any{}}, faults.InvalidInput, "string or a number"},
		{"no payload", map[string]any{"SObjectName": "Invoice__c", "externalIdField": "Invoice_Number__c", "externalIdValue": "1"}, faults.MissingInput, "salesforcePayload is required"},
	}
	w := setup(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, invoke(t, w.conn.Upsert, jsonEvent(t, tt.event)), tt.code, tt.text)
		})
	}
	if n := w.org.Requests("*"); n != 0 {
		t.Errorf("got %d requests to the org, want none", n)
	}
}

// TestUpsertSampleEvent runs events/upsert.json twice against the org: created,
// then updated.
func TestUpsertSampleEvent(t *testing.T) {
	w := setup(t)
	defineInvoice(t, w.org)
	event, err := os.ReadFile("../../events/upsert.json")
	if err != nil {
		t.Fatal(err)
	}
	mustOK(t, invoke(t, w.conn.Upsert, string(event)), "201")
	mustOK(t, invoke(t, w.conn.Upsert, string(event)), "204")
	if n := w.org.Store().Count("Invoice__c"); n != 1 {
		t.Errorf("got %d invoices, want 1", n)
	}
}
