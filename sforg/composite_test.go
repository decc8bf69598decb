package sforg_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sfconnect/connector/sforg"
)

// subresult is one entry of a composite answer.
type subresult struct {
	Body           json.RawMessage   `json:"body"`
	HTTPHeaders    map[string]string `json:"httpHeaders"`
	HTTPStatusCode int               `json:"httpStatusCode"`
	ReferenceID    *string           `json:"referenceId"`
}

// first returns the first error of a failed subresult's error array.
func (s subresult) first(t *testing.T) sforg.APIError {
	t.Helper()
	var errs []sforg.APIError
	if err := json.Unmarshal(s.Body, &errs); err != nil || len(errs) == 0 {
		t.Fatalf("body %s is not an error array", s.Body)
	}
	return errs[0]
}

func (s subresult) code(t *testing.T) string    { t.Helper(); return s.first(t).ErrorCode }
func (s subresult) message(t *testing.T) string { t.Helper(); return s.first(t).Message }

// id returns the "id" of a subresult's body.
func (s subresult) id(t *testing.T) string {
	t.Helper()
	var out struct{ ID string }
	if err := json.Unmarshal(s.Body, &out); err != nil {
		t.Fatalf("body %s: %v", s.Body, err)
	}
	return out.ID
}

// decodeOK decodes the body of a 200 answer.
func decodeOK[T any](t *testing.T, r response) T {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("got %d %s, want 200", r.status, r.body)
	}
	var out T
	r.json(t, &out)
	return out
}

// subresults decodes a 200 composite answer.
func (r response) subresults(t *testing.T) []subresult {
	t.Helper()
	return decodeOK[struct {
		CompositeResponse []subresult `json:"compositeResponse"`
	}](t, r).CompositeResponse
}

// sub is one subrequest; body may be nil.
func sub(method, url, ref string, body any) map[string]any {
	s := map[string]any{"method": method, "url": url, "referenceId": ref}
	if body != nil {
		s["body"] = body
	}
	return s
}

// composite posts a composite request at v50.0.
func (o org) composite(t *testing.T, allOrNone bool, subs ...map[string]any) response {
	t.Helper()
	return o.do(t, http.MethodPost, "/services/data/v50.0/composite", map[string]any{"allOrNone": allOrNone, "compositeRequest": subs})
}

// wantStatuses checks each subresult's status.
func wantStatuses(t *testing.T, got []subresult, want ...int) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d results, want %d", len(got), len(want))
	}
	for i, w := range want {
		if got[i].HTTPStatusCode != w {
			t.Errorf("result %d: got %d %s, want %d", i, got[i].HTTPStatusCode, got[i].Body, w)
		}
	}
}

const (
	v50          = "/services/data/v50.0"
	rolledBack   = "The transaction was rolled back since another operation in the same transaction failed."
	accountsPath = v50 + "/sobjects/Account"
)

