package sforg_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/sfconnect/connector/sforg"
)

// collection is one result of an sObject Collections request.
type collection struct {
	ID      *string `json:"id"`
	Success bool    `json:"success"`
	Errors  []struct {
		StatusCode string   `json:"statusCode"`
		Message    string   `json:"message"`
		Fields     []string `json:"fields"`
	} `json:"errors"`
}

// results decodes a 200 collection answer.
func (r response) results(t *testing.T) []collection {
	t.Helper()
	return decodeOK[[]collection](t, r)
}

// code returns the first statusCode of a failed result, or "" for a success.
func (c collection) code() string {
	if len(c.Errors) == 0 {
		return ""
	}
	return c.Errors[0].StatusCode
}

func (c collection) id() string {
	if c.ID == nil {
		return ""
	}
	return *c.ID
}

func account(name string) map[string]any {
	rec := map[string]any{"attributes": map[string]any{"type": "Account"}}
	if name != "" {
		rec["Name"] = name
	}
	return rec
}

func TestCollectionCreate(t *testing.T) {
	o := newOrg(t, sforg.Options{})
	const path = "/services/data/v45.0/composite/sobjects"

	t.Run("mixed types in order", func(t *testing.T) {
		contact := map[string]any{"attributes": map[string]any{"type": "Contact"}, "LastName": "Doe"}
		res := o.do(t, http.MethodPost, path, map[string]any{"allOrNone": false, "records": []any{account("A1"), contact, account("A2")}})
		got := res.results(t)
		if len(got) != 3 {
			t.Fatalf("got %d results, want 3: %s", len(got), res.body)
		}
		for i, prefix := range []string{"001", "003", "001"} {
			if !got[i].Success || !strings.HasPrefix(got[i].id(), prefix) || got[i].Errors == nil || len(got[i].Errors) != 0 {
				t.Errorf("result %d: got %+v, want success with a %s id and errors []", i, got[i], prefix)
			}
		}
		if !strings.HasPrefix(string(res.body), `[{"id":"`+got[0].id()+`","success":true,"errors":[]}`) {
			t.Errorf("body: got %s, want Salesforce's key order id, success, errors", res.body)
		}
		if g := o.do(t, http.MethodGet, "/services/data/v45.0/sobjects/Contact/"+got[1].id(), nil); g.status != http.StatusOK {
			t.Errorf("the created contact: got %d %s", g.status, g.body)
		}
	})

	t.Run("partial success", func(t *testing.T) {
		before := o.Store().Count("Account")
		res := o.do(t, http.MethodPost, path, map[string]any{"records": []any{account("P1"), account("")}})
		got := res.results(t)
		if !got[0].Success || got[1].Success || got[1].ID != nil {
			t.Fatalf("got %s, want the first created and the second failed without an id", res.body)
		}
		if got[1].code() != "REQUIRED_FIELD_MISSING" || strings.Join(got[1].Errors[0].Fields, ",") != "Name" {
			t.Errorf("failure: got %+v, want REQUIRED_FIELD_MISSING on Name", got[1].Errors)
		}
		if n := o.Store().Count("Account"); n != before+1 {
			t.Errorf("accounts: got %d, want %d", n, before+1)
		}
	})

	t.Run("allOrNone rolls back", func(t *testing.T) {
		before := o.Store().Count("Account")
		res := o.do(t, http.MethodPost, path, map[string]any{"allOrNone": true, "records": []any{account("R1"), account(""), account("R3")}})
		got := res.results(t)
		want := []string{"ALL_OR_NONE_OPERATION_ROLLED_BACK", "REQUIRED_FIELD_MISSING", "ALL_OR_NONE_OPERATION_ROLLED_BACK"}
		for i, code := range want {
			if got[i].Success || got[i].code() != code || got[i].ID != nil {
				t.Errorf("result %d: got %+v, want %s and no id", i, got[i], code)
			}
		}
		if n := o.Store().Count("Account"); n != before {
			t.Errorf("accounts: got %d, want %d (nothing committed)", n, before)
		}
		q := o.do(t, http.MethodGet, "/services/data/v45.0/query?q=SELECT+Id+FROM+Account+WHERE+Name+IN+('R1','R3')", nil)
		if !strings.Contains(string(q.body), `"totalSize":0`) {
			t.Errorf("query after rollback: got %s, want no rows", q.body)
		}
	})

	t.Run("whole-request failures", func(t *testing.T) {
		many := make([]any, 201)
		for i := range many {
			many[i] = account("x")
		}
		for _, tc := range []struct {
			name, version string
			body          any
			status        int
			code          string
		}{
			{"no type", "v45.0", map[string]any{"records": []any{map[string]any{"Name": "x"}}}, 400, "INVALID_TYPE"},
			{"unknown type", "v45.0", map[string]any{"records": []any{map[string]any{"attributes": map[string]any{"type": "Nope__c"}}}}, 400, "INVALID_TYPE"},
			{"over 200", "v45.0", map[string]any{"records": many}, 400, "EXCEEDED_ID_LIMIT"},
			{"no records", "v45.0", map[string]any{"allOrNone": true}, 400, "MISSING_ARGUMENT"},
			{"bad JSON", "v45.0", `{"records": [`, 400, "JSON_PARSER_ERROR"},
			{"before 42.0", "v41.0", map[string]any{"records": []any{account("x")}}, 404, "NOT_FOUND"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := o.Store().Count("Account")
				res := o.do(t, http.MethodPost, "/services/data/"+tc.version+"/composite/sobjects", tc.body)
				if res.status != tc.status || res.errorCode(t) != tc.code {
					t.Errorf("got %d %s, want %d %s", res.status, res.body, tc.status, tc.code)
				}
				if n := o.Store().Count("Account"); n != before {
					t.Errorf("accounts: got %d, want %d", n, before)
				}
			})
		}
	})

	t.Run("405 for PUT", func(t *testing.T) {
		res := o.do(t, http.MethodPut, path, map[string]any{"records": []any{}})
		if res.status != http.StatusMethodNotAllowed || res.errorCode(t) != "METHOD_NOT_ALLOWED" {
			t.Errorf("got %d %s, want 405 METHOD_NOT_ALLOWED", res.status, res.body)
		}
	})

	if got := o.Requests(sforg.RouteCollectionCreate); got == 0 {
		t.Errorf("requests to %s: got 0, want the ones above counted", sforg.RouteCollectionCreate)
	}
}

