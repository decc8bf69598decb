package sforg_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/sfconnect/connector/sforg"
)

// upserted is one result of a collection upsert.
type upserted struct {
	collection
	Created *bool `json:"created"`
}

func (r response) upserts(t *testing.T) []upserted {
	t.Helper()
	return decodeOK[[]upserted](t, r)
}

func invoice(fields map[string]any) map[string]any {
	rec := map[string]any{"attributes": map[string]any{"type": "Invoice__c"}}
	for k, v := range fields {
		rec[k] = v
	}
	return rec
}

const upsertPath = "/services/data/v50.0/composite/sobjects/Invoice__c/Ext__c"

func TestCollectionUpsert(t *testing.T) {
	o := newOrg(t, sforg.Options{})
	defineInvoice(t, o.Server)
	st := o.Store()
	existing := o.create(t, "Invoice__c", map[string]any{"Name": "Old", "Ext__c": "E-1", "Code__c": "ONE"})
	for range 2 {
		if _, err := st.Insert("Invoice__c", map[string]any{"Name": "dup", "Code__c": "SAME"}); err != nil {
			t.Fatal(err)
		}
	}
	get := func(id string) map[string]any {
		_, f, err := st.Get("Invoice__c", id, []string{"Name", "Ext__c", "Amount__c"})
		if err != nil {
			return nil
		}
		return f
	}

	t.Run("inserts and updates in order", func(t *testing.T) {
		res := o.do(t, http.MethodPatch, upsertPath, map[string]any{"records": []any{
			invoice(map[string]any{"Ext__c": "e-1", "Amount__c": 10}),
			invoice(map[string]any{"Ext__c": "E-2", "Name": "New"}),
		}})
		got := res.upserts(t)
		if len(got) != 2 || !got[0].Success || got[0].id() != existing || *got[0].Created || !got[1].Success || !*got[1].Created {
			t.Fatalf("got %s, want E-1 updated (created false) and E-2 created", res.body)
		}
		if !strings.HasPrefix(string(res.body), `[{"id":"`+existing+`","success":true,"errors":[],"created":false}`) {
			t.Errorf("body: got %s, want Salesforce's key order id, success, errors, created", res.body)
		}
		if f := get(existing); f["Amount__c"] != 10.0 || f["Name"] != "Old" {
			t.Errorf("updated record: got %v", f)
		}
		if f := get(got[1].id()); f["Ext__c"] != "E-2" || f["Name"] != "New" {
			t.Errorf("created record: got %v", f)
		}
	})

	t.Run("per-record failures", func(t *testing.T) {
		res := o.do(t, http.MethodPatch, upsertPath, map[string]any{"records": []any{
			invoice(map[string]any{"Ext__c": "D-1", "Name": "a"}),
			invoice(map[string]any{"Name": "no key"}),
			invoice(map[string]any{"Ext__c": "d-1", "Name": "b"}),
			invoice(map[string]any{"Ext__c": "E-3"}),
			invoice(map[string]any{"Ext__c": "E-4", "Name": "fine"}),
		}})
		got := res.upserts(t)
		want := []struct{ code, message string }{
			{"DUPLICATE_VALUE", "Duplicate external id specified: D-1"},
			{"MISSING_ARGUMENT", "Ext__c not specified"},
			{"DUPLICATE_VALUE", "Duplicate external id specified: d-1"},
			{"REQUIRED_FIELD_MISSING", "Required fields are missing: [Name]"},
			{"", ""},
		}
		for i, w := range want {
			if got[i].code() != w.code || (w.code != "" && got[i].Errors[0].Message != w.message) {
				t.Errorf("result %d: got %+v, want %s %q", i, got[i], w.code, w.message)
			}
			if w.code != "" && (got[i].ID != nil || got[i].Created == nil || *got[i].Created) {
				t.Errorf("failed result %d: got %s, want no id and created false", i, res.body)
			}
		}
		if ids := st.FindBy("Invoice__c", "Ext__c", "D-1"); len(ids) != 0 {
			t.Errorf("D-1: got %v, want nothing written", ids)
		}
	})

	t.Run("a value matching several records", func(t *testing.T) {
		res := o.do(t, http.MethodPatch, "/services/data/v50.0/composite/sobjects/Invoice__c/Code__c", map[string]any{"records": []any{
			invoice(map[string]any{"Code__c": "SAME", "Name": "x"}),
			invoice(map[string]any{"Code__c": "ONE", "Name": "Renamed"}),
		}})
		got := res.upserts(t)
		if got[0].code() != "DUPLICATE_EXTERNAL_ID" || !got[1].Success || got[1].id() != existing {
			t.Errorf("got %s, want DUPLICATE_EXTERNAL_ID then an update of %s", res.body, existing)
		}
	})

	t.Run("allOrNone rolls back", func(t *testing.T) {
		before := st.Count("Invoice__c")
		res := o.do(t, http.MethodPatch, upsertPath, map[string]any{"allOrNone": true, "records": []any{
			invoice(map[string]any{"Ext__c": "E-1", "Name": "Rolled back"}),
			invoice(map[string]any{"Ext__c": "R-1", "Name": "Rolled back too"}),
			invoice(map[string]any{"Ext__c": "R-2"}),
		}})
		got := res.upserts(t)
		for i, w := range []struct{ code, id string }{
			{"ALL_OR_NONE_OPERATION_ROLLED_BACK", existing},
			{"ALL_OR_NONE_OPERATION_ROLLED_BACK", ""},
			{"REQUIRED_FIELD_MISSING", ""},
		} {
			if got[i].Success || got[i].code() != w.code || got[i].id() != w.id || *got[i].Created {
				t.Errorf("result %d: got %+v, want %s with id %q, created false", i, got[i], w.code, w.id)
			}
		}
		if f := get(existing); f["Name"] != "Renamed" {
			t.Errorf("rolled-back update: got %v, want the name before", f)
		}
		if n := st.Count("Invoice__c"); n != before {
			t.Errorf("invoices: got %d, want %d", n, before)
		}
	})

	t.Run("the Id field: a null Id inserts, an Id updates", func(t *testing.T) {
		res := o.do(t, http.MethodPatch, "/services/data/v50.0/composite/sobjects/Invoice__c/Id", map[string]any{"records": []any{
			invoice(map[string]any{"Id": nil, "Name": "By null Id"}),
			invoice(map[string]any{"Id": existing, "Name": "By Id"}),
		}})
		got := res.upserts(t)
		if !got[0].Success || !*got[0].Created || !got[1].Success || *got[1].Created || got[1].id() != existing {
			t.Errorf("got %s, want an insert then an update of %s", res.body, existing)
		}
	})

	many := make([]any, 201)
	for i := range many {
		many[i] = invoice(map[string]any{"Ext__c": "M", "Name": "m"})
	}
	for _, tt := range []struct {
		name, method, path string
		body               any
		status             int
		code               string
	}{
		{"201 records", "PATCH", upsertPath, map[string]any{"records": many}, 400, "EXCEEDED_ID_LIMIT"},
		{"a record of another type", "PATCH", upsertPath, map[string]any{"records": []any{account("x")}}, 400, "INVALID_TYPE"},
		{"a record without a type", "PATCH", upsertPath, map[string]any{"records": []any{map[string]any{"Ext__c": "T"}}}, 400, "INVALID_TYPE"},
		{"no records", "PATCH", upsertPath, map[string]any{"allOrNone": true}, 400, "MISSING_ARGUMENT"},
		{"not an external id field", "PATCH", "/services/data/v50.0/composite/sobjects/Invoice__c/Name", map[string]any{"records": []any{}}, 404, "NOT_FOUND"},
		{"an unknown object", "PATCH", "/services/data/v50.0/composite/sobjects/Nope__c/Ext__c", map[string]any{"records": []any{}}, 404, "NOT_FOUND"},
		{"before 46.0", "PATCH", "/services/data/v45.0/composite/sobjects/Invoice__c/Ext__c", map[string]any{"records": []any{}}, 404, "NOT_FOUND"},
		{"POST", "POST", upsertPath, map[string]any{"records": []any{}}, 405, "METHOD_NOT_ALLOWED"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := st.Count("Invoice__c")
			res := o.do(t, tt.method, tt.path, tt.body)
			if res.status != tt.status || res.errorCode(t) != tt.code {
				t.Errorf("got %d %s, want %d %s", res.status, res.body, tt.status, tt.code)
			}
			if n := st.Count("Invoice__c"); n != before {
				t.Errorf("invoices: got %d, want %d", n, before)
			}
		})
	}
}