func TestCompositeReferences(t *testing.T) {
	o := newOrg(t, sforg.Options{})
	res := o.composite(t, false,
		sub("POST", accountsPath, "acct", map[string]any{"Name": "Composite Co", "NumberOfEmployees": 12}),
		sub("GET", accountsPath+"/@{acct.id}?fields=Name,NumberOfEmployees", "row", nil),
		sub("POST", v50+"/sobjects/Contact", "ct", map[string]any{"LastName": "@{row.Name}", "AccountId": "@{acct.id}", "Title": "Staff of @{row.NumberOfEmployees}"}),
		sub("GET", v50+"/query?q=SELECT+Id,LastName+FROM+Contact+WHERE+AccountId='@{acct.id}'", "q", nil),
		sub("PATCH", v50+"/sobjects/Contact/@{q.records[0].Id}", "upd", map[string]any{"Department": "@{q.records[0].LastName}"}),
		sub("DELETE", accountsPath+"/@{acct.id}", "del", nil),
	)
	got := res.subresults(t)
	wantStatuses(t, got, 201, 200, 201, 200, 204, 204)
	acct := got[0].id(t)
	for i, ref := range []string{"acct", "row", "ct", "q", "upd", "del"} {
		if got[i].ReferenceID == nil || *got[i].ReferenceID != ref {
			t.Errorf("result %d referenceId: got %v, want %q", i, got[i].ReferenceID, ref)
		}
	}
	if want := map[string]string{"Location": accountsPath + "/" + acct}; !jsonEqual(got[0].HTTPHeaders, want) {
		t.Errorf("create httpHeaders: got %v, want %v", got[0].HTTPHeaders, want)
	}
	if len(got[1].HTTPHeaders) != 0 || got[1].HTTPHeaders == nil {
		t.Errorf("get httpHeaders: got %v, want {} (no Content-Type, no Sforce-Limit-Info)", got[1].HTTPHeaders)
	}
	if string(got[4].Body) != "null" {
		t.Errorf("204 body: got %s, want null", got[4].Body)
	}
	if res.header.Get("Sforce-Limit-Info") == "" {
		t.Error("the composite answer has no Sforce-Limit-Info")
	}
	_, contact, err := o.Store().Get("Contact", got[2].id(t), []string{"LastName", "AccountId", "Title", "Department"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"LastName": "Composite Co", "AccountId": acct, "Title": "Staff of 12", "Department": "Composite Co"}
	if !jsonEqual(contact, want) {
		t.Errorf("contact: got %v, want %v", contact, want)
	}
	if _, _, err := o.Store().Get("Account", acct, nil); err == nil {
		t.Error("the account is still there after the DELETE subrequest")
	}
}

func TestCompositeMatchesCamelCaptures(t *testing.T) {
	const dir = "apache-camel-salesforce/components/camel-salesforce/camel-salesforce-component/src/test/resources/org/apache/camel/component/salesforce/api/dto/"
	o := newOrg(t, sforg.Options{})

	t.Run("two creates", func(t *testing.T) {
		res := o.composite(t, true,
			sub("POST", accountsPath, "NewPayment1", map[string]any{"Name": "P1"}),
			sub("POST", accountsPath, "NewPayment2", map[string]any{"Name": "P2"}),
		)
		sameKeysAndTypes(t, res.body, fixture(t, dir+"composite_response_example_success.json"))
		for i, r := range res.subresults(t) {
			if want := accountsPath + "/" + r.id(t); r.HTTPHeaders["Location"] != want {
				t.Errorf("result %d Location: got %q, want %q", i, r.HTTPHeaders["Location"], want)
			}
		}
	})

	t.Run("an all-or-none rollback", func(t *testing.T) {
		before := o.Store().Count("Account")
		res := o.composite(t, true,
			sub("POST", accountsPath, "NewPayment1", map[string]any{"Name": "P3"}),
			sub("POST", accountsPath, "NewPayment2", map[string]any{"Phone": "555"}),
		)
		want := fixture(t, dir+"composite_response_example_failure.json")
		sameKeysAndTypes(t, res.body, want)
		var capture struct {
			CompositeResponse []subresult `json:"compositeResponse"`
		}
		if err := json.Unmarshal(want, &capture); err != nil {
			t.Fatal(err)
		}
		got := res.subresults(t)
		var gotErrs, wantErrs []sforg.APIError
		if err := json.Unmarshal(got[0].Body, &gotErrs); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(capture.CompositeResponse[0].Body, &wantErrs); err != nil {
			t.Fatal(err)
		}
		if !jsonEqual(gotErrs, wantErrs) {
			t.Errorf("rolled-back result: got %s, want %s", got[0].Body, capture.CompositeResponse[0].Body)
		}
		if got[1].code(t) != "REQUIRED_FIELD_MISSING" {
			t.Errorf("failed result: got %s, want REQUIRED_FIELD_MISSING", got[1].Body)
		}
		if n := o.Store().Count("Account"); n != before {
			t.Errorf("accounts: got %d, want %d (nothing committed)", n, before)
		}
	})
}

func TestCompositeAllOrNone(t *testing.T) {
	o := newOrg(t, sforg.Options{})
	keep := o.create(t, "Account", map[string]any{"Name": "Keep"})
	gone := o.create(t, "Account", map[string]any{"Name": "Delete me"})
	name := func(id string) string {
		_, f, err := o.Store().Get("Account", id, []string{"Name"})
		if err != nil {
			return "(" + err.Error() + ")"
		}
		return f["Name"].(string)
	}
	tests := []struct {
		name      string
		allOrNone bool
		subs      []map[string]any
		statuses  []int
		codes     []string // "" for a success
		accounts  int      // live accounts afterwards
		keepName  string
	}{
		{
			name:      "rolled back: every other result PROCESSING_HALTED, later ones not run",
			allOrNone: true,
			subs: []map[string]any{
				sub("POST", accountsPath, "a1", map[string]any{"Name": "A1"}),
				sub("PATCH", accountsPath+"/"+keep, "rename", map[string]any{"Name": "Renamed"}),
				sub("DELETE", accountsPath+"/"+gone, "del", nil),
				sub("POST", accountsPath, "bad", map[string]any{"Phone": "1"}),
				sub("POST", accountsPath, "a2", map[string]any{"Name": "A2"}),
			},
			statuses: []int{400, 400, 400, 400, 400},
			codes:    []string{"PROCESSING_HALTED", "PROCESSING_HALTED", "PROCESSING_HALTED", "REQUIRED_FIELD_MISSING", "PROCESSING_HALTED"},
			accounts: 2,
			keepName: "Keep",
		},
		{
			name:      "independent: the others commit, a dependant of the failed one does not run",
			allOrNone: false,
			subs: []map[string]any{
				sub("POST", accountsPath, "bad", map[string]any{"Phone": "1"}),
				sub("POST", v50+"/sobjects/Contact", "dependant", map[string]any{"LastName": "x", "AccountId": "@{bad.id}"}),
				sub("PATCH", accountsPath+"/"+keep, "rename", map[string]any{"Name": "Renamed"}),
				sub("POST", accountsPath, "a1", map[string]any{"Name": "A1"}),
			},
			statuses: []int{400, 400, 204, 201},
			codes:    []string{"REQUIRED_FIELD_MISSING", "PROCESSING_HALTED", "", ""},
			accounts: 3,
			keepName: "Renamed",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := o.composite(t, tt.allOrNone, tt.subs...).subresults(t)
			wantStatuses(t, got, tt.statuses...)
			for i, code := range tt.codes {
				if code != "" && got[i].code(t) != code {
					t.Errorf("result %d: got %s, want %s", i, got[i].Body, code)
				}
				if code == "PROCESSING_HALTED" && tt.allOrNone && got[i].message(t) != rolledBack {
					t.Errorf("result %d message: got %q, want %q", i, got[i].message(t), rolledBack)
				}
			}
			if n := o.Store().Count("Account"); n != tt.accounts {
				t.Errorf("live accounts: got %d, want %d", n, tt.accounts)
			}
			if got := name(keep); got != tt.keepName {
				t.Errorf("name: got %q, want %q", got, tt.keepName)
			}
		})
	}
	if got := name(gone); got != "Delete me" {
		t.Errorf("the rolled-back delete: got %q, want %q", got, "Delete me")
	}
}

