package sforg

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sfconnect/connector/internal/testclock"
)

// orgClient is an org on loopback plus a session for calling it over HTTP.
type orgClient struct {
	t     testing.TB
	s     *Server
	token string
	base  string // URL + /services/data/v45.0
}

// startOrgClient starts an org and opens a session for the integration user.
func startOrgClient(t testing.TB, opts Options) *orgClient {
	t.Helper()
	s, err := Start(opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return &orgClient{t: t, s: s, token: s.newSession(s.store.UserID()), base: s.URL + "/services/data/v45.0"}
}

// do sends a request with the session and returns the status and body.
func (c *orgClient) do(method, path string, body io.Reader, header map[string]string) (int, []byte) {
	c.t.Helper()
	target := path
	if !strings.HasPrefix(path, "http") {
		target = c.s.URL + path
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		c.t.Fatalf("NewRequest: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("read body: %v", err)
	}
	return resp.StatusCode, b
}

// query runs SOQL through GET /query (or /queryAll) and decodes the first page.
func (c *orgClient) query(soql string, all bool, header map[string]string) (int, []byte) {
	c.t.Helper()
	resource := "/query?q="
	if all {
		resource = "/queryAll?q="
	}
	return c.do("GET", "/services/data/v45.0"+resource+url.QueryEscape(soql), nil, header)
}

// page is a decoded query answer.
type page struct {
	TotalSize      int               `json:"totalSize"`
	Done           bool              `json:"done"`
	NextRecordsURL *string           `json:"nextRecordsUrl"`
	Records        []json.RawMessage `json:"records"`
}

func (c *orgClient) mustQuery(soql string, all bool) page {
	c.t.Helper()
	status, body := c.query(soql, all, nil)
	if status != http.StatusOK {
		c.t.Fatalf("query %q: status %d: %s", soql, status, body)
	}
	var p page
	if err := json.Unmarshal(body, &p); err != nil {
		c.t.Fatalf("query %q: %v: %s", soql, err, body)
	}
	return p
}

// records decodes all records of a one-page answer.
func (c *orgClient) records(soql string, all bool) []map[string]any {
	c.t.Helper()
	p := c.mustQuery(soql, all)
	if !p.Done {
		c.t.Fatalf("query %q: not done in one page", soql)
	}
	out := make([]map[string]any, len(p.Records))
	for i, raw := range p.Records {
		if err := json.Unmarshal(raw, &out[i]); err != nil {
			c.t.Fatalf("record: %v", err)
		}
	}
	return out
}

// insert stores a record through the REST validation and returns its id.
func (c *orgClient) insert(object string, fields map[string]any) string {
	c.t.Helper()
	id, err := c.s.Store().Insert(object, fields)
	if err != nil {
		c.t.Fatalf("insert %s: %v", object, err)
	}
	return id
}

// wantError checks a Salesforce error array of one element.
func wantError(t *testing.T, status int, body []byte, wantStatus int, wantCode, wantMessage string) {
	t.Helper()
	if status != wantStatus {
		t.Fatalf("status: got %d, want %d (%s)", status, wantStatus, body)
	}
	var errs []map[string]any
	if err := json.Unmarshal(body, &errs); err != nil {
		t.Fatalf("error body is not a JSON array: %v: %s", err, body)
	}
	if len(errs) != 1 {
		t.Fatalf("got %d errors, want 1: %s", len(errs), body)
	}
	if got := errs[0]["errorCode"]; got != wantCode {
		t.Errorf("errorCode: got %q, want %q", got, wantCode)
	}
	msg, _ := errs[0]["message"].(string)
	if wantMessage != "" && msg != wantMessage {
		t.Errorf("message: got %q, want %q", msg, wantMessage)
	}
	if msg == "" {
		t.Errorf("message is empty: %s", body)
	}
}

var locatorURL = regexp.MustCompile(`^/services/data/v45\.0/query/(01g[0-9A-Za-z]{15})-(\d+)$`)

func TestQueryPagingWithBatchSize(t *testing.T) {
	c := startOrgClient(t, Options{})
	for i := range 1000 {
		c.insert("Account", map[string]any{"Name": fmt.Sprintf("Paging %04d", i)})
	}
	status, body := c.query("SELECT Id, Name FROM Account WHERE Name LIKE 'Paging%' ORDER BY Name", false, map[string]string{"Sforce-Query-Options": "batchSize=200"})
	var names []string
	var locator string
	for pageNo := 1; ; pageNo++ {
		if status != http.StatusOK {
			t.Fatalf("page %d: status %d: %s", pageNo, status, body)
		}
		var p page
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatalf("page %d: %v", pageNo, err)
		}
		if p.TotalSize != 1000 {
			t.Errorf("page %d totalSize: got %d, want 1000", pageNo, p.TotalSize)
		}
		if len(p.Records) != 200 {
			t.Errorf("page %d: got %d records, want 200", pageNo, len(p.Records))
		}
		for _, raw := range p.Records {
			var r struct{ Name string }
			json.Unmarshal(raw, &r) //nolint:errcheck // checked by the order test below
			names = append(names, r.Name)
		}
		if pageNo == 5 {
			if !p.Done || p.NextRecordsURL != nil {
				t.Fatalf("page 5: got done %v next %v, want done and no nextRecordsUrl", p.Done, p.NextRecordsURL)
			}
			if bytes.Contains(body, []byte("nextRecordsUrl")) {
				t.Errorf("last page mentions nextRecordsUrl: %s", body[:80])
			}
			break
		}
		if p.Done || p.NextRecordsURL == nil {
			t.Fatalf("page %d: got done %v, want a nextRecordsUrl", pageNo, p.Done)
		}
		m := locatorURL.FindStringSubmatch(*p.NextRecordsURL)
		if m == nil {
			t.Fatalf("page %d nextRecordsUrl: got %q, want /services/data/v45.0/query/01g...-N", pageNo, *p.NextRecordsURL)
		}
		if locator != "" && m[1] != locator {
			t.Errorf("locator changed between pages: %q then %q", locator, m[1])
		}
		locator = m[1]
		if got, want := m[2], strconv.Itoa(pageNo*200); got != want {
			t.Errorf("page %d offset: got %q, want %q", pageNo, got, want)
		}
		status, body = c.do("GET", *p.NextRecordsURL, nil, nil)
	}
	if len(names) != 1000 {
		t.Fatalf("got %d records over all pages, want 1000", len(names))
	}
	for i, n := range names {
		if want := fmt.Sprintf("Paging %04d", i); n != want {
			t.Fatalf("record %d: got %q, want %q", i, n, want)
		}
	}
}

func TestQueryBatchSizeHeader(t *testing.T) {
	tests := []struct {
		header string
		want   int
	}{
		{"", 2000},
		{"batchSize=500", 500},
		{"batchSize=100", 200},
		{"batchSize=5000", 2000},
		{"batchSize = 300", 300},
		{"foo=1, batchSize=250", 250},
		{"batchSize=many", 2000},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			if got := batchSize(tt.header); got != tt.want {
				t.Errorf("batchSize(%q): got %d, want %d", tt.header, got, tt.want)
			}
		})
	}
	c := startOrgClient(t, Options{})
	for i := range 2001 {
		c.insert("Account", map[string]any{"Name": fmt.Sprintf("Batch %d", i)})
	}
	p := c.mustQuery("SELECT Id FROM Account", false)
	if len(p.Records) != 2000 || p.Done || p.NextRecordsURL == nil || !strings.HasSuffix(*p.NextRecordsURL, "-2000") {
		t.Fatalf("default batch: got %d records, done %v, next %v; want 2000, false, ...-2000", len(p.Records), p.Done, p.NextRecordsURL)
	}
}

