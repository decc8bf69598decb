package sforg_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sfconnect/connector/internal/testclock"
	"github.com/sfconnect/connector/sforg"
	"github.com/sfconnect/connector/sforg/soql"
)

const (
	ingestPath = "/services/data/v58.0/jobs/ingest"
	queryPath  = "/services/data/v58.0/jobs/query"
)

// jobView is the part of a JobInfo the tests read.
type jobView struct {
	ID                     string `json:"id"`
	Operation              string `json:"operation"`
	Object                 string `json:"object"`
	State                  string `json:"state"`
	ExternalIDFieldName    string `json:"externalIdFieldName"`
	JobType                string `json:"jobType"`
	ContentURL             string `json:"contentUrl"`
	NumberRecordsProcessed int    `json:"numberRecordsProcessed"`
	NumberRecordsFailed    int    `json:"numberRecordsFailed"`
	ErrorMessage           string `json:"errorMessage"`
}

// newBulkOrg starts an org whose Bulk API 2.0 jobs wait for ProcessBulk or
// StepBulk, with an external id field on Account.
func newBulkOrg(t *testing.T, opts sforg.Options) org {
	t.Helper()
	opts.Bulk.Manual = true
	o := newOrg(t, opts)
	for _, f := range []*sforg.Field{
		{Name: "Ext_Id__c", Label: "Ext Id", Type: soql.TypeString, Length: 40, ExternalID: true, Custom: true},
		{Name: "Seen__c", Label: "Seen", Type: soql.TypeDateTime, Custom: true},
		{Name: "Active__c", Label: "Active", Type: soql.TypeBoolean, Custom: true, Default: false},
	} {
		if err := o.Store().AddField("Account", f); err != nil {
			t.Fatal(err)
		}
	}
	return o
}

// raw sends a request with a body of a content type.
func (o org) raw(t *testing.T, method, path, contentType string, body []byte) response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, o.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+o.token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: data}
}

// createJob creates a job at path (ingestPath or queryPath) and returns it.
func (o org) createJob(t *testing.T, path string, spec map[string]any) jobView {
	t.Helper()
	res := o.do(t, http.MethodPost, path, spec)
	if res.status != http.StatusOK {
		t.Fatalf("create job %v: got %d %s, want 200", spec, res.status, res.body)
	}
	var job jobView
	res.json(t, &job)
	return job
}

// upload puts CSV data into an ingest job.
func (o org) upload(t *testing.T, id, data string) {
	t.Helper()
	if res := o.raw(t, http.MethodPut, ingestPath+"/"+id+"/batches", "text/csv", []byte(data)); res.status != http.StatusCreated || len(res.body) != 0 {
		t.Fatalf("upload: got %d %q, want 201 and no body", res.status, res.body)
	}
}

// setState closes or aborts a job and returns the answer.
func (o org) setState(t *testing.T, path, id, state string) response {
	t.Helper()
	return o.do(t, http.MethodPatch, path+"/"+id, map[string]string{"state": state})
}

// ingest creates, fills and closes an ingest job.
func (o org) ingest(t *testing.T, spec map[string]any, data string) jobView {
	t.Helper()
	job := o.createJob(t, ingestPath, spec)
	o.upload(t, job.ID, data)
	if res := o.setState(t, ingestPath, job.ID, "UploadComplete"); res.status != http.StatusOK {
		t.Fatalf("close: got %d %s", res.status, res.body)
	}
	return job
}

// info reads a job.
func (o org) info(t *testing.T, path, id string) jobView {
	t.Helper()
	res := o.do(t, http.MethodGet, path+"/"+id, nil)
	if res.status != http.StatusOK {
		t.Fatalf("job info: got %d %s", res.status, res.body)
	}
	var job jobView
	res.json(t, &job)
	return job
}

// table reads a CSV answer of a GET.
func (o org) table(t *testing.T, path string) [][]string {
	t.Helper()
	res := o.do(t, http.MethodGet, path, nil)
	if res.status != http.StatusOK {
		t.Fatalf("GET %s: got %d %s", path, res.status, res.body)
	}
	return readCSV(t, res.body, ',')
}

func readCSV(t *testing.T, data []byte, comma rune) [][]string {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = comma
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("reading CSV %q: %v", data, err)
	}
	return rows
}

// results reads the three result sets of a comma-delimited ingest job,
// headers included.
func (o org) results(t *testing.T, id string) (ok, failed, unprocessed [][]string) {
	t.Helper()
	return o.resultsSep(t, id, ',')
}

// resultsSep is results for a job with another delimiter.
func (o org) resultsSep(t *testing.T, id string, comma rune) (ok, failed, unprocessed [][]string) {
	t.Helper()
	get := func(kind string) [][]string {
		res := o.do(t, http.MethodGet, ingestPath+"/"+id+"/"+kind, nil)
		if res.status != http.StatusOK {
			t.Fatalf("%s: got %d %s", kind, res.status, res.body)
		}
		return readCSV(t, res.body, comma)
	}
	return get("successfulResults"), get("failedResults"), get("unprocessedrecords")
}

func wantState(t *testing.T, job jobView, state string) {
	t.Helper()
	if job.State != state {
		t.Fatalf("state: got %q, want %q (errorMessage %q)", job.State, state, job.ErrorMessage)
	}
}

func TestBulkIngestLifecycle(t *testing.T) {
	o := newBulkOrg(t, sforg.Options{})
	res := o.do(t, http.MethodPost, ingestPath, map[string]any{"object": "account", "operation": "insert"})
	if res.status != http.StatusOK {
		t.Fatalf("create: got %d %s", res.status, res.body)
	}
	var job jobView
	res.json(t, &job)
	keys := `{"id":"` + job.ID + `","operation":"insert","object":"Account","createdById":"`
	if !strings.HasPrefix(string(res.body), keys) || !strings.Contains(string(res.body), `"state":"Open","concurrencyMode":"Parallel","contentType":"CSV","apiVersion":58.0,"contentUrl":"services/data/v58.0/jobs/ingest/`+job.ID+`/batches","lineEnding":"LF","columnDelimiter":"COMMA"}`) {
		t.Errorf("create answer: got %s, want Salesforce's keys and order", res.body)
	}
	if !strings.HasPrefix(job.ID, "750") || len(job.ID) != 18 {
		t.Errorf("job id: got %q, want an 18-character 750 id", job.ID)
	}

	o.upload(t, job.ID, "Name,NumberOfEmployees,Ext_Id__c\nAcme,12,A-1\n,3,A-2\n\"Quoted, \"\"Inc\"\"\",x,A-3\nGlobex,7,A-4\n")
	res = o.setState(t, ingestPath, job.ID, "UploadComplete")
	if res.status != http.StatusOK || strings.Contains(string(res.body), "contentUrl") || !strings.Contains(string(res.body), `"state":"UploadComplete","concurrencyMode":"Parallel","contentType":"CSV","apiVersion":58.0}`) {
		t.Errorf("close: got %d %s, want 200 and the short JobInfo", res.status, res.body)
	}
	wantState(t, o.info(t, ingestPath, job.ID), "UploadComplete")

	if n := o.StepBulk(1); n != 1 {
		t.Fatalf("StepBulk(1): got %d, want 1", n)
	}
	got := o.info(t, ingestPath, job.ID)
	wantState(t, got, "InProgress")
	if got.NumberRecordsProcessed != 1 || got.JobType != "V2Ingest" {
		t.Errorf("in progress: got %+v, want 1 record processed and jobType V2Ingest", got)
	}
	if n := o.ProcessBulk(); n != 3 {
		t.Errorf("ProcessBulk: got %d, want the 3 remaining records", n)
	}
	got = o.info(t, ingestPath, job.ID[:15]) // a 15-character id finds the job too
	wantState(t, got, "JobComplete")
	if got.NumberRecordsProcessed != 4 || got.NumberRecordsFailed != 2 {
		t.Errorf("counters: got processed %d failed %d, want 4 and 2", got.NumberRecordsProcessed, got.NumberRecordsFailed)
	}
	info := o.do(t, http.MethodGet, ingestPath+"/"+job.ID, nil)
	for _, key := range []string{`"retries":0`, `"totalProcessingTime":`, `"apiActiveProcessingTime":`, `"apexProcessingTime":0`} {
		if !strings.Contains(string(info.body), key) {
			t.Errorf("job info: got %s, want %s", info.body, key)
		}
	}

	ids := o.Store().FindBy("Account", "Ext_Id__c", "A-1")
	ids4 := o.Store().FindBy("Account", "Ext_Id__c", "A-4")
	if len(ids) != 1 || len(ids4) != 1 {
		t.Fatalf("stored: got %v and %v, want one Account each", ids, ids4)
	}
	base := ingestPath + "/" + job.ID + "/"
	checks := []struct{ resource, want string }{
		{"successfulResults", `"sf__Id","sf__Created","Name","NumberOfEmployees","Ext_Id__c"` + "\n" +
			`"` + ids[0] + `","true","Acme","12","A-1"` + "\n" +
			`"` + ids4[0] + `","true","Globex","7","A-4"` + "\n"},
		{"failedResults", `"sf__Id","sf__Error","Name","NumberOfEmployees","Ext_Id__c"` + "\n" +
			`"","REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --","","3","A-2"` + "\n" +
			`"","INVALID_TYPE_ON_FIELD_IN_RECORD:Employees: value not of required type: x:NumberOfEmployees --","Quoted, ""Inc""","x","A-3"` + "\n"},
		{"unprocessedrecords", `"Name","NumberOfEmployees","Ext_Id__c"` + "\n"},
	}
	for _, c := range checks {
		t.Run(c.resource, func(t *testing.T) {
			res := o.do(t, http.MethodGet, base+c.resource, nil)
			if res.status != http.StatusOK || string(res.body) != c.want {
				t.Errorf("got %d\n%s\nwant 200\n%s", res.status, res.body, c.want)
			}
			if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
				t.Errorf("Content-Type: got %q, want text/csv", ct)
			}
		})
	}
	t.Run("failedResults before 53.0 has no sf__Id", func(t *testing.T) {
		rows := o.table(t, "/services/data/v52.0/jobs/ingest/"+job.ID+"/failedResults")
		if got, want := rows[0][:2], []string{"sf__Error", "Name"}; !slices.Equal(got, want) {
			t.Errorf("header: got %q, want %q", got, want)
		}
	})

	if res := o.do(t, http.MethodDelete, ingestPath+"/"+job.ID, nil); res.status != http.StatusNoContent || len(res.body) != 0 {
		t.Errorf("delete: got %d %q, want 204", res.status, res.body)
	}
	if res := o.do(t, http.MethodGet, ingestPath+"/"+job.ID, nil); res.status != http.StatusNotFound || res.errorCode(t) != "NOT_FOUND" {
		t.Errorf("deleted job: got %d %s, want 404 NOT_FOUND", res.status, res.body)
	}
}

