package sforg

// Idempotency-Key on UI API record writes (POST /ui-api/records, PATCH and
// DELETE /ui-api/records/{id}), as Salesforce documents it ("Prevent Record
// Duplication with Idempotent Record Writes" in the UI API guide; Beta from API
// 56.0, Winter '23; the current guide has no Beta label, and the release that
// made it generally available is [UNCONFIRMED]):
//
//   - the first write that carries a key runs and its answer is stored; a later
//     request to the same resource with the same key gets the stored answer
//     (status, headers, body) and nothing runs again;
//   - a stored answer is kept for 30 days, then the key is new again;
//   - an answer larger than 9 MB is not stored: the write succeeds, but a
//     resend with the key runs again (and duplicates).
//
// [UNCONFIRMED] Salesforce does not document the rest; the emulator follows
// the IETF HTTPAPI draft "The Idempotency-Key HTTP Header Field" and lets
// Options.Idempotency change the statuses:
//
//   - a key that is not one UUID: 400 (IdempotencyOptions.MalformedStatus);
//   - the same key with another request (method, resource or body): 422
//     (MismatchStatus). Bodies are compared as JSON, so key order and spacing
//     do not matter;
//   - the same key while its first request is still running: 409
//     (InFlightStatus);
//   - keys belong to the user of the session: another user's request with the
//     same key is a request of its own. The IETF draft advises scoping keys to
//     the client, and replaying one user's answer to another would leak it;
//   - only 2xx answers are stored: a refused write (validation error, 404)
//     changed nothing, so the key stays unused and a corrected resend runs.
//     Faults injected before the handler (5xx, 401, 403, drop-before) never
//     reach this layer, so they do not consume the key either;
//   - the key is compared case-insensitively (a UUID is, by RFC 4122), and the
//     API version is not part of the resource: a resend at another version
//     replays the first answer;
//   - versions before 56.0 ignore the header: the write runs each time;
//   - the error bodies are REST error arrays with this emulator's own codes
//     (idempotencyErrors below);
//   - every request, replays included, counts against the daily API
//     allocation, as it passed the session check.

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"
)

// IdempotencyOptions tunes the UI API's Idempotency-Key handling. The zero
// value is Salesforce's documented behaviour, with the IETF draft's statuses
// where Salesforce documents none.
type IdempotencyOptions struct {
	TTL              time.Duration // how long a stored answer is replayed; default 30 days
	MaxResponseBytes int           // larger answers are not stored; default 9 MB (9 << 20)
	MalformedStatus  int           // a key that is not one UUID; default 400 [UNCONFIRMED]
	MismatchStatus   int           // the key was used with another request; default 422 [UNCONFIRMED]
	InFlightStatus   int           // the key's first request is still running; default 409 [UNCONFIRMED]
	// RequireUUIDv4 also refuses UUIDs whose version is not 4. Salesforce asks
	// for a version 4 UUID; whether it checks the version is [UNCONFIRMED], so
	// by default any RFC 4122 UUID is taken.
	RequireUUIDv4 bool
}

// idempotencyVersion is the first API version that honours Idempotency-Key.
const idempotencyVersion = 56.0

// The errors of the idempotency layer ([UNCONFIRMED] codes and wording; the
// statuses come from IdempotencyOptions).
var idempotencyErrors = struct{ malformed, mismatch, inFlight APIError }{
	malformed: APIError{ErrorCode: "INVALID_IDEMPOTENCY_KEY", Message: "The Idempotency-Key header must hold one UUID, such as 2f0c1a9e-7b7d-4c1e-9b1e-5a0d3f6e8c21."},
	mismatch:  APIError{ErrorCode: "IDEMPOTENCY_KEY_REUSED", Message: "This Idempotency-Key was already used for a different request. Use a new key for a new request."},
	inFlight:  APIError{ErrorCode: "IDEMPOTENT_REQUEST_IN_PROGRESS", Message: "A request with this Idempotency-Key is still being processed. Try again later."},
}

// idempotency holds the stored answers of one org.
type idempotency struct {
	opts IdempotencyOptions
	now  func() time.Time

	mu      sync.Mutex
	entries map[idemKey]*idemEntry
	expiry  []idemExpiry // stored answers in the order they were stored, for purging
	// reserved, when set, runs after a request reserved its key and before its
	// write runs (a test seam: export_test.go).
	reserved func()
}

// idemKey scopes a key to the user of the session.
type idemKey struct{ user, key string }

// idemEntry is a key in use: reserved by a running request, or done with its
// stored answer.
type idemEntry struct {
	request [sha256.Size]byte // method, resource and body of the first request
	done    bool
	status  int
	header  http.Header
	body    []byte
	expires time.Time
}

type idemExpiry struct {
	key     idemKey
	entry   *idemEntry
	expires time.Time
}

func newIdempotency(opts IdempotencyOptions, now func() time.Time) *idempotency {
	if opts.TTL <= 0 {
		opts.TTL = 30 * 24 * time.Hour
	}
	if opts.MaxResponseBytes <= 0 {
		opts.MaxResponseBytes = 9 << 20
	}
	if opts.MalformedStatus == 0 {
		opts.MalformedStatus = http.StatusBadRequest
	}
	if opts.MismatchStatus == 0 {
		opts.MismatchStatus = http.StatusUnprocessableEntity
	}
	if opts.InFlightStatus == 0 {
		opts.InFlightStatus = http.StatusConflict
	}
	return &idempotency{opts: opts, now: now, entries: map[idemKey]*idemEntry{}}
}

// reset forgets every key (Server.Reset).
func (i *idempotency) reset() {
	i.mu.Lock()
	defer i.mu.Unlock()
	clear(i.entries)
	i.expiry = nil
}

