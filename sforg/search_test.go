package sforg_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sfconnect/connector/sforg"
)

// searchOrg holds an account with a phone and a website, another account, a
// contact with an email at acme and a lead from an "Acme" company.
type searchOrg struct {
	org
	acme, globex, jane, lead string
}

func newSearchOrg(t *testing.T) *searchOrg {
	t.Helper()
	o := &searchOrg{org: newOrg(t, sforg.Options{})}
	o.acme = o.create(t, "Account", map[string]any{"Name": "Acme Corporation", "Phone": "(415) 555-0100", "Website": "www.acme.example"})
	o.globex = o.create(t, "Account", map[string]any{"Name": "Globex", "Description": "competitor of acme"})
	o.jane = o.create(t, "Contact", map[string]any{"LastName": "Doe", "FirstName": "Jane", "Email": "jane@acme.example"})
	o.lead = o.create(t, "Lead", map[string]any{"LastName": "Coyote", "Company": "Acme Supplies"})
	return o
}

// search sends a GET and decodes searchRecords as type:id labels (or the
// given field of each record).
func (o *searchOrg) search(t *testing.T, path string) (response, []string) {
	t.Helper()
	res := o.do(t, http.MethodGet, path, nil)
	if res.status != http.StatusOK {
		return res, nil
	}
	var body struct {
		SearchRecords []map[string]any `json:"searchRecords"`
	}
	res.json(t, &body)
	names := map[string]string{o.acme: "acme", o.globex: "globex", o.jane: "jane", o.lead: "lead"}
	var got []string
	for _, r := range body.SearchRecords {
		attrs := r["attributes"].(map[string]any)
		u := attrs["url"].(string)
		got = append(got, attrs["type"].(string)+":"+names[u[strings.LastIndex(u, "/")+1:]])
	}
	return res, got
}

