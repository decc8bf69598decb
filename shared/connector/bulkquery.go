package connector

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"time"

	"github.com/sfconnect/connector/shared/blob"
	"github.com/sfconnect/connector/shared/faults"
	"github.com/sfconnect/connector/shared/salesforce"
)

// An export is one query job whose results go under the destination prefix:
// job.json (the job, and each part written so far), parts/part-0000n.csv
// (one per result set Salesforce serves, maxRecords = recordsPerPart rows
// each, every part a CSV with the header row, as Salesforce writes it) and,
// once every set is written, manifest.json: a JSON array with one item per
// part ({"bucket","key","part","records"}), which a Distributed Map's
// ItemReader reads.
//
// Parts are CSV rather than JSON Lines: they are Salesforce's result sets byte
// for byte (a JSON line would turn every value into a string anyway, since
// the CSV has no types, and double the work), a CSV ItemReader with
// CSVHeaderLocation FIRST_ROW reads any one part on its own, and any CSV
// library does.
//
// A part is written for each result set, in the order of the locators, so a
// retried BULK_QUERY_FINISH rewrites the same parts with the same rows: a
// result set can be read again while the job exists.

// queryTrack is an export's job.json.
type queryTrack struct {
	JobID     string       `json:"jobId,omitempty"`
	Query     string       `json:"query"`
	Operation string       `json:"operation"`
	Parts     []exportPart `json:"parts,omitempty"`
}

// exportPart is one part of an export: an item of its manifest.
type exportPart struct {
	Bucket  string `json:"bucket"`
	Key     string `json:"key"`
	Part    int    `json:"part"`
	Records int64  `json:"records"`
}

// Export inputs.
const (
	defaultRecordsPerPart = 10_000
	maxRecordsPerPart     = 1_000_000
	// pageMargin is the time kept free after the last result set an
	// invocation reads, besides twice the longest one it read.
	pageMargin = 5 * time.Second
)

// locatorPattern is what a result locator may hold: Salesforce's are short
// base64 strings (MTAwMDA) or numbers.
var locatorPattern = regexp.MustCompile(`^[A-Za-z0-9+/=_-]{1,200}$`)

// queryStart is BULK_QUERY_START: a query job whose results will go under
// destination, or the one a previous attempt recorded there.
func queryStart(c *Connector, ctx context.Context, in *input) (*salesforce.Response, *Bulk, error) {
	soql, err := in.query()
	if err != nil {
		return nil, nil, err
	}
	dest, err := in.destination()
	if err != nil {
		return nil, nil, err
	}
	op, err := choice(in.Operation, "operation", "query", "query", "queryAll")
	if err != nil {
		return nil, nil, err
	}
	store, err := c.objects()
	if err != nil {
		return nil, nil, err
	}
	trackLoc := dest.Join("job.json")
	var track queryTrack
	found, err := loadJSON(ctx, store, trackLoc, &track)
	if err != nil {
		return nil, nil, err
	}
	if found && (track.Query != soql || track.Operation != op) {
		return nil, nil, faults.New(faults.InvalidInput, "%s records another export: choose another destination", trackLoc)
	}
	if found && track.JobID != "" {
		resp, err := c.client.GetJob(ctx, salesforce.BulkQuery, track.JobID)
		if err != nil || !statusIs(resp, http.StatusOK) {
			return resp, nil, err
		}
		j, err := jobState(resp)
		if err != nil {
			return nil, nil, err
		}
		return resp, &Bulk{JobID: j.ID, State: j.State}, nil
	}
	track = queryTrack{Query: soql, Operation: op}
	if err := saveJSON(ctx, store, trackLoc, track); err != nil {
		return nil, nil, err
	}
	// A lost answer may leave a job nobody reads: a query job changes no
	// record, so a retry simply starts another.
	resp, err := c.client.CreateQueryJob(ctx, salesforce.QueryJob{Operation: op, Query: soql, ContentType: "CSV", ColumnDelimiter: "COMMA", LineEnding: "LF"})
	if err != nil || !statusIs(resp, http.StatusOK) {
		return resp, nil, err
	}
	j, err := jobState(resp)
	if err != nil {
		return nil, nil, err
	}
	track.JobID = j.ID
	if err := saveJSON(ctx, store, trackLoc, track); err != nil {
		return nil, nil, err
	}
	return resp, &Bulk{JobID: j.ID, State: j.State}, nil
}

// exportArgs are BULK_QUERY_FINISH's inputs, validated.
type exportArgs struct {
	id             string
	dest           blob.Location
	locator        string
	part           int
	recordsPerPart int
	maxParts       int
}

