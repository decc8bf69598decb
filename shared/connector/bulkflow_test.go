package connector

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/sfconnect/connector/local/moto"
	"github.com/sfconnect/connector/sforg"
	"github.com/sfconnect/connector/shared/blob/s3blob"
	"github.com/sfconnect/connector/shared/faults"
	"github.com/sfconnect/connector/shared/salesforce"
)

// The bulk actions against the org and S3 in moto, driven as the shipped
// workflows drive them (statemachine/bulk-import.asl.json and
// bulk-export.asl.json): the org processes closed jobs when the test says
// so, where a workflow would wait and poll.

// s3World is a bulk world whose connector reads and writes S3 in moto.
type s3World struct {
	*world
	moto   *moto.Server
	bucket string
}

func newS3World(t *testing.T, bulk sforg.BulkOptions) *s3World {
	t.Helper()
	w := bulkWorld(t, bulk)
	m := moto.StartTest(t)
	w.conn.objectStore.store = s3blob.New(moto.S3(m.URL))
	return &s3World{world: w, moto: m, bucket: moto.NewBucket(t, m, "bulk")}
}

func (w *s3World) put(t *testing.T, key string, data []byte) string {
	t.Helper()
	if err := w.moto.PutObject(t.Context(), w.bucket, key, data); err != nil {
		t.Fatal(err)
	}
	return "s3://" + w.bucket + "/" + key
}

