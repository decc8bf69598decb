package salesforce

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/sfconnect/connector/shared/faults"
	"github.com/sfconnect/connector/shared/salesforce/session"
	"github.com/sfconnect/connector/shared/salesforce/transport"
)

// Page is one batch of a query's answer as Salesforce sent it. Records stay raw:
// they are copied into an answer, never decoded.
type Page struct {
	TotalSize      int
	Done           bool
	NextRecordsURL string // the locator of the next page; empty when Done
	Records        []json.RawMessage

	locator string // "/services/data/vNN.N/query/<id>" of the server cursor; "" when unknown
	offset  int    // position of Records[0] in the whole result
}

// wirePage is a page as it arrives.
type wirePage struct {
	TotalSize      *int              `json:"totalSize"`
	Done           bool              `json:"done"`
	NextRecordsURL string            `json:"nextRecordsUrl"`
	Records        []json.RawMessage `json:"records"`
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
func (c *Client) QueryPage(ctx context.Context, soql, cursor string, pageSize int) (*Page, *Response, error) {
	ctx, cancel := c.bound(ctx)
	defer cancel()
	return c.queryPage(ctx, soql, cursor, pageSize)
}

func (c *Client) queryPage(ctx context.Context, soql, cursor string, pageSize int) (*Page, *Response, error) {
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
	if pageSize > 0 {
		inner := build
		build = func(t *session.Token) transport.Request {
			r := inner(t)
			r.Header["Sforce-Query-Options"] = "batchSize=" + strconv.Itoa(pageSize)
			return r
		}
	}
	resp, err := c.do(ctx, build)
	if err != nil || resp.Status != http.StatusOK {
		return nil, resp, err
	}
	var w wirePage
	if err := json.Unmarshal(resp.Body, &w); err != nil || w.TotalSize == nil {
		return nil, nil, faults.New(faults.UnknownError, "query: Salesforce's answer is not a query result")
	}
	p := &Page{TotalSize: *w.TotalSize, Done: w.Done, NextRecordsURL: w.NextRecordsURL, Records: w.Records, locator: locator, offset: offset}
	if !p.Done && (!strings.HasPrefix(p.NextRecordsURL, "/services/data/") || len(p.Records) == 0) {
		// The locator is a path on the same instance; anything else, or a page
		// that brings nothing yet promises more, would not end.
		return nil, nil, faults.New(faults.UnknownError, "query: Salesforce's page is not done but gives no usable nextRecordsUrl")
	}
	if p.locator == "" && cursor == "" {
		// The first page starts the result; its cursor is the one its
		// nextRecordsUrl names.
		if m := cursorPath.FindStringSubmatch(p.NextRecordsURL); m != nil && m[2] != "" {
			p.locator = m[1]
		}
	}
	resp.Body = nil // the records were copied out of it
	return p, resp, nil
}

// Resume returns the cursor that continues the result after the first n records
// of this page. After all of them it is NextRecordsURL, Salesforce's own locator.
// Before that it is the page's server cursor at the offset of record n+1,
// "<locator>-<offset>", the same "<id>-<offset>" form as every locator
// Salesforce hands out; it reports false when the page came without a cursor (a
// result that fitted in one page has none) or is the last one.
func (p *Page) Resume(n int) (string, bool) {
	switch {
	case n >= len(p.Records):
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
	p, resp, err := c.queryPage(ctx, soql, "", 0)
	if err != nil || p == nil {
		return resp, err
	}
	var m merged
	m.start(p)
	m.add(p.Records)
	for !p.Done {
		if p, resp, err = c.queryPage(ctx, "", p.NextRecordsURL, 0); err != nil || p == nil {
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
