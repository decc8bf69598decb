package connector

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/sfconnect/connector/shared/blob"
	"github.com/sfconnect/connector/shared/faults"
	"github.com/sfconnect/connector/shared/salesforce"
	"github.com/sfconnect/connector/shared/sfid"
)

// The Bulk API 2.0 actions move records between S3 and Salesforce without
// holding them in memory: an ingest job's CSV streams from an S3 object into
// the job's upload, and result sets stream from Salesforce into S3 objects.
// One action per step of a job's life, so that a workflow waits between them
// (a Wait state, never a function that sleeps):
//
//	BULK_INGEST_START   one part of a CSV object -> an ingest job, uploaded and closed
//	BULK_JOB_STATUS     an ingest or query job's state; finished once it is final
//	BULK_INGEST_FINISH  the job's successful, failed and unprocessed rows -> S3, counted
//	BULK_QUERY_START    a query job whose results go under an S3 prefix
//	BULK_QUERY_FINISH   the query's result sets -> S3 parts (CSV with a header row), a manifest
//
// Every action records what it did under its destination prefix (job.json),
// so a retried step finds the job of its part instead of starting a second
// one; see README "Bulk API 2.0".

// Bulk is the state of a bulk action at the top of its output, where a
// workflow's Choice states read it. Each action fills the fields it
// documents; salesforceResult holds Salesforce's JobInfo as usual.
type Bulk struct {
	JobID string `json:"jobId,omitempty"`
	State string `json:"state,omitempty"`
	// Finished: BULK_JOB_STATUS, the job reached a final state;
	// BULK_QUERY_FINISH, every result set is in S3. (QUERY's paging owns
	// "done".)
	Finished *bool `json:"finished,omitempty"`

	// BULK_JOB_STATUS.
	RecordsProcessed *int64 `json:"numberRecordsProcessed,omitempty"`
	RecordsFailed    *int64 `json:"numberRecordsFailed,omitempty"`
	ErrorMessage     string `json:"errorMessage,omitempty"`

	// BULK_INGEST_START: the part of the source this job carries.
	Part       int    `json:"part,omitempty"`
	Offset     *int64 `json:"offset,omitempty"`
	NextOffset *int64 `json:"nextOffset,omitempty"` // where the next part starts; absent after the last
	Last       *bool  `json:"last,omitempty"`       // no part after this one
	Records    *int64 `json:"records,omitempty"`    // rows uploaded (START) or written to S3 (QUERY_FINISH, so far)
	Bytes      *int64 `json:"bytes,omitempty"`
	SourceETag string `json:"sourceETag,omitempty"`

	// BULK_INGEST_FINISH: this part's results, and with last the totals.
	*IngestResults

	// BULK_QUERY_FINISH.
	Locator     *string  `json:"locator,omitempty"`  // the next result set; absent once finished
	NextPart    int      `json:"nextPart,omitempty"` // the number of the next part to write
	Parts       *int     `json:"parts,omitempty"`    // parts written so far
	Bucket      string   `json:"bucket,omitempty"`
	ManifestKey string   `json:"manifestKey,omitempty"` // the key of the manifest, once finished
	PartKeys    []string `json:"partKeys,omitempty"`    // every part's key, when they fit the output
}

func ptr[T any](v T) *T { return &v }

// bulkInput holds the inputs of the bulk actions (see input).
type bulkInput struct {
	Operation       json.RawMessage `json:"operation"`
	Source          json.RawMessage `json:"source"`
	Destination     json.RawMessage `json:"destination"`
	JobID           json.RawMessage `json:"jobId"`
	Kind            json.RawMessage `json:"kind"`
	Part            json.RawMessage `json:"part"`
	Offset          json.RawMessage `json:"offset"`
	SourceETag      json.RawMessage `json:"sourceETag"`
	MaxBytesPerJob  json.RawMessage `json:"maxBytesPerJob"`
	ColumnDelimiter json.RawMessage `json:"columnDelimiter"`
	Last            json.RawMessage `json:"last"`
	Locator         json.RawMessage `json:"locator"`
	Records         json.RawMessage `json:"records"`
	RecordsPerPart  json.RawMessage `json:"recordsPerPart"`
	MaxParts        json.RawMessage `json:"maxParts"`
}

// objectStore is the bulk actions' S3, opened on first use from the
// function's environment (FromEnv) through the registered implementation.
type objectStore struct {
	once   sync.Once
	getenv func(string) string
	store  blob.Store
	err    error
}

func (c *Connector) objects() (blob.Store, error) {
	o := &c.objectStore
	o.once.Do(func() {
		if o.store != nil {
			return
		}
		getenv := o.getenv
		if getenv == nil {
			getenv = func(string) string { return "" }
		}
		o.store, o.err = blob.Open(getenv)
	})
	return o.store, o.err
}

// bulkCall is a bulk action's work: the answer to output and the bulk state.
type bulkCall func(c *Connector, ctx context.Context, in *input) (*salesforce.Response, *Bulk, error)

// bulk makes a bulkCall an action's work, its job state in the output's extras.
func bulk(fn bulkCall) work {
	return func(c *Connector, ctx context.Context, in *input) (*salesforce.Response, extras, error) {
		resp, b, err := fn(c, ctx, in)
		return resp, extras{bulk: b}, err
	}
}

