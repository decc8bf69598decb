package connector

import (
	"encoding/json"

	"github.com/sfconnect/connector/shared/faults"
	"github.com/sfconnect/connector/shared/salesforce"
)

// Tally is what a COLLECTION or COMPOSITE output says at its top level, beside
// Salesforce's own results, so that a Choice state can branch on it without
// parsing salesforceResult. Every record (subrequest) sent is counted once:
// FailureCount is what was sent less what succeeded, so a whole-request refusal
// (a 400, or a 404 on an API version without the resource) counts every one of
// them as failed. Of the failures, RolledBackCount (COLLECTION) counts the
// records that failed only because allOrNone rolled back another's failure
// (ALL_OR_NONE_OPERATION_ROLLED_BACK), and HaltedCount (COMPOSITE) the
// subrequests Salesforce did not do or undid because another failed
// (PROCESSING_HALTED); the real errors are in the others.
type Tally struct {
	SuccessCount    int  `json:"successCount"`
	FailureCount    int  `json:"failureCount"`
	RolledBackCount *int `json:"rolledBackCount,omitempty"`
	HaltedCount     *int `json:"haltedCount,omitempty"`
}

// The codes of failures caused by another one.
const (
	codeRolledBack = "ALL_OR_NONE_OPERATION_ROLLED_BACK"
	codeHalted     = "PROCESSING_HALTED"
)

// errorItem is one error of a result: per-record errors carry statusCode,
// REST error arrays (a subrequest's body) errorCode.
type errorItem struct {
	StatusCode string `json:"statusCode"`
	ErrorCode  string `json:"errorCode"`
}

// onlyCode reports whether errs is not empty and holds only code.
func onlyCode(errs []errorItem, code string) bool {
	for _, e := range errs {
		if e.StatusCode != code && e.ErrorCode != code {
			return false
		}
	}
	return len(errs) > 0
}

// collectionResult is one SaveResult, UpsertResult or DeleteResult.
type collectionResult struct {
	Success bool        `json:"success"`
	Errors  []errorItem `json:"errors"`
}

// tallyRecords counts a collection answer for sent records. A 2xx answer must be
// the list of results; when it is not, the records may have been written and
// nobody can tell which, so it is an error that says so.
func tallyRecords(resp *salesforce.Response, sent int) (*Tally, error) {
	rolledBack := 0
	t := &Tally{FailureCount: sent, RolledBackCount: &rolledBack}
	if resp.Status/100 != 2 {
		return t, nil
	}
	var results []collectionResult
	if err := json.Unmarshal(resp.Body, &results); err != nil || results == nil {
		return nil, faults.New(faults.UnknownError,
			"COLLECTION: Salesforce answered %d with a body that is not a list of record results: the outcome is unknown, the records may have been written", resp.Status)
	}
	for _, r := range results {
		switch {
		case r.Success:
			t.SuccessCount++
		case onlyCode(r.Errors, codeRolledBack):
			rolledBack++
		}
	}
	t.FailureCount = max(sent-t.SuccessCount, 0)
	return t, nil
}

// subresult is one entry of a compositeResponse.
type subresult struct {
	HTTPStatusCode int             `json:"httpStatusCode"`
	Body           json.RawMessage `json:"body"`
}

// tallySubrequests counts a composite answer for sent subrequests: a
// subrequest succeeded when its own status is below 400 and, for an sObject
// Collections write, every record of it succeeded (an all-or-none composite
// fails on such a record while the subrequest itself answers 200). A 2xx answer
// must hold compositeResponse; when it does not, the subrequests may have run,
// and it is an error that says so.
func tallySubrequests(resp *salesforce.Response, sent int) (*Tally, error) {
	halted := 0
	t := &Tally{FailureCount: sent, HaltedCount: &halted}
	if resp.Status/100 != 2 {
		return t, nil
	}
	var answer struct {
		CompositeResponse []subresult `json:"compositeResponse"`
	}
	if err := json.Unmarshal(resp.Body, &answer); err != nil || answer.CompositeResponse == nil {
		return nil, faults.New(faults.UnknownError,
			"COMPOSITE: Salesforce answered %d with a body that holds no compositeResponse: the outcome is unknown, the subrequests may have run", resp.Status)
	}
	for _, r := range answer.CompositeResponse {
		if r.HTTPStatusCode < 400 && !recordFailed(r.Body) {
			t.SuccessCount++
			continue
		}
		var errs []errorItem
		if json.Unmarshal(r.Body, &errs) == nil && onlyCode(errs, codeHalted) {
			halted++
		}
	}
	t.FailureCount = max(sent-t.SuccessCount, 0)
	return t, nil
}

// recordFailed reports whether body is a list of record results (success true
// or false) with a failure among them.
func recordFailed(body json.RawMessage) bool {
	var results []struct {
		Success *bool `json:"success"`
	}
	if json.Unmarshal(body, &results) != nil {
		return false
	}
	for _, r := range results {
		if r.Success != nil && !*r.Success {
			return true
		}
	}
	return false
}
