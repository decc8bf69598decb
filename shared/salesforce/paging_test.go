package salesforce

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/sfconnect/connector/shared/faults"
)

func TestValidCursor(t *testing.T) {
	tests := []struct {
		cursor string
		want   bool
	}{
		{"/services/data/v45.0/query/01gD0000002HU6KIAW-2000", true},
		{"/services/data/v63.0/query/01gRO0000016PIAYA2-500", true},
		{"/services/data/v45.0/queryAll/01gD0000002HU6KIAW-2000", true},
		{"/services/data/v26.0/query/01gD", true}, // restforce's fixture: no offset
		{"", false},
		{"https://evil.example/services/data/v45.0/query/01gD0000002HU6KIAW-2000", false},
		{"//evil.example/services/data/v45.0/query/01gD0000002HU6KIAW-2000", false},
		{"/services/data/v45.0/sobjects/Account/001D000000IqhSLIAZ", false},
		{"/services/data/v45.0/query/../sobjects/Account/001D000000IqhSLIAZ", false},
		{"/services/data/v45.0/query/01gD0000002HU6KIAW-2000?q=x", false},
		{"/services/data/v45.0/query/01gD0000002HU6KIAW-2000#x", false},
		{"/services/data/v45.0/query/01gD0000002HU6KIAW-2000\n", false},
		{"/services/data/v45.0/query/01gD0000002HU6KIAW-", false},
		{"/services/data/v45.0/query/01gD%2F-2000", false},
		{"/services/data/v45.0/query/?q=SELECT+Id+FROM+Account", false},
		{"services/data/v45.0/query/01gD0000002HU6KIAW-2000", false},
	}
	for _, tt := range tests {
		t.Run(tt.cursor, func(t *testing.T) {
			if got := ValidCursor(tt.cursor); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// pageLog records what a fake query endpoint was asked.
type pageLog struct {
	mu      sync.Mutex
	paths   []string
	options []string // Sforce-Query-Options per request
}

func (l *pageLog) add(r *http.Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.paths = append(l.paths, r.URL.Path)
	l.options = append(l.options, r.Header.Get("Sforce-Query-Options"))
}

func TestQueryPage(t *testing.T) {
	log := &pageLog{}
	const locator = "/services/data/v45.0/query/01gD0000002HU6KIAW"
	o := newOrg(t, func(w http.ResponseWriter, r *http.Request) {
		log.add(r)
		switch r.URL.Path {
		case "/services/data/v45.0/query":
			jsonAnswer(w, http.StatusOK, []byte(`{"totalSize":5,"done":false,"nextRecordsUrl":"`+locator+`-2","records":[{"Name":"A"},{"Name":"B"}]}`))
		case locator + "-2", locator + "-3":
			jsonAnswer(w, http.StatusOK, []byte(`{"totalSize":5,"done":false,"nextRecordsUrl":"`+locator+`-4","records":[{"Name":"C"},{"Name":"D"}]}`))
		case locator + "-4":
			jsonAnswer(w, http.StatusOK, []byte(`{"totalSize":5,"done":true,"records":[{"Name":"E"}]}`))
		default:
			jsonAnswer(w, http.StatusBadRequest, []byte(`[{"message":"invalid query locator","errorCode":"INVALID_QUERY_LOCATOR"}]`))
		}
	})
	c, _ := newClient(t, o, nil)

	first, resp, err := c.QueryPage(t.Context(), "SELECT Name FROM Account", "", 200, Limit{})
	if err != nil || first == nil {
		t.Fatalf("first page: %v %v", resp, err)
	}
	if first.TotalSize != 5 || first.Done || len(first.Records) != 2 || first.NextRecordsURL != locator+"-2" {
		t.Errorf("first page: got %+v", first)
	}
	if resp.Status != http.StatusOK || resp.Body != nil || resp.Header.Get("Sforce-Limit-Info") == "" {
		t.Errorf("first page response: got status %d, body %q, header %v; want 200, no body, the limit header", resp.Status, resp.Body, resp.Header)
	}
	second, _, err := c.QueryPage(t.Context(), "", first.NextRecordsURL, 2000, Limit{})
	if err != nil || second == nil || len(second.Records) != 2 {
		t.Fatalf("second page: %+v %v", second, err)
	}
	last, _, err := c.QueryPage(t.Context(), "ignored when there is a cursor", second.NextRecordsURL, 0, Limit{})
	if err != nil || last == nil || !last.Done || len(last.Records) != 1 {
		t.Fatalf("last page: %+v %v", last, err)
	}

	resumes := []struct {
		name string
		page *Page
		n    int
		want string
		ok   bool
	}{
		{"first page, after every record", first, 2, locator + "-2", true},
		{"first page, mid-page", first, 1, locator + "-1", true},
		{"first page, before any record", first, 0, "", false},
		{"cursor page, mid-page", second, 1, locator + "-3", true},
		{"cursor page, before any record", second, 0, locator + "-2", true},
		{"last page, before its record", last, 0, locator + "-4", true},
		{"last page, after its record", last, 1, "", false},
	}
	for _, tt := range resumes {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.page.Resume(tt.n)
			if got != tt.want || ok != tt.ok {
				t.Errorf("Resume(%d): got %q %v, want %q %v", tt.n, got, ok, tt.want, tt.ok)
			}
		})
	}

	// A page resumed mid-page is served from there.
	mid, _ := second.Resume(1)
	if p, _, err := c.QueryPage(t.Context(), "", mid, 0, Limit{}); err != nil || p == nil || len(p.Records) != 2 {
		t.Errorf("resumed page: %+v %v", p, err)
	}

	// A released locator is Salesforce's 400 answer, not an error.
	p, resp, err := c.QueryPage(t.Context(), "", locator+"-9", 0, Limit{})
	if err != nil || p != nil || resp.Status != http.StatusBadRequest || !strings.Contains(string(resp.Body), "INVALID_QUERY_LOCATOR") {
		t.Errorf("released locator: got %+v %+v %v, want the 400 answer", p, resp, err)
	}

	log.mu.Lock()
	defer log.mu.Unlock()
	wantOptions := []string{"batchSize=200", "batchSize=2000", "", "", ""}
	if strings.Join(log.options, "|") != strings.Join(wantOptions, "|") {
		t.Errorf("Sforce-Query-Options: got %q, want %q", log.options, wantOptions)
	}
}

func TestQueryPageSingle(t *testing.T) {
	o := newOrg(t, func(w http.ResponseWriter, r *http.Request) {
		jsonAnswer(w, http.StatusOK, []byte(`{"totalSize":2,"done":true,"records":[{"Name":"A"},{"Name":"B"}]}`))
	})
	c, _ := newClient(t, o, nil)
	p, _, err := c.QueryPage(t.Context(), "SELECT Name FROM Account", "", 0, Limit{})
	if err != nil || p == nil || !p.Done {
		t.Fatalf("got %+v %v", p, err)
	}
	// A result Salesforce gave in one page has no server cursor to resume from.
	if got, ok := p.Resume(1); ok {
		t.Errorf("Resume(1): got %q, want none", got)
	}
}

func TestQueryPageRefusesCursors(t *testing.T) {
	o := newOrg(t, func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request sent to %s", r.URL)
	})
	c, _ := newClient(t, o, nil)
	for _, cursor := range []string{
		"https://evil.example/services/data/v45.0/query/01gD0000002HU6KIAW-2000",
		"/services/data/v45.0/sobjects/Account/001D000000IqhSLIAZ",
		"/services/data/v45.0/query/../../../x-1",
	} {
		_, _, err := c.QueryPage(t.Context(), "", cursor, 0, Limit{})
		if faults.CodeOf(err) != faults.InvalidInput {
			t.Errorf("%q: got %v, want INVALID_INPUT", cursor, err)
		}
	}
	if n := o.logins.Load(); n != 0 {
		t.Errorf("got %d logins, want 0", n)
	}
}

func TestUpsertRecord(t *testing.T) {
	tests := []struct {
		name      string
		value     string
		wantPath  string // as sent, escaped
		status    int
		body      string
		wantCalls int32
	}{
		{"created", "INV-1", "/services/data/v45.0/sobjects/Invoice__c/Ext__c/INV-1", http.StatusCreated, `{"id":"a0BA0000000L2ZCMA0","success":true,"errors":[],"created":true}`, 1},
		{"updated (API 46.0+)", "INV-1", "/services/data/v45.0/sobjects/Invoice__c/Ext__c/INV-1", http.StatusOK, `{"id":"a0BA0000000L2ZCMA0","success":true,"errors":[],"created":false}`, 1},
		{"updated (before 46.0)", "INV-1", "/services/data/v45.0/sobjects/Invoice__c/Ext__c/INV-1", http.StatusNoContent, ``, 1},
		{"several matches", "dup", "/services/data/v45.0/sobjects/Invoice__c/Ext__c/dup", http.StatusMultipleChoices, `["/services/data/v45.0/sobjects/Invoice__c/a0BA0000000L2ZCMA0","/services/data/v45.0/sobjects/Invoice__c/a0BA0000000L2ZDMA0"]`, 1},
		{"no such external id field", "x", "/services/data/v45.0/sobjects/Invoice__c/Ext__c/x", http.StatusNotFound, `[{"errorCode":"NOT_FOUND","message":"Provided external ID field does not exist or is not accessible: Ext__c"}]`, 1},
		{"value escaped into one segment", "a/b c?d#e%f", "/services/data/v45.0/sobjects/Invoice__c/Ext__c/a%2Fb%20c%3Fd%23e%25f", http.StatusCreated, `{"id":"a0BA0000000L2ZCMA0","success":true,"errors":[]}`, 1},
		{"retried after a 503, being idempotent", "INV-2", "/services/data/v45.0/sobjects/Invoice__c/Ext__c/INV-2", http.StatusServiceUnavailable, `[{"errorCode":"SERVER_UNAVAILABLE","message":"Server too busy"}]`, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var paths, methods, bodies []string
			o := newOrg(t, func(w http.ResponseWriter, r *http.Request) {
				var b json.RawMessage
				json.NewDecoder(r.Body).Decode(&b) //nolint:errcheck // recorded as is
				mu.Lock()
				paths = append(paths, r.URL.EscapedPath())
				methods = append(methods, r.Method)
				bodies = append(bodies, string(b))
				mu.Unlock()
				jsonAnswer(w, tt.status, []byte(tt.body))
			})
			c, _ := newClient(t, o, nil)
			resp, err := c.UpsertRecord(t.Context(), "Invoice__c", "Ext__c", tt.value, json.RawMessage(`{"Amount__c":12.5}`))
			if tt.status >= 500 {
				if faults.CodeOf(err) != faults.CircuitBreakerOpen {
					t.Errorf("got %v, want CIRCUIT_BREAKER_OPEN after the retries", err)
				}
			} else if err != nil || resp.Status != tt.status || string(resp.Body) != tt.body {
				t.Fatalf("got %+v %v, want status %d and the body as sent", resp, err, tt.status)
			}
			if n := o.calls.Load(); n != tt.wantCalls {
				t.Errorf("calls: got %d, want %d", n, tt.wantCalls)
			}
			mu.Lock()
			defer mu.Unlock()
			if paths[0] != tt.wantPath || methods[0] != http.MethodPatch || bodies[0] != `{"Amount__c":12.5}` {
				t.Errorf("request: got %s %s %s, want PATCH %s with the payload", methods[0], paths[0], bodies[0], tt.wantPath)
			}
		})
	}
}
