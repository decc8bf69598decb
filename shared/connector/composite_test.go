package connector

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/sfconnect/connector/sforg"
	"github.com/sfconnect/connector/shared/faults"
)

// compositeEvent creates an Account and a Contact of it, or nothing.
const compositeEvent = `{"salesforcePayload":{"allOrNone":true,"compositeRequest":[
	{"method":"POST","url":"/services/data/v45.0/sobjects/Account","referenceId":"acct","body":{"Name":"Acme"}},
	{"method":"POST","url":"/services/data/v45.0/sobjects/Contact","referenceId":"ct","body":{"LastName":"Doe","AccountId":"@{acct.id}"}}]}}`

// subResult is one entry of a COMPOSITE output's compositeResponse.
type subResult struct {
	Body           json.RawMessage `json:"body"`
	HTTPStatusCode int             `json:"httpStatusCode"`
	ReferenceID    string          `json:"referenceId"`
}

// errorCode is the first errorCode of a failed subrequest's body.
func (s subResult) errorCode() string {
	var errs []struct {
		ErrorCode string `json:"errorCode"`
		Message   string `json:"message"`
	}
	if json.Unmarshal(s.Body, &errs) != nil || len(errs) == 0 {
		return ""
	}
	return errs[0].ErrorCode
}

func (s subResult) field(t *testing.T, name string) any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(s.Body, &m); err != nil {
		t.Fatalf("subrequest %s: body %s is not an object", s.ReferenceID, s.Body)
	}
	return m[name]
}

func subResults(t *testing.T, r result) []subResult {
	t.Helper()
	var out struct {
		CompositeResponse []subResult `json:"compositeResponse"`
	}
	if err := json.Unmarshal([]byte(r.SalesforceResult), &out); err != nil {
		t.Fatalf("got %q, want a compositeResponse", r.SalesforceResult)
	}
	return out.CompositeResponse
}

// compositeOf is a COMPOSITE event with these subrequests.
func compositeOf(t *testing.T, allOrNone bool, subs ...map[string]any) string {
	t.Helper()
	return jsonEvent(t, map[string]any{"salesforcePayload": map[string]any{"allOrNone": allOrNone, "compositeRequest": subs}})
}

func sub(method, url, ref string, body map[string]any) map[string]any {
	s := map[string]any{"method": method, "url": url, "referenceId": ref}
	if body != nil {
		s["body"] = body
	}
	return s
}

// TestCompositeSampleEvent runs events/composite.json: an Account, a Contact
// of it through @{newAccount.id}, and the Contact read back through
// @{newContact.id}, in one API call.
func TestCompositeSampleEvent(t *testing.T) {
	w := setup(t)
	event, err := os.ReadFile("../../events/composite.json")
	if err != nil {
		t.Fatal(err)
	}
	mustOK(t, invoke(t, w.conn.ApprovalList, `{}`), "200") // log in first
	before := w.org.Counters()
	r := invoke(t, w.conn.Composite, string(event))
	mustOK(t, r, "200")
	wantTally(t, r, 3, 0, 0)
	after := w.org.Counters()
	for k, want := range map[string]int{"api-usage": 1, "api-calls.composite": 1, "api-calls.rest": 0} {
		if got := after[k] - before[k]; got != want {
			t.Errorf("%s: got %d more, want %d", k, got, want)
		}
	}
	subs := subResults(t, r)
	if len(subs) != 3 {
		t.Fatalf("got %d results, want 3", len(subs))
	}
	for i, want := range []int{201, 201, 200} {
		if subs[i].HTTPStatusCode != want {
			t.Errorf("subrequest %d: got %d, want %d: %s", i, subs[i].HTTPStatusCode, want, subs[i].Body)
		}
	}
	account, contact := subs[0].field(t, "id"), subs[1].field(t, "id")
	if got := subs[2].field(t, "AccountId"); got != account {
		t.Errorf("the Contact's AccountId: got %v, want the new Account %v", got, account)
	}
	if got := subs[2].field(t, "Id"); got != contact {
		t.Errorf("read back: got %v, want the new Contact %v", got, contact)
	}
}

