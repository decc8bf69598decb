package connector

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"strconv"
	"sync"

	"github.com/sfconnect/connector/shared/blob"
	"github.com/sfconnect/connector/shared/faults"
	"github.com/sfconnect/connector/shared/salesforce/transport"
)

// The CSV of an import is read twice, as a stream each time: once to find
// where a part ends (the last whole row that keeps the upload under the
// per-job limit) and to check it is CSV Salesforce can read, then again from
// S3 straight into the job's upload, with its exact length. Neither pass
// holds more than a row and the header in memory.

// delimiters are the column delimiters of Bulk API 2.0 jobs.
var delimiters = map[string]rune{
	"COMMA": ',', "BACKQUOTE": '`', "CARET": '^', "PIPE": '|', "SEMICOLON": ';', "TAB": '\t',
}

// Upload limits. Salesforce takes at most 150 MB per upload once it has
// encoded it in base64, which is about 100 MB of CSV: a part is at most that,
// the header included ("Upload Job Data").
const (
	maxJobBytes = 100_000_000
	minJobBytes = 1024
	// maxHeaderBytes bounds the header row (Salesforce allows 5,000 fields).
	maxHeaderBytes = 1 << 20
)

// part is where one part's rows lie in the source.
type part struct {
	header     []byte // the header row as uploaded: its line ending kept, a UTF-8 byte order mark dropped
	lineEnding string // LF or CRLF, as the header row ends
	start, end int64  // the part's rows are bytes [start, end) of the source
	last       bool   // no rows after end
	rows       int64
	etag       string // the version of the source read
}

// size is the part's upload: the header and its rows.
func (p part) size() int64 { return int64(len(p.header)) + p.end - p.start }

// capture keeps the first bytes read through it, up to a limit.
type capture struct {
	r     io.Reader
	b     bytes.Buffer
	limit int
}

func (c *capture) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if room := c.limit - c.b.Len(); room > 0 {
		c.b.Write(p[:min(n, room)])
	}
	return n, err
}

var bom = []byte{0xEF, 0xBB, 0xBF}

// newReader is a CSV reader as Salesforce reads job data: every row as long as
// the header, quotes only around whole values.
func newReader(r io.Reader, delim rune, fields int) *csv.Reader {
	cr := csv.NewReader(r)
	cr.Comma = delim
	cr.FieldsPerRecord = fields
	cr.ReuseRecord = true
	return cr
}

// planPart reads the source from offset (its header row first) and returns
// the part that starts there: as many whole rows as fit maxBytes with the
// header. A row that is not valid CSV, or has another number of values than
// the header, is INVALID_INPUT naming where it is; so is a source without
// rows. etag, when set, pins the source to the version the first part read.
func planPart(ctx context.Context, store blob.Store, src blob.Location, etag string, offset, maxBytes int64, delim rune) (part, error) {
	var p part
	r, info, err := store.Open(ctx, src, 0, -1, etag)
	if err != nil {
		return p, err
	}
	defer func() { r.Close() }()
	p.etag = info.ETag
	if offset > info.Size {
		return p, faults.New(faults.InvalidInput, "offset %d is past the end of %s (%d bytes)", offset, src, info.Size)
	}
	head := &capture{r: r, limit: maxHeaderBytes}
	cr := newReader(bufio.NewReaderSize(head, 64<<10), delim, 0)
	fields, err := cr.Read()
	switch {
	case err == io.EOF:
		return p, faults.New(faults.InvalidInput, "%s is empty: an import needs a header row and rows", src)
	case err != nil:
		return p, badCSV(src, "the header row", err)
	case cr.InputOffset() > maxHeaderBytes:
		return p, faults.New(faults.InvalidInput, "the header row of %s is longer than %d bytes", src, maxHeaderBytes)
	}
	headerEnd := cr.InputOffset()
	p.header = bytes.TrimPrefix(head.b.Bytes()[:headerEnd], bom)
	p.lineEnding = "LF"
	if bytes.HasSuffix(p.header, []byte("\r\n")) {
		p.lineEnding = "CRLF"
	}
	width := len(fields)
	if offset < headerEnd {
		offset = headerEnd
	}
	if offset > headerEnd { // a later part: read its rows from where it starts
		r.Close()
		if r, _, err = store.Open(ctx, src, offset, -1, p.etag); err != nil {
			return p, err
		}
		cr = newReader(bufio.NewReaderSize(r, 64<<10), delim, width)
	} else {
		cr.FieldsPerRecord = width
	}
	base := offset - cr.InputOffset() // a row ends at base + InputOffset in the source
	p.start, p.end = offset, offset
	room := maxBytes - int64(len(p.header))
	for {
		_, err := cr.Read()
		if err == io.EOF {
			p.last = true
			break
		}
		if err != nil {
			return p, badCSV(src, "the row after byte "+strconv.FormatInt(p.end, 10), err)
		}
		end := base + cr.InputOffset()
		if end-p.start > room {
			if p.rows == 0 {
				return p, faults.New(faults.InvalidInput, "the row at byte %d of %s does not fit one job's upload of %d bytes with the header", p.start, src, maxBytes)
			}
			break
		}
		p.end = end
		p.rows++
	}
	if p.rows == 0 {
		return p, faults.New(faults.InvalidInput, "%s has no rows after its header row", src)
	}
	return p, nil
}

// badCSV is the INVALID_INPUT of CSV Salesforce could not read.
func badCSV(src blob.Location, where string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	var fe *faults.Error
	if errors.As(err, &fe) { // the store failed while reading
		return err
	}
	return faults.New(faults.InvalidInput, "%s is not valid CSV at %s: %v", src, where, err)
}

// upload is the body of a part's upload: the header row, then the part's rows
// read from S3. It remembers the store's failure, which the upload reports
// instead of the connection it broke.
type upload struct {
	ctx   context.Context
	store blob.Store
	src   blob.Location
	p     part

	mu  sync.Mutex
	err error
}

// open gives the body of one attempt.
func (u *upload) open() (io.ReadCloser, error) {
	rows, _, err := u.store.Open(u.ctx, u.src, u.p.start, u.p.end-u.p.start, u.p.etag)
	if err != nil {
		return nil, err
	}
	body := &readCloser{Reader: io.MultiReader(bytes.NewReader(u.p.header), &noting{r: rows, u: u}), close: rows.Close}
	return transport.Sized(body, u.p.size()), nil
}

// failure is the store's error during the last attempt, if any.
func (u *upload) failure() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.err
}

type noting struct {
	r io.Reader
	u *upload
}

func (n *noting) Read(p []byte) (int, error) {
	k, err := n.r.Read(p)
	if err != nil && err != io.EOF {
		n.u.mu.Lock()
		n.u.err = err
		n.u.mu.Unlock()
	}
	return k, err
}

type readCloser struct {
	io.Reader
	close func() error
}

func (r *readCloser) Close() error { return r.close() }

// countRows copies a CSV (a result set, with its header row) to w and returns
// the rows after the header. Values may hold line breaks inside quotes, so
// rows are counted by reading the CSV, not its lines.
func countRows(w io.Writer, r io.Reader, delim rune) (int64, error) {
	cr := csv.NewReader(io.TeeReader(r, w))
	cr.Comma = delim
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = true
	var n int64
	for {
		_, err := cr.Read()
		if err == io.EOF {
			return max(n-1, 0), nil
		}
		var pe *csv.ParseError
		if err != nil && !errors.As(err, &pe) {
			return 0, err
		}
		n++
	}
}