func TestCollectionUpdate(t *testing.T) {
	o := newOrg(t, sforg.Options{})
	const path = "/services/data/v45.0/composite/sobjects"
	a := o.create(t, "Account", map[string]any{"Name": "Before A"})
	b := o.create(t, "Account", map[string]any{"Name": "Before B"})
	gone := o.create(t, "Account", map[string]any{"Name": "Gone"})
	if res := o.do(t, http.MethodDelete, "/services/data/v45.0/sobjects/Account/"+gone, nil); res.status != http.StatusNoContent {
		t.Fatalf("delete: got %d", res.status)
	}
	contact := o.create(t, "Contact", map[string]any{"LastName": "Doe"})
	name := func(id string) string {
		var rec struct{ Name string }
		o.do(t, http.MethodGet, "/services/data/v45.0/sobjects/Account/"+id, nil).json(t, &rec)
		return rec.Name
	}
	upd := func(id any, fields map[string]any) map[string]any {
		rec := account("")
		if id != nil {
			rec["id"] = id
		}
		for k, v := range fields {
			rec[k] = v
		}
		return rec
	}

	t.Run("updates each record", func(t *testing.T) {
		got := o.do(t, http.MethodPatch, path, map[string]any{"records": []any{upd(a, map[string]any{"Name": "After A"}), upd(b, map[string]any{"Name": "After B"})}}).results(t)
		if !got[0].Success || got[0].id() != a || !got[1].Success || got[1].id() != b {
			t.Fatalf("got %+v, want both updated with their ids", got)
		}
		if name(a) != "After A" || name(b) != "After B" {
			t.Errorf("names: got %q, %q", name(a), name(b))
		}
	})

	t.Run("per-record failures", func(t *testing.T) {
		got := o.do(t, http.MethodPatch, path, map[string]any{"records": []any{
			upd(nil, map[string]any{"Name": "x"}),
			upd("001nope", map[string]any{"Name": "x"}),
			upd(contact, map[string]any{"Name": "x"}),
			upd(a, map[string]any{"Name": ""}),
			upd(gone, map[string]any{"Name": "x"}),
			upd(a, map[string]any{"Nope__c": 1}),
		}}).results(t)
		want := []struct {
			code  string
			id    string
			field string
		}{
			{"MISSING_ARGUMENT", "", ""},
			{"MALFORMED_ID", "", "Id"},
			{"MALFORMED_ID", "", "Id"},
			{"REQUIRED_FIELD_MISSING", a, "Name"},
			{"ENTITY_IS_DELETED", gone, ""},
			{"INVALID_FIELD", a, ""},
		}
		for i, w := range want {
			g := got[i]
			if g.Success || g.code() != w.code || g.id() != w.id || g.Errors[0].Fields == nil || strings.Join(g.Errors[0].Fields, ",") != w.field {
				t.Errorf("result %d: got %+v, want %s id %q fields [%s]", i, g, w.code, w.id, w.field)
			}
		}
		if got[2].Errors[0].Message != "Account ID: id value of incorrect type: "+contact {
			t.Errorf("wrong-object message: got %q", got[2].Errors[0].Message)
		}
	})

	t.Run("allOrNone rolls back", func(t *testing.T) {
		got := o.do(t, http.MethodPatch, path, map[string]any{"allOrNone": true, "records": []any{
			upd(a, map[string]any{"Name": "Rolled back"}),
			upd(b, map[string]any{"Name": ""}),
		}}).results(t)
		if got[0].code() != "ALL_OR_NONE_OPERATION_ROLLED_BACK" || got[0].id() != a || got[1].code() != "REQUIRED_FIELD_MISSING" {
			t.Errorf("got %+v, want the first rolled back (with its id), the second REQUIRED_FIELD_MISSING", got)
		}
		if name(a) != "After A" {
			t.Errorf("name after rollback: got %q, want %q", name(a), "After A")
		}
	})
}