// TestCompositeFailures: all or none rolls everything back; a reference to a
// step that failed halts the step that depends on it, while independent steps
// run (allOrNone false) or are rolled back (true).
func TestCompositeFailures(t *testing.T) {
	const v = "/services/data/v45.0/"
	badContact := sub("POST", v+"sobjects/Contact", "ct", map[string]any{"FirstName": "No last name", "AccountId": "@{acct.id}"})
	badAccount := sub("POST", v+"sobjects/Account", "acct", map[string]any{"Industry": "No name"})
	tests := []struct {
		name       string
		allOrNone  bool
		subs       []map[string]any
		statuses   []int
		codes      []string
		tally      [3]int
		accounts   int
		contacts   int
		messageHas string // in the halted dependant's message
	}{
		{
			name:      "all or none: a failed Contact rolls its Account back",
			allOrNone: true,
			subs: []map[string]any{
				sub("POST", v+"sobjects/Account", "acct", map[string]any{"Name": "Rolled back"}),
				badContact,
				sub("GET", v+"sobjects/Account/@{acct.id}?fields=Name", "readBack", nil),
			},
			statuses: []int{400, 400, 400},
			codes:    []string{"PROCESSING_HALTED", "REQUIRED_FIELD_MISSING", "PROCESSING_HALTED"},
			tally:    [3]int{0, 3, 2},
		},
		{
			name:      "a reference to a failed step, the others run",
			allOrNone: false,
			subs: []map[string]any{
				badAccount,
				sub("POST", v+"sobjects/Contact", "ct", map[string]any{"LastName": "Orphan", "AccountId": "@{acct.id}"}),
				sub("POST", v+"sobjects/Account", "other", map[string]any{"Name": "Independent"}),
			},
			statuses:   []int{400, 400, 201},
			codes:      []string{"REQUIRED_FIELD_MISSING", "PROCESSING_HALTED", ""},
			tally:      [3]int{1, 2, 1},
			accounts:   1,
			messageHas: "Invalid reference specified. No value for acct.id found in acct",
		},
		{
			name:      "a reference to a failed step, all or none",
			allOrNone: true,
			subs: []map[string]any{
				sub("POST", v+"sobjects/Account", "other", map[string]any{"Name": "Rolled back"}),
				badAccount,
				sub("POST", v+"sobjects/Contact", "ct", map[string]any{"LastName": "Orphan", "AccountId": "@{acct.id}"}),
			},
			statuses: []int{400, 400, 400},
			codes:    []string{"PROCESSING_HALTED", "REQUIRED_FIELD_MISSING", "PROCESSING_HALTED"},
			tally:    [3]int{0, 3, 2},
		},
		{
			name:      "all or none: a collection with a failed record fails the composite",
			allOrNone: true,
			subs: []map[string]any{
				sub("POST", v+"sobjects/Account", "acct", map[string]any{"Name": "Rolled back"}),
				sub("POST", v+"composite/sobjects", "many", map[string]any{"allOrNone": false, "records": []any{
					map[string]any{"attributes": map[string]any{"type": "Contact"}, "LastName": "Fine", "AccountId": "@{acct.id}"},
					map[string]any{"attributes": map[string]any{"type": "Contact"}, "FirstName": "No last name"},
				}}),
			},
			statuses: []int{400, 200},
			codes:    []string{"PROCESSING_HALTED", ""},
			tally:    [3]int{0, 2, 1},
		},
		{
			name:      "a collection with a failed record, not all or none",
			allOrNone: false,
			subs: []map[string]any{
				sub("POST", v+"sobjects/Account", "acct", map[string]any{"Name": "Kept"}),
				sub("POST", v+"composite/sobjects", "many", map[string]any{"allOrNone": false, "records": []any{
					map[string]any{"attributes": map[string]any{"type": "Contact"}, "LastName": "Fine", "AccountId": "@{acct.id}"},
					map[string]any{"attributes": map[string]any{"type": "Contact"}, "FirstName": "No last name"},
				}}),
			},
			statuses: []int{201, 200},
			codes:    []string{"", ""},
			tally:    [3]int{1, 1, 0},
			accounts: 1,
			contacts: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := setup(t)
			r := invoke(t, w.conn.Composite, compositeOf(t, tt.allOrNone, tt.subs...))
			mustOK(t, r, "200")
			subs := subResults(t, r)
			if len(subs) != len(tt.statuses) {
				t.Fatalf("got %d results, want %d: %s", len(subs), len(tt.statuses), r.SalesforceResult)
			}
			for i, s := range subs {
				if s.HTTPStatusCode != tt.statuses[i] || s.errorCode() != tt.codes[i] {
					t.Errorf("subrequest %d: got %d %q, want %d %q: %s", i, s.HTTPStatusCode, s.errorCode(), tt.statuses[i], tt.codes[i], s.Body)
				}
			}
			if tt.messageHas != "" && !strings.Contains(r.SalesforceResult, tt.messageHas) {
				t.Errorf("got %s, want a message with %q", r.SalesforceResult, tt.messageHas)
			}
			wantTally(t, r, tt.tally[0], tt.tally[1], tt.tally[2])
			if n := w.org.Store().Count("Account"); n != tt.accounts {
				t.Errorf("got %d accounts, want %d", n, tt.accounts)
			}
			if n := w.org.Store().Count("Contact"); n != tt.contacts {
				t.Errorf("got %d contacts, want %d", n, tt.contacts)
			}
		})
	}
}

