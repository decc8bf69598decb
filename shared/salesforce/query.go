package salesforce

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"

	"github.com/sfconnect/connector/shared/faults"
	"github.com/sfconnect/connector/shared/salesforce/session"
	"github.com/sfconnect/connector/shared/salesforce/transport"
)

// Page is one batch of a query's answer, read as it arrived. Records stay raw:
// they are copied into an answer, never decoded.
type Page struct {
	TotalSize      int
	Done           bool
	NextRecordsURL string // the locator of the next page; empty when Done
	Records        []json.RawMessage
	// Cut says the page had records after Records that the Limit left out:
	// they were read past (or not read at all), never kept. LeftCost is the
	// cost of the first of them, as Limit.Size measures it.
	Cut      bool
	LeftCost int

	locator string // "/services/data/vNN.N/query/<id>" of the server cursor; "" when unknown
	offset  int    // position of Records[0] in the whole result
	count   int    // records of the page that were read, kept or not
}

// Limit bounds what QueryPage keeps of a page, so that memory follows the
// output budget rather than the page: records are kept in order while their
// costs fit in Room and there are fewer than Count; zero values do not
// limit. Size is the cost of one record (default: its length).
type Limit struct {
	Room  int
	Count int
	Size  func(json.RawMessage) int
	// Map, when set, rewrites each record as it is read, before it is
	// measured and kept; its error ends the read.
	Map func(json.RawMessage) (json.RawMessage, error)
}

// cursorPath is a query locator path as Salesforce writes nextRecordsUrl,
// "/services/data/v45.0/query/01gD0000002HU6KIAW-2000" (queryAll's locators say
// /query/ too; /queryAll/ is accepted), with the offset optional.
var cursorPath = regexp.MustCompile(`^(/services/data/v[0-9]{2,3}\.[0-9]/(?:query|queryAll)/[0-9A-Za-z]{1,40})(?:-([0-9]{1,9}))?$`)

// ValidCursor reports whether s is a query locator path of the org's REST API,
// the only thing QueryPage will fetch as a cursor: a cursor is caller input, and
// it must never lead a request to another path or host.
func ValidCursor(s string) bool { return cursorPath.MatchString(s) }

// QueryPage fetches one page of a query: the first page of soql when cursor is
// empty, otherwise the page at cursor (a nextRecordsUrl, see ValidCursor).
// pageSize, when not 0, asks for that many records per page with
// Sforce-Query-Options: batchSize (Salesforce takes 200..2,000, as a hint). An
// answer other than 200 (400 MALFORMED_QUERY, 400 INVALID_QUERY_LOCATOR...) comes
// back as the Response with a nil Page; a 200 answer's Response holds no body,
// its records being in the Page.
//
// The page is read as a stream and only what limit allows is kept: a 57 MB
// page of which 7 records fit the output costs those 7 records of memory,
// plus the record being read. Reading stops once the page's nextRecordsUrl is
// known and nothing more can be kept.
func (c *Client) QueryPage(ctx context.Context, soql, cursor string, pageSize int, limit Limit) (*Page, *Response, error) {
	ctx, cancel := c.bound(ctx)
	defer cancel()
	return c.queryPage(ctx, soql, cursor, pageSize, limit)
}

func (c *Client) queryPage(ctx context.Context, soql, cursor string, pageSize int, limit Limit) (*Page, *Response, error) {
	var build func(t *session.Token) transport.Request
	var locator string
	offset := 0
	if cursor == "" {
		path := "query?" + url.Values{"q": {soql}}.Encode() // always URL-encoded, never spliced
		build = func(t *session.Token) transport.Request { return rest(t, http.MethodGet, path, nil) }
	} else {
		m := cursorPath.FindStringSubmatch(cursor)
		if m == nil {
			return nil, nil, faults.New(faults.InvalidInput, "query cursor is not a query locator path such as /services/data/v45.0/query/01gD0000002HU6KIAW-2000")
		}
		if m[2] != "" {
			locator = m[1]
			offset, _ = strconv.Atoi(m[2])
		}
		build = func(t *session.Token) transport.Request {
			return transport.Request{
				Name:       "GET query (next page)",
				Method:     http.MethodGet,
				URL:        t.InstanceURL + cursor,
				Header:     map[string]string{"Accept": "application/json"},
				Bearer:     t.AccessToken,
				Idempotent: true,
			}
		}
	}
	inner := build
	build = func(t *session.Token) transport.Request {
		r := inner(t)
		if pageSize > 0 {
			r.Header["Sforce-Query-Options"] = "batchSize=" + strconv.Itoa(pageSize)
		}
		r.Read = func(body io.Reader) (any, error) { return readPage(body, limit) }
		return r
	}
	resp, err := c.do(ctx, build)
	if err != nil || resp.Status != http.StatusOK {
		return nil, resp, err
	}
	p, ok := resp.Value.(*Page)
	if !ok {
		return nil, nil, faults.New(faults.UnknownError, "query: Salesforce's answer is not a query result")
	}
	p.locator, p.offset = locator, offset
	if !p.Done && (!ValidCursor(p.NextRecordsURL) || p.count == 0) {
		// The locator is a path on the same instance; anything else, or a page
		// that brings nothing yet promises more, would not end. It is
		// Salesforce's answer that is wrong, not the caller's input.
		return nil, nil, faults.New(faults.UnknownError, "query: Salesforce's page is not done but gives no usable nextRecordsUrl")
	}
	if p.locator == "" && cursor == "" {
		// The first page starts the result; its cursor is the one its
		// nextRecordsUrl names.
		if m := cursorPath.FindStringSubmatch(p.NextRecordsURL); m != nil && m[2] != "" {
			p.locator = m[1]
		}
	}
	resp.Value = nil
	return p, resp, nil
}

