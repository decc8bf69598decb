package sforg_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sfconnect/connector/sforg"
)

// startOrg runs an org on loopback for the test.
func startOrg(t *testing.T, opts sforg.Options) *sforg.Server {
	t.Helper()
	s, err := sforg.Start(opts)
	if err != nil {
		t.Fatalf("sforg.Start: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// response is a finished HTTP exchange.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
}

// errorCode returns the first errorCode of a REST error array.
func (r response) errorCode(t *testing.T) string {
	t.Helper()
	var errs []sforg.APIError
	r.json(t, &errs)
	if len(errs) == 0 {
		t.Fatalf("empty error array: %s", r.body)
	}
	return errs[0].ErrorCode
}

// send makes one request; body may be nil, a string or a value to encode as JSON.
func send(t *testing.T, method, rawURL, token string, body any) response {
	t.Helper()
	return sendHeader(t, method, rawURL, token, nil, body)
}

// sendHeader is send with extra request headers.
func sendHeader(t *testing.T, method, rawURL, token string, header http.Header, body any) response {
	t.Helper()
	res, err := trySend(t, http.DefaultClient, method, rawURL, token, header, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, rawURL, err)
	}
	return res
}

// trySend is sendHeader through client, returning the error of a request
// that got no answer.
func trySend(t *testing.T, client *http.Client, method, rawURL, token string, header http.Header, body any) (response, error) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, rawURL, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := client.Do(req)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return response{}, err
	}
	return response{status: res.StatusCode, header: res.Header, body: data}, nil
}

// postForm posts a form to the token endpoint.
func postForm(t *testing.T, s *sforg.Server, form url.Values, basicUser, basicPass string) response {
	t.Helper()
	return postFormTo(t, s.URL+"/services/oauth2/token", form, basicUser, basicPass)
}

// postFormTo posts a form to an OAuth endpoint.
func postFormTo(t *testing.T, rawURL string, form url.Values, basicUser, basicPass string) response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, rawURL, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicUser != "" {
		req.SetBasicAuth(basicUser, basicPass)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: data}
}

func passwordForm(s *sforg.Server) url.Values {
	st := s.Settings()
	return url.Values{
		"grant_type":    {"password"},
		"client_id":     {st["SALESFORCE_CLIENT_ID"]},
		"client_secret": {st["SALESFORCE_CLIENT_SECRET"]},
		"username":      {st["SALESFORCE_USERNAME"]},
		"password":      {st["SALESFORCE_PASSWORD"] + st["SALESFORCE_SECURITY_TOKEN"]},
	}
}

// login returns a fresh access token by the password flow.
func login(t *testing.T, s *sforg.Server) string {
	t.Helper()
	res := postForm(t, s, passwordForm(s), "", "")
	if res.status != http.StatusOK {
		t.Fatalf("login: got %d %s", res.status, res.body)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	res.json(t, &tok)
	return tok.AccessToken
}

// fixture reads a file of testdata/ (see testdata/README.md for origins and
// licences). A missing fixture fails the test.
func fixture(t *testing.T, rel string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", filepath.FromSlash(rel)))
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	return data
}

// shape describes a JSON value's structure: object keys with their shapes,
// the type name of scalars.
func shape(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[k] = shape(e)
		}
		return out
	case []any:
		if len(x) == 0 {
			return "array"
		}
		return []any{shape(x[0])}
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	case nil:
		return "null"
	}
	return "?"
}

// sameKeysAndTypes fails unless got has every key of the fixture want, at
// every depth, with the same JSON type (null in want matches anything; arrays
// compare their first elements).
func sameKeysAndTypes(t *testing.T, got, want []byte) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("got %s: %v", got, err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("fixture: %v", err)
	}
	for _, problem := range conform("", g, w) {
		t.Errorf("%s (got %.300s)", problem, got)
	}
}

func conform(path string, got, want any) []string {
	if want == nil {
		return nil
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: got %v, want an object", path, shape(got))}
		}
		var out []string
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				out = append(out, fmt.Sprintf("%s.%s: missing", path, k))
				continue
			}
			out = append(out, conform(path+"."+k, gv, wv)...)
		}
		return out
	case []any:
		g, ok := got.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: got %v, want an array", path, shape(got))}
		}
		if len(w) == 0 || len(g) == 0 {
			return nil
		}
		return conform(path+"[0]", g[0], w[0])
	}
	if shape(got) != shape(want) {
		return []string{fmt.Sprintf("%s: got %v, want %v", path, shape(got), shape(want))}
	}
	return nil
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}
