package salesforce

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/sfconnect/connector/shared/salesforce/session"
	"github.com/sfconnect/connector/shared/salesforce/transport"
)

// Bulk API 2.0, as Salesforce's "Bulk API 2.0 and Bulk API Developer Guide"
// describes it: ingest jobs (create, upload the CSV once, close, poll, read
// the three result sets) and query jobs (create, poll, read the result sets a
// page at a time with maxRecords and the Sforce-Locator of each answer).
// Every call is one REST request against the daily API allocation. Job
// answers (JobInfo) and Salesforce's refusals come back as Responses; the
// uploads and result sets are streamed, never held whole in memory.

// BulkKind is a job's resource: ingest or query.
type BulkKind string

// The two kinds of Bulk API 2.0 job.
const (
	BulkIngest BulkKind = "ingest"
	BulkQuery  BulkKind = "query"
)

// TransferTimeout is the per-attempt timeout of an upload or a result set,
// instead of the client's: 100 MB takes longer than a record call. The
// invocation's deadline still bounds it.
const TransferTimeout = 10 * time.Minute

// IngestJob is the body of a create request for an ingest job.
type IngestJob struct {
	Object              string `json:"object"`
	Operation           string `json:"operation"`
	ExternalIDFieldName string `json:"externalIdFieldName,omitempty"`
	ContentType         string `json:"contentType"`
	ColumnDelimiter     string `json:"columnDelimiter"`
	LineEnding          string `json:"lineEnding"`
}

// QueryJob is the body of a create request for a query job.
type QueryJob struct {
	Operation       string `json:"operation"` // query or queryAll
	Query           string `json:"query"`
	ContentType     string `json:"contentType"`
	ColumnDelimiter string `json:"columnDelimiter"`
	LineEnding      string `json:"lineEnding"`
}

// JobInfo is what the connector reads of a job's JobInfo.
type JobInfo struct {
	ID                     string `json:"id"`
	State                  string `json:"state"`
	Object                 string `json:"object"`
	Operation              string `json:"operation"`
	NumberRecordsProcessed int64  `json:"numberRecordsProcessed"`
	NumberRecordsFailed    int64  `json:"numberRecordsFailed"`
	ErrorMessage           string `json:"errorMessage"`
}

// Job states (Salesforce's "Job States" page). A job in a final state does
// no more work.
const (
	JobOpen           = "Open"
	JobUploadComplete = "UploadComplete"
	JobInProgress     = "InProgress"
	JobComplete       = "JobComplete"
	JobFailed         = "Failed"
	JobAborted        = "Aborted"
)

// JobFinal reports whether a job in state does no more work.
func JobFinal(state string) bool {
	return state == JobComplete || state == JobFailed || state == JobAborted
}

// ParseJob reads a JobInfo answer.
func ParseJob(body []byte) (JobInfo, bool) {
	var j JobInfo
	return j, json.Unmarshal(body, &j) == nil && j.ID != "" && j.State != ""
}

func jobPath(kind BulkKind, id string) string {
	return "jobs/" + string(kind) + "/" + url.PathEscape(id)
}

// CreateIngestJob creates an ingest job: POST jobs/ingest, 200 with the
// JobInfo of an Open job. Never sent twice once it may have reached
// Salesforce, like any POST: a lost answer leaves an Open job, which
// processes nothing until it is closed.
func (c *Client) CreateIngestJob(ctx context.Context, job IngestJob) (*Response, error) {
	body, _ := json.Marshal(job)
	return c.bulk(ctx, BulkIngest, http.MethodPost, "jobs/ingest", body, nil)
}

// CreateQueryJob creates a query job: POST jobs/query, 200 with the JobInfo.
func (c *Client) CreateQueryJob(ctx context.Context, job QueryJob) (*Response, error) {
	body, _ := json.Marshal(job)
	return c.bulk(ctx, BulkQuery, http.MethodPost, "jobs/query", body, nil)
}

// GetJob reads a job's JobInfo: GET jobs/{kind}/{id}.
func (c *Client) GetJob(ctx context.Context, kind BulkKind, id string) (*Response, error) {
	return c.bulk(ctx, kind, http.MethodGet, jobPath(kind, id), nil, nil)
}