// sameID reports whether a recorded job id is id (15 or 18 characters).
func sameID(recorded, id string) bool {
	return recorded != "" && sfid.To18(recorded) == sfid.To18(id)
}

// jobID returns jobId: a Bulk API job id (750...), so it stays one path segment.
func (in *input) jobID() (string, error) {
	s, err := text(in.JobID, "jobId")
	if err != nil {
		return "", err
	}
	if !sfid.Valid(s) || !strings.HasPrefix(s, "750") {
		return "", faults.New(faults.InvalidInput, "jobId %s is not a Bulk API job id (750...)", quote(s))
	}
	return s, nil
}

// destination returns the destination prefix.
func (in *input) destination() (blob.Location, error) {
	s, err := text(in.Destination, "destination")
	if err != nil {
		return blob.Location{}, err
	}
	return blob.ParsePrefix("destination", s)
}

// choice returns an optional input that must be one of values (compared
// without case), or def when absent; the value is given in values' spelling.
func choice(raw json.RawMessage, name, def string, values ...string) (string, error) {
	if isAbsent(raw) {
		return def, nil
	}
	s, err := text(raw, name)
	if err != nil {
		return "", err
	}
	for _, v := range values {
		if strings.EqualFold(s, v) {
			return v, nil
		}
	}
	return "", faults.New(faults.InvalidInput, "%s %s is not one of %s", name, quote(s), strings.Join(values, ", "))
}

// kind returns BULK_JOB_STATUS's kind: ingest (the default) or query.
func (in *input) kind() (salesforce.BulkKind, error) {
	k, err := choice(in.Kind, "kind", string(salesforce.BulkIngest), string(salesforce.BulkIngest), string(salesforce.BulkQuery))
	return salesforce.BulkKind(k), err
}

// succeeded says whether resp is Salesforce's success (status ok); anything
// else is passed on as the output, as every action passes on Salesforce's
// refusals.
func statusIs(resp *salesforce.Response, ok int) bool { return resp.Status == ok }

// jobState reads a JobInfo answer.
func jobState(resp *salesforce.Response) (salesforce.JobInfo, error) {
	j, ok := salesforce.ParseJob(resp.Body)
	if !ok {
		return j, faults.New(faults.UnknownError, "Salesforce's answer is not a Bulk API job (JobInfo)")
	}
	return j, nil
}

// jobStatus is BULK_JOB_STATUS: GET the job; finished once its state is final.
// A Failed or Aborted job is not an error here: BULK_INGEST_FINISH saves its
// results first, and BULK_QUERY_FINISH reports it.
func jobStatus(c *Connector, ctx context.Context, in *input) (*salesforce.Response, *Bulk, error) {
	id, err := in.jobID()
	if err != nil {
		return nil, nil, err
	}
	kind, err := in.kind()
	if err != nil {
		return nil, nil, err
	}
	resp, err := c.client.GetJob(ctx, kind, id)
	if err != nil || !statusIs(resp, http.StatusOK) {
		return resp, nil, err
	}
	j, err := jobState(resp)
	if err != nil {
		return nil, nil, err
	}
	b := &Bulk{JobID: j.ID, State: j.State, Finished: ptr(salesforce.JobFinal(j.State)), RecordsProcessed: &j.NumberRecordsProcessed,
		ErrorMessage: j.ErrorMessage}
	if kind == salesforce.BulkIngest {
		b.RecordsFailed = &j.NumberRecordsFailed
	}
	return resp, b, nil
}

// jobFailed is the error of a job that ended Failed or Aborted: UNKNOWN_ERROR
// with Salesforce's reason (its errorMessage: an exceeded daily allocation,
// a CSV Salesforce could not read, ...), after what can be saved was saved.
func jobFailed(j salesforce.JobInfo, saved string) error {
	reason := j.ErrorMessage
	if reason == "" {
		reason = "Salesforce gave no reason"
	}
	return faults.New(faults.UnknownError, "Bulk API job %s ended %s: %s%s", j.ID, j.State, reason, saved)
}

// notFinished refuses to read the results of a job that is still running:
// the workflow must wait for BULK_JOB_STATUS to say done.
func notFinished(j salesforce.JobInfo, action string) error {
	return faults.New(faults.InvalidInput, "Bulk API job %s is %s: call %s once BULK_JOB_STATUS says finished", j.ID, j.State, action)
}

// Tracking: each job the actions start is written down under the
// destination before anything is uploaded or read, so that a retried step
// finds it.

// maxTracking bounds what is read back of a tracking object or manifest.
const maxTracking = 16 << 20

// loadJSON reads a small JSON object written by the actions; found is false
// when there is none.
func loadJSON(ctx context.Context, store blob.Store, loc blob.Location, v any) (found bool, err error) {
	data, found, err := store.Get(ctx, loc, maxTracking)
	if err != nil || !found {
		return false, err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return false, faults.New(faults.UnknownError, "%s is not what the bulk actions wrote there: remove it or choose another destination", loc)
	}
	return true, nil
}

func saveJSON(ctx context.Context, store blob.Store, loc blob.Location, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return faults.Wrap(faults.UnknownError, err, "cannot encode %s", loc)
	}
	return store.Put(ctx, loc, data, "application/json")
}

// partName is the name of part n: numbered from 1, five digits or more so
// that names sort in order.
func partName(n int) string { return fmt.Sprintf("part-%05d", n) }
