package sforg

// The REST wrapper every /services/data/vNN.N/* route goes through, including
// those registered by query.go, approvals.go and metadata.go:
//
//	s.handle("GET /services/data/{version}/query", s.api("query", s.query))
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
	// retired API versions (docs/salesforce-protocol.md §1.6). The error code and
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
			tok, ss, ok := s.authorize(w, r, route)
			if !ok {
				return
			}
			defer s.enterREST(r, route)()
			h(w, r, &call{route: route, version: version, base: "/services/data/v" + version, userID: ss.userID, token: tok})
		})
	}
}

// authorize checks the session of an API request and counts it against the
// daily allocation as a call of its route's kind (usage.go), setting
// Sforce-Limit-Info; it answers 401 or 403 itself. A composite's subrequests
// are not counted: the composite is the one call.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, route string) (string, *session, bool) {
	tok := bearer(r)
	ss, ok := s.sessionFor(tok)
	if !ok {
		writeFailure(w, errSession)
		return "", nil, false
	}
	if isSubrequest(r) {
		return tok, ss, true
	}
	used, limit, ok := s.useAPIFor(apiKind(route))
	w.Header().Set("Sforce-Limit-Info", fmt.Sprintf("api-usage=%d/%d", used, limit))
	if !ok {
		writeFailure(w, errLimit)
		return "", nil, false
	}
	return tok, ss, true
}

// apexREST answers /services/apexrest/...: the org has no Apex REST classes,
// so every path is unmapped, 404 NOT_FOUND "Could not find a match for URL
// /path" (after the session check, as Salesforce does).
func (s *Server) apexREST(w http.ResponseWriter, r *http.Request) {
	s.guarded(RouteApexREST, styleREST, w, r, func(w http.ResponseWriter, r *http.Request) {
		if _, _, ok := s.authorize(w, r, RouteApexREST); !ok {
			return
		}
		writeFailure(w, fail(http.StatusNotFound, "NOT_FOUND", "Could not find a match for URL %s", strings.TrimPrefix(r.URL.Path, "/services/apexrest")))
	})
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

// useAPI counts one Metadata API request against the daily allocation. It
// returns the usage after counting and false when the allocation was already
// used up.
func (s *Server) useAPI() (used, limit int, ok bool) {
	return s.useAPIFor(callsMetadata)
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

// restRoutes registers the REST resources served here. Patterns carry no
// method: byMethod answers Salesforce's 405 METHOD_NOT_ALLOWED itself.
func (s *Server) restRoutes() {
	versions := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.guarded(RouteVersions, styleREST, w, r, s.versions) })
	s.handle("/services/data", versions)

	resources := s.byMethod(map[string]http.HandlerFunc{"GET": s.api(RouteResources, s.resources)})
	s.handle("/services/data/{version}", resources)

	global := s.byMethod(map[string]http.HandlerFunc{"GET": s.api(RouteDescribeGlobal, s.describeGlobal)})
	s.handle("/services/data/{version}/sobjects", global)

	sobject := s.byMethod(map[string]http.HandlerFunc{
		"GET":  s.api(RouteSObjectInfo, s.sobjectInfo),
		"POST": s.api(RouteCreate, s.createRecord),
	})
	s.handle("/services/data/{version}/sobjects/{name}", sobject)

	describe := s.byMethod(map[string]http.HandlerFunc{"GET": s.api(RouteDescribe, s.describe)})
	s.handle("/services/data/{version}/sobjects/{name}/describe", describe)

	record := s.byMethod(map[string]http.HandlerFunc{
		"GET":    s.api(RouteGet, s.getRecord),
		"PATCH":  s.api(RouteUpdate, s.updateRecord),
		"DELETE": s.api(RouteDelete, s.deleteRecord),
	})
	s.handle("/services/data/{version}/sobjects/{name}/{id}", record)

	external := s.byMethod(map[string]http.HandlerFunc{
		"GET":    s.api(RouteGet, s.getByExternalID),
		"PATCH":  s.api(RouteUpsert, s.upsert),
		"DELETE": s.api(RouteDelete, s.deleteByExternalID),
	})
	s.handle("/services/data/{version}/sobjects/{name}/{field}/{value}", external)

	limits := s.byMethod(map[string]http.HandlerFunc{"GET": s.api(RouteLimits, s.limits)})
	s.handle("/services/data/{version}/limits", limits)

	s.mux.HandleFunc("/services/apexrest/", s.apexREST)

	// Anything else under /services/data/: 404, or 405 when another method
	// of the path is served (e.g. POST to a GET-only route of query.go).
	s.mux.HandleFunc("/services/data/", s.api(RouteUnknown, s.unknown))
}

// methodOrder lists methods in the order Salesforce names them in a 405.
var methodOrder = []string{"HEAD", "GET", "POST", "PATCH", "PUT", "DELETE"}

