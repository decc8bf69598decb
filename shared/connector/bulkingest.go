package connector

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/sfconnect/connector/shared/blob"
	"github.com/sfconnect/connector/shared/faults"
	"github.com/sfconnect/connector/shared/salesforce"
	"github.com/sfconnect/connector/shared/sfid"
)

// An import splits its CSV object into parts, one ingest job each, by the
// upload limit of a job (maxJobBytes, smaller with maxBytesPerJob). Part n's
// job is written down in <destination>part-0000n/job.json before its data is
// uploaded, and marked uploaded before the job is closed:
//
//   - no record reaches Salesforce before the close, so a job that was
//     created but not closed holds nothing: a retried BULK_INGEST_START
//     aborts it (when it is still Open) and starts the part again in a new
//     job;
//   - once the upload was accepted, a retry only closes the recorded job (if
//     the close did not land) and never creates another: each part's rows
//     are sent to Salesforce in exactly one closed job.
//
// BULK_INGEST_FINISH writes the job's three result sets next to it, and the
// last part writes <destination>manifest.json, the import's totals and every
// part's results.

// ingestPart is a part's job.json.
type ingestPart struct {
	Part       int    `json:"part"`
	JobID      string `json:"jobId,omitempty"`
	Source     string `json:"source"`
	SourceETag string `json:"sourceETag,omitempty"`
	Object     string `json:"object"`
	Operation  string `json:"operation"`
	Delimiter  string `json:"columnDelimiter,omitempty"` // the job's, which its result sets use too
	Offset     int64  `json:"offset"`
	End        int64  `json:"end,omitempty"`
	Last       bool   `json:"last,omitempty"`
	Records    int64  `json:"records,omitempty"`
	Bytes      int64  `json:"bytes,omitempty"`
	// Uploaded: Salesforce accepted the part's data; closing the job is all
	// that is left, and no other job may carry the part.
	Uploaded bool `json:"uploaded,omitempty"`

	// Written by BULK_INGEST_FINISH.
	State   string         `json:"state,omitempty"`
	Results *IngestResults `json:"results,omitempty"`
}

// IngestResults is what BULK_INGEST_FINISH wrote: the part's rows counted in
// each result set and where the sets are; after the last part, the
// import's totals and its manifest.
type IngestResults struct {
	Successful  int64        `json:"successful"`
	Failed      int64        `json:"failed"`
	Unprocessed int64        `json:"unprocessed"`
	Files       *ResultFiles `json:"results,omitempty"`

	Totals     *IngestTotals `json:"totals,omitempty"`
	Manifest   string        `json:"manifest,omitempty"`
	EveryFiles []ResultFiles `json:"allResults,omitempty"` // every part's, when they fit the output
}

// ResultFiles are a part's result sets in S3: a set that cannot hold a row
// is not read from Salesforce, and has no object (see resultSets).
type ResultFiles struct {
	Part        int    `json:"part"`
	Successful  string `json:"successful,omitempty"`
	Failed      string `json:"failed,omitempty"`
	Unprocessed string `json:"unprocessed,omitempty"`
}

// IngestTotals sums an import's parts.
type IngestTotals struct {
	Parts       int   `json:"parts"`
	Records     int64 `json:"records"` // rows uploaded
	Successful  int64 `json:"successful"`
	Failed      int64 `json:"failed"`
	Unprocessed int64 `json:"unprocessed"`
}

// ingestManifest is <destination>manifest.json.
type ingestManifest struct {
	Source    string       `json:"source"`
	Object    string       `json:"object"`
	Operation string       `json:"operation"`
	Totals    IngestTotals `json:"totals"`
	Parts     []ingestPart `json:"parts"`
}

var ingestOperations = []string{"insert", "update", "upsert", "delete", "hardDelete"}

// ingestArgs are BULK_INGEST_START's inputs, validated.
type ingestArgs struct {
	object, operation, externalID string
	source, dest                  blob.Location
	part                          int
	offset                        int64
	etag                          string
	maxBytes                      int64
	delimiter                     string
}

