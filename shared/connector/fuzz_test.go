package connector

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sfconnect/connector/shared/faults"
	"github.com/sfconnect/connector/shared/sfid"
)

// The fuzz targets check decoding and validation on any event: no panic, only
// the input errors of the catalogue, bounded messages, and nothing accepted
// that could leave its place in a URL path or a JSON body. Their seed corpora
// are the sample events plus testdata/fuzz; `make fuzz` runs each for a while.

// maxMessage bounds an error message built from hostile input: values are
// quoted and cut short, never echoed whole.
const maxMessage = 400

// inputError checks that err is nil or an input error with a bounded message.
func inputError(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if code := faults.CodeOf(err); code != faults.MissingInput && code != faults.InvalidInput {
		t.Fatalf("%s: got %s %q, want MISSING_INPUT or INVALID_INPUT", what, code, faults.MessageOf(err))
	}
	if msg := faults.MessageOf(err); len(msg) > maxMessage || !utf8.ValidString(msg) {
		t.Fatalf("%s: got a message of %d bytes, want at most %d of valid UTF-8", what, len(msg), maxMessage)
	}
}

// pathSafe reports whether s can only name one path segment: no separator,
// escape, query, fragment, dot or control character.
func pathSafe(s string) bool {
	return s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return r < 0x20 || r == 0x7f || r > 0x7e || strings.ContainsRune(`/\?#%.&;: `, r)
	})
}

func seedEvents(f *testing.F) {
	files, _ := filepath.Glob("../../events/*.json")
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
}

func FuzzDecode(f *testing.F) {
	seedEvents(f)
	f.Fuzz(func(t *testing.T, event []byte) {
		in, err := decode(event)
		inputError(t, "decode", err)
		if err != nil {
			return
		}
		if name, err := in.objectName(); err == nil {
			if !pathSafe(name) || !sfid.ValidName(name) {
				t.Fatalf("SObjectName %q accepted", name)
			}
		} else {
			inputError(t, "SObjectName", err)
		}
		if id, err := in.objectID(); err == nil {
			if !pathSafe(id) || (len(id) != 15 && len(id) != 18) {
				t.Fatalf("SObjectId %q accepted", id)
			}
		} else {
			inputError(t, "SObjectId", err)
		}
		if q, err := in.query(); err == nil {
			if len(q) > maxQueryBytes || q == "" {
				t.Fatalf("salesforceQuery of %d bytes accepted", len(q))
			}
		} else {
			inputError(t, "salesforceQuery", err)
		}
		p, err := in.payload()
		inputError(t, "salesforcePayload", err)
		if err != nil {
			return
		}
		if !json.Valid(p) || p[0] != '{' {
			t.Fatalf("salesforcePayload %q accepted: not a JSON object", p)
		}
		if checkDepth(p) != nil {
			t.Fatalf("salesforcePayload nested deeper than %d accepted", maxDepth)
		}
		for _, actionType := range []string{"Submit", "Approve", "Reject"} {
			body, err := approvalBody(p, actionType)
			inputError(t, "approval "+actionType, err)
			if err == nil {
				checkApprovalBody(t, body, actionType, -1)
			}
		}
	})
}

// FuzzApprovalBody checks the approval request the connector builds from any
// payload: each request carries this function's actionType and a valid id.
func FuzzApprovalBody(f *testing.F) {
	f.Add([]byte(`{"contextId":"001D000000IqhSLIAZ","comments":"please"}`), uint8(0))
	f.Add([]byte(`{"requests":[{"contextId":"04iD0000000Cw6SIAS","actionType":"approve","nextApproverIds":["005D00000015rY9IAI"]}]}`), uint8(1))
	f.Fuzz(func(t *testing.T, payload []byte, which uint8) {
		actionType := [...]string{"Submit", "Approve", "Reject"}[which%3]
		body, err := approvalBody(payload, actionType)
		inputError(t, "approvalBody", err)
		if err != nil {
			return
		}
		n := 1
		var top map[string]json.RawMessage
		if json.Unmarshal(payload, &top) == nil {
			if raw, ok := top["requests"]; ok {
				var reqs []json.RawMessage
				_ = json.Unmarshal(raw, &reqs)
				n = len(reqs)
			}
		}
		checkApprovalBody(t, body, actionType, n)
	})
}

// checkApprovalBody checks a built body: n requests (any number when n < 0),
// each with actionType and a valid contextId.
func checkApprovalBody(t *testing.T, body []byte, actionType string, n int) {
	t.Helper()
	var out struct {
		Requests []struct {
			ActionType      string   `json:"actionType"`
			ContextID       string   `json:"contextId"`
			NextApproverIDs []string `json:"nextApproverIds"`
		} `json:"requests"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	if len(out.Requests) == 0 || (n >= 0 && len(out.Requests) != n) {
		t.Fatalf("got %d requests, want %d", len(out.Requests), n)
	}
	for _, r := range out.Requests {
		if r.ActionType != actionType || !sfid.Valid(r.ContextID) {
			t.Fatalf("got request %+v, want actionType %s and a valid contextId", r, actionType)
		}
		for _, id := range r.NextApproverIDs {
			if !sfid.Valid(id) {
				t.Fatalf("nextApproverIds holds %q", id)
			}
		}
	}
	// No request may carry a second spelling of actionType that Salesforce
	// could read instead of this function's.
	var raw struct {
		Requests []map[string]json.RawMessage `json:"requests"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	for _, r := range raw.Requests {
		for k := range r {
			if strings.EqualFold(k, "actionType") && k != "actionType" {
				t.Fatalf("request carries %q next to actionType %s", k, actionType)
			}
		}
	}
}
