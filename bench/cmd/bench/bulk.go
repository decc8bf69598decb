package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/sfconnect/connector/local/demo/stack"
	"github.com/sfconnect/connector/local/rie"
	"github.com/sfconnect/connector/sforg"
	"github.com/sfconnect/connector/shared/blob/s3blob" // also S3 for the in-process connector, as the bulk functions link it
	"github.com/sfconnect/connector/shared/connector"
)

// The Bulk API 2.0 figures: what an import costs in API calls, and the bulk
// functions' throughput and memory on a large import and export, through
// the built functions under the emulator, with S3 in moto.

// bulkFunctions are the functions the bulk workflows call.
var bulkFunctions = []string{"bulk-ingest-start", "bulk-job-status", "bulk-ingest-finish", "bulk-query-start", "bulk-query-finish"}

// bulkCSV is an import of n Accounts, about 40 bytes a row.
func bulkCSV(n int) []byte {
	b := bytes.NewBuffer(make([]byte, 0, n*40))
	b.WriteString("Name,AccountNumber,Industry\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(b, "Bulk Bench %07d,BB-%07d,Energy\n", i, i)
	}
	return b.Bytes()
}

// bulkOut is a bulk function's output.
type bulkOut struct {
	Status string `json:"salesforceStatus"`
	connector.Bulk
}

func decodeBulk(out []byte, err error) (bulkOut, error) {
	var o bulkOut
	if err != nil {
		return o, err
	}
	if err := json.Unmarshal(out, &o); err != nil {
		return o, fmt.Errorf("output %.200s: %w", out, err)
	}
	if o.Status != "200" {
		return o, fmt.Errorf("got %.300s, want status 200", out)
	}
	return o, nil
}

// bulkOrg is an org whose closed jobs are processed when the benchmark says
// so (the org's processing is timed apart from the functions), its secret
// in moto under name, and a bucket with an import of n rows.
func bulkOrg(ctx context.Context, w *world, name string, n int) (*sforg.Server, map[string]string, string, error) {
	org, err := sforg.Start(sforg.Options{DailyLimit: orgOptions.DailyLimit, Bulk: sforg.BulkOptions{Manual: true}})
	if err != nil {
		return nil, nil, "", err
	}
	fail := func(err error) (*sforg.Server, map[string]string, string, error) {
		org.Close()
		return nil, nil, "", err
	}
	secret, err := stack.SecretString(org.Settings())
	if err != nil {
		return fail(err)
	}
	if err := w.moto.CreateSecret(ctx, name, secret); err != nil {
		return fail(err)
	}
	bucket := fmt.Sprintf("%s-%d", "bench-bulk", time.Now().UnixNano())
	if err := w.moto.CreateBucket(ctx, bucket); err != nil {
		return fail(err)
	}
	if err := w.moto.PutObject(ctx, bucket, "import/accounts.csv", bulkCSV(n)); err != nil {
		return fail(err)
	}
	return org, stack.FunctionEnv(name, w.moto), bucket, nil
}