// SetJobState closes (UploadComplete) or aborts (Aborted) a job: PATCH
// jobs/{kind}/{id}, 200 with the JobInfo. It is retried like any PATCH; a
// close whose answer was lost meets the job closed already, which
// Salesforce refuses as a state change of a job that is not Open.
func (c *Client) SetJobState(ctx context.Context, kind BulkKind, id, state string) (*Response, error) {
	body, _ := json.Marshal(map[string]string{"state": state})
	return c.bulk(ctx, kind, http.MethodPatch, jobPath(kind, id), body, nil)
}

// UploadJobData sends an ingest job's CSV: PUT jobs/ingest/{id}/batches,
// 201 with no body. open gives the body of each attempt (transport.Sized for
// a Content-Length). Salesforce takes one upload per job, so it is not sent
// again once it may have reached Salesforce: the job then cannot be trusted,
// and the caller aborts it and starts another.
func (c *Client) UploadJobData(ctx context.Context, id string, open func() (io.ReadCloser, error)) (*Response, error) {
	return c.bulk(ctx, BulkIngest, http.MethodPut, jobPath(BulkIngest, id)+"/batches", nil, func(r *transport.Request) {
		transfer(r)
		r.Header["Content-Type"] = "text/csv"
		r.Upload = open
		r.Idempotent = false
	})
}

// IngestResults streams one result set of an ingest job (successfulResults,
// failedResults or unprocessedrecords) to read: GET
// jobs/ingest/{id}/{set}/. A network failure while reading starts the read
// again from the beginning, so read must drop what it wrote of a failed
// attempt. A 200 answer's Value is what read returned.
func (c *Client) IngestResults(ctx context.Context, id, set string, read func(io.Reader) (any, error)) (*Response, error) {
	return c.bulk(ctx, BulkIngest, http.MethodGet, jobPath(BulkIngest, id)+"/"+url.PathEscape(set)+"/", nil, func(r *transport.Request) {
		transfer(r)
		r.Header["Accept"] = "text/csv"
		r.Read = read
	})
}

// QueryResults streams one result set of a query job to read: GET
// jobs/query/{id}/results with maxRecords and the locator of the set (""
// for the first). The answer's Sforce-Locator names the next set, "null"
// after the last (see NextLocator).
func (c *Client) QueryResults(ctx context.Context, id, locator string, maxRecords int, read func(io.Reader) (any, error)) (*Response, error) {
	q := url.Values{"maxRecords": {strconv.Itoa(maxRecords)}}
	if locator != "" {
		q.Set("locator", locator)
	}
	return c.bulk(ctx, BulkQuery, http.MethodGet, jobPath(BulkQuery, id)+"/results?"+q.Encode(), nil, func(r *transport.Request) {
		transfer(r)
		r.Header["Accept"] = "text/csv"
		r.Read = read
	})
}

// NextLocator is the locator of the result set after resp's, or "" when
// resp's was the last.
func NextLocator(resp *Response) string {
	if l := resp.Header.Get("Sforce-Locator"); l != "null" {
		return l
	}
	return ""
}

// firstVersions are the API versions that introduced each kind of job.
var firstVersions = map[BulkKind]float64{BulkIngest: 41.0, BulkQuery: 47.0}

// BulkVersion is the API version the client uses for kind's jobs: the
// configured one, or the first that has the resource when the configured
// one is older (ingest jobs came with 41.0, query jobs with 47.0). Every
// request about a job uses the same version, as a query job's results must
// be read in the version that created it.
func BulkVersion(kind BulkKind, configured string) string {
	v, err := strconv.ParseFloat(configured, 64)
	if first := firstVersions[kind]; err == nil && v < first {
		return strconv.FormatFloat(first, 'f', 1, 64)
	}
	return configured
}

// bulk sends a Bulk API 2.0 request, tune adjusting it.
func (c *Client) bulk(ctx context.Context, kind BulkKind, method, path string, body []byte, tune func(*transport.Request)) (*Response, error) {
	ctx, cancel := c.bound(ctx)
	defer cancel()
	return c.do(ctx, func(t *session.Token) transport.Request {
		at := *t
		at.Version = BulkVersion(kind, t.Version)
		r := rest(&at, method, path, body)
		if tune != nil {
			tune(&r)
		}
		return r
	})
}

// transfer makes r a request whose body or answer is streamed: no body cap
// (the reader keeps nothing), the transfer timeout per attempt.
func transfer(r *transport.Request) {
	r.MaxBodyBytes, r.Timeout = -1, TransferTimeout
}