func TestQueryAllSeesDeletedRows(t *testing.T) {
	c := startOrgClient(t, Options{})
	keep := c.insert("Account", map[string]any{"Name": "Kept"})
	gone := c.insert("Account", map[string]any{"Name": "Gone"})
	if err := c.s.Store().Delete("Account", gone); err != nil {
		t.Fatal(err)
	}
	live := c.records("SELECT Id, IsDeleted FROM Account", false)
	if len(live) != 1 || live[0]["Id"] != keep {
		t.Fatalf("query: got %v, want only %s", live, keep)
	}
	all := c.records("SELECT Id, IsDeleted FROM Account ORDER BY Name", true)
	if len(all) != 2 {
		t.Fatalf("queryAll: got %d records, want 2", len(all))
	}
	if all[0]["Id"] != gone || all[0]["IsDeleted"] != true {
		t.Errorf("queryAll deleted row: got %v, want %s with IsDeleted true", all[0], gone)
	}
}

func TestQueryAllNextRecordsURLSaysQuery(t *testing.T) {
	c := startOrgClient(t, Options{})
	for i := range 250 {
		c.insert("Account", map[string]any{"Name": fmt.Sprintf("All %d", i)})
	}
	status, body := c.query("SELECT Id FROM Account", true, map[string]string{"Sforce-Query-Options": "batchSize=200"})
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, body)
	}
	var p page
	json.Unmarshal(body, &p) //nolint:errcheck // checked below
	if p.NextRecordsURL == nil || !locatorURL.MatchString(*p.NextRecordsURL) {
		t.Fatalf("queryAll nextRecordsUrl: got %v, want /services/data/v45.0/query/01g...-200", p.NextRecordsURL)
	}
	status, body = c.do("GET", *p.NextRecordsURL, nil, nil)
	var last page
	if err := json.Unmarshal(body, &last); err != nil || status != http.StatusOK || len(last.Records) != 50 || !last.Done {
		t.Fatalf("second page: status %d, %d records, done %v: %s", status, len(last.Records), last.Done, body)
	}
}

