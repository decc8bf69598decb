package salesforce

// Record writes through the User Interface API with an Idempotency-Key
// (docs/salesforce-protocol.md §3 for the sObject shapes; the UI API's own
// guide, "Prevent Record Duplication with Idempotent Record Writes"):
// Salesforce runs the first request that carries a key and stores its answer;
// a later request to the same resource with the same key gets the stored
// answer and changes nothing. So a write whose outcome is unknown can be sent
// again: these requests are Idempotent for the transport.
//
// The answers are turned into the ones the sObject resources give, so that a
// workflow reads the same output with and without a key: a create's Record
// becomes 201 {"id","success":true,"errors":[]}, an update's 200 Record and a
// delete's 204 become 204 without a body, and refusals become the sObject
// error array [{"message","errorCode","fields"}] with the UI API's status.
//
// Net/http itself sends a request that carries an Idempotency-Key once more
// when a kept-alive connection closes before any answer (Request.isReplayable
// counts the header as a promise of idempotency). That is safe here, since
// Salesforce deduplicates it, and relied on; the transport counts that replay as
// an attempt of its own.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strconv"

	"github.com/sfconnect/connector/shared/faults"
	"github.com/sfconnect/connector/shared/salesforce/session"
	"github.com/sfconnect/connector/shared/salesforce/transport"
)

// IdempotencyVersion is the first API version whose UI API honours
// Idempotency-Key (56.0, Winter '23; a beta then, generally available since a
// release Salesforce does not name [UNCONFIRMED]). Earlier versions ignore the
// header: the write runs every time.
const IdempotencyVersion = 56.0

// The idempotency refusals of a keyed write, kept as the cause of the faults
// error so that a caller can name its own key in the message.
//
// [UNCONFIRMED] Salesforce documents no status for them; these follow the IETF
// draft "The Idempotency-Key HTTP Header Field" (409 while the key's first
// request runs, 422 for a key reused with another request), as the local org
// does.
var (
	ErrKeyInFlight = errors.New("salesforce: a request with this Idempotency-Key is still running")
	ErrKeyReused   = errors.New("salesforce: this Idempotency-Key was used for another request")
)

// KeyedWrites reports whether the session's API version honours
// Idempotency-Key on UI API record writes. It logs in when there is no session.
func (c *Client) KeyedWrites(ctx context.Context) (bool, string, error) {
	ctx, cancel := c.bound(ctx)
	defer cancel()
	tok, err := c.tokens.Token(ctx)
	if err != nil {
		return false, "", err
	}
	v, err := strconv.ParseFloat(tok.Version, 64)
	return err == nil && v >= IdempotencyVersion, tok.Version, nil
}

// CreateRecordWithKey creates one record through POST ui-api/records with
// Idempotency-Key key (a UUID): 201 {"id","success","errors"} as CreateRecord
// answers.
func (c *Client) CreateRecordWithKey(ctx context.Context, object string, fields json.RawMessage, key string) (*Response, error) {
	body, err := json.Marshal(struct {
		APIName string          `json:"apiName"`
		Fields  json.RawMessage `json:"fields"`
	}{object, nonNil(fields)})
	if err != nil {
		return nil, faults.Wrap(faults.InvalidInput, err, "salesforcePayload is not valid JSON")
	}
	return c.keyed(ctx, http.MethodPost, "ui-api/records", body, key, recordCreated)
}

// UpdateRecordWithKey changes fields of one record through PATCH
// ui-api/records/{id} with Idempotency-Key key: 204 as UpdateRecord answers.
// The UI API finds the object from the id.
func (c *Client) UpdateRecordWithKey(ctx context.Context, id string, fields json.RawMessage, key string) (*Response, error) {
	body, err := json.Marshal(struct {
		Fields json.RawMessage `json:"fields"`
	}{nonNil(fields)})
	if err != nil {
		return nil, faults.Wrap(faults.InvalidInput, err, "salesforcePayload is not valid JSON")
	}
	return c.keyed(ctx, http.MethodPatch, "ui-api/records/"+url.PathEscape(id), body, key, noContent)
}

// DeleteRecordWithKey deletes one record through DELETE ui-api/records/{id}
// with Idempotency-Key key: 204 as DeleteRecord answers.
func (c *Client) DeleteRecordWithKey(ctx context.Context, id, key string) (*Response, error) {
	return c.keyed(ctx, http.MethodDelete, "ui-api/records/"+url.PathEscape(id), nil, key, noContent)
}

