package sforg_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sfconnect/connector/internal/testclock"
	"github.com/sfconnect/connector/sforg"
	"github.com/sfconnect/connector/sforg/internal/ids"
)

// uiV is the API version of most UI API tests (Idempotency-Key is honoured).
const uiV = "/services/data/v60.0"

// uiRecord is a UI API Record as the tests read it.
type uiRecord struct {
	APIName          string                  `json:"apiName"`
	ID               string                  `json:"id"`
	ETag             string                  `json:"eTag"`
	WeakEtag         int64                   `json:"weakEtag"`
	LastModifiedByID string                  `json:"lastModifiedById"`
	LastModifiedDate string                  `json:"lastModifiedDate"`
	SystemModstamp   string                  `json:"systemModstamp"`
	RecordTypeID     *string                 `json:"recordTypeId"`
	Fields           map[string]uiFieldValue `json:"fields"`
}

type uiFieldValue struct {
	DisplayValue *string         `json:"displayValue"`
	Value        json.RawMessage `json:"value"`
}

// str returns a field's value as a string ("" for null or another type).
func (f uiFieldValue) str() string {
	var s string
	json.Unmarshal(f.Value, &s) //nolint:errcheck // "" when not a string
	return s
}

// record decodes the nested Record of a relationship field.
func (f uiFieldValue) record(t *testing.T) uiRecord {
	t.Helper()
	var r uiRecord
	if err := json.Unmarshal(f.Value, &r); err != nil || r.ID == "" {
		t.Fatalf("not a nested record: %s", f.Value)
	}
	return r
}

func display(f uiFieldValue) string {
	if f.DisplayValue == nil {
		return "<null>"
	}
	return *f.DisplayValue
}

// ui sends a UI API request with the org's session and, unless key is "", an
// Idempotency-Key.
func (o org) ui(t *testing.T, method, path, key string, body any) response {
	t.Helper()
	h := http.Header{}
	if key != "" {
		h.Set("Idempotency-Key", key)
	}
	return sendHeader(t, method, o.URL+path, o.token, h, body)
}