func (in *input) ingestArgs() (a ingestArgs, err error) {
	if a.object, err = in.objectName(); err != nil {
		return a, err
	}
	if a.operation, err = choice(in.Operation, "operation", "", ingestOperations...); err != nil {
		return a, err
	}
	if a.operation == "" {
		return a, faults.New(faults.MissingInput, "operation is required: one of %s", strings.Join(ingestOperations, ", "))
	}
	if a.operation == "upsert" || !isAbsent(in.ExternalIDField) {
		if a.externalID, err = in.externalIDField(); err != nil {
			return a, err
		}
	}
	src, err := text(in.Source, "source")
	if err != nil {
		return a, err
	}
	if a.source, err = blob.ParseObject("source", src); err != nil {
		return a, err
	}
	if a.dest, err = in.destination(); err != nil {
		return a, err
	}
	part, set, err := count(in.Part, "part", 1, 1_000_000)
	if err != nil {
		return a, err
	}
	a.part = 1
	if set {
		a.part = part
	}
	off, _, err := count(in.Offset, "offset", 0, 1<<53)
	if err != nil {
		return a, err
	}
	a.offset = int64(off)
	if !isAbsent(in.SourceETag) {
		if a.etag, err = text(in.SourceETag, "sourceETag"); err != nil {
			return a, err
		}
	}
	maxBytes, set, err := count(in.MaxBytesPerJob, "maxBytesPerJob", minJobBytes, maxJobBytes)
	if err != nil {
		return a, err
	}
	a.maxBytes = maxJobBytes
	if set {
		a.maxBytes = int64(maxBytes)
	}
	a.delimiter, err = choice(in.ColumnDelimiter, "columnDelimiter", "COMMA", slices.Sorted(maps.Keys(delimiters))...)
	return a, err
}

// same reports whether a part's job.json belongs to the import of a.
func (p *ingestPart) same(a ingestArgs) bool {
	return p.Part == a.part && p.Source == a.source.String() && p.Object == a.object && p.Operation == a.operation && p.Offset == a.offset
}

// ingestStart is BULK_INGEST_START: the job of one part, created, given
// the part's rows and closed; or the job a previous attempt recorded.
func ingestStart(c *Connector, ctx context.Context, in *input) (*salesforce.Response, *Bulk, error) {
	a, err := in.ingestArgs()
	if err != nil {
		return nil, nil, err
	}
	store, err := c.objects()
	if err != nil {
		return nil, nil, err
	}
	dir := a.dest.Join(partName(a.part) + "/")
	trackLoc := dir.Join("job.json")
	var track ingestPart
	found, err := loadJSON(ctx, store, trackLoc, &track)
	if err != nil {
		return nil, nil, err
	}
	if found && !track.same(a) {
		return nil, nil, faults.New(faults.InvalidInput, "%s records part %d of another import (%s from byte %d): choose another destination",
			trackLoc, track.Part, track.Source, track.Offset)
	}
	if found && track.JobID != "" {
		resp, b, done, err := c.resume(ctx, &track)
		if done || err != nil {
			return resp, b, err
		}
	}
	if !found {
		// Written first, so that a destination the function cannot write to
		// fails before anything is sent to Salesforce.
		track = ingestPart{Part: a.part, Source: a.source.String(), Object: a.object, Operation: a.operation, Offset: a.offset, Delimiter: a.delimiter}
		if err := saveJSON(ctx, store, trackLoc, track); err != nil {
			return nil, nil, err
		}
	}
	p, err := planPart(ctx, store, a.source, a.etag, a.offset, a.maxBytes, delimiters[a.delimiter])
	if err != nil {
		return nil, nil, err
	}
	resp, err := c.client.CreateIngestJob(ctx, salesforce.IngestJob{Object: a.object, Operation: a.operation,
		ExternalIDFieldName: a.externalID, ContentType: "CSV", ColumnDelimiter: a.delimiter, LineEnding: p.lineEnding})
	if err != nil || !statusIs(resp, http.StatusOK) {
		return resp, nil, err
	}
	j, err := jobState(resp)
	if err != nil {
		return nil, nil, err
	}
	if !sfid.Valid(j.ID) {
		return nil, nil, faults.New(faults.UnknownError, "Salesforce's job id %s is not an id", quote(j.ID))
	}
	track.JobID, track.SourceETag, track.End, track.Last, track.Records, track.Bytes = j.ID, p.etag, p.end, p.last, p.rows, p.size()
	track.Delimiter = a.delimiter
	if err := saveJSON(ctx, store, trackLoc, track); err != nil {
		return nil, nil, c.abandon(ctx, j.ID, err)
	}
	up := &upload{ctx: ctx, store: store, src: a.source, p: p}
	resp, err = c.client.UploadJobData(ctx, j.ID, up.open)
	if ferr := up.failure(); ferr != nil && err != nil {
		err = ferr // S3 failed, not the connection
	}
	if err != nil {
		return nil, nil, c.abandon(ctx, j.ID, err)
	}
	if !statusIs(resp, http.StatusCreated) {
		return resp, nil, c.abandon(ctx, j.ID, nil)
	}
	track.Uploaded = true
	if err := saveJSON(ctx, store, trackLoc, track); err != nil {
		return nil, nil, c.abandon(ctx, j.ID, err)
	}
	return c.closeJob(ctx, &track)
}

