package sforg

// Composite, /services/data/vNN.N/composite: a series of REST requests in one
// call, later ones using earlier results through references. From
// Salesforce's REST reference ("Send Multiple Requests Using Composite",
// "Composite Request Body", "Composite Subrequest Result", "allOrNone
// Parameters in Composite and Collections Requests"):
//
//	POST /composite {"allOrNone":b,"collateSubrequests":b,"compositeRequest":[
//	    {"method":"POST","url":"/services/data/v50.0/sobjects/Account","referenceId":"acct","body":{...}},
//	    {"method":"GET","url":"/services/data/v50.0/sobjects/Account/@{acct.id}","referenceId":"row","httpHeaders":{...}}]}
//	-> 200 {"compositeResponse":[{"body":...,"httpHeaders":{...},"httpStatusCode":201,"referenceId":"acct"},...]}
//	GET  /composite -> the composite resources served here
//
// Each subrequest is served by the same handler as the same request made on
// its own (through the org's mux: same answers, same request counters, same
// injected faults), with the top-level request's session, Accept and
// Content-Type, and its own httpHeaders. Its answer becomes one result: its
// status, its body (null when it has none), and its response headers without
// Content-Type, Content-Length and Sforce-Limit-Info (a Location stays).
//
//   - The whole composite is ONE call against the daily API allocation, however
//     many subrequests it holds; subrequests are not counted and their results
//     carry no Sforce-Limit-Info.
//   - At most 25 subrequests, of which at most 5 query (query, queryAll, query
//     locators) or sObject Collections ones. Supported targets: every
//     /sobjects resource, query, queryAll, and sObject Collections (API 43.0 and
//     later); any other url fails its subrequest.
//   - References: @{refId.field}, @{refId.records[0].Id}, walking objects with
//     "." and arrays with "[n]", case-sensitive, into the bodies of earlier
//     subrequests that succeeded, in the url and in string values of the body.
//     A body string that is one reference whole takes the referenced value with
//     its JSON type; elsewhere the value is written into the text. A reference
//     that finds no value (an unknown or later referenceId, a failed or
//     bodiless subrequest, a missing field or index, a null) fails the
//     subrequest: 400 PROCESSING_HALTED "Invalid reference specified. No value
//     for q1.records[0].Id found in q1".
//   - allOrNone false: every subrequest runs; one whose reference cannot be
//     resolved (a dependant of a failed one) fails as above. allOrNone true:
//     at the first failure (status 400 or more, or an sObject Collections
//     result with a failed record) processing stops and everything the
//     composite did is rolled back; the failed subrequest keeps its answer and
//     every other, earlier or later, answers 400 PROCESSING_HALTED "The
//     transaction was rolled back since another operation in the same
//     transaction failed." (the camel capture). The outer allOrNone true also
//     makes every sObject Collections subrequest all-or-none.
//   - collateSubrequests is accepted; subrequests always run in request order,
//     which is one of the orders collation allows.
//   - Since API 54.0 a referenceId must start with a letter or digit and hold
//     only letters, digits and underscores; a subrequest with another one fails
//     with Salesforce's message for it.
//   - Accept, Authorization or Content-Type in a subrequest's httpHeaders fail
//     the whole request with 400, as Salesforce documents.
//   - A 201 body with an id gains "warnings":[] inside a composite, as in the
//     real v41.0 capture (camel's composite_response_example_success.json).
//
// The composite runs while no other REST request does when allOrNone is true,
// so that its rollback undoes only its own work (txn.go). A drop fault that a
// subrequest hits drops the composite's own connection at that point; an
// all-or-none composite that did not finish is rolled back.
//
// [UNCONFIRMED]: the first version served (38.0); the top-level 200 of the
// LIMIT_EXCEEDED answer for more than 25 subrequests (its body is a real one)
// and reusing that shape for more than 5 query/collection subrequests, a
// duplicate or missing referenceId, a missing url and a method other than
// GET, POST, PUT, PATCH, DELETE (codes and wording invented); INVALID_API_INPUT
// for an unsupported url; PROCESSING_HALTED for an invalid referenceId; the
// top-level error code for a forbidden header; treating a null as "no value";
// the typed substitution of a whole-string reference; the reference message's
// wording beyond what public captures show.

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// Limits and versions of the composite resource.
const (
	compositeVersion            = 38.0
	compositeCollectionsVersion = 43.0 // sObject Collections as subrequests
	referenceIDRuleVersion      = 54.0 // referenceId characters checked
	maxSubrequests              = 25
	maxQuerySubrequests         = 5 // query and sObject Collections subrequests
)