func (w *s3World) get(t *testing.T, url string) []byte {
	t.Helper()
	key := strings.TrimPrefix(url, "s3://"+w.bucket+"/")
	data, err := w.moto.GetObject(t.Context(), w.bucket, key)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func (w *s3World) run(t *testing.T, a *Action, event map[string]any) result {
	t.Helper()
	return invoke(t, w.conn.Handler(*a), jsonEvent(t, event))
}

// importRun is what the import loop saw.
type importRun struct {
	starts   []*Bulk
	finishes []*Bulk
	failure  *result // the error that ended the loop, if any
}

// runImport drives statemachine/bulk-import.asl.json's loop: per part,
// START (retried once on an error, as the workflow's Retry does), the org
// processes the job, STATUS until finished, FINISH; then the next part from
// nextOffset, with the source pinned by its ETag.
func (w *s3World) runImport(t *testing.T, event map[string]any) importRun {
	t.Helper()
	var run importRun
	part, offset, etag := 1, int64(0), ""
	for range 1000 {
		ev := maps.Clone(event)
		ev["part"], ev["offset"] = part, offset
		if etag != "" {
			ev["sourceETag"] = etag
		}
		r := w.run(t, &actBulkIngestStart, ev)
		if r.ErrorType == string(faults.UnknownError) {
			r = w.run(t, &actBulkIngestStart, ev) // the workflow's Retry
		}
		if r.ErrorType != "" || r.SalesforceStatus != "200" {
			run.failure = &r
			return run
		}
		s := outputOf(t, r)
		run.starts = append(run.starts, s)
		w.org.ProcessBulk()
		st := w.run(t, &actBulkJobStatus, map[string]any{"jobId": s.JobID})
		mustOK(t, st, "200")
		if !*outputOf(t, st).Finished {
			t.Fatalf("job %s is %s after processing, want it finished", s.JobID, st.State)
		}
		f := w.run(t, &actBulkIngestFinish, map[string]any{"jobId": s.JobID, "destination": event["destination"], "part": part, "last": *s.Last})
		if f.ErrorType != "" {
			run.failure = &f
			return run
		}
		mustOK(t, f, "200")
		run.finishes = append(run.finishes, outputOf(t, f))
		if *s.Last {
			return run
		}
		part, offset, etag = part+1, *s.NextOffset, s.SourceETag
	}
	t.Fatal("the import did not end")
	return run
}

// names counts the org's Accounts by name among those whose name starts with prefix.
func names(t *testing.T, org *sforg.Server, prefix string) map[string]int {
	t.Helper()
	res, err := org.Store().Query("SELECT Name FROM Account WHERE Name LIKE '"+prefix+"%'", false)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, rec := range res.Records {
		seen[fmt.Sprint(rec.Fields[0].Value)]++
	}
	return seen
}

// wantEachOnce checks that the org holds the n Accounts of csvAccounts(prefix, n), each once.
func wantEachOnce(t *testing.T, org *sforg.Server, prefix string, n int) {
	t.Helper()
	seen := names(t, org, prefix)
	if len(seen) != n {
		t.Errorf("got %d distinct %q Accounts, want %d", len(seen), prefix, n)
	}
	for name, k := range seen {
		if k != 1 {
			t.Errorf("%s: got %d records, want 1", name, k)
		}
	}
}

// csvRows parses a CSV object: its header and rows.
func csvRows(t *testing.T, data []byte) ([]string, [][]string) {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil || len(rows) == 0 {
		t.Fatalf("got %d rows, %v, want a CSV with a header", len(rows), err)
	}
	return rows[0], rows[1:]
}

// TestBulkImport imports 20,000 rows split into several jobs by the upload
// limit, and checks that every row reached Salesforce exactly once and that
// the results in S3 account for every row.
func TestBulkImport(t *testing.T) {
	const n = 20_000
	// The org takes at most 140,000 bytes an upload, as Salesforce measures
	// it (base64): 105,000 bytes of CSV. Parts of 100,000 bytes fit.
	w := newS3World(t, sforg.BulkOptions{MaxUploadBytes: 140_000})
	data := csvAccounts("Bulk Import", n)
	src := w.put(t, "import/accounts.csv", data)
	dest := "s3://" + w.bucket + "/bulk/import/run-1/"
	run := w.runImport(t, map[string]any{"SObjectName": "Account", "operation": "insert", "source": src, "destination": dest, "maxBytesPerJob": 100_000})
	if run.failure != nil {
		t.Fatalf("the import failed: %s %s (%s %s)", run.failure.ErrorType, run.failure.ErrorMessage, run.failure.SalesforceStatus, run.failure.SalesforceResult)
	}
	if len(run.starts) < 5 {
		t.Fatalf("got %d parts, want the 600 KB split into at least 5 jobs", len(run.starts))
	}
	var uploaded int64
	var offset int64
	for i, s := range run.starts {
		if *s.Offset != offset || *s.Bytes > 100_000 {
			t.Errorf("part %d: got offset %d and %d bytes, want offset %d and at most 100,000 bytes", i+1, *s.Offset, *s.Bytes, offset)
		}
		if s.NextOffset != nil {
			offset = *s.NextOffset
		}
		uploaded += *s.Records
	}
	if uploaded != n {
		t.Errorf("got %d rows uploaded, want %d", uploaded, n)
	}
	if got := w.org.Requests(sforg.RouteBulkIngestCreate); got != len(run.starts) {
		t.Errorf("got %d jobs created, want one per part (%d)", got, len(run.starts))
	}
	wantEachOnce(t, w.org, "Bulk Import", n)

	last := run.finishes[len(run.finishes)-1]
	want := IngestTotals{Parts: len(run.starts), Records: n, Successful: n}
	if last.Totals == nil || *last.Totals != want {
		t.Errorf("got totals %+v, want %+v", last.Totals, want)
	}
	ids := map[string]bool{}
	for _, f := range run.finishes {
		header, rows := csvRows(t, w.get(t, f.Files.Successful))
		if header[0] != "sf__Id" || header[1] != "sf__Created" || int64(len(rows)) != f.Successful {
			t.Errorf("part %d: got header %v and %d rows, want sf__Id, sf__Created and %d rows", f.Part, header, len(rows), f.Successful)
		}
		for _, row := range rows {
			ids[row[0]] = true
		}
		if f.Files.Failed != "" || f.Files.Unprocessed != "" || f.Failed != 0 || f.Unprocessed != 0 {
			t.Errorf("part %d: got %+v, want no failed or unprocessed rows, and those sets not read", f.Part, f.IngestResults)
		}
	}
	if len(ids) != n {
		t.Errorf("got %d distinct ids in the successful results, want %d", len(ids), n)
	}
	var manifest ingestManifest
	if err := json.Unmarshal(w.get(t, last.IngestResults.Manifest), &manifest); err != nil || len(manifest.Parts) != len(run.starts) || manifest.Totals != want {
		t.Errorf("got manifest %+v (%v), want %d parts and totals %+v", manifest.Totals, err, len(run.starts), want)
	}
	if len(last.EveryFiles) != len(run.starts) {
		t.Errorf("got %d parts' result files in the output, want %d", len(last.EveryFiles), len(run.starts))
	}
}

// TestBulkUpsert upserts by an external id twice: the second run updates
// every record instead of creating any.
func TestBulkUpsert(t *testing.T) {
	w := newS3World(t, sforg.BulkOptions{})
	defineInvoice(t, w.org)
	var b strings.Builder
	b.WriteString("Invoice_Number__c,Name\n")
	for i := 1; i <= 300; i++ {
		fmt.Fprintf(&b, "INV-%04d,\"Invoice, number %d\"\n", i, i)
	}
	src := w.put(t, "import/invoices.csv", []byte(b.String()))
	for i, wantCreated := range []string{"true", "false"} {
		dest := fmt.Sprintf("s3://%s/bulk/upsert/run-%d/", w.bucket, i+1)
		run := w.runImport(t, map[string]any{"SObjectName": "Invoice__c", "operation": "upsert", "externalIdField": "Invoice_Number__c", "source": src, "destination": dest})
		if run.failure != nil || len(run.finishes) != 1 {
			t.Fatalf("run %d: got %+v, want one part", i+1, run.failure)
		}
		_, rows := csvRows(t, w.get(t, run.finishes[0].Files.Successful))
		for _, row := range rows {
			if row[1] != wantCreated {
				t.Fatalf("run %d: got sf__Created %s, want %s", i+1, row[1], wantCreated)
			}
		}
		if len(rows) != 300 {
			t.Errorf("run %d: got %d successful rows, want 300", i+1, len(rows))
		}
	}
	if got := w.org.Store().Count("Invoice__c"); got != 300 {
		t.Errorf("got %d invoices, want 300", got)
	}
}

// TestBulkExport exports 20,000 records in parts of 3,000 (7 result sets),
// two parts an invocation, and checks that the parts hold every record once.
func TestBulkExport(t *testing.T) {
	const n = 20_000
	w := newS3World(t, sforg.BulkOptions{})
	want := map[string]bool{}
	for i := range n {
		id, err := w.org.Store().Insert("Account", map[string]any{"Name": fmt.Sprintf("Bulk Export %05d", i)})
		if err != nil {
			t.Fatal(err)
		}
		want[id] = true
	}
	dest := "s3://" + w.bucket + "/bulk/export/run-1/"
	soql := "SELECT Id, Name FROM Account WHERE Name LIKE 'Bulk Export%'"
	r := w.run(t, &actBulkQueryStart, map[string]any{"salesforceQuery": soql, "destination": dest})
	mustOK(t, r, "200")
	id := outputOf(t, r).JobID
	w.org.ProcessBulk()
	st := w.run(t, &actBulkJobStatus, map[string]any{"jobId": id, "kind": "query"})
	mustOK(t, st, "200")
	if !*outputOf(t, st).Finished || st.State != salesforce.JobComplete || *st.RecordsProcessed != n {
		t.Fatalf("got %+v, want a finished job of %d records", st.Bulk, n)
	}
	event := map[string]any{"jobId": id, "destination": dest, "recordsPerPart": 3000, "maxParts": 2}
	var out *Bulk
	invocations := 0
	for out == nil || !*out.Finished {
		f := w.run(t, &actBulkQueryFinish, event)
		mustOK(t, f, "200")
		out = outputOf(t, f)
		invocations++
		if invocations > 10 {
			t.Fatal("the export did not end")
		}
		if !*out.Finished {
			event["locator"], event["part"] = *out.Locator, out.NextPart
		}
	}
	if invocations != 4 || *out.Parts != 7 || *out.Records != n || len(out.PartKeys) != 7 {
		t.Errorf("got %d invocations, %d parts (%d keys), %d records, want 4, 7 and %d", invocations, *out.Parts, len(out.PartKeys), *out.Records, n)
	}
	if got := w.org.Requests(sforg.RouteBulkQueryResults); got != 7 {
		t.Errorf("got %d result sets read, want 7", got)
	}
	seen := map[string]int{}
	for _, key := range out.PartKeys {
		header, rows := csvRows(t, w.get(t, "s3://"+out.Bucket+"/"+key))
		if strings.Join(header, ",") != "Id,Name" || len(rows) > 3000 {
			t.Errorf("%s: got header %v and %d rows, want Id,Name and at most 3,000", key, header, len(rows))
		}
		for _, row := range rows {
			seen[row[0]]++
		}
	}
	if len(seen) != n {
		t.Errorf("got %d distinct ids in the parts, want %d", len(seen), n)
	}
	for id, k := range seen {
		if k != 1 || !want[id] {
			t.Errorf("%s: seen %d times, in the org %v; want once, an exported Account", id, k, want[id])
		}
	}
	var items []exportPart
	if err := json.Unmarshal(w.get(t, "s3://"+out.Bucket+"/"+out.ManifestKey), &items); err != nil || len(items) != 7 {
		t.Fatalf("got manifest %v (%v), want 7 items", items, err)
	}
	var total int64
	for i, it := range items {
		total += it.Records
		if it.Bucket != w.bucket || it.Key != out.PartKeys[i] || it.Part != i+1 {
			t.Errorf("item %d: got %+v, want part %d at %s", i, it, i+1, out.PartKeys[i])
		}
	}
	if total != n {
		t.Errorf("got %d records in the manifest, want %d", total, n)
	}
}

// TestBulkImportRefusals: inputs that cannot make a correct import are typed
// errors before any job exists, and nothing is created.
func TestBulkImportRefusals(t *testing.T) {
	w := newS3World(t, sforg.BulkOptions{})
	good := w.put(t, "import/good.csv", csvAccounts("Refused", 3))
	dest := "s3://" + w.bucket + "/bulk/refusals/"
	for _, tc := range []struct {
		name  string
		data  string // the source's content; "" for the good one
		event map[string]any
		code  faults.Code
		text  string
	}{
		{name: "a bare quote", data: "Name,AccountNumber\nAc\"me,1\n", code: faults.InvalidInput, text: "not valid CSV"},
		{name: "an unterminated quote", data: "Name,AccountNumber\n\"Acme,1\n", code: faults.InvalidInput, text: "not valid CSV"},
		{name: "a row with too many values", data: "Name,AccountNumber\nAcme,1,extra\n", code: faults.InvalidInput, text: "wrong number of fields"},
		{name: "a header and no rows", data: "Name,AccountNumber\n", code: faults.InvalidInput, text: "no rows"},
		{name: "an empty object", data: "\n", code: faults.InvalidInput, text: ""},
		{name: "a missing object", event: map[string]any{"source": "s3://" + w.bucket + "/import/missing.csv"}, code: faults.InvalidInput, text: "no such object"},
		{name: "a bucket that does not exist", event: map[string]any{"source": "s3://sfconnect-no-such-bucket/import/a.csv"}, code: faults.InvalidInput, text: "bucket does not exist"},
		{name: "a destination bucket that does not exist", event: map[string]any{"destination": "s3://sfconnect-no-such-bucket/out/"}, code: faults.InvalidInput, text: "bucket does not exist"},
		{name: "not an s3 URL", event: map[string]any{"source": "https://example.com/a.csv"}, code: faults.InvalidInput, text: "s3://"},
		{name: "a destination that is not a prefix", event: map[string]any{"destination": "s3://" + w.bucket + "/out"}, code: faults.InvalidInput, text: "must end with /"},
		{name: "an unknown operation", event: map[string]any{"operation": "merge"}, code: faults.InvalidInput, text: "operation"},
		{name: "upsert without externalIdField", event: map[string]any{"operation": "upsert"}, code: faults.MissingInput, text: "externalIdField"},
		{name: "a part too large for one row", event: map[string]any{"maxBytesPerJob": 1024}, data: "Name,AccountNumber\n" + strings.Repeat("x", 2000) + ",1\n", code: faults.InvalidInput, text: "does not fit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := good
			if tc.data != "" {
				src = w.put(t, "import/"+strings.ReplaceAll(tc.name, " ", "-")+".csv", []byte(tc.data))
			}
			event := map[string]any{"SObjectName": "Account", "operation": "insert", "source": src,
				"destination": dest + strings.ReplaceAll(tc.name, " ", "-") + "/"}
			maps.Copy(event, tc.event)
			before := w.org.Requests(sforg.RouteBulkIngestCreate)
			r := w.run(t, &actBulkIngestStart, event)
			wantError(t, r, tc.code, tc.text)
			if got := w.org.Requests(sforg.RouteBulkIngestCreate) - before; got != 0 {
				t.Errorf("got %d jobs created, want none", got)
			}
		})
	}
	t.Run("an object Salesforce does not know", func(t *testing.T) {
		r := w.run(t, &actBulkIngestStart, map[string]any{"SObjectName": "Nope__c", "operation": "insert", "source": good, "destination": dest + "nope/"})
		mustOK(t, r, "400")
		if !strings.Contains(r.SalesforceResult, "INVALIDENTITY") {
			t.Errorf("got %s, want Salesforce's INVALIDENTITY", r.SalesforceResult)
		}
	})
	if got := names(t, w.org, "Refused"); len(got) != 0 {
		t.Errorf("got Accounts %v, want none of the refused imports'", got)
	}
}

