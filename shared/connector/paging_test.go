package connector

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sfconnect/connector/sforg"
	"github.com/sfconnect/connector/shared/faults"
	"github.com/sfconnect/connector/shared/settings"
)

// seedAccounts stores n Accounts straight into the org (no API calls), named
// "Paging 00000" and up.
func seedAccounts(t *testing.T, org *sforg.Server, n int) {
	t.Helper()
	for i := range n {
		if _, err := org.Store().Insert("Account", map[string]any{"Name": fmt.Sprintf("Paging %05d", i)}); err != nil {
			t.Fatal(err)
		}
	}
}

// rawInvoke is invoke that also returns the output's bytes as the Lambda
// returns them, to measure them against the budget.
func rawInvoke(t *testing.T, h handler, event string) ([]byte, result) {
	t.Helper()
	return invokeRaw(t.Context(), t, h, event)
}

// queryResult is salesforceResult of a QUERY output.
type queryResult struct {
	TotalSize      int    `json:"totalSize"`
	Done           bool   `json:"done"`
	NextRecordsURL string `json:"nextRecordsUrl"`
	Records        []struct {
		ID   string `json:"Id"`
		Name string `json:"Name"`
	} `json:"records"`
}

// pageStats is what a cursor loop saw.
type pageStats struct {
	invokes int
	ids     map[string]int // how often each record came
	largest int            // the largest output, in bytes
}

// pageThrough runs QUERY with the first event, then with each output's cursor
// until done, as a Step Functions loop would, checking every output against
// the budget and its paging fields against its salesforceResult.
func pageThrough(t *testing.T, w *world, first map[string]any, budget, total int) pageStats {
	t.Helper()
	s := pageStats{ids: map[string]int{}}
	event := first
	for {
		s.invokes++
		if s.invokes > total+5 {
			t.Fatalf("no end after %d invokes", s.invokes)
		}
		body, r := rawInvoke(t, w.conn.Query, jsonEvent(t, event))
		mustOK(t, r, "200")
		if len(body) > budget {
			t.Fatalf("invoke %d: output is %d bytes, over the %d-byte budget", s.invokes, len(body), budget)
		}
		s.largest = max(s.largest, len(body))
		var q queryResult
		if err := json.Unmarshal([]byte(r.SalesforceResult), &q); err != nil {
			t.Fatalf("invoke %d: salesforceResult: %v", s.invokes, err)
		}
		p := r.Paging
		if p == nil {
			t.Fatalf("invoke %d: no paging fields in %s", s.invokes, body)
		}
		if p.Done != q.Done || p.RecordCount != len(q.Records) || p.TotalSize != total || q.TotalSize != total {
			t.Fatalf("invoke %d: got done %v, recordCount %d, totalSize %d for %d records, done %v, totalSize %d; want them to agree on %d",
				s.invokes, p.Done, p.RecordCount, p.TotalSize, len(q.Records), q.Done, q.TotalSize, total)
		}
		for _, rec := range q.Records {
			s.ids[rec.ID]++
		}
		if p.Done {
			if p.Cursor != nil || q.NextRecordsURL != "" {
				t.Fatalf("invoke %d: done with cursor %v and nextRecordsUrl %q", s.invokes, p.Cursor, q.NextRecordsURL)
			}
			return s
		}
		if p.Cursor == nil || *p.Cursor != q.NextRecordsURL || p.RecordCount == 0 {
			t.Fatalf("invoke %d: not done, cursor %v, nextRecordsUrl %q, %d records", s.invokes, p.Cursor, q.NextRecordsURL, p.RecordCount)
		}
		// The loop passes the cursor, and keeps passing the other inputs as a
		// single Task state would.
		event = map[string]any{}
		for k, v := range first {
			event[k] = v
		}
		event["cursor"] = *p.Cursor
	}
}

