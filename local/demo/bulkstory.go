package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/sfconnect/connector/local/moto"
)

// The story's Bulk API 2.0 round trip: 1,000 Accounts imported from a CSV in
// S3 (moto) and exported back as parts, step by step as the bulk workflows
// take them. The org processes a closed job when the story polls it, as it
// would while the workflow waits.

// bulkBucket is the bucket the bulk samples name.
const (
	bulkBucket  = "sfconnect-bulk-example"
	bulkRecords = 1000
)

// bulkSource puts the import's CSV where events/bulk-ingest-start.json
// looks for it.
func bulkSource(ctx context.Context, m *moto.Server) error {
	if err := m.CreateBucket(ctx, bulkBucket); err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("Name,Industry,AccountNumber\n")
	for i := 1; i <= bulkRecords; i++ {
		fmt.Fprintf(&b, "Bulk Demo %04d,Energy,BD-%04d\n", i, i)
	}
	return m.PutObject(ctx, bulkBucket, "import/accounts.csv", []byte(b.String()))
}

func init() { story = append(story, bulkRoundTrip...) }

var bulkRoundTrip = []step{
	{
		title: "import 1,000 Accounts from S3 (Bulk API 2.0)",
		fn:    "bulk-ingest-start",
		event: sample("bulk-ingest-start.json", nil),
		check: func(s *state, o output) error {
			if err := want(o, "200", nil); err != nil {
				return err
			}
			if o.Bulk == nil || o.State != "UploadComplete" || o.Records == nil || *o.Records != bulkRecords {
				return fmt.Errorf("got %s, want a closed job of %d rows", o.Result, bulkRecords)
			}
			s.importJob = o.JobID
			return nil
		},
	},
	{
		title: "poll the job once the org ran it",
		fn:    "bulk-job-status",
		event: sample("bulk-job-status.json", func(s *state) map[string]any {
			s.process()
			return map[string]any{"jobId": s.importJob}
		}),
		check: finished,
	},
	{
		title: "save its results to S3",
		fn:    "bulk-ingest-finish",
		event: sample("bulk-ingest-finish.json", func(s *state) map[string]any { return map[string]any{"jobId": s.importJob} }),
		check: func(_ *state, o output) error {
			if err := want(o, "200", nil); err != nil {
				return err
			}
			if o.Bulk == nil || o.IngestResults == nil || o.Successful != bulkRecords {
				return fmt.Errorf("got %s, want %d successful rows", o.Result, bulkRecords)
			}
			return nil
		},
	},
	{
		title: "export the Accounts with a query job",
		fn:    "bulk-query-start",
		event: sample("bulk-query-start.json", nil),
		check: func(s *state, o output) error {
			if err := want(o, "200", nil); err != nil {
				return err
			}
			s.exportJob = o.JobID
			return nil
		},
	},
	{
		title: "poll the query job once the org ran it",
		fn:    "bulk-job-status",
		event: sample("bulk-job-status.json", func(s *state) map[string]any {
			s.process()
			return map[string]any{"jobId": s.exportJob, "kind": "query"}
		}),
		check: finished,
	},
	{
		title: "write its results to S3 as parts",
		fn:    "bulk-query-finish",
		event: sample("bulk-query-finish.json", func(s *state) map[string]any { return map[string]any{"jobId": s.exportJob} }),
		check: func(_ *state, o output) error {
			if err := want(o, "200", nil); err != nil {
				return err
			}
			if o.Bulk == nil || o.Finished == nil || !*o.Finished || o.Records == nil || *o.Records < bulkRecords || o.ManifestKey == "" {
				return fmt.Errorf("got %s, want every Account in parts and a manifest", o.Result)
			}
			return nil
		},
	},
}

// bulkNote is a bulk output's job state: the output without
// salesforceResult (the JobInfo shown above it) and the API usage.
func bulkNote(body []byte, verbose bool) string {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return string(body)
	}
	delete(m, "salesforceResult")
	delete(m, "salesforceStatus")
	delete(m, "salesforceApiUsage")
	b, _ := json.Marshal(m)
	return show(b, verbose)
}

// finished checks a BULK_JOB_STATUS output: the job completed.
func finished(_ *state, o output) error {
	if err := want(o, "200", nil); err != nil {
		return err
	}
	if o.Bulk == nil || o.Finished == nil || !*o.Finished || o.State != "JobComplete" {
		return fmt.Errorf("got %s, want the job complete", o.Result)
	}
	return nil
}