// resume takes up the job a previous attempt recorded for a part. done says
// the answer is the step's: the job was uploaded (and is closed now);
// otherwise the job is abandoned and the caller starts the part afresh.
func (c *Connector) resume(ctx context.Context, track *ingestPart) (*salesforce.Response, *Bulk, bool, error) {
	resp, err := c.client.GetJob(ctx, salesforce.BulkIngest, track.JobID)
	if err != nil {
		return nil, nil, true, err
	}
	if !statusIs(resp, http.StatusOK) {
		if track.Uploaded || resp.Status != http.StatusNotFound {
			return resp, nil, true, nil
		}
		return nil, nil, false, nil // deleted before it was uploaded: start again
	}
	j, err := jobState(resp)
	if err != nil {
		return nil, nil, true, err
	}
	switch {
	case track.Uploaded && j.State == salesforce.JobOpen:
		resp, b, err := c.closeJob(ctx, track)
		return resp, b, true, err
	case track.Uploaded:
		return resp, startOutput(track, j.State), true, nil
	case j.State == salesforce.JobOpen:
		// Its upload may or may not have landed: it is never closed.
		if resp, err := c.client.SetJobState(ctx, salesforce.BulkIngest, track.JobID, salesforce.JobAborted); err != nil {
			return nil, nil, true, err
		} else if !statusIs(resp, http.StatusOK) {
			return resp, nil, true, nil
		}
	case j.State != salesforce.JobAborted && j.State != salesforce.JobFailed:
		return nil, nil, true, faults.New(faults.UnknownError,
			"Bulk API job %s of part %d is %s although its upload was never confirmed: it was closed outside this import; check its results before importing the part again",
			track.JobID, track.Part, j.State)
	}
	return nil, nil, false, nil
}

// closeJob closes a part's job whose data was uploaded. A close whose answer
// was lost is sent again (it is a PATCH) and meets a job that is no longer
// Open: the job's own state then says whether it was closed.
func (c *Connector) closeJob(ctx context.Context, track *ingestPart) (*salesforce.Response, *Bulk, error) {
	resp, err := c.client.SetJobState(ctx, salesforce.BulkIngest, track.JobID, salesforce.JobUploadComplete)
	if err != nil {
		return nil, nil, err
	}
	if statusIs(resp, http.StatusOK) {
		j, err := jobState(resp)
		if err != nil {
			return nil, nil, err
		}
		return resp, startOutput(track, j.State), nil
	}
	info, err := c.client.GetJob(ctx, salesforce.BulkIngest, track.JobID)
	if err != nil || !statusIs(info, http.StatusOK) {
		return resp, nil, err
	}
	if j, err := jobState(info); err == nil && j.State != salesforce.JobOpen {
		return info, startOutput(track, j.State), nil
	}
	return resp, nil, nil
}