func (in *input) exportArgs() (a exportArgs, err error) {
	if a.id, err = in.jobID(); err != nil {
		return a, err
	}
	if a.dest, err = in.destination(); err != nil {
		return a, err
	}
	part, set, err := count(in.Part, "part", 1, 10_000_000)
	if err != nil {
		return a, err
	}
	a.part = 1
	if set {
		a.part = part
	}
	if !isAbsent(in.Locator) {
		if a.locator, err = text(in.Locator, "locator"); err != nil {
			return a, err
		}
		if !locatorPattern.MatchString(a.locator) {
			return a, faults.New(faults.InvalidInput, "locator %s is not a result locator of BULK_QUERY_FINISH's output", quote(a.locator))
		}
	}
	if (a.locator == "") != (a.part == 1) {
		return a, faults.New(faults.InvalidInput, "part %d and locator %s do not go together: pass both from the previous output, or neither to start", a.part, quote(a.locator))
	}
	n, set, err := count(in.RecordsPerPart, "recordsPerPart", 1, maxRecordsPerPart)
	if err != nil {
		return a, err
	}
	a.recordsPerPart = defaultRecordsPerPart
	if set {
		a.recordsPerPart = n
	}
	if a.maxParts, _, err = count(in.MaxParts, "maxParts", 1, 10_000_000); err != nil {
		return a, err
	}
	return a, nil
}

// queryFinish is BULK_QUERY_FINISH: a complete query job's result sets to
// S3, one part each, from locator on, for as long as the invocation has time
// (or maxParts); finished once the last set is written, with the manifest.
func queryFinish(c *Connector, ctx context.Context, in *input) (*salesforce.Response, *Bulk, error) {
	a, err := in.exportArgs()
	if err != nil {
		return nil, nil, err
	}
	store, err := c.objects()
	if err != nil {
		return nil, nil, err
	}
	trackLoc := a.dest.Join("job.json")
	var track queryTrack
	found, err := loadJSON(ctx, store, trackLoc, &track)
	if err != nil {
		return nil, nil, err
	}
	if !found || !sameID(track.JobID, a.id) {
		return nil, nil, faults.New(faults.InvalidInput, "%s does not record job %s: BULK_QUERY_FINISH takes the destination that BULK_QUERY_START was given", trackLoc, a.id)
	}
	resp, err := c.client.GetJob(ctx, salesforce.BulkQuery, a.id)
	if err != nil || !statusIs(resp, http.StatusOK) {
		return resp, nil, err
	}
	j, err := jobState(resp)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case j.State == salesforce.JobFailed || j.State == salesforce.JobAborted:
		return nil, nil, jobFailed(j, "")
	case j.State != salesforce.JobComplete:
		return nil, nil, notFinished(j, "BULK_QUERY_FINISH")
	}
	// The parts before this one stay as recorded; this one and later ones
	// are written (again) now.
	kept := track.Parts[:0]
	for _, p := range track.Parts {
		if p.Part < a.part {
			kept = append(kept, p)
		}
	}
	track.Parts = kept
	locator, written := a.locator, 0
	var longest time.Duration
	for {
		began := time.Now()
		loc := a.dest.Join("parts/" + partName(a.part) + ".csv")
		var stored error
		answer, err := c.client.QueryResults(ctx, a.id, locator, a.recordsPerPart, func(body io.Reader) (any, error) {
			rows, err := writeObject(ctx, store, loc, body, ',')
			stored = err
			return rows, err
		})
		if err = storeFailure(err, stored); err != nil || !statusIs(answer, http.StatusOK) {
			return answer, nil, err
		}
		track.Parts = append(track.Parts, exportPart{Bucket: loc.Bucket, Key: loc.Key, Part: a.part, Records: answer.Value.(int64)})
		a.part++
		written++
		locator = salesforce.NextLocator(answer)
		if locator != "" && !locatorPattern.MatchString(locator) {
			return nil, nil, faults.New(faults.UnknownError, "Salesforce's Sforce-Locator %s is not a result locator", quote(locator))
		}
		longest = max(longest, time.Since(began))
		if locator == "" || (a.maxParts > 0 && written >= a.maxParts) || !timeFor(ctx, 2*longest+pageMargin) {
			break
		}
	}
	if err := saveJSON(ctx, store, trackLoc, track); err != nil {
		return nil, nil, err
	}
	b := &Bulk{JobID: j.ID, State: j.State, Finished: ptr(locator == ""), NextPart: a.part, Parts: ptr(len(track.Parts)), Bucket: a.dest.Bucket}
	var records int64
	for _, p := range track.Parts {
		records += p.Records
	}
	b.Records = &records
	if locator != "" {
		b.Locator = &locator
		return resp, b, nil
	}
	manifest := a.dest.Join("manifest.json")
	items := track.Parts
	if items == nil {
		items = []exportPart{}
	}
	if err := saveJSON(ctx, store, manifest, items); err != nil {
		return nil, nil, err
	}
	b.ManifestKey = manifest.Key
	for _, p := range track.Parts {
		b.PartKeys = append(b.PartKeys, p.Key)
	}
	if body, err := encode(&Output{Bulk: b}); err != nil || len(body) > c.budget-outputSlack-maxJobInfo {
		b.PartKeys = nil // the manifest lists them
	}
	return resp, b, nil
}

// timeFor reports whether ctx leaves d before its deadline.
func timeFor(ctx context.Context, d time.Duration) bool {
	dl, ok := ctx.Deadline()
	return !ok || time.Until(dl) > d
}
