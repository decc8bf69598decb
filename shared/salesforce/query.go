package salesforce

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/sfconnect/connector/shared/faults"
)

// page is one batch of query results. Records stay raw: they are copied into the
// merged answer, never decoded.
type page struct {
	TotalSize      *int              `json:"totalSize"`
	Done           bool              `json:"done"`
	NextRecordsURL string            `json:"nextRecordsUrl"`
	Records        []json.RawMessage `json:"records"`
}

// Query runs a SOQL query and follows nextRecordsUrl until done, returning one
// answer {"totalSize","done":true,"records"} with the records of every page, in
// order. An answer other than 200 on any page (400 MALFORMED_QUERY, say) is
// returned as is. The merge appends each page's records to one buffer as the page
// arrives, so it stays linear in the size of the result.
func (c *Client) Query(ctx context.Context, soql string) (*Response, error) {
	ctx, cancel := c.bound(ctx)
	defer cancel()
	path := "query?" + url.Values{"q": {soql}}.Encode() // always URL-encoded, never spliced
	resp, err := c.do(ctx, func(t *token) request { return rest(t, http.MethodGet, path, nil) })
	if err != nil || resp.Status != http.StatusOK {
		return resp, err
	}
	p, err := decodePage(resp.Body)
	if err != nil {
		return nil, err
	}
	var m merged
	m.start(*p.TotalSize, len(resp.Body), len(p.Records))
	m.add(p.Records)
	for !p.Done {
		next := p.NextRecordsURL
		if !strings.HasPrefix(next, "/services/data/") || len(p.Records) == 0 {
			// The locator is a path on the same instance; anything else, or a page
			// that brings nothing yet promises more, would not end.
			return nil, faults.New(faults.UnknownError, "query: Salesforce's page is not done but gives no usable nextRecordsUrl")
		}
		resp, err = c.do(ctx, func(t *token) request {
			return request{
				name:       "GET query (next page)",
				method:     http.MethodGet,
				url:        t.InstanceURL + next,
				header:     map[string]string{"Accept": "application/json"},
				bearer:     t.AccessToken,
				idempotent: true,
			}
		})
		if err != nil || resp.Status != http.StatusOK {
			return resp, err
		}
		if p, err = decodePage(resp.Body); err != nil {
			return nil, err
		}
		m.add(p.Records)
	}
	return &Response{Status: http.StatusOK, Body: m.finish(), Header: resp.Header}, nil
}

func decodePage(body []byte) (*page, error) {
	var p page
	if err := json.Unmarshal(body, &p); err != nil || p.TotalSize == nil {
		return nil, faults.New(faults.UnknownError, "query: Salesforce's answer is not a query result")
	}
	return &p, nil
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
func (m *merged) start(totalSize, firstBody, firstRecords int) {
	if firstRecords > 0 && totalSize > firstRecords {
		m.buf.Grow(min(firstBody/firstRecords*totalSize+firstBody, maxReserve))
	} else {
		m.buf.Grow(firstBody + 64)
	}
	m.buf.WriteString(`{"totalSize":`)
	m.buf.WriteString(strconv.Itoa(totalSize))
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