// idempotent runs write, the handler of a UI API write, under the request's
// Idempotency-Key: at most once per user and key while the stored answer
// lives. method is the method the route serves (a POST with
// ?_HttpMethod=PATCH is a PATCH) and body the request body, already read.
// Reserving the key, running the write and storing its answer happen in that
// order, and a concurrent request with the same key sees the reservation, so
// two requests never both write.
func (s *Server) idempotent(w http.ResponseWriter, r *http.Request, c *call, method string, body []byte, write func(http.ResponseWriter)) {
	values := r.Header.Values("Idempotency-Key")
	if len(values) == 0 || !c.atLeast(idempotencyVersion) {
		write(w)
		return
	}
	i := s.idem
	key, ok := i.parseKey(values)
	if !ok {
		writeFailure(w, &Failure{Status: i.opts.MalformedStatus, Errors: []APIError{idempotencyErrors.malformed}})
		return
	}
	k := idemKey{user: c.userID, key: key}
	fp := fingerprint(method, strings.TrimPrefix(r.URL.Path, c.base), body)

	i.mu.Lock()
	now := i.now()
	i.purge(now)
	e := i.entries[k]
	if e != nil && e.done && !now.Before(e.expires) {
		delete(i.entries, k)
		e = nil
	}
	switch {
	case e != nil && e.request != fp:
		i.mu.Unlock()
		writeFailure(w, &Failure{Status: i.opts.MismatchStatus, Errors: []APIError{idempotencyErrors.mismatch}})
		return
	case e != nil && !e.done:
		i.mu.Unlock()
		writeFailure(w, &Failure{Status: i.opts.InFlightStatus, Errors: []APIError{idempotencyErrors.inFlight}})
		return
	case e != nil:
		status, header, stored := e.status, e.header, e.body
		i.mu.Unlock()
		replay(w, status, header, stored)
		return
	}
	e = &idemEntry{request: fp}
	i.entries[k] = e
	hook := i.reserved
	i.mu.Unlock()

	stored := false
	defer func() {
		if !stored { // the write panicked: free the key
			i.mu.Lock()
			if i.entries[k] == e {
				delete(i.entries, k)
			}
			i.mu.Unlock()
		}
	}()
	if hook != nil {
		hook()
	}
	rec := &capture{header: http.Header{}}
	write(rec)
	status := rec.statusCode()

	i.mu.Lock()
	if status >= 200 && status < 300 && rec.body.Len() <= i.opts.MaxResponseBytes {
		e.done, e.status, e.header, e.body = true, status, rec.header, rec.body.Bytes()
		e.expires = i.now().Add(i.opts.TTL)
		i.expiry = append(i.expiry, idemExpiry{key: k, entry: e, expires: e.expires})
	} else if i.entries[k] == e {
		delete(i.entries, k) // not stored: the key is free again
	}
	stored = true
	i.mu.Unlock()
	replay(w, status, rec.header, rec.body.Bytes())
}

// parseKey checks the Idempotency-Key header: exactly one UUID in its textual
// form (8-4-4-4-12 hexadecimal digits). It returns the key in lower case.
func (i *idempotency) parseKey(values []string) (string, bool) {
	if len(values) != 1 {
		return "", false
	}
	key := strings.ToLower(strings.TrimSpace(values[0]))
	if len(key) != 36 {
		return "", false
	}
	for n := 0; n < len(key); n++ {
		c := key[n]
		switch n {
		case 8, 13, 18, 23:
			if c != '-' {
				return "", false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				return "", false
			}
		}
	}
	if i.opts.RequireUUIDv4 && (key[14] != '4' || !strings.ContainsRune("89ab", rune(key[19]))) {
		return "", false
	}
	return key, true
}

// purge drops stored answers that expired. The caller holds i.mu.
func (i *idempotency) purge(now time.Time) {
	n := 0
	for n < len(i.expiry) && !now.Before(i.expiry[n].expires) {
		x := i.expiry[n]
		if i.entries[x.key] == x.entry {
			delete(i.entries, x.key)
		}
		n++
	}
	if n > 0 {
		i.expiry = append(i.expiry[:0], i.expiry[n:]...)
	}
}

// fingerprint identifies a request for the mismatch check: the method, the
// resource below the version (/ui-api/records/{id}) and the body as JSON with
// sorted keys (the raw bytes when it is not JSON).
func fingerprint(method, resource string, body []byte) [sha256.Size]byte {
	canonical := body
	var v any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&v); err == nil && !dec.More() {
		if b, err := json.Marshal(v); err == nil {
			canonical = b
		}
	}
	h := sha256.New()
	h.Write([]byte(method))
	h.Write([]byte{0})
	h.Write([]byte(strings.TrimSuffix(resource, "/")))
	h.Write([]byte{0})
	h.Write(canonical)
	var out [sha256.Size]byte
	h.Sum(out[:0])
	return out
}

// replay writes a stored (or just captured) answer.
func replay(w http.ResponseWriter, status int, header http.Header, body []byte) {
	for k, v := range header {
		w.Header()[k] = append([]string(nil), v...)
	}
	w.WriteHeader(status)
	w.Write(body) //nolint:errcheck // the client went away
}

// capture is a ResponseWriter that keeps the answer for storing.
type capture struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (c *capture) Header() http.Header { return c.header }

func (c *capture) WriteHeader(status int) {
	if c.status == 0 {
		c.status = status
	}
}

func (c *capture) Write(b []byte) (int, error) {
	c.WriteHeader(http.StatusOK)
	return c.body.Write(b)
}

func (c *capture) statusCode() int {
	if c.status == 0 {
		return http.StatusOK
	}
	return c.status
}