func TestCompositeReferenceFailures(t *testing.T) {
	o := newOrg(t, sforg.Options{})
	tests := []struct {
		name, url string
		body      any
		message   string
	}{
		{"a later subrequest", accountsPath + "/@{later.id}", nil, "Invalid reference specified. No value for later.id found in later"},
		{"an unknown referenceId", accountsPath, map[string]any{"Name": "@{nope.Name}"}, "Invalid reference specified. No value for nope.Name found in nope"},
		{"an index past the end", accountsPath + "/@{q.records[3].Id}", nil, "Invalid reference specified. No value for q.records[3].Id found in q"},
		{"a missing field", accountsPath, map[string]any{"Name": "@{acct.nope}"}, "Invalid reference specified. No value for acct.nope found in acct"},
		{"a null value", accountsPath, map[string]any{"Name": "@{row.Phone}"}, "Invalid reference specified. No value for row.Phone found in row"},
		{"a bodiless result", accountsPath, map[string]any{"Name": "@{upd.id}"}, "Invalid reference specified. No value for upd.id found in upd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := "POST"
			if tt.body == nil {
				method = "GET"
			}
			got := o.composite(t, false,
				sub("POST", accountsPath, "acct", map[string]any{"Name": "Ref"}),
				sub("GET", accountsPath+"/@{acct.id}", "row", nil),
				sub("GET", v50+"/query?q=SELECT+Id+FROM+Account+WHERE+Id='@{acct.id}'", "q", nil),
				sub("PATCH", accountsPath+"/@{acct.id}", "upd", map[string]any{"Phone": "1"}),
				sub(method, tt.url, "dependant", tt.body),
				sub("GET", accountsPath+"/@{acct.id}", "later", nil),
			).subresults(t)
			wantStatuses(t, got, 201, 200, 200, 204, 400, 200)
			if got[4].code(t) != "PROCESSING_HALTED" || got[4].message(t) != tt.message {
				t.Errorf("got %s, want PROCESSING_HALTED %q", got[4].Body, tt.message)
			}
		})
	}
}

