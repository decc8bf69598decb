package sforg_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/sfconnect/connector/sforg"
	"github.com/sfconnect/connector/sforg/internal/ids"
)

// walkMethods are the methods every route is called with; HEAD is left out
// (no body to check) and OPTIONS is not an API method.
var walkMethods = []string{"GET", "POST", "PATCH", "PUT", "DELETE"}

// wildcardRE finds the {name} and {name...} wildcards of a ServeMux pattern.
var wildcardRE = regexp.MustCompile(`\{([A-Za-z]+)(\.\.\.)?\}`)

// routePath fills a route pattern's wildcards with values that reach the
// handler without changing the org: ids of records that do not exist, so a
// DELETE or PATCH with and without the slash answers the same.
func routePath(t *testing.T, s *sforg.Server, rt sforg.Route) string {
	t.Helper()
	path := rt.Pattern
	if _, p, ok := strings.Cut(path, " "); ok {
		path = p
	}
	values := map[string]string{
		"version":      "v45.0",
		"name":         "Account",
		"id":           ids.New("001", "5g0", 1<<40),
		"field":        "Id",
		"value":        ids.New("001", "5g0", 1<<40),
		"locator":      "01g5g0000000001AAA-2000",
		"org":          sforg.OrgID,
		"user":         s.Store().UserID(),
		"listViewId":   ids.New("00B", "5g0", 1<<40),
		"recordTypeId": "012000000000000AAA",
	}
	if rt.API == sforg.APISOAP {
		values["version"] = "45.0"
	}
	return wildcardRE.ReplaceAllStringFunc(path, func(w string) string {
		name := wildcardRE.FindStringSubmatch(w)[1]
		if v, ok := values[name]; ok {
			return v
		}
		return "x"
	})
}

// answer is what a route said to one request.
type answer struct {
	method string
	res    response
}

func (a answer) contentType() string {
	ct, _, _ := strings.Cut(a.res.header.Get("Content-Type"), ";")
	return ct
}

// checkShape fails unless an answer has the shape of its API's answers.
func checkShape(t *testing.T, api string, a answer) {
	t.Helper()
	body := string(a.res.body)
	if strings.Contains(body, "404 page not found") || strings.Contains(body, "405 method not allowed") {
		t.Fatalf("%s: got Go's plain-text answer %d %q", a.method, a.res.status, body)
	}
	switch api {
	case sforg.APIREST:
		if a.res.status == http.StatusNoContent || a.res.status == http.StatusNotModified {
			return
		}
		if a.contentType() != "application/json" || !json.Valid(a.res.body) {
			t.Fatalf("%s: got %d %s %q, want JSON", a.method, a.res.status, a.contentType(), body)
		}
		if a.res.status >= 400 && a.res.errorCode(t) == "" {
			t.Fatalf("%s: got %d %q, want an error array with an errorCode", a.method, a.res.status, body)
		}
	case sforg.APISOAP:
		if a.method != http.MethodPost {
			if a.res.status != http.StatusMethodNotAllowed || !strings.Contains(body, "Only POST allowed") || a.res.header.Get("Allow") != "POST" {
				t.Fatalf("%s: got %d %q, want 405 Only POST allowed", a.method, a.res.status, body)
			}
			return
		}
		if a.contentType() != "text/xml" || !strings.Contains(body, "<soapenv:Envelope") {
			t.Fatalf("%s: got %d %s %q, want a SOAP envelope", a.method, a.res.status, a.contentType(), body)
		}
	case sforg.APIOAuth:
		if a.res.status < 400 {
			return
		}
		var obj map[string]string
		jsonErr := json.Unmarshal(a.res.body, &obj) == nil && obj["error"] != ""
		form, _ := url.ParseQuery(body)
		if !jsonErr && form.Get("error") == "" {
			t.Fatalf("%s: got %d %q, want an OAuth error", a.method, a.res.status, body)
		}
	case sforg.APIIdentity:
		if a.res.status >= 400 && a.contentType() != "text/plain" || a.res.status < 400 && !json.Valid(a.res.body) {
			t.Fatalf("%s: got %d %s %q", a.method, a.res.status, a.contentType(), body)
		}
	default:
		t.Fatalf("unknown API %q", api)
	}
}

// allowedRE reads the methods a 405 METHOD_NOT_ALLOWED names.
var allowedRE = regexp.MustCompile(`^HTTP Method '([A-Z]+)' not allowed\. Allowed are ([A-Z,]+)$`)

