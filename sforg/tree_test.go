package sforg_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/sfconnect/connector/sforg"
)

// treeAnswer is the body of an sObject Tree answer.
type treeAnswer struct {
	HasErrors bool `json:"hasErrors"`
	Results   []struct {
		ReferenceID string `json:"referenceId"`
		ID          string `json:"id"`
		Errors      []struct {
			StatusCode string   `json:"statusCode"`
			Message    string   `json:"message"`
			Fields     []string `json:"fields"`
		} `json:"errors"`
	} `json:"results"`
}

// node is a tree record of type typ with reference ref.
func node(typ, ref string, fields map[string]any) map[string]any {
	rec := map[string]any{"attributes": map[string]any{"type": typ, "referenceId": ref}}
	for k, v := range fields {
		rec[k] = v
	}
	return rec
}

func children(recs ...map[string]any) map[string]any {
	list := make([]any, len(recs))
	for i, r := range recs {
		list[i] = r
	}
	return map[string]any{"records": list}
}

const treePath = "/services/data/v50.0/composite/tree/Account"

func TestSObjectTree(t *testing.T) {
	o := newOrg(t, sforg.Options{})
	st := o.Store()

	t.Run("creates parents then children, linked", func(t *testing.T) {
		res := o.do(t, http.MethodPost, treePath, map[string]any{"records": []any{
			node("Account", "ref1", map[string]any{"Name": "Tree One", "Contacts": children(
				node("Contact", "ref2", map[string]any{"LastName": "Smith"}),
				node("Contact", "ref3", map[string]any{"LastName": "Evans"}),
			)}),
			node("Account", "ref4", map[string]any{"Name": "Tree Two"}),
		}})
		if res.status != http.StatusCreated {
			t.Fatalf("got %d %s, want 201", res.status, res.body)
		}
		var got treeAnswer
		res.json(t, &got)
		order := []string{"ref1", "ref4", "ref2", "ref3"}
		if got.HasErrors || len(got.Results) != len(order) {
			t.Fatalf("got %s, want 4 results without errors", res.body)
		}
		ids := map[string]string{}
		for i, ref := range order {
			if got.Results[i].ReferenceID != ref || got.Results[i].ID == "" {
				t.Errorf("result %d: got %+v, want %s with an id", i, got.Results[i], ref)
			}
			ids[got.Results[i].ReferenceID] = got.Results[i].ID
		}
		for _, ref := range []string{"ref2", "ref3"} {
			_, f, err := st.Get("Contact", ids[ref], []string{"AccountId"})
			if err != nil || f["AccountId"] != ids["ref1"] {
				t.Errorf("%s AccountId: got %v (%v), want %s", ref, f["AccountId"], err, ids["ref1"])
			}
		}
	})

	tooMany := make([]any, 201)
	for i := range tooMany {
		tooMany[i] = node("Account", fmt.Sprintf("r%d", i), map[string]any{"Name": "x"})
	}
	for _, tt := range []struct {
		name    string
		records []any
		failed  []string // referenceIds in the results
		code    string
	}{
		{"a record that fails: nothing is created", []any{
			node("Account", "ok", map[string]any{"Name": "Fine", "Contacts": children(node("Contact", "bad", map[string]any{"Email": "x"}))}),
		}, []string{"bad"}, "REQUIRED_FIELD_MISSING"},
		{"duplicate referenceIds: one result each", []any{
			node("Account", "same", map[string]any{"Name": "A"}),
			node("Account", "same", map[string]any{"Name": "B"}),
		}, []string{"same", "same"}, "INVALID_INPUT"},
		{"a root of another type", []any{node("Contact", "c", map[string]any{"LastName": "x"})}, []string{"c"}, "INVALID_TYPE"},
		{"a record without referenceId", []any{node("Account", "", map[string]any{"Name": "x"})}, []string{""}, "INVALID_INPUT"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			accounts, contacts := st.Count("Account"), st.Count("Contact")
			res := o.do(t, http.MethodPost, treePath, map[string]any{"records": tt.records})
			if res.status != http.StatusBadRequest {
				t.Fatalf("got %d %s, want 400", res.status, res.body)
			}
			var got treeAnswer
			res.json(t, &got)
			if !got.HasErrors || len(got.Results) != len(tt.failed) {
				t.Fatalf("got %s, want hasErrors and %d results", res.body, len(tt.failed))
			}
			for i, ref := range tt.failed {
				r := got.Results[i]
				if r.ReferenceID != ref || r.ID != "" || len(r.Errors) == 0 || r.Errors[0].StatusCode != tt.code || r.Errors[0].Fields == nil {
					t.Errorf("result %d: got %+v, want %s %s with fields", i, r, ref, tt.code)
				}
			}
			if st.Count("Account") != accounts || st.Count("Contact") != contacts {
				t.Errorf("records were created")
			}
		})
	}

	for _, tt := range []struct {
		name    string
		path    string
		records []any
		status  int
		code    string
	}{
		{"201 records", treePath, tooMany, 400, "LIMIT_EXCEEDED"},
		{"an unknown object", "/services/data/v50.0/composite/tree/Nope__c", []any{}, 404, "NOT_FOUND"},
		{"before 38.0", "/services/data/v37.0/composite/tree/Account", []any{}, 404, "NOT_FOUND"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := o.do(t, http.MethodPost, tt.path, map[string]any{"records": tt.records})
			if res.status != tt.status || res.errorCode(t) != tt.code {
				t.Errorf("got %d %s, want %d %s", res.status, res.body, tt.status, tt.code)
			}
		})
	}
}

func TestSObjectTreeCountsAndFaults(t *testing.T) {
	o := newOrg(t, sforg.Options{})
	before := o.Counters()
	body := map[string]any{"records": []any{node("Account", "r1", map[string]any{"Name": "Counted"})}}
	if res := o.do(t, http.MethodPost, treePath, body); res.status != http.StatusCreated {
		t.Fatalf("got %d %s", res.status, res.body)
	}
	after := o.Counters()
	if after["api-usage"]-before["api-usage"] != 1 || after["api-calls.composite"]-before["api-calls.composite"] != 1 {
		t.Errorf("counters: before %v after %v, want one composite call", before, after)
	}
	if err := o.Inject(sforg.Fault{Route: sforg.RouteCompositeTree, Kind: sforg.FaultDropAfter, Times: 1}); err != nil {
		t.Fatal(err)
	}
	n := o.Store().Count("Account")
	if got := postRaw(t, o, http.MethodPost, treePath, body); got != 0 {
		t.Fatalf("status %d, want a dropped connection", got)
	}
	if got := o.Store().Count("Account"); got != n+1 {
		t.Errorf("accounts after a drop after the commit: got %d, want %d", got, n+1)
	}
}