func TestCompositeRefusals(t *testing.T) {
	o := newOrg(t, sforg.Options{})
	many := func(n int, url string) []map[string]any {
		out := make([]map[string]any, n)
		for i := range out {
			out[i] = sub("GET", url, fmt.Sprintf("r%d", i), nil)
		}
		return out
	}
	query := v50 + "/query?q=SELECT+Id+FROM+Account"
	creates := make([]map[string]any, 26)
	for i := range creates {
		creates[i] = sub("POST", accountsPath, fmt.Sprintf("c%d", i), map[string]any{"Name": "x"})
	}
	tests := []struct {
		name string
		path string
		body any
		// want: a single compositeResponse entry with code (status 0), or a
		// top-level status and code.
		status int
		code   string
	}{
		{"26 subrequests", "/services/data/v50.0/composite", map[string]any{"compositeRequest": creates}, 0, "LIMIT_EXCEEDED"},
		{"6 queries", "/services/data/v50.0/composite", map[string]any{"compositeRequest": many(6, query)}, 0, "LIMIT_EXCEEDED"},
		{"6 collection reads", "/services/data/v50.0/composite", map[string]any{"compositeRequest": many(6, v50+"/composite/sobjects/Account?ids=001000000000000AAA&fields=Id")}, 0, "LIMIT_EXCEEDED"},
		{"a duplicate referenceId", "/services/data/v50.0/composite", map[string]any{"compositeRequest": []any{sub("GET", accountsPath, "a", nil), sub("GET", accountsPath, "a", nil)}}, 0, "INVALID_INPUT"},
		{"no referenceId", "/services/data/v50.0/composite", map[string]any{"compositeRequest": []any{sub("GET", accountsPath, "", nil)}}, 0, "INVALID_INPUT"},
		{"a lower-case method", "/services/data/v50.0/composite", map[string]any{"compositeRequest": []any{sub("post", accountsPath, "a", map[string]any{"Name": "x"})}}, 0, "INVALID_INPUT"},
		{"an Authorization header", "/services/data/v50.0/composite", map[string]any{"compositeRequest": []any{
			map[string]any{"method": "GET", "url": accountsPath, "referenceId": "a", "httpHeaders": map[string]string{"authorization": "Bearer x"}},
		}}, 400, "INVALID_INPUT"},
		{"no compositeRequest", "/services/data/v50.0/composite", map[string]any{"allOrNone": true}, 400, "MISSING_ARGUMENT"},
		{"bad JSON", "/services/data/v50.0/composite", `{"compositeRequest": [`, 400, "JSON_PARSER_ERROR"},
		{"before 38.0", "/services/data/v37.0/composite", map[string]any{"compositeRequest": []any{sub("GET", accountsPath, "a", nil)}}, 404, "NOT_FOUND"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := o.Store().Count("Account")
			res := o.do(t, http.MethodPost, tt.path, tt.body)
			if tt.status != 0 {
				if res.status != tt.status || res.errorCode(t) != tt.code {
					t.Errorf("got %d %s, want %d %s", res.status, res.body, tt.status, tt.code)
				}
			} else {
				got := res.subresults(t)
				if len(got) != 1 || got[0].HTTPStatusCode != 400 || got[0].code(t) != tt.code {
					t.Fatalf("got %s, want one result 400 %s", res.body, tt.code)
				}
			}
			if n := o.Store().Count("Account"); n != before {
				t.Errorf("accounts: got %d, want %d (nothing run)", n, before)
			}
		})
	}

	t.Run("the 26-subrequest answer is Salesforce's", func(t *testing.T) {
		res := o.do(t, http.MethodPost, "/services/data/v50.0/composite", map[string]any{"compositeRequest": creates})
		want := `{"compositeResponse":[{"body":[{"message":"The request can’t contain more than 25 operations.","errorCode":"LIMIT_EXCEEDED"}],"httpHeaders":{},"httpStatusCode":400,"referenceId":null}]}`
		if got := strings.TrimSpace(string(res.body)); got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	})

	t.Run("25 subrequests and 5 queries run", func(t *testing.T) {
		subs := append(many(5, query), many(20, accountsPath+"/describe")...)
		for i := range subs {
			subs[i]["referenceId"] = fmt.Sprintf("s%d", i)
		}
		got := o.composite(t, false, subs...).subresults(t)
		for i, r := range got {
			if r.HTTPStatusCode != 200 {
				t.Errorf("result %d: got %d %s", i, r.HTTPStatusCode, r.Body)
			}
		}
	})
}

