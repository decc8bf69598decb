package sforg_test

import (
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sfconnect/connector/internal/testclock"
	"github.com/sfconnect/connector/sforg"
	"github.com/sfconnect/connector/sforg/internal/ids"
)

// soapLoginBody is a partner login() envelope for the default user.
func soapLoginBody() string {
	return `<?xml version="1.0" encoding="utf-8"?><env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Body>` +
		`<n1:login xmlns:n1="urn:partner.soap.sforce.com"><n1:username>` + sforg.DefaultUsername + `</n1:username>` +
		`<n1:password>` + sforg.DefaultPassword + sforg.DefaultSecurityToken + `</n1:password></n1:login></env:Body></env:Envelope>`
}

// createMetadataBody creates one custom object with the session id.
func createMetadataBody(token, fullName string) string {
	return `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:met="http://soap.sforce.com/2006/04/metadata" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">` +
		`<soapenv:Header><met:SessionHeader><met:sessionId>` + token + `</met:sessionId></met:SessionHeader></soapenv:Header>` +
		`<soapenv:Body><met:createMetadata><met:metadata xsi:type="met:CustomObject"><met:fullName>` + fullName + `</met:fullName>` +
		`<met:label>Thing</met:label><met:pluralLabel>Things</met:pluralLabel><met:nameField><met:label>Thing Name</met:label><met:type>Text</met:type></met:nameField>` +
		`<met:deploymentStatus>Deployed</met:deploymentStatus><met:sharingModel>ReadWrite</met:sharingModel></met:metadata></met:createMetadata></soapenv:Body></soapenv:Envelope>`
}

