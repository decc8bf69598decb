package sforg

// The REST wrapper every /services/data/vNN.N/* route goes through, including
// those registered by query.go, approvals.go and metadata.go:
//
//	s.mux.HandleFunc("GET /services/data/{version}/query", s.api("query", s.query))
//	func (s *Server) query(w http.ResponseWriter, r *http.Request, c *call) { ... }
//
// Before the handler runs, the wrapper has counted the request under its route,
// applied injected faults, checked the API version in the path (c.version is
// "45.0", c.base "/services/data/v45.0"), checked the bearer/OAuth session
// (c.userID is its user, c.token the session id: never log it), counted one API
// request against the daily limit and set Sforce-Limit-Info. Handlers answer
// errors with writeFailure(w, fail(status, code, format, args...)) and read JSON
// bodies with decodeJSON(r, &v), which fails with Salesforce's JSON_PARSER_ERROR.
// SOAP endpoints use s.soap(route, h) instead (faults.go).

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// call is what the REST wrapper hands a handler.
type call struct {
	route   string
	version string // API version of the path, e.g. "45.0"
	base    string // "/services/data/v45.0"
	userID  string // 18-char id of the session's user
	token   string // the session id
}

// atLeast reports whether the call's API version is v or newer.
func (c *call) atLeast(v float64) bool {
	f, _ := strconv.ParseFloat(c.version, 64)
	return f >= v
}

// Salesforce's answers shared by every REST route.
var (
	errSession  = fail(http.StatusUnauthorized, "INVALID_SESSION_ID", "Session expired or invalid")
	errLimit    = fail(http.StatusForbidden, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
	errNotFound = fail(http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
	// Retired versions (7.0-30.0) answer 410 GONE, as Salesforce documents for
	// retired API versions (SALESFORCE-PROTOCOL.md §1.6). The error code and
	// message of the body are unconfirmed: this is the status table's wording.
	errRetired = fail(http.StatusGone, "GONE", "The requested resource has been retired or removed.")
)

// minVersion is the oldest API version still served (31.0-40.0 are deprecated
// but live until Summer '28).
const minVersion = 31

// api wraps a REST handler; see the comment at the top of this file.
func (s *Server) api(route string, h func(w http.ResponseWriter, r *http.Request, c *call)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.guarded(route, styleREST, w, r, func(w http.ResponseWriter, r *http.Request) {
			version, f := s.pathVersion(r.URL.Path)
			if f != nil {
				writeFailure(w, f)
				return
			}
			tok := bearer(r)
			ss, ok := s.sessionFor(tok)
			if !ok {
				writeFailure(w, errSession)
				return
			}
			used, limit, ok := s.useAPI()
			w.Header().Set("Sforce-Limit-Info", fmt.Sprintf("api-usage=%d/%d", used, limit))
			if !ok {
				writeFailure(w, errLimit)
				return
			}
			h(w, r, &call{route: route, version: version, base: "/services/data/v" + version, userID: ss.userID, token: tok})
		})
	}
}

// pathVersion extracts and checks the "vNN.N" segment of a REST path.
func (s *Server) pathVersion(path string) (string, *Failure) {
	rest, ok := strings.CutPrefix(path, "/services/data/")
	if !ok {
		return "", errNotFound
	}
	seg, _, _ := strings.Cut(rest, "/")
	num, ok := strings.CutPrefix(seg, "v")
	major, okMajor := strings.CutSuffix(num, ".0")
	if !ok || !okMajor || len(major) < 1 || len(major) > 3 || strings.TrimLeft(major, "0123456789") != "" {
		return "", errNotFound
	}
	n, _ := strconv.Atoi(major)
	switch {
	case n > s.currentMajor():
		return "", errNotFound
	case n >= minVersion:
		return major + ".0", nil
	case n >= 7:
		return "", errRetired
	}
	return "", errNotFound
}

func (s *Server) currentMajor() int {
	n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(s.opts.Version, "v"), ".0"))
	return n
}

// useAPI counts one API request against the daily allocation. It returns the
// usage after counting and false when the allocation was already used up.
func (s *Server) useAPI() (used, limit int, ok bool) {
	s.ctl.Lock()
	defer s.ctl.Unlock()
	if s.apiUsed >= s.dailyLimit {
		return s.apiUsed, s.dailyLimit, false
	}
	s.apiUsed++
	return s.apiUsed, s.dailyLimit, true
}

// SetDailyLimit changes the DailyApiRequests allocation (usage is kept).
func (s *Server) SetDailyLimit(n int) {
	s.ctl.Lock()
	defer s.ctl.Unlock()
	s.dailyLimit = n
}

// APIUsage returns the API requests used and the daily allocation.
func (s *Server) APIUsage() (used, limit int) {
	s.ctl.Lock()
	defer s.ctl.Unlock()
	return s.apiUsed, s.dailyLimit
}