func TestCompositeSubrequestTargets(t *testing.T) {
	o := newOrg(t, sforg.Options{})
	tests := []struct {
		name, version, method, url string
		status                     int
		code                       string
	}{
		{"limits", "v50.0", "GET", v50 + "/limits", 400, "INVALID_API_INPUT"},
		{"approvals", "v50.0", "GET", v50 + "/process/approvals", 400, "INVALID_API_INPUT"},
		{"a nested composite", "v50.0", "POST", v50 + "/composite", 400, "INVALID_API_INPUT"},
		{"apex REST", "v50.0", "GET", "/services/apexrest/x", 400, "INVALID_API_INPUT"},
		{"collections before 43.0", "v42.0", "GET", "/services/data/v42.0/composite/sobjects/Account?ids=001000000000000AAA&fields=Id", 400, "INVALID_API_INPUT"},
		{"collections from 43.0", "v43.0", "GET", "/services/data/v43.0/composite/sobjects/Account?ids=001000000000000AAA&fields=Id", 200, ""},
		{"describe", "v50.0", "GET", accountsPath + "/describe", 200, ""},
		{"an unknown sObject answers as on its own", "v50.0", "GET", v50 + "/sobjects/Nope__c/describe", 404, "NOT_FOUND"},
		{"a retired version answers as on its own", "v50.0", "GET", "/services/data/v29.0/sobjects/Account/describe", 410, "GONE"},
		{"PUT answers as on its own", "v50.0", "PUT", accountsPath, 405, "METHOD_NOT_ALLOWED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := o.do(t, http.MethodPost, "/services/data/"+tt.version+"/composite", map[string]any{"compositeRequest": []any{sub(tt.method, tt.url, "r", nil)}})
			got := res.subresults(t)
			wantStatuses(t, got, tt.status)
			if tt.code != "" && got[0].code(t) != tt.code {
				t.Errorf("got %s, want %s", got[0].Body, tt.code)
			}
		})
	}
}

func TestCompositeReferenceIDCharacters(t *testing.T) {
	o := newOrg(t, sforg.Options{})
	for _, tt := range []struct {
		version string
		status  int
	}{{"v53.0", 200}, {"v54.0", 400}} {
		t.Run(tt.version, func(t *testing.T) {
			res := o.do(t, http.MethodPost, "/services/data/"+tt.version+"/composite", map[string]any{"compositeRequest": []any{
				sub("GET", "/services/data/"+tt.version+"/sobjects/Account/describe", "link-1", nil),
				sub("GET", "/services/data/"+tt.version+"/sobjects/Account/describe", "ok_1", nil),
			}})
			got := res.subresults(t)
			wantStatuses(t, got, tt.status, 200)
			if tt.status == 400 {
				want := "Provided referenceId ('link-1') must start with a letter or a number, and it can contain only letters, numbers and underscores ('_')."
				if got[0].message(t) != want {
					t.Errorf("got %q, want %q", got[0].message(t), want)
				}
			}
		})
	}
}