func TestUnknownPathsAnswerInTheirAPIShape(t *testing.T) {
	o := newOrg(t, sforg.Options{})
	tests := []struct {
		name, method, path, body string
		wantStatus               int
		wantType                 string // Content-Type without parameters
		wantBody                 string // a substring
	}{
		{"REST resource", "GET", "/services/data/v45.0/nope", "", 404, "application/json", `"errorCode":"NOT_FOUND"`},
		{"REST resource names are case-sensitive", "GET", "/services/data/v45.0/SObjects", "", 404, "application/json", `"errorCode":"NOT_FOUND"`},
		{"sObject names are not", "GET", "/services/data/v45.0/sobjects/account/describe", "", 200, "application/json", `"name":"Account"`},
		{"retired version", "GET", "/services/data/v30.0/nope", "", 410, "application/json", `"errorCode":"GONE"`},
		{"SOAP service", "POST", "/services/Soap/x/45.0", soapLoginBody(), 404, "text/xml", "<faultcode>soapenv:Client</faultcode>"},
		{"SOAP in lower case", "POST", "/services/soap/u/45.0", soapLoginBody(), 404, "text/xml", "<soapenv:Fault>"},
		{"SOAP service with GET", "GET", "/services/Soap/x/45.0", "", 405, "text/html", "Only POST allowed"},
		{"SOAP login with GET", "GET", "/services/Soap/u/45.0", "", 405, "text/html", "Only POST allowed"},
		{"SOAP login version too new", "POST", "/services/Soap/u/99.0/", soapLoginBody(), 500, "text/xml", "UNSUPPORTED_API_VERSION"},
		{"SOAP login with a trailing slash", "POST", "/services/Soap/u/45.0/", soapLoginBody(), 200, "text/xml", "<sessionId>"},
		{"SOAP login below the org id", "POST", "/services/Soap/c/45.0/" + sforg.OrgID[:15] + "/0DF5g0000000001", soapLoginBody(), 200, "text/xml", "<sessionId>"},
		{"metadata with a trailing slash", "POST", "/services/Soap/m/45.0/", createMetadataBody(o.token, "Slash__c"), 200, "text/xml", "<success>true</success>"},
		{"metadata below the version", "POST", "/services/Soap/m/45.0/deployRequest/0Af5g00000XyZaB", createMetadataBody(o.token, "Below__c"), 200, "text/xml", "<success>true</success>"},
		{"OAuth endpoint", "GET", "/services/oauth2/nope", "", 404, "application/json", `"error":"not_found"`},
		{"identity path", "GET", "/id/x", "", 404, "text/plain", "Bad_Id"},
		{"any other path", "GET", "/nope", "", 404, "application/json", `"errorCode":"NOT_FOUND"`},
		{"the root", "GET", "/", "", 404, "application/json", `"errorCode":"NOT_FOUND"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body any
			if tt.body != "" {
				body = tt.body
			}
			res := o.do(t, tt.method, tt.path, body)
			ct, _, _ := strings.Cut(res.header.Get("Content-Type"), ";")
			if res.status != tt.wantStatus || ct != tt.wantType || !strings.Contains(string(res.body), tt.wantBody) {
				t.Errorf("got %d %s %q, want %d %s with %q", res.status, ct, res.body, tt.wantStatus, tt.wantType, tt.wantBody)
			}
		})
	}
	if got := o.Counters()["requests.unknown"]; got < 6 {
		t.Errorf("requests.unknown: got %d, want the unknown paths counted", got)
	}
}

func TestUnknownPathFaults(t *testing.T) {
	o := newOrg(t, sforg.Options{})
	if err := o.Inject(sforg.Fault{Route: sforg.RouteUnknown, Kind: sforg.FaultStatus, Status: 503}); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"/services/Soap/x/45.0":  "<faultcode>sf:SERVER_UNAVAILABLE</faultcode>",
		"/services/oauth2/nope":  `"error":"server_unavailable"`,
		"/services/data/v45.0/x": `"errorCode":"SERVER_UNAVAILABLE"`,
		"/nope":                  `"errorCode":"SERVER_UNAVAILABLE"`,
	} {
		res := o.do(t, http.MethodPost, path, "")
		if res.status != http.StatusServiceUnavailable || !strings.Contains(string(res.body), want) {
			t.Errorf("%s: got %d %q, want 503 with %q", path, res.status, res.body, want)
		}
	}
}

func TestOrganization(t *testing.T) {
	const soql = "SELECT Id, Name, IsSandbox, InstanceName, OrganizationType, TimeZoneSidKey, LanguageLocaleKey, DefaultLocaleSidKey, NamespacePrefix, TrialExpirationDate FROM Organization"
	tests := []struct {
		name         string
		sandbox      bool
		wantInstance string
		wantEdition  string
	}{
		{"production", false, "USA544", "Developer Edition"},
		{"sandbox", true, "USA544S", "Enterprise Edition"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOrg(t, sforg.Options{Sandbox: tt.sandbox})
			res := o.do(t, http.MethodGet, "/services/data/v45.0/query?q="+url.QueryEscape(soql), nil)
			if res.status != http.StatusOK {
				t.Fatalf("query: got %d %s", res.status, res.body)
			}
			sameKeysAndTypes(t, res.body, fixture(t, "restforce/spec/fixtures/sobject/org_query_response.json"))
			var page struct {
				TotalSize int
				Records   []map[string]any
			}
			res.json(t, &page)
			if page.TotalSize != 1 {
				t.Fatalf("got %d rows, want 1", page.TotalSize)
			}
			got := page.Records[0]
			want := map[string]any{"Id": sforg.OrgID, "Name": sforg.OrgName, "IsSandbox": tt.sandbox, "InstanceName": tt.wantInstance,
				"OrganizationType": tt.wantEdition, "TimeZoneSidKey": "America/Los_Angeles", "LanguageLocaleKey": "en_US",
				"DefaultLocaleSidKey": "en_US", "NamespacePrefix": nil, "TrialExpirationDate": nil}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s: got %v, want %v", k, got[k], v)
				}
			}
			if res := o.do(t, http.MethodGet, "/services/data/v45.0/sobjects/Organization/"+sforg.OrgID[:15], nil); res.status != http.StatusOK || !strings.Contains(string(res.body), `"IsSandbox":`) {
				t.Errorf("get: got %d %s", res.status, res.body)
			}
			var d struct {
				Createable, Updateable, Deletable, Queryable bool
				KeyPrefix                                    string
			}
			o.do(t, http.MethodGet, "/services/data/v45.0/sobjects/Organization/describe", nil).json(t, &d)
			if d.Createable || d.Updateable || d.Deletable || !d.Queryable || d.KeyPrefix != "00D" {
				t.Errorf("describe: got %+v", d)
			}
			if res := o.do(t, http.MethodPost, "/services/data/v45.0/sobjects/Organization/", map[string]any{"Name": "x"}); res.status != http.StatusBadRequest || res.errorCode(t) != "INVALID_TYPE_FOR_OPERATION" {
				t.Errorf("create: got %d %s", res.status, res.body)
			}
			soap := o.do(t, http.MethodPost, "/services/Soap/u/45.0", soapLoginBody())
			if want := "<sandbox>" + map[bool]string{true: "true", false: "false"}[tt.sandbox] + "</sandbox>"; !strings.Contains(string(soap.body), want) {
				t.Errorf("SOAP login: got %s, want %s", soap.body, want)
			}
			if err := o.Reset(); err != nil {
				t.Fatal(err)
			}
			if n := o.Store().Count("Organization"); n != 1 {
				t.Errorf("after Reset: got %d Organization rows, want 1", n)
			}
		})
	}
}

func TestSandboxJWTAudience(t *testing.T) {
	key, certPEM, _ := jwtKeys(t)
	assertion := func(aud string) string {
		c := jwt.MapClaims{"iss": sforg.DefaultClientID, "sub": sforg.DefaultUsername, "aud": aud, "exp": time.Now().Add(3 * time.Minute).Unix()}
		s, err := jwt.NewWithClaims(jwt.SigningMethodRS256, c).SignedString((*rsa.PrivateKey)(key))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	tests := []struct {
		name    string
		sandbox bool
		aud     string
		wantOK  bool
	}{
		{"production, production host", false, "https://login.salesforce.com", true},
		{"production, sandbox host", false, "https://test.salesforce.com", false},
		{"sandbox, sandbox host", true, "https://test.salesforce.com", true},
		{"sandbox, sandbox host with slash", true, "https://test.salesforce.com/", true},
		{"sandbox, production host", true, "https://login.salesforce.com", false},
		{"sandbox, its own URL", true, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startOrg(t, sforg.Options{JWTPublicKeyPEM: certPEM, Sandbox: tt.sandbox})
			aud := tt.aud
			if aud == "" {
				aud = s.URL
			}
			res := postForm(t, s, url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {assertion(aud)}}, "", "")
			var body map[string]string
			res.json(t, &body)
			if tt.wantOK && res.status != http.StatusOK {
				t.Fatalf("got %d %v, want 200", res.status, body)
			}
			if !tt.wantOK && (res.status != http.StatusBadRequest || body["error_description"] != "Audience validation failed") {
				t.Fatalf("got %d %v, want 400 Audience validation failed", res.status, body)
			}
		})
	}
}

// httpDate formats t as the docs' examples write If-Modified-Since.
func httpDate(t time.Time) string { return t.UTC().Format(http.TimeFormat) }

func TestIfModifiedSince(t *testing.T) {
	start := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	clock := testclock.New(start)
	o := newOrg(t, sforg.Options{Now: clock.Now})
	id := o.create(t, "Account", map[string]any{"Name": "Acme"})
	clock.Advance(time.Hour)
	later := start.Add(30 * time.Minute)
	tests := []struct {
		name   string
		path   string
		header string
		want   int
	}{
		{"describe, unchanged since", "/services/data/v45.0/sobjects/Account/describe", httpDate(later), 304},
		{"describe, changed since", "/services/data/v45.0/sobjects/Account/describe", httpDate(start.Add(-time.Hour)), 200},
		{"describe, docs' form with a one-digit day", "/services/data/v45.0/sobjects/Account/describe", "Mon, 2 Mar 2026 10:30:00 GMT", 304},
		{"describe, zone name", "/services/data/v45.0/sobjects/Account/describe", "Mon, 2 Mar 2026 03:30:00 MST", 304},
		{"describe, zone name before the change", "/services/data/v45.0/sobjects/Account/describe", "Mon, 2 Mar 2026 02:30:00 MST", 200},
		{"describe, unparseable", "/services/data/v45.0/sobjects/Account/describe", "yesterday", 200},
		{"describe global, unchanged", "/services/data/v45.0/sobjects/", httpDate(later), 304},
		{"record, unchanged since", "/services/data/v45.0/sobjects/Account/" + id, httpDate(later), 304},
		{"record, changed since", "/services/data/v45.0/sobjects/Account/" + id, httpDate(start.Add(-time.Second)), 200},
		{"record by 15-character id", "/services/data/v45.0/sobjects/Account/" + id[:15], httpDate(later), 304},
		{"missing record", "/services/data/v45.0/sobjects/Account/001000000000000AAA", httpDate(later), 404},
		{"no header", "/services/data/v45.0/sobjects/Account/" + id, "", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, o.URL+tt.path, nil)
			req.Header.Set("Authorization", "Bearer "+o.token)
			if tt.header != "" {
				req.Header.Set("If-Modified-Since", tt.header)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != tt.want {
				t.Fatalf("got %d %s, want %d", res.StatusCode, body, tt.want)
			}
			if tt.want == 304 && (len(body) != 0 || res.Header.Get("Sforce-Limit-Info") == "") {
				t.Errorf("304: got body %q and Sforce-Limit-Info %q, want no body and the usage", body, res.Header.Get("Sforce-Limit-Info"))
			}
		})
	}

	// A change after the header's time makes the resource modified again.
	header := httpDate(clock.Now())
	clock.Advance(time.Minute)
	if res := o.do(t, http.MethodPatch, "/services/data/v45.0/sobjects/Account/"+id, map[string]any{"Phone": "1"}); res.status != http.StatusNoContent {
		t.Fatalf("update: got %d %s", res.status, res.body)
	}
	defineInvoice(t, o.Server)
	for _, path := range []string{"/services/data/v45.0/sobjects/Account/" + id, "/services/data/v45.0/sobjects/"} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, o.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+o.token)
		req.Header.Set("If-Modified-Since", header)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("%s after a change: got %d, want 200", path, res.StatusCode)
		}
	}
}

// revokeForm posts token to the revocation endpoint.
func revokeForm(t *testing.T, s *sforg.Server, token string) response {
	t.Helper()
	return postFormTo(t, s.URL+"/services/oauth2/revoke", url.Values{"token": {token}}, "", "")
}

func TestRevoke(t *testing.T) {
	o := newOrg(t, sforg.Options{})
	tests := []struct {
		name      string
		token     func(t *testing.T) string
		get       bool
		wantError string // "" for 200
	}{
		{"access token by POST", func(t *testing.T) string { return login(t, o.Server) }, false, ""},
		{"access token by GET", func(t *testing.T) string { return login(t, o.Server) }, true, ""},
		{"SOAP session id", func(t *testing.T) string {
			body := string(o.do(t, http.MethodPost, "/services/Soap/u/45.0", soapLoginBody()).body)
			start, end := strings.Index(body, "<sessionId>")+len("<sessionId>"), strings.Index(body, "</sessionId>")
			return body[start:end]
		}, false, ""},
		{"a revoked token", func(t *testing.T) string {
			tok := login(t, o.Server)
			o.RevokeSession(tok)
			return tok
		}, false, "invalid_token"},
		{"not a token", func(*testing.T) string { return "garbage" }, false, "unsupported_token_type"},
		{"no token", func(*testing.T) string { return "" }, false, "unsupported_token_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := tt.token(t)
			var res response
			if tt.get {
				res = send(t, http.MethodGet, o.URL+"/services/oauth2/revoke?token="+url.QueryEscape(tok), "", nil)
			} else {
				res = revokeForm(t, o.Server, tok)
			}
			if tt.wantError == "" {
				if res.status != http.StatusOK || len(res.body) != 0 {
					t.Fatalf("got %d %q, want 200 and no body", res.status, res.body)
				}
				if after := send(t, http.MethodGet, o.URL+"/services/data/v45.0/limits", tok, nil); after.status != http.StatusUnauthorized || after.errorCode(t) != "INVALID_SESSION_ID" {
					t.Errorf("after revoke: got %d %s, want 401 INVALID_SESSION_ID", after.status, after.body)
				}
				return
			}
			form, err := url.ParseQuery(string(res.body))
			if res.status != http.StatusBadRequest || err != nil || form.Get("error") != tt.wantError || form.Get("error_description") == "" {
				t.Errorf("got %d %q, want 400 error=%s (form-encoded)", res.status, res.body, tt.wantError)
			}
		})
	}
	// The captured wording of the unsupported token type, spaces as %20.
	if got := string(revokeForm(t, o.Server, "garbage").body); got != "error=unsupported_token_type&error_description=this%20token%20type%20is%20not%20supported" {
		t.Errorf("got %q", got)
	}
	if got := o.Counters()["requests.revoke"]; got < 6 {
		t.Errorf("requests.revoke: got %d, want every call counted", got)
	}
}

func TestRevokeDropAfterCommit(t *testing.T) {
	o := newOrg(t, sforg.Options{})
	if err := o.Inject(sforg.Fault{Route: sforg.RouteRevoke, Kind: sforg.FaultDropAfter, Times: 1}); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, o.URL+"/services/oauth2/revoke", strings.NewReader("token="+url.QueryEscape(o.token)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
		t.Fatalf("got %d, want the connection dropped", res.StatusCode)
	}
	if res := o.do(t, http.MethodGet, "/services/data/v45.0/limits", nil); res.status != http.StatusUnauthorized {
		t.Errorf("after the dropped revoke: got %d %s, want 401: the revocation was committed", res.status, res.body)
	}
}

func TestIdentity(t *testing.T) {
	o := newOrg(t, sforg.Options{})
	user := o.Store().UserID()
	idPath := "/id/" + sforg.OrgID + "/" + user
	tests := []struct {
		name       string
		path       string
		token      string
		wantStatus int
		wantURL    string // urls.rest
	}{
		{"bearer token", idPath, o.token, 200, o.URL + "/services/data/v{version}/"},
		{"oauth_token parameter, as jsforce sends it", idPath + "?format=json&oauth_token=" + url.QueryEscape(o.token), "", 200, o.URL + "/services/data/v{version}/"},
		{"version", idPath + "?version=45.0", o.token, 200, o.URL + "/services/data/v45.0/"},
		{"latest version", idPath + "?version=latest", o.token, 200, o.URL + "/services/data/v" + sforg.CurrentVersion + "/"},
		{"15-character org id", "/id/" + sforg.OrgID[:15] + "/" + user, o.token, 200, o.URL + "/services/data/v{version}/"},
		{"bad token", idPath, "nope", 403, ""},
		{"another user", "/id/" + sforg.OrgID + "/005000000000000AAA", o.token, 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := send(t, http.MethodGet, o.URL+tt.path, tt.token, nil)
			if res.status != tt.wantStatus {
				t.Fatalf("got %d %s, want %d", res.status, res.body, tt.wantStatus)
			}
			if tt.wantStatus != 200 {
				if want := map[int]string{403: "Bad_OAuth_Token", 404: "Bad_Id"}[tt.wantStatus]; string(res.body) != want {
					t.Errorf("got %q, want %q", res.body, want)
				}
				return
			}
			var got struct {
				UserID       string `json:"user_id"`
				Photos       map[string]string
				URLs         map[string]string
				UserType     string `json:"user_type"`
				Language     string
				Locale       string
				UTCOffset    int64  `json:"utcOffset"`
				LastModified string `json:"last_modified_date"`
				AppInstalled bool   `json:"is_app_installed"`
				Status       map[string]any
			}
			res.json(t, &got)
			if got.UserID != user || got.Photos["picture"] == "" || got.Photos["thumbnail"] == "" || got.UserType != "STANDARD" ||
				got.Language != "en_US" || got.Locale != "en_US" || got.UTCOffset != -28800000 || !got.AppInstalled || got.Status == nil {
				t.Errorf("got %s", res.body)
			}
			if _, err := time.Parse(time.RFC3339, got.LastModified); err != nil {
				t.Errorf("last_modified_date: got %q", got.LastModified)
			}
			if got.URLs["rest"] != tt.wantURL {
				t.Errorf("urls.rest: got %q, want %q", got.URLs["rest"], tt.wantURL)
			}
			for _, k := range []string{"enterprise", "metadata", "partner", "rest", "sobjects", "search", "query", "recent", "tooling_soap", "tooling_rest", "profile", "feeds", "groups", "users", "feed_items", "feed_elements", "custom_domain"} {
				if got.URLs[k] == "" {
					t.Errorf("urls.%s missing", k)
				}
			}
		})
	}
}

func TestRecent(t *testing.T) {
	o := newOrg(t, sforg.Options{})
	var want []string
	for _, name := range []string{"First", "Second", "Third"} {
		want = append(want, o.create(t, "Account", map[string]any{"Name": name}))
	}
	want = append(want, o.create(t, "Contact", map[string]any{"LastName": "Doe"}))
	tests := []struct {
		name  string
		query string
		want  []string // ids, newest first
	}{
		{"all", "", []string{want[3], want[2], want[1], want[0]}},
		{"limit", "?limit=2", []string{want[3], want[2]}},
		{"limit not a number", "?limit=x", []string{want[3], want[2], want[1], want[0]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := o.do(t, http.MethodGet, "/services/data/v45.0/recent/"+tt.query, nil)
			if res.status != http.StatusOK {
				t.Fatalf("got %d %s", res.status, res.body)
			}
			sameKeysAndTypes(t, res.body, fixture(t, "restforce/spec/fixtures/sobject/recent_success_response.json"))
			var got []struct {
				Attributes struct{ Type, URL string }
				ID         string `json:"Id"`
			}
			res.json(t, &got)
			var ids []string
			for _, r := range got {
				ids = append(ids, r.ID)
			}
			if strings.Join(ids, ",") != strings.Join(tt.want, ",") {
				t.Errorf("got %v, want %v", ids, tt.want)
			}
			if len(got) > 0 && got[0].Attributes.URL != "/services/data/v45.0/sobjects/Contact/"+want[3] {
				t.Errorf("attributes: got %+v", got[0].Attributes)
			}
		})
	}
}

func TestExplain(t *testing.T) {
	o := newOrg(t, sforg.Options{})
	for _, name := range []string{"Acme", "Beta", "Gamma"} {
		o.create(t, "Account", map[string]any{"Name": name, "Industry": "Energy"})
	}
	var views struct{ Listviews []struct{ ID string } }
	o.do(t, http.MethodGet, "/services/data/v45.0/sobjects/Account/listviews", nil).json(t, &views)
	tests := []struct {
		name        string
		explain     string
		wantStatus  int
		wantCode    string
		wantLeading []string // leadingOperationType of each plan
		wantNote    string   // a field named in the table scan's notes
		wantCard    int
	}{
		{"indexed filter", "SELECT Id FROM Account WHERE Name = 'Acme'", 200, "", []string{"Index", "TableScan"}, "", 1},
		{"unindexed filter", "SELECT Id FROM Account WHERE Industry = 'Energy'", 200, "", []string{"TableScan"}, "Industry", 3},
		{"no filter", "SELECT Id FROM Account", 200, "", []string{"TableScan"}, "", 3},
		{"list view id", views.Listviews[0].ID, 200, "", []string{"TableScan"}, "", 3},
		{"malformed", "SELECT FROM Account", 400, "MALFORMED_QUERY", nil, "", 0},
		{"unknown object", "SELECT Id FROM Nope__c", 400, "INVALID_TYPE", nil, "", 0},
		{"unknown list view", ids.New("00B", "5g0", 1<<40), 400, "INVALID_ID", nil, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := o.do(t, http.MethodGet, "/services/data/v45.0/query/?explain="+url.QueryEscape(tt.explain), nil)
			if res.status != tt.wantStatus {
				t.Fatalf("got %d %s, want %d", res.status, res.body, tt.wantStatus)
			}
			if tt.wantCode != "" {
				if got := res.errorCode(t); got != tt.wantCode {
					t.Errorf("got %q, want %q", got, tt.wantCode)
				}
				return
			}
			var got struct {
				Plans []struct {
					Cardinality          int
					Fields               []string
					LeadingOperationType string
					Notes                []struct {
						Description, TableEnumOrID string
						Fields                     []string
					}
					RelativeCost       float64
					SObjectCardinality int
					SObjectType        string
				}
			}
			res.json(t, &got)
			var leading []string
			for _, p := range got.Plans {
				leading = append(leading, p.LeadingOperationType)
				if p.Cardinality != tt.wantCard || p.SObjectCardinality != 3 || p.SObjectType != "Account" || p.Fields == nil || p.Notes == nil {
					t.Errorf("plan: got %+v", p)
				}
			}
			if strings.Join(leading, ",") != strings.Join(tt.wantLeading, ",") {
				t.Errorf("plans: got %v, want %v", leading, tt.wantLeading)
			}
			scan := got.Plans[len(got.Plans)-1]
			if tt.wantNote != "" && (len(scan.Notes) != 1 || scan.Notes[0].Fields[0] != tt.wantNote || scan.Notes[0].TableEnumOrID != "Account") {
				t.Errorf("notes: got %+v, want one on %s", scan.Notes, tt.wantNote)
			}
			if !strings.Contains(string(res.body), `"relativeCost":`) {
				t.Errorf("got %s", res.body)
			}
		})
	}
}

func TestLayouts(t *testing.T) {
	o := newOrg(t, sforg.Options{})
	tests := []struct {
		name       string
		path       string
		wantStatus int
		wantKeys   []string
	}{
		{"all layouts", "/services/data/v45.0/sobjects/Account/describe/layouts/", 200, []string{"layouts", "recordTypeMappings", "recordTypeSelectorRequired"}},
		{"master record type", "/services/data/v45.0/sobjects/Account/describe/layouts/012000000000000AAA", 200, []string{"detailLayoutSections", "editLayoutSections", "id", "relatedLists", "buttonLayoutSection"}},
		{"master record type, 15 characters", "/services/data/v45.0/sobjects/Contact/describe/layouts/012000000000000", 200, []string{"detailLayoutSections"}},
		{"other record type", "/services/data/v45.0/sobjects/Account/describe/layouts/0125g000000AbCdAAK", 404, nil},
		{"named layout", "/services/data/v45.0/sobjects/Account/describe/namedLayouts/UserAlt", 404, nil},
		{"unknown object", "/services/data/v45.0/sobjects/Nope__c/describe/layouts", 404, nil},
		{"object without layouts", "/services/data/v45.0/sobjects/ProcessInstance/describe/layouts", 404, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := o.do(t, http.MethodGet, tt.path, nil)
			if res.status != tt.wantStatus {
				t.Fatalf("got %d %s, want %d", res.status, res.body, tt.wantStatus)
			}
			if tt.wantStatus != 200 {
				if got := res.errorCode(t); got != "NOT_FOUND" {
					t.Errorf("got %q, want NOT_FOUND", got)
				}
				return
			}
			var got map[string]json.RawMessage
			res.json(t, &got)
			for _, k := range tt.wantKeys {
				if _, ok := got[k]; !ok {
					t.Errorf("%s missing in %.300s", k, res.body)
				}
			}
		})
	}
	// The layout lists the object's fields, the required ones as required
	// in the edit section.
	var all struct {
		Layouts []struct {
			EditLayoutSections []struct {
				LayoutRows []struct {
					LayoutItems []struct {
						Label            string
						Required         bool
						LayoutComponents []struct{ Type, Value string }
					}
				}
			}
		}
		RecordTypeMappings []struct {
			RecordTypeID string `json:"recordTypeId"`
			Master       bool
		}
	}
	o.do(t, http.MethodGet, "/services/data/v45.0/sobjects/Account/describe/layouts", nil).json(t, &all)
	found := false
	for _, row := range all.Layouts[0].EditLayoutSections[0].LayoutRows {
		for _, item := range row.LayoutItems {
			if item.LayoutComponents[0].Value == "Name" {
				found = item.Required && item.Label == "Account Name" && item.LayoutComponents[0].Type == "Field"
			}
		}
	}
	if !found || len(all.RecordTypeMappings) != 1 || all.RecordTypeMappings[0].RecordTypeID != "012000000000000AAA" || !all.RecordTypeMappings[0].Master {
		t.Errorf("got %+v", all)
	}
}

func TestListViews(t *testing.T) {
	o := newOrg(t, sforg.Options{})
	o.create(t, "Account", map[string]any{"Name": "Burlington Textiles Corp of America", "BillingState": "NC", "Phone": "(336) 222-7000", "Type": "Customer - Direct"})
	o.create(t, "Account", map[string]any{"Name": "Acme"})
	base := "/services/data/v45.0/sobjects/Account/listviews"

	var list struct {
		Done        bool
		Size        int
		SObjectType string `json:"sobjectType"`
		Listviews   []struct {
			ID, DeveloperName, Label, URL, ResultsURL, DescribeURL string
			SoqlCompatible                                         bool
		}
	}
	o.do(t, http.MethodGet, base, nil).json(t, &list)
	if !list.Done || list.Size != 2 || list.SObjectType != "Account" || list.Listviews[1].DeveloperName != "MyAccounts" || list.Listviews[1].Label != "My Accounts" {
		t.Fatalf("list: got %+v", list)
	}
	mine := list.Listviews[1]
	if mine.ResultsURL != base+"/"+mine.ID+"/results" || mine.DescribeURL != base+"/"+mine.ID+"/describe" || !mine.SoqlCompatible {
		t.Errorf("urls: got %+v", mine)
	}

	res := o.do(t, http.MethodGet, mine.ResultsURL, nil)
	if res.status != http.StatusOK {
		t.Fatalf("results: got %d %s", res.status, res.body)
	}
	fix := fixture(t, "restforce/spec/fixtures/sobject/list_view_results_success_response.json")
	sameKeysAndTypes(t, res.body, fix)
	var got, want struct {
		Columns []map[string]any
		Records []struct {
			Columns []struct {
				FieldNameOrPath string
				Value           any
			}
		}
		Size int
		Done bool
	}
	res.json(t, &got)
	if err := json.Unmarshal(fix, &want); err != nil {
		t.Fatal(err)
	}
	// The captured My Accounts view has the same columns, in the same order,
	// with the same labels and sort labels.
	if len(got.Columns) != len(want.Columns) {
		t.Fatalf("columns: got %d, want %d", len(got.Columns), len(want.Columns))
	}
	for i := range want.Columns {
		if !jsonEqual(got.Columns[i], want.Columns[i]) {
			t.Errorf("column %d: got %v, want %v", i, got.Columns[i], want.Columns[i])
		}
	}
	if got.Size != 2 || !got.Done || len(got.Records) != 2 {
		t.Fatalf("records: got %+v", got)
	}
	first := got.Records[1].Columns // ordered by Name: Acme, Burlington
	values := map[string]any{}
	for _, c := range first {
		values[c.FieldNameOrPath] = c.Value
	}
	if values["Name"] != "Burlington Textiles Corp of America" || values["BillingState"] != "NC" || values["Site"] != nil || values["Owner.Alias"] != "integ" {
		t.Errorf("values: got %v", values)
	}
	if d, _ := values["CreatedDate"].(string); !strings.HasSuffix(d, " GMT 2026") && !strings.Contains(d, " GMT ") {
		t.Errorf("CreatedDate: got %q, want Java's Date form", d)
	}

	page := o.do(t, http.MethodGet, mine.ResultsURL+"?limit=1&offset=1", nil)
	page.json(t, &got)
	if len(got.Records) != 1 || !got.Done {
		t.Errorf("paged: got %d records, done %v", len(got.Records), got.Done)
	}

	var describe struct {
		ID, Query, Scope, SObjectType string
		Columns                       []map[string]any
		OrderBy                       []map[string]any
	}
	o.do(t, http.MethodGet, mine.DescribeURL, nil).json(t, &describe)
	if describe.ID != mine.ID || describe.Scope != "mine" || describe.SObjectType != "Account" || len(describe.Columns) != 10 ||
		!strings.HasPrefix(describe.Query, "SELECT Name, Site, BillingState, Phone, toLabel(Type), Owner.Alias, Id, CreatedDate") {
		t.Errorf("describe: got %+v", describe)
	}

	for path, want := range map[string]int{
		base + "/" + mine.ID:                      200,
		base + "/" + mine.ID[:15]:                 200,
		base + "/recent":                          200,
		base + "/" + ids.New("00B", "5g0", 1<<40): 404,
		"/services/data/v45.0/sobjects/Contact/listviews/" + mine.ID: 404,
		"/services/data/v45.0/sobjects/Nope__c/listviews":            404,
	} {
		if res := o.do(t, http.MethodGet, path, nil); res.status != want {
			t.Errorf("%s: got %d %s, want %d", path, res.status, res.body, want)
		}
	}
}

func TestProcessRules(t *testing.T) {
	o := newOrg(t, sforg.Options{})
	id := o.create(t, "Account", map[string]any{"Name": "Acme"})
	tests := []struct {
		name, method, path string
		body               any
		wantStatus         int
		wantBody           string // exact JSON
	}{
		{"all rules", "GET", "/process/rules", nil, 200, `{"rules":{}}`},
		{"an object's rules", "GET", "/process/rules/Account/", nil, 200, `{"rules":{}}`},
		{"unknown object", "GET", "/process/rules/Nope__c", nil, 404, ""},
		{"a rule", "GET", "/process/rules/Account/01Q5g000000AbCd", nil, 404, ""},
		{"trigger", "POST", "/process/rules", map[string]any{"contextIds": []string{id}}, 200, `{"errors":null,"success":true}`},
		{"trigger a missing record", "POST", "/process/rules", map[string]any{"contextIds": []string{"001000000000000AAA"}}, 404, ""},
		{"trigger a malformed id", "POST", "/process/rules", map[string]any{"contextIds": []string{"x"}}, 400, ""},
		{"trigger without a body", "POST", "/process/rules", nil, 400, ""},
		{"trigger a rule", "POST", "/process/rules/Account/01Q5g000000AbCd", map[string]any{"contextIds": []string{id}}, 404, ""},
		{"the list of an object takes no POST", "POST", "/process/rules/Account", map[string]any{}, 405, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := o.do(t, tt.method, "/services/data/v45.0"+tt.path, tt.body)
			if res.status != tt.wantStatus {
				t.Fatalf("got %d %s, want %d", res.status, res.body, tt.wantStatus)
			}
			if tt.wantBody != "" && strings.TrimSpace(string(res.body)) != tt.wantBody {
				t.Errorf("got %s, want %s", res.body, tt.wantBody)
			}
		})
	}
}

// TestNewRouteFaults checks that the new route names scope faults and count
// requests like every other route.
func TestNewRouteFaults(t *testing.T) {
	tests := []struct {
		route, method, path string
		wantType            string
	}{
		{sforg.RouteRecent, "GET", "/services/data/v45.0/recent", "application/json"},
		{sforg.RouteLayouts, "GET", "/services/data/v45.0/sobjects/Account/describe/layouts", "application/json"},
		{sforg.RouteListViews, "GET", "/services/data/v45.0/sobjects/Account/listviews", "application/json"},
		{sforg.RouteProcessRules, "POST", "/services/data/v45.0/process/rules", "application/json"},
		{sforg.RouteRevoke, "POST", "/services/oauth2/revoke", "application/json"},
		{"query", "GET", "/services/data/v45.0/query?explain=SELECT+Id+FROM+Account", "application/json"},
	}
	for _, tt := range tests {
		t.Run(tt.route, func(t *testing.T) {
			o := newOrg(t, sforg.Options{})
			if err := o.Inject(sforg.Fault{Route: tt.route, Kind: sforg.FaultStatus, Status: 503, Times: 1}); err != nil {
				t.Fatal(err)
			}
			res := o.do(t, tt.method, tt.path, nil)
			ct, _, _ := strings.Cut(res.header.Get("Content-Type"), ";")
			if res.status != http.StatusServiceUnavailable || ct != tt.wantType {
				t.Errorf("got %d %s %s, want 503 %s", res.status, ct, res.body, tt.wantType)
			}
			if got := o.Counters()["requests."+tt.route]; got != 1 {
				t.Errorf("requests.%s: got %d, want 1", tt.route, got)
			}
			if err := o.Inject(sforg.Fault{Route: tt.route, Kind: sforg.FaultDropBefore, Times: 1}); err != nil {
				t.Fatal(err)
			}
			// A fresh connection: net/http replays a GET whose reused
			// connection was closed, which would hide the drop.
			client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
			req, _ := http.NewRequestWithContext(t.Context(), tt.method, o.URL+tt.path, nil)
			if res, err := client.Do(req); err == nil {
				res.Body.Close()
				t.Errorf("drop-before: got %d, want the connection dropped", res.StatusCode)
			}
		})
	}
}