// readPage reads a query answer from body, keeping the records limit allows.
// Salesforce writes totalSize, done and nextRecordsUrl before records; when
// nextRecordsUrl comes after them, the records are read past, not kept, to
// find it.
func readPage(body io.Reader, limit Limit) (*Page, error) {
	dec := json.NewDecoder(body)
	if err := expectDelim(dec, '{'); err != nil {
		return nil, err
	}
	p := &Page{}
	var total *int
	room := limit.Room
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return nil, err
		}
		switch key {
		case "totalSize":
			var n int
			if err := dec.Decode(&n); err != nil {
				return nil, err
			}
			total = &n
		case "done":
			if err := dec.Decode(&p.Done); err != nil {
				return nil, err
			}
		case "nextRecordsUrl":
			if err := dec.Decode(&p.NextRecordsURL); err != nil {
				return nil, err
			}
		case "records":
			if err := expectDelim(dec, '['); err != nil {
				return nil, err
			}
			for dec.More() {
				if p.Cut && total != nil && (p.Done || p.NextRecordsURL != "") {
					// Nothing more can be kept and the rest is known: the
					// remainder of the page is not read.
					p.TotalSize = *total
					return p, nil
				}
				var rec json.RawMessage
				if err := dec.Decode(&rec); err != nil {
					return nil, err
				}
				p.count++
				if p.Cut {
					continue
				}
				if limit.Map != nil {
					if rec, err = limit.Map(rec); err != nil {
						return nil, err
					}
				}
				cost := len(rec)
				if limit.Size != nil {
					cost = limit.Size(rec)
				}
				if (limit.Room > 0 && cost > room) || (limit.Count > 0 && len(p.Records) >= limit.Count) {
					p.Cut, p.LeftCost = true, cost
					continue
				}
				room -= cost
				p.Records = append(p.Records, rec)
			}
			if _, err := dec.Token(); err != nil { // ]
				return nil, err
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, err
			}
		}
	}
	if total == nil {
		return nil, errors.New("no totalSize")
	}
	p.TotalSize = *total
	return p, nil
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("want %q", want)
	}
	return nil
}

// Resume returns the cursor that continues the result after the first n records
// of this page. After all of them it is NextRecordsURL, Salesforce's own locator.
// Before that it is the page's server cursor at the offset of record n+1,
// "<locator>-<offset>", the same "<id>-<offset>" form as every locator
// Salesforce hands out; it reports false when the page came without a cursor (a
// result that fitted in one page has none) or is the last one.
func (p *Page) Resume(n int) (string, bool) {
	switch {
	case !p.Cut && n >= len(p.Records):
		return p.NextRecordsURL, p.NextRecordsURL != ""
	case p.locator == "" || p.offset+n == 0:
		return "", false
	}
	return p.locator + "-" + strconv.Itoa(p.offset+n), true
}

// Query runs a SOQL query and follows nextRecordsUrl until done, returning one
// answer {"totalSize","done":true,"records"} with the records of every page, in
// order. An answer other than 200 on any page (400 MALFORMED_QUERY, say) is
// returned as is. The merge appends each page's records to one buffer as the page
// arrives, so it stays linear in the size of the result. It has no size limit
// but Options.MaxBodyBytes per page: callers with an output budget page with
// QueryPage instead.
func (c *Client) Query(ctx context.Context, soql string) (*Response, error) {
	ctx, cancel := c.bound(ctx)
	defer cancel()
	p, resp, err := c.queryPage(ctx, soql, "", 0, Limit{})
	if err != nil || p == nil {
		return resp, err
	}
	var m merged
	m.start(p)
	m.add(p.Records)
	for !p.Done {
		if p, resp, err = c.queryPage(ctx, "", p.NextRecordsURL, 0, Limit{}); err != nil || p == nil {
			return resp, err
		}
		m.add(p.Records)
	}
	return &Response{Status: http.StatusOK, Body: m.finish(), Header: resp.Header}, nil
}

// merged builds the combined query answer in one buffer.
type merged struct {
	buf bytes.Buffer
	n   int
}

// maxReserve bounds the up-front reservation: a tiny first page of a huge result
// must not allocate for all of it at once (past it the buffer grows by doubling).
const maxReserve = 32 << 20

// start writes the head and reserves room for the whole result, estimated from
// the first page, so that most results need no regrowth.
func (m *merged) start(first *Page) {
	size := 64
	for _, r := range first.Records {
		size += len(r) + 1
	}
	if n := len(first.Records); n > 0 && first.TotalSize > n {
		m.buf.Grow(min(size/n*first.TotalSize+size, maxReserve))
	} else {
		m.buf.Grow(size)
	}
	m.buf.WriteString(`{"totalSize":`)
	m.buf.WriteString(strconv.Itoa(first.TotalSize))
	m.buf.WriteString(`,"done":true,"records":[`)
}

func (m *merged) add(records []json.RawMessage) {
	for _, r := range records {
		if m.n > 0 {
			m.buf.WriteByte(',')
		}
		m.buf.Write(r)
		m.n++
	}
}

func (m *merged) finish() []byte {
	m.buf.WriteString("]}")
	return m.buf.Bytes()
}