func TestCompositeWithCollections(t *testing.T) {
	o := newOrg(t, sforg.Options{})
	records := map[string]any{"allOrNone": false, "records": []any{account("In collection"), account("")}}
	tests := []struct {
		name     string
		outer    bool
		statuses []int
		codes    []string // the collection's per-record codes
		accounts int      // created
	}{
		{"outer allOrNone makes the collection all-or-none and fails the composite", true, []int{200, 400}, []string{"ALL_OR_NONE_OPERATION_ROLLED_BACK", "REQUIRED_FIELD_MISSING"}, 0},
		{"outer false: the collection follows its own flag", false, []int{200, 201}, []string{"", "REQUIRED_FIELD_MISSING"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := o.Store().Count("Account")
			got := o.composite(t, tt.outer,
				sub("POST", v50+"/composite/sobjects", "coll", records),
				sub("POST", accountsPath, "single", map[string]any{"Name": "Beside"}),
			).subresults(t)
			wantStatuses(t, got, tt.statuses...)
			var results []collection
			if err := json.Unmarshal(got[0].Body, &results); err != nil {
				t.Fatalf("collection body %s: %v", got[0].Body, err)
			}
			for i, code := range tt.codes {
				if results[i].code() != code {
					t.Errorf("record %d: got %+v, want %q", i, results[i], code)
				}
			}
			if tt.outer && got[1].message(t) != rolledBack {
				t.Errorf("the create beside: got %s, want the rollback message", got[1].Body)
			}
			if n := o.Store().Count("Account") - before; n != tt.accounts {
				t.Errorf("accounts created: got %d, want %d", n, tt.accounts)
			}
		})
	}
}

func TestCompositeCountsOneCall(t *testing.T) {
	o := newOrg(t, sforg.Options{})
	before := o.Counters()
	got := o.composite(t, true,
		sub("POST", accountsPath, "a", map[string]any{"Name": "One call"}),
		sub("POST", accountsPath, "b", map[string]any{"Name": "One call too"}),
		sub("GET", v50+"/query?q=SELECT+Id+FROM+Account", "q", nil),
	).subresults(t)
	wantStatuses(t, got, 201, 201, 200)
	after := o.Counters()
	for key, delta := range map[string]int{
		"api-usage":               1,
		"api-calls.composite":     1,
		"api-calls.rest":          0,
		"api-calls.collections":   0,
		"requests.composite":      1,
		"requests.sobject-create": 2,
		"requests.query":          1,
	} {
		if d := after[key] - before[key]; d != delta {
			t.Errorf("%s: grew by %d, want %d", key, d, delta)
		}
	}
}

func TestCompositeResources(t *testing.T) {
	o := newOrg(t, sforg.Options{})
	res := o.do(t, http.MethodGet, "/services/data/v50.0/composite", nil)
	var got map[string]string
	res.json(t, &got)
	want := map[string]string{"tree": v50 + "/composite/tree", "sobjects": v50 + "/composite/sobjects"}
	if res.status != http.StatusOK || !jsonEqual(got, want) {
		t.Errorf("got %d %s, want 200 %v", res.status, res.body, want)
	}
	var resources map[string]string
	o.do(t, http.MethodGet, "/services/data/v50.0/", nil).json(t, &resources)
	if resources["composite"] != v50+"/composite" {
		t.Errorf("resources: got %v, want composite listed", resources)
	}
}

// postRaw sends a request that may be dropped; it reports the status, or 0
// when the connection was dropped.
func postRaw(t *testing.T, o org, method, path string, body any) int {
	t.Helper()
	data, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, o.URL+path, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+o.token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	defer res.Body.Close()
	io.Copy(io.Discard, res.Body) //nolint:errcheck // only the status matters
	return res.StatusCode
}