// bulkCalls writes c.bulkWritten Accounts with one Bulk API 2.0 import (an
// in-process connector configured as the functions are, the CSV in S3) and
// reports the API calls the org charged, polls apart.
func bulkCalls(ctx context.Context, c config, w *world, t *table) error {
	n := c.bulkWritten
	progress(c, "bulk: API calls of an import of %d records", n)
	org, env, bucket, err := bulkOrg(ctx, w, "sfconnect/bench-bulk-calls", n)
	if err != nil {
		return err
	}
	defer org.Close()
	conn, err := connector.FromEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }, io.Discard)
	if err != nil {
		return err
	}
	if _, err := conn.ApprovalList(ctx, []byte(`{}`)); err != nil { // the secret and the login, not counted
		return err
	}
	h := func(name string) connector.Handler { return conn.Handler(actionNamed(name)) }
	before := org.Counters()
	dest := "s3://" + bucket + "/bulk/calls/"
	s, err := decodeBulk(h("bulk-ingest-start")(ctx, mustEvent(map[string]any{"SObjectName": "Account", "operation": "insert",
		"source": "s3://" + bucket + "/import/accounts.csv", "destination": dest})))
	if err != nil {
		return fmt.Errorf("bulk-ingest-start: %w", err)
	}
	polls := 0
	for done := false; !done; {
		if polls > 0 {
			org.ProcessBulk() // what the org does while the workflow waits
		}
		polls++
		st, err := decodeBulk(h("bulk-job-status")(ctx, mustEvent(map[string]any{"jobId": s.JobID})))
		if err != nil {
			return fmt.Errorf("bulk-job-status: %w", err)
		}
		done = *st.Finished
	}
	f, err := decodeBulk(h("bulk-ingest-finish")(ctx, mustEvent(map[string]any{"jobId": s.JobID, "destination": dest, "last": true})))
	if err != nil {
		return fmt.Errorf("bulk-ingest-finish: %w", err)
	}
	after := org.Counters()
	if f.IngestResults == nil || f.Totals == nil || f.Totals.Successful != int64(n) || org.Store().Count("Account") != n {
		return fmt.Errorf("bulk import of %d: got %+v and %d Accounts", n, f.Totals, org.Store().Count("Account"))
	}
	calls := after["api-usage"] - before["api-usage"]
	t.add(row{Section: fmt.Sprintf("API calls per %s records written with Bulk API 2.0 (in-process connector configured as the functions are, CSV in S3 (moto); calls counted by the org)", withCommas(n)),
		Figure: "Bulk ingest: BULK_INGEST_START, BULK_JOB_STATUS polls, BULK_INGEST_FINISH",
		Value:  fmt.Sprintf("%d (%d + %d polls)", calls, calls-polls, polls),
		Other:  fmt.Sprintf("CREATE %s, one call a record", withCommas(n)),
		Ratio:  fmt.Sprintf("%.4fx", float64(calls)/float64(n)),
		Spread: fmt.Sprintf("api-calls.bulk %d: create, upload, close, %d status reads, job read and the successful rows", after["api-calls.bulk"]-before["api-calls.bulk"], polls),
		Target: "≤ 5 plus polls", Met: met(calls-polls <= 5)})
	return nil
}

// actionNamed is the action of a function.
func actionNamed(function string) connector.Action {
	for _, a := range connector.Actions() {
		if a.Function == function {
			return a
		}
	}
	panic("no action " + function)
}

