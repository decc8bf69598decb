package sforg_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sfconnect/connector/internal/testclock"
	"github.com/sfconnect/connector/sforg"
	"github.com/sfconnect/connector/sforg/internal/ids"
	"github.com/sfconnect/connector/sforg/soql"
	"github.com/sfconnect/connector/shared/sfid"
)

// org is a started org with a session, for REST tests.
type org struct {
	*sforg.Server
	token string
}

func (o org) do(t *testing.T, method, path string, body any) response {
	t.Helper()
	return send(t, method, o.URL+path, o.token, body)
}

// create makes a record through REST and returns its id.
func (o org) create(t *testing.T, object string, fields map[string]any) string {
	t.Helper()
	res := o.do(t, http.MethodPost, "/services/data/v45.0/sobjects/"+object+"/", fields)
	if res.status != http.StatusCreated {
		t.Fatalf("create %s: got %d %s", object, res.status, res.body)
	}
	var out struct{ ID string }
	res.json(t, &out)
	return out.ID
}

func newOrg(t *testing.T, opts sforg.Options) org {
	t.Helper()
	s := startOrg(t, opts)
	return org{Server: s, token: login(t, s)}
}

// defineInvoice adds a custom object with a unique external id (Ext__c) and a
// non-unique one (Code__c).
func defineInvoice(t *testing.T, s *sforg.Server) {
	t.Helper()
	o := sforg.NewCustomObject("Invoice__c", "Invoice", "Invoices", "Invoice Name", "Text")
	o.Fields = append(o.Fields,
		&sforg.Field{Name: "Ext__c", Label: "External", Type: soql.TypeString, Length: 40, ExternalID: true, Unique: true, Custom: true},
		&sforg.Field{Name: "Code__c", Label: "Code", Type: soql.TypeString, Length: 40, ExternalID: true, Custom: true},
		&sforg.Field{Name: "Amount__c", Label: "Amount", Type: soql.TypeCurrency, Precision: 18, Scale: 2, Custom: true},
	)
	if err := s.Store().Define(o); err != nil {
		t.Fatal(err)
	}
}

func TestVersions(t *testing.T) {
	s := startOrg(t, sforg.Options{})
	res := send(t, http.MethodGet, s.URL+"/services/data", "", nil)
	if res.status != http.StatusOK {
		t.Fatalf("got %d", res.status)
	}
	if h := res.header.Get("Sforce-Limit-Info"); h != "" {
		t.Errorf("Sforce-Limit-Info on /services/data: got %q, want none", h)
	}
	var got []map[string]any
	res.json(t, &got)
	var want []map[string]any
	if err := json.Unmarshal(fixture(t, "restforce/spec/fixtures/services_data_success_response.json"), &want); err != nil {
		t.Fatal(err)
	}
	if !jsonEqual(shape(got[0]), shape(want[0])) {
		t.Errorf("entry shape: got %v, want %v", shape(got[0]), shape(want[0]))
	}
	checks := map[string]string{"31.0": "Summer '14", "45.0": "Spring '19", "66.0": "Spring '26"}
	for _, v := range got {
		if label, ok := checks[v["version"].(string)]; ok {
			if v["label"] != label || v["url"] != "/services/data/v"+v["version"].(string) {
				t.Errorf("version %v: got %v", v["version"], v)
			}
			delete(checks, v["version"].(string))
		}
	}
	if len(checks) > 0 || got[0]["version"] != "31.0" || got[len(got)-1]["version"] != sforg.CurrentVersion {
		t.Errorf("versions: got %v..%v, missing %v", got[0], got[len(got)-1], checks)
	}
}

var datetimeRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$`)

func TestCreateAndGetMatchFixtures(t *testing.T) {
	o := newOrg(t, sforg.Options{})
	res := o.do(t, http.MethodPost, "/services/data/v45.0/sobjects/Account/", map[string]any{"Name": "Acme", "AnnualRevenue": 5e7, "NumberOfEmployees": 12, "Industry": "Banking"})
	if res.status != http.StatusCreated {
		t.Fatalf("create: got %d %s", res.status, res.body)
	}
	sameKeysAndTypes(t, res.body, fixture(t, "restforce/spec/fixtures/sobject/create_success_response.json"))
	var created struct {
		ID      string
		Errors  []any
		Success bool
	}
	res.json(t, &created)
	if len(created.ID) != 18 || !sfid.Valid(created.ID) || !strings.HasPrefix(created.ID, "001") || !created.Success || created.Errors == nil {
		t.Fatalf("create: got %+v", created)
	}

	for _, id := range []string{created.ID, created.ID[:15]} {
		get := o.do(t, http.MethodGet, "/services/data/v45.0/sobjects/Account/"+id, nil)
		if get.status != http.StatusOK {
			t.Fatalf("get %s: got %d %s", id, get.status, get.body)
		}
		prefix := `{"attributes":{"type":"Account","url":"/services/data/v45.0/sobjects/Account/` + created.ID + `"},"Id":"` + created.ID + `"`
		if !bytes.HasPrefix(get.body, []byte(prefix)) {
			t.Errorf("get %s: body starts %.160s, want %s", id, get.body, prefix)
		}
		var rec map[string]any
		get.json(t, &rec)
		want := fixture(t, "restforce/spec/fixtures/sobject/sobject_find_success_response.json")
		var fx map[string]any
		json.Unmarshal(want, &fx)
		// Same JSON types as the fixture for the same kinds of fields.
		pairs := map[string]string{"IsDeleted": "IsDeleted", "Name": "Name", "OwnerId": "OwnerId", "CreatedById": "CreatedById", "AnnualRevenue": "Currency_Label", "NumberOfEmployees": "Number_Label", "Industry": "Picklist_Label"}
		for ours, theirs := range pairs {
			if shape(rec[ours]) != shape(fx[theirs]) {
				t.Errorf("%s: got %T, want the type of fixture %s (%T)", ours, rec[ours], theirs, fx[theirs])
			}
		}
		if !bytes.Contains(get.body, []byte(`"AnnualRevenue":5.0E7`)) || !bytes.Contains(get.body, []byte(`"NumberOfEmployees":12,`)) {
			t.Errorf("numbers not typed as Salesforce writes them: %s", get.body)
		}
		if !datetimeRE.MatchString(rec["CreatedDate"].(string)) {
			t.Errorf("CreatedDate: got %q, want Salesforce's dateTime form", rec["CreatedDate"])
		}
	}

	sel := o.do(t, http.MethodGet, "/services/data/v45.0/sobjects/Account/"+created.ID+"?fields=industry,Name", nil)
	want := `{"attributes":{"type":"Account","url":"/services/data/v45.0/sobjects/Account/` + created.ID + `"},"Industry":"Banking","Name":"Acme"}`
	if sel.status != http.StatusOK || string(sel.body) != want {
		t.Errorf("fields=: got %d %s, want %s", sel.status, sel.body, want)
	}
}

func TestStandardObjects(t *testing.T) {
	o := newOrg(t, sforg.Options{})
	acct := o.create(t, "Account", map[string]any{"Name": "Acme"})
	tests := []struct {
		object string
		prefix string
		fields map[string]any
		want   map[string]any // fields read back
	}{
		{"Contact", "003", map[string]any{"FirstName": "Ada", "LastName": "Lovelace", "AccountId": acct[:15], "Email": "ada@example.com"}, map[string]any{"Name": "Ada Lovelace", "AccountId": acct}},
		{"Lead", "00Q", map[string]any{"LastName": "Hopper", "Company": "Navy"}, map[string]any{"Name": "Hopper", "Status": "Open - Not Contacted", "IsConverted": false}},
		{"Opportunity", "006", map[string]any{"Name": "Deal", "StageName": "Closed Won", "CloseDate": "2026-03-31", "Amount": 1000.5, "AccountId": acct}, map[string]any{"IsClosed": true, "IsWon": true, "CloseDate": "2026-03-31"}},
		{"Case", "500", map[string]any{"Subject": "Broken", "AccountId": acct}, map[string]any{"Status": "New", "Priority": "Medium", "CaseNumber": "00000001", "IsClosed": false}},
	}
	for _, tt := range tests {
		t.Run(tt.object, func(t *testing.T) {
			id := o.create(t, tt.object, tt.fields)
			if !sfid.Valid(id) || len(id) != 18 || id[:3] != tt.prefix {
				t.Fatalf("id: got %q, want an 18-char id with prefix %s", id, tt.prefix)
			}
			var rec map[string]any
			o.do(t, http.MethodGet, "/services/data/v45.0/sobjects/"+tt.object+"/"+id, nil).json(t, &rec)
			for k, v := range tt.want {
				if rec[k] != v {
					t.Errorf("%s: got %v, want %v", k, rec[k], v)
				}
			}
		})
	}
	t.Run("compound name follows updates", func(t *testing.T) {
		id := o.create(t, "Contact", map[string]any{"FirstName": "Grace", "LastName": "Brewster"})
		if res := o.do(t, http.MethodPatch, "/services/data/v45.0/sobjects/Contact/"+id, map[string]any{"LastName": "Hopper"}); res.status != http.StatusNoContent {
			t.Fatalf("update: got %d %s", res.status, res.body)
		}
		var rec map[string]any
		o.do(t, http.MethodGet, "/services/data/v45.0/sobjects/Contact/"+id+"?fields=Name", nil).json(t, &rec)
		if rec["Name"] != "Grace Hopper" {
			t.Errorf("Name: got %v, want Grace Hopper", rec["Name"])
		}
	})
	t.Run("integration user", func(t *testing.T) {
		ids := o.Store().FindBy("User", "Username", sforg.DefaultUsername)
		if len(ids) != 1 || ids[0] != o.Store().UserID() || ids[0][:3] != "005" {
			t.Fatalf("user: got %v, store user %q", ids, o.Store().UserID())
		}
		var rec map[string]any
		o.do(t, http.MethodGet, "/services/data/v45.0/sobjects/User/"+ids[0], nil).json(t, &rec)
		if rec["IsActive"] != true || rec["Name"] != "Integration User" {
			t.Errorf("user: got %v", rec)
		}
	})
}

func TestUpdateAndDelete(t *testing.T) {
	o := newOrg(t, sforg.Options{})
	id := o.create(t, "Account", map[string]any{"Name": "Acme"})
	path := "/services/data/v45.0/sobjects/Account/" + id
	steps := []struct {
		name       string
		method     string
		body       any
		wantStatus int
		wantCode   string
	}{
		{"update", http.MethodPatch, map[string]any{"Name": "Acme 2", "Phone": "(415) 555-1212"}, 204, ""},
		{"update via _HttpMethod", http.MethodPost + "?_HttpMethod=PATCH", map[string]any{"Website": "https://acme.example"}, 204, ""},
		{"delete", http.MethodDelete, nil, 204, ""},
		{"get deleted", http.MethodGet, nil, 404, "ENTITY_IS_DELETED"},
		{"update deleted", http.MethodPatch, map[string]any{"Name": "x"}, 404, "ENTITY_IS_DELETED"},
		{"delete again", http.MethodDelete, nil, 404, "ENTITY_IS_DELETED"},
	}
	for _, st := range steps {
		method, query, _ := strings.Cut(st.method, "?")
		if query != "" {
			query = "?" + query
		}
		res := o.do(t, method, path+query, st.body)
		if res.status != st.wantStatus {
			t.Fatalf("%s: got %d %s, want %d", st.name, res.status, res.body, st.wantStatus)
		}
		if st.wantStatus == 204 && len(res.body) != 0 {
			t.Errorf("%s: got body %q, want none", st.name, res.body)
		}
		if st.wantCode != "" {
			if got := res.errorCode(t); got != st.wantCode {
				t.Errorf("%s: got %s, want %s", st.name, got, st.wantCode)
			}
			if want := `[{"message":"entity is deleted","errorCode":"ENTITY_IS_DELETED","fields":[]}]`; strings.TrimSpace(string(res.body)) != want {
				t.Errorf("%s: got %s, want %s", st.name, res.body, want)
			}
		}
		if st.name == "update" {
			_, f, err := o.Store().Get("Account", id, []string{"Name", "Phone"})
			if err != nil || f["Name"] != "Acme 2" || f["Phone"] != "(415) 555-1212" {
				t.Errorf("after update: got %v %v", f, err)
			}
		}
	}
	if n := o.Store().Count("Account"); n != 0 {
		t.Errorf("live accounts: got %d, want 0", n)
	}
}

func TestErrorCodes(t *testing.T) {
	o := newOrg(t, sforg.Options{})
	defineInvoice(t, o.Server)
	acct := o.create(t, "Account", map[string]any{"Name": "Acme"})
	contact := o.create(t, "Contact", map[string]any{"LastName": "Doe"})
	o.create(t, "Invoice__c", map[string]any{"Name": "INV-1", "Ext__c": "E-1"})
	absent := ids.New("001", "5g0", 999999)
	v := "/services/data/v45.0"
	tests := []struct {
		name        string
		method      string
		path        string
		body        any
		token       string // "" uses the session; "-" sends none
		wantStatus  int
		wantCode    string
		wantMessage string
		wantFixture string // restforce fixture the body must equal (as JSON)
	}{
		{"unknown object", "GET", v + "/sobjects/Nope__c/describe", nil, "", 404, "NOT_FOUND", "The requested resource does not exist", "sobject/sobject_describe_error_response.json"},
		{"create unknown object", "POST", v + "/sobjects/Nope__c/", map[string]any{"Name": "x"}, "", 404, "NOT_FOUND", "", ""},
		{"malformed id", "GET", v + "/sobjects/Account/23foo", nil, "", 404, "NOT_FOUND", "Provided external ID field does not exist or is not accessible: 23foo", "sobject/sobject_find_error_response.json"},
		{"bad checksum", "GET", v + "/sobjects/Account/" + acct[:15] + "XXX", nil, "", 404, "NOT_FOUND", "Provided external ID field does not exist or is not accessible: " + acct[:15] + "XXX", ""},
		{"absent id", "GET", v + "/sobjects/Account/" + absent, nil, "", 404, "NOT_FOUND", "The requested resource does not exist", ""},
		{"id of another object", "GET", v + "/sobjects/Account/" + contact, nil, "", 404, "NOT_FOUND", "The requested resource does not exist", ""},
		{"delete malformed id", "DELETE", v + "/sobjects/Account/rid", nil, "", 404, "NOT_FOUND", "Provided external ID field does not exist or is not accessible: rid", "sobject/delete_error_response.json"},
		{"unknown field", "POST", v + "/sobjects/Account/", map[string]any{"Name": "x", "foo": 1}, "", 400, "INVALID_FIELD", "No such column 'foo' on sobject of type Account", ""},
		{"Id in create", "POST", v + "/sobjects/Account/", map[string]any{"Name": "x", "Id": acct}, "", 400, "INVALID_FIELD", "The Id field should not be specified in the sobject data.", ""},
		{"unknown field in fields=", "GET", v + "/sobjects/Account/" + acct + "?fields=Name,Nope", nil, "", 400, "INVALID_FIELD", "", ""},
		{"read-only field", "POST", v + "/sobjects/Contact/", map[string]any{"LastName": "x", "Name": "y"}, "", 400, "INVALID_FIELD_FOR_INSERT_UPDATE", "", ""},
		{"malformed lookup", "POST", v + "/sobjects/Contact/", map[string]any{"LastName": "x", "AccountId": "001xx"}, "", 400, "MALFORMED_ID", "Account ID: id value of incorrect type: 001xx", ""},
		{"lookup to wrong object", "POST", v + "/sobjects/Contact/", map[string]any{"LastName": "x", "AccountId": contact}, "", 400, "MALFORMED_ID", "Account ID: id value of incorrect type: " + contact, ""},
		{"required missing", "POST", v + "/sobjects/Opportunity/", map[string]any{"Amount": 1}, "", 400, "REQUIRED_FIELD_MISSING", "Required fields are missing: [Name, StageName, CloseDate]", ""},
		{"required blanked", "PATCH", v + "/sobjects/Account/" + acct, map[string]any{"Name": nil}, "", 400, "REQUIRED_FIELD_MISSING", "Required fields are missing: [Name]", ""},
		{"bad JSON", "POST", v + "/sobjects/Account/", `{"Name" x}`, "", 400, "JSON_PARSER_ERROR", "Unexpected character ('x' (code 120)): was expecting a colon to separate field name and value at [line:1, column:10]", ""},
		{"array body", "POST", v + "/sobjects/Account/", `[{"Name":"x"}]`, "", 400, "JSON_PARSER_ERROR", "", ""},
		{"empty body", "POST", v + "/sobjects/Account/", "", "", 400, "JSON_PARSER_ERROR", "", ""},
		{"string for a number", "POST", v + "/sobjects/Account/", map[string]any{"Name": "x", "NumberOfEmployees": "ten"}, "", 400, "JSON_PARSER_ERROR", "", ""},
		{"bad date", "POST", v + "/sobjects/Opportunity/", map[string]any{"Name": "x", "StageName": "Prospecting", "CloseDate": "soon"}, "", 400, "JSON_PARSER_ERROR", "", ""},
		{"duplicate value", "POST", v + "/sobjects/Invoice__c/", map[string]any{"Name": "INV-2", "Ext__c": "e-1"}, "", 400, "DUPLICATE_VALUE", "", ""},
		{"too long", "POST", v + "/sobjects/Account/", map[string]any{"Name": strings.Repeat("x", 256)}, "", 400, "STRING_TOO_LONG", "", ""},
		{"read-only object", "POST", v + "/sobjects/User/", map[string]any{"LastName": "x"}, "", 400, "INVALID_TYPE_FOR_OPERATION", "", ""},
		{"no session", "GET", v + "/sobjects/Account/" + acct, nil, "-", 401, "INVALID_SESSION_ID", "Session expired or invalid", "expired_session_response.json"},
		{"unknown session", "GET", v + "/sobjects/Account/" + acct, nil, sforg.OrgID[:15] + "!nope", 401, "INVALID_SESSION_ID", "Session expired or invalid", "expired_session_response.json"},
		{"method not allowed", "PUT", v + "/sobjects/Account/" + acct, map[string]any{}, "", 405, "METHOD_NOT_ALLOWED", "HTTP Method 'PUT' not allowed. Allowed are HEAD,GET,PATCH,DELETE", ""},
		{"unknown resource", "GET", v + "/nothing/here", nil, "", 404, "NOT_FOUND", "The requested resource does not exist", ""},
		{"POST to a GET-only route of another file", "POST", v + "/query?q=SELECT+Id+FROM+Account", map[string]any{}, "", 405, "METHOD_NOT_ALLOWED", "HTTP Method 'POST' not allowed. Allowed are HEAD,GET", ""},
		{"future version", "GET", "/services/data/v99.0/limits", nil, "", 404, "NOT_FOUND", "The requested resource does not exist", ""},
		{"version without .0", "GET", "/services/data/v45/limits", nil, "", 404, "NOT_FOUND", "", ""},
		{"retired version", "GET", "/services/data/v30.0/limits", nil, "", 410, "GONE", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token := o.token
			switch tt.token {
			case "-":
				token = ""
			case "":
			default:
				token = tt.token
			}
			res := send(t, tt.method, o.URL+tt.path, token, tt.body)
			if res.status != tt.wantStatus {
				t.Fatalf("status: got %d %s, want %d", res.status, res.body, tt.wantStatus)
			}
			var errs []sforg.APIError
			res.json(t, &errs)
			if len(errs) != 1 || errs[0].ErrorCode != tt.wantCode {
				t.Fatalf("got %s, want one %s", res.body, tt.wantCode)
			}
			if tt.wantMessage != "" && errs[0].Message != tt.wantMessage {
				t.Errorf("message: got %q, want %q", errs[0].Message, tt.wantMessage)
			}
			if tt.wantFixture != "" {
				var got, want any
				json.Unmarshal(res.body, &got)
				json.Unmarshal(fixture(t, "restforce/spec/fixtures/"+tt.wantFixture), &want)
				if !jsonEqual(got, want) {
					t.Errorf("body: got %s, want the fixture %s", res.body, tt.wantFixture)
				}
			}
			if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type: got %q", ct)
			}
		})
	}
}

func TestUpsert(t *testing.T) {
	o := newOrg(t, sforg.Options{})
	defineInvoice(t, o.Server)
	st := o.Store()
	for range 2 {
		if _, err := st.Insert("Invoice__c", map[string]any{"Name": "dup", "Code__c": "SAME"}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name        string
		method      string
		path        string
		body        any
		wantStatus  int
		wantCreated any // nil: no "created" key; "-" no body
		wantFixture string
	}{
		{"insert", "PATCH", "/services/data/v50.0/sobjects/Invoice__c/Ext__c/E-1", map[string]any{"Name": "INV-1"}, 201, true, "sobject/upsert_created_success_response.json"},
		{"update", "PATCH", "/services/data/v50.0/sobjects/Invoice__c/Ext__c/e-1", map[string]any{"Amount__c": 10}, 200, false, "sobject/upsert_created_success_response.json"},
		{"update before 46.0", "PATCH", "/services/data/v45.0/sobjects/Invoice__c/Ext__c/E-1", map[string]any{"Amount__c": 20}, 204, "-", ""},
		{"insert before 46.0", "PATCH", "/services/data/v45.0/sobjects/Invoice__c/Ext__c/E-2", map[string]any{"Name": "INV-2"}, 201, nil, "sobject/upsert_created_success_response.json"},
		{"update only, no match", "PATCH", "/services/data/v50.0/sobjects/Invoice__c/Ext__c/E-3?updateOnly=true", map[string]any{"Name": "INV-3"}, 404, "-", ""},
		{"several matches", "PATCH", "/services/data/v50.0/sobjects/Invoice__c/Code__c/SAME", map[string]any{"Name": "x"}, 300, "-", ""},
		{"not an external id", "PATCH", "/services/data/v50.0/sobjects/Invoice__c/Name/INV-1", map[string]any{"Amount__c": 1}, 404, "-", "sobject/upsert_error_response.json"},
		{"insert missing required", "PATCH", "/services/data/v50.0/sobjects/Invoice__c/Ext__c/E-4", map[string]any{"Amount__c": 1}, 400, "-", ""},
		{"get by external id", "GET", "/services/data/v50.0/sobjects/Invoice__c/Ext__c/E-1", nil, 200, "-", ""},
		{"get several", "GET", "/services/data/v50.0/sobjects/Invoice__c/Code__c/SAME", nil, 300, "-", ""},
		{"get absent", "GET", "/services/data/v50.0/sobjects/Invoice__c/Ext__c/none", nil, 404, "-", ""},
		{"delete by external id", "DELETE", "/services/data/v50.0/sobjects/Invoice__c/Ext__c/E-2", nil, 204, "-", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := o.do(t, tt.method, tt.path, tt.body)
			if res.status != tt.wantStatus {
				t.Fatalf("status: got %d %s, want %d", res.status, res.body, tt.wantStatus)
			}
			if tt.wantFixture != "" {
				sameKeysAndTypes(t, res.body, fixture(t, "restforce/spec/fixtures/"+tt.wantFixture))
			}
			switch {
			case tt.wantStatus == 300:
				var urls []string
				res.json(t, &urls)
				if len(urls) != 2 || !strings.HasPrefix(urls[0], "/services/data/v50.0/sobjects/Invoice__c/a") {
					t.Errorf("300 body: got %s", res.body)
				}
			case tt.wantCreated == "-":
			default:
				var body map[string]any
				res.json(t, &body)
				created, has := body["created"]
				if tt.wantCreated == nil && has || tt.wantCreated != nil && created != tt.wantCreated {
					t.Errorf("created: got %v (present %v), want %v", created, has, tt.wantCreated)
				}
			}
		})
	}
	ids := st.FindBy("Invoice__c", "Ext__c", "E-1")
	if len(ids) != 1 {
		t.Fatalf("E-1 records: got %d, want 1", len(ids))
	}
	_, f, _ := st.Get("Invoice__c", ids[0], []string{"Amount__c", "Name"})
	if f["Amount__c"] != 20.0 || f["Name"] != "INV-1" {
		t.Errorf("after upserts: got %v", f)
	}
	if ids := st.FindBy("Invoice__c", "Ext__c", "E-2"); len(ids) != 0 {
		t.Errorf("E-2 after delete: got %v", ids)
	}
}

func TestLimitsAndUsage(t *testing.T) {
	o := newOrg(t, sforg.Options{DailyLimit: 5})
	res := o.do(t, http.MethodGet, "/services/data/v45.0/limits/", nil)
	if res.status != http.StatusOK {
		t.Fatalf("got %d", res.status)
	}
	if got := res.header.Get("Sforce-Limit-Info"); got != "api-usage=1/5" {
		t.Errorf("Sforce-Limit-Info: got %q, want api-usage=1/5", got)
	}
	var got, want map[string]map[string]any
	res.json(t, &got)
	if err := json.Unmarshal(fixture(t, "apache-camel-salesforce/components/camel-salesforce/camel-salesforce-component/src/test/resources/org/apache/camel/component/salesforce/api/dto/limits.json"), &want); err != nil {
		t.Fatal(err)
	}
	for k, v := range want {
		if !jsonEqual(shape(got[k]), shape(v)) {
			t.Errorf("%s: got %v, want the shape of %v", k, got[k], v)
		}
	}
	if d := got["DailyApiRequests"]; d["Max"] != 5.0 || d["Remaining"] != 4.0 {
		t.Errorf("DailyApiRequests: got %v, want Max 5 Remaining 4", d)
	}
	for i := 2; i <= 5; i++ {
		if res := o.do(t, http.MethodGet, "/services/data/v45.0/sobjects/", nil); res.status != http.StatusOK || res.header.Get("Sforce-Limit-Info") != fmt.Sprintf("api-usage=%d/5", i) {
			t.Fatalf("request %d: got %d %q", i, res.status, res.header.Get("Sforce-Limit-Info"))
		}
	}
	res = o.do(t, http.MethodGet, "/services/data/v45.0/sobjects/", nil)
	if res.status != http.StatusForbidden || strings.TrimSpace(string(res.body)) != `[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]` {
		t.Errorf("over the limit: got %d %s", res.status, res.body)
	}
	o.SetDailyLimit(100)
	if res := o.do(t, http.MethodGet, "/services/data/v45.0/sobjects/", nil); res.status != http.StatusOK {
		t.Errorf("after raising the limit: got %d", res.status)
	}
}

func TestDescribe(t *testing.T) {
	o := newOrg(t, sforg.Options{})
	res := o.do(t, http.MethodGet, "/services/data/v45.0/sobjects/", nil)
	sameKeysAndTypes(t, res.body, fixture(t, "restforce/spec/fixtures/sobject/list_sobjects_success_response.json"))
	var global struct {
		SObjects []json.RawMessage
	}
	res.json(t, &global)
	var fx struct{ SObjects []json.RawMessage }
	json.Unmarshal(fixture(t, "restforce/spec/fixtures/sobject/list_sobjects_success_response.json"), &fx)
	names := map[string]bool{}
	for _, raw := range global.SObjects {
		var e struct {
			Name      string
			KeyPrefix *string
		}
		json.Unmarshal(raw, &e)
		if e.KeyPrefix == nil {
			// Objects without records of their own (ActivityHistory) have no key prefix.
			var m map[string]any
			json.Unmarshal(raw, &m)
			m["keyPrefix"] = "null"
			raw, _ = json.Marshal(m)
			e.KeyPrefix = new(string)
		}
		sameKeysAndTypes(t, raw, fx.SObjects[0])
		names[e.Name+":"+*e.KeyPrefix] = true
	}
	for _, want := range []string{"Account:001", "Contact:003", "Lead:00Q", "Opportunity:006", "Case:500", "User:005", "ProcessDefinition:04a", "ProcessInstance:04g", "ProcessInstanceWorkitem:04i", "ProcessInstanceStep:04h"} {
		if !names[want] {
			t.Errorf("describeGlobal lacks %s", want)
		}
	}

	res = o.do(t, http.MethodGet, "/services/data/v45.0/sobjects/Contact/describe/", nil)
	var d struct {
		Name   string
		Fields []struct {
			Name             string
			Type             string
			Nillable         bool
			Createable       bool
			Updateable       bool
			ReferenceTo      []string
			RelationshipName *string
			Length           int
		}
		ChildRelationships []struct {
			ChildSObject     string
			Field            string
			RelationshipName *string
		}
	}
	res.json(t, &d)
	byName := map[string]int{}
	for i, f := range d.Fields {
		byName[f.Name] = i
	}
	last := d.Fields[byName["LastName"]]
	if last.Type != "string" || last.Nillable || !last.Createable || last.Length != 80 {
		t.Errorf("LastName: got %+v", last)
	}
	acct := d.Fields[byName["AccountId"]]
	if acct.Type != "reference" || !slices.Equal(acct.ReferenceTo, []string{"Account"}) || acct.RelationshipName == nil || *acct.RelationshipName != "Account" {
		t.Errorf("AccountId: got %+v", acct)
	}
	if name := d.Fields[byName["Name"]]; name.Createable || name.Updateable {
		t.Errorf("Name is compound and read-only: got %+v", name)
	}
	var fxd struct{ Fields []json.RawMessage }
	json.Unmarshal(fixture(t, "restforce/spec/fixtures/sobject/sobject_describe_success_response.json"), &fxd)
	var raw struct{ Fields []json.RawMessage }
	res.json(t, &raw)
	sameKeysAndTypes(t, raw.Fields[0], fxd.Fields[0])

	res = o.do(t, http.MethodGet, "/services/data/v45.0/sobjects/Account/describe", nil)
	var ad struct {
		ChildRelationships []struct {
			ChildSObject     string
			RelationshipName *string
		}
	}
	res.json(t, &ad)
	found := false
	for _, c := range ad.ChildRelationships {
		if c.ChildSObject == "Contact" && c.RelationshipName != nil && *c.RelationshipName == "Contacts" {
			found = true
		}
	}
	if !found {
		t.Errorf("Account childRelationships lack Contacts: %+v", ad.ChildRelationships)
	}

	o.create(t, "Account", map[string]any{"Name": "Recent"})
	var info struct {
		ObjectDescribe struct{ Name string }
		RecentItems    []map[string]any
	}
	o.do(t, http.MethodGet, "/services/data/v45.0/sobjects/Account/", nil).json(t, &info)
	if info.ObjectDescribe.Name != "Account" || len(info.RecentItems) != 1 || info.RecentItems[0]["Name"] != "Recent" {
		t.Errorf("basic info: got %+v", info)
	}
}

func TestSessionExpiry(t *testing.T) {
	c := testclock.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	o := newOrg(t, sforg.Options{SessionTTL: time.Hour, Now: c.Now})
	path := "/services/data/v45.0/limits"
	steps := []struct {
		name    string
		advance time.Duration
		expire  bool
		want    int
	}{
		{"fresh", 0, false, 200},
		{"activity extends the session", 50 * time.Minute, false, 200},
		{"still within an hour of the last call", 50 * time.Minute, false, 200},
		{"idle past the timeout", 61 * time.Minute, false, 401},
	}
	for _, st := range steps {
		c.Advance(st.advance)
		if res := o.do(t, http.MethodGet, path, nil); res.status != st.want {
			t.Fatalf("%s: got %d, want %d", st.name, res.status, st.want)
		}
	}
	o.token = login(t, o.Server)
	if res := o.do(t, http.MethodGet, path, nil); res.status != 200 {
		t.Fatalf("after a new login: got %d", res.status)
	}
	o.ExpireSessions()
	res := o.do(t, http.MethodGet, path, nil)
	if res.status != 401 || res.errorCode(t) != "INVALID_SESSION_ID" {
		t.Errorf("after ExpireSessions: got %d %s", res.status, res.body)
	}
	o.token = login(t, o.Server)
	o.RevokeSession(o.token)
	if res := o.do(t, http.MethodGet, path, nil); res.status != 401 {
		t.Errorf("after RevokeSession: got %d", res.status)
	}
}

func TestConcurrentCreates(t *testing.T) {
	o := newOrg(t, sforg.Options{})
	const n = 50
	ids := make([]string, n)
	errs := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			res := send(t, http.MethodPost, o.URL+"/services/data/v45.0/sobjects/Account/", o.token, map[string]any{"Name": fmt.Sprintf("Acme %d", i)})
			if res.status != http.StatusCreated {
				errs[i] = fmt.Sprintf("%d %s", res.status, res.body)
				return
			}
			var out struct{ ID string }
			json.Unmarshal(res.body, &out)
			ids[i] = out.ID
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for i, id := range ids {
		if errs[i] != "" {
			t.Fatalf("create %d: %s", i, errs[i])
		}
		if !sfid.Valid(id) || seen[id] {
			t.Fatalf("create %d: id %q invalid or repeated", i, id)
		}
		seen[id] = true
	}
	if got := o.Store().Count("Account"); got != n {
		t.Errorf("accounts: got %d, want %d", got, n)
	}
	if got := o.Requests(sforg.RouteCreate); got != n {
		t.Errorf("create requests: got %d, want %d", got, n)
	}
	if used, _ := o.APIUsage(); used != n {
		t.Errorf("API usage: got %d, want %d", used, n)
	}
}

// TestSObjectInfo pins GET /sobjects/{Name}/ (jsforce's SObject#recent): the
// object's describeGlobal entry and its newest records, each written as a
// record is, "attributes" first, then Id and the name field.
func TestSObjectInfo(t *testing.T) {
	o := newOrg(t, sforg.Options{})
	older := o.create(t, "Account", map[string]any{"Name": "Older", "Phone": "1"})
	newer := o.create(t, "Account", map[string]any{"Name": "Newer"})
	res := o.do(t, http.MethodGet, "/services/data/v45.0/sobjects/Account/", nil)
	if res.status != http.StatusOK {
		t.Fatalf("got %d %s", res.status, res.body)
	}
	var info struct {
		ObjectDescribe struct{ Name, KeyPrefix string }
		RecentItems    []json.RawMessage
	}
	res.json(t, &info)
	if info.ObjectDescribe.Name != "Account" || info.ObjectDescribe.KeyPrefix != "001" {
		t.Errorf("objectDescribe: got %+v", info.ObjectDescribe)
	}
	var want []string
	for _, id := range []string{newer, older} {
		name := map[string]string{newer: "Newer", older: "Older"}[id]
		want = append(want, `{"attributes":{"type":"Account","url":"/services/data/v45.0/sobjects/Account/`+id+`"},"Id":"`+id+`","Name":"`+name+`"}`)
	}
	if len(info.RecentItems) != 2 || string(info.RecentItems[0]) != want[0] || string(info.RecentItems[1]) != want[1] {
		t.Errorf("recentItems: got %s, want %s", info.RecentItems, want)
	}
}

// TestApexREST pins /services/apexrest/: the org has no Apex REST classes, so
// a session gets 404 NOT_FOUND "Could not find a match for URL /path" and no
// session gets 401.
func TestApexREST(t *testing.T) {
	o := newOrg(t, sforg.Options{})
	res := o.do(t, http.MethodGet, "/services/apexrest/Missing/1?x=y", nil)
	var errs []sforg.APIError
	res.json(t, &errs)
	if res.status != http.StatusNotFound || len(errs) != 1 || errs[0].ErrorCode != "NOT_FOUND" || errs[0].Message != "Could not find a match for URL /Missing/1" {
		t.Errorf("got %d %s, want 404 NOT_FOUND for /Missing/1", res.status, res.body)
	}
	if !strings.HasPrefix(res.header.Get("Content-Type"), "application/json") || res.header.Get("Sforce-Limit-Info") == "" {
		t.Errorf("headers: got %v, want JSON with Sforce-Limit-Info", res.header)
	}
	res = send(t, http.MethodPost, o.URL+"/services/apexrest/Missing", "", `{}`)
	if res.status != http.StatusUnauthorized || res.errorCode(t) != "INVALID_SESSION_ID" {
		t.Errorf("no session: got %d %s, want 401 INVALID_SESSION_ID", res.status, res.body)
	}
	if got := o.Requests(sforg.RouteApexREST); got != 2 {
		t.Errorf("requests: got %d, want 2", got)
	}
}