// exactlyOnce fails unless ids holds want distinct records, each seen once.
func exactlyOnce(t *testing.T, ids map[string]int, want int) {
	t.Helper()
	if len(ids) != want {
		t.Errorf("got %d distinct records, want %d", len(ids), want)
	}
	for id, n := range ids {
		if n != 1 {
			t.Fatalf("record %s came %d times, want once", id, n)
		}
	}
}

// TestQueryBudget50000 pages a 50,000-record result: no output passes the
// budget, every record comes exactly once, and without paging inputs the query
// fails with a message that says how to page instead of being truncated.
func TestQueryBudget50000(t *testing.T) {
	const total = 50_000
	w := setup(t)
	seedAccounts(t, w.org, total)
	const soql = "SELECT Id, Name FROM Account ORDER BY Name"

	t.Run("without paging inputs the query fails, never truncated", func(t *testing.T) {
		before := w.org.Requests("query")
		r := invoke(t, w.conn.Query, jsonEvent(t, map[string]any{"salesforceQuery": soql}))
		wantError(t, r, faults.UnknownError, "over the 240000-byte output budget")
		for _, want := range []string{"QUERY result of 50000 records", "page it with pageSize, maxRecords and cursor", settings.OutputBudget} {
			if !strings.Contains(r.ErrorMessage, want) {
				t.Errorf("message %q does not contain %q", r.ErrorMessage, want)
			}
		}
		// It stopped at the first page that did not fit: a 2,000-record page
		// of these is already over the budget.
		if n := w.org.Requests("query") - before; n != 1 {
			t.Errorf("got %d query requests, want 1", n)
		}
	})

	t.Run("a cursor loop with the default page size", func(t *testing.T) {
		before := w.org.Requests("query")
		s := pageThrough(t, w, map[string]any{"salesforceQuery": soql, "pageSize": 2000}, settings.DefaultOutputBudget, total)
		exactlyOnce(t, s.ids, total)
		// One page fetched per output: nothing fetched is thrown away but the
		// end of the page an output was cut in.
		if n := w.org.Requests("query") - before; n != s.invokes {
			t.Errorf("got %d query requests for %d invokes, want one each", n, s.invokes)
		}
		if s.largest < settings.DefaultOutputBudget*9/10 {
			t.Errorf("largest output %d bytes, want the outputs filled close to the %d-byte budget", s.largest, settings.DefaultOutputBudget)
		}
	})

}

// TestQueryCursorLoop collects a result through every way of paging, each
// record exactly once and every output within the budget.
func TestQueryCursorLoop(t *testing.T) {
	const total = 4321
	tests := []struct {
		name       string
		budget     int
		event      map[string]any
		maxInvokes int // the loop ends within this many invokes
		minInvokes int
	}{
		{"one Salesforce page an output", settings.DefaultOutputBudget, map[string]any{"pageSize": 500}, 9, 9},
		{"pages cut by a small budget", 20_000, map[string]any{"pageSize": 2000}, 60, 25},
		{"maxRecords gathers whole pages", settings.DefaultOutputBudget, map[string]any{"pageSize": 200, "maxRecords": 1000}, 5, 5},
		{"maxRecords sets the page size", settings.DefaultOutputBudget, map[string]any{"maxRecords": 250}, 18, 18},
		{"maxRecords and a small budget", 30_000, map[string]any{"maxRecords": 2000}, 40, 20},
		{"numbers as strings", settings.DefaultOutputBudget, map[string]any{"pageSize": "1000"}, 5, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := setup(t)
			w.conn.budget = tt.budget
			seedAccounts(t, w.org, total)
			tt.event["salesforceQuery"] = "SELECT Id, Name FROM Account"
			s := pageThrough(t, w, tt.event, tt.budget, total)
			exactlyOnce(t, s.ids, total)
			if s.invokes < tt.minInvokes || s.invokes > tt.maxInvokes {
				t.Errorf("got %d invokes, want %d to %d", s.invokes, tt.minInvokes, tt.maxInvokes)
			}
		})
	}
}