func TestCollectionDelete(t *testing.T) {
	o := newOrg(t, sforg.Options{})
	ids := []string{
		o.create(t, "Account", map[string]any{"Name": "D1"}),
		o.create(t, "Contact", map[string]any{"LastName": "D2"}),
	}
	del := func(query string) []collection {
		return o.do(t, http.MethodDelete, "/services/data/v45.0/composite/sobjects?"+query, nil).results(t)
	}

	t.Run("allOrNone rolls back", func(t *testing.T) {
		got := del("ids=" + ids[0] + ",001xx000003DGb2999&allOrNone=true")
		if got[0].code() != "ALL_OR_NONE_OPERATION_ROLLED_BACK" || got[0].id() != ids[0] {
			t.Errorf("first: got %+v, want rolled back with its id", got[0])
		}
		if got[1].code() != "MALFORMED_ID" || got[1].ID != nil || got[1].Errors[0].Message != "malformed id 001xx000003DGb2999" {
			t.Errorf("second: got %+v, want MALFORMED_ID without an id", got[1])
		}
		if res := o.do(t, http.MethodGet, "/services/data/v45.0/sobjects/Account/"+ids[0], nil); res.status != http.StatusOK {
			t.Errorf("the rolled-back account: got %d, want 200", res.status)
		}
	})

	t.Run("deletes records of several objects", func(t *testing.T) {
		got := del("ids=" + strings.Join(ids, ","))
		for i, id := range ids {
			if !got[i].Success || got[i].id() != id {
				t.Errorf("result %d: got %+v, want success for %s", i, got[i], id)
			}
		}
		if res := o.do(t, http.MethodGet, "/services/data/v45.0/sobjects/Account/"+ids[0], nil); res.status != http.StatusNotFound || res.errorCode(t) != "ENTITY_IS_DELETED" {
			t.Errorf("deleted account: got %d %s, want 404 ENTITY_IS_DELETED", res.status, res.body)
		}
	})

	t.Run("per-record failures", func(t *testing.T) {
		absent := "001" + ids[0][3:15]
		absent = absent[:14] + "Z"
		got := del("ids=" + ids[0] + "," + absent)
		if got[0].code() != "ENTITY_IS_DELETED" || got[0].id() != ids[0] {
			t.Errorf("deleted again: got %+v, want ENTITY_IS_DELETED with its id", got[0])
		}
		if got[1].code() != "INVALID_CROSS_REFERENCE_KEY" {
			t.Errorf("absent id: got %+v, want INVALID_CROSS_REFERENCE_KEY", got[1])
		}
	})

	t.Run("no ids", func(t *testing.T) {
		res := o.do(t, http.MethodDelete, "/services/data/v45.0/composite/sobjects", nil)
		if res.status != http.StatusBadRequest || res.errorCode(t) != "MISSING_ARGUMENT" {
			t.Errorf("got %d %s, want 400 MISSING_ARGUMENT", res.status, res.body)
		}
	})
}

