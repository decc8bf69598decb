package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sfconnect/connector/local/demo/stack"
	"github.com/sfconnect/connector/local/rie"
	"github.com/sfconnect/connector/shared/connector"
)

// state carries ids from one step to the next.
type state struct {
	accountID  string
	workitemID string
	invoiceID  string
	accountIDs []string // written by the collection step
	importJob  string   // the bulk steps' jobs
	exportJob  string
	// process has the org process its closed Bulk API 2.0 jobs, as it does in
	// the background while a workflow waits (options.process).
	process func() int
}

// output is a function's result: the connector contract's two fields, the
// counts of COLLECTION and COMPOSITE, and the bulk actions' job state.
type output struct {
	Status string `json:"salesforceStatus"`
	Result string `json:"salesforceResult"`

	SuccessCount    *int `json:"successCount"`
	FailureCount    *int `json:"failureCount"`
	RolledBackCount *int `json:"rolledBackCount"`
	HaltedCount     *int `json:"haltedCount"`

	*connector.Bulk
}

// counts shows the counts of an output, or "" when it has none.
func (o output) counts() string {
	var parts []string
	for _, c := range []struct {
		name string
		n    *int
	}{{"successCount", o.SuccessCount}, {"failureCount", o.FailureCount}, {"rolledBackCount", o.RolledBackCount}, {"haltedCount", o.HaltedCount}} {
		if c.n != nil {
			parts = append(parts, fmt.Sprintf("%s %d", c.name, *c.n))
		}
	}
	return strings.Join(parts, ", ")
}

// step is one invoke of the story. event builds the event from the sample in
// events/ where there is one, check judges the output and keeps the ids later
// steps need.
type step struct {
	title string
	fn    string
	event func(*state) ([]byte, error)
	check func(*state, output) error
}