func TestQueryPagingOutputs(t *testing.T) {
	w := setup(t)
	seedAccounts(t, w.org, 3)

	t.Run("a result that fits keeps its shape and is done", func(t *testing.T) {
		r := invoke(t, w.conn.Query, `{"salesforceQuery":"SELECT Id, Name FROM Account ORDER BY Name"}`)
		mustOK(t, r, "200")
		if !strings.HasPrefix(r.SalesforceResult, `{"totalSize":3,"done":true,"records":[{"attributes":{"type":"Account"`) {
			t.Errorf("got %s, want Salesforce's shape", r.SalesforceResult)
		}
		if r.Paging == nil || !r.Done || r.Cursor != nil || r.RecordCount != 3 || r.TotalSize != 3 {
			t.Errorf("got paging %+v, want done, no cursor, 3 of 3 records", r.Paging)
		}
	})

	t.Run("the paging fields are in the output, cursor null when done", func(t *testing.T) {
		body, _ := rawInvoke(t, w.conn.Query, `{"salesforceQuery":"SELECT Id FROM Account","pageSize":200}`)
		for _, want := range []string{`"done":true`, `"cursor":null`, `"recordCount":3`, `"totalSize":3`} {
			if !strings.Contains(string(body), want) {
				t.Errorf("output %s does not contain %s", body, want)
			}
		}
	})

	t.Run("Salesforce's error answer is passed on, done", func(t *testing.T) {
		body, r := rawInvoke(t, w.conn.Query, `{"salesforceQuery":"SELECT Nme FROM Account"}`)
		mustOK(t, r, "400")
		if !strings.Contains(r.SalesforceResult, "INVALID_FIELD") || r.Paging == nil || !r.Done || r.Cursor != nil || r.RecordCount != 0 {
			t.Errorf("got %s, want the error array, done, no cursor, no records", body)
		}
	})

	t.Run("a released cursor is Salesforce's answer", func(t *testing.T) {
		r := invoke(t, w.conn.Query, `{"cursor":"/services/data/v45.0/query/01gD0000002HU6KIAW-2000"}`)
		mustOK(t, r, "400")
		if !strings.Contains(r.SalesforceResult, "INVALID_QUERY_LOCATOR") {
			t.Errorf("got %s, want INVALID_QUERY_LOCATOR", r.SalesforceResult)
		}
	})

	t.Run("other actions carry no paging fields", func(t *testing.T) {
		body, r := rawInvoke(t, w.conn.ApprovalList, `{}`)
		mustOK(t, r, "200")
		for _, field := range []string{`"done"`, `"cursor"`, `"recordCount"`} {
			if strings.Contains(strings.Replace(string(body), r.SalesforceResult, "", 1), field) {
				t.Errorf("APPROVAL_LIST output %s has %s", body, field)
			}
		}
	})
}