// TestCompositeDroppedAnswer: a composite is a POST; after a dropped answer it
// is not sent again, the error says the outcome is unknown, and the work was
// done once.
func TestCompositeDroppedAnswer(t *testing.T) {
	w := setup(t)
	mustInject(t, w.org, sforg.Fault{Route: sforg.RouteComposite, Kind: sforg.FaultDropAfter, Times: 1})
	wantError(t, invoke(t, w.conn.Composite, compositeEvent), faults.UnknownError, "outcome is unknown")
	if n := w.org.Requests(sforg.RouteComposite); n != 1 {
		t.Errorf("got %d composite requests, want 1", n)
	}
	if a, c := w.org.Store().Count("Account"), w.org.Store().Count("Contact"); a != 1 || c != 1 {
		t.Errorf("got %d accounts and %d contacts, want the lost attempt's 1 and 1", a, c)
	}
}

// TestCompositeSentAsGiven: what reaches Salesforce is the validated request,
// allOrNone given as a string sent as a boolean, httpHeaders kept.
func TestCompositeSentAsGiven(t *testing.T) {
	payload := json.RawMessage(`{"allOrNone":"true","collateSubrequests":false,"compositeRequest":[
		{"method":"PATCH","url":"/services/data/v62.0/sobjects/Account/Ext__c/A%2F1","referenceId":"up","body":{"Name":"<b>&"},"httpHeaders":{"Sforce-Auto-Assign":"FALSE"}},
		{"method":"GET","url":"/services/data/v62.0/query/?q=SELECT+Id+FROM+Account+WHERE+Id+%3D+%27@{up.id}%27","referenceId":"q"}]}`)
	req, err := compositeRequest(payload)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(req)
	var back map[string]any
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	if back["allOrNone"] != true || back["collateSubrequests"] != false {
		t.Errorf("got %s, want allOrNone true and collateSubrequests false", got)
	}
	subs := back["compositeRequest"].([]any)
	first := subs[0].(map[string]any)
	if first["url"] != "/services/data/v62.0/sobjects/Account/Ext__c/A%2F1" || first["body"].(map[string]any)["Name"] != "<b>&" ||
		first["httpHeaders"].(map[string]any)["Sforce-Auto-Assign"] != "FALSE" {
		t.Errorf("got %s, want the subrequest as given", got)
	}
	if _, ok := subs[1].(map[string]any)["body"]; ok {
		t.Errorf("got %s, want no body on the GET", got)
	}
}

