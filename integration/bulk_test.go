package integration

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/sfconnect/connector/local/demo/stack"
	"github.com/sfconnect/connector/local/moto"
	"github.com/sfconnect/connector/sforg"
)

// The bulk samples read and write S3: the bucket their s3:// URLs name, in
// moto, with the import sample's CSV in it.

// sampleBucket is the bucket of the bulk samples.
const sampleBucket = "sfconnect-bulk-example"

// bulkStorage starts moto for the samples and returns the variables that
// point the functions' S3 client at it.
func bulkStorage(t *testing.T) map[string]string {
	t.Helper()
	m := moto.StartTest(t)
	if err := m.CreateBucket(t.Context(), sampleBucket); err != nil {
		t.Fatal(err)
	}
	var csv strings.Builder
	csv.WriteString("Name,Industry,AccountNumber\n")
	for i := 1; i <= 25; i++ {
		fmt.Fprintf(&csv, "Sample Import %02d,Energy,\"SI-%02d, main\"\n", i, i)
	}
	if err := m.PutObject(t.Context(), sampleBucket, "import/accounts.csv", []byte(csv.String())); err != nil {
		t.Fatal(err)
	}
	env := m.Env()
	delete(env, "AWS_ENDPOINT_URL_SECRETS_MANAGER") // the samples read no secret
	return env
}

// bulkOutput is the part of a bulk function's output the samples use.
type bulkOutput struct {
	JobID string `json:"jobId"`
}

// runSample invokes a sample as it is and returns its bulk output.
func (f *fixture) runSample(file, fn string) bulkOutput {
	f.t.Helper()
	event, err := stack.Sample(file, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	res, err := f.functions[fn].Invoke(f.t.Context(), event)
	if err != nil || res.Failed() {
		f.t.Fatalf("%s: %v %s %s", file, err, res.ErrorType, res.ErrorMessage)
	}
	var out bulkOutput
	if err := json.Unmarshal(res.Body, &out); err != nil || out.JobID == "" {
		f.t.Fatalf("%s: got %s, want a job", file, res.Body)
	}
	return out
}

// jobInfo checks the JobInfo a bulk sample's salesforceResult holds.
func jobInfo(state string, processed int) func(*testing.T, *sforg.Server, map[string]any, output) {
	return func(t *testing.T, _ *sforg.Server, _ map[string]any, out output) {
		var j struct {
			State     string `json:"state"`
			Processed *int   `json:"numberRecordsProcessed"`
		}
		if err := json.Unmarshal([]byte(out.Result), &j); err != nil {
			t.Fatal(err)
		}
		if j.State != state || (processed > 0 && (j.Processed == nil || *j.Processed != processed)) {
			t.Errorf("got JobInfo %s, want state %s and %d records processed", out.Result, state, processed)
		}
	}
}

// workflowInput is the first Task's input of a bulk workflow: the
// workflow's input with the destination its Prepare state computes.
func workflowInput(kind string) func(t *testing.T, raw []byte) []byte {
	return func(t *testing.T, raw []byte) []byte {
		var in map[string]any
		if err := json.Unmarshal(raw, &in); err != nil {
			t.Fatal(err)
		}
		in["destination"] = "s3://" + sampleBucket + "/bulk/" + kind + "/workflow-sample/"
		return mustJSON(t, in)
	}
}

func init() {
	samples = append(samples,
		sample{file: "bulk-ingest-start.json", fn: "bulk-ingest-start", status: "200", check: jobInfo("UploadComplete", 0)},
		// The same START again finds the job it made: its id is the sample's.
		sample{file: "bulk-job-status.json", fn: "bulk-job-status", status: "200",
			set: func(f *fixture) map[string]any {
				return map[string]any{"jobId": f.runSample("bulk-ingest-start.json", "bulk-ingest-start").JobID}
			}},
		sample{file: "bulk-ingest-finish.json", fn: "bulk-ingest-finish", status: "200",
			set: func(f *fixture) map[string]any {
				id := f.runSample("bulk-ingest-start.json", "bulk-ingest-start").JobID
				f.org.ProcessBulk()
				return map[string]any{"jobId": id}
			},
			check: func(t *testing.T, org *sforg.Server, set map[string]any, out output) {
				jobInfo("JobComplete", 25)(t, org, set, out)
				res, err := org.Store().Query("SELECT Id FROM Account WHERE Name LIKE 'Sample Import%'", false)
				if err != nil || res.TotalSize != 25 {
					t.Errorf("got %v records (%v), want the sample's 25", res, err)
				}
			}},
		sample{file: "bulk-query-start.json", fn: "bulk-query-start", status: "200"},
		sample{file: "bulk-query-finish.json", fn: "bulk-query-finish", status: "200",
			set: func(f *fixture) map[string]any {
				id := f.runSample("bulk-query-start.json", "bulk-query-start").JobID
				f.org.ProcessBulk()
				return map[string]any{"jobId": id}
			},
			check: jobInfo("JobComplete", 0)},
		// The workflows' inputs, as their first Task receives them.
		sample{file: "workflow-bulk-import.json", fn: "bulk-ingest-start", status: "200", event: workflowInput("import")},
		sample{file: "workflow-bulk-export.json", fn: "bulk-query-start", status: "200", event: workflowInput("export")},
	)
}