func TestQueryPagingInputs(t *testing.T) {
	tests := []struct {
		name  string
		event string
		code  faults.Code
		text  string
	}{
		{"pageSize below 200", `{"salesforceQuery":"SELECT Id FROM Account","pageSize":199}`, faults.InvalidInput, "pageSize must be a whole number from 200 to 2000"},
		{"pageSize above 2000", `{"salesforceQuery":"SELECT Id FROM Account","pageSize":2001}`, faults.InvalidInput, "pageSize"},
		{"pageSize not whole", `{"salesforceQuery":"SELECT Id FROM Account","pageSize":500.5}`, faults.InvalidInput, "pageSize"},
		{"pageSize not a number", `{"salesforceQuery":"SELECT Id FROM Account","pageSize":"many"}`, faults.InvalidInput, "pageSize"},
		{"maxRecords below a page", `{"salesforceQuery":"SELECT Id FROM Account","maxRecords":10}`, faults.InvalidInput, "maxRecords must be a whole number from 200"},
		{"maxRecords an object", `{"salesforceQuery":"SELECT Id FROM Account","maxRecords":{}}`, faults.InvalidInput, "maxRecords"},
		{"cursor on another host", `{"cursor":"https://evil.example/services/data/v45.0/query/01gD0000002HU6KIAW-2000"}`, faults.InvalidInput, "is not the cursor of a QUERY output"},
		{"cursor to another resource", `{"cursor":"/services/data/v45.0/sobjects/Account/001D000000IqhSLIAZ"}`, faults.InvalidInput, "cursor"},
		{"cursor climbing out", `{"cursor":"/services/data/v45.0/query/../../../services/oauth2/token-1"}`, faults.InvalidInput, "cursor"},
		{"cursor not a string", `{"cursor":42}`, faults.InvalidInput, "cursor must be a string"},
		{"no query and no cursor", `{"pageSize":500}`, faults.MissingInput, "salesforceQuery is required"},
		{"a null cursor is no cursor", `{"cursor":null}`, faults.MissingInput, "salesforceQuery is required"},
	}
	w := setup(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, invoke(t, w.conn.Query, tt.event), tt.code, tt.text)
		})
	}
	if n := w.org.Requests("*"); n != 0 {
		t.Errorf("got %d requests to the org, want none", n)
	}
}

// TestQueryUnpageable covers the results no cursor can page: they fail with a
// message, and are never cut short silently.
func TestQueryUnpageable(t *testing.T) {
	t.Run("one record over the budget", func(t *testing.T) {
		w := setup(t)
		w.conn.budget = settings.MinOutputBudget
		if _, err := w.org.Store().Insert("Account", map[string]any{"Name": "Big", "Description": strings.Repeat("\"quoted\" ", 1000)}); err != nil {
			t.Fatal(err)
		}
		r := invoke(t, w.conn.Query, `{"salesforceQuery":"SELECT Id, Description FROM Account","pageSize":200}`)
		wantError(t, r, faults.UnknownError, "one record of this result is")
	})
	t.Run("one page with no cursor", func(t *testing.T) {
		w := setup(t)
		w.conn.budget = 20_000
		seedAccounts(t, w.org, 300) // one 2,000-record page: Salesforce opens no cursor
		r := invoke(t, w.conn.Query, `{"salesforceQuery":"SELECT Id, Name FROM Account","maxRecords":2000}`)
		wantError(t, r, faults.UnknownError, "Salesforce sent 300 records in one page with no cursor to continue from")
	})
}

// TestGetFields covers GET's fields input and its output budget.
func TestGetFields(t *testing.T) {
	w := setup(t)
	w.conn.budget = settings.MinOutputBudget
	id, err := w.org.Store().Insert("Account", map[string]any{"Name": "Big", "Description": strings.Repeat("x", 2*settings.MinOutputBudget)})
	if err != nil {
		t.Fatal(err)
	}
	r := invoke(t, w.conn.Get, jsonEvent(t, map[string]any{"SObjectName": "Account", "SObjectId": id}))
	wantError(t, r, faults.UnknownError, "over the 4096-byte output budget")
	if !strings.Contains(r.ErrorMessage, "name only the fields you need in fields") {
		t.Errorf("message %q does not say to use fields", r.ErrorMessage)
	}

	for _, fields := range []any{[]string{"Id", "Name"}, "Id, Name"} {
		r := invoke(t, w.conn.Get, jsonEvent(t, map[string]any{"SObjectName": "Account", "SObjectId": id, "fields": fields}))
		mustOK(t, r, "200")
		if field(t, r, "Name") != "Big" || field(t, r, "Description") != nil {
			t.Errorf("fields %v: got %s, want Id and Name only", fields, r.SalesforceResult)
		}
	}
	for _, fields := range []any{"Name&Id=1", []string{"Name", "Bad Field"}, []any{42}, map[string]any{}} {
		r := invoke(t, w.conn.Get, jsonEvent(t, map[string]any{"SObjectName": "Account", "SObjectId": id, "fields": fields}))
		wantError(t, r, faults.InvalidInput, "fields")
	}
}

