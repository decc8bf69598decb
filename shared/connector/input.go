package connector

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sfconnect/connector/shared/faults"
	"github.com/sfconnect/connector/shared/sfid"
)

// Limits on what an event may carry. Step Functions passes at most 256 KB of
// state, so these bound only hostile or broken input.
const (
	maxEventBytes = 1 << 20 // the largest invoke event decoded
	maxQueryBytes = 100_000 // Salesforce's SOQL length limit
	maxDepth      = 32      // JSON nesting of salesforcePayload
	maxFields     = 500     // names in GET's fields
)

// input holds the contract's parameters as they arrived: a field is nil when the
// event did not carry it.
type input struct {
	SObjectName       json.RawMessage `json:"SObjectName"`
	SObjectID         json.RawMessage `json:"SObjectId"`
	SalesforcePayload json.RawMessage `json:"salesforcePayload"`
	SalesforceQuery   json.RawMessage `json:"salesforceQuery"`

	// QUERY paging (query.go) and GET's field list.
	PageSize   json.RawMessage `json:"pageSize"`
	MaxRecords json.RawMessage `json:"maxRecords"`
	Cursor     json.RawMessage `json:"cursor"`
	Fields     json.RawMessage `json:"fields"`

	// UPSERT's record key (upsert.go).
	ExternalIDField json.RawMessage `json:"externalIdField"`
	ExternalIDValue json.RawMessage `json:"externalIdValue"`

	// APPROVAL_LIST's pending form (approvals_pending.go).
	Pending json.RawMessage `json:"pending"`
	ActorID json.RawMessage `json:"actorId"`

	// COLLECTION's operation and rollback choice (collection.go).
	Operation json.RawMessage `json:"operation"`
	AllOrNone json.RawMessage `json:"allOrNone"`

	// A write's idempotency key (idempotency.go), and the id of the
	// EventBridge event that carried the input, its key by default.
	IdempotencyKey json.RawMessage `json:"idempotencyKey"`
	eventID        string
	// key is the write's key once checked; nil without one.
	key *idemKey

	bulkInput // the bulk actions' inputs (bulk.go)
}

// eventBridge is the part of an EventBridge event that tells it apart from a
// direct invoke: rules deliver the whole event, the connector reads its detail.
type eventBridge struct {
	ID         json.RawMessage `json:"id"`
	DetailType *string         `json:"detail-type"`
	Source     *string         `json:"source"`
	Detail     json.RawMessage `json:"detail"`
}

// decode reads the event of an invoke: the parameters themselves (a Step
// Functions task input) or an EventBridge event carrying them in detail.
func decode(event []byte) (*input, error) {
	if len(event) > maxEventBytes {
		return nil, faults.New(faults.InvalidInput, "event is larger than %d bytes", maxEventBytes)
	}
	if !utf8.Valid(event) {
		return nil, faults.New(faults.InvalidInput, "event is not valid UTF-8")
	}
	trimmed := bytes.TrimSpace(event)
	if len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		trimmed = []byte("{}")
	}
	if trimmed[0] != '{' {
		return nil, faults.New(faults.InvalidInput, "event must be a JSON object")
	}
	if err := checkDepth(trimmed); err != nil {
		return nil, err
	}
	var eb eventBridge
	if err := json.Unmarshal(trimmed, &eb); err != nil {
		return nil, faults.New(faults.InvalidInput, "event is not valid JSON")
	}
	if eb.DetailType != nil && eb.Source != nil && eb.Detail != nil {
		trimmed = bytes.TrimSpace(eb.Detail)
		if len(trimmed) == 0 || trimmed[0] != '{' {
			return nil, faults.New(faults.InvalidInput, "EventBridge detail must be a JSON object")
		}
	}
	var in input
	if err := json.Unmarshal(trimmed, &in); err != nil {
		return nil, faults.New(faults.InvalidInput, "event is not valid JSON")
	}
	if eb.DetailType != nil && eb.Source != nil && eb.Detail != nil {
		_ = json.Unmarshal(eb.ID, &in.eventID) // a UUID; anything else is no key
	}
	return &in, nil
}