// TestSubrequestURL lists urls a subrequest may and may not carry.
func TestSubrequestURL(t *testing.T) {
	earlier := map[string]bool{"acct": true, "q1": true}
	accepted := map[string]target{
		"/services/data/v45.0/sobjects":                                                    targetSObject,
		"/services/data/v45.0/sobjects/Account":                                            targetSObject,
		"/services/data/v45.0/sobjects/Account/":                                           targetSObject,
		"/services/data/v66.0/sobjects/Account/@{acct.id}":                                 targetSObject,
		"/services/data/v45.0/sobjects/Contact/@{q1.records[0].Id}?fields=Id,Name":         targetSObject,
		"/services/data/v45.0/sobjects/Invoice__c/Invoice_Number__c/INV%2D1%20A":           targetSObject,
		"/services/data/v45.0/sobjects/Account/describe":                                   targetSObject,
		"/services/data/v45.0/query?q=SELECT+Id+FROM+Account":                              targetQuery,
		"/services/data/v45.0/query/?q=SELECT%20Id%20FROM%20Account":                       targetQuery,
		"/services/data/v45.0/queryAll/?q=SELECT+Id+FROM+Account":                          targetQuery,
		"/services/data/v45.0/query/01gD0000002HU6KIAW-2000":                               targetQuery,
		"/services/data/v45.0/composite/sobjects":                                          targetCollections,
		"/services/data/v45.0/composite/sobjects?ids=001D000000IqhSLIAZ&allOrNone=true":    targetCollections,
		"/services/data/v50.0/composite/sobjects/Invoice__c/Invoice_Number__c":             targetCollections,
		"/services/data/v45.0/composite/sobjects/Account?ids=@{acct.id}&fields=Id,Name":    targetCollections,
		"/services/data/v31.0/sobjects/Account":                                            targetSObject,
		"/services/data/v100.0/sobjects/Account":                                           targetSObject,
		"/services/data/v45.0/sobjects/Account/Ext__c/a:b@c!$&'()*+,;=~":                   targetSObject,
		"/services/data/v45.0/sobjects/Account/Ext__c/%C3%A9t%C3%A9":                       targetSObject,
		"/services/data/v45.0/sobjects/Account/Ext__c/x.y":                                 targetSObject,
		"/services/data/v45.0/sobjects/Account/Ext__c/A%2F1":                               targetSObject,
		"/services/data/v45.0/sobjects/Account/Ext__c/INV%2F2026%20001%3F":                 targetSObject,
		"/services/data/v45.0/sobjects/Account/Ext__c/...":                                 targetSObject,
		"/services/data/v45.0/query/?q=SELECT+Id+FROM+Account+WHERE+Name+%3D+%27%40%7B%27": targetQuery,
	}
	for u, want := range accepted {
		t.Run("accepted "+u, func(t *testing.T) {
			got, err := subrequestURL(u, earlier)
			if err != nil || got != want {
				t.Errorf("got %v %v, want %v", got, err, want)
			}
		})
	}
	refused := []string{
		"", "sobjects/Account", "services/data/v45.0/sobjects/Account", "https://evil.example/services/data/v45.0/sobjects/Account",
		"//evil.example/services/data/v45.0/sobjects/Account", "/services/data/v45.0", "/services/data/v45.0/",
		"/services/data/45.0/sobjects/Account", "/services/data/v45/sobjects/Account", "/services/data/v45.1/sobjects/Account",
		"/services/data/v30.0/sobjects/Account", "/services/data/vXX.X/sobjects/Account",
		"/services/apexrest/x", "/services/Soap/u/45.0", "/services/oauth2/token", "/services/data/v45.0/limits",
		"/services/data/v45.0/composite", "/services/data/v45.0/composite/tree/Account", "/services/data/v45.0/composite/batch",
		"/services/data/v45.0/process/approvals/", "/services/data/v45.0/ui-api/records", "/services/data/v45.0/jobs/ingest",
		"/services/data/v45.0/sobjects/../limits", "/services/data/v45.0/sobjects/Account/..", "/services/data/v45.0/sobjects/./Account",
		"/services/data/v45.0/sobjects/%2e%2e/limits", "/services/data/v45.0/sobjects/%2E/x", "/services/data/v45.0/sobjects/Account%2F..%2F..%2Flimits",
		"/services/data/v45.0/sobjects/Account%5c..", "/services/data/v45.0/sobjects/x%2F.%2Fy", "/services/data/v45.0/sobjects/Account%252F", "/services/data/v45.0/sobjects/Account%00",
		"/services/data/v45.0/sobjects/Account%zz", "/services/data/v45.0/sobjects//Account", "/services/data/v45.0/sobjects/Account\\..\\x",
		"/services/data/v45.0/sobjects/Account#frag", "/services/data/v45.0/sobjects/Acc ount", "/services/data/v45.0/sobjects/Account\n",
		"/services/data/v45.0/sobjects/Accöunt", "/services/data/v45.0/sobjects/{x}", "/services/data/v45.0/sobjects/Account/[0]",
		"/services/data/v45.0/query?q=SELECT Id FROM Account", "/services/data/v45.0/query?q=x#y", "/services/data/v45.0/query?q=%zz",
		"/services/data/v45.0/query?q=é", "/services/data/v45.0/query/01gD0000002HU6KIAW-2000/x", "/services/data/v45.0/query/../sobjects",
		"/services/data/v45.0/query/01gD0000002HU6KIAW-2000?q=1", "/services/data/v45.0/query/01g_bad", "/services/data/v45.0/queryAll/x/y",
		"/services/data/v45.0/composite/sobject", "/services/data/v45.0/sobjects/Account/@{later.id}", "/services/data/v45.0/sobjects/Account/@{acct id}",
		"/services/data/v45.0/sobjects/Account/@{acct.id", "/services/data/v45.0/sobjects/Account/@{}", "/services/data/v45.0/sobjects/Account?x=@{nope.id}",
		"/services/data/v45.0/sobjects/Account/@{acct.id}/..", "/services/data/v45.0/sobjects/Account/@{acct..id}",
	}
	for _, u := range refused {
		t.Run("refused "+u, func(t *testing.T) {
			if got, err := subrequestURL(u, earlier); err == nil {
				t.Errorf("got %v, want an error", got)
			}
		})
	}
}