func (r response) record(t *testing.T) uiRecord {
	t.Helper()
	var rec uiRecord
	r.json(t, &rec)
	return rec
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

var hex32 = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestUIRecordLifecycle(t *testing.T) {
	clock := testclock.New(time.Date(2026, 3, 2, 17, 4, 5, 0, time.UTC))
	o := newOrg(t, sforg.Options{Now: clock.Now})
	user := o.Store().UserID()

	res := o.ui(t, "POST", uiV+"/ui-api/records", "", map[string]any{"apiName": "Account", "fields": map[string]any{"Name": "Acme", "AnnualRevenue": 350000000, "Industry": "Energy"}})
	if res.status != http.StatusCreated {
		t.Fatalf("create: got %d %s, want 201", res.status, res.body)
	}
	if got := res.header.Get("Content-Type"); got != "application/json;charset=UTF-8" {
		t.Errorf("Content-Type: got %q, want %q", got, "application/json;charset=UTF-8")
	}
	if res.header.Get("Sforce-Limit-Info") == "" {
		t.Error("no Sforce-Limit-Info")
	}
	created := res.record(t)
	checks := []struct{ name, got, want string }{
		{"apiName", created.APIName, "Account"},
		{"id prefix", created.ID[:3], "001"},
		{"lastModifiedById", created.LastModifiedByID, user},
		{"lastModifiedDate", created.LastModifiedDate, "2026-03-02T17:04:05.000Z"},
		{"systemModstamp", created.SystemModstamp, "2026-03-02T17:04:05.000Z"},
		{"recordTypeId", *created.RecordTypeID, "012000000000000AAA"},
		{"Name", created.Fields["Name"].str(), "Acme"},
		{"Name display", display(created.Fields["Name"]), "<null>"},
		{"AnnualRevenue", string(created.Fields["AnnualRevenue"].Value), "350000000"},
		{"AnnualRevenue display", display(created.Fields["AnnualRevenue"]), "$350,000,000"},
		{"Industry display", display(created.Fields["Industry"]), "Energy"},
		{"CreatedDate", created.Fields["CreatedDate"].str(), "2026-03-02T17:04:05.000Z"},
		{"CreatedDate display (America/Los_Angeles)", display(created.Fields["CreatedDate"]), "3/2/2026, 9:04 AM"},
		{"OwnerId", created.Fields["OwnerId"].str(), user},
		{"Owner display", display(created.Fields["Owner"]), "Integration User"},
		{"Owner record", created.Fields["Owner"].record(t).ID, user},
		{"Owner record fields", strings.Join(sortedKeys(created.Fields["Owner"].record(t).Fields), ","), "Id,Name"},
		{"Parent (null lookup)", string(created.Fields["Parent"].Value) + " " + display(created.Fields["Parent"]), "null <null>"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
	if created.WeakEtag != clock.Now().UnixMilli() || !hex32.MatchString(created.ETag) {
		t.Errorf("weakEtag %d, eTag %q: want %d and 32 hex digits", created.WeakEtag, created.ETag, clock.Now().UnixMilli())
	}
	for _, absent := range []string{"Id", "IsDeleted", "SystemModstamp"} {
		if _, ok := created.Fields[absent]; ok {
			t.Errorf("the answer of a save carries %s", absent)
		}
	}
	if got := o.Store().Count("Account"); got != 1 {
		t.Fatalf("accounts: got %d, want 1", got)
	}

	path := uiV + "/ui-api/records/" + created.ID
	res = o.ui(t, "GET", path+"?fields=Account.Name&optionalFields=Account.Nope,Contact.LastName", "", nil)
	if res.status != http.StatusOK {
		t.Fatalf("get: got %d %s", res.status, res.body)
	}
	if got := sortedKeys(res.record(t).Fields); !slices.Equal(got, []string{"Name"}) {
		t.Errorf("get ?fields=Account.Name: got fields %v, want [Name]", got)
	}

	clock.Advance(time.Minute)
	res = o.ui(t, "PATCH", path, "", map[string]any{"fields": map[string]any{"Name": "Acme 2"}})
	if res.status != http.StatusOK {
		t.Fatalf("update: got %d %s, want 200", res.status, res.body)
	}
	updated := res.record(t)
	if updated.Fields["Name"].str() != "Acme 2" || updated.LastModifiedDate != "2026-03-02T17:05:05.000Z" || updated.ETag == created.ETag {
		t.Errorf("update: got Name %q, lastModifiedDate %q, eTag %q (was %q)", updated.Fields["Name"].str(), updated.LastModifiedDate, updated.ETag, created.ETag)
	}
	res = o.ui(t, "GET", path+"?layoutTypes=Full", "", nil)
	if res.status != http.StatusOK || res.record(t).Fields["Name"].str() != "Acme 2" {
		t.Errorf("get ?layoutTypes=Full: got %d %s", res.status, res.body)
	}

	res = o.ui(t, "DELETE", path, "", nil)
	if res.status != http.StatusNoContent || len(res.body) != 0 {
		t.Fatalf("delete: got %d %q, want 204 and no body", res.status, res.body)
	}
	res = o.ui(t, "GET", path+"?fields=Account.Name", "", nil)
	if res.status != http.StatusNotFound || res.errorCode(t) != "ENTITY_IS_DELETED" {
		t.Errorf("get after delete: got %d %s, want 404 ENTITY_IS_DELETED", res.status, res.body)
	}
	for route, want := range map[string]int{sforg.RouteUIRecordCreate: 1, sforg.RouteUIRecordGet: 3, sforg.RouteUIRecordUpdate: 1, sforg.RouteUIRecordDelete: 1} {
		if got := o.Requests(route); got != want {
			t.Errorf("requests %s: got %d, want %d", route, got, want)
		}
	}
}

func TestUIRecordPropertiesByVersion(t *testing.T) {
	o := newOrg(t, sforg.Options{})
	base := []string{"apiName", "childRelationships", "fields", "id", "recordTypeInfo"}
	tests := []struct {
		version string
		want    []string // top-level properties; nil: the resource does not exist
	}{
		{"40.0", nil},
		{"41.0", base},
		{"42.0", append([]string{"eTag"}, base...)},
		{"44.0", append([]string{"eTag", "lastModifiedById", "lastModifiedDate", "systemModstamp"}, base...)},
		{"48.0", append([]string{"eTag", "lastModifiedById", "lastModifiedDate", "recordTypeId", "systemModstamp", "weakEtag"}, base...)},
		{sforg.CurrentVersion, append([]string{"eTag", "lastModifiedById", "lastModifiedDate", "recordTypeId", "systemModstamp", "weakEtag"}, base...)},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			res := o.ui(t, "POST", "/services/data/v"+tt.version+"/ui-api/records", "", map[string]any{"apiName": "Account", "fields": map[string]any{"Name": "V" + tt.version}})
			if tt.want == nil {
				if res.status != http.StatusNotFound || res.errorCode(t) != "NOT_FOUND" {
					t.Fatalf("got %d %s, want 404 NOT_FOUND", res.status, res.body)
				}
				return
			}
			if res.status != http.StatusCreated {
				t.Fatalf("got %d %s, want 201", res.status, res.body)
			}
			var top map[string]json.RawMessage
			res.json(t, &top)
			slices.Sort(tt.want)
			if got := sortedKeys(top); !slices.Equal(got, tt.want) {
				t.Errorf("properties: got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestUIRecordSpanningFields(t *testing.T) {
	o := newOrg(t, sforg.Options{})
	acct := o.create(t, "Account", map[string]any{"Name": "Parent Co"})
	contact := o.create(t, "Contact", map[string]any{"LastName": "Doe", "AccountId": acct})
	res := o.ui(t, "GET", uiV+"/ui-api/records/"+contact[:15]+"?fields=Contact.LastName,Contact.Account.Name,Contact.Account.Owner.Name", "", nil)
	if res.status != http.StatusOK {
		t.Fatalf("got %d %s", res.status, res.body)
	}
	rec := res.record(t)
	if rec.ID != contact {
		t.Errorf("id: got %q, want the 18-character %q", rec.ID, contact)
	}
	if got := sortedKeys(rec.Fields); !slices.Equal(got, []string{"Account", "AccountId", "LastName"}) {
		t.Fatalf("fields: got %v, want [Account AccountId LastName]", got)
	}
	account := rec.Fields["Account"]
	parent := account.record(t)
	owner := parent.Fields["Owner"].record(t)
	checks := []struct{ name, got, want string }{
		{"Account display", display(account), "Parent Co"},
		{"AccountId", rec.Fields["AccountId"].str(), acct},
		{"parent fields", strings.Join(sortedKeys(parent.Fields), ","), "Id,Name,Owner,OwnerId"},
		{"parent Name", parent.Fields["Name"].str(), "Parent Co"},
		{"owner fields", strings.Join(sortedKeys(owner.Fields), ","), "Id,Name"},
		{"owner Name", owner.Fields["Name"].str(), "Integration User"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
}

func TestUIRecordErrors(t *testing.T) {
	o := newOrg(t, sforg.Options{})
	acct := o.create(t, "Account", map[string]any{"Name": "Acme"})
	gone := o.create(t, "Account", map[string]any{"Name": "Gone"})
	if res := o.do(t, "DELETE", "/services/data/v45.0/sobjects/Account/"+gone, nil); res.status != http.StatusNoContent {
		t.Fatalf("delete: got %d", res.status)
	}
	absent := ids.New("001", "5g0", 999999)
	records, record := uiV+"/ui-api/records", uiV+"/ui-api/records/"+acct
	tests := []struct {
		name       string
		method     string
		path       string
		body       any
		wantStatus int
		wantCode   string
		wantMsg    string // exact message, or a prefix when it ends in "..."
	}{
		{"get without fields", "GET", record, nil, 400, "INVALID_INPUT_COMBINATION", "Must provide either 'fields' or 'layoutTypes'."},
		{"get with optionalFields only", "GET", record + "?optionalFields=Account.Name", nil, 400, "INVALID_INPUT_COMBINATION", "Must provide either 'fields' or 'layoutTypes'."},
		{"get unknown field", "GET", record + "?fields=Account.Name,Account.Nope", nil, 400, "INVALID_FIELD", "INVALID_FIELD: \nSELECT Name, Nope FROM Account WHERE Id\n             ^\nERROR at Row:1:Column:14\nNo such column 'Nope' on entity 'Account'. If you are attempting..."},
		{"get field of another object", "GET", record + "?fields=Contact.LastName", nil, 400, "INVALID_FIELD", "INVALID_FIELD: \nSELECT Contact.LastName FROM Account..."},
		{"get unknown layout", "GET", record + "?layoutTypes=Huge", nil, 400, "ILLEGAL_QUERY_PARAMETER_VALUE", ""},
		{"get absent record", "GET", uiV + "/ui-api/records/" + absent + "?fields=Account.Name", nil, 404, "NOT_FOUND", "The requested resource does not exist"},
		{"get malformed id", "GET", uiV + "/ui-api/records/001nope?fields=Account.Name", nil, 404, "NOT_FOUND", "The requested resource does not exist"},
		{"update deleted record", "PATCH", uiV + "/ui-api/records/" + gone, map[string]any{"fields": map[string]any{"Name": "x"}}, 404, "ENTITY_IS_DELETED", "entity is deleted"},
		{"delete deleted record", "DELETE", uiV + "/ui-api/records/" + gone, nil, 404, "ENTITY_IS_DELETED", "entity is deleted"},
		{"create without body", "POST", records, "", 400, "ILLEGAL_QUERY_PARAMETER_VALUE", "Record input is required for POST."},
		{"create with null body", "POST", records, "null", 400, "ILLEGAL_QUERY_PARAMETER_VALUE", "Record input is required for POST."},
		{"update without body", "PATCH", record, "", 400, "ILLEGAL_QUERY_PARAMETER_VALUE", "Record input is required for PATCH."},
		{"create without apiName", "POST", records, map[string]any{"fields": map[string]any{"Name": "x"}}, 400, "ILLEGAL_QUERY_PARAMETER_VALUE", ""},
		{"create unknown object", "POST", records, map[string]any{"apiName": "Nope__c", "fields": map[string]any{}}, 400, "INVALID_TYPE", "sObject type 'Nope__c' is not supported..."},
		{"update with another apiName", "PATCH", record, map[string]any{"apiName": "Contact", "fields": map[string]any{}}, 400, "ILLEGAL_QUERY_PARAMETER_VALUE", ""},
		{"bad JSON", "POST", records, `{"apiName" x}`, 400, "JSON_PARSER_ERROR", "Unexpected character ('x' (code 120)): was expecting a colon to separate field name and value at [line:1, column:13]"},
		{"number for a string", "POST", records, map[string]any{"apiName": "Account", "fields": map[string]any{"Name": 5}}, 400, "POST_BODY_PARSE_ERROR", "Value for field 'Name' in object 'Account' with data type 'STRING' should be a String but instead is a Integer."},
		{"string for a number", "PATCH", record, map[string]any{"fields": map[string]any{"NumberOfEmployees": "ten"}}, 400, "POST_BODY_PARSE_ERROR", "Value for field 'NumberOfEmployees' in object 'Account' with data type 'INT' should be a Integer but instead is a String."},
		{"unknown field", "POST", records, map[string]any{"apiName": "Account", "fields": map[string]any{"Name": "x", "Nope": "y"}}, 400, "INVALID_FIELD", "No such column 'Nope' on sobject of type Account"},
		{"method not allowed", "PUT", record, map[string]any{}, 405, "METHOD_NOT_ALLOWED", "HTTP Method 'PUT' not allowed. Allowed are HEAD,GET,PATCH,DELETE"},
		{"no session", "GET", record + "?fields=Account.Name", nil, 401, "INVALID_SESSION_ID", "Session expired or invalid"},
		{"retired version", "POST", "/services/data/v30.0/ui-api/records", map[string]any{"apiName": "Account", "fields": map[string]any{"Name": "x"}}, 410, "GONE", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token := o.token
			if tt.wantStatus == http.StatusUnauthorized {
				token = ""
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
			if prefix, ok := strings.CutSuffix(tt.wantMsg, "..."); ok && !strings.HasPrefix(errs[0].Message, prefix) {
				t.Errorf("message: got %q, want it to start with %q", errs[0].Message, prefix)
			} else if !ok && tt.wantMsg != "" && errs[0].Message != tt.wantMsg {
				t.Errorf("message: got %q, want %q", errs[0].Message, tt.wantMsg)
			}
		})
	}
}

// errorWithOutput is the UI API's answer to a refused save.
type errorWithOutput struct {
	EnhancedErrorType string `json:"enhancedErrorType"`
	Message           string `json:"message"`
	Output            struct {
		Errors      []recordError            `json:"errors"`
		FieldErrors map[string][]recordError `json:"fieldErrors"`
	} `json:"output"`
}

type recordError struct {
	ConstituentField     *string `json:"constituentField"`
	DuplicateRecordError any     `json:"duplicateRecordError"`
	ErrorCode            string  `json:"errorCode"`
	Field                *string `json:"field"`
	FieldLabel           *string `json:"fieldLabel"`
	Message              string  `json:"message"`
}

func TestUIRecordSaveErrors(t *testing.T) {
	o := newOrg(t, sforg.Options{})
	acct := o.create(t, "Account", map[string]any{"Name": "Acme"})
	contact := o.create(t, "Contact", map[string]any{"LastName": "Doe"})
	records := uiV + "/ui-api/records"
	tests := []struct {
		name       string
		method     string
		path       string
		body       any
		wantCode   string
		wantFields map[string]string // field -> its label; empty: a general error
		wantMsg    string
	}{
		{"required field missing", "POST", records, map[string]any{"apiName": "Opportunity", "fields": map[string]any{"Name": "Deal"}}, "REQUIRED_FIELD_MISSING",
			map[string]string{"StageName": "Stage", "CloseDate": "Close Date"}, "Required fields are missing: [StageName, CloseDate]"},
		{"required field blanked", "PATCH", records + "/" + acct, map[string]any{"fields": map[string]any{"Name": nil}}, "REQUIRED_FIELD_MISSING",
			map[string]string{"Name": "Account Name"}, "Required fields are missing: [Name]"},
		{"value too long", "POST", records, map[string]any{"apiName": "Account", "fields": map[string]any{"Name": strings.Repeat("x", 256)}}, "STRING_TOO_LONG",
			map[string]string{"Name": "Account Name"}, ""},
		{"lookup to another object", "POST", records, map[string]any{"apiName": "Contact", "fields": map[string]any{"LastName": "x", "AccountId": contact}}, "MALFORMED_ID",
			map[string]string{"AccountId": "Account ID"}, "Account ID: id value of incorrect type: " + contact},
		{"read-only field", "POST", records, map[string]any{"apiName": "Contact", "fields": map[string]any{"LastName": "x", "Name": "y"}}, "INVALID_FIELD_FOR_INSERT_UPDATE",
			map[string]string{"Name": "Full Name"}, ""},
		{"object only the platform writes", "POST", records, map[string]any{"apiName": "User", "fields": map[string]any{"LastName": "x"}}, "INVALID_TYPE_FOR_OPERATION",
			nil, "entity type User does not support insert"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := o.ui(t, tt.method, tt.path, "", tt.body)
			if res.status != http.StatusBadRequest {
				t.Fatalf("status: got %d %s, want 400", res.status, res.body)
			}
			var e errorWithOutput
			res.json(t, &e)
			if e.EnhancedErrorType != "RecordError" || e.Message != "An error occurred while trying to update the record. Please try again." {
				t.Errorf("got %s, want a RecordError with the update message", res.body)
			}
			var all []recordError
			if len(tt.wantFields) == 0 {
				all = e.Output.Errors
				if len(all) != 1 || len(e.Output.FieldErrors) != 0 {
					t.Fatalf("got %s, want one general error", res.body)
				}
			}
			for field, label := range tt.wantFields {
				errs := e.Output.FieldErrors[field]
				if len(errs) != 1 || errs[0].Field == nil || *errs[0].Field != field || errs[0].FieldLabel == nil || *errs[0].FieldLabel != label {
					t.Fatalf("fieldErrors[%s]: got %s, want one error with field %s, label %q", field, res.body, field, label)
				}
				all = append(all, errs...)
			}
			for _, re := range all {
				if re.ErrorCode != tt.wantCode || (tt.wantMsg != "" && re.Message != tt.wantMsg) || re.ConstituentField != nil || re.DuplicateRecordError != nil {
					t.Errorf("error: got %+v, want code %s message %q", re, tt.wantCode, tt.wantMsg)
				}
			}
		})
	}

	// Before 43.0 a read-only field is the plain error array.
	res := o.ui(t, "POST", "/services/data/v42.0/ui-api/records", "", map[string]any{"apiName": "Contact", "fields": map[string]any{"LastName": "x", "Name": "y"}})
	if res.status != http.StatusBadRequest || res.errorCode(t) != "INVALID_FIELD_FOR_INSERT_UPDATE" {
		t.Errorf("v42.0 read-only field: got %d %s, want the error array", res.status, res.body)
	}
	if got := o.Store().Count("Contact"); got != 1 {
		t.Errorf("contacts after refused saves: got %d, want 1", got)
	}
}

func TestUIRecordDisplayValues(t *testing.T) {
	clock := testclock.New(time.Date(2026, 7, 4, 23, 30, 0, 0, time.UTC))
	o := newOrg(t, sforg.Options{Now: clock.Now})
	res := o.ui(t, "POST", uiV+"/ui-api/records", "", map[string]any{"apiName": "Opportunity", "fields": map[string]any{
		"Name": "Deal", "StageName": "Closed Won", "CloseDate": "2026-01-05", "Amount": -1234567.5,
	}})
	if res.status != http.StatusCreated {
		t.Fatalf("got %d %s", res.status, res.body)
	}
	f := res.record(t).Fields
	tests := []struct{ field, wantValue, wantDisplay string }{
		{"CloseDate", `"2026-01-05"`, "1/5/2026"},
		{"Amount", "-1234567.5", "-$1,234,567.50"},
		{"StageName", `"Closed Won"`, "Closed Won"},
		{"IsWon", "true", "<null>"},
		{"Probability", "null", "<null>"},
		{"CreatedDate", `"2026-07-04T23:30:00.000Z"`, "7/4/2026, 4:30 PM"}, // PDT
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			if got := string(f[tt.field].Value); got != tt.wantValue {
				t.Errorf("value: got %s, want %s", got, tt.wantValue)
			}
			if got := display(f[tt.field]); got != tt.wantDisplay {
				t.Errorf("displayValue: got %q, want %q", got, tt.wantDisplay)
			}
		})
	}
}

func TestSecondLoginUser(t *testing.T) {
	second := sforg.LoginUser{Username: "second@sforg.local", Password: "second-password"}
	o := newOrg(t, sforg.Options{Users: []sforg.LoginUser{second}})
	token, identity := loginAs(t, o.Server, sforg.LoginUser{Username: "SECOND@sforg.local", Password: second.Password})
	ids := o.Store().FindBy("User", "Username", second.Username)
	if len(ids) != 1 || !strings.HasSuffix(identity, "/"+ids[0]) {
		t.Fatalf("identity URL %q, users %v: want the second user's", identity, ids)
	}
	res := sendHeader(t, "POST", o.URL+uiV+"/ui-api/records", token, nil, map[string]any{"apiName": "Account", "fields": map[string]any{"Name": "Theirs"}})
	if res.status != http.StatusCreated {
		t.Fatalf("create: got %d %s", res.status, res.body)
	}
	rec := res.record(t)
	for _, name := range []string{"CreatedById", "LastModifiedById", "OwnerId"} {
		if got := rec.Fields[name].str(); got != ids[0] {
			t.Errorf("%s: got %q, want the second user %q", name, got, ids[0])
		}
	}
	if got := display(rec.Fields["Owner"]); got != "second" {
		t.Errorf("Owner display: got %q, want %q", got, "second")
	}

	form := passwordForm(o.Server)
	form.Set("username", second.Username)
	form.Set("password", "wrong"+sforg.DefaultSecurityToken)
	if res := postForm(t, o.Server, form, "", ""); res.status != http.StatusBadRequest {
		t.Errorf("wrong password: got %d, want 400", res.status)
	}
	for _, bad := range [][]sforg.LoginUser{{{Username: sforg.DefaultUsername, Password: "x"}}, {{Username: "u@x"}}, {second, second}} {
		if _, err := sforg.Start(sforg.Options{Users: bad}); err == nil {
			t.Errorf("Start with Users %+v: got nil error", bad)
		}
	}
}

// loginAs logs a user of Options.Users in by the password flow and returns
// its access token and identity URL.
func loginAs(t *testing.T, s *sforg.Server, u sforg.LoginUser) (token, identity string) {
	t.Helper()
	form := passwordForm(s)
	form.Set("username", u.Username)
	form.Set("password", u.Password+sforg.DefaultSecurityToken)
	res := postForm(t, s, form, "", "")
	if res.status != http.StatusOK {
		t.Fatalf("login as %s: got %d %s", u.Username, res.status, res.body)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		ID          string `json:"id"`
	}
	res.json(t, &tok)
	return tok.AccessToken, tok.ID
}