// TestEveryRouteWalked calls every route of the route table (so routes added
// later are walked too) with every method, with and without the trailing
// slash: each answer has its API's shape, the slash changes nothing, and a
// REST route refuses the methods it does not serve with 405
// METHOD_NOT_ALLOWED naming exactly the ones it does.
func TestEveryRouteWalked(t *testing.T) {
	o := newOrg(t, sforg.Options{})
	routes := o.Routes()
	var patterns []string
	for _, rt := range routes {
		patterns = append(patterns, rt.Pattern)
	}
	for _, want := range []string{"/services/oauth2/token", "/services/oauth2/revoke", "/id/{org}/{user}", "/services/Soap/u/{version}",
		"/services/Soap/m/{version}", "/services/data/{version}/sobjects/{name}/{id}", "GET /services/data/{version}/query",
		"/services/data/{version}/recent", "/services/data/{version}/sobjects/{name}/listviews/{listViewId}/results",
		"/services/data/{version}/sobjects/{name}/describe/layouts", "/services/data/{version}/process/rules/{name}/{ruleId}"} {
		if !slices.Contains(patterns, want) {
			t.Errorf("route table: %q missing from %q", want, patterns)
		}
	}
	for _, rt := range routes {
		t.Run(rt.Pattern, func(t *testing.T) {
			path := routePath(t, o.Server, rt)
			forms := []string{path, path + "/"}
			if rt.Tree {
				forms = append(forms, path+"/"+sforg.OrgID[:15], path+"/deployRequest/0Af5g00000XyZaB")
			}
			var refused, served []string
			allowed := map[string]string{} // method -> the methods its 405 names
			for _, method := range walkMethods {
				var first answer
				for i, p := range forms {
					a := answer{method, o.do(t, method, p, nil)}
					checkShape(t, rt.API, a)
					if i == 0 {
						first = a
					} else if a.res.status != first.res.status || a.contentType() != first.contentType() {
						t.Errorf("%s %s: got %d %s, want %d %s as without it", method, p, a.res.status, a.contentType(), first.res.status, first.contentType())
					}
				}
				// The OAuth endpoints refuse a method with their 400 error
				// object, the others with 405.
				oauthRefusal := rt.API == sforg.APIOAuth && first.res.status == http.StatusBadRequest && method != http.MethodPost && method != http.MethodGet
				if first.res.status == http.StatusMethodNotAllowed || oauthRefusal {
					refused = append(refused, method)
				} else {
					served = append(served, method)
				}
				if rt.API != sforg.APIREST || first.res.status != http.StatusMethodNotAllowed {
					continue
				}
				var errs []sforg.APIError
				first.res.json(t, &errs)
				m := allowedRE.FindStringSubmatch(errs[0].Message)
				if errs[0].ErrorCode != "METHOD_NOT_ALLOWED" || m == nil || m[1] != method {
					t.Fatalf("%s: got %s, want METHOD_NOT_ALLOWED for %s", method, first.res.body, method)
				}
				allowed[method] = m[2]
			}
			if len(refused) == 0 {
				t.Errorf("no method refused: served %v", served)
			}
			// The 405s name exactly the methods that were served (and HEAD
			// with GET).
			want := slices.Clone(served)
			if slices.Contains(want, "GET") {
				want = append(want, "HEAD")
			}
			for method, names := range allowed {
				got := strings.Split(names, ",")
				slices.Sort(got)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Errorf("%s: 405 names %v, want the methods served %v", method, got, want)
				}
			}
			if rt.API != sforg.APIREST || !strings.Contains(rt.Pattern, "{version}") {
				return
			}
			// Every REST route checks the version of its path first.
			for _, v := range []struct {
				version string
				status  int
				code    string
			}{{"v20.0", http.StatusGone, "GONE"}, {"v99.0", http.StatusNotFound, "NOT_FOUND"}, {"45.0", http.StatusNotFound, "NOT_FOUND"}} {
				p := strings.Replace(path, "/v45.0", "/"+v.version, 1)
				res := o.do(t, http.MethodGet, p, nil)
				if res.status != v.status || res.errorCode(t) != v.code {
					t.Errorf("GET %s: got %d %s, want %d %s", p, res.status, res.body, v.status, v.code)
				}
			}
		})
	}
}