// TestCompositeInputs: anything but a valid composite request is
// INVALID_INPUT (or MISSING_INPUT) naming the subrequest, and nothing is sent.
func TestCompositeInputs(t *testing.T) {
	const v = "/services/data/v45.0/"
	ok := func(ref string) map[string]any {
		return sub("POST", v+"sobjects/Account", ref, map[string]any{"Name": "x"})
	}
	with := func(m map[string]any, kv ...any) map[string]any {
		out := map[string]any{}
		for k, v := range m {
			out[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(out, kv[i].(string))
				continue
			}
			out[kv[i].(string)] = kv[i+1]
		}
		return out
	}
	payload := func(subs ...any) map[string]any {
		if subs == nil {
			subs = []any{}
		}
		return map[string]any{"salesforcePayload": map[string]any{"compositeRequest": subs}}
	}
	many := func(n int, each func(i int) any) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = each(i)
		}
		return out
	}
	query := func(i int) any { return sub("GET", v+"query/?q=SELECT+Id+FROM+Account", fmt.Sprintf("q%d", i), nil) }
	wantRefused(t, func(c *Connector) handler { return c.Composite }, []refusal{
		{"no payload", map[string]any{}, faults.MissingInput, "salesforcePayload is required"},
		{"payload an array", map[string]any{"salesforcePayload": []any{ok("a")}}, faults.InvalidInput, "salesforcePayload must be a JSON object"},
		{"no compositeRequest", map[string]any{"salesforcePayload": map[string]any{"allOrNone": true}}, faults.MissingInput, "compositeRequest is required"},
		{"compositeRequest an object", map[string]any{"salesforcePayload": map[string]any{"compositeRequest": ok("a")}}, faults.InvalidInput, "must be an array of subrequests"},
		{"empty compositeRequest", payload(), faults.MissingInput, "compositeRequest is empty"},
		{"26 subrequests", payload(many(26, func(i int) any { return ok(fmt.Sprintf("r%d", i)) })...), faults.InvalidInput, "26 subrequests, more than the 25"},
		{"6 queries", payload(many(6, query)...), faults.InvalidInput, "compositeRequest[5] is query or sObject Collections subrequest number 6"},
		{"an unknown member", map[string]any{"salesforcePayload": map[string]any{"compositeRequest": []any{ok("a")}, "graphs": []any{}}}, faults.InvalidInput, `salesforcePayload has "graphs", not part of a composite request`},
		{"allOrNone maybe", map[string]any{"salesforcePayload": map[string]any{"compositeRequest": []any{ok("a")}, "allOrNone": "maybe"}}, faults.InvalidInput, "salesforcePayload.allOrNone must be true or false"},
		{"collateSubrequests a number", map[string]any{"salesforcePayload": map[string]any{"compositeRequest": []any{ok("a")}, "collateSubrequests": 1}}, faults.InvalidInput, "collateSubrequests must be true or false"},
		{"a subrequest that is a string", payload(ok("a"), "GET /x"), faults.InvalidInput, "compositeRequest[1] must be a JSON object"},
		{"no referenceId", payload(with(ok("a"), "referenceId", nil)), faults.MissingInput, "compositeRequest[0] referenceId is required"},
		{"a referenceId with a dash", payload(ok("a-b")), faults.InvalidInput, `compositeRequest[0] referenceId "a-b"`},
		{"a referenceId starting with _", payload(ok("_a")), faults.InvalidInput, "must start with a letter or digit"},
		{"a referenceId twice", payload(ok("a"), ok("a")), faults.InvalidInput, `compositeRequest[1] referenceId "a" is used by an earlier subrequest`},
		{"a numeric referenceId", payload(with(ok("a"), "referenceId", 1)), faults.InvalidInput, "referenceId must be a string"},
		{"no method", payload(with(ok("a"), "method", nil)), faults.MissingInput, "compositeRequest[0] method is required"},
		{"a lower-case method", payload(with(ok("a"), "method", "post")), faults.InvalidInput, `method "post" is not one of GET, POST, PATCH, DELETE, PUT`},
		{"HEAD", payload(with(ok("a"), "method", "HEAD")), faults.InvalidInput, "method"},
		{"no url", payload(ok("a"), with(ok("b"), "url", nil)), faults.MissingInput, "compositeRequest[1] url is required"},
		{"another host", payload(with(ok("a"), "url", "https://evil.example"+v+"sobjects/Account")), faults.InvalidInput, "not a path of this org's REST API"},
		{"a traversal", payload(with(ok("a"), "url", v+"sobjects/../../apexrest/x")), faults.InvalidInput, `compositeRequest[0] url`},
		{"an encoded traversal", payload(with(ok("a"), "url", v+"sobjects/%2E%2E/limits")), faults.InvalidInput, `"." or ".."`},
		{"a resource Composite does not run", payload(with(ok("a"), "url", v+"limits")), faults.InvalidInput, "not a resource Composite runs"},
		{"a nested composite", payload(with(ok("a"), "url", v+"composite")), faults.InvalidInput, "not a resource Composite runs"},
		{"a retired version", payload(with(ok("a"), "url", "/services/data/v29.0/sobjects/Account")), faults.InvalidInput, "retired"},
		{"a reference to a later subrequest", payload(with(ok("a"), "url", v+"sobjects/Account/@{b.id}"), ok("b")), faults.InvalidInput, `refers to "b", which no earlier subrequest`},
		{"a body that is a list", payload(with(ok("a"), "body", []any{1})), faults.InvalidInput, "compositeRequest[0] body must be a JSON object"},
		{"a body that is a string", payload(with(ok("a"), "body", `{"Name":"x"}`)), faults.InvalidInput, "body must be a JSON object"},
		{"Authorization in httpHeaders", payload(with(ok("a"), "httpHeaders", map[string]any{"authorization": "Bearer x"})), faults.InvalidInput, "httpHeaders sets Authorization"},
		{"Content-Type in httpHeaders", payload(with(ok("a"), "httpHeaders", map[string]any{"Content-Type": "text/plain"})), faults.InvalidInput, "httpHeaders sets Content-Type"},
		{"a header with a line break", payload(with(ok("a"), "httpHeaders", map[string]any{"If-Match": "x\r\nX-Injected: 1"})), faults.InvalidInput, "control character"},
		{"a header name with a space", payload(with(ok("a"), "httpHeaders", map[string]any{"If Match": "x"})), faults.InvalidInput, "not a header name"},
		{"a header that is a number", payload(with(ok("a"), "httpHeaders", map[string]any{"If-Match": 1})), faults.InvalidInput, "must be a string"},
		{"an unknown member of a subrequest", payload(with(ok("a"), "headers", map[string]any{})), faults.InvalidInput, `compositeRequest[0] has "headers"`},
	})
}

