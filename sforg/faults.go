package sforg

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"
)

// FaultKind names one way the org misbehaves on purpose.
type FaultKind string

// The fault kinds. Each is scoped to a route (see Fault.Route).
const (
	// FaultLatency waits Fault.Delay, then answers normally.
	FaultLatency FaultKind = "latency"
	// FaultStatus answers Fault.Status (500, 502, 503, ...) without running the
	// handler. REST routes get a JSON error array (503: SERVER_UNAVAILABLE
	// "Server too busy"; 500: UNKNOWN_EXCEPTION; override with ErrorCode and
	// Message), SOAP routes a SOAP fault, the token endpoint an OAuth error
	// object; with HTML set the body is an HTML page, as Salesforce's edge
	// serves during maintenance.
	FaultStatus FaultKind = "status"
	// FaultDropBefore closes the connection before the handler runs: nothing
	// happened in the org.
	FaultDropBefore FaultKind = "drop-before"
	// FaultDropAfter runs the handler (its work is committed), then closes the
	// connection without sending the answer.
	FaultDropAfter FaultKind = "drop-after"
	// FaultSessionExpired ends the caller's session: REST answers 401
	// INVALID_SESSION_ID, SOAP an INVALID_SESSION_ID fault. Login routes ignore it.
	FaultSessionExpired FaultKind = "session-expired"
	// FaultLoginFailure makes a login fail: the token endpoint answers 400
	// invalid_grant "authentication failure", SOAP login an INVALID_LOGIN fault.
	// Only login routes ("token", "soap-login") take it.
	FaultLoginFailure FaultKind = "login-failure"
	// FaultLimitExceeded answers 403 REQUEST_LIMIT_EXCEEDED (SOAP: a
	// REQUEST_LIMIT_EXCEEDED fault). Login routes ignore it.
	FaultLimitExceeded FaultKind = "limit-exceeded"
)

// Route names, used for fault scoping and request counters. Route "*" in a
// Fault matches every route the fault kind applies to.
const (
	RouteToken          = "token"           // POST /services/oauth2/token
	RouteSOAPLogin      = "soap-login"      // POST /services/Soap/u|c/NN.N
	RouteIdentity       = "identity"        // GET /id/{orgId}/{userId}
	RouteVersions       = "versions"        // GET /services/data
	RouteResources      = "resources"       // GET /services/data/vNN.N/
	RouteDescribeGlobal = "describe-global" // GET /services/data/vNN.N/sobjects/
	RouteDescribe       = "describe"        // GET .../sobjects/{Name}/describe/
	RouteSObjectInfo    = "sobject-info"    // GET .../sobjects/{Name}/
	RouteCreate         = "sobject-create"  // POST .../sobjects/{Name}/
	RouteGet            = "sobject-get"     // GET .../sobjects/{Name}/{Id} and by external id
	RouteUpdate         = "sobject-update"  // PATCH .../sobjects/{Name}/{Id}
	RouteDelete         = "sobject-delete"  // DELETE .../sobjects/{Name}/{Id} and by external id
	RouteUpsert         = "sobject-upsert"  // PATCH .../sobjects/{Name}/{Field}/{Value}
	RouteLimits         = "limits"          // GET .../limits/
	RouteUnknown        = "unknown"         // any other /services/data path (404/405)
	RouteApexREST       = "apexrest"        // /services/apexrest/... (no Apex classes: 404)

	// sObject Collections (collections.go).
	RouteCollectionCreate = "collection-create" // POST .../composite/sobjects
	RouteCollectionUpdate = "collection-update" // PATCH .../composite/sobjects
	RouteCollectionDelete = "collection-delete" // DELETE .../composite/sobjects?ids=
	RouteCollectionGet    = "collection-get"    // GET|POST .../composite/sobjects/{Name}
	RouteCollectionUpsert = "collection-upsert" // PATCH .../composite/sobjects/{Name}/{Field} (collections_upsert.go)

	// Composite (composite.go) and sObject Tree (tree.go). A composite's
	// subrequests count and fault under their own routes, as top-level requests.
	RouteComposite     = "composite"      // GET|POST .../composite
	RouteCompositeTree = "composite-tree" // POST .../composite/tree/{Name}

	// UI API records (uiapi.go).
	RouteUIRecordCreate = "uiapi-record-create" // POST .../ui-api/records
	RouteUIRecordGet    = "uiapi-record-get"    // GET .../ui-api/records/{Id}
	RouteUIRecordUpdate = "uiapi-record-update" // PATCH .../ui-api/records/{Id}
	RouteUIRecordDelete = "uiapi-record-delete" // DELETE .../ui-api/records/{Id}

	// Bulk API 2.0 (bulk.go, bulkquery.go).
	RouteBulkIngestCreate  = "bulk-ingest-create"  // POST .../jobs/ingest
	RouteBulkIngestList    = "bulk-ingest-list"    // GET .../jobs/ingest
	RouteBulkIngestInfo    = "bulk-ingest-info"    // GET .../jobs/ingest/{id}
	RouteBulkIngestState   = "bulk-ingest-state"   // PATCH .../jobs/ingest/{id} (close, abort)
	RouteBulkIngestDelete  = "bulk-ingest-delete"  // DELETE .../jobs/ingest/{id}
	RouteBulkIngestUpload  = "bulk-ingest-upload"  // PUT .../jobs/ingest/{id}/batches
	RouteBulkIngestResults = "bulk-ingest-results" // GET .../jobs/ingest/{id}/successfulResults|failedResults|unprocessedrecords
	RouteBulkQueryCreate   = "bulk-query-create"   // POST .../jobs/query
	RouteBulkQueryList     = "bulk-query-list"     // GET .../jobs/query
	RouteBulkQueryInfo     = "bulk-query-info"     // GET .../jobs/query/{id}
	RouteBulkQueryState    = "bulk-query-state"    // PATCH .../jobs/query/{id} (abort)
	RouteBulkQueryDelete   = "bulk-query-delete"   // DELETE .../jobs/query/{id}
	RouteBulkQueryResults  = "bulk-query-results"  // GET .../jobs/query/{id}/results
	// Routes served by query.go, approvals.go and metadata.go pass their own
	// names: "query", "approvals", "metadata".
)

