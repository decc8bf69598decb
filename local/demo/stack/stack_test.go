package stack

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/sfconnect/connector/sforg"
)

func TestSecretString(t *testing.T) {
	org := sforg.New(sforg.Options{})
	org.URL = "http://127.0.0.1:1"
	text, err := SecretString(org.Settings())
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	if err := json.Unmarshal([]byte(text), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 8 {
		t.Errorf("got %d keys, want 8: %v", len(got), keys(got))
	}
	for k, v := range org.Settings() {
		if got[k] != v {
			t.Errorf("%s: got %q, want %q", k, got[k], v)
		}
	}

	settings := org.Settings()
	delete(settings, "SALESFORCE_SECURITY_TOKEN")
	if _, err := SecretString(settings); err == nil || !strings.Contains(err.Error(), "SALESFORCE_SECURITY_TOKEN") {
		t.Errorf("got %v, want an error naming SALESFORCE_SECURITY_TOKEN", err)
	}
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestReplace(t *testing.T) {
	const doc = `{"SObjectId":"old","detail":{"SObjectId":"old"},"salesforcePayload":{"requests":[{"contextId":"old"}]},"n":1}`
	tests := []struct {
		path    string
		want    string
		wantErr bool
	}{
		{path: "SObjectId", want: `{"SObjectId":"new","detail":{"SObjectId":"old"},"n":1,"salesforcePayload":{"requests":[{"contextId":"old"}]}}`},
		{path: "detail.SObjectId", want: `{"SObjectId":"old","detail":{"SObjectId":"new"},"n":1,"salesforcePayload":{"requests":[{"contextId":"old"}]}}`},
		{path: "salesforcePayload.requests[0].contextId", want: `{"SObjectId":"old","detail":{"SObjectId":"old"},"n":1,"salesforcePayload":{"requests":[{"contextId":"new"}]}}`},
		{path: "Missing", wantErr: true},
		{path: "detail.Missing", wantErr: true},
		{path: "salesforcePayload.requests[1].contextId", wantErr: true},
		{path: "n.x", wantErr: true},
		{path: "salesforcePayload.requests[x]", wantErr: true},
		{path: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			var v any
			if err := json.Unmarshal([]byte(doc), &v); err != nil {
				t.Fatal(err)
			}
			err := Replace(v, tt.path, "new")
			if (err != nil) != tt.wantErr {
				t.Fatalf("got error %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			got, _ := json.Marshal(v)
			if string(got) != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestSample(t *testing.T) {
	raw, err := Sample("eventbridge-update.json", map[string]any{"detail.SObjectId": "0015g0000000003AAA"})
	if err != nil {
		t.Fatal(err)
	}
	var ev struct {
		Detail struct {
			SObjectID string `json:"SObjectId"`
		} `json:"detail"`
	}
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Detail.SObjectID != "0015g0000000003AAA" {
		t.Errorf("got %q, want %q", ev.Detail.SObjectID, "0015g0000000003AAA")
	}
	if _, err := Sample("get.json", map[string]any{"detail.SObjectId": "x"}); err == nil {
		t.Error("a path the sample lacks: got nil error, want one")
	}
	if _, err := Sample("no-such-file.json", nil); err == nil {
		t.Error("a missing sample: got nil error, want one")
	}
}

func TestFunctions(t *testing.T) {
	names, err := Functions()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"create", "get", "approval-approve", "custom-object-create"} {
		found := false
		for _, n := range names {
			found = found || n == want
		}
		if !found {
			t.Errorf("got %v, want it to hold %q", names, want)
		}
	}
}