func TestSearchREST(t *testing.T) {
	o := newSearchOrg(t)
	sosl := func(q string) string { return "/services/data/v45.0/search/?q=" + url.QueryEscape(q) }
	for _, tc := range []struct {
		name, path string
		want       []string
	}{
		{"all objects", sosl("FIND {acme}"), []string{"Account:acme", "Account:globex", "Contact:jane", "Lead:lead"}},
		{"RETURNING", sosl("FIND {acme} RETURNING Lead(Id, Company), Account(Id, Name)"), []string{"Lead:lead", "Account:acme", "Account:globex"}},
		{"name fields include Website and Company", sosl("FIND {acme} IN NAME FIELDS"), []string{"Account:acme", "Lead:lead"}},
		{"email fields", sosl("FIND {acme} IN EMAIL FIELDS"), []string{"Contact:jane"}},
		{"phone fields", sosl("FIND {555-0100} IN PHONE FIELDS RETURNING Account(Id)"), []string{"Account:acme"}},
		{"no trailing slash", "/services/data/v45.0/search?q=" + url.QueryEscape("FIND {globex}"), []string{"Account:globex"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, got := o.search(t, tc.path)
			if res.status != http.StatusOK {
				t.Fatalf("got %d %s", res.status, res.body)
			}
			if !jsonEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}

	t.Run("records as the documentation shows them", func(t *testing.T) {
		res := o.do(t, http.MethodGet, sosl("FIND {Acme} RETURNING Account(Id, Name, Phone)"), nil)
		want := `{"searchRecords":[{"attributes":{"type":"Account","url":"/services/data/v45.0/sobjects/Account/` + o.acme + `"},"Id":"` + o.acme +
			`","Name":"Acme Corporation","Phone":"(415) 555-0100"},{"attributes":{"type":"Account","url":"/services/data/v45.0/sobjects/Account/` + o.globex +
			`"},"Id":"` + o.globex + `","Name":"Globex","Phone":null}]}`
		if got := string(res.body); got != want {
			t.Errorf("got  %s\nwant %s", got, want)
		}
		if res.header.Get("Sforce-Limit-Info") == "" {
			t.Error("no Sforce-Limit-Info")
		}
	})
	t.Run("before API 36.0 the answer is the bare array", func(t *testing.T) {
		res := o.do(t, http.MethodGet, "/services/data/v35.0/search/?q="+url.QueryEscape("FIND {acme} RETURNING Account"), nil)
		if res.status != http.StatusOK || !strings.HasPrefix(string(res.body), "[") {
			t.Fatalf("got %d %s", res.status, res.body)
		}
		sameKeysAndTypes(t, res.body, fixture(t, "restforce/spec/fixtures/sobject/search_success_response.json"))
	})
	t.Run("MALFORMED_SEARCH", func(t *testing.T) {
		for _, q := range []string{"?q=" + url.QueryEscape("FIND acme"), "?q=", ""} {
			res := o.do(t, http.MethodGet, "/services/data/v45.0/search/"+q, nil)
			var got, want any
			res.json(t, &got)
			json.Unmarshal(fixture(t, "restforce/spec/fixtures/sobject/search_error_response.json"), &want)
			if res.status != http.StatusBadRequest || !jsonEqual(got, want) {
				t.Errorf("%s: got %d %s, want 400 and the fixture", q, res.status, res.body)
			}
		}
	})
	t.Run("other errors", func(t *testing.T) {
		for _, tc := range []struct{ q, code string }{
			{"FIND {a}", "INVALID_SEARCH"},
			{"FIND {acme} RETURNING Nope__c", "INVALID_TYPE"},
			{"FIND {acme} RETURNING Account(Nope)", "INVALID_FIELD"},
			{"FIND {acme} RETURNING", "MALFORMED_SEARCH"},
		} {
			res := o.do(t, http.MethodGet, sosl(tc.q), nil)
			if res.status != http.StatusBadRequest || res.errorCode(t) != tc.code {
				t.Errorf("%s: got %d %s, want 400 %s", tc.q, res.status, res.body, tc.code)
			}
		}
	})
}

func TestParameterizedSearch(t *testing.T) {
	o := newSearchOrg(t)
	for _, tc := range []struct {
		name, query string
		want        []string
	}{
		{"global", "q=acme", []string{"Account:acme", "Account:globex", "Contact:jane", "Lead:lead"}},
		{"one object with fields and limit", "q=acme&sobject=Account&Account.fields=id,name&Account.limit=1", []string{"Account:acme"}},
		{"scope", "q=acme&in=EMAIL", []string{"Contact:jane"}},
		{"where", "q=acme&sobject=Account&Account.where=" + url.QueryEscape("Name LIKE 'Glo%'"), []string{"Account:globex"}},
		{"default and overall limits", "q=acme&sobject=Account&sobject=Lead&defaultLimit=1&overallLimit=1", []string{"Account:acme"}},
		{"global fields", "q=acme&sobject=Lead&fields=Company", []string{"Lead:lead"}},
		{"braces in the text", "q=" + url.QueryEscape("{acme}"), []string{"Account:acme", "Account:globex", "Contact:jane", "Lead:lead"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, got := o.search(t, "/services/data/v45.0/parameterizedSearch/?"+tc.query)
			if res.status != http.StatusOK {
				t.Fatalf("got %d %s", res.status, res.body)
			}
			if !jsonEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("fields of the answer", func(t *testing.T) {
		res := o.do(t, http.MethodGet, "/services/data/v45.0/parameterizedSearch?q=coyote&sobject=Lead&Lead.fields=Company,LastName", nil)
		want := `{"searchRecords":[{"attributes":{"type":"Lead","url":"/services/data/v45.0/sobjects/Lead/` + o.lead + `"},"Company":"Acme Supplies","LastName":"Coyote"}]}`
		if string(res.body) != want {
			t.Errorf("got  %s\nwant %s", res.body, want)
		}
	})
	t.Run("POST", func(t *testing.T) {
		res := o.do(t, http.MethodPost, "/services/data/v45.0/parameterizedSearch/", map[string]any{
			"q": "acme", "in": "ALL", "overallLimit": 10,
			"sobjects": []map[string]any{{"name": "Contact", "fields": []string{"Id", "Email"}}, {"name": "Lead", "limit": 1}},
		})
		if res.status != http.StatusOK {
			t.Fatalf("got %d %s", res.status, res.body)
		}
		if !strings.Contains(string(res.body), `"Email":"jane@acme.example"`) || !strings.Contains(string(res.body), o.lead) {
			t.Errorf("got %s", res.body)
		}
	})
	t.Run("errors", func(t *testing.T) {
		for _, tc := range []struct {
			path   string
			status int
			code   string
		}{
			{"/services/data/v45.0/parameterizedSearch/", 400, "MISSING_ARGUMENT"},
			{"/services/data/v45.0/parameterizedSearch/?q=acme&in=BOGUS", 400, "INVALID_SEARCH_SCOPE"},
			{"/services/data/v45.0/parameterizedSearch/?q=acme&overallLimit=lots", 400, "MALFORMED_SEARCH"},
			{"/services/data/v45.0/parameterizedSearch/?q=acme&sobject=Nope__c", 400, "INVALID_TYPE"},
			{"/services/data/v35.0/parameterizedSearch/?q=acme", 404, "NOT_FOUND"},
		} {
			res := o.do(t, http.MethodGet, tc.path, nil)
			if res.status != tc.status || res.errorCode(t) != tc.code {
				t.Errorf("%s: got %d %s, want %d %s", tc.path, res.status, res.body, tc.status, tc.code)
			}
		}
	})
}

func TestSearchRoutes(t *testing.T) {
	o := newSearchOrg(t)
	if err := o.Inject(sforg.Fault{Route: sforg.RouteSearch, Kind: sforg.FaultStatus, Status: 503, Times: 1}); err != nil {
		t.Fatal(err)
	}
	if err := o.Inject(sforg.Fault{Route: sforg.RouteParameterizedSearch, Kind: sforg.FaultSessionExpired, Times: 1}); err != nil {
		t.Fatal(err)
	}
	q := "/services/data/v45.0/search/?q=" + url.QueryEscape("FIND {acme}")
	if res := o.do(t, http.MethodDelete, q, nil); res.status != http.StatusMethodNotAllowed {
		t.Errorf("DELETE: got %d %s, want 405", res.status, res.body)
	}
	for _, want := range []int{503, 200} {
		if res := o.do(t, http.MethodGet, q, nil); res.status != want {
			t.Errorf("search: got %d %s, want %d", res.status, res.body, want)
		}
	}
	if res := o.do(t, http.MethodGet, "/services/data/v45.0/parameterizedSearch/?q=acme", nil); res.status != http.StatusUnauthorized {
		t.Errorf("parameterizedSearch: got %d %s, want 401", res.status, res.body)
	}
	for route, want := range map[string]int{sforg.RouteSearch: 2, sforg.RouteParameterizedSearch: 1} {
		if got := o.Requests(route); got != want {
			t.Errorf("requests.%s: got %d, want %d", route, got, want)
		}
	}
}