// story is the demo: the sample events of events/, with the ids of the local
// org's records in place of the samples' ids.
var story = []step{
	{
		title: "create an Account",
		fn:    "create",
		event: sample("create.json", nil),
		check: func(s *state, o output) error {
			var r struct {
				ID      string `json:"id"`
				Success bool   `json:"success"`
			}
			if err := want(o, "201", &r); err != nil {
				return err
			}
			if !r.Success || r.ID == "" {
				return fmt.Errorf("no id in %s", o.Result)
			}
			s.accountID = r.ID
			return nil
		},
	},
	{
		title: "get it",
		fn:    "get",
		event: sample("get.json", func(s *state) map[string]any { return map[string]any{"SObjectId": s.accountID} }),
		check: func(s *state, o output) error {
			var r struct {
				ID   string `json:"Id"`
				Name string `json:"Name"`
			}
			if err := want(o, "200", &r); err != nil {
				return err
			}
			if r.ID != s.accountID {
				return fmt.Errorf("got Id %q, want %q", r.ID, s.accountID)
			}
			return nil
		},
	},
	{
		title: "update it",
		fn:    "update",
		event: sample("update.json", func(s *state) map[string]any { return map[string]any{"SObjectId": s.accountID} }),
		check: func(_ *state, o output) error { return want(o, "204", nil) },
	},
	{
		title: "query it",
		fn:    "query",
		event: sample("query.json", nil),
		check: func(s *state, o output) error {
			var r struct {
				TotalSize int `json:"totalSize"`
				Records   []struct {
					ID string `json:"Id"`
				} `json:"records"`
			}
			if err := want(o, "200", &r); err != nil {
				return err
			}
			if !slices.ContainsFunc(r.Records, func(x struct {
				ID string `json:"Id"`
			}) bool {
				return x.ID == s.accountID
			}) {
				return fmt.Errorf("the Account %s is not among the %d records", s.accountID, r.TotalSize)
			}
			return nil
		},
	},
	{
		title: "submit it for approval",
		fn:    "approval-submit",
		event: sample("approval-submit.json", func(s *state) map[string]any {
			return map[string]any{"salesforcePayload.contextId": s.accountID}
		}),
		check: func(s *state, o output) error {
			var r []processResult
			if err := want(o, "200", &r); err != nil {
				return err
			}
			if len(r) != 1 || !r[0].Success || r[0].InstanceStatus != "Pending" || len(r[0].NewWorkitemIDs) == 0 {
				return fmt.Errorf("want one successful Pending result with a new work item, got %s", o.Result)
			}
			s.workitemID = r[0].NewWorkitemIDs[0]
			return nil
		},
	},
	{
		title: "list the approval processes",
		fn:    "approval-list",
		event: sample("approval-list.json", nil),
		check: func(_ *state, o output) error {
			var r struct {
				Approvals map[string][]struct {
					ID string `json:"id"`
				} `json:"approvals"`
			}
			if err := want(o, "200", &r); err != nil {
				return err
			}
			if len(r.Approvals["Account"]) == 0 {
				return fmt.Errorf("no approval process on Account is listed")
			}
			return nil
		},
	},
	{
		title: "approve it (the work item of the submit)",
		fn:    "approval-approve",
		event: sample("approval-approve.json", func(s *state) map[string]any {
			return map[string]any{"salesforcePayload.contextId": s.workitemID}
		}),
		check: func(_ *state, o output) error {
			var r []processResult
			if err := want(o, "200", &r); err != nil {
				return err
			}
			if len(r) != 1 || !r[0].Success || r[0].InstanceStatus != "Approved" {
				return fmt.Errorf("want one successful Approved result, got %s", o.Result)
			}
			return nil
		},
	},
	{
		title: "create the custom object Invoice__c",
		fn:    "custom-object-create",
		event: sample("custom-object-create.json", nil),
		check: func(_ *state, o output) error {
			var r struct {
				FullName string `json:"fullName"`
				Success  bool   `json:"success"`
			}
			if err := want(o, "200", &r); err != nil {
				return err
			}
			if !r.Success || r.FullName != "Invoice__c" {
				return fmt.Errorf("want a successful SaveResult for Invoice__c, got %s", o.Result)
			}
			return nil
		},
	},
	{
		title: "create an Invoice__c record",
		fn:    "create",
		event: direct(func(*state) any {
			return map[string]any{"SObjectName": "Invoice__c", "salesforcePayload": map[string]any{"Name": "INV-0001"}}
		}),
		check: func(s *state, o output) error {
			var r struct {
				ID string `json:"id"`
			}
			if err := want(o, "201", &r); err != nil {
				return err
			}
			s.invoiceID = r.ID
			return nil
		},
	},
	{
		title: "delete that record",
		fn:    "delete",
		event: sample("delete.json", func(s *state) map[string]any {
			return map[string]any{"SObjectName": "Invoice__c", "SObjectId": s.invoiceID}
		}),
		check: func(_ *state, o output) error { return want(o, "204", nil) },
	},
	{
		title: "create three Accounts in one call",
		fn:    "collection",
		event: sample("collection.json", nil),
		check: func(s *state, o output) error {
			var r []collectionResult
			if err := want(o, "200", &r); err != nil {
				return err
			}
			s.accountIDs = nil
			for i, res := range r {
				if !res.Success || res.ID == "" {
					return fmt.Errorf("record %d was not written: %s", i, o.Result)
				}
				s.accountIDs = append(s.accountIDs, res.ID)
			}
			if len(s.accountIDs) != 3 {
				return fmt.Errorf("want three results, got %s", o.Result)
			}
			return nil
		},
	},
	{
		title: "delete the three in one call",
		fn:    "collection",
		event: direct(func(s *state) any {
			var records []map[string]string
			for _, id := range s.accountIDs {
				records = append(records, map[string]string{"Id": id})
			}
			return map[string]any{"operation": "delete", "allOrNone": true, "salesforcePayload": records}
		}),
		check: func(s *state, o output) error {
			var r []collectionResult
			if err := want(o, "200", &r); err != nil {
				return err
			}
			for i, res := range r {
				if !res.Success || res.ID != s.accountIDs[i] {
					return fmt.Errorf("record %d was not deleted: %s", i, o.Result)
				}
			}
			return nil
		},
	},
	{
		title: "an Account and its Contact, or nothing",
		fn:    "composite",
		event: sample("composite.json", nil),
		check: func(_ *state, o output) error {
			var r struct {
				CompositeResponse []struct {
					HTTPStatusCode int `json:"httpStatusCode"`
				} `json:"compositeResponse"`
			}
			if err := want(o, "200", &r); err != nil {
				return err
			}
			for i, sub := range r.CompositeResponse {
				if sub.HTTPStatusCode >= 300 {
					return fmt.Errorf("subrequest %d answered %d: %s", i, sub.HTTPStatusCode, o.Result)
				}
			}
			if len(r.CompositeResponse) != 3 {
				return fmt.Errorf("want three subrequest results, got %s", o.Result)
			}
			return nil
		},
	},
}

// collectionResult is one record's result of a collection step.
type collectionResult struct {
	ID      string `json:"id"`
	Success bool   `json:"success"`
}

// processResult is one ProcessResult of an approval action.
type processResult struct {
	Success        bool     `json:"success"`
	InstanceStatus string   `json:"instanceStatus"`
	NewWorkitemIDs []string `json:"newWorkitemIds"`
}

// sample returns an event builder: events/<file> with the values of set(state)
// at their paths (see stack.Sample).
func sample(file string, set func(*state) map[string]any) func(*state) ([]byte, error) {
	return func(s *state) ([]byte, error) {
		var values map[string]any
		if set != nil {
			values = set(s)
		}
		return stack.Sample(file, values)
	}
}