func TestCollectionUpsertCountsAndFaults(t *testing.T) {
	o := newOrg(t, sforg.Options{})
	defineInvoice(t, o.Server)
	before := o.Counters()
	o.do(t, http.MethodPatch, upsertPath, map[string]any{"records": []any{
		invoice(map[string]any{"Ext__c": "C-1", "Name": "a"}),
		invoice(map[string]any{"Ext__c": "C-2", "Name": "b"}),
	}}).upserts(t)
	after := o.Counters()
	if after["api-usage"]-before["api-usage"] != 1 || after["api-calls.collections"]-before["api-calls.collections"] != 1 {
		t.Errorf("counters: before %v after %v, want one collections call", before, after)
	}

	if err := o.Inject(sforg.Fault{Route: sforg.RouteCollectionUpsert, Kind: sforg.FaultDropAfter, Times: 1}); err != nil {
		t.Fatal(err)
	}
	if got := postRaw(t, o, http.MethodPatch, upsertPath, map[string]any{"records": []any{invoice(map[string]any{"Ext__c": "C-3", "Name": "dropped"})}}); got != 0 {
		t.Fatalf("status %d, want a dropped connection", got)
	}
	if ids := o.Store().FindBy("Invoice__c", "Ext__c", "C-3"); len(ids) != 1 {
		t.Errorf("C-3 after a drop after the commit: got %v, want it written", ids)
	}
	// The retry an idempotent client makes updates the same record.
	got := o.do(t, http.MethodPatch, upsertPath, map[string]any{"records": []any{invoice(map[string]any{"Ext__c": "C-3", "Name": "retried"})}}).upserts(t)
	if !got[0].Success || *got[0].Created {
		t.Errorf("retry: got %+v, want an update", got[0])
	}
}

func TestCollectionChunkLimit(t *testing.T) {
	o := newOrg(t, sforg.Options{})
	contact := map[string]any{"attributes": map[string]any{"type": "Contact"}, "LastName": "Doe"}
	alternating := func(n int) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = account("Chunk")
			if i%2 == 1 {
				out[i] = contact
			}
		}
		return out
	}
	for _, tt := range []struct {
		name    string
		records []any
		status  int
	}{
		{"10 chunks", alternating(10), 200},
		{"11 chunks", alternating(11), 400},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := o.do(t, http.MethodPost, "/services/data/v50.0/composite/sobjects", map[string]any{"records": tt.records})
			if res.status != tt.status {
				t.Fatalf("got %d %s, want %d", res.status, res.body, tt.status)
			}
			if tt.status == 400 {
				var errs []sforg.APIError
				res.json(t, &errs)
				want := []sforg.APIError{{ErrorCode: "EXCEEDED_MAX_TYPES_LIMIT", Message: "Cannot have more than 10 chunks in a single operation. Please rearrange the data to reduce chunking."}}
				if !jsonEqual(errs, want) {
					t.Errorf("got %s, want %v", res.body, want)
				}
			}
		})
	}
}
