package connector

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/sfconnect/connector/shared/faults"
	"github.com/sfconnect/connector/shared/salesforce"
	"github.com/sfconnect/connector/shared/settings"
)

// Paging is QUERY's paging state. It sits at the top of every QUERY output,
// where a Choice state can loop on it, and mirrors what salesforceResult says:
// done, and nextRecordsUrl as cursor. On a Salesforce error answer it is done
// with no cursor and no records, so a ResultSelector never misses a field.
type Paging struct {
	Done        bool    `json:"done"`
	Cursor      *string `json:"cursor"`      // pass it as the next invoke's cursor; null when done
	RecordCount int     `json:"recordCount"` // records in this output
	TotalSize   int     `json:"totalSize"`   // records in the whole result, as Salesforce counts them
}

// Paging inputs. Salesforce serves 200 to 2,000 records a page (Sforce-Query-Options
// batchSize, docs/salesforce-protocol.md §4), so no page, and no maxRecords, is smaller
// than 200: fewer records is a LIMIT in the SOQL.
const (
	minPageSize   = 200
	maxPageSize   = 2000
	maxMaxRecords = 10_000_000

	// outputSlack is the part of the budget kept for everything in the output
	// but the records: the result's head, the paging fields with the cursor
	// (twice), the status and the API usage take a few hundred bytes.
	outputSlack = 1024
)

// queryArgs are QUERY's inputs, validated.
type queryArgs struct {
	soql       string // empty when continuing from cursor
	cursor     string
	pageSize   int // 0: Salesforce's default, 2,000
	maxRecords int // 0: one page per output
	paged      bool

	// action names the action in messages ("" is QUERY). mapRecord, when set,
	// rewrites each record before it is measured against the budget and
	// written: APPROVAL_LIST's pending work items (approvals_pending.go).
	action    string
	mapRecord func(json.RawMessage) (json.RawMessage, error)
}

func (in *input) queryArgs() (queryArgs, error) { return in.pagedArgs(in.query) }

// pagedArgs reads the paging inputs; soql gives the query to start from when
// there is no cursor.
func (in *input) pagedArgs(soql func() (string, error)) (queryArgs, error) {
	var a queryArgs
	var set bool
	var err error
	if a.pageSize, set, err = count(in.PageSize, "pageSize", minPageSize, maxPageSize); err != nil {
		return a, err
	}
	a.paged = a.paged || set
	if a.maxRecords, set, err = count(in.MaxRecords, "maxRecords", minPageSize, maxMaxRecords); err != nil {
		return a, err
	}
	a.paged = a.paged || set
	if !isAbsent(in.Cursor) {
		if a.cursor, err = text(in.Cursor, "cursor"); err != nil {
			return a, err
		}
		if !salesforce.ValidCursor(a.cursor) {
			return a, faults.New(faults.InvalidInput,
				"cursor %s is not the cursor of a QUERY output (a query locator path such as /services/data/v45.0/query/01gD0000002HU6KIAW-2000)", quote(a.cursor))
		}
		a.paged = true
		return a, nil // salesforceQuery, if any, is the query the cursor continues
	}
	a.soql, err = soql()
	return a, err
}

// query reads pages into one output until the result is done or the output is
// full. It never holds more than the output budget of records plus the page in
// hand, and stops fetching as soon as the output is full: a 50,000-record result
// costs at most one page more than the records it returns.
func (c *Connector) query(ctx context.Context, in *input) (*salesforce.Response, *Paging, error) {
	args, err := in.queryArgs()
	if err != nil {
		return nil, nil, err
	}
	return c.pages(ctx, args)
}