// accounts builds n Account rows: Name, NumberOfEmployees, Ext_Id__c.
func accounts(n int, bad map[int]string) string {
	var b strings.Builder
	b.WriteString("Name,NumberOfEmployees,Ext_Id__c\n")
	for i := range n {
		if row, ok := bad[i]; ok {
			b.WriteString(row + "\n")
			continue
		}
		fmt.Fprintf(&b, "Account %d,%d,EXT-%d\n", i, i%500, i)
	}
	return b.String()
}

// accountFor returns, in order, how every input row was accounted for: the
// result set and the key column's value.
func accountFor(t *testing.T, o org, id string, rows int, key string) (succeeded, failed, unprocessed int) {
	t.Helper()
	ok, bad, rest := o.results(t, id)
	seen := map[string]int{}
	count := func(name string, table [][]string, lead int) int {
		col := slices.Index(table[0], key)
		if col < 0 {
			t.Fatalf("%s: no column %s in %q", name, key, table[0])
		}
		if got := table[0][lead:]; len(got) == 0 {
			t.Fatalf("%s: no uploaded columns in %q", name, table[0])
		}
		for _, r := range table[1:] {
			seen[r[col]]++
		}
		return len(table) - 1
	}
	succeeded = count("successfulResults", ok, 2)
	failed = count("failedResults", bad, 2)
	unprocessed = count("unprocessedrecords", rest, 0)
	if total := succeeded + failed + unprocessed; total != rows {
		t.Errorf("results: got %d successful + %d failed + %d unprocessed = %d, want the %d input rows", succeeded, failed, unprocessed, total, rows)
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("row %s: got %d result rows, want exactly 1", k, n)
		}
	}
	return succeeded, failed, unprocessed
}

func TestBulkIngest20000Rows(t *testing.T) {
	const n = 20000
	o := newBulkOrg(t, sforg.Options{})

	// insert, with rows that fail validation.
	bad := map[int]string{7: ",1,EXT-7", 9999: "Account 9999,many,EXT-9999", 10000: "Account 10000,-1e3x,EXT-10000", 19999: ",,EXT-19999"}
	job := o.ingest(t, map[string]any{"object": "Account", "operation": "insert"}, accounts(n, bad))
	o.ProcessBulk()
	info := o.info(t, ingestPath, job.ID)
	wantState(t, info, "JobComplete")
	ok, failed, _ := accountFor(t, o, job.ID, n, "Ext_Id__c")
	if ok != n-len(bad) || failed != len(bad) || info.NumberRecordsProcessed != n || info.NumberRecordsFailed != len(bad) {
		t.Fatalf("insert: got %d ok, %d failed, info %+v; want %d and %d", ok, failed, info, n-len(bad), len(bad))
	}
	if got := o.Store().Count("Account"); got != n-len(bad) {
		t.Fatalf("accounts after insert: got %d, want %d", got, n-len(bad))
	}

	// update by Id: every record gets a new name; a few rows are bad.
	okRows, _, _ := o.results(t, job.ID)
	var up strings.Builder
	up.WriteString("Id,Name,Ext_Id__c\n")
	updates := 0
	for i, r := range okRows[1:] {
		id, ext := r[0], r[4]
		switch i {
		case 3:
			id = "001NOTANID"
		case 4:
			id = "001000000000000AAA" // well formed, no such record
		case 5:
			fmt.Fprintf(&up, "%s,#N/A,%s\n", id, ext) // nulls a required field
			updates++
			continue
		}
		fmt.Fprintf(&up, "%s,Renamed %s,%s\n", id, ext, ext)
		updates++
	}
	job = o.ingest(t, map[string]any{"object": "Account", "operation": "update"}, up.String())
	o.ProcessBulk()
	wantState(t, o.info(t, ingestPath, job.ID), "JobComplete")
	ok, failed, _ = accountFor(t, o, job.ID, updates, "Ext_Id__c")
	if failed != 3 || ok != updates-3 {
		t.Errorf("update: got %d ok and %d failed, want %d and 3", ok, failed, updates-3)
	}
	_, badRows, _ := o.results(t, job.ID)
	codes := []string{}
	for _, r := range badRows[1:] {
		codes = append(codes, strings.SplitN(r[1], ":", 2)[0])
	}
	if want := []string{"MALFORMED_ID", "INVALID_CROSS_REFERENCE_KEY", "REQUIRED_FIELD_MISSING"}; !slices.Equal(codes, want) {
		t.Errorf("update failures: got %q, want %q", codes, want)
	}
	if res, _ := o.Store().Query("SELECT COUNT() FROM Account WHERE Name LIKE 'Renamed %'", false); res.TotalSize != updates-3 {
		t.Errorf("renamed accounts: got %d, want %d", res.TotalSize, updates-3)
	}

	// upsert by external id: the first half exist, the second half are new;
	// a duplicated key in one internal batch and a missing key fail.
	var ups strings.Builder
	ups.WriteString("Ext_Id__c,Name\n")
	for i := range n {
		switch i {
		case 100:
			ups.WriteString("EXT-101,Twice\n") // EXT-101 twice in the first internal batch
		case 200:
			ups.WriteString(",No key\n")
		default:
			if i < n/2 {
				fmt.Fprintf(&ups, "EXT-%d,Upserted %d\n", i, i)
			} else {
				fmt.Fprintf(&ups, "NEW-%d,New %d\n", i, i)
			}
		}
	}
	before := o.Store().Count("Account")
	job = o.ingest(t, map[string]any{"object": "Account", "operation": "upsert", "externalIdFieldName": "ext_id__c"}, ups.String())
	if job.ExternalIDFieldName != "Ext_Id__c" {
		t.Errorf("externalIdFieldName: got %q, want the field's own spelling Ext_Id__c", job.ExternalIDFieldName)
	}
	o.ProcessBulk()
	wantState(t, o.info(t, ingestPath, job.ID), "JobComplete")
	okRows, badRows, _ = o.results(t, job.ID)
	created, updated := 0, 0
	for _, r := range okRows[1:] {
		switch r[1] {
		case "true":
			created++
		case "false":
			updated++
		}
	}
	// Rows 7, 9999 (never inserted) and 100/101 (both EXT-101) and 200 fail or insert:
	// EXT-7 and EXT-9999 do not exist, so they are created.
	if wantCreated := n/2 + 2; created != wantCreated {
		t.Errorf("upsert created: got %d, want %d", created, wantCreated)
	}
	if wantUpdated := n/2 - 3 - 2; updated != wantUpdated { // not rows 100, 101, 200; not EXT-7, EXT-9999
		t.Errorf("upsert updated: got %d, want %d", updated, wantUpdated)
	}
	if len(badRows)-1 != 3 {
		t.Errorf("upsert failures: got %q, want the two EXT-101 rows and the row without a key", badRows[1:])
	}
	if got, want := o.Store().Count("Account"), before+created; got != want {
		t.Errorf("accounts after upsert: got %d, want %d", got, want)
	}

	// delete everything by Id, aborting after 12,000 rows: the rest stays
	// unprocessed and undeleted.
	res, err := o.Store().Query("SELECT Id FROM Account", false)
	if err != nil {
		t.Fatal(err)
	}
	var del strings.Builder
	del.WriteString("Id\n")
	for _, rec := range res.Records[:n] {
		del.WriteString(rec.ID + "\n")
	}
	job = o.ingest(t, map[string]any{"object": "Account", "operation": "delete"}, del.String())
	if got := o.StepBulk(12000); got != 12000 {
		t.Fatalf("StepBulk(12000): got %d", got)
	}
	if res := o.setState(t, ingestPath, job.ID, "Aborted"); res.status != http.StatusOK {
		t.Fatalf("abort: got %d %s", res.status, res.body)
	}
	if got := o.ProcessBulk(); got != 0 {
		t.Errorf("ProcessBulk after abort: got %d records, want 0", got)
	}
	ok, failed, rest := accountFor(t, o, job.ID, n, "Id")
	if ok != 12000 || failed != 0 || rest != 8000 {
		t.Errorf("delete: got %d ok, %d failed, %d unprocessed; want 12000, 0, 8000", ok, failed, rest)
	}
	if got, want := o.Store().Count("Account"), len(res.Records)-12000; got != want {
		t.Errorf("accounts after the aborted delete: got %d, want %d", got, want)
	}
}