// TestQueryPageSampleEvents runs events/query-page*.json against the org: the
// first page of a query, and a cursor the org never opened (Salesforce's 400
// INVALID_QUERY_LOCATOR, as for a cursor left idle over 15 minutes).
func TestQueryPageSampleEvents(t *testing.T) {
	w := setup(t)
	seedAccounts(t, w.org, 2500)
	tests := []struct {
		file   string
		status string
		check  func(t *testing.T, r result)
	}{
		{"query-page.json", "200", func(t *testing.T, r result) {
			if r.Paging == nil || r.Done || r.Cursor == nil || r.RecordCount == 0 || r.TotalSize != 2500 {
				t.Errorf("got paging %+v, want a first page with a cursor", r.Paging)
			}
		}},
		{"query-page-cursor.json", "400", func(t *testing.T, r result) {
			if !strings.Contains(r.SalesforceResult, "INVALID_QUERY_LOCATOR") || r.Paging == nil || !r.Done {
				t.Errorf("got %s %+v, want INVALID_QUERY_LOCATOR, done", r.SalesforceResult, r.Paging)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			event, err := os.ReadFile("../../events/" + tt.file)
			if err != nil {
				t.Fatal(err)
			}
			r := invoke(t, w.conn.Query, string(event))
			mustOK(t, r, tt.status)
			tt.check(t, r)
		})
	}
}

// BenchmarkQueryPage50000 is one paged QUERY output (a 2,000-record page cut
// to the budget) of a 50,000-record result, and the same query without paging
// inputs, which stops at its first page.
func BenchmarkQueryPage50000(b *testing.B) {
	org, err := sforg.Start(sforg.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { org.Close() })
	for i := range 50_000 {
		if _, err := org.Store().Insert("Account", map[string]any{"Name": fmt.Sprintf("Paging %05d", i)}); err != nil {
			b.Fatal(err)
		}
	}
	env := org.Settings()
	c, err := FromEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }, io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	h := lambda.NewHandler(Handler(c.Query))
	for _, bb := range []struct{ name, event string }{
		{"paged", `{"salesforceQuery":"SELECT Id, Name FROM Account","pageSize":2000}`},
		{"unpaged", `{"salesforceQuery":"SELECT Id, Name FROM Account"}`},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				h.Invoke(b.Context(), []byte(bb.event)) //nolint:errcheck // the unpaged one fails by design
			}
		})
	}
}

// TestQueryPageFarOverTheBudget: pages of 200 records of about 28 KB each
// (5.6 MB a page, 23 times the budget) are read as streams: each output keeps
// the records that fit, its cursor continues in the middle of the page, and
// every record comes out exactly once. (make bench measures the memory of the
// review's case, a 56 MB page of 2,000 such records.)
func TestQueryPageFarOverTheBudget(t *testing.T) {
	w := setup(t)
	const total = 400
	long := strings.Repeat("lorem ipsum ", 2_700)[:28_000]
	for i := range total {
		if _, err := w.org.Store().Insert("Account", map[string]any{"Name": fmt.Sprintf("Long %03d", i), "Description": long[:28_000-32+i%32]}); err != nil {
			t.Fatal(err)
		}
	}
	s := pageThrough(t, w, map[string]any{"salesforceQuery": "SELECT Id, Description FROM Account", "pageSize": 200}, settings.DefaultOutputBudget, total)
	if len(s.ids) != total {
		t.Fatalf("got %d distinct records, want %d", len(s.ids), total)
	}
	for id, n := range s.ids {
		if n != 1 {
			t.Fatalf("record %s came %d times", id, n)
		}
	}
	if s.invokes < total/9 {
		t.Errorf("got %d outputs, want each to hold what fits the budget (about 8 records)", s.invokes)
	}
}