// abandon aborts a job whose upload failed or was refused, so that it never
// runs, and returns err. An abort that fails leaves an Open job, which
// processes nothing and which Salesforce fails after a day.
func (c *Connector) abandon(ctx context.Context, id string, err error) error {
	if ctx.Err() == nil {
		if _, aerr := c.client.SetJobState(ctx, salesforce.BulkIngest, id, salesforce.JobAborted); aerr != nil {
			c.log.Warn("bulk: cannot abort a job whose upload failed", "jobId", id, "error", faults.MessageOf(aerr))
		}
	}
	return err
}

// startOutput is BULK_INGEST_START's bulk state.
func startOutput(track *ingestPart, state string) *Bulk {
	b := &Bulk{JobID: track.JobID, State: state, Part: track.Part, Offset: ptr(track.Offset), Last: ptr(track.Last),
		Records: ptr(track.Records), Bytes: ptr(track.Bytes), SourceETag: track.SourceETag}
	if !track.Last {
		b.NextOffset = ptr(track.End)
	}
	return b
}

// resultSets are an ingest job's result resources, the objects they are
// written to, and when a finished job's set can hold rows at all: each read
// is an API call, and a clean import needs only its successful rows
// (numberRecordsProcessed counts the failed rows too; only a job that did
// not complete leaves rows unprocessed). [UNCONFIRMED] Salesforce describes
// unprocessed records for jobs that failed or were aborted; that a
// JobComplete job's set is always empty is our reading of it.
var resultSets = []struct {
	resource, file string
	rows           func(j salesforce.JobInfo) bool
}{
	{"successfulResults", "successful.csv", func(j salesforce.JobInfo) bool { return j.NumberRecordsProcessed > j.NumberRecordsFailed }},
	{"failedResults", "failed.csv", func(j salesforce.JobInfo) bool { return j.NumberRecordsFailed > 0 }},
	{"unprocessedrecords", "unprocessed.csv", func(j salesforce.JobInfo) bool { return j.State != salesforce.JobComplete }},
}

// ingestFinish is BULK_INGEST_FINISH: a finished job's result sets to S3,
// counted (those that can hold rows). A Failed or Aborted job is UNKNOWN_ERROR with Salesforce's
// reason, once its results (what was done, what failed, what was never
// attempted) are saved.
func ingestFinish(c *Connector, ctx context.Context, in *input) (*salesforce.Response, *Bulk, error) {
	id, err := in.jobID()
	if err != nil {
		return nil, nil, err
	}
	dest, err := in.destination()
	if err != nil {
		return nil, nil, err
	}
	n, set, err := count(in.Part, "part", 1, 1_000_000)
	if err != nil {
		return nil, nil, err
	}
	if !set {
		n = 1
	}
	last, err := flag(in.Last, "last")
	if err != nil {
		return nil, nil, err
	}
	store, err := c.objects()
	if err != nil {
		return nil, nil, err
	}
	dir := dest.Join(partName(n) + "/")
	var track ingestPart
	found, err := loadJSON(ctx, store, dir.Join("job.json"), &track)
	if err != nil {
		return nil, nil, err
	}
	if !found || !sameID(track.JobID, id) {
		return nil, nil, faults.New(faults.InvalidInput, "%s does not record job %s: BULK_INGEST_FINISH takes the destination and part that BULK_INGEST_START was given", dir, id)
	}
	resp, err := c.client.GetJob(ctx, salesforce.BulkIngest, id)
	if err != nil || !statusIs(resp, http.StatusOK) {
		return resp, nil, err
	}
	j, err := jobState(resp)
	if err != nil {
		return nil, nil, err
	}
	if !salesforce.JobFinal(j.State) {
		return nil, nil, notFinished(j, "BULK_INGEST_FINISH")
	}
	delim, ok := delimiters[track.Delimiter]
	if !ok {
		delim = ','
	}
	res := &IngestResults{Files: &ResultFiles{Part: n}}
	counts := []*int64{&res.Successful, &res.Failed, &res.Unprocessed}
	urls := []*string{&res.Files.Successful, &res.Files.Failed, &res.Files.Unprocessed}
	for i, set := range resultSets {
		if !set.rows(j) {
			continue
		}
		loc := dir.Join(set.file)
		var stored error
		answer, err := c.client.IngestResults(ctx, id, set.resource, func(body io.Reader) (any, error) {
			rows, err := writeObject(ctx, store, loc, body, delim)
			stored = err
			return rows, err
		})
		err = storeFailure(err, stored)
		if err != nil || !statusIs(answer, http.StatusOK) {
			return answer, nil, err
		}
		*counts[i], *urls[i] = answer.Value.(int64), loc.String()
	}
	track.State, track.Results = j.State, &IngestResults{Successful: res.Successful, Failed: res.Failed, Unprocessed: res.Unprocessed, Files: res.Files}
	if err := saveJSON(ctx, store, dir.Join("job.json"), track); err != nil {
		return nil, nil, err
	}
	b := &Bulk{JobID: j.ID, State: j.State, Part: n, IngestResults: res}
	failed := j.State != salesforce.JobComplete
	if last || failed {
		if err := c.writeIngestManifest(ctx, store, dest, n, res); err != nil {
			return nil, nil, err
		}
	}
	if failed {
		return nil, nil, jobFailed(j, "; its results are in "+dir.String()+" ("+
			fmt.Sprintf("%d successful, %d failed, %d unprocessed rows)", res.Successful, res.Failed, res.Unprocessed))
	}
	c.fitResults(b)
	return resp, b, nil
}