// checkDepth rejects JSON nested deeper than maxDepth before anything decodes it.
func checkDepth(data []byte) error {
	depth, inString, escaped := 0, false, false
	for _, c := range data {
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			depth++
			if depth > maxDepth+2 { // the event and salesforcePayload wrap the payload
				return faults.New(faults.InvalidInput, "event is nested deeper than %d levels", maxDepth)
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return nil
}

func isAbsent(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || bytes.Equal(t, []byte("null")) || bytes.Equal(t, []byte(`""`))
}

// text returns a required string parameter.
func text(raw json.RawMessage, name string) (string, error) {
	if isAbsent(raw) {
		return "", faults.New(faults.MissingInput, "%s is required", name)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", faults.New(faults.InvalidInput, "%s must be a string", name)
	}
	return s, nil
}

// objectName returns SObjectName, a valid API name so it cannot reach another path.
func (in *input) objectName() (string, error) {
	s, err := text(in.SObjectName, "SObjectName")
	if err != nil {
		return "", err
	}
	if !sfid.ValidName(s) {
		return "", faults.New(faults.InvalidInput, "SObjectName %s is not a valid Salesforce API name", quote(s))
	}
	return s, nil
}

// objectID returns SObjectId, a 15- or 18-character id with a valid checksum.
func (in *input) objectID() (string, error) {
	s, err := text(in.SObjectID, "SObjectId")
	if err != nil {
		return "", err
	}
	if !sfid.Valid(s) {
		return "", faults.New(faults.InvalidInput, "SObjectId %s is not a 15- or 18-character Salesforce id", quote(s))
	}
	return s, nil
}

// query returns salesforceQuery.
func (in *input) query() (string, error) {
	s, err := text(in.SalesforceQuery, "salesforceQuery")
	if err != nil {
		return "", err
	}
	if len(s) > maxQueryBytes {
		return "", faults.New(faults.InvalidInput, "salesforceQuery is longer than %d characters", maxQueryBytes)
	}
	return s, nil
}

// payload returns salesforcePayload as a JSON object. The contract allows the
// object itself or a string holding it (what a templated workflow often sends).
func (in *input) payload() (json.RawMessage, error) {
	raw, err := in.payloadJSON()
	if err != nil {
		return nil, err
	}
	if raw[0] != '{' {
		return nil, faults.New(faults.InvalidInput, "salesforcePayload must be a JSON object")
	}
	return raw, nil
}

// payloadJSON returns salesforcePayload as the JSON value it holds, unwrapping
// a string that holds JSON.
func (in *input) payloadJSON() (json.RawMessage, error) {
	raw := bytes.TrimSpace(in.SalesforcePayload)
	if isAbsent(raw) {
		return nil, faults.New(faults.MissingInput, "salesforcePayload is required")
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, faults.New(faults.InvalidInput, "salesforcePayload is not valid JSON")
		}
		raw = bytes.TrimSpace([]byte(s))
		if len(raw) == 0 {
			return nil, faults.New(faults.MissingInput, "salesforcePayload is required")
		}
		if err := checkDepth(raw); err != nil {
			return nil, err
		}
		if !json.Valid(raw) {
			return nil, faults.New(faults.InvalidInput, "salesforcePayload is a string that does not hold valid JSON")
		}
	}
	return json.RawMessage(raw), nil
}

// count returns an optional whole-number parameter within [lo, hi]: a JSON
// number or a string holding one (what a templated workflow often sends). ok is
// false when the event did not carry it.
func count(raw json.RawMessage, name string, lo, hi int) (n int, ok bool, err error) {
	if isAbsent(raw) {
		return 0, false, nil
	}
	t := bytes.TrimSpace(raw)
	if t[0] == '"' {
		var s string
		if err := json.Unmarshal(t, &s); err != nil {
			return 0, false, faults.New(faults.InvalidInput, "%s must be a whole number", name)
		}
		t = []byte(strings.TrimSpace(s))
	}
	v, err := strconv.ParseInt(string(t), 10, 64)
	if err != nil || v < int64(lo) || v > int64(hi) {
		return 0, false, faults.New(faults.InvalidInput, "%s must be a whole number from %d to %d", name, lo, hi)
	}
	return int(v), true, nil
}

// fields returns GET's optional field list: a JSON array of field API names or
// one string of them separated by commas. Each must be a valid API name, so the
// list cannot carry anything but field names into the query string.
func (in *input) fields() ([]string, error) {
	if isAbsent(in.Fields) {
		return nil, nil
	}
	var list []string
	var one string
	if json.Unmarshal(in.Fields, &one) == nil {
		list = strings.Split(one, ",")
	} else if err := json.Unmarshal(in.Fields, &list); err != nil {
		return nil, faults.New(faults.InvalidInput, "fields must be an array of field names or one string of them separated by commas")
	}
	if len(list) > maxFields {
		return nil, faults.New(faults.InvalidInput, "fields names more than %d fields", maxFields)
	}
	out := make([]string, 0, len(list))
	for _, f := range list {
		f = strings.TrimSpace(f)
		if f == "" && len(list) > 1 {
			continue
		}
		if !sfid.ValidName(f) {
			return nil, faults.New(faults.InvalidInput, "fields: %s is not a valid Salesforce field name", quote(f))
		}
		out = append(out, f)
	}
	return out, nil
}

// quote shows untrusted text in a message: quoted, escaped and cut short.
func quote(s string) string {
	const max = 64
	r := []rune(s)
	if len(r) > max {
		return fmt.Sprintf("%q...", string(r[:max]))
	}
	return fmt.Sprintf("%q", s)
}