// Fault is one injected misbehaviour.
type Fault struct {
	Route     string        `json:"route"`               // a route name or "*" (also when empty)
	Kind      FaultKind     `json:"kind"`                // what happens
	Status    int           `json:"status,omitempty"`    // FaultStatus: the HTTP status (default 503)
	HTML      bool          `json:"html,omitempty"`      // FaultStatus: an HTML body instead of JSON/XML
	ErrorCode string        `json:"errorCode,omitempty"` // FaultStatus: override the error code (e.g. UNABLE_TO_LOCK_ROW with Status 400)
	Message   string        `json:"message,omitempty"`   // FaultStatus: override the message
	Delay     time.Duration `json:"-"`                   // FaultLatency: how long to wait
	Times     int           `json:"times,omitempty"`     // how many requests it hits; 0 means until cleared
}

// MarshalJSON writes the delay as a Go duration string.
func (f Fault) MarshalJSON() ([]byte, error) {
	type plain Fault
	out := struct {
		plain
		Delay string `json:"delay,omitempty"`
	}{plain: plain(f)}
	if f.Delay > 0 {
		out.Delay = f.Delay.String()
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads a fault posted to /__sforg/faults.
func (f *Fault) UnmarshalJSON(b []byte) error {
	type plain Fault
	var in struct {
		plain
		Delay any `json:"delay"`
	}
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	*f = Fault(in.plain)
	switch d := in.Delay.(type) {
	case nil:
	case string:
		v, err := time.ParseDuration(d)
		if err != nil {
			return fmt.Errorf("delay: %w", err)
		}
		f.Delay = v
	case float64:
		f.Delay = time.Duration(d * float64(time.Millisecond))
	default:
		return fmt.Errorf("delay: want a duration string or milliseconds")
	}
	return nil
}

func (f Fault) validate() error {
	switch f.Kind {
	case FaultLatency, FaultStatus, FaultDropBefore, FaultDropAfter, FaultSessionExpired, FaultLoginFailure, FaultLimitExceeded,
		FaultGarbageAfter, FaultHandshakeGarbage, FaultHandshakeReset: // the last three: tls.go
	default:
		return fmt.Errorf("unknown fault kind %q", f.Kind)
	}
	if f.Times < 0 {
		return fmt.Errorf("times must be 0 (until cleared) or more")
	}
	if f.Kind == FaultStatus && f.Status != 0 && (f.Status < 400 || f.Status > 599) {
		return fmt.Errorf("status %d is not an error status", f.Status)
	}
	return f.validateHandshake() // tls.go
}

// style is the body format of a route's errors.
type style int

const (
	styleREST  style = iota // JSON error array
	styleOAuth              // OAuth error object
	styleSOAP               // SOAP fault
)

// applies reports whether a fault kind makes sense for a route: login
// failures only hit the login routes, session and limit faults every other.
func (k FaultKind) applies(route string) bool {
	login := route == RouteToken || route == RouteSOAPLogin
	if k.handshake() || route == RouteTLSHandshake { // tls.go
		return k.handshake() && route == RouteTLSHandshake
	}
	switch k {
	case FaultLoginFailure:
		return login
	case FaultSessionExpired, FaultLimitExceeded:
		return !login
	}
	return true
}

// injected is a fault with its remaining count.
type injected struct {
	Fault
	left int // remaining hits; -1 for until cleared
}

// Inject adds a fault. Faults are matched in the order injected; latency faults
// add up, and the first other matching fault decides the answer.
func (s *Server) Inject(f Fault) error {
	if err := f.validate(); err != nil {
		return err
	}
	if f.Route == "" {
		f.Route = "*"
	}
	if f.Kind.handshake() && s.tls == nil {
		return fmt.Errorf("fault kind %q needs an org serving TLS (Options.TLS)", f.Kind)
	}
	if f.Kind == FaultStatus && f.Status == 0 {
		f.Status = http.StatusServiceUnavailable
	}
	left := f.Times
	if left == 0 {
		left = -1
	}
	s.ctl.Lock()
	defer s.ctl.Unlock()
	s.faults = append(s.faults, &injected{Fault: f, left: left})
	return nil
}

// ClearFaults removes every injected fault.
func (s *Server) ClearFaults() {
	s.ctl.Lock()
	defer s.ctl.Unlock()
	s.faults = nil
}

// Faults lists the faults still active, with Times set to the remaining count
// (0: until cleared).
func (s *Server) Faults() []Fault {
	s.ctl.Lock()
	defer s.ctl.Unlock()
	out := make([]Fault, 0, len(s.faults))
	for _, f := range s.faults {
		g := f.Fault
		g.Times = max(f.left, 0)
		out = append(out, g)
	}
	return out
}

// takeFaults consumes the faults that hit this request: the summed latency and
// the first non-latency fault, if any.
func (s *Server) takeFaults(route string) (time.Duration, *Fault) {
	s.ctl.Lock()
	defer s.ctl.Unlock()
	var delay time.Duration
	var hit *Fault
	kept := s.faults[:0]
	for _, f := range s.faults {
		match := (f.Route == "*" || f.Route == route) && f.Kind.applies(route)
		if match && (f.Kind == FaultLatency || hit == nil) {
			if f.Kind == FaultLatency {
				delay += f.Delay
			} else {
				g := f.Fault
				hit = &g
			}
			if f.left > 0 {
				f.left--
			}
		}
		if f.left != 0 {
			kept = append(kept, f)
		}
	}
	clear(s.faults[len(kept):])
	s.faults = kept
	return delay, hit
}

// guarded counts a request to route, applies the faults injected for it and
// otherwise runs h. Every endpoint of the org goes through it.
func (s *Server) guarded(route string, st style, w http.ResponseWriter, r *http.Request, h http.HandlerFunc) {
	s.countRequest(route)
	delay, f := s.takeFaults(route)
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	if f == nil {
		h(w, r)
		return
	}
	switch f.Kind {
	case FaultDropBefore:
		drop(w)
	case FaultDropAfter:
		rec := httptest.NewRecorder()
		h(rec, r)
		drop(w)
	case FaultGarbageAfter: // tls.go
		h(httptest.NewRecorder(), r)
		garble(w)
	case FaultStatus:
		writeFaultStatus(w, st, f)
	case FaultSessionExpired:
		if tok := bearer(r); tok != "" {
			s.RevokeSession(tok)
		}
		if st == styleSOAP {
			writeSOAPFault(w, http.StatusInternalServerError, "sf:INVALID_SESSION_ID", "INVALID_SESSION_ID: Invalid Session ID found in SessionHeader: Illegal Session", "INVALID_SESSION_ID", "Invalid Session ID found in SessionHeader: Illegal Session")
			return
		}
		writeFailure(w, errSession)
	case FaultLimitExceeded:
		if st == styleSOAP {
			writeSOAPFault(w, http.StatusInternalServerError, "sf:REQUEST_LIMIT_EXCEEDED", "REQUEST_LIMIT_EXCEEDED: TotalRequests Limit exceeded.", "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
			return
		}
		writeFailure(w, errLimit)
	case FaultLoginFailure:
		if st == styleSOAP {
			writeInvalidLogin(w)
			return
		}
		writeOAuthError(w, "invalid_grant", "authentication failure")
	}
}

// drop closes the client connection without an HTTP answer.
func drop(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

const maintenanceHTML = `<!DOCTYPE html>
<html><head><title>Service Not Available</title></head>
<body><h1>Service Not Available</h1>
<p>The server is temporarily unable to service your request due to maintenance downtime or capacity problems. Please try again later.</p>
</body></html>
`

func writeFaultStatus(w http.ResponseWriter, st style, f *Fault) {
	if f.HTML {
		w.Header().Set("Content-Type", "text/html;charset=UTF-8")
		w.WriteHeader(f.Status)
		w.Write([]byte(maintenanceHTML)) //nolint:errcheck // the client went away
		return
	}
	code, msg := f.ErrorCode, f.Message
	if code == "" {
		code = "SERVER_UNAVAILABLE"
		if f.Status == http.StatusInternalServerError {
			code = "UNKNOWN_EXCEPTION"
		}
	}
	if msg == "" {
		msg = "Server too busy"
		if code == "UNKNOWN_EXCEPTION" {
			msg = "An unexpected error occurred. Please include this ErrorId if you contact support: 1193500425-50861 (-1185442189)"
		}
	}
	switch st {
	case styleSOAP:
		writeSOAPFault(w, f.Status, "sf:"+code, code+": "+msg, code, msg)
	case styleOAuth:
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, f.Status, map[string]string{"error": strings.ToLower(code), "error_description": msg})
	default:
		writeFailure(w, &Failure{Status: f.Status, Errors: []APIError{{Message: msg, ErrorCode: code}}})
	}
}

// soap wraps a SOAP endpoint (login, Metadata API): request counting and fault
// injection with SOAP-shaped faults. The handler checks its own SessionHeader.
func (s *Server) soap(route string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.guarded(route, styleSOAP, w, r, h)
	}
}

// writeSOAPFault sends a SOAP 1.1 fault in Salesforce's shape, with the partner
// fault namespace. exceptionCode "" leaves out the detail (soapenv:Client faults).
func writeSOAPFault(w http.ResponseWriter, status int, faultcode, faultstring, exceptionCode, exceptionMessage string) {
	writeSOAPFaultNS(w, nsFaultPartner, status, faultcode, faultstring, exceptionCode, exceptionMessage)
}

// writeSOAPFaultNS is writeSOAPFault with the namespace of the "sf" prefix.
func writeSOAPFaultNS(w http.ResponseWriter, faultNS string, status int, faultcode, faultstring, exceptionCode, exceptionMessage string) {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:sf="`)
	b.WriteString(faultNS)
	b.WriteString(`" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><soapenv:Fault><faultcode>`)
	xmlText(&b, faultcode)
	b.WriteString(`</faultcode><faultstring>`)
	xmlText(&b, faultstring)
	b.WriteString(`</faultstring>`)
	if exceptionCode != "" {
		kind := "UnexpectedErrorFault"
		if exceptionCode == "INVALID_LOGIN" {
			kind = "LoginFault"
		}
		fmt.Fprintf(&b, `<detail><sf:%s xsi:type="sf:%s"><sf:exceptionCode>`, kind, kind)
		xmlText(&b, exceptionCode)
		b.WriteString(`</sf:exceptionCode><sf:exceptionMessage>`)
		xmlText(&b, exceptionMessage)
		fmt.Fprintf(&b, `</sf:exceptionMessage></sf:%s></detail>`, kind)
	}
	b.WriteString(`</soapenv:Fault></soapenv:Body></soapenv:Envelope>`)
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(status)
	w.Write(b.Bytes()) //nolint:errcheck // the client went away
}

func writeInvalidLogin(w http.ResponseWriter) {
	writeSOAPFault(w, http.StatusInternalServerError, "sf:INVALID_LOGIN", "INVALID_LOGIN: Invalid username, password, security token; or user locked out.", "INVALID_LOGIN", "Invalid username, password, security token; or user locked out.")
}