// TestBulkJobsThatDoNotComplete: an aborted or failed job is UNKNOWN_ERROR
// with Salesforce's reason, once its results are in S3: every row is in one
// of them.
func TestBulkJobsThatDoNotComplete(t *testing.T) {
	t.Run("ingest job aborted by someone else", func(t *testing.T) {
		w := newS3World(t, sforg.BulkOptions{})
		src := w.put(t, "import/a.csv", csvAccounts("Aborted", 50))
		dest := "s3://" + w.bucket + "/bulk/aborted/"
		r := w.run(t, &actBulkIngestStart, map[string]any{"SObjectName": "Account", "operation": "insert", "source": src, "destination": dest})
		mustOK(t, r, "200")
		w.org.StepBulk(20) // 20 rows done, then the job is aborted
		if resp, err := w.conn.client.SetJobState(t.Context(), salesforce.BulkIngest, r.JobID, salesforce.JobAborted); err != nil || resp.Status != 200 {
			t.Fatalf("abort: %v %v", resp, err)
		}
		early := w.run(t, &actBulkJobStatus, map[string]any{"jobId": r.JobID})
		mustOK(t, early, "200")
		if !*early.Finished || early.State != salesforce.JobAborted {
			t.Fatalf("got %+v, want a finished Aborted job", early.Bulk)
		}
		f := w.run(t, &actBulkIngestFinish, map[string]any{"jobId": r.JobID, "destination": dest, "last": true})
		wantError(t, f, faults.UnknownError, "ended Aborted")
		_, done := csvRows(t, w.get(t, dest+"part-00001/successful.csv"))
		_, left := csvRows(t, w.get(t, dest+"part-00001/unprocessed.csv"))
		if len(done) != 20 || len(left) != 30 {
			t.Errorf("got %d successful and %d unprocessed rows, want 20 and 30", len(done), len(left))
		}
		if got := len(names(t, w.org, "Aborted")); got != 20 {
			t.Errorf("got %d records, want the 20 processed before the abort", got)
		}
	})
	t.Run("ingest job failed on the daily record allocation", func(t *testing.T) {
		const n = 25_000
		w := newS3World(t, sforg.BulkOptions{RecordsPerDay: 15_000})
		src := w.put(t, "import/a.csv", csvAccounts("Quota", n))
		dest := "s3://" + w.bucket + "/bulk/quota/"
		run := w.runImport(t, map[string]any{"SObjectName": "Account", "operation": "insert", "source": src, "destination": dest})
		if run.failure == nil {
			t.Fatal("got no error, want the failed job's")
		}
		wantError(t, *run.failure, faults.UnknownError, "ExceededQuota")
		var m ingestManifest
		if err := json.Unmarshal(w.get(t, dest+"manifest.json"), &m); err != nil {
			t.Fatal(err)
		}
		if got := m.Totals.Successful + m.Totals.Failed + m.Totals.Unprocessed; got != n || m.Totals.Unprocessed == 0 {
			t.Errorf("got %+v, want every one of %d rows in a result set, some unprocessed", m.Totals, n)
		}
		if got := int64(len(names(t, w.org, "Quota"))); got != m.Totals.Successful {
			t.Errorf("got %d records, want the %d successful rows", got, m.Totals.Successful)
		}
	})
	t.Run("query job aborted", func(t *testing.T) {
		w := newS3World(t, sforg.BulkOptions{})
		dest := "s3://" + w.bucket + "/bulk/query-aborted/"
		r := w.run(t, &actBulkQueryStart, map[string]any{"salesforceQuery": "SELECT Id FROM Account", "destination": dest})
		mustOK(t, r, "200")
		finishEarly := w.run(t, &actBulkQueryFinish, map[string]any{"jobId": r.JobID, "destination": dest})
		wantError(t, finishEarly, faults.InvalidInput, "once BULK_JOB_STATUS says finished")
		if resp, err := w.conn.client.SetJobState(t.Context(), salesforce.BulkQuery, r.JobID, salesforce.JobAborted); err != nil || resp.Status != 200 {
			t.Fatalf("abort: %v %v", resp, err)
		}
		f := w.run(t, &actBulkQueryFinish, map[string]any{"jobId": r.JobID, "destination": dest})
		wantError(t, f, faults.UnknownError, "ended Aborted")
	})
}