func TestQueryErrors(t *testing.T) {
	c := startOrgClient(t, Options{})
	tests := []struct {
		name, path, code, message string
	}{
		{"no q", "/services/data/v45.0/query", "MALFORMED_QUERY", "A query string has to be specified"},
		{"no q with slash", "/services/data/v45.0/query/", "MALFORMED_QUERY", "A query string has to be specified"},
		{"empty q", "/services/data/v45.0/query?q=", "MALFORMED_QUERY", "SOQL statements cannot be empty or null"},
		{"syntax", "/services/data/v45.0/query?q=" + url.QueryEscape("SELECT FROM Account"), "MALFORMED_QUERY", ""},
		{"unknown object", "/services/data/v45.0/query?q=" + url.QueryEscape("SELECT Id FROM Missing__c"), "INVALID_TYPE", ""},
		{"unknown field", "/services/data/v45.0/query?q=" + url.QueryEscape("SELECT Nope FROM Account"), "INVALID_FIELD", ""},
		{"queryAll syntax", "/services/data/v45.0/queryAll?q=" + url.QueryEscape("SELEC Id FROM Account"), "MALFORMED_QUERY", ""},
		{"unknown locator", "/services/data/v45.0/query/01g5g0000000000001-2000", "INVALID_QUERY_LOCATOR", "invalid query locator"},
		{"locator without offset", "/services/data/v45.0/query/01g5g000000000000A", "INVALID_QUERY_LOCATOR", "invalid query locator"},
		{"locator not an id", "/services/data/v45.0/query/hello-2000", "INVALID_QUERY_LOCATOR", "invalid query locator"},
		{"locator wrong prefix", "/services/data/v45.0/query/0015g0000000001AAA-2000", "INVALID_QUERY_LOCATOR", "invalid query locator"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := c.do("GET", tt.path, nil, nil)
			wantError(t, status, body, http.StatusBadRequest, tt.code, tt.message)
		})
	}
}

func TestQueryNeedsSession(t *testing.T) {
	c := startOrgClient(t, Options{})
	c.token = "00D5g000004XyZa!bogus"
	status, body := c.query("SELECT Id FROM Account", false, nil)
	wantError(t, status, body, http.StatusUnauthorized, "INVALID_SESSION_ID", "Session expired or invalid")
	if got := c.s.Requests("query"); got != 1 {
		t.Errorf("requests counted for route query: got %d, want 1", got)
	}
}