// TestCompositeOutputBudget measures 25 GETs of whole Account records against
// the default budget, and checks the hint when a smaller budget does not fit.
func TestCompositeOutputBudget(t *testing.T) {
	w := setup(t)
	id := insert(t, w.org, "Account", map[string]any{"Name": "Read me", "Description": strings.Repeat("d", 2000)})
	subs := make([]map[string]any, maxSubrequests)
	for i := range subs {
		subs[i] = sub("GET", "/services/data/v45.0/sobjects/Account/"+id, fmt.Sprintf("get%d", i), nil)
	}
	body, r := invokeRaw(t.Context(), t, w.conn.Composite, compositeOf(t, false, subs...))
	mustOK(t, r, "200")
	wantTally(t, r, 25, 0, 0)
	t.Logf("25 GETs of an Account with a 2,000-character Description: output of %d bytes (%.1f%% of the default %d-byte budget)",
		len(body), 100*float64(len(body))/float64(w.conn.budget), w.conn.budget)
	if len(body) > w.conn.budget {
		t.Errorf("got %d bytes, want them within the default budget", len(body))
	}
	w.conn.budget = 8192
	wantError(t, invoke(t, w.conn.Composite, compositeOf(t, false, subs...)), faults.UnknownError, "GET only the fields you need")
}