func TestBulkQuery20000Records(t *testing.T) {
	const n = 20000
	o := newBulkOrg(t, sforg.Options{})
	o.ingest(t, map[string]any{"object": "Account", "operation": "insert"}, accounts(n, nil))
	o.ProcessBulk()

	job := o.createJob(t, queryPath, map[string]any{"operation": "query", "query": "SELECT Id, name, Ext_Id__c, Owner.Name FROM Account"})
	wantState(t, job, "UploadComplete")
	if res := o.do(t, http.MethodGet, queryPath+"/"+job.ID+"/results", nil); res.status != http.StatusPreconditionFailed || res.errorCode(t) != "JOB_NOT_COMPLETE" ||
		!strings.Contains(string(res.body), "Current status: UPLOAD_COMPLETE") {
		t.Errorf("results before the job ran: got %d %s, want 412 JOB_NOT_COMPLETE", res.status, res.body)
	}
	o.StepBulk(5)
	if got := o.info(t, queryPath, job.ID); got.State != "InProgress" || got.NumberRecordsProcessed != 5 || got.JobType != "V2Query" {
		t.Errorf("stepped: got %+v, want InProgress with 5 records", got)
	}
	o.ProcessBulk()
	wantState(t, o.info(t, queryPath, job.ID), "JobComplete")

	seen := map[string]bool{}
	locator := ""
	var counts []string
	var locators []string
	for page := 0; ; page++ {
		if page > 10 {
			t.Fatal("more than 10 pages")
		}
		path := queryPath + "/" + job.ID + "/results?maxRecords=7000"
		if locator != "" {
			path += "&locator=" + locator
		}
		res := o.do(t, http.MethodGet, path, nil)
		if res.status != http.StatusOK {
			t.Fatalf("page %d: got %d %s", page, res.status, res.body)
		}
		rows := readCSV(t, res.body, ',')
		if want := []string{"Id", "Name", "Ext_Id__c", "Owner.Name"}; !slices.Equal(rows[0], want) {
			t.Fatalf("header: got %q, want %q", rows[0], want)
		}
		for _, r := range rows[1:] {
			if seen[r[0]] {
				t.Fatalf("record %s on two pages", r[0])
			}
			seen[r[0]] = true
			if r[3] != "Integration User" {
				t.Fatalf("Owner.Name: got %q", r[3])
			}
		}
		counts = append(counts, res.header.Get("Sforce-NumberOfRecords"))
		locator = res.header.Get("Sforce-Locator")
		locators = append(locators, locator)
		if locator == "null" {
			break
		}
	}
	if len(seen) != n {
		t.Errorf("records: got %d distinct, want %d", len(seen), n)
	}
	if want := []string{"7000", "7000", "6000"}; !slices.Equal(counts, want) {
		t.Errorf("Sforce-NumberOfRecords: got %q, want %q", counts, want)
	}
	if locators[0] != "NzAwMA" || locators[2] != "null" {
		t.Errorf("Sforce-Locator: got %q, want opaque base64 locators and then the string null", locators)
	}
	t.Run("a locator reads its set again", func(t *testing.T) {
		res := o.do(t, http.MethodGet, queryPath+"/"+job.ID+"/results?maxRecords=2&locator=NzAwMA", nil)
		rows := readCSV(t, res.body, ',')
		if res.status != http.StatusOK || len(rows) != 3 || res.header.Get("Sforce-Locator") != "NzAwMg" {
			t.Errorf("got %d %d rows locator %q", res.status, len(rows)-1, res.header.Get("Sforce-Locator"))
		}
	})
	t.Run("gzip when accepted", func(t *testing.T) {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, o.URL+queryPath+"/"+job.ID+"/results?maxRecords=10", nil)
		req.Header.Set("Authorization", "Bearer "+o.token)
		req.Header.Set("Accept-Encoding", "gzip")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if got := res.Header.Get("Content-Encoding"); got != "gzip" {
			t.Errorf("Content-Encoding: got %q, want gzip", got)
		}
	})
}

// TestBulkIngestDropAfterCommit checks that the write routes commit their work
// when the answer is lost.
func TestBulkIngestDropAfterCommit(t *testing.T) {
	o := newBulkOrg(t, sforg.Options{})
	drop := func(route string) {
		t.Helper()
		if err := o.Inject(sforg.Fault{Route: route, Kind: sforg.FaultDropAfter, Times: 1}); err != nil {
			t.Fatal(err)
		}
	}
	dropped := func(method, path, contentType string, body []byte) {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), method, o.URL+path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+o.token)
		req.Header.Set("Content-Type", contentType)
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
			t.Fatalf("%s %s: got %d, want the connection dropped", method, path, res.StatusCode)
		}
	}

	drop(sforg.RouteBulkIngestCreate)
	dropped(http.MethodPost, ingestPath, "application/json", []byte(`{"object":"Account","operation":"insert"}`))
	var list struct {
		Records []jobView `json:"records"`
	}
	o.do(t, http.MethodGet, ingestPath, nil).json(t, &list)
	if len(list.Records) != 1 || list.Records[0].State != "Open" {
		t.Fatalf("after a dropped create: got %+v, want the job created and Open", list.Records)
	}
	id := list.Records[0].ID

	drop(sforg.RouteBulkIngestUpload)
	dropped(http.MethodPut, ingestPath+"/"+id+"/batches", "text/csv", []byte("Name\nDropped Inc\n"))
	drop(sforg.RouteBulkIngestState)
	dropped(http.MethodPatch, ingestPath+"/"+id, "application/json", []byte(`{"state":"UploadComplete"}`))
	wantState(t, o.info(t, ingestPath, id), "UploadComplete")
	o.ProcessBulk()
	wantState(t, o.info(t, ingestPath, id), "JobComplete")
	if got := o.Store().FindBy("Account", "Name", "Dropped Inc"); len(got) != 1 {
		t.Errorf("the uploaded row: got %v, want one Account", got)
	}

	drop(sforg.RouteBulkQueryCreate)
	dropped(http.MethodPost, queryPath, "application/json", []byte(`{"operation":"query","query":"SELECT Id FROM Account"}`))
	o.do(t, http.MethodGet, queryPath, nil).json(t, &list)
	if len(list.Records) != 1 {
		t.Errorf("after a dropped query create: got %+v, want the job created", list.Records)
	}
}

