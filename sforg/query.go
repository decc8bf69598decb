package sforg

import (
	"cmp"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/sfconnect/connector/sforg/internal/ids"
	"github.com/sfconnect/connector/sforg/soql"
	"github.com/sfconnect/connector/shared/sfid"
)

// Paging rules of the REST query resource (docs/salesforce-protocol.md §4):
// a batch holds 2,000 records unless Sforce-Query-Options asks for 200..2,000.
const (
	defaultBatchSize = 2000
	minBatchSize     = 200
	maxBatchSize     = 2000
)

// Cursor limits as Salesforce documents them for query locators: a user holds
// at most 10 open cursors (opening an 11th releases that user's oldest one) and
// a cursor left idle for 15 minutes is released. A released locator answers
// 400 INVALID_QUERY_LOCATOR.
const (
	maxCursorsPerUser = 10
	cursorIdle        = 15 * time.Minute
)

// queryRoutes serves query, queryAll and query locators.
func (s *Server) queryRoutes() {
	q := &queryAPI{s: s, cursors: newCursors(s.opts.Now)}
	s.handle("GET /services/data/{version}/query", s.api("query", q.query(false)))
	s.handle("GET /services/data/{version}/queryAll", s.api("query", q.query(true)))
	// nextRecordsUrl always says /query/, even for queryAll (D-qall); a locator
	// under /queryAll/ is accepted as well.
	s.handle("GET /services/data/{version}/query/{locator}", s.api("query", q.more))
	s.handle("GET /services/data/{version}/queryAll/{locator}", s.api("query", q.more))
}

// queryAPI holds the org's open query cursors.
type queryAPI struct {
	s       *Server
	cursors *cursors
}

func (q *queryAPI) query(all bool) func(http.ResponseWriter, *http.Request, *call) {
	return func(w http.ResponseWriter, r *http.Request, c *call) {
		if explain, ok := r.URL.Query()["explain"]; ok && !all {
			q.explain(w, r, c, explain[0]) // resources.go
			return
		}
		values, ok := r.URL.Query()["q"]
		if !ok || len(values) == 0 {
			writeFailure(w, fail(http.StatusBadRequest, "MALFORMED_QUERY", "A query string has to be specified"))
			return
		}
		text := values[0]
		if strings.TrimSpace(text) == "" {
			writeFailure(w, fail(http.StatusBadRequest, "MALFORMED_QUERY", "SOQL statements cannot be empty or null"))
			return
		}
		res, err := q.s.store.Query(text, all)
		if err != nil {
			writeFailure(w, queryFailure(err))
			return
		}
		batch := batchSize(r.Header.Get("Sforce-Query-Options"))
		page := &cursor{records: res.Records, total: res.TotalSize, batch: batch}
		if len(res.Records) > batch {
			page = q.cursors.open(c.userID, res, batch)
		}
		writePage(w, c.base, page, 0)
	}
}

// more serves GET /query/{locator}: the next page of an open cursor.
func (q *queryAPI) more(w http.ResponseWriter, r *http.Request, c *call) {
	id, offset, ok := parseLocator(r.PathValue("locator"))
	var cur *cursor
	if ok {
		cur = q.cursors.get(id)
	}
	if cur == nil || offset >= len(cur.records) {
		writeFailure(w, fail(http.StatusBadRequest, "INVALID_QUERY_LOCATOR", "invalid query locator"))
		return
	}
	writePage(w, c.base, cur, offset)
}

// writePage serialises records[offset:offset+batch] of a cursor; base is the
// versioned REST root, e.g. /services/data/v45.0.
func writePage(w http.ResponseWriter, base string, cur *cursor, offset int) {
	end := min(offset+cur.batch, len(cur.records))
	next := ""
	if end < len(cur.records) {
		next = base + "/query/" + cur.id + "-" + strconv.Itoa(end)
	}
	b := make([]byte, 0, 64+(end-offset)*256)
	b = appendPage(b, base, cur.total, next, cur.records[offset:end])
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(http.StatusOK)
	w.Write(b) //nolint:errcheck // the client went away
}

// queryFailure turns an engine error into Salesforce's 400 error array; any
// other error is an internal one.
func queryFailure(err error) *Failure {
	var qe *soql.Error
	if errors.As(err, &qe) {
		return fail(http.StatusBadRequest, qe.Code, "%s", qe.Message)
	}
	var f *Failure
	if errors.As(err, &f) {
		return f
	}
	return fail(http.StatusInternalServerError, "UNKNOWN_EXCEPTION", "An unexpected error occurred. Please include this ErrorId if you contact support: %s", errorID())
}

// errorID imitates the reference Salesforce puts in UNKNOWN_EXCEPTION messages.
func errorID() string {
	t := randomToken()
	return t[5:14] + "-" + t[14:19] + " (" + strconv.Itoa(int(t[20])*1000+int(t[21])) + ")"
}

// batchSize reads "batchSize=N" from Sforce-Query-Options. Salesforce treats
// the value as a hint: outside 200..2,000 it is clamped here, and an unreadable
// header leaves the default. [UNCONFIRMED: whether Salesforce rejects a bad
// value with 400 instead of ignoring it.]
func batchSize(header string) int {
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "batchSize") {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return defaultBatchSize
		}
		return min(max(n, minBatchSize), maxBatchSize)
	}
	return defaultBatchSize
}