func TestQueryCount(t *testing.T) {
	c := startOrgClient(t, Options{})
	for i := range 7 {
		c.insert("Account", map[string]any{"Name": fmt.Sprintf("Count %d", i), "NumberOfEmployees": float64(i)})
	}
	status, body := c.query("SELECT COUNT() FROM Account", false, nil)
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, body)
	}
	if got, want := string(body), `{"totalSize":7,"done":true,"records":[]}`; got != want {
		t.Errorf("COUNT(): got %s, want %s", got, want)
	}
	status, body = c.query("SELECT COUNT(Id), MAX(NumberOfEmployees) FROM Account", false, nil)
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, body)
	}
	if got, want := string(body), `{"totalSize":1,"done":true,"records":[{"attributes":{"type":"AggregateResult"},"expr0":7,"expr1":6}]}`; got != want {
		t.Errorf("aggregate: got %s, want %s", got, want)
	}
}

// keysInOrder lists the keys of a JSON object in document order.
func keysInOrder(t *testing.T, raw []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %s", raw)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// kind names the JSON type of a decoded value.
func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// readFixture loads a restforce fixture.
func readFixture(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "restforce", "spec", "fixtures", "sobject", name))
	if err != nil {
		t.Fatalf("fixture: %v", err) // testdata/README.md says where it comes from
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestQueryRecordShapeMatchesRestforceFixture(t *testing.T) {
	c := startOrgClient(t, Options{})
	acct := c.insert("Account", map[string]any{"Name": "Parent & <Co>", "AnnualRevenue": 1500000.5})
	c.insert("Contact", map[string]any{"LastName": "Child", "AccountId": acct, "Birthdate": "1990-02-03"})
	c.insert("Contact", map[string]any{"LastName": "Orphan"})

	p := c.mustQuery("SELECT Id, LastName, Birthdate, Account.Name, Account.AnnualRevenue FROM Contact ORDER BY LastName", false)
	if len(p.Records) != 2 {
		t.Fatalf("got %d records, want 2", len(p.Records))
	}
	if got, want := strings.Join(keysInOrder(t, p.Records[0]), ","), "attributes,Id,LastName,Birthdate,Account"; got != want {
		t.Errorf("key order: got %q, want %q", got, want)
	}
	var child, orphan map[string]any
	json.Unmarshal(p.Records[0], &child)  //nolint:errcheck // keysInOrder parsed it
	json.Unmarshal(p.Records[1], &orphan) //nolint:errcheck // same
	attrs := child["attributes"].(map[string]any)
	if attrs["type"] != "Contact" || attrs["url"] != "/services/data/v45.0/sobjects/Contact/"+child["Id"].(string) {
		t.Errorf("attributes: got %v", attrs)
	}
	parent, ok := child["Account"].(map[string]any)
	if !ok {
		t.Fatalf("Account: got %v, want a nested record", child["Account"])
	}
	if got, want := strings.Join(keysInOrder(t, mustMarshalRaw(t, p.Records[0], "Account")), ","), "attributes,Name,AnnualRevenue"; got != want {
		t.Errorf("parent key order: got %q, want %q", got, want)
	}
	pattrs := parent["attributes"].(map[string]any)
	if pattrs["type"] != "Account" || pattrs["url"] != "/services/data/v45.0/sobjects/Account/"+acct {
		t.Errorf("parent attributes: got %v", pattrs)
	}
	if parent["Name"] != "Parent & <Co>" || parent["AnnualRevenue"] != 1500000.5 {
		t.Errorf("parent fields: got %v", parent)
	}
	if !bytes.Contains(p.Records[0], []byte(`"Parent & <Co>"`)) {
		t.Errorf("strings should not be HTML-escaped: %s", p.Records[0])
	}
	if orphan["Account"] != nil {
		t.Errorf("empty lookup: got %v, want null", orphan["Account"])
	}

	// The same keys carry the same JSON types as in restforce's captured shapes.
	fixture := readFixture(t, "query_success_response.json")
	frec := fixture["records"].([]any)[0].(map[string]any)
	for _, k := range []string{"totalSize", "done", "records"} {
		var got map[string]any
		json.Unmarshal(mustPageJSON(t, p), &got) //nolint:errcheck // built here
		if kind(got[k]) != kind(fixture[k]) {
			t.Errorf("%s: got %s, want %s as in the fixture", k, kind(got[k]), kind(fixture[k]))
		}
	}
	for _, pair := range [][2]string{{"attributes", "attributes"}, {"Account", "ParentWhizbang__r"}, {"Birthdate", "Date_Label"}} {
		if kind(child[pair[0]]) != kind(frec[pair[1]]) {
			t.Errorf("%s: got %s, want %s like the fixture's %s", pair[0], kind(child[pair[0]]), kind(frec[pair[1]]), pair[1])
		}
	}
	fattrs := frec["attributes"].(map[string]any)
	for k := range fattrs {
		if kind(attrs[k]) != kind(fattrs[k]) {
			t.Errorf("attributes.%s: got %s, want %s", k, kind(attrs[k]), kind(fattrs[k]))
		}
	}
	fparent := frec["ParentWhizbang__r"].(map[string]any)
	if kind(pattrs["url"]) != kind(fparent["attributes"].(map[string]any)["url"]) {
		t.Errorf("parent attributes.url: got %s", kind(pattrs["url"]))
	}

	agg := readFixture(t, "query_aggregate_success_response.json")
	arec := agg["records"].([]any)[0].(map[string]any)
	if got := arec["attributes"].(map[string]any); len(got) != 1 || got["type"] != "AggregateResult" {
		t.Fatalf("fixture aggregate attributes changed: %v", got)
	}
}

func mustMarshalRaw(t *testing.T, record json.RawMessage, key string) []byte {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(record, &m); err != nil {
		t.Fatal(err)
	}
	return m[key]
}

func mustPageJSON(t *testing.T, p page) []byte {
	t.Helper()
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestQueryChildSubquery(t *testing.T) {
	c := startOrgClient(t, Options{})
	acct := c.insert("Account", map[string]any{"Name": "A with contacts"})
	c.insert("Account", map[string]any{"Name": "B without"})
	c.insert("Contact", map[string]any{"LastName": "One", "AccountId": acct})
	recs := c.records("SELECT Name, (SELECT LastName FROM Contacts) FROM Account ORDER BY Name", false)
	if len(recs) != 2 {
		t.Fatalf("got %d records, want 2", len(recs))
	}
	sub, ok := recs[0]["Contacts"].(map[string]any)
	if !ok {
		t.Fatalf("Contacts: got %v, want {totalSize,done,records}", recs[0]["Contacts"])
	}
	if sub["totalSize"] != 1.0 || sub["done"] != true || len(sub["records"].([]any)) != 1 {
		t.Errorf("Contacts: got %v", sub)
	}
	if recs[1]["Contacts"] != nil {
		t.Errorf("no children: got %v, want null", recs[1]["Contacts"])
	}
}

func TestQueryLocatorLifetime(t *testing.T) {
	clk := testclock.New(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	c := startOrgClient(t, Options{Now: clk.Now})
	for i := range 250 {
		c.insert("Account", map[string]any{"Name": fmt.Sprintf("Life %03d", i)})
	}
	open := func() string {
		t.Helper()
		status, body := c.query("SELECT Id, Name FROM Account ORDER BY Name", false, map[string]string{"Sforce-Query-Options": "batchSize=200"})
		var p page
		if err := json.Unmarshal(body, &p); err != nil || status != http.StatusOK || p.NextRecordsURL == nil {
			t.Fatalf("open cursor: status %d: %s", status, body)
		}
		return *p.NextRecordsURL
	}

	t.Run("a cursor is a snapshot", func(t *testing.T) {
		next := open()
		c.insert("Account", map[string]any{"Name": "Life 000 added later"})
		status, body := c.do("GET", next, nil, nil)
		var p page
		json.Unmarshal(body, &p) //nolint:errcheck // checked below
		if status != http.StatusOK || p.TotalSize != 250 || len(p.Records) != 50 {
			t.Fatalf("got status %d totalSize %d with %d records, want 200, 250, 50", status, p.TotalSize, len(p.Records))
		}
		// Fetching the same page again works (a client may retry a GET).
		if status, _ := c.do("GET", next, nil, nil); status != http.StatusOK {
			t.Errorf("repeated page: got status %d, want 200", status)
		}
	})

	t.Run("idle for 15 minutes is still open, longer expires", func(t *testing.T) {
		next := open()
		clk.Advance(15 * time.Minute)
		if status, body := c.do("GET", next, nil, nil); status != http.StatusOK {
			t.Fatalf("after 15m: status %d: %s", status, body)
		}
		clk.Advance(15*time.Minute + time.Second)
		status, body := c.do("GET", next, nil, nil)
		wantError(t, status, body, http.StatusBadRequest, "INVALID_QUERY_LOCATOR", "invalid query locator")
	})

	t.Run("an eleventh cursor releases the oldest", func(t *testing.T) {
		clk.Advance(time.Hour) // every earlier cursor has expired
		var urls []string
		for range 11 {
			urls = append(urls, open())
		}
		status, body := c.do("GET", urls[0], nil, nil)
		wantError(t, status, body, http.StatusBadRequest, "INVALID_QUERY_LOCATOR", "invalid query locator")
		for i, u := range urls[1:] {
			if status, body := c.do("GET", u, nil, nil); status != http.StatusOK {
				t.Errorf("cursor %d: status %d: %s", i+1, status, body)
			}
		}
	})

	t.Run("offset past the end", func(t *testing.T) {
		next := open()
		status, body := c.do("GET", next[:strings.LastIndex(next, "-")]+"-100000", nil, nil)
		wantError(t, status, body, http.StatusBadRequest, "INVALID_QUERY_LOCATOR", "invalid query locator")
	})
}

func TestAppendStringMatchesJSON(t *testing.T) {
	tests := []string{"", "plain", `q"uote`, `back\slash`, "tab\tnew\nline\r", "\x00\x1f", "héllo ✓", "<&>", "bad \xff utf8", "line\u2028sep"}
	for _, s := range tests {
		t.Run(strconv.Quote(s), func(t *testing.T) {
			var got string
			if err := json.Unmarshal(appendString(nil, s), &got); err != nil {
				t.Fatalf("invalid JSON %s: %v", appendString(nil, s), err)
			}
			want := strings.ToValidUTF8(s, "\ufffd")
			if got != want {
				t.Errorf("round trip: got %q, want %q", got, want)
			}
		})
	}
}

func TestAppendFloatMatchesJSON(t *testing.T) {
	for _, f := range []float64{0, 1, -3, 300, 0.5, 1500000.5, 1e21, 1e-7, 123456789012345678} {
		want, _ := json.Marshal(f)
		if got := appendFloat(nil, f); string(got) != string(want) {
			t.Errorf("appendFloat(%v): got %s, want %s", f, got, want)
		}
	}
}

// BenchmarkQuery50kIn25Pages runs a 50,000-row query and reads all 25 pages
// over HTTP; each page is serialised from the cursor's snapshot.
func BenchmarkQuery50kIn25Pages(b *testing.B) {
	c := startOrgClient(b, Options{})
	for i := range 50000 {
		c.insert("Account", map[string]any{"Name": fmt.Sprintf("Bench %05d", i), "NumberOfEmployees": float64(i)})
	}
	q := "/services/data/v45.0/query?q=" + url.QueryEscape("SELECT Id, Name, NumberOfEmployees FROM Account")
	b.ResetTimer()
	for b.Loop() {
		path := q
		pages := 0
		for path != "" {
			status, body := c.do("GET", path, nil, nil)
			if status != http.StatusOK {
				b.Fatalf("status %d: %s", status, body)
			}
			var p struct {
				NextRecordsURL string `json:"nextRecordsUrl"`
			}
			json.Unmarshal(body, &p) //nolint:errcheck // a benchmark
			path = p.NextRecordsURL
			pages++
		}
		if pages != 25 {
			b.Fatalf("got %d pages, want 25", pages)
		}
	}
}

// BenchmarkQueryPageSerialise measures one 2,000-record page from a cursor.
func BenchmarkQueryPageSerialise(b *testing.B) {
	c := startOrgClient(b, Options{})
	for i := range 50000 {
		c.insert("Account", map[string]any{"Name": fmt.Sprintf("Bench %05d", i)})
	}
	res, err := c.s.Store().Query("SELECT Id, Name, CreatedDate, IsDeleted FROM Account", false)
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, 1<<20)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		off := (i % 25) * 2000
		buf = appendPage(buf[:0], "/services/data/v45.0", res.TotalSize, "x", res.Records[off:off+2000])
	}
}