// pages is query's paging for any validated arguments.
func (c *Connector) pages(ctx context.Context, args queryArgs) (*salesforce.Response, *Paging, error) {
	sf := c.client
	batch := args.pageSize
	if args.maxRecords > 0 && (batch == 0 || args.maxRecords < batch) {
		batch = min(args.maxRecords, maxPageSize)
	}
	room := c.budget - outputSlack
	var r records
	// What a page may keep: the records that still fit the output, measured
	// as they will be written (escaped, a comma before all but the first).
	limit := func() salesforce.Limit {
		l := salesforce.Limit{Room: room - r.escaped, Size: func(rec json.RawMessage) int { return escapedLen(rec) + 1 }, Map: args.mapRecord}
		if r.count == 0 {
			l.Room++
		}
		if args.maxRecords > 0 {
			l.Count = args.maxRecords - r.count
		}
		return l
	}
	page, resp, err := sf.QueryPage(ctx, args.soql, args.cursor, batch, limit())
	var biggestBytes, biggestCount int // the largest whole page taken so far
	for {
		if err != nil {
			return nil, nil, err
		}
		if page == nil { // Salesforce's error answer (400 MALFORMED_QUERY...), as is
			return resp, &Paging{Done: true}, nil
		}
		before := r.escaped
		n := r.take(page.Records, room, args.maxRecords)
		if n < len(page.Records) || page.Cut {
			return c.cut(args, page, &r, n)
		}
		if page.Done {
			return r.answer(page.TotalSize, "")
		}
		if args.paged {
			// One page an output, or with maxRecords as many as certainly fit:
			// a page is cut only when even one does not.
			biggestBytes = max(biggestBytes, r.escaped-before)
			biggestCount = max(biggestCount, len(page.Records))
			if args.maxRecords == 0 || r.count+biggestCount > args.maxRecords || r.escaped+biggestBytes > room {
				return r.answer(page.TotalSize, page.NextRecordsURL)
			}
		}
		if args.maxRecords > 0 && r.count >= args.maxRecords {
			return r.answer(page.TotalSize, page.NextRecordsURL)
		}
		page, resp, err = sf.QueryPage(ctx, "", page.NextRecordsURL, batch, limit())
	}
}

// cut ends an output in the middle of a page, of which the first n records
// were taken.
func (c *Connector) cut(args queryArgs, page *salesforce.Page, r *records, n int) (*salesforce.Response, *Paging, error) {
	limit := "the " + strconv.Itoa(c.budget) + "-byte output budget (" + settings.OutputBudget + ")"
	action := cmp.Or(args.action, "QUERY")
	if args.maxRecords > 0 && r.count >= args.maxRecords {
		limit = "maxRecords " + strconv.Itoa(args.maxRecords)
	}
	switch {
	case !args.paged:
		return nil, nil, faults.New(faults.UnknownError,
			"%s result of %d records is over %s; the first %d records fit: page it with pageSize, maxRecords and cursor",
			action, page.TotalSize, limit, r.count)
	case r.count == 0:
		return nil, nil, faults.New(faults.UnknownError,
			"%s: one record of this result is %d bytes, over %s: select fewer or smaller fields",
			action, firstLeft(page, n), limit)
	}
	cursor, ok := page.Resume(n)
	if !ok {
		return nil, nil, faults.New(faults.UnknownError,
			"%s: Salesforce sent %d records in one page with no cursor to continue from, and only %d fit %s: add a LIMIT or select fewer fields",
			action, page.TotalSize, n, limit)
	}
	return r.answer(page.TotalSize, cursor)
}

// firstLeft is the size of the first record of page an output could not take.
func firstLeft(page *salesforce.Page, n int) int {
	if n < len(page.Records) {
		return escapedLen(page.Records[n])
	}
	return page.LeftCost - 1 // Size counted its comma
}

// records is the output's records, written as they will be in salesforceResult.
type records struct {
	buf     bytes.Buffer
	count   int
	escaped int // their size once escaped into the salesforceResult string, commas included
}

// take appends records while they fit in room (escaped bytes) and, when limit is
// not 0, while there are fewer than limit. It returns how many it took.
func (r *records) take(page []json.RawMessage, room, limit int) int {
	for i, rec := range page {
		cost := escapedLen(rec)
		if r.count > 0 {
			cost++
		}
		if r.escaped+cost > room || (limit > 0 && r.count >= limit) {
			return i
		}
		if r.count > 0 {
			r.buf.WriteByte(',')
		}
		r.buf.Write(rec)
		r.count++
		r.escaped += cost
	}
	return len(page)
}

// answer is the output's Salesforce-shaped result: done when cursor is empty,
// otherwise not done with the cursor as nextRecordsUrl.
func (r *records) answer(total int, cursor string) (*salesforce.Response, *Paging, error) {
	if cursor != "" && !salesforce.ValidCursor(cursor) {
		return nil, nil, faults.New(faults.UnknownError, "QUERY: Salesforce's nextRecordsUrl %s is not a query locator", quote(cursor))
	}
	var b bytes.Buffer
	b.Grow(r.buf.Len() + 160)
	b.WriteString(`{"totalSize":`)
	b.WriteString(strconv.Itoa(total))
	p := &Paging{Done: cursor == "", RecordCount: r.count, TotalSize: total}
	if p.Done {
		b.WriteString(`,"done":true`)
	} else {
		b.WriteString(`,"done":false,"nextRecordsUrl":`)
		q, _ := json.Marshal(cursor)
		b.Write(q)
		p.Cursor = &cursor
	}
	b.WriteString(`,"records":[`)
	b.Write(r.buf.Bytes())
	b.WriteString("]}")
	return &salesforce.Response{Status: http.StatusOK, Body: b.Bytes()}, p, nil
}