func mustEvent(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// bulkRun is one import and export of n records through the built functions.
type bulkRun struct {
	n                    int
	importTook, importSF time.Duration // the whole import; the org's processing in it
	exportTook, exportSF time.Duration
	parts                int // export parts
	peaks                map[string]int64
}

// roundTrip imports n records from S3 and exports them back, each function in
// a new execution environment, and checks that every record went each way
// exactly once.
func roundTrip(ctx context.Context, w *world, bins map[string]string, n int) (bulkRun, error) {
	r := bulkRun{n: n, peaks: map[string]int64{}}
	org, env, bucket, err := bulkOrg(ctx, w, fmt.Sprintf("sfconnect/bench-bulk-%d", n), n)
	if err != nil {
		return r, err
	}
	defer org.Close()
	fns := map[string]*rie.Emulator{}
	defer func() {
		for _, e := range fns {
			e.Close()
		}
	}()
	for _, name := range bulkFunctions {
		e, err := rie.Start(ctx, rie.Options{Bootstrap: bins[name], FunctionName: name, Env: env, Timeout: 900 * time.Second})
		if err != nil {
			return r, fmt.Errorf("%s: %w", name, err)
		}
		fns[name] = e
	}
	call := func(name string, event map[string]any) (bulkOut, error) {
		res, err := fns[name].Invoke(ctx, mustEvent(event))
		if err == nil && res.Failed() {
			err = fmt.Errorf("%s: %s", res.ErrorType, res.ErrorMessage)
		}
		if err != nil {
			return bulkOut{}, fmt.Errorf("%s: %w", name, err)
		}
		return decodeBulk(res.Body, nil)
	}
	wait := func(id, kind string) (time.Duration, error) {
		start := time.Now()
		org.ProcessBulk()
		took := time.Since(start)
		st, err := call("bulk-job-status", map[string]any{"jobId": id, "kind": kind})
		if err == nil && !*st.Finished {
			err = fmt.Errorf("job %s not finished after processing", id)
		}
		return took, err
	}

	dest := "s3://" + bucket + "/bulk/import/"
	start := time.Now()
	event := map[string]any{"SObjectName": "Account", "operation": "insert", "source": "s3://" + bucket + "/import/accounts.csv", "destination": dest}
	var total int64
	for part := 1; ; part++ {
		event["part"] = part
		s, err := call("bulk-ingest-start", event)
		if err != nil {
			return r, err
		}
		took, err := wait(s.JobID, "ingest")
		if err != nil {
			return r, err
		}
		r.importSF += took
		f, err := call("bulk-ingest-finish", map[string]any{"jobId": s.JobID, "destination": dest, "part": part, "last": *s.Last})
		if err != nil {
			return r, err
		}
		if f.IngestResults != nil {
			total += f.Successful
		}
		if *s.Last {
			break
		}
		event["offset"], event["sourceETag"] = *s.NextOffset, s.SourceETag
	}
	r.importTook = time.Since(start)
	if total != int64(n) || org.Store().Count("Account") != n {
		return r, fmt.Errorf("import: %d successful rows and %d Accounts, want %d each", total, org.Store().Count("Account"), n)
	}
	for _, name := range []string{"bulk-ingest-start", "bulk-ingest-finish"} {
		if r.peaks[name], err = peak(bins[name]); err != nil {
			return r, err
		}
	}

	dest = "s3://" + bucket + "/bulk/export/"
	start = time.Now()
	q, err := call("bulk-query-start", map[string]any{"salesforceQuery": "SELECT Id, Name, AccountNumber FROM Account WHERE Industry = 'Energy'", "destination": dest})
	if err != nil {
		return r, err
	}
	if r.exportSF, err = wait(q.JobID, "query"); err != nil {
		return r, err
	}
	finish := map[string]any{"jobId": q.JobID, "destination": dest}
	var out bulkOut
	for {
		if out, err = call("bulk-query-finish", finish); err != nil {
			return r, err
		}
		if *out.Finished {
			break
		}
		finish["locator"], finish["part"] = *out.Locator, out.NextPart
	}
	r.exportTook = time.Since(start)
	r.parts = *out.Parts
	if *out.Records != int64(n) {
		return r, fmt.Errorf("export: %d records, want %d", *out.Records, n)
	}
	for _, name := range []string{"bulk-query-start", "bulk-query-finish"} {
		if r.peaks[name], err = peak(bins[name]); err != nil {
			return r, err
		}
	}
	return r, exportedOnce(ctx, w, bucket, out, n)
}

// exportedOnce reads every part of an export back and checks that it holds
// n distinct ids.
func exportedOnce(ctx context.Context, w *world, bucket string, out bulkOut, n int) error {
	var items []struct {
		Key string `json:"key"`
	}
	manifest, err := w.moto.GetObject(ctx, bucket, out.ManifestKey)
	if err == nil {
		err = json.Unmarshal(manifest, &items)
	}
	if err != nil {
		return fmt.Errorf("export manifest: %w", err)
	}
	seen := make(map[string]struct{}, n)
	for _, it := range items {
		data, err := w.moto.GetObject(ctx, bucket, it.Key)
		if err != nil {
			return err
		}
		rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
		if err != nil {
			return fmt.Errorf("%s: %w", it.Key, err)
		}
		for _, row := range rows[1:] {
			if _, dup := seen[row[0]]; dup {
				return fmt.Errorf("export: %s twice", row[0])
			}
			seen[row[0]] = struct{}{}
		}
	}
	if len(seen) != n {
		return fmt.Errorf("export: %d distinct records in %d parts, want %d", len(seen), len(items), n)
	}
	return nil
}

func peak(bootstrap string) (int64, error) {
	m, err := bootstrapMemory(bootstrap)
	return m.Peak, err
}

// bulkThroughput imports and exports 10,000, 100,000 and c.bulkRecords
// records through the built bulk functions and reports records per second
// and each function's peak memory at each size.
func bulkThroughput(ctx context.Context, c config, w *world, t *table) error {
	progress(c, "bulk: building the bulk functions")
	pkgs := make([]string, len(bulkFunctions))
	for i, f := range bulkFunctions {
		pkgs[i] = "./functions/" + f
	}
	bins, err := build(ctx, filepath.Join(w.dir, "bulk"), runtime.GOOS, runtime.GOARCH, pkgs)
	if err != nil {
		return err
	}
	sizes := []int{10_000}
	for _, n := range []int{100_000, c.bulkRecords} {
		if n > sizes[len(sizes)-1] {
			sizes = append(sizes, n)
		}
	}
	var runs []bulkRun
	for _, n := range sizes {
		progress(c, "bulk: import and export of %d records", n)
		r, err := roundTrip(ctx, w, bins, n)
		if err != nil {
			return fmt.Errorf("%d records: %w", n, err)
		}
		runs = append(runs, r)
	}
	sec := "Bulk API 2.0 through S3 (the bulk functions under the emulator, S3 in moto, the org in the driver's process)"
	perSec := func(n int, d time.Duration) float64 { return float64(n) / d.Seconds() }
	for _, r := range runs {
		t.add(row{Section: sec, Figure: fmt.Sprintf("import of %s records (one CSV in S3 → jobs → results in S3), every record once", withCommas(r.n)),
			Value:  fmt.Sprintf("%.0f records/s", perSec(r.n, r.importTook)),
			Spread: fmt.Sprintf("%s in all, of which the org's processing %s", r.importTook.Round(time.Millisecond), r.importSF.Round(time.Millisecond)),
			Target: "reported"})
		t.add(row{Section: sec, Figure: fmt.Sprintf("export of %s records (query job → parts of 10,000 in S3 → manifest), every record once", withCommas(r.n)),
			Value:  fmt.Sprintf("%.0f records/s", perSec(r.n, r.exportTook)),
			Spread: fmt.Sprintf("%d parts in %s, of which the org's query %s", r.parts, r.exportTook.Round(time.Millisecond), r.exportSF.Round(time.Millisecond)),
			Target: "reported"})
	}
	small, mid, large := runs[0], runs[len(runs)/2], runs[len(runs)-1]
	for _, name := range []string{"bulk-ingest-start", "bulk-ingest-finish", "bulk-query-start", "bulk-query-finish"} {
		var spread []string
		for _, r := range runs {
			spread = append(spread, fmt.Sprintf("%s: %s", withCommas(r.n), mb(r.peaks[name])))
		}
		p0, pm, p1 := small.peaks[name], mid.peaks[name], large.peaks[name]
		// Streaming: a function holds at most one S3 part of what it writes
		// (an object under 5 MiB, as every one of the 10,000-record run is,
		// is held whole, and is smaller). Once the part is in use, memory
		// must not grow with the records: the largest run against the
		// middle one.
		t.add(row{Section: sec, Figure: fmt.Sprintf("%s: peak resident (VmHWM), %s vs %s records", name, withCommas(large.n), withCommas(small.n)),
			Value: mb(p1), Other: mb(p0), Ratio: ratio(float64(p1) / float64(p0)), Spread: strings.Join(spread, "; "),
			Target: fmt.Sprintf("flat once a %d MiB S3 part is in use (%s within 1.2x of %s); under 128 MB", s3blob.PartSize>>20, withCommas(large.n), withCommas(mid.n)),
			Met:    met(p1 < 128<<20 && float64(p1) <= 1.2*float64(pm))})
	}
	return nil
}

// withCommas writes n with commas: 10,000.
func withCommas(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
