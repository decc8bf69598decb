package connector

import (
	"fmt"
	"log/slog"
	"os/exec"
	"strings"
	"testing"

	"github.com/sfconnect/connector/sforg"
	"github.com/sfconnect/connector/shared/blob"
)

// The bulk actions in the table-driven tests (catalogue, fault matrix,
// leaks): their events, over the in-memory store, and what the matrix
// expects of them besides what their kind gives.

// csvAccounts is an import of n Accounts named prefix 00001, prefix 00002...
func csvAccounts(prefix string, n int) []byte {
	b := []byte("Name,AccountNumber\n")
	for i := 1; i <= n; i++ {
		b = fmt.Appendf(b, "%s %05d,A-%05d\n", prefix, i, i)
	}
	return b
}

// memImport puts a one-row CSV into a new bucket of the memory store and
// returns BULK_INGEST_START's event for it.
func memImport(t *testing.T) (event string, dest blob.Location) {
	t.Helper()
	bucket := newMemBucket()
	if err := memory.put(blob.Location{Bucket: bucket, Key: "in/accounts.csv"}, csvAccounts("Bulk Matrix", 1)); err != nil {
		t.Fatal(err)
	}
	dest = blob.Location{Bucket: bucket, Key: "out/"}
	return jsonEvent(t, map[string]any{"SObjectName": "Account", "operation": "insert",
		"source": "s3://" + bucket + "/in/accounts.csv", "destination": dest.String()}), dest
}

// memJob starts an import of one row through the world's connector and
// returns its job id and destination; process runs the job to its end.
func memJob(t *testing.T, w *world, process bool) (string, blob.Location) {
	t.Helper()
	event, dest := memImport(t)
	r := invoke(t, w.conn.Handler(actBulkIngestStart), event)
	mustOK(t, r, "200")
	if process {
		w.org.ProcessBulk()
	}
	return r.JobID, dest
}

// memExport starts a query job through the world's connector, processes it
// and returns its id and destination.
func memExport(t *testing.T, w *world) (string, blob.Location) {
	t.Helper()
	dest := blob.Location{Bucket: newMemBucket(), Key: "export/"}
	r := invoke(t, w.conn.Handler(actBulkQueryStart), jsonEvent(t, map[string]any{"salesforceQuery": "SELECT Id, Name FROM Account", "destination": dest.String()}))
	mustOK(t, r, "200")
	w.org.ProcessBulk()
	return r.JobID, dest
}

// bulkTestEvents are the bulk actions' entries of testEvents. Each names the
// route of the action's first Salesforce call.
func bulkTestEvents() map[string]testEvent {
	return map[string]testEvent{
		"BULK_INGEST_START": {func(t *testing.T, _ *world) string { e, _ := memImport(t); return e }, sforg.RouteBulkIngestCreate},
		"BULK_JOB_STATUS": {func(t *testing.T, w *world) string {
			id, _ := memJob(t, w, false)
			return jsonEvent(t, map[string]any{"jobId": id, "kind": "ingest"})
		}, sforg.RouteBulkIngestInfo},
		"BULK_INGEST_FINISH": {func(t *testing.T, w *world) string {
			id, dest := memJob(t, w, true)
			return jsonEvent(t, map[string]any{"jobId": id, "destination": dest.String(), "part": 1, "last": true})
		}, sforg.RouteBulkIngestInfo},
		"BULK_QUERY_START": {func(t *testing.T, _ *world) string {
			return jsonEvent(t, map[string]any{"salesforceQuery": "SELECT Id, Name FROM Account", "destination": "s3://" + newMemBucket() + "/export/"})
		}, sforg.RouteBulkQueryCreate},
		"BULK_QUERY_FINISH": {func(t *testing.T, w *world) string {
			id, dest := memExport(t, w)
			return jsonEvent(t, map[string]any{"jobId": id, "destination": dest.String()})
		}, sforg.RouteBulkQueryInfo},
	}
}

// bulkExtra counts the requests a bulk action sends after its first, when
// all goes well: the upload and the close of a START, the successful rows of
// a clean import's FINISH, the one result set of a small export.
var bulkExtra = map[string]int64{
	"BULK_INGEST_START": 2, "BULK_JOB_STATUS": 0, "BULK_INGEST_FINISH": 1, "BULK_QUERY_START": 0, "BULK_QUERY_FINISH": 1,
}

func init() {
	for name := range bulkExtra {
		success[name] = "200"
	}
	// The records an import created, once the org processed its closed jobs.
	creations["BULK_INGEST_START"] = func(org *sforg.Server) int {
		org.ProcessBulk()
		return org.Store().Count("Account")
	}
}

// bulkWant is the cell a fault matrix row expects of an action: its kind's,
// with a bulk action's further requests on success, and no record created by
// an import whose job was not closed (a job's records exist only once it is
// closed, which a failed BULK_INGEST_START never does).
func bulkWant(a action, want cell) cell {
	extra, ok := bulkExtra[a.name]
	if !ok {
		return want
	}
	if want.outcome == success[a.name] {
		want.attempts += extra
	} else if a.name == "BULK_INGEST_START" {
		want.created = 0
	}
	return want
}

// bulkWorld is an org whose bulk jobs wait for the test to process them,
// and a connector with S3 in moto (see bulkS3).
func bulkWorld(t *testing.T, bulk sforg.BulkOptions) *world {
	t.Helper()
	bulk.Manual = true
	org, err := sforg.Start(sforg.Options{Bulk: bulk, DailyLimit: 1_000_000})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { org.Close() })
	logs := &syncBuffer{}
	opts := quickOptions(slog.New(slog.NewJSONHandler(logs, nil)))
	opts.Credentials = settingsSource(org.Settings())
	return newWorld(org, opts, logs)
}

// outputOf decodes a successful output's bulk state.
func outputOf(t *testing.T, r result) *Bulk {
	t.Helper()
	if r.Bulk == nil {
		t.Fatalf("got output %+v, want a bulk state", r.Output)
	}
	return r.Bulk
}

// TestS3OnlyInBulkFunctions: a function whose action uses S3 links the S3
// client (its main imports s3blob), and no other function does, so the
// others' bootstraps stay without it.
func TestS3OnlyInBulkFunctions(t *testing.T) {
	for _, a := range Actions() {
		t.Run(a.Function, func(t *testing.T) {
			main := read(t, "functions/"+a.Function+"/main.go")
			if got := strings.Contains(main, `"github.com/sfconnect/connector/shared/blob/s3blob"`); got != a.S3 {
				t.Errorf("functions/%s/main.go imports s3blob: got %v, want %v", a.Function, got, a.S3)
			}
		})
	}
	out, err := exec.Command("go", "list", "-deps", "../../functions/get").Output()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "aws-sdk-go-v2/service/s3\n") {
		t.Errorf("functions/get links the S3 client")
	}
}