func TestCompositeFaults(t *testing.T) {
	body := func(allOrNone bool, second map[string]any) map[string]any {
		return map[string]any{"allOrNone": allOrNone, "compositeRequest": []any{
			sub("POST", accountsPath, "a", map[string]any{"Name": "Faulted"}),
			sub("POST", accountsPath, "b", second),
		}}
	}
	good := map[string]any{"Name": "Faulted too"}
	bad := map[string]any{"Phone": "1"}
	tests := []struct {
		name     string
		fault    sforg.Fault
		body     map[string]any
		status   int // 0: dropped
		accounts int
	}{
		{"drop after the commit: every record stays", sforg.Fault{Route: sforg.RouteComposite, Kind: sforg.FaultDropAfter}, body(true, good), 0, 2},
		{"drop after a rolled-back composite: nothing stays", sforg.Fault{Route: sforg.RouteComposite, Kind: sforg.FaultDropAfter}, body(true, bad), 0, 0},
		{"drop after a partial composite: what succeeded stays", sforg.Fault{Route: sforg.RouteComposite, Kind: sforg.FaultDropAfter}, body(false, bad), 0, 1},
		{"drop before: nothing runs", sforg.Fault{Route: sforg.RouteComposite, Kind: sforg.FaultDropBefore}, body(true, good), 0, 0},
		{"latency: answered as usual", sforg.Fault{Route: sforg.RouteComposite, Kind: sforg.FaultLatency, Delay: time.Millisecond}, body(true, good), 200, 2},
		{"503", sforg.Fault{Route: sforg.RouteComposite, Kind: sforg.FaultStatus, Status: 503}, body(true, good), 503, 0},
		{"session expired", sforg.Fault{Route: sforg.RouteComposite, Kind: sforg.FaultSessionExpired}, body(true, good), 401, 0},
		{"limit exceeded", sforg.Fault{Route: sforg.RouteComposite, Kind: sforg.FaultLimitExceeded}, body(true, good), 403, 0},
		{"a subrequest dropped mid-way: an all-or-none composite is rolled back", sforg.Fault{Route: sforg.RouteCreate, Kind: sforg.FaultDropAfter, Times: 1}, body(true, good), 0, 0},
		{"a subrequest dropped mid-way: an independent one keeps what ran", sforg.Fault{Route: sforg.RouteCreate, Kind: sforg.FaultDropAfter, Times: 1}, body(false, good), 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOrg(t, sforg.Options{})
			if tt.fault.Times == 0 {
				tt.fault.Times = 1
			}
			if err := o.Inject(tt.fault); err != nil {
				t.Fatal(err)
			}
			before := o.Store().Count("Account")
			if got := postRaw(t, o, http.MethodPost, "/services/data/v50.0/composite", tt.body); got != tt.status {
				t.Errorf("status: got %d, want %d (0: dropped)", got, tt.status)
			}
			if n := o.Store().Count("Account") - before; n != tt.accounts {
				t.Errorf("accounts created: got %d, want %d", n, tt.accounts)
			}
		})
	}

	t.Run("a subrequest answered 503 fails an all-or-none composite", func(t *testing.T) {
		o := newOrg(t, sforg.Options{})
		if err := o.Inject(sforg.Fault{Route: sforg.RouteGet, Kind: sforg.FaultStatus, Status: 503, Times: 1}); err != nil {
			t.Fatal(err)
		}
		got := o.composite(t, true,
			sub("POST", accountsPath, "a", map[string]any{"Name": "x"}),
			sub("GET", accountsPath+"/@{a.id}", "b", nil),
		).subresults(t)
		wantStatuses(t, got, 400, 503)
		if got[1].code(t) != "SERVER_UNAVAILABLE" || o.Store().Count("Account") != 0 {
			t.Errorf("got %s and %d accounts, want SERVER_UNAVAILABLE and none", got[1].Body, o.Store().Count("Account"))
		}
	})
}

// TestCompositeRollbackLeavesOthersAlone runs failing all-or-none composites
// beside plain creates: every plain create that succeeded must survive the
// rollbacks, which undo only the composites' own work.
func TestCompositeRollbackLeavesOthersAlone(t *testing.T) {
	o := newOrg(t, sforg.Options{})
	const rounds = 20
	var wg sync.WaitGroup
	var mu sync.Mutex
	created := 0
	for i := range rounds {
		wg.Add(2)
		go func() {
			defer wg.Done()
			if postRaw(t, o, http.MethodPost, accountsPath, map[string]any{"Name": fmt.Sprintf("Plain %d", i)}) == http.StatusCreated {
				mu.Lock()
				created++
				mu.Unlock()
			}
		}()
		go func() {
			defer wg.Done()
			postRaw(t, o, http.MethodPost, "/services/data/v50.0/composite", map[string]any{"allOrNone": true, "compositeRequest": []any{
				sub("POST", accountsPath, "a", map[string]any{"Name": "Composite"}),
				sub("POST", accountsPath, "b", map[string]any{"Name": "Composite"}),
				sub("POST", accountsPath, "c", map[string]any{"Phone": "1"}),
			}})
		}()
	}
	wg.Wait()
	if created != rounds {
		t.Fatalf("plain creates: got %d, want %d", created, rounds)
	}
	if n := o.Store().Count("Account"); n != rounds {
		t.Errorf("accounts: got %d, want %d (the plain ones only)", n, rounds)
	}
}