// writeIngestManifest sums parts 1..n of an import into its manifest, and
// puts the totals in res.
func (c *Connector) writeIngestManifest(ctx context.Context, store blob.Store, dest blob.Location, n int, res *IngestResults) error {
	var m ingestManifest
	for i := 1; i <= n; i++ {
		var p ingestPart
		loc := dest.Join(partName(i) + "/job.json")
		found, err := loadJSON(ctx, store, loc, &p)
		if err != nil {
			return err
		}
		if !found || p.Results == nil {
			return faults.New(faults.UnknownError, "%s holds no results of part %d: finish every part in order", loc, i)
		}
		m.Source, m.Object, m.Operation = p.Source, p.Object, p.Operation
		m.Totals.Parts++
		m.Totals.Records += p.Records
		m.Totals.Successful += p.Results.Successful
		m.Totals.Failed += p.Results.Failed
		m.Totals.Unprocessed += p.Results.Unprocessed
		m.Parts = append(m.Parts, p)
	}
	loc := dest.Join("manifest.json")
	if err := saveJSON(ctx, store, loc, m); err != nil {
		return err
	}
	res.Totals, res.Manifest = &m.Totals, loc.String()
	for _, p := range m.Parts {
		res.EveryFiles = append(res.EveryFiles, *p.Results.Files)
	}
	return nil
}

// fitResults drops the list of every part's result files when the output
// would not fit the budget with it: the manifest has them.
func (c *Connector) fitResults(b *Bulk) {
	if b.IngestResults == nil || b.EveryFiles == nil {
		return
	}
	if body, err := encode(&Output{Bulk: b}); err != nil || len(body) > c.budget-outputSlack-maxJobInfo {
		b.EveryFiles = nil
	}
}

// maxJobInfo is room kept in the output for salesforceResult's JobInfo.
const maxJobInfo = 4096

// writeObject streams body, a CSV with a header row, into a new object and
// returns its rows. A failed write drops the object.
func writeObject(ctx context.Context, store blob.Store, loc blob.Location, body io.Reader, delim rune) (int64, error) {
	w, err := store.Create(ctx, loc, "text/csv")
	if err != nil {
		return 0, err
	}
	rows, err := countRows(w, body, delim)
	if err == nil {
		err = w.Close()
	}
	if err != nil {
		w.Abort()
		return 0, err
	}
	return rows, nil
}

// storeFailure is the error of a streamed read: the store's own (a faults
// error), when writing to it is what failed, rather than the transport's
// report that the answer could not be read. A read of the answer that broke
// is the transport's to retry and report.
func storeFailure(err, stored error) error {
	var fe *faults.Error
	if err != nil && errors.As(stored, &fe) {
		return stored
	}
	return err
}
