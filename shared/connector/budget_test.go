package connector

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/sfconnect/connector/sforg"
	"github.com/sfconnect/connector/sforg/soql"
	"github.com/sfconnect/connector/shared/faults"
	"github.com/sfconnect/connector/shared/settings"
)

// encodedLen is the length of b inside a JSON string as encode writes it.
func encodedLen(t testing.TB, b []byte) int {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(string(b)); err != nil {
		t.Fatal(err)
	}
	return buf.Len() - 3 // the quotes and the newline
}

func FuzzEscapedLen(f *testing.F) {
	for _, s := range []string{
		``, `plain`, `{"Name":"Acme \"quoted\"","Path":"C:\\dir"}`, "tab\there\nnew\rline\bback\fform",
		"\x00\x01\x1f\x7f", `<b>&amp;</b>`, "é ü 日本 🎉", "line\u2028para\u2029", "bad \xff\xfe utf8 \xe2\x82",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := escapedLen(b), encodedLen(t, b); got != want {
			t.Errorf("escapedLen(%q): got %d, want %d", b, got, want)
		}
	})
}

func TestFromEnvBudgetAndUsageLimit(t *testing.T) {
	org, err := sforg.Start(sforg.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { org.Close() })
	tests := []struct {
		name       string
		env        map[string]string
		wantBudget int
		wantErr    string
	}{
		{"defaults", nil, settings.DefaultOutputBudget, ""},
		{"both set", map[string]string{settings.OutputBudget: "120000", "SALESFORCE_API_USAGE_LIMIT_PERCENT": "90"}, 120000, ""},
		{"budget too large", map[string]string{settings.OutputBudget: "300000"}, 0, settings.OutputBudget},
		{"limit over 100", map[string]string{"SALESFORCE_API_USAGE_LIMIT_PERCENT": "150"}, 0, "SALESFORCE_API_USAGE_LIMIT_PERCENT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := org.Settings()
			for k, v := range tt.env {
				env[k] = v
			}
			c, err := FromEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }, io.Discard)
			if tt.wantErr != "" {
				if faults.CodeOf(err) != faults.UnknownError || !strings.Contains(faults.MessageOf(err), tt.wantErr) {
					t.Fatalf("got %v, want UNKNOWN_ERROR naming %s", err, tt.wantErr)
				}
				r := invoke(t, c.Get, `{}`)
				wantError(t, r, faults.UnknownError, tt.wantErr)
				return
			}
			if err != nil || c.budget != tt.wantBudget || c.metrics == nil {
				t.Fatalf("got %v, budget %d, metrics %v; want budget %d and metrics on standard output", err, c.budget, c.metrics, tt.wantBudget)
			}
		})
	}
}

// TestLargeAnswerNotReadWhole: a record far larger than the output budget is
// refused while it is read, with the budget's error and hint, not read whole
// and then refused.
func TestLargeAnswerNotReadWhole(t *testing.T) {
	w := setup(t)
	// Ten long text areas of 131,072 characters: 1.3 MB, over 4x the budget.
	o := sforg.NewCustomObject("Dossier__c", "Dossier", "Dossiers", "Dossier Name", "Text")
	values := map[string]any{"Name": "Huge"}
	for i := range 10 {
		name := fmt.Sprintf("Notes%d__c", i)
		o.Fields = append(o.Fields, &sforg.Field{Name: name, Label: name, Type: soql.TypeTextArea, Length: 131072, Custom: true})
		values[name] = strings.Repeat("x", 131072)
	}
	if err := w.org.Store().Define(o); err != nil {
		t.Fatal(err)
	}
	id, err := w.org.Store().Insert("Dossier__c", values)
	if err != nil {
		t.Fatal(err)
	}
	r := invoke(t, w.conn.Get, jsonEvent(t, map[string]any{"SObjectName": "Dossier__c", "SObjectId": id}))
	wantError(t, r, faults.UnknownError, "larger than 960000 bytes, more than the 240000-byte output budget (SALESFORCE_OUTPUT_BUDGET) can hold: name only the fields you need in fields")
}