// parseLocator splits "01gxxxxxxxxxxxxxxx-2000" into the cursor id and offset.
func parseLocator(s string) (id string, offset int, ok bool) {
	head, tail, found := strings.Cut(s, "-")
	if !found {
		return "", 0, false
	}
	id = sfid.To18(head)
	n, err := strconv.Atoi(tail)
	if id == "" || !strings.HasPrefix(id, "01g") || err != nil || n <= 0 {
		return "", 0, false
	}
	return id, n, true
}

// cursor is an open query locator: the whole result, materialised once when the
// query ran, as Salesforce's locator is a snapshot of the result set.
type cursor struct {
	id      string
	user    string
	records []*soql.Record
	total   int
	batch   int
	used    time.Time
}

// cursors are the org's open query locators.
type cursors struct {
	mu     sync.Mutex
	now    func() time.Time
	seq    uint64
	byID   map[string]*cursor
	byUser map[string][]*cursor // oldest first
}

func newCursors(now func() time.Time) *cursors {
	return &cursors{now: now, byID: map[string]*cursor{}, byUser: map[string][]*cursor{}}
}

// open stores a result for paging, releasing the user's oldest cursor beyond
// the limit.
func (cs *cursors) open(user string, res *soql.Result, batch int) *cursor {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	now := cs.now()
	cs.sweep(now)
	cs.seq++
	c := &cursor{id: ids.New("01g", "5g0", cs.seq), user: user, records: res.Records, total: res.TotalSize, batch: batch, used: now}
	cs.byID[c.id] = c
	list := append(cs.byUser[user], c)
	for len(list) > maxCursorsPerUser {
		delete(cs.byID, list[0].id)
		list = list[1:]
	}
	cs.byUser[user] = list
	return c
}

// get returns a live cursor and marks it used.
func (cs *cursors) get(id string) *cursor {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	now := cs.now()
	cs.sweep(now)
	c, ok := cs.byID[id]
	if !ok {
		return nil
	}
	c.used = now
	return c
}

// sweep releases cursors idle for longer than cursorIdle. The caller holds mu.
func (cs *cursors) sweep(now time.Time) {
	for user, list := range cs.byUser {
		kept := list[:0]
		for _, c := range list {
			if now.Sub(c.used) > cursorIdle {
				delete(cs.byID, c.id)
				continue
			}
			kept = append(kept, c)
		}
		if len(kept) == 0 {
			delete(cs.byUser, user)
		} else {
			cs.byUser[user] = kept
		}
	}
}

// appendPage writes one query response page. Keys come in Salesforce's order:
// totalSize, done, nextRecordsUrl (only when not done), records.
func appendPage(b []byte, base string, total int, next string, recs []*soql.Record) []byte {
	b = append(b, `{"totalSize":`...)
	b = strconv.AppendInt(b, int64(total), 10)
	b = append(b, `,"done":`...)
	b = strconv.AppendBool(b, next == "")
	if next != "" {
		b = append(b, `,"nextRecordsUrl":`...)
		b = appendString(b, next)
	}
	b = append(b, `,"records":[`...)
	for i, rec := range recs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendRecord(b, base, rec)
	}
	return append(b, "]}"...)
}

// appendRecord writes a record: attributes first, then the fields in SELECT
// order. Aggregate rows carry only a type; other rows also their REST url.
func appendRecord(b []byte, base string, rec *soql.Record) []byte {
	b = append(b, `{"attributes":{"type":`...)
	b = appendString(b, rec.Type)
	if rec.ID != "" && rec.Type != "AggregateResult" {
		b = append(b, `,"url":"`...)
		b = appendEscaped(b, base)
		b = append(b, "/sobjects/"...)
		b = appendEscaped(b, cmp.Or(rec.Object, rec.Type)) // a Name record's url names its own type (pending.go)
		b = append(b, '/')
		b = appendEscaped(b, rec.ID)
		b = append(b, '"')
	}
	b = append(b, '}')
	for _, f := range rec.Fields {
		b = append(b, ',')
		b = appendString(b, f.Name)
		b = append(b, ':')
		b = appendValue(b, base, f.Value)
	}
	return append(b, '}')
}

// appendValue writes a field value with its JSON type preserved: a parent
// relationship as a nested record, a child subquery as {totalSize,done,records}.
func appendValue(b []byte, base string, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return appendString(b, x)
	case bool:
		return strconv.AppendBool(b, x)
	case float64:
		return appendFloat(b, x)
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case *soql.Record:
		if x == nil {
			return append(b, "null"...)
		}
		return appendRecord(b, base, x)
	case *soql.Result:
		if x == nil {
			return append(b, "null"...)
		}
		return appendPage(b, base, x.TotalSize, "", x.Records)
	case map[string]any: // a compound field (address.go)
		return appendCompound(b, base, x)
	}
	return append(b, "null"...)
}

// appendFloat formats a number as encoding/json does (shortest form, exponent
// only for very large or small magnitudes).
func appendFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	n := len(b)
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// 1e-07 -> 1e-7, as encoding/json writes it.
		if m := len(b); m-n >= 4 && b[m-4] == 'e' && b[m-3] == '-' && b[m-2] == '0' {
			b[m-2] = b[m-1]
			b = b[:m-1]
		}
	}
	return b
}

// appendString writes a JSON string. Unlike encoding/json it leaves <, > and &
// alone, as Salesforce does.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	b = appendEscaped(b, s)
	return append(b, '"')
}

// appendEscaped writes the inside of a JSON string.
func appendEscaped(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(b, s[start:]...)
}