func TestBulkFaultsAndUsage(t *testing.T) {
	o := newBulkOrg(t, sforg.Options{})
	job := o.createJob(t, ingestPath, map[string]any{"object": "Account", "operation": "insert"})
	tests := []struct {
		name   string
		fault  sforg.Fault
		method string
		path   string
		status int
		code   string
	}{
		{"503 on job info", sforg.Fault{Route: sforg.RouteBulkIngestInfo, Kind: sforg.FaultStatus, Status: 503}, http.MethodGet, ingestPath + "/" + job.ID, 503, "SERVER_UNAVAILABLE"},
		{"500 on results", sforg.Fault{Route: sforg.RouteBulkIngestResults, Kind: sforg.FaultStatus, Status: 500}, http.MethodGet, ingestPath + "/" + job.ID + "/successfulResults", 500, "UNKNOWN_EXCEPTION"},
		{"session expiry on list", sforg.Fault{Route: sforg.RouteBulkQueryList, Kind: sforg.FaultSessionExpired}, http.MethodGet, queryPath, 401, "INVALID_SESSION_ID"},
		{"limit on create", sforg.Fault{Route: sforg.RouteBulkQueryCreate, Kind: sforg.FaultLimitExceeded}, http.MethodPost, queryPath, 403, "REQUEST_LIMIT_EXCEEDED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fault.Times = 1
			if err := o.Inject(tt.fault); err != nil {
				t.Fatal(err)
			}
			res := o.do(t, tt.method, tt.path, nil)
			if res.status != tt.status || res.errorCode(t) != tt.code {
				t.Errorf("got %d %s, want %d %s", res.status, res.body, tt.status, tt.code)
			}
			if tt.status == 401 {
				o.token = login(t, o.Server)
			}
		})
	}

	t.Run("every call counts against the API allocation", func(t *testing.T) {
		before := o.Counters()
		res := o.do(t, http.MethodGet, ingestPath+"/"+job.ID, nil)
		if h := res.header.Get("Sforce-Limit-Info"); !strings.HasPrefix(h, "api-usage=") {
			t.Errorf("Sforce-Limit-Info: got %q", h)
		}
		o.do(t, http.MethodGet, queryPath, nil)
		after := o.Counters()
		if after["api-usage"] != before["api-usage"]+2 || after["api-calls.bulk"] != before["api-calls.bulk"]+2 {
			t.Errorf("counters: got api-usage %d->%d, api-calls.bulk %d->%d; want +2 each", before["api-usage"], after["api-usage"], before["api-calls.bulk"], after["api-calls.bulk"])
		}
	})
	t.Run("over the daily allocation", func(t *testing.T) {
		used, _ := o.APIUsage()
		o.SetDailyLimit(used)
		t.Cleanup(func() { o.SetDailyLimit(15000) })
		if res := o.do(t, http.MethodGet, ingestPath, nil); res.status != http.StatusForbidden || res.errorCode(t) != "REQUEST_LIMIT_EXCEEDED" {
			t.Errorf("got %d %s, want 403 REQUEST_LIMIT_EXCEEDED", res.status, res.body)
		}
	})
}

func TestBulkIngestStateErrors(t *testing.T) {
	o := newBulkOrg(t, sforg.Options{})
	newJob := func() string {
		return o.createJob(t, ingestPath, map[string]any{"object": "Account", "operation": "insert"}).ID
	}
	put := func(id string) response {
		return o.raw(t, http.MethodPut, ingestPath+"/"+id+"/batches", "text/csv", []byte("Name\nX\n"))
	}

	aborted := newJob()
	if res := o.setState(t, ingestPath, aborted, "Aborted"); res.status != http.StatusOK || !strings.Contains(string(res.body), `"state":"Aborted"`) {
		t.Fatalf("abort: got %d %s", res.status, res.body)
	}
	twice := newJob()
	o.upload(t, twice, "Name\nA\n")
	o.upload(t, twice, "Name\nB\n") // accepted, as Salesforce does
	complete := o.ingest(t, map[string]any{"object": "Account", "operation": "insert"}, "Name\nY\n").ID
	o.ProcessBulk()
	running := o.ingest(t, map[string]any{"object": "Account", "operation": "insert"}, "Name\nR1\nR2\n").ID
	o.StepBulk(1)
	open := newJob()

	tests := []struct {
		name   string
		do     func() response
		status int
		code   string
		text   string
	}{
		{"upload to a closed job", func() response { return put(complete) }, 400, "INVALIDJOBSTATE", ""},
		{"upload to an aborted job", func() response { return put(aborted) }, 400, "INVALIDJOBSTATE", ""},
		{"upload of JSON", func() response {
			return o.raw(t, http.MethodPut, ingestPath+"/"+open+"/batches", "application/json", []byte(`{}`))
		}, 415, "INVALIDCONTENTTYPE", ""},
		{"close an aborted job", func() response { return o.setState(t, ingestPath, aborted, "UploadComplete") }, 400, "INVALIDJOBSTATE", ""},
		{"close a closed job", func() response { return o.setState(t, ingestPath, complete, "UploadComplete") }, 400, "INVALIDJOBSTATE", ""},
		{"close after two uploads", func() response { return o.setState(t, ingestPath, twice, "UploadComplete") }, 400, "INVALIDJOB",
			"Found multipe contents for job: <" + twice + ">, please 'Close' / 'Abort' / 'Delete' the current Job then create a new Job and make sure you only do 'PUT' once on a given Job."},
		{"abort a complete job", func() response { return o.setState(t, ingestPath, complete, "Aborted") }, 400, "INVALIDJOBSTATE", ""},
		{"set an unknown state", func() response { return o.setState(t, ingestPath, open, "Closed") }, 400, "INVALIDJOBSTATE", ""},
		{"bad JSON", func() response { return o.do(t, http.MethodPatch, ingestPath+"/"+open, `{"state":}`) }, 400, "JSON_PARSER_ERROR", ""},
		{"delete an Open job", func() response { return o.do(t, http.MethodDelete, ingestPath+"/"+open, nil) }, 400, "INVALIDJOBSTATE", ""},
		{"delete a job in progress", func() response { return o.do(t, http.MethodDelete, ingestPath+"/"+running, nil) }, 400, "INVALIDJOBSTATE", ""},
		{"unknown job", func() response { return o.do(t, http.MethodGet, ingestPath+"/750000000000000AAA", nil) }, 404, "NOT_FOUND", ""},
		{"ingest job under /jobs/query", func() response { return o.do(t, http.MethodGet, queryPath+"/"+complete, nil) }, 404, "NOT_FOUND", ""},
		{"method not allowed", func() response { return o.do(t, http.MethodPost, ingestPath+"/"+open, nil) }, 405, "METHOD_NOT_ALLOWED", ""},
		{"ingest before 41.0", func() response {
			return o.do(t, http.MethodPost, "/services/data/v40.0/jobs/ingest", map[string]any{"object": "Account", "operation": "insert"})
		}, 404, "NOT_FOUND", ""},
		{"retired version", func() response { return o.do(t, http.MethodGet, "/services/data/v30.0/jobs/ingest", nil) }, 410, "GONE", ""},
		{"query before 47.0", func() response {
			return o.do(t, http.MethodPost, "/services/data/v46.0/jobs/query", map[string]any{"operation": "query", "query": "SELECT Id FROM Account"})
		}, 404, "NOT_FOUND", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := tt.do()
			if res.status != tt.status || res.errorCode(t) != tt.code {
				t.Fatalf("got %d %s, want %d %s", res.status, res.body, tt.status, tt.code)
			}
			var errs []sforg.APIError
			res.json(t, &errs)
			if tt.text != "" && errs[0].Message != tt.text {
				t.Errorf("message: got %q, want %q", errs[0].Message, tt.text)
			}
		})
	}
	wantState(t, o.info(t, ingestPath, twice), "Open")
	wantState(t, o.info(t, ingestPath, running), "InProgress")
	t.Run("abort in progress leaves the rest unprocessed", func(t *testing.T) {
		if res := o.setState(t, ingestPath, running, "Aborted"); res.status != http.StatusOK {
			t.Fatalf("got %d %s", res.status, res.body)
		}
		ok, failed, rest := o.results(t, running)
		if len(ok) != 2 || len(failed) != 1 || len(rest) != 2 || rest[1][0] != "R2" {
			t.Errorf("got %q %q %q, want R1 done and R2 unprocessed", ok, failed, rest)
		}
		if res := o.do(t, http.MethodDelete, ingestPath+"/"+running, nil); res.status != http.StatusNoContent {
			t.Errorf("delete the aborted job: got %d %s", res.status, res.body)
		}
	})
}

