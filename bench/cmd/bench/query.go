package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/sfconnect/connector/local/demo/stack"
	"github.com/sfconnect/connector/local/rie"
	"github.com/sfconnect/connector/sforg"
)

// largeSOQL is the large query: what statemachine/query-paging.asl.json's
// sample input asks for.
const largeSOQL = "SELECT Id, Name, Industry, CreatedDate FROM Account"

// queryOrg is an org holding n Accounts and nothing else, with its secret in moto.
type queryOrg struct {
	n   int
	org *sforg.Server
	fn  function
}

func newQueryOrg(ctx context.Context, w *world, n int) (*queryOrg, error) {
	org, err := sforg.Start(orgOptions)
	if err != nil {
		return nil, err
	}
	industries := []string{"Energy", "Banking", "Retail", "Media", "Education"}
	for i := range n {
		// Straight into the store: a seed of 50,000 records over the REST API
		// would take longer than the measurement.
		if _, err := org.Store().Insert("Account", map[string]any{
			"Name": fmt.Sprintf("Benchmark Account %06d", i), "Industry": industries[i%len(industries)],
		}); err != nil {
			org.Close()
			return nil, err
		}
	}
	secret, err := stack.SecretString(org.Settings())
	if err != nil {
		org.Close()
		return nil, err
	}
	name := fmt.Sprintf("sfconnect/bench-query-%d", n)
	if err := w.moto.CreateSecret(ctx, name, secret); err != nil {
		org.Close()
		return nil, err
	}
	return &queryOrg{n: n, org: org, fn: function{name: "query", bootstrap: w.bins["query"], env: stack.FunctionEnv(name, w.moto)}}, nil
}

// pagingRun is one walk through the whole result, as the paging workflow
// walks it: pageSize 2,000, the cursor of each output passed to the next.
type pagingRun struct {
	took    time.Duration
	outputs int
	records int
	pages   int // query requests the org served
	peak    int64
}

// walk pages through the result in a warm execution environment. The
// environment is started, warmed with a one-record query, and stopped after.
func (q *queryOrg) walk(ctx context.Context) (pagingRun, error) {
	var r pagingRun
	e, err := q.fn.start(ctx)
	if err != nil {
		return r, err
	}
	defer e.Close()
	warm, _ := json.Marshal(map[string]any{"salesforceQuery": "SELECT Id FROM Account LIMIT 1"})
	if _, _, err := invoke(ctx, e, warm, "200"); err != nil {
		return r, fmt.Errorf("query warm-up: %w", err)
	}
	before := q.org.Requests("query")
	var cursor *string
	start := time.Now()
	for {
		event, _ := json.Marshal(map[string]any{"salesforceQuery": largeSOQL, "pageSize": 2000, "cursor": cursor})
		out, _, err := invoke(ctx, e, event, "200")
		if err != nil {
			return r, fmt.Errorf("query output %d: %w", r.outputs+1, err)
		}
		r.outputs++
		r.records += out.RecordCount
		if out.Done {
			break
		}
		if out.Cursor == nil || r.outputs > q.n {
			return r, fmt.Errorf("query output %d: not done and no cursor", r.outputs)
		}
		cursor = out.Cursor
	}
	r.took = time.Since(start)
	r.pages = q.org.Requests("query") - before
	if r.records != q.n {
		return r, fmt.Errorf("paging returned %d records, want %d", r.records, q.n)
	}
	mem, err := bootstrapMemory(q.fn.bootstrap)
	r.peak = mem.Peak
	return r, err
}

// merged asks for the whole result in one output, in a new execution
// environment: with the output budget this ends in an UNKNOWN_ERROR naming
// the budget once the output is full. It returns the answer, how long it took
// and the bootstrap's peak memory.
func (q *queryOrg) merged(ctx context.Context) (rie.InvokeResult, time.Duration, int64, error) {
	e, err := q.fn.start(ctx)
	if err != nil {
		return rie.InvokeResult{}, 0, 0, err
	}
	defer e.Close()
	warm, _ := json.Marshal(map[string]any{"salesforceQuery": "SELECT Id FROM Account LIMIT 1"})
	if _, _, err := invoke(ctx, e, warm, "200"); err != nil {
		return rie.InvokeResult{}, 0, 0, fmt.Errorf("query warm-up: %w", err)
	}
	event, _ := json.Marshal(map[string]any{"salesforceQuery": largeSOQL})
	start := time.Now()
	res, err := e.Invoke(ctx, event)
	took := time.Since(start)
	if err != nil {
		return res, took, 0, err
	}
	mem, err := bootstrapMemory(q.fn.bootstrap)
	return res, took, mem.Peak, err
}

