package sforg

// The route table and the answers for paths no route serves.
//
// Every route is registered through handle (server.go) or handleTree (here),
// which also record its pattern, so Routes can list them: a test walks every
// one of them with and without a trailing slash and with every method, so
// routes added later are walked too. The paths nothing serves get Salesforce's
// error in the shape of their API instead of Go's plain-text 404:
//
//	/services/data/...         REST: 404 NOT_FOUND or 405 METHOD_NOT_ALLOWED, JSON array (rest.go)
//	/services/apexrest/...     REST: 404 NOT_FOUND after the session check (rest.go)
//	/services/Soap/...         a SOAP fault
//	/services/oauth2/...       an OAuth error object
//	/id/...                    the identity service's plain-text "Bad_Id"
//	anything else              REST: 404 NOT_FOUND, JSON array
//
// SOAP endpoints take only POST; another method gets the servlet
// container's HTML 405 "Only POST allowed", the answer clients report from
// Salesforce for a GET on /services/Soap/u/NN.N (tsmztech/mcp-server-salesforce#1).

import (
	"net/http"
	"strings"
)

// Route names of the resources added in resources.go and revoke.go, used for
// fault scoping and request counters like those in faults.go.
const (
	RouteRevoke       = "revoke"        // POST|GET /services/oauth2/revoke
	RouteRecent       = "recent"        // GET .../recent
	RouteLayouts      = "layouts"       // GET .../sobjects/{Name}/describe/layouts[/{recordTypeId}], namedLayouts/{name}
	RouteListViews    = "listviews"     // GET .../sobjects/{Name}/listviews[/{id}[/describe|/results]], listviews/recent
	RouteProcessRules = "process-rules" // GET|POST .../process/rules[/{Name}[/{ruleId}]]
	// Query explain (GET .../query?explain=) counts under "query", the
	// resource it belongs to.
)

// API names a family of endpoints by the shape of its answers.
const (
	APIREST     = "rest"     // JSON bodies, errors as a JSON array
	APISOAP     = "soap"     // XML envelopes, errors as SOAP faults
	APIOAuth    = "oauth"    // the OAuth endpoints: errors as {"error","error_description"}
	APIIdentity = "identity" // the identity service: JSON, errors as plain text
)

// apiPrefixes maps path prefixes to their API; the longest match wins.
// Anything else is REST-shaped.
var apiPrefixes = []struct{ prefix, api string }{
	{"/services/soap/", APISOAP},
	{"/services/oauth2/", APIOAuth},
	{"/id/", APIIdentity},
}

// apiOf names the API a path belongs to. Prefixes compare case-insensitively,
// so /services/soap/... is answered as SOAP even though only /services/Soap/
// is served.
func apiOf(path string) string {
	lower := strings.ToLower(path)
	for _, p := range apiPrefixes {
		if strings.HasPrefix(lower, p.prefix) {
			return p.api
		}
	}
	return APIREST
}

// Route is one registered endpoint.
type Route struct {
	// Pattern is the ServeMux pattern as registered, e.g.
	// "GET /services/data/{version}/query" or "/services/Soap/m/{version}".
	// Every pattern is also served with a trailing slash.
	Pattern string
	// API is the shape of its answers: APIREST, APISOAP, APIOAuth or APIIdentity.
	API string
	// Tree is true when any path below the pattern reaches the same endpoint
	// (SOAP endpoints: /services/Soap/m/45.0/00D.../anything).
	Tree bool
}

// Routes lists every registered route in registration order (the control
// plane under /__sforg/ and the catch-alls for unknown paths excluded).
func (s *Server) Routes() []Route {
	return append([]Route(nil), s.table...)
}

// record adds a pattern to the route table.
func (s *Server) record(pattern string) {
	path := pattern
	if _, p, ok := strings.Cut(pattern, " "); ok {
		path = p
	}
	s.table = append(s.table, Route{Pattern: pattern, API: apiOf(path)})
}

// handleTree registers h for pattern and for every path below it, the
// trailing slash included, as SOAP endpoints are served.
func (s *Server) handleTree(pattern string, h http.Handler) {
	s.mux.Handle(pattern, h)
	s.mux.Handle(pattern+"/{rest...}", h)
	s.table = append(s.table, Route{Pattern: pattern, API: apiOf(pattern), Tree: true})
}

// unknownRoutes answers every path no route serves. /services/data/ and
// /services/apexrest/ have their own catch-alls (rest.go).
func (s *Server) unknownRoutes() {
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		switch apiOf(r.URL.Path) {
		case APISOAP:
			s.guarded(RouteUnknown, styleSOAP, w, r, unknownSOAP)
		case APIOAuth:
			s.guarded(RouteUnknown, styleOAuth, w, r, unknownOAuth)
		case APIIdentity:
			s.guarded(RouteUnknown, styleREST, w, r, func(w http.ResponseWriter, r *http.Request) { writeText(w, http.StatusNotFound, "Bad_Id") })
		default:
			s.guarded(RouteUnknown, styleREST, w, r, func(w http.ResponseWriter, r *http.Request) { writeFailure(w, errNotFound) })
		}
	})
}

// unknownSOAP answers a SOAP path that names no service.
// [UNCONFIRMED] Salesforce's status and wording for an unknown SOAP service
// path; a soapenv:Client fault with 404 is this emulator's choice, so that a
// SOAP client can parse the answer.
func unknownSOAP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		soapMethodNotAllowed(w)
		return
	}
	writeSOAPFault(w, http.StatusNotFound, "soapenv:Client", "No service available at "+r.URL.Path, "", "")
}

// unknownOAuth answers an OAuth path that names no endpoint.
// [UNCONFIRMED] the error code and status: the OAuth error object with
// "not_found" is this emulator's choice.
func unknownOAuth(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusNotFound, map[string]string{"error": "not_found", "error_description": "The requested resource does not exist"})
}

// soapMethodNotAllowed is the servlet container's answer to a SOAP endpoint
// called with another method than POST: HTTP 405 with an HTML page.
func soapMethodNotAllowed(w http.ResponseWriter) {
	w.Header().Set("Allow", "POST")
	w.Header().Set("Content-Type", "text/html;charset=ISO-8859-1")
	w.WriteHeader(http.StatusMethodNotAllowed)
	w.Write([]byte("<html>\n<head>\n<meta http-equiv=\"Content-Type\" content=\"text/html;charset=ISO-8859-1\"/>\n<title>Error 405 Only POST allowed</title>\n</head>\n<body><h2>HTTP ERROR 405</h2>\n<p>Reason:\n<pre>    Only POST allowed</pre></p>\n</body>\n</html>\n")) //nolint:errcheck // the client went away
}

// writeText sends a plain-text body, as the identity service answers errors.
func writeText(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "text/plain;charset=UTF-8")
	w.WriteHeader(status)
	w.Write([]byte(text)) //nolint:errcheck // the client went away
}