// byMethod dispatches on the HTTP method. HEAD is served as GET, and
// POST ?_HttpMethod=PATCH as PATCH (Salesforce's override for clients that
// cannot send PATCH).
func (s *Server) byMethod(handlers map[string]http.HandlerFunc) http.HandlerFunc {
	var allowed []string
	for _, m := range methodOrder {
		if handlers[m] != nil || (m == "HEAD" && handlers["GET"] != nil) {
			allowed = append(allowed, m)
		}
	}
	notAllowed := s.api(RouteUnknown, func(w http.ResponseWriter, r *http.Request, c *call) {
		writeFailure(w, methodNotAllowed(r.Method, allowed))
	})
	return func(w http.ResponseWriter, r *http.Request) {
		method := r.Method
		if method == http.MethodHead {
			method = http.MethodGet
		}
		if method == http.MethodPost && r.URL.Query().Get("_HttpMethod") == "PATCH" {
			method = http.MethodPatch
		}
		if h := handlers[method]; h != nil {
			h(w, r)
			return
		}
		notAllowed(w, r)
	}
}

// methodNotAllowed words a 405 as Salesforce does (wording unconfirmed,
// docs/salesforce-protocol.md §11).
func methodNotAllowed(method string, allowed []string) *Failure {
	return fail(http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "HTTP Method '%s' not allowed. Allowed are %s", method, strings.Join(allowed, ","))
}

// unknown answers a path no route serves.
func (s *Server) unknown(w http.ResponseWriter, r *http.Request, c *call) {
	var allowed []string
	for _, m := range methodOrder {
		if m == r.Method {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "" && pattern != "/services/data/" {
			allowed = append(allowed, m)
		}
	}
	if len(allowed) > 0 {
		writeFailure(w, methodNotAllowed(r.Method, allowed))
		return
	}
	writeFailure(w, errNotFound)
}

// versionInfo is one entry of GET /services/data.
type versionInfo struct {
	Label   string `json:"label"`
	URL     string `json:"url"`
	Version string `json:"version"`
}

// releaseName names the release of an API version: 20.0 was Winter '11 and
// each release since adds one (Spring '19 = 45.0, Winter '27 = 68.0).
func releaseName(major int) string {
	n := major - 20
	season := []string{"Winter", "Spring", "Summer"}[((n%3)+3)%3]
	return fmt.Sprintf("%s '%02d", season, 11+n/3)
}

// versions answers GET /services/data: every live version, oldest first. It
// needs no session and carries no Sforce-Limit-Info, as in Salesforce.
func (s *Server) versions(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeFailure(w, methodNotAllowed(r.Method, []string{"HEAD", "GET"}))
		return
	}
	var out []versionInfo
	for v := minVersion; v <= s.currentMajor(); v++ {
		out = append(out, versionInfo{Label: releaseName(v), URL: fmt.Sprintf("/services/data/v%d.0", v), Version: fmt.Sprintf("%d.0", v)})
	}
	writeJSON(w, http.StatusOK, out)
}

// resources answers GET /services/data/vNN.N/ with the resources this org serves.
func (s *Server) resources(w http.ResponseWriter, r *http.Request, c *call) {
	out := map[string]string{}
	for _, name := range []string{"sobjects", "query", "queryAll", "limits", "process", "recent", "composite"} {
		out[name] = c.base + "/" + name
	}
	out["identity"] = s.baseURL(r) + "/id/" + OrgID + "/" + c.userID
	writeJSON(w, http.StatusOK, out)
}

// limitsTemplate is a Developer Edition org's /limits answer (the shape of
// the camel fixture limits.json); DailyApiRequests is live.
var limitsTemplate = map[string]int{
	"ConcurrentAsyncGetReportInstances":     200,
	"ConcurrentSyncReportRuns":              20,
	"DailyAsyncApexExecutions":              250000,
	"DailyBulkApiRequests":                  5000,
	"DailyDurableGenericStreamingApiEvents": 10000,
	"DailyDurableStreamingApiEvents":        10000,
	"DailyGenericStreamingApiEvents":        10000,
	"DailyStreamingApiEvents":               10000,
	"DailyWorkflowEmails":                   390,
	"DataStorageMB":                         5,
	"DurableStreamingApiConcurrentClients":  20,
	"FileStorageMB":                         20,
	"HourlyAsyncReportRuns":                 1200,
	"HourlyDashboardRefreshes":              200,
	"HourlyDashboardResults":                5000,
	"HourlyDashboardStatuses":               999999999,
	"HourlyODataCallout":                    10000,
	"HourlySyncReportRuns":                  500,
	"HourlyTimeBasedWorkflow":               50,
	"MassEmail":                             10,
	"SingleEmail":                           15,
	"StreamingApiConcurrentClients":         20,
}

type limitInfo struct {
	Max       int `json:"Max"`
	Remaining int `json:"Remaining"`
}

// limits answers GET /services/data/vNN.N/limits/.
func (s *Server) limits(w http.ResponseWriter, r *http.Request, c *call) {
	out := make(map[string]limitInfo, len(limitsTemplate)+1)
	for k, v := range limitsTemplate {
		out[k] = limitInfo{Max: v, Remaining: v}
	}
	used, limit := s.APIUsage()
	out["DailyApiRequests"] = limitInfo{Max: limit, Remaining: max(limit-used, 0)}
	s.bulkLimits(out) // bulk.go: Bulk API 2.0 allocations
	writeJSON(w, http.StatusOK, out)
}