// Salesforce's messages of the composite resource.
const (
	msgRolledBack          = "The transaction was rolled back since another operation in the same transaction failed."
	msgTooManySubrequests  = "The request can’t contain more than 25 operations."
	msgTooManyQueries      = "The request can’t contain more than 5 query or sObject Collections operations."
	msgReferenceIDRule     = "Provided referenceId ('%s') must start with a letter or a number, and it can contain only letters, numbers and underscores ('_')."
	msgInvalidReference    = "Invalid reference specified. No value for %s found in %s"
	msgUnsupportedResource = "The composite resource doesn't support the requested resource: %s %s"
)

// subrequestKey marks the context of a request a composite dispatches.
type subrequestKey struct{}

// isSubrequest reports whether r is a composite's subrequest.
func isSubrequest(r *http.Request) bool { return r.Context().Value(subrequestKey{}) != nil }

// compositeRequest is the body of POST /composite.
type compositeRequest struct {
	AllOrNone          bool         `json:"allOrNone"`
	CollateSubrequests *bool        `json:"collateSubrequests"`
	CompositeRequest   []subrequest `json:"compositeRequest"`
}

// subrequest is one entry of compositeRequest.
type subrequest struct {
	Method      string            `json:"method"`
	URL         string            `json:"url"`
	ReferenceID string            `json:"referenceId"`
	Body        json.RawMessage   `json:"body"`
	HTTPHeaders map[string]string `json:"httpHeaders"`
}

// subresult is one entry of compositeResponse, keys in Salesforce's order.
type subresult struct {
	Body           any               `json:"body"`
	HTTPHeaders    map[string]string `json:"httpHeaders"`
	HTTPStatusCode int               `json:"httpStatusCode"`
	ReferenceID    *string           `json:"referenceId"`
}

type compositeResponse struct {
	CompositeResponse []subresult `json:"compositeResponse"`
}

// errorResult is a failed subresult with one REST error.
func errorResult(refID *string, status int, code, format string, args ...any) subresult {
	return subresult{Body: fail(status, code, format, args...).Errors, HTTPHeaders: map[string]string{}, HTTPStatusCode: status, ReferenceID: refID}
}

// compositeRoutes serves /composite, sObject Tree (tree.go) and sObject
// Collections upsert (collections_upsert.go).
func (s *Server) compositeRoutes() {
	composite := s.byMethod(map[string]http.HandlerFunc{
		"GET":  s.api(RouteComposite, s.compositeResources),
		"POST": s.api(RouteComposite, s.composite),
	})
	s.handle("/services/data/{version}/composite", composite)
	tree := s.byMethod(map[string]http.HandlerFunc{"POST": s.api(RouteCompositeTree, s.sobjectTree)})
	s.handle("/services/data/{version}/composite/tree/{name}", tree)
	upsert := s.byMethod(map[string]http.HandlerFunc{"PATCH": s.api(RouteCollectionUpsert, s.collectionUpsert)})
	s.handle("/services/data/{version}/composite/sobjects/{name}/{field}", upsert)
}

// objectSince resolves the {name} of the path of a resource that exists from
// API version since, answering 404 NOT_FOUND itself (for an older version too).
func (s *Server) objectSince(w http.ResponseWriter, r *http.Request, c *call, since float64) (*Object, bool) {
	if !c.atLeast(since) {
		writeFailure(w, errNotFound)
		return nil, false
	}
	return s.object(w, r)
}

// compositeResources answers GET /composite with the composite resources served.
func (s *Server) compositeResources(w http.ResponseWriter, r *http.Request, c *call) {
	if !c.atLeast(compositeVersion) {
		writeFailure(w, errNotFound)
		return
	}
	out := map[string]string{"tree": c.base + "/composite/tree"}
	if c.atLeast(collectionsVersion) {
		out["sobjects"] = c.base + "/composite/sobjects"
	}
	writeJSON(w, http.StatusOK, out)
}

