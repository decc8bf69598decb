package connector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/sfconnect/connector/shared/faults"
	"github.com/sfconnect/connector/shared/salesforce"
)

// Limits of one Composite request (Salesforce's "Send Multiple Requests Using
// Composite"): 25 subrequests, of which at most 5 are queries (query,
// queryAll, their next pages) or sObject Collections.
const (
	maxSubrequests      = 25
	maxQuerySubrequests = 5
	// oldestVersion is the oldest REST API version Salesforce still serves
	// (docs/salesforce-protocol.md §1.6).
	oldestVersion = 31
)

// subrequest is one validated entry of compositeRequest, encoded as sent.
type subrequest struct {
	Method      string            `json:"method"`
	URL         string            `json:"url"`
	ReferenceID string            `json:"referenceId"`
	Body        json.RawMessage   `json:"body,omitempty"`
	HTTPHeaders map[string]string `json:"httpHeaders,omitempty"`
}

// compositeBody is the validated request, encoded as sent.
type compositeBody struct {
	AllOrNone          bool         `json:"allOrNone"`
	CollateSubrequests *bool        `json:"collateSubrequests,omitempty"`
	CompositeRequest   []subrequest `json:"compositeRequest"`
}

func composite(c *Connector, ctx context.Context, in *input) (*salesforce.Response, *Tally, error) {
	payload, err := in.payload()
	if err != nil {
		return nil, nil, err
	}
	req, err := compositeRequest(payload)
	if err != nil {
		return nil, nil, err
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, nil, faults.Wrap(faults.UnknownError, err, "cannot encode the composite request")
	}
	resp, err := c.client.Composite(ctx, body)
	if err != nil {
		return nil, nil, err
	}
	tally, err := tallySubrequests(resp, len(req.CompositeRequest))
	if err != nil {
		return nil, nil, err
	}
	return resp, tally, nil
}

// compositeRequest validates salesforcePayload as a Composite request body:
// allOrNone, collateSubrequests and compositeRequest, nothing else. Any fault
// is INVALID_INPUT (MISSING_INPUT for what is required) naming the subrequest,
// and nothing is sent.
func compositeRequest(payload json.RawMessage) (*compositeBody, error) {
	fields, err := objectFields(payload)
	if err != nil {
		return nil, faults.New(faults.InvalidInput, "salesforcePayload %s", err)
	}
	req := &compositeBody{}
	var list json.RawMessage
	for _, f := range fields {
		switch f.name {
		case "allOrNone":
			if req.AllOrNone, err = flag(f.value, "salesforcePayload.allOrNone"); err != nil {
				return nil, err
			}
		case "collateSubrequests":
			if !isAbsent(f.value) {
				collate, err := flag(f.value, "salesforcePayload.collateSubrequests")
				if err != nil {
					return nil, err
				}
				req.CollateSubrequests = &collate
			}
		case "compositeRequest":
			list = f.value
		default:
			return nil, faults.New(faults.InvalidInput,
				"salesforcePayload has %s, not part of a composite request (allOrNone, collateSubrequests, compositeRequest)", quote(f.name))
		}
	}
	var subs []json.RawMessage
	switch {
	case isAbsent(list):
		return nil, faults.New(faults.MissingInput, "salesforcePayload.compositeRequest is required")
	case json.Unmarshal(list, &subs) != nil || subs == nil:
		return nil, faults.New(faults.InvalidInput, "salesforcePayload.compositeRequest must be an array of subrequests")
	case len(subs) == 0:
		return nil, faults.New(faults.MissingInput, "salesforcePayload.compositeRequest is empty")
	case len(subs) > maxSubrequests:
		return nil, faults.New(faults.InvalidInput,
			"salesforcePayload.compositeRequest holds %d subrequests, more than the %d of one composite call", len(subs), maxSubrequests)
	}
	refs := map[string]bool{}
	queries := 0
	for i, raw := range subs {
		sub, t, err := checkSubrequest(i, raw, refs)
		if err != nil {
			return nil, err
		}
		if t == targetQuery || t == targetCollections {
			if queries++; queries > maxQuerySubrequests {
				return nil, faults.New(faults.InvalidInput,
					"salesforcePayload.compositeRequest[%d] is query or sObject Collections subrequest number %d; one composite call takes at most %d", i, queries, maxQuerySubrequests)
			}
		}
		refs[sub.ReferenceID] = true
		req.CompositeRequest = append(req.CompositeRequest, *sub)
	}
	return req, nil
}