func TestBulkIngestCreateErrors(t *testing.T) {
	o := newBulkOrg(t, sforg.Options{})
	tests := []struct {
		name string
		spec map[string]any
		code string
	}{
		{"unknown object", map[string]any{"object": "Nope__c", "operation": "insert"}, "INVALIDENTITY"},
		{"no object", map[string]any{"operation": "insert"}, "INVALIDJOB"},
		{"no operation", map[string]any{"object": "Account"}, "INVALIDJOB"},
		{"unknown operation", map[string]any{"object": "Account", "operation": "merge"}, "INVALIDJOB"},
		{"upsert without external id", map[string]any{"object": "Account", "operation": "upsert"}, "INVALIDJOB"},
		{"upsert on a field that is not an external id", map[string]any{"object": "Account", "operation": "upsert", "externalIdFieldName": "Name"}, "INVALIDJOB"},
		{"content type", map[string]any{"object": "Account", "operation": "insert", "contentType": "JSON"}, "INVALIDJOB"},
		{"delimiter", map[string]any{"object": "Account", "operation": "insert", "columnDelimiter": "COLON"}, "INVALIDJOB"},
		{"line ending", map[string]any{"object": "Account", "operation": "insert", "lineEnding": "CR"}, "INVALIDJOB"},
		{"wrong JSON type", map[string]any{"object": 5, "operation": "insert"}, "JSON_PARSER_ERROR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := o.do(t, http.MethodPost, ingestPath, tt.spec)
			if res.status != http.StatusBadRequest || res.errorCode(t) != tt.code {
				t.Errorf("got %d %s, want 400 %s", res.status, res.body, tt.code)
			}
		})
	}
}