// largeQuery measures the QUERY function on 10,000 and c.records Accounts:
// peak memory and time per record of the paged walk (alternating the two
// sizes), and what a single unpaged QUERY of the large result does.
func largeQuery(ctx context.Context, c config, w *world, t *table) error {
	small, large := c.records/5, c.records
	progress(c, "large QUERY: seeding orgs of %d and %d Accounts", small, large)
	orgs := [2]*queryOrg{}
	for i, n := range []int{small, large} {
		q, err := newQueryOrg(ctx, w, n)
		if err != nil {
			return err
		}
		defer q.org.Close()
		orgs[i] = q
	}
	rounds := c.queryRounds
	progress(c, "large QUERY: %d rounds of paging through %d and %d records, alternating", rounds, small, large)
	var perRecord [2]sample
	var runs [2][]pagingRun
	for r := range rounds {
		for k := range 2 {
			i := (r + k) % 2
			run, err := orgs[i].walk(ctx)
			if err != nil {
				return fmt.Errorf("%d records: %w", orgs[i].n, err)
			}
			runs[i] = append(runs[i], run)
			perRecord[i] = append(perRecord[i], float64(run.took.Microseconds())/float64(run.records))
		}
	}
	sec := "Large QUERY (QUERY function under the emulator, secret from moto, records seeded in the org)"
	for i, q := range orgs {
		last := runs[i][len(runs[i])-1]
		peak := int64(0)
		for _, run := range runs[i] {
			peak = max(peak, run.peak)
		}
		rw := row{Section: sec,
			Figure: fmt.Sprintf("%d records paged (pageSize 2,000, cursor): peak resident (VmHWM) over the walk", q.n),
			Value:  mb(peak),
			Spread: fmt.Sprintf("%d outputs of ≤ 240,000 bytes, %d org pages, %s per walk (median)", last.outputs, last.pages, time.Duration(medianDuration(runs[i])).Round(time.Millisecond)),
			Target: "fits 128 MB", Met: met(peak < 128<<20)}
		t.add(rw)
	}
	flat := perRecord[1].median() / perRecord[0].median()
	t.add(row{Section: sec, Figure: fmt.Sprintf("time per record, %d vs %d records", large, small),
		Value: fmt.Sprintf("%.2f µs", perRecord[1].median()), Other: fmt.Sprintf("%.2f µs", perRecord[0].median()), Ratio: ratio(flat),
		Spread: fmt.Sprintf("%d records %s µs; %d records %s µs", large, perRecord[1].spread("%.2f"), small, perRecord[0].spread("%.2f")),
		Target: "flat (≤ 1.2x)", Met: met(flat <= 1.2)})

	progress(c, "large QUERY: one unpaged QUERY of %d records", large)
	res, took, peak, err := orgs[1].merged(ctx)
	if err != nil {
		return err
	}
	what := fmt.Sprintf("%s in %s: %s", res.ErrorType, took.Round(time.Millisecond), shorten(res.ErrorMessage, 140))
	if !res.Failed() {
		what = fmt.Sprintf("a result of %d bytes in %s", len(res.Body), took.Round(time.Millisecond))
	}
	t.add(row{Section: sec, Figure: fmt.Sprintf("%d records unpaged (salesforceQuery alone): peak resident (VmHWM)", large),
		Value: mb(peak), Spread: what, Target: "fits 128 MB", Met: met(peak < 128<<20)})
	if err := bigPage(ctx, c, w, t, sec); err != nil {
		return err
	}
	if c.goBench {
		return queryBenchmarks(ctx, c, w, t, sec)
	}
	return nil
}

// bigPage measures the review's case: one query page of 2,000 records of
// 28 KB each (56 MB of JSON), of which 8 fit the output. The page is read as
// a stream, so the function's memory follows the output budget.
func bigPage(ctx context.Context, c config, w *world, t *table, sec string) error {
	const n, size = 2_100, 28_000 // more than one page: the first has a cursor to cut at
	progress(c, "large QUERY: one page of %d records of %d bytes", n, size)
	org, err := sforg.Start(orgOptions)
	if err != nil {
		return err
	}
	defer org.Close()
	long := strings.Repeat("lorem ipsum ", size/12+1)[:size]
	// One record more than the page: the page is then not the result's last
	// and carries the nextRecordsUrl a cut output continues from (a result
	// that is one page has no cursor to resume in the middle of).
	for i := range n + 1 {
		if _, err := org.Store().Insert("Account", map[string]any{"Name": fmt.Sprintf("Long %04d", i), "Description": long}); err != nil {
			return err
		}
	}
	secret, err := stack.SecretString(org.Settings())
	if err != nil {
		return err
	}
	if err := w.moto.CreateSecret(ctx, "sfconnect/bench-big-page", secret); err != nil {
		return err
	}
	fn := function{name: "query", bootstrap: w.bins["query"], env: stack.FunctionEnv("sfconnect/bench-big-page", w.moto)}
	e, err := fn.start(ctx)
	if err != nil {
		return err
	}
	defer e.Close()
	event, _ := json.Marshal(map[string]any{"salesforceQuery": "SELECT Id, Name, Description FROM Account", "pageSize": 2000})
	start := time.Now()
	out, _, err := invoke(ctx, e, event, "200")
	if err != nil {
		return fmt.Errorf("big page: %w", err)
	}
	took := time.Since(start)
	mem, err := bootstrapMemory(fn.bootstrap)
	if err != nil {
		return err
	}
	t.add(row{Section: sec, Figure: fmt.Sprintf("one page of %d records of %d KB (%d MB of JSON), pageSize 2,000: peak resident (VmHWM)", n, size/1000, n*size/1_000_000),
		Value: mb(mem.Peak), Spread: fmt.Sprintf("%d records in the output, cursor %v, %s", out.RecordCount, out.Cursor != nil, took.Round(time.Millisecond)),
		Target: "fits 128 MB", Met: met(mem.Peak < 128<<20 && out.RecordCount > 0 && out.Cursor != nil)})
	return nil
}

func medianDuration(runs []pagingRun) float64 {
	s := make(sample, len(runs))
	for i, r := range runs {
		s[i] = float64(r.took)
	}
	return s.median()
}

func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