// composite answers POST /composite.
func (s *Server) composite(w http.ResponseWriter, r *http.Request, c *call) {
	if !c.atLeast(compositeVersion) {
		writeFailure(w, errNotFound)
		return
	}
	var req compositeRequest
	if f := decodeJSON(r, &req); f != nil {
		writeFailure(w, f)
		return
	}
	if len(req.CompositeRequest) == 0 {
		writeFailure(w, missingArgument("compositeRequest"))
		return
	}
	for _, sub := range req.CompositeRequest {
		for name := range sub.HTTPHeaders {
			switch http.CanonicalHeaderKey(name) {
			case "Accept", "Authorization", "Content-Type":
				writeFailure(w, fail(http.StatusBadRequest, "INVALID_INPUT", "The %s header can't be set on a subrequest: it is taken from the composite request", http.CanonicalHeaderKey(name)))
				return
			}
		}
	}
	if res, bad := checkSubrequests(req.CompositeRequest); bad {
		writeJSON(w, http.StatusOK, compositeResponse{[]subresult{res}})
		return
	}
	if req.AllOrNone {
		s.gate.Lock()
		defer s.gate.Unlock()
	} else {
		s.gate.RLock()
		defer s.gate.RUnlock()
	}
	run := &compositeRun{s: s, r: r, c: c, allOrNone: req.AllOrNone, refs: map[string]any{}}
	writeJSON(w, http.StatusOK, compositeResponse{run.execute(req.CompositeRequest)})
}

// checkSubrequests finds what makes Salesforce refuse a composite before it
// runs anything: the answer is then one result carrying the error.
func checkSubrequests(subs []subrequest) (subresult, bool) {
	if len(subs) > maxSubrequests {
		return errorResult(nil, http.StatusBadRequest, "LIMIT_EXCEEDED", msgTooManySubrequests), true
	}
	queries := 0
	seen := map[string]bool{}
	for i := range subs {
		sub := &subs[i]
		ref := &sub.ReferenceID
		if *ref == "" {
			ref = nil
		}
		switch {
		case sub.ReferenceID == "":
			return errorResult(nil, http.StatusBadRequest, "INVALID_INPUT", "Every subrequest needs a referenceId"), true
		case seen[sub.ReferenceID]:
			return errorResult(ref, http.StatusBadRequest, "INVALID_INPUT", "Duplicate referenceId provided in the request: %s", sub.ReferenceID), true
		case sub.URL == "":
			return errorResult(ref, http.StatusBadRequest, "INVALID_INPUT", "The url of subrequest %s is missing", sub.ReferenceID), true
		}
		switch sub.Method {
		case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		default:
			return errorResult(ref, http.StatusBadRequest, "INVALID_INPUT", "Invalid method %q for subrequest %s: use GET, POST, PUT, PATCH or DELETE", sub.Method, sub.ReferenceID), true
		}
		seen[sub.ReferenceID] = true
		if t := classify(sub.URL); t == targetQuery || t == targetCollections {
			queries++
		}
	}
	if queries > maxQuerySubrequests {
		return errorResult(nil, http.StatusBadRequest, "LIMIT_EXCEEDED", msgTooManyQueries), true
	}
	return subresult{}, false
}

// target is what a subrequest url addresses.
type target int

const (
	targetUnsupported target = iota
	targetSObject            // /sobjects and below
	targetQuery              // query, queryAll, query locators
	targetCollections        // /composite/sobjects and below
)

// classify reads the resource a subrequest url addresses, by its path.
func classify(rawURL string) target {
	path, _, _ := strings.Cut(rawURL, "?")
	rest, ok := strings.CutPrefix(path, "/services/data/")
	if !ok {
		return targetUnsupported
	}
	_, rest, _ = strings.Cut(rest, "/") // the version
	first, _, _ := strings.Cut(rest, "/")
	switch {
	case first == "sobjects":
		return targetSObject
	case first == "query" || first == "queryAll":
		return targetQuery
	case rest == "composite/sobjects" || strings.HasPrefix(rest, "composite/sobjects/"):
		return targetCollections
	}
	return targetUnsupported
}