func TestCollectionGet(t *testing.T) {
	o := newOrg(t, sforg.Options{})
	a := o.create(t, "Account", map[string]any{"Name": "Acme", "Phone": "555"})
	b := o.create(t, "Account", map[string]any{"Name": "Globex"})
	contact := o.create(t, "Contact", map[string]any{"LastName": "Doe"})
	ids := []string{a, b[:15], contact, "001nope"}

	check := func(t *testing.T, res response) {
		t.Helper()
		if res.status != http.StatusOK {
			t.Fatalf("got %d %s, want 200", res.status, res.body)
		}
		var got []json.RawMessage
		res.json(t, &got)
		if len(got) != len(ids) {
			t.Fatalf("got %d records, want %d", len(got), len(ids))
		}
		want0 := `{"attributes":{"type":"Account","url":"/services/data/v45.0/sobjects/Account/` + a + `"},"Id":"` + a + `","Name":"Acme"}`
		if string(got[0]) != want0 {
			t.Errorf("first: got %s, want %s", got[0], want0)
		}
		if !strings.Contains(string(got[1]), `"Id":"`+b+`"`) {
			t.Errorf("15-char id: got %s, want the record with its 18-char id", got[1])
		}
		for i := 2; i < len(got); i++ {
			if string(got[i]) != "null" {
				t.Errorf("record %d (%s): got %s, want null", i, ids[i], got[i])
			}
		}
	}
	t.Run("GET", func(t *testing.T) {
		check(t, o.do(t, http.MethodGet, "/services/data/v45.0/composite/sobjects/Account?ids="+strings.Join(ids, ",")+"&fields=id,name", nil))
	})
	t.Run("POST", func(t *testing.T) {
		check(t, o.do(t, http.MethodPost, "/services/data/v45.0/composite/sobjects/Account", map[string]any{"ids": ids, "fields": []string{"id", "name"}}))
	})
	for _, tc := range []struct {
		name, path string
		status     int
		code       string
	}{
		{"bad field", "Account?ids=" + a + "&fields=Name,Nope__c", 400, "INVALID_FIELD"},
		{"no fields", "Account?ids=" + a, 400, "MISSING_ARGUMENT"},
		{"no ids", "Account?fields=Name", 400, "MISSING_ARGUMENT"},
		{"unknown object", "Nope__c?ids=" + a + "&fields=Name", 404, "NOT_FOUND"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := o.do(t, http.MethodGet, "/services/data/v45.0/composite/sobjects/"+tc.path, nil)
			if res.status != tc.status || res.errorCode(t) != tc.code {
				t.Errorf("got %d %s, want %d %s", res.status, res.body, tc.status, tc.code)
			}
		})
	}
}
