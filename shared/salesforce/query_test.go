package salesforce

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sfconnect/connector/shared/faults"
)

const soql = "SELECT Id, Name FROM Account WHERE Name = 'R&D #1' AND Phone LIKE '+1%'"

// pagedOrg serves a query result in pages shaped like restforce's paginated
// fixtures, with locators like Salesforce's "<id>-<offset>".
type pagedOrg struct {
	t      testing.TB
	pages  [][]string // record names per page
	mu     sync.Mutex
	q      []string // the q parameters received
	paths  []string
	expire atomic.Int32 // when 1, the session is revoked before page 2
	o      *org
}

func (p *pagedOrg) serve(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.paths = append(p.paths, r.URL.Path)
	if q := r.URL.Query().Get("q"); q != "" {
		p.q = append(p.q, q)
	}
	p.mu.Unlock()

	i := 0
	if n, ok := strings.CutPrefix(r.URL.Path, "/services/data/v45.0/query/01gD0000002HU6KIAW-"); ok {
		fmt.Sscan(n, &i)
	} else if r.URL.Path != "/services/data/v45.0/query" {
		jsonAnswer(w, http.StatusNotFound, fixture(p.t, "sobject_find_error_response.json"))
		return
	}
	total := 0
	for _, pg := range p.pages {
		total += len(pg)
	}
	records := make([]json.RawMessage, 0, len(p.pages[i]))
	for _, name := range p.pages[i] {
		records = append(records, json.RawMessage(fmt.Sprintf(
			`{"attributes":{"type":"Account","url":"/services/data/v45.0/sobjects/Account/001"},"Name":%q}`, name)))
	}
	body := map[string]any{"totalSize": total, "done": i == len(p.pages)-1, "records": records}
	if i < len(p.pages)-1 {
		body["nextRecordsUrl"] = fmt.Sprintf("/services/data/v45.0/query/01gD0000002HU6KIAW-%d", i+1)
	}
	if i == 0 && p.expire.Load() == 1 {
		p.o.revoke()
	}
	b, _ := json.Marshal(body)
	jsonAnswer(w, http.StatusOK, b)
}

func TestQueryMergesPages(t *testing.T) {
	tests := []struct {
		name       string
		expire     bool
		wantLogins int32
		wantCalls  int32
	}{
		{"three pages", false, 1, 3},
		{"session expires between pages", true, 2, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &pagedOrg{t: t, pages: [][]string{{"A1", "A2"}, {"B1", "B2"}, {"C1"}}}
			if tt.expire {
				p.expire.Store(1)
			}
			o := newOrg(t, p.serve)
			p.o = o
			c, _ := newClient(t, o, nil)

			resp, err := c.Query(t.Context(), soql)
			if err != nil {
				t.Fatalf("Query: %v", err)
			}
			var got struct {
				TotalSize      int    `json:"totalSize"`
				Done           bool   `json:"done"`
				NextRecordsURL string `json:"nextRecordsUrl"`
				Records        []struct {
					Name string `json:"Name"`
				} `json:"records"`
			}
			if err := json.Unmarshal(resp.Body, &got); err != nil {
				t.Fatalf("merged body %q: %v", resp.Body, err)
			}
			var names []string
			for _, r := range got.Records {
				names = append(names, r.Name)
			}
			if strings.Join(names, ",") != "A1,A2,B1,B2,C1" || got.TotalSize != 5 || !got.Done || got.NextRecordsURL != "" {
				t.Errorf("merged: got %s, want 5 records A1..C1, done, no nextRecordsUrl", resp.Body)
			}
			p.mu.Lock()
			defer p.mu.Unlock()
			if len(p.q) == 0 || p.q[0] != soql {
				t.Errorf("q: got %q, want %q", p.q, soql)
			}
			if n := o.logins.Load(); n != tt.wantLogins {
				t.Errorf("logins: got %d, want %d", n, tt.wantLogins)
			}
			if n := o.calls.Load(); n != tt.wantCalls {
				t.Errorf("calls: got %d, want %d", n, tt.wantCalls)
			}
		})
	}
}

func TestQueryFixturePages(t *testing.T) {
	// restforce's own two pages: the locator is followed as given.
	o := newOrg(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/services/data/v26.0/query/01gD" {
			jsonAnswer(w, http.StatusOK, fixture(t, "query_paginated_last_page_response.json"))
			return
		}
		jsonAnswer(w, http.StatusOK, fixture(t, "query_paginated_first_page_response.json"))
	})
	c, _ := newClient(t, o, nil)
	resp, err := c.Query(t.Context(), "SELECT Text_Label FROM Whizbang")
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		TotalSize int
		Records   []map[string]any
	}
	if err := json.Unmarshal(resp.Body, &got); err != nil {
		t.Fatalf("body %q: %v", resp.Body, err)
	}
	if got.TotalSize != 2 || len(got.Records) != 2 || got.Records[1]["Text_Label"] != "Last Page" {
		t.Errorf("merged: got %s", resp.Body)
	}
}

func TestQueryAnswers(t *testing.T) {
	malformed := []byte(`[{"message":"\nSELECT Nme FROM Account\n       ^\nERROR at Row:1:Column:8\nNo such column 'Nme' on entity 'Account'.","errorCode":"INVALID_FIELD"}]`)
	tests := []struct {
		name       string
		api        http.HandlerFunc
		wantStatus int
		wantCode   faults.Code
	}{
		{"400 on the first page is an answer", func(w http.ResponseWriter, r *http.Request) {
			jsonAnswer(w, http.StatusBadRequest, malformed)
		}, http.StatusBadRequest, ""},
		{"unparseable page", func(w http.ResponseWriter, r *http.Request) {
			jsonAnswer(w, http.StatusOK, []byte(`<html>maintenance</html>`))
		}, 0, faults.UnknownError},
		{"locator to another host", func(w http.ResponseWriter, r *http.Request) {
			jsonAnswer(w, http.StatusOK, []byte(`{"totalSize":2,"done":false,"nextRecordsUrl":"https://evil.example/x","records":[{}]}`))
		}, 0, faults.UnknownError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOrg(t, tt.api)
			c, _ := newClient(t, o, nil)
			resp, err := c.Query(t.Context(), "SELECT Nme FROM Account")
			if faults.CodeOf(err) != tt.wantCode {
				t.Fatalf("error: got %v, want code %q", err, tt.wantCode)
			}
			if err == nil && resp.Status != tt.wantStatus {
				t.Errorf("status: got %d, want %d", resp.Status, tt.wantStatus)
			}
			if n := o.calls.Load(); n != 1 {
				t.Errorf("calls: got %d, want 1", n)
			}
		})
	}
}

func BenchmarkQueryMerge(b *testing.B) {
	// 50,000 records in 25 pages of 2,000, as Salesforce pages them.
	pages := make([][]string, 25)
	for i := range pages {
		pages[i] = make([]string, 2000)
		for j := range pages[i] {
			pages[i][j] = fmt.Sprintf("Account %d-%d", i, j)
		}
	}
	p := &pagedOrg{t: b, pages: pages}
	o := newOrg(b, p.serve)
	p.o = o
	c, _ := newClient(b, o, nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Query(b.Context(), "SELECT Name FROM Account"); err != nil {
			b.Fatal(err)
		}
	}
}