// referenceIDPattern is what a referenceId may hold (API 54.0 and later).
var referenceIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_]*$`)

// referencePattern finds @{...} references.
var referencePattern = regexp.MustCompile(`@\{([^{}]*)\}`)

// compositeRun is one composite request being executed.
type compositeRun struct {
	s         *Server
	r         *http.Request // the composite request
	c         *call
	allOrNone bool
	refs      map[string]any // referenceId -> decoded body of a subrequest that succeeded
}

// execute runs the subrequests in order and returns their results; an
// all-or-none composite that fails is rolled back before it returns.
func (run *compositeRun) execute(subs []subrequest) []subresult {
	results := make([]subresult, len(subs))
	if run.allOrNone {
		j := run.s.store.journal()
		committed := false
		// Undone unless every subrequest succeeded, also when a drop fault
		// aborts the composite midway.
		defer func() { run.s.store.endJournal(j, !committed) }()
		failed := -1
		for i := range subs {
			var ok bool
			results[i], ok = run.one(&subs[i])
			if !ok {
				failed = i
				break
			}
		}
		if failed < 0 {
			committed = true
			return results
		}
		for i := range results {
			if i != failed {
				results[i] = errorResult(&subs[i].ReferenceID, http.StatusBadRequest, "PROCESSING_HALTED", msgRolledBack)
			}
		}
		return results
	}
	for i := range subs {
		results[i], _ = run.one(&subs[i])
	}
	return results
}

// one runs a subrequest and reports whether it succeeded.
func (run *compositeRun) one(sub *subrequest) (subresult, bool) {
	ref := &sub.ReferenceID
	if run.c.atLeast(referenceIDRuleVersion) && !referenceIDPattern.MatchString(sub.ReferenceID) {
		return errorResult(ref, http.StatusBadRequest, "PROCESSING_HALTED", msgReferenceIDRule, sub.ReferenceID), false
	}
	rawURL, missing := run.resolveText(sub.URL)
	if missing != "" {
		return run.invalidReference(ref, missing), false
	}
	var body []byte
	if len(sub.Body) > 0 && !bytes.Equal(sub.Body, []byte("null")) {
		if body, missing = run.resolveBody(sub.Body); missing != "" {
			return run.invalidReference(ref, missing), false
		}
	}
	t := classify(rawURL)
	if t == targetUnsupported || (t == targetCollections && !run.c.atLeast(compositeCollectionsVersion)) {
		return errorResult(ref, http.StatusBadRequest, "INVALID_API_INPUT", msgUnsupportedResource, sub.Method, rawURL), false
	}
	if t == targetCollections && run.allOrNone {
		rawURL, body = forceAllOrNone(sub.Method, rawURL, body)
	}
	res, decoded := run.dispatch(sub.Method, rawURL, body, sub.HTTPHeaders)
	res.ReferenceID = ref
	ok := res.HTTPStatusCode < http.StatusBadRequest
	if ok && t == targetCollections && run.allOrNone && anyRecordFailed(decoded) {
		ok = false
	}
	if ok && decoded != nil {
		run.refs[sub.ReferenceID] = decoded
	}
	return res, ok
}

func (run *compositeRun) invalidReference(ref *string, expr string) subresult {
	name, _, _ := strings.Cut(strings.SplitN(expr, "[", 2)[0], ".")
	return errorResult(ref, http.StatusBadRequest, "PROCESSING_HALTED", msgInvalidReference, expr, name)
}

// lookup evaluates a reference expression such as q1.records[0].Id against
// the results so far; false when it finds no value.
func (run *compositeRun) lookup(expr string) (any, bool) {
	name, rest := expr, ""
	if i := strings.IndexAny(expr, ".["); i >= 0 {
		name, rest = expr[:i], expr[i:]
	}
	v, ok := run.refs[name]
	for ok && rest != "" {
		switch rest[0] {
		case '.':
			key := rest[1:]
			rest = ""
			if i := strings.IndexAny(key, ".["); i >= 0 {
				key, rest = key[:i], key[i:]
			}
			var m map[string]any
			if m, ok = v.(map[string]any); ok {
				v, ok = m[key]
			}
		case '[':
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return nil, false
			}
			n, err := strconv.Atoi(rest[1:end])
			list, isList := v.([]any)
			if ok = err == nil && isList && n >= 0 && n < len(list); ok {
				v = list[n]
			}
			rest = rest[end+1:]
		default:
			return nil, false
		}
	}
	return v, ok && v != nil
}

// referenceText writes a referenced value into a string.
func referenceText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// resolveText replaces every reference in s with its value; it returns the
// first reference without a value instead when there is one.
func (run *compositeRun) resolveText(s string) (string, string) {
	var missing string
	out := referencePattern.ReplaceAllStringFunc(s, func(m string) string {
		expr := m[2 : len(m)-1]
		v, ok := run.lookup(expr)
		if !ok {
			if missing == "" {
				missing = expr
			}
			return m
		}
		return referenceText(v)
	})
	return out, missing
}

// resolveBody replaces the references in the string values of a JSON body.
func (run *compositeRun) resolveBody(raw json.RawMessage) ([]byte, string) {
	if !bytes.Contains(raw, []byte("@{")) {
		return raw, ""
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return raw, ""
	}
	var missing string
	var walk func(any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				x[k] = walk(e)
			}
		case []any:
			for i, e := range x {
				x[i] = walk(e)
			}
		case string:
			if m := referencePattern.FindStringSubmatch(x); m != nil && m[0] == x {
				if val, ok := run.lookup(m[1]); ok {
					return val
				}
			}
			out, miss := run.resolveText(x)
			if miss != "" && missing == "" {
				missing = miss
			}
			return out
		}
		return v
	}
	out, err := json.Marshal(walk(v))
	if err != nil {
		return raw, ""
	}
	return out, missing
}

// forceAllOrNone makes an sObject Collections write all-or-none, as an
// all-or-none composite does to the collections it carries.
func forceAllOrNone(method, rawURL string, body []byte) (string, []byte) {
	if method == http.MethodDelete {
		u, err := url.Parse(rawURL)
		if err != nil {
			return rawURL, body
		}
		q := u.Query()
		q.Set("allOrNone", "true")
		u.RawQuery = q.Encode()
		return u.String(), body
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil || m["records"] == nil {
		return rawURL, body
	}
	m["allOrNone"] = true
	out, err := json.Marshal(m)
	if err != nil {
		return rawURL, body
	}
	return rawURL, out
}

// anyRecordFailed reports whether a collection's result list has a record
// that failed.
func anyRecordFailed(body any) bool {
	list, _ := body.([]any)
	for _, e := range list {
		if rec, ok := e.(map[string]any); ok && rec["success"] == false {
			return true
		}
	}
	return false
}

// hiddenHeaders are response headers a subresult does not carry.
var hiddenHeaders = map[string]bool{"Content-Type": true, "Content-Length": true, "Sforce-Limit-Info": true}

// dispatch serves one subrequest through the org's mux and returns its
// result (without referenceId) and its body decoded (nil when it has none).
func (run *compositeRun) dispatch(method, rawURL string, body []byte, headers map[string]string) (subresult, any) {
	var rd io.Reader = http.NoBody
	if body != nil {
		rd = bytes.NewReader(body)
	}
	ctx := context.WithValue(run.r.Context(), subrequestKey{}, true)
	req, err := http.NewRequestWithContext(ctx, method, rawURL, rd)
	if err != nil {
		return errorResult(nil, http.StatusBadRequest, "INVALID_API_INPUT", msgUnsupportedResource, method, rawURL), nil
	}
	req.Host, req.RemoteAddr, req.RequestURI = run.r.Host, run.r.RemoteAddr, rawURL
	for _, name := range []string{"Authorization", "Accept"} {
		if v := run.r.Header.Get(name); v != "" {
			req.Header.Set(name, v)
		}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	run.s.mux.ServeHTTP(rec, req)

	res := subresult{HTTPHeaders: map[string]string{}, HTTPStatusCode: rec.Code}
	for k, v := range rec.Header() {
		if !hiddenHeaders[k] && len(v) > 0 {
			res.HTTPHeaders[k] = v[0]
		}
	}
	data := bytes.TrimSpace(rec.Body.Bytes())
	if len(data) == 0 {
		return res, nil
	}
	if !json.Valid(data) {
		res.Body = string(data) // an HTML error page
		return res, nil
	}
	if rec.Code == http.StatusCreated && bytes.HasPrefix(data, []byte(`{"id"`)) && !bytes.Contains(data, []byte(`"warnings"`)) {
		data = append(data[:len(data)-1:len(data)-1], []byte(`,"warnings":[]}`)...)
	}
	res.Body = json.RawMessage(data)
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var decoded any
	if dec.Decode(&decoded) != nil {
		return res, nil
	}
	return res, decoded
}