// keyed sends one UI API write with its key, as an idempotent request, and
// turns the answer into the sObject resources' (success, the 2xx answer).
func (c *Client) keyed(ctx context.Context, method, path string, body []byte, key string, success func(*Response) (*Response, error)) (*Response, error) {
	ctx, cancel := c.bound(ctx)
	defer cancel()
	resp, err := c.do(ctx, func(t *session.Token) transport.Request {
		r := rest(t, method, path, body)
		r.Header["Idempotency-Key"] = key
		r.Idempotent = true
		return r
	})
	if err != nil {
		return nil, err
	}
	name := method + " " + path
	switch {
	case resp.Status >= 200 && resp.Status < 300:
		return success(resp)
	case resp.Status == http.StatusConflict:
		return nil, faults.Wrap(faults.RequestTimeout, ErrKeyInFlight, "%s: Salesforce is still running an earlier request with this idempotency key", name)
	case resp.Status == http.StatusUnprocessableEntity:
		return nil, faults.Wrap(faults.InvalidInput, ErrKeyReused, "%s: Salesforce refused an idempotency key used before for another request", name)
	}
	return &Response{Status: resp.Status, Header: resp.Header, Body: sobjectErrors(resp.Body)}, nil
}

// recordCreated turns a created Record into the sObject create answer.
func recordCreated(resp *Response) (*Response, error) {
	var rec struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(resp.Body, &rec); err != nil || rec.ID == "" {
		return nil, faults.New(faults.UnknownError, "POST ui-api/records: Salesforce's answer is not a Record with an id")
	}
	body, err := json.Marshal(struct {
		ID      string   `json:"id"`
		Success bool     `json:"success"`
		Errors  []string `json:"errors"`
	}{rec.ID, true, []string{}})
	if err != nil {
		return nil, faults.Wrap(faults.UnknownError, err, "encoding the create answer")
	}
	return &Response{Status: http.StatusCreated, Header: resp.Header, Body: body}, nil
}

// noContent is the answer of an update or delete that succeeded: 204, no body.
func noContent(resp *Response) (*Response, error) {
	return &Response{Status: http.StatusNoContent, Header: resp.Header}, nil
}

// sobjectError is one error of the sObject resources' error array: a DML
// error names its fields ("fields":[] when none), a request error has none.
type sobjectError struct {
	Message   string    `json:"message"`
	ErrorCode string    `json:"errorCode"`
	Fields    *[]string `json:"fields,omitempty"`
}

func fields(names ...string) *[]string {
	if names == nil {
		names = []string{}
	}
	return &names
}

// uiError is one error of the UI API: an item of its plain error array, or of
// a Record Exceptions body (Error with Output).
type uiError struct {
	ErrorCode string `json:"errorCode"`
	Message   string `json:"message"`
}

// sobjectErrors turns a UI API error body into the sObject error array: the
// plain array [{"errorCode","message"}] keeps its items; "Error with Output"
// ({"enhancedErrorType":"RecordError","output":{"errors","fieldErrors"}}, a save
// the data refused) gives one item per error, those naming fields with their
// fields, as a DML error lists them ("fields":["Name"]). A body of neither
// shape is kept as it is.
func sobjectErrors(body []byte) []byte {
	var out []sobjectError
	var plain []uiError
	var rich struct {
		Message string `json:"message"`
		Output  *struct {
			Errors      []uiError            `json:"errors"`
			FieldErrors map[string][]uiError `json:"fieldErrors"`
		} `json:"output"`
	}
	switch {
	case json.Unmarshal(body, &plain) == nil && plain != nil:
		for _, e := range plain {
			out = append(out, sobjectError{Message: e.Message, ErrorCode: e.ErrorCode})
		}
	case json.Unmarshal(body, &rich) == nil && rich.Output != nil:
		for _, e := range rich.Output.Errors {
			out = append(out, sobjectError{Message: e.Message, ErrorCode: e.ErrorCode, Fields: fields()})
		}
		// One error may name several fields (Required fields are missing:
		// [Name, Site]): the UI API repeats it under each; the sObject array
		// lists it once with all of them. Fields in alphabetical order, as the
		// UI API writes its maps.
		names := make([]string, 0, len(rich.Output.FieldErrors))
		for name := range rich.Output.FieldErrors {
			names = append(names, name)
		}
		sort.Strings(names)
		at := map[uiError]int{}
		for _, name := range names {
			for _, e := range rich.Output.FieldErrors[name] {
				if i, ok := at[e]; ok {
					*out[i].Fields = append(*out[i].Fields, name)
					continue
				}
				at[e] = len(out)
				out = append(out, sobjectError{Message: e.Message, ErrorCode: e.ErrorCode, Fields: fields(name)})
			}
		}
		if len(out) == 0 {
			out = append(out, sobjectError{Message: rich.Message, ErrorCode: "UNKNOWN_EXCEPTION", Fields: fields()})
		}
	default:
		return body
	}
	b, err := json.Marshal(out)
	if err != nil || bytes.Equal(b, []byte("null")) {
		return body
	}
	return b
}