func TestBulkIngestCSVRules(t *testing.T) {
	tests := []struct {
		name   string
		spec   map[string]any
		data   string
		check  string // SOQL whose single row, rendered "A|B|...", must equal want
		want   string
		failed string // expected sf__Error prefix of the first failed row, if any
	}{
		{"quoting and embedded line breaks", nil,
			"Name,Description,Ext_Id__c\n\"Acme, Inc\",\"line one\nline \"\"two\"\"\",Q1\n",
			"SELECT Name, Description FROM Account WHERE Ext_Id__c = 'Q1'", "Acme, Inc|line one\nline \"two\"", ""},
		{"values are not trimmed", nil, "Name,Ext_Id__c\n  Spaced  ,Q2\n",
			"SELECT Name FROM Account WHERE Ext_Id__c = 'Q2'", "  Spaced  ", ""},
		{"semicolon delimiter and CRLF", map[string]any{"columnDelimiter": "SEMICOLON", "lineEnding": "CRLF"}, "Name;Ext_Id__c\r\nSemi, Colon;Q3\r\n",
			"SELECT Name FROM Account WHERE Ext_Id__c = 'Q3'", "Semi, Colon", ""},
		{"tab delimiter", map[string]any{"columnDelimiter": "TAB"}, "Name\tExt_Id__c\nTabbed\tQ4",
			"SELECT Name FROM Account WHERE Ext_Id__c = 'Q4'", "Tabbed", ""},
		{"pipe, caret and backquote", map[string]any{"columnDelimiter": "PIPE"}, "Name|Ext_Id__c\nPiped^`|Q5\n",
			"SELECT Name FROM Account WHERE Ext_Id__c = 'Q5'", "Piped^`", ""},
		{"byte order mark", nil, "\ufeffName,Ext_Id__c\nBOM,Q6\n",
			"SELECT Name FROM Account WHERE Ext_Id__c = 'Q6'", "BOM", ""},
		{"empty leaves a default, #N/A nulls", nil, "Name,Ext_Id__c,Industry,Description\nDefaults,Q7,,#N/A\n",
			"SELECT Industry, Description FROM Account WHERE Ext_Id__c = 'Q7'", "<nil>|<nil>", ""},
		{"numbers and dates", map[string]any{"object": "Opportunity"},
			"Name,StageName,CloseDate,Amount,Probability\nDeal,Prospecting,2026-03-31,1250.50,10\n",
			"SELECT Name, CloseDate, Amount, Probability FROM Opportunity", "Deal|2026-03-31|1250.5|10", ""},
		{"dateTime with an offset, boolean 1", nil, "Name,Ext_Id__c,Active__c,Seen__c\nTyped,Q10,1,2026-03-31T10:00:00.000+0200\n",
			"SELECT Active__c, Seen__c FROM Account WHERE Ext_Id__c = 'Q10'", "true|2026-03-31T08:00:00.000+0000", ""},
		{"dateTime in UTC, boolean FALSE", nil, "Name,Ext_Id__c,Active__c,Seen__c\nTyped,Q11,FALSE,2026-03-31T10:00:00.000Z\n",
			"SELECT Active__c, Seen__c FROM Account WHERE Ext_Id__c = 'Q11'", "false|2026-03-31T10:00:00.000+0000", ""},
		{"a bad boolean fails the row", nil, "Name,Active__c\nTyped,maybe\n", "", "", "INVALID_TYPE_ON_FIELD_IN_RECORD:Active: value not of required type: maybe:Active__c --"},
		{"a bad date fails the row", map[string]any{"object": "Opportunity"},
			"Name,StageName,CloseDate\nDeal,Prospecting,31/03/2026\n", "", "", "INVALID_TYPE_ON_FIELD_IN_RECORD:Close Date: value not of required type: 31/03/2026:CloseDate --"},
		{"a bad picklist value is kept (unrestricted)", nil, "Name,Ext_Id__c,Type\nPick,Q8,Martian\n",
			"SELECT Type FROM Account WHERE Ext_Id__c = 'Q8'", "Martian", ""},
		{"a text value too long", nil, "Name,Ext_Id__c,AccountNumber\nLong,Q9," + strings.Repeat("9", 41) + "\n", "", "", "STRING_TOO_LONG:"},
		{"an Id on insert", nil, "Id,Name\n001000000000000AAA,X\n", "", "", "INVALID_FIELD:The Id field should not be specified in the sobject data.:--"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newBulkOrg(t, sforg.Options{})
			spec := map[string]any{"object": "Account", "operation": "insert"}
			for k, v := range tt.spec {
				spec[k] = v
			}
			job := o.ingest(t, spec, tt.data)
			o.ProcessBulk()
			info := o.info(t, ingestPath, job.ID)
			wantState(t, info, "JobComplete")
			comma := ','
			if d, ok := tt.spec["columnDelimiter"]; ok {
				comma = map[any]rune{"SEMICOLON": ';', "TAB": '\t', "PIPE": '|'}[d]
			}
			_, failed, _ := o.resultsSep(t, job.ID, comma)
			if tt.failed != "" {
				if len(failed) != 2 || !strings.HasPrefix(failed[1][1], tt.failed) {
					t.Fatalf("failedResults: got %q, want one row with %q", failed, tt.failed)
				}
				return
			}
			if len(failed) != 1 {
				t.Fatalf("failedResults: got %q, want none", failed)
			}
			res, err := o.Store().Query(tt.check, false)
			if err != nil || len(res.Records) != 1 {
				t.Fatalf("%s: got %v %v", tt.check, res, err)
			}
			var vals []string
			for _, f := range res.Records[0].Fields {
				vals = append(vals, fmt.Sprint(f.Value))
			}
			if got := strings.Join(vals, "|"); got != tt.want {
				t.Errorf("stored: got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestBulkIngestRelationships(t *testing.T) {
	o := newBulkOrg(t, sforg.Options{})
	parent := o.create(t, "Account", map[string]any{"Name": "Parent", "Ext_Id__c": "P-1"})
	o.create(t, "Account", map[string]any{"Name": "Twin A", "Ext_Id__c": "TWIN"})
	o.create(t, "Account", map[string]any{"Name": "Twin B", "Ext_Id__c": "TWIN"})
	job := o.ingest(t, map[string]any{"object": "Contact", "operation": "insert"},
		"LastName,Account.Ext_Id__c,User:Owner.Username\nDoe,p-1,"+sforg.DefaultUsername+"\nRoe,P-404,\nPoe,TWIN,\nNoe,#N/A,\n")
	o.ProcessBulk()
	wantState(t, o.info(t, ingestPath, job.ID), "JobComplete")
	ok, failed, _ := o.results(t, job.ID)
	if len(ok) != 3 || len(failed) != 3 {
		t.Fatalf("got %q and %q, want Doe and Noe inserted, Roe and Poe failed", ok, failed)
	}
	_, doe, err := o.Store().Get("Contact", ok[1][0], []string{"AccountId", "OwnerId"})
	if err != nil || doe["AccountId"] != parent || doe["OwnerId"] != o.Store().UserID() {
		t.Errorf("Doe: got %v %v, want AccountId %s and the integration user as owner", doe, err, parent)
	}
	if got, want := failed[1][1], "INVALID_FIELD:Foreign key external ID: P-404 not found for field Ext_Id__c in entity Account:--"; got != want {
		t.Errorf("missing parent: got %q, want %q", got, want)
	}
	if got := failed[2][1]; !strings.HasPrefix(got, "DUPLICATE_EXTERNAL_ID:") {
		t.Errorf("two parents: got %q, want DUPLICATE_EXTERNAL_ID", got)
	}

	t.Run("header errors fail the job", func(t *testing.T) {
		for _, header := range []string{"LastName,Nope__r.Ext_Id__c", "LastName,Account.Name", "LastName,Account.Nope__c", "LastName,Bogus__c", "LastName,lastname"} {
			job := o.ingest(t, map[string]any{"object": "Contact", "operation": "insert"}, header+"\nDoe,x\n")
			o.ProcessBulk()
			info := o.info(t, ingestPath, job.ID)
			if info.State != "Failed" || !strings.HasPrefix(info.ErrorMessage, "InvalidBatch : ") {
				t.Errorf("%s: got %s %q, want Failed with InvalidBatch", header, info.State, info.ErrorMessage)
			}
		}
	})
}

func TestBulkIngestMalformedCSV(t *testing.T) {
	tests := []struct {
		name, lineEnding, data, want string
	}{
		{"CRLF data in an LF job", "LF", "Name\r\nX\r\n", "ClientInputError : LineEnding is invalid on user data. Current LineEnding setting is LF"},
		{"LF data in a CRLF job", "CRLF", "Name\nX\n", "ClientInputError : LineEnding is invalid on user data. Current LineEnding setting is CRLF"},
		{"unterminated quote", "LF", "Name\n\"open\n", "ClientInputError : a quoted value opened on line 2 is never closed"},
		{"space before a quote", "LF", "Name,Ext_Id__c\nA, \"B\"\n", "ClientInputError : a double quote inside an unquoted value on line 2: quote the whole value and double the quote"},
		{"text after a closing quote", "LF", "Name\n\"A\"B\n", "ClientInputError : unexpected character 'B' after a closing quote on line 2"},
		{"too many values", "LF", "Name\nA,B\n", "ClientInputError : row 2 has 2 values, the header has 1"},
		{"empty file", "LF", "", "ClientInputError : the CSV data is empty: the first row must name the fields"},
		{"not UTF-8", "LF", "Name\n\xff\n", "ClientInputError : the CSV data is not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newBulkOrg(t, sforg.Options{})
			job := o.createJob(t, ingestPath, map[string]any{"object": "Account", "operation": "insert", "lineEnding": tt.lineEnding})
			if tt.data != "" {
				o.upload(t, job.ID, tt.data)
			}
			o.setState(t, ingestPath, job.ID, "UploadComplete")
			o.ProcessBulk()
			info := o.info(t, ingestPath, job.ID)
			if info.State != "Failed" || info.ErrorMessage != tt.want || info.NumberRecordsProcessed != 0 {
				t.Errorf("got %s %q (%d processed), want Failed %q", info.State, info.ErrorMessage, info.NumberRecordsProcessed, tt.want)
			}
			if res := o.do(t, http.MethodGet, ingestPath+"/"+job.ID+"/unprocessedrecords", nil); string(res.body) != tt.data {
				t.Errorf("unprocessedrecords: got %q, want the data as uploaded", res.body)
			}
			if got := o.Store().Count("Account"); got != 0 {
				t.Errorf("accounts: got %d, want 0", got)
			}
		})
	}
}

func TestBulkLimits(t *testing.T) {
	t.Run("upload size", func(t *testing.T) {
		o := newBulkOrg(t, sforg.Options{Bulk: sforg.BulkOptions{MaxUploadBytes: 400}})
		job := o.createJob(t, ingestPath, map[string]any{"object": "Account", "operation": "insert"})
		big := "Name\n" + strings.Repeat("x", 300) + "\n" // 306 bytes: 408 in base64
		if res := o.raw(t, http.MethodPut, ingestPath+"/"+job.ID+"/batches", "text/csv", []byte(big)); res.status != http.StatusRequestEntityTooLarge || res.errorCode(t) != "INVALIDBATCH" {
			t.Errorf("got %d %s, want 413 INVALIDBATCH", res.status, res.body)
		}
		o.upload(t, job.ID, "Name\n"+strings.Repeat("x", 290)+"\n") // 296 bytes: 396 in base64
	})
	t.Run("records per day", func(t *testing.T) {
		clock := testclock.New(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
		o := newBulkOrg(t, sforg.Options{Now: clock.Now, SessionTTL: 30 * 24 * time.Hour, Bulk: sforg.BulkOptions{RecordsPerDay: 25}})
		first := o.ingest(t, map[string]any{"object": "Account", "operation": "insert"}, accounts(10, nil))
		second := o.ingest(t, map[string]any{"object": "Account", "operation": "insert"}, accounts(40, nil))
		o.ProcessBulk()
		wantState(t, o.info(t, ingestPath, first.ID), "JobComplete")
		info := o.info(t, ingestPath, second.ID)
		if info.State != "Failed" || !strings.HasPrefix(info.ErrorMessage, "ExceededQuota : ") || info.NumberRecordsProcessed != 15 {
			t.Fatalf("second job: got %+v, want Failed after 15 records", info)
		}
		ok, _, rest := accountFor(t, o, second.ID, 40, "Ext_Id__c")
		if ok != 15 || rest != 25 {
			t.Errorf("got %d ok and %d unprocessed, want 15 and 25", ok, rest)
		}
		clock.Advance(24 * time.Hour)
		third := o.ingest(t, map[string]any{"object": "Account", "operation": "insert"}, accounts(5, nil))
		o.ProcessBulk()
		wantState(t, o.info(t, ingestPath, third.ID), "JobComplete")
	})
	t.Run("batches per day", func(t *testing.T) {
		o := newBulkOrg(t, sforg.Options{Bulk: sforg.BulkOptions{BatchesPerDay: 1}})
		job := o.ingest(t, map[string]any{"object": "Account", "operation": "insert"}, accounts(10001, nil))
		o.ProcessBulk()
		info := o.info(t, ingestPath, job.ID)
		if info.State != "Failed" || info.NumberRecordsProcessed != 10000 || !strings.HasPrefix(info.ErrorMessage, "ExceededQuota : ") {
			t.Errorf("got %+v, want Failed after one internal batch of 10,000", info)
		}
		var limits map[string]struct{ Max, Remaining int }
		o.do(t, http.MethodGet, "/services/data/v58.0/limits", nil).json(t, &limits)
		if got := limits["DailyBulkApiBatches"]; got.Max != 1 || got.Remaining != 0 {
			t.Errorf("DailyBulkApiBatches: got %+v, want 1 and 0", got)
		}
	})
	t.Run("query jobs per day", func(t *testing.T) {
		o := newBulkOrg(t, sforg.Options{Bulk: sforg.BulkOptions{QueryJobsPerDay: 2}})
		for range 2 {
			o.createJob(t, queryPath, map[string]any{"operation": "query", "query": "SELECT Id FROM Account"})
		}
		res := o.do(t, http.MethodPost, queryPath, map[string]any{"operation": "query", "query": "SELECT Id FROM Account"})
		if res.status != http.StatusBadRequest || res.errorCode(t) != "EXCEEDEDQUOTA" {
			t.Errorf("third job: got %d %s, want 400 EXCEEDEDQUOTA", res.status, res.body)
		}
		var limits map[string]struct{ Max, Remaining int }
		o.do(t, http.MethodGet, "/services/data/v58.0/limits", nil).json(t, &limits)
		if got := limits["DailyBulkV2QueryJobs"]; got.Max != 2 || got.Remaining != 0 {
			t.Errorf("DailyBulkV2QueryJobs: got %+v, want 2 and 0", got)
		}
	})
	t.Run("retention and open jobs", func(t *testing.T) {
		clock := testclock.New(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
		o := newBulkOrg(t, sforg.Options{Now: clock.Now, SessionTTL: 30 * 24 * time.Hour})
		done := o.ingest(t, map[string]any{"object": "Account", "operation": "insert"}, "Name\nKept\n")
		open := o.createJob(t, ingestPath, map[string]any{"object": "Account", "operation": "insert"})
		query := o.createJob(t, queryPath, map[string]any{"operation": "query", "query": "SELECT Id FROM Account"})
		o.ProcessBulk()
		clock.Advance(25 * time.Hour)
		info := o.info(t, ingestPath, open.ID)
		if info.State != "Failed" || info.ErrorMessage == "" {
			t.Errorf("job Open for 25 hours: got %+v, want Failed", info)
		}
		clock.Advance(6 * 24 * time.Hour)
		for _, path := range []string{ingestPath + "/" + done.ID, queryPath + "/" + query.ID, queryPath + "/" + query.ID + "/results"} {
			if res := o.do(t, http.MethodGet, path, nil); res.status != http.StatusNotFound {
				t.Errorf("%s after 7 days: got %d %s, want 404", path, res.status, res.body)
			}
		}
		if info := o.info(t, ingestPath, open.ID); info.State != "Failed" {
			t.Errorf("the job failed 6 days ago: got %+v, want it kept", info)
		}
	})
}

func TestBulkListJobs(t *testing.T) {
	o := newBulkOrg(t, sforg.Options{})
	const n = 1001
	for range n {
		o.createJob(t, ingestPath, map[string]any{"object": "Account", "operation": "insert"})
	}
	q := o.createJob(t, queryPath, map[string]any{"operation": "queryAll", "query": "SELECT Id FROM Account"})

	var page struct {
		Done           bool      `json:"done"`
		Records        []jobView `json:"records"`
		NextRecordsURL *string   `json:"nextRecordsUrl"`
	}
	o.do(t, http.MethodGet, ingestPath, nil).json(t, &page)
	if page.Done || len(page.Records) != 1000 || page.NextRecordsURL == nil || !strings.HasPrefix(*page.NextRecordsURL, ingestPath+"?queryLocator=01g") {
		t.Fatalf("first page: got done %v, %d records, next %v", page.Done, len(page.Records), page.NextRecordsURL)
	}
	res := o.do(t, http.MethodGet, *page.NextRecordsURL, nil)
	page.NextRecordsURL = nil
	res.json(t, &page)
	if !page.Done || len(page.Records) != 1 || page.NextRecordsURL != nil || !strings.Contains(string(res.body), `"nextRecordsUrl":null`) {
		t.Errorf("second page: got %s", res.body)
	}
	if page.Records[0].JobType != "V2Ingest" || page.Records[0].ContentURL != "" {
		t.Errorf("list entry: got %+v, want jobType V2Ingest and no contentUrl", page.Records[0])
	}

	tests := []struct {
		path    string
		records int
		status  int
	}{
		{queryPath, 1, 200},
		{queryPath + "?jobType=V2Query", 1, 200},
		{queryPath + "?jobType=Classic", 0, 200},
		{ingestPath + "?jobType=BigObjectIngest", 0, 200},
		{ingestPath + "?isPkChunkingEnabled=true", 0, 200},
		{ingestPath + "?jobType=Nope", 0, 400},
		{ingestPath + "?queryLocator=garbage", 0, 400},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			res := o.do(t, http.MethodGet, tt.path, nil)
			if res.status != tt.status {
				t.Fatalf("got %d %s, want %d", res.status, res.body, tt.status)
			}
			if tt.status != 200 {
				return
			}
			var got struct{ Records []jobView }
			res.json(t, &got)
			if len(got.Records) != tt.records {
				t.Errorf("got %d records, want %d", len(got.Records), tt.records)
			}
		})
	}
	var got struct{ Records []jobView }
	o.do(t, http.MethodGet, queryPath, nil).json(t, &got)
	if got.Records[0].ID != q.ID || got.Records[0].Operation != "queryAll" {
		t.Errorf("query list: got %+v", got.Records)
	}
}

func TestBulkMultipartCreate(t *testing.T) {
	o := newBulkOrg(t, sforg.Options{Bulk: sforg.BulkOptions{MaxMultipartChars: 40}})
	body := func(csv string) []byte {
		return []byte("--BOUNDARY\r\nContent-Type: application/json\r\nContent-Disposition: form-data; name=\"job\"\r\n\r\n" +
			`{"object":"Contact","contentType":"CSV","operation":"insert","lineEnding":"LF"}` +
			"\r\n--BOUNDARY\r\nContent-Type: text/csv\r\nContent-Disposition: form-data; name=\"content\"; filename=\"content\"\r\n\r\n" +
			csv + "\r\n--BOUNDARY--\r\n")
	}
	res := o.raw(t, http.MethodPost, ingestPath, "multipart/form-data; boundary=BOUNDARY", body("FirstName,LastName\nAstro,Nomical\n"))
	if res.status != http.StatusOK {
		t.Fatalf("got %d %s", res.status, res.body)
	}
	var job jobView
	res.json(t, &job)
	wantState(t, job, "UploadComplete")
	o.ProcessBulk()
	wantState(t, o.info(t, ingestPath, job.ID), "JobComplete")
	if got := o.Store().FindBy("Contact", "LastName", "Nomical"); len(got) != 1 {
		t.Errorf("contacts: got %v, want one", got)
	}
	res = o.raw(t, http.MethodPost, ingestPath, "multipart/form-data; boundary=BOUNDARY", body("FirstName,LastName\n"+strings.Repeat("x", 30)+",Y\n"))
	if res.status != http.StatusBadRequest || res.errorCode(t) != "CLIENTINPUTERROR" {
		t.Errorf("over the multipart limit: got %d %s, want 400 CLIENTINPUTERROR", res.status, res.body)
	}
}

func TestBulkHardDeleteAndQueryAll(t *testing.T) {
	o := newBulkOrg(t, sforg.Options{})
	soft := o.create(t, "Account", map[string]any{"Name": "Soft"})
	hard := o.create(t, "Account", map[string]any{"Name": "Hard"})
	contact := o.create(t, "Contact", map[string]any{"LastName": "Other object"})
	o.ingest(t, map[string]any{"object": "Account", "operation": "delete"}, "Id\n"+soft+"\n")
	job := o.ingest(t, map[string]any{"object": "Account", "operation": "hardDelete"}, "Id\n"+hard+"\n"+contact+"\n")
	o.ProcessBulk()
	ok, failed, _ := o.results(t, job.ID)
	if len(ok) != 2 || ok[1][1] != "false" || len(failed) != 2 || !strings.HasPrefix(failed[1][1], "MALFORMED_ID:") {
		t.Errorf("hardDelete: got %q and %q", ok, failed)
	}

	for _, tt := range []struct {
		operation string
		want      []string
	}{{"query", nil}, {"queryAll", []string{"Soft"}}} {
		t.Run(tt.operation, func(t *testing.T) {
			q := o.createJob(t, queryPath, map[string]any{"operation": tt.operation, "query": "SELECT Name FROM Account"})
			o.ProcessBulk()
			rows := o.table(t, queryPath+"/"+q.ID+"/results")
			var names []string
			for _, r := range rows[1:] {
				names = append(names, r[0])
			}
			if !slices.Equal(names, tt.want) {
				t.Errorf("got %q, want %q (a hard-deleted record is gone from queryAll too)", names, tt.want)
			}
		})
	}
}

func TestBulkQueryJobs(t *testing.T) {
	o := newBulkOrg(t, sforg.Options{})
	acct := o.create(t, "Account", map[string]any{"Name": "Acme", "NumberOfEmployees": 12})
	o.create(t, "Contact", map[string]any{"LastName": "Doe", "AccountId": acct})
	o.create(t, "Contact", map[string]any{"LastName": "Orphan"})

	t.Run("refused SOQL", func(t *testing.T) {
		tests := []struct{ query, code string }{
			{"SELECT COUNT() FROM Account", "FEATURENOTENABLED"},
			{"SELECT MAX(NumberOfEmployees) FROM Account", "FEATURENOTENABLED"},
			{"SELECT Industry FROM Account GROUP BY Industry", "FEATURENOTENABLED"},
			{"SELECT Id FROM Account LIMIT 5 OFFSET 2", "FEATURENOTENABLED"},
			{"SELECT Id, (SELECT Id FROM Contacts) FROM Account", "FEATURENOTENABLED"},
			{"SELECT FIELDS(ALL) FROM Account LIMIT 200", "FEATURENOTENABLED"},
			{"SELECT Nope__c FROM Account", "INVALID_FIELD"},
			{"SELECT Id FROM Nope__c", "INVALID_TYPE"},
			{"SELECT FROM Account", "MALFORMED_QUERY"},
		}
		for _, tt := range tests {
			t.Run(tt.query, func(t *testing.T) {
				res := o.do(t, http.MethodPost, queryPath, map[string]any{"operation": "query", "query": tt.query})
				if res.status != http.StatusBadRequest || res.errorCode(t) != tt.code {
					t.Errorf("got %d %s, want 400 %s", res.status, res.body, tt.code)
				}
			})
		}
		if res := o.do(t, http.MethodPost, queryPath, map[string]any{"operation": "query", "query": "SELECT Id, (SELECT Id FROM Contacts) FROM Account"}); !strings.Contains(string(res.body), "Aggregate Relationships not supported in Bulk V2 Query") {
			t.Errorf("subquery: got %s", res.body)
		}
	})

	t.Run("columns, parents, nulls and delimiters", func(t *testing.T) {
		q := o.createJob(t, queryPath, map[string]any{"operation": "query", "query": "SELECT lastname, Account.Name, Account.NumberOfEmployees, CreatedDate FROM Contact ORDER BY LastName", "columnDelimiter": "PIPE", "lineEnding": "CRLF"})
		o.ProcessBulk()
		res := o.do(t, http.MethodGet, queryPath+"/"+q.ID+"/results", nil)
		if !strings.HasPrefix(string(res.body), `"LastName"|"Account.Name"|"Account.NumberOfEmployees"|"CreatedDate"`+"\r\n") {
			t.Errorf("header: got %q", res.body)
		}
		rows := readCSV(t, res.body, '|')
		if len(rows) != 3 || rows[1][1] != "Acme" || rows[1][2] != "12" || rows[2][1] != "" || !strings.HasSuffix(rows[1][3], "Z") {
			t.Errorf("rows: got %q", rows)
		}
	})

	t.Run("columns are alphabetical before 50.0", func(t *testing.T) {
		res := o.do(t, http.MethodPost, "/services/data/v49.0/jobs/query", map[string]any{"operation": "query", "query": "SELECT Name, Id FROM Account"})
		var q jobView
		res.json(t, &q)
		o.ProcessBulk()
		rows := o.table(t, "/services/data/v49.0/jobs/query/"+q.ID+"/results")
		if !slices.Equal(rows[0], []string{"Id", "Name"}) {
			t.Errorf("header: got %q", rows[0])
		}
		res = o.do(t, http.MethodGet, queryPath+"/"+q.ID+"/results", nil)
		if res.status != http.StatusConflict {
			t.Errorf("results in another version: got %d %s, want 409", res.status, res.body)
		}
	})

	t.Run("numeric locators before 49.0", func(t *testing.T) {
		res := o.do(t, http.MethodPost, "/services/data/v48.0/jobs/query", map[string]any{"operation": "query", "query": "SELECT Name FROM Contact"})
		var q jobView
		res.json(t, &q)
		o.ProcessBulk()
		res = o.do(t, http.MethodGet, "/services/data/v48.0/jobs/query/"+q.ID+"/results?maxRecords=1", nil)
		if got := res.header.Get("Sforce-Locator"); got != "1" {
			t.Errorf("Sforce-Locator: got %q, want 1", got)
		}
	})

	t.Run("abort, bad parameters, delete", func(t *testing.T) {
		q := o.createJob(t, queryPath, map[string]any{"operation": "query", "query": "SELECT Id FROM Account"})
		if res := o.setState(t, queryPath, q.ID, "UploadComplete"); res.status != http.StatusBadRequest || res.errorCode(t) != "INVALIDJOBSTATE" {
			t.Errorf("close a query job: got %d %s", res.status, res.body)
		}
		if res := o.setState(t, queryPath, q.ID, "Aborted"); res.status != http.StatusOK || !strings.Contains(string(res.body), `"state":"Aborted"`) {
			t.Errorf("abort: got %d %s", res.status, res.body)
		}
		o.ProcessBulk()
		wantState(t, o.info(t, queryPath, q.ID), "Aborted")
		if res := o.do(t, http.MethodGet, queryPath+"/"+q.ID+"/results", nil); res.status != http.StatusPreconditionFailed || !strings.Contains(string(res.body), "Current status: ABORTED") {
			t.Errorf("results of an aborted job: got %d %s", res.status, res.body)
		}
		done := o.createJob(t, queryPath, map[string]any{"operation": "query", "query": "SELECT Id FROM Account"})
		o.ProcessBulk()
		for _, params := range []string{"?maxRecords=0", "?maxRecords=x", "?locator=%21%21", "?locator=MTAw"} {
			if res := o.do(t, http.MethodGet, queryPath+"/"+done.ID+"/results"+params, nil); res.status != http.StatusBadRequest {
				t.Errorf("%s: got %d %s, want 400", params, res.status, res.body)
			}
		}
		if res := o.do(t, http.MethodDelete, queryPath+"/"+done.ID, nil); res.status != http.StatusNoContent {
			t.Errorf("delete: got %d %s", res.status, res.body)
		}
		if res := o.do(t, http.MethodGet, queryPath+"/"+done.ID+"/results", nil); res.status != http.StatusNotFound {
			t.Errorf("results of a deleted job: got %d", res.status)
		}
	})
}

func TestBulkAdminAndReset(t *testing.T) {
	o := newBulkOrg(t, sforg.Options{})
	job := o.ingest(t, map[string]any{"object": "Account", "operation": "insert"}, accounts(3, nil))
	post := func(body string) map[string]int {
		t.Helper()
		res := send(t, http.MethodPost, o.URL+"/__sforg/bulk/process", "", body)
		if res.status != http.StatusOK {
			t.Fatalf("process: got %d %s", res.status, res.body)
		}
		var out map[string]int
		res.json(t, &out)
		return out
	}
	if got := post(`{"records":2}`); got["processed"] != 2 || got["pending"] != 1 {
		t.Errorf("step 2: got %v", got)
	}
	wantState(t, o.info(t, ingestPath, job.ID), "InProgress")
	if got := post(""); got["processed"] != 1 || got["pending"] != 0 {
		t.Errorf("process: got %v", got)
	}
	wantState(t, o.info(t, ingestPath, job.ID), "JobComplete")
	if res := send(t, http.MethodPost, o.URL+"/__sforg/bulk/process", "", `{"records":-1}`); res.status != http.StatusBadRequest {
		t.Errorf("negative records: got %d", res.status)
	}
	if err := o.Reset(); err != nil {
		t.Fatal(err)
	}
	o.token = login(t, o.Server)
	if res := o.do(t, http.MethodGet, ingestPath+"/"+job.ID, nil); res.status != http.StatusNotFound {
		t.Errorf("after Reset: got %d, want the job gone", res.status)
	}
	if got := o.Counters()["api-calls.bulk"]; got != 1 {
		t.Errorf("api-calls.bulk after Reset and one call: got %d, want 1", got)
	}
}