// TestBulkRetriesNeverDuplicate loses each write's answer once (the org did
// the work), and re-runs whole steps as a workflow's Retry would: every row
// still reaches Salesforce exactly once, and an export's parts hold every
// record once.
func TestBulkRetriesNeverDuplicate(t *testing.T) {
	const n = 3000
	for _, tc := range []struct {
		name  string
		fault sforg.Fault
	}{
		{"job create answer lost", sforg.Fault{Route: sforg.RouteBulkIngestCreate, Kind: sforg.FaultDropAfter, Times: 1}},
		{"upload answer lost", sforg.Fault{Route: sforg.RouteBulkIngestUpload, Kind: sforg.FaultDropAfter, Times: 1}},
		{"upload refused with a 503", sforg.Fault{Route: sforg.RouteBulkIngestUpload, Kind: sforg.FaultStatus, Status: 503, Times: 1}},
		{"close answer lost", sforg.Fault{Route: sforg.RouteBulkIngestState, Kind: sforg.FaultDropAfter, Times: 1}},
		{"result set answer lost", sforg.Fault{Route: sforg.RouteBulkIngestResults, Kind: sforg.FaultDropAfter, Times: 1}},
	} {
		t.Run("import/"+tc.name, func(t *testing.T) {
			w := newS3World(t, sforg.BulkOptions{})
			src := w.put(t, "import/a.csv", csvAccounts("Retry", n))
			mustInject(t, w.org, tc.fault)
			run := w.runImport(t, map[string]any{"SObjectName": "Account", "operation": "insert", "source": src,
				"destination": "s3://" + w.bucket + "/bulk/retry/", "maxBytesPerJob": 40_000})
			if run.failure != nil {
				t.Fatalf("got %s %s, want the import to recover", run.failure.ErrorType, run.failure.ErrorMessage)
			}
			if len(w.org.Faults()) != 0 {
				t.Fatal("the fault never fired")
			}
			wantEachOnce(t, w.org, "Retry", n)
			last := run.finishes[len(run.finishes)-1]
			if last.Totals.Successful != n || last.Totals.Records != n {
				t.Errorf("got totals %+v, want %d rows uploaded and successful", last.Totals, n)
			}
		})
	}
	t.Run("import/a step retried after it succeeded", func(t *testing.T) {
		w := newS3World(t, sforg.BulkOptions{})
		src := w.put(t, "import/a.csv", csvAccounts("Again", 100))
		event := map[string]any{"SObjectName": "Account", "operation": "insert", "source": src, "destination": "s3://" + w.bucket + "/bulk/again/"}
		first := w.run(t, &actBulkIngestStart, event)
		mustOK(t, first, "200")
		again := w.run(t, &actBulkIngestStart, event)
		mustOK(t, again, "200")
		if again.JobID != first.JobID || w.org.Requests(sforg.RouteBulkIngestCreate) != 1 {
			t.Errorf("got job %s after %s and %d jobs created, want the same job and one", again.JobID, first.JobID, w.org.Requests(sforg.RouteBulkIngestCreate))
		}
		other := maps.Clone(event)
		other["operation"] = "update"
		wantError(t, w.run(t, &actBulkIngestStart, other), faults.InvalidInput, "another import")
		w.org.ProcessBulk()
		wantEachOnce(t, w.org, "Again", 100)
	})
	for _, tc := range []struct {
		name  string
		fault sforg.Fault
	}{
		{"query job create answer lost", sforg.Fault{Route: sforg.RouteBulkQueryCreate, Kind: sforg.FaultDropAfter, Times: 1}},
		{"result set answer lost", sforg.Fault{Route: sforg.RouteBulkQueryResults, Kind: sforg.FaultDropAfter, Times: 1}},
	} {
		t.Run("export/"+tc.name, func(t *testing.T) {
			w := newS3World(t, sforg.BulkOptions{})
			for i := range n {
				if _, err := w.org.Store().Insert("Account", map[string]any{"Name": fmt.Sprintf("Export Retry %05d", i)}); err != nil {
					t.Fatal(err)
				}
			}
			mustInject(t, w.org, tc.fault)
			dest := "s3://" + w.bucket + "/bulk/export-retry/"
			event := map[string]any{"salesforceQuery": "SELECT Id FROM Account WHERE Name LIKE 'Export Retry%'", "destination": dest}
			r := w.run(t, &actBulkQueryStart, event)
			if r.ErrorType == string(faults.UnknownError) {
				r = w.run(t, &actBulkQueryStart, event) // the workflow's Retry
			}
			mustOK(t, r, "200")
			w.org.ProcessBulk()
			f := w.run(t, &actBulkQueryFinish, map[string]any{"jobId": r.JobID, "destination": dest, "recordsPerPart": 1000})
			mustOK(t, f, "200")
			if len(w.org.Faults()) != 0 {
				t.Fatal("the fault never fired")
			}
			seen := map[string]int{}
			for _, key := range f.PartKeys {
				_, rows := csvRows(t, w.get(t, "s3://"+f.Bucket+"/"+key))
				for _, row := range rows {
					seen[row[0]]++
				}
			}
			if len(seen) != n || *f.Records != n {
				t.Errorf("got %d distinct ids, %d records counted, want %d", len(seen), *f.Records, n)
			}
			for id, k := range seen {
				if k != 1 {
					t.Errorf("%s: seen %d times", id, k)
				}
			}
		})
	}
}