// direct returns an event builder for a step without a sample.
func direct(build func(*state) any) func(*state) ([]byte, error) {
	return func(s *state) ([]byte, error) { return json.Marshal(build(s)) }
}

// want checks the Salesforce status and decodes the result into v (nil: no decoding).
func want(o output, status string, v any) error {
	if o.Status != status {
		return fmt.Errorf("got salesforceStatus %q, want %q: %s", o.Status, status, o.Result)
	}
	if v == nil {
		return nil
	}
	if err := json.Unmarshal([]byte(o.Result), v); err != nil {
		return fmt.Errorf("salesforceResult is not the expected JSON: %v", err)
	}
	return nil
}

// functionsOf returns the distinct functions the steps use, in order of use.
func functionsOf(steps []step) []string {
	var names []string
	for _, s := range steps {
		if !slices.Contains(names, s.fn) {
			names = append(names, s.fn)
		}
	}
	return names
}

// tell runs the steps in order through the functions and prints each. It
// stops at the first failed step.
func tell(ctx context.Context, o options, story []step, functions map[string]*rie.Emulator, logs map[string]*logBuffer) (summary, error) {
	sum := summary{Functions: len(functionsOf(story))}
	s := state{process: o.process}
	warm := map[string]bool{}
	for i, st := range story {
		sum.Steps++
		event, err := st.event(&s)
		if err != nil {
			return sum, fmt.Errorf("step %d (%s): build the event: %w", i+1, st.title, err)
		}
		fn, ok := functions[st.fn]
		if !ok {
			return sum, fmt.Errorf("step %d (%s): no function %q is running", i+1, st.title, st.fn)
		}
		start := time.Now()
		res, err := fn.Invoke(ctx, event)
		took := time.Since(start)
		sum.Total += took
		if err != nil {
			return sum, fmt.Errorf("step %d (%s): %w", i+1, st.title, err)
		}
		temp := "cold start"
		if warm[st.fn] {
			temp = "warm"
		}
		warm[st.fn] = true
		fmt.Fprintf(o.out, "%2d. %-42s %-22s %5d ms  (%s)\n", i+1, st.title, st.fn, took.Milliseconds(), temp)
		fmt.Fprintf(o.out, "    event   %s\n", show(event, o.verbose))
		if res.Failed() {
			fmt.Fprintf(o.out, "    FAILED  %s\n", failure(res))
			fmt.Fprintf(o.out, "    %s's last log lines:\n%s\n", st.fn, indent(logs[st.fn].tail(10), "      "))
			return sum, fmt.Errorf("step %d (%s): %w", i+1, st.title, errStep)
		}
		var out output
		if err := json.Unmarshal(res.Body, &out); err != nil {
			return sum, fmt.Errorf("step %d (%s): output %s is not the contract's: %w", i+1, st.title, res.Body, errStep)
		}
		result := "(no body)"
		if out.Result != "" {
			result = show([]byte(out.Result), o.verbose)
		}
		fmt.Fprintf(o.out, "    output  %s %s\n", out.Status, result)
		if counts := out.counts(); counts != "" {
			fmt.Fprintf(o.out, "            %s\n", counts)
		}
		if out.Bulk != nil {
			fmt.Fprintf(o.out, "    job     %s\n", bulkNote(res.Body, o.verbose))
		}
		if err := st.check(&s, out); err != nil {
			fmt.Fprintf(o.out, "    FAILED  %v\n", err)
			return sum, fmt.Errorf("step %d (%s): %w", i+1, st.title, errStep)
		}
		sum.Passed++
	}
	return sum, nil
}

// show renders JSON for the terminal: on one line, without null fields (a
// record carries every field of its object), cut at a width unless verbose,
// where it is indented whole.
func show(raw []byte, verbose bool) string {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return string(raw)
	}
	if verbose {
		b, _ := json.MarshalIndent(v, "            ", "  ")
		return string(b)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(dropNulls(v))
	text := strings.TrimSpace(b.String())
	const width = 160
	if utf8.RuneCountInString(text) > width {
		text = string([]rune(text)[:width]) + " …"
	}
	return text
}

func dropNulls(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if e == nil {
				delete(x, k)
				continue
			}
			x[k] = dropNulls(e)
		}
	case []any:
		for i, e := range x {
			x[i] = dropNulls(e)
		}
	}
	return v
}

// failure describes an invoke that returned no result.
func failure(r rie.InvokeResult) string {
	switch {
	case r.ErrorType != "":
		return r.ErrorType + ": " + r.ErrorMessage
	case r.TimedOut:
		return r.ErrorMessage
	default:
		return fmt.Sprintf("status %d: %s", r.Status, r.Body)
	}
}

func indent(text, prefix string) string {
	return prefix + strings.ReplaceAll(text, "\n", "\n"+prefix)
}