// referenceIDPattern is what a referenceId may hold: letters, digits and
// underscores, starting with a letter or digit (enforced from API 54.0).
var referenceIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_]*$`)

// checkSubrequest validates subrequest i; earlier holds the referenceIds of
// the subrequests before it, the only ones its url may refer to.
func checkSubrequest(i int, raw json.RawMessage, earlier map[string]bool) (*subrequest, target, error) {
	fail := func(code faults.Code, format string, args ...any) (*subrequest, target, error) {
		return nil, 0, faults.New(code, "salesforcePayload.compositeRequest[%d] "+format, append([]any{i}, args...)...)
	}
	fields, err := objectFields(raw)
	if err != nil {
		return fail(faults.InvalidInput, "%s", err)
	}
	sub := &subrequest{}
	values := map[string]json.RawMessage{}
	for _, f := range fields {
		switch f.name {
		case "method", "url", "referenceId":
			values[f.name] = f.value
		case "body":
			if !isAbsent(f.value) {
				if f.value[0] != '{' {
					return fail(faults.InvalidInput, "body must be a JSON object")
				}
				sub.Body = f.value
			}
		case "httpHeaders":
			if sub.HTTPHeaders, err = subrequestHeaders(f.value); err != nil {
				return fail(faults.InvalidInput, "%s", err)
			}
		default:
			return fail(faults.InvalidInput, "has %s, not part of a subrequest (method, url, referenceId, body, httpHeaders)", quote(f.name))
		}
	}
	for _, m := range []struct {
		name string
		to   *string
	}{{"referenceId", &sub.ReferenceID}, {"method", &sub.Method}, {"url", &sub.URL}} {
		raw := values[m.name]
		if isAbsent(raw) {
			return fail(faults.MissingInput, "%s is required", m.name)
		}
		if json.Unmarshal(raw, m.to) != nil {
			return fail(faults.InvalidInput, "%s must be a string", m.name)
		}
	}
	switch {
	case !referenceIDPattern.MatchString(sub.ReferenceID):
		return fail(faults.InvalidInput, "referenceId %s must start with a letter or digit and hold only letters, digits and underscores", quote(sub.ReferenceID))
	case earlier[sub.ReferenceID]:
		return fail(faults.InvalidInput, "referenceId %s is used by an earlier subrequest", quote(sub.ReferenceID))
	}
	// [UNCONFIRMED] PUT: Salesforce's composite pages list GET, POST, PATCH and
	// DELETE; PUT is let through (no resource Composite runs takes it, so
	// Salesforce answers that subrequest with its own error).
	switch sub.Method {
	case http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete, http.MethodPut:
	default:
		return fail(faults.InvalidInput, "method %s is not one of GET, POST, PATCH, DELETE, PUT (in capitals)", quote(sub.Method))
	}
	t, err := subrequestURL(sub.URL, earlier)
	if err != nil {
		return fail(faults.InvalidInput, "url %s %s", quote(sub.URL), err)
	}
	return sub, t, nil
}

// subrequestHeaders checks httpHeaders: string values, header names, no line
// breaks, and none of the three headers the subrequests take from the
// composite request itself (Salesforce refuses the whole request for them).
func subrequestHeaders(raw json.RawMessage) (map[string]string, error) {
	if isAbsent(raw) {
		return nil, nil
	}
	fields, err := objectFields(raw)
	if err != nil {
		return nil, fmt.Errorf("httpHeaders %s", err)
	}
	out := make(map[string]string, len(fields))
	for _, f := range fields {
		var v string
		if err := json.Unmarshal(f.value, &v); err != nil {
			return nil, fmt.Errorf("httpHeaders %s must be a string", quote(f.name))
		}
		name := http.CanonicalHeaderKey(f.name)
		switch {
		case !headerName(f.name):
			return nil, fmt.Errorf("httpHeaders has %s, not a header name", quote(f.name))
		case name == "Accept" || name == "Authorization" || name == "Content-Type":
			return nil, fmt.Errorf("httpHeaders sets %s, which every subrequest takes from the composite request", name)
		case strings.ContainsFunc(v, func(r rune) bool { return r != '\t' && unicode.IsControl(r) }):
			return nil, fmt.Errorf("httpHeaders %s holds a control character", name)
		}
		out[f.name] = v
	}
	return out, nil
}

// headerName reports whether s is an HTTP header name (an RFC 9110 token).
func headerName(s string) bool {
	return s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return r > 0x7e || r <= ' ' || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r)
	})
}

// target is the kind of resource a subrequest url addresses.
type target int

const (
	targetSObject     target = iota + 1 // /sobjects and below
	targetQuery                         // query, queryAll and their next pages
	targetCollections                   // composite/sobjects and below
)

var (
	// versionPrefix is the start of every url: this org's REST API at a
	// version. A subrequest may name another version than the session's
	// (Salesforce's composite documentation says the two need not match).
	versionPrefix = regexp.MustCompile(`^/services/data/v([0-9]{2,3})\.0/`)
	// referenceExpr is an @{...} reference: a referenceId, then fields (.name)
	// and list items ([n]).
	referenceExpr = regexp.MustCompile(`@\{([^{}]*)\}`)
	referenceBody = regexp.MustCompile(`^([A-Za-z0-9_]+)(?:\.[A-Za-z0-9_]+|\[[0-9]+\])*$`)
)

// subrequestURL checks a subrequest url. It must be a path of this org's REST
// API, /services/data/vNN.0/, at a version still served, addressing a
// resource Composite runs: sobjects (and below), query or queryAll (with a
// query locator of the form nextRecordsUrl takes, for a next page), or
// composite/sobjects (and below). Its segments are plain or percent-encoded
// text, never empty, "." or ".." (also once decoded), see checkSegment; its
// query string is URL-encoded printable ASCII; there is no
// fragment, so the url can only name what it seems to. Every @{ref...}
// reference must name an earlier subrequest. The value a reference takes is
// Salesforce's to substitute, within the same org.
func subrequestURL(raw string, earlier map[string]bool) (target, error) {
	m := versionPrefix.FindStringSubmatch(raw)
	if m == nil {
		return 0, errors.New("is not a path of this org's REST API: it must start with /services/data/vNN.0/")
	}
	if major, _ := strconv.Atoi(m[1]); major < oldestVersion {
		return 0, fmt.Errorf("names API version %s.0, retired; the oldest served is %d.0", m[1], oldestVersion)
	}
	for _, ref := range referenceExpr.FindAllStringSubmatch(raw, -1) {
		r := referenceBody.FindStringSubmatch(ref[1])
		switch {
		case r == nil:
			return 0, fmt.Errorf("has the reference %s, not of the form @{referenceId.field} or @{referenceId.records[0].Id}", quote(ref[0]))
		case !earlier[r[1]]:
			return 0, fmt.Errorf("refers to %s, which no earlier subrequest has as referenceId", quote(r[1]))
		}
	}
	path, query, hasQuery := strings.Cut(raw[len(m[0]):], "?")
	if hasQuery {
		if strings.ContainsFunc(query, func(r rune) bool { return r <= ' ' || r > '~' || r == '#' || r == '\\' }) {
			return 0, errors.New("has a query string that is not URL-encoded printable ASCII")
		}
		if _, err := url.ParseQuery(referenceExpr.ReplaceAllString(query, "x")); err != nil {
			return 0, errors.New("has a query string that is not URL-encoded")
		}
	}
	segs := strings.Split(path, "/")
	if len(segs) > 1 && segs[len(segs)-1] == "" {
		segs = segs[:len(segs)-1] // a trailing slash
	}
	for _, s := range segs {
		if err := checkSegment(s); err != nil {
			return 0, err
		}
	}
	switch {
	case segs[0] == "sobjects":
		return targetSObject, nil
	case segs[0] == "query" || segs[0] == "queryAll":
		if len(segs) == 1 || (len(segs) == 2 && !hasQuery && (isReference(segs[1]) || salesforce.ValidCursor(m[0]+segs[0]+"/"+segs[1]))) {
			return targetQuery, nil
		}
		return 0, errors.New("is not a query: it must be query/?q=… or queryAll/?q=…, or a query locator (nextRecordsUrl)")
	case segs[0] == "composite" && len(segs) > 1 && segs[1] == "sobjects":
		return targetCollections, nil
	}
	return 0, errors.New("is not a resource Composite runs: sobjects/…, query, queryAll or composite/sobjects")
}

// isReference reports whether a path segment is one whole reference.
func isReference(seg string) bool {
	m := referenceExpr.FindStringIndex(seg)
	return m != nil && m[0] == 0 && m[1] == len(seg)
}

// checkSegment checks one path segment of a subrequest url: references aside,
// the characters RFC 3986 allows in a segment or percent escapes. Decoded, it
// may hold an encoded "/" or "\" (an external id such as INV%2F7, as UPSERT
// sends one), but no "." or ".." step between them, no "%" (which a second
// decoding could turn into anything) and no control character.
// [UNCONFIRMED] whether Salesforce routes a subrequest before or after
// decoding its path: refusing dot steps between encoded separators keeps the
// url to the resource it names either way.
func checkSegment(seg string) error {
	plain := referenceExpr.ReplaceAllString(seg, "x")
	bad := strings.ContainsFunc(plain, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-._~!$&'()*+,;=:@%", r))
	})
	decoded, err := url.PathUnescape(plain)
	isSep := func(r rune) bool { return r == '/' || r == '\\' }
	dots := slices.ContainsFunc(strings.FieldsFunc(decoded, isSep), func(p string) bool { return p == "." || p == ".." })
	switch {
	case seg == "":
		return errors.New("has an empty path segment (//)")
	case bad || err != nil:
		return fmt.Errorf("has the path segment %s, which is not URL-encoded", quote(seg))
	case dots:
		return errors.New(`has a "." or ".." path segment`)
	case strings.ContainsFunc(decoded, func(r rune) bool { return r == '%' || unicode.IsControl(r) }):
		return fmt.Errorf("has the path segment %s, which encodes a %% or a control character", quote(seg))
	}
	return nil
}