// TestBulkExportManyParts: when the parts' keys do not fit the output, the
// output carries the manifest's key alone.
func TestBulkExportManyParts(t *testing.T) {
	w := newS3World(t, sforg.BulkOptions{})
	w.conn.budget = 4096
	for i := range 300 {
		if _, err := w.org.Store().Insert("Account", map[string]any{"Name": fmt.Sprintf("Many %03d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	dest := "s3://" + w.bucket + "/bulk/" + strings.Repeat("long-prefix/", 4)
	r := w.run(t, &actBulkQueryStart, map[string]any{"salesforceQuery": "SELECT Id FROM Account WHERE Name LIKE 'Many%'", "destination": dest})
	mustOK(t, r, "200")
	w.org.ProcessBulk()
	f := w.run(t, &actBulkQueryFinish, map[string]any{"jobId": r.JobID, "destination": dest, "recordsPerPart": 3})
	mustOK(t, f, "200")
	if *f.Parts != 100 || f.PartKeys != nil || f.ManifestKey == "" {
		t.Fatalf("got %d parts, %d keys, manifest %q; want 100 parts, no keys, the manifest", *f.Parts, len(f.PartKeys), f.ManifestKey)
	}
	var items []exportPart
	if err := json.Unmarshal(w.get(t, "s3://"+f.Bucket+"/"+f.ManifestKey), &items); err != nil || len(items) != 100 {
		t.Errorf("got %d items (%v), want 100", len(items), err)
	}
}

// TestBulkImportFailedRows: rows Salesforce refuses are the failed result
// set, each with its error; the job still completes.
func TestBulkImportFailedRows(t *testing.T) {
	w := newS3World(t, sforg.BulkOptions{})
	src := w.put(t, "import/some-bad.csv", []byte("Name,AccountNumber\nGood 1,1\n,2\nGood 3,3\n,4\n"))
	run := w.runImport(t, map[string]any{"SObjectName": "Account", "operation": "insert", "source": src, "destination": "s3://" + w.bucket + "/bulk/failed/"})
	if run.failure != nil {
		t.Fatalf("got %s %s, want the import to complete", run.failure.ErrorType, run.failure.ErrorMessage)
	}
	f := run.finishes[0]
	if f.Successful != 2 || f.Failed != 2 || f.Unprocessed != 0 || f.Files.Unprocessed != "" {
		t.Fatalf("got %+v, want 2 successful, 2 failed and no unprocessed set", f.IngestResults)
	}
	// API 45.0: sf__Error first (sf__Id joins it from 53.0), then the columns as uploaded.
	header, rows := csvRows(t, w.get(t, f.Files.Failed))
	if strings.Join(header, ",") != "sf__Error,Name,AccountNumber" || len(rows) != 2 ||
		!strings.Contains(rows[0][0], "REQUIRED_FIELD_MISSING") || rows[0][2] != "2" || rows[1][2] != "4" {
		t.Errorf("got %v %v, want the two rows without a Name, with REQUIRED_FIELD_MISSING", header, rows)
	}
}

// TestBulkImportDelimiter: a source with another delimiter is uploaded as is,
// and its result sets, which use the job's delimiter, are counted right.
func TestBulkImportDelimiter(t *testing.T) {
	w := newS3World(t, sforg.BulkOptions{})
	src := w.put(t, "import/pipes.csv", []byte("Name|AccountNumber\r\n\"Pipe, Inc.\"|1\r\n\"Two \"\"quoted\"\" words\"|2\r\n|3\r\n"))
	run := w.runImport(t, map[string]any{"SObjectName": "Account", "operation": "insert", "source": src,
		"destination": "s3://" + w.bucket + "/bulk/pipes/", "columnDelimiter": "PIPE"})
	if run.failure != nil {
		t.Fatalf("got %s %s (%s), want the import to complete", run.failure.ErrorType, run.failure.ErrorMessage, run.failure.SalesforceResult)
	}
	if f := run.finishes[0]; f.Successful != 2 || f.Failed != 1 {
		t.Errorf("got %+v, want 2 successful rows and 1 failed", f.IngestResults)
	}
	if got := names(t, w.org, "Two \"quoted\" words"); len(got) != 1 {
		t.Errorf("got %v, want the quoted name as one value", got)
	}
}
