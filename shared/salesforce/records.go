package salesforce

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
)

// record is the escaped path of one record.
func record(object, id string) string {
	return "sobjects/" + url.PathEscape(object) + "/" + url.PathEscape(id)
}

// CreateRecord creates one record: POST sobjects/{object}/. Salesforce answers 201
// with {"id","success","errors"}. It is never sent twice unless the connection was
// refused, since a replay could create a duplicate.
func (c *Client) CreateRecord(ctx context.Context, object string, fields json.RawMessage) (*Response, error) {
	return c.call(ctx, http.MethodPost, "sobjects/"+url.PathEscape(object)+"/", nonNil(fields))
}

// GetRecord reads one record, all readable fields or only those named.
func (c *Client) GetRecord(ctx context.Context, object, id string, fields ...string) (*Response, error) {
	path := record(object, id)
	if len(fields) > 0 {
		path += "?" + url.Values{"fields": {strings.Join(fields, ",")}}.Encode()
	}
	return c.call(ctx, http.MethodGet, path, nil)
}

// UpdateRecord changes the given fields of one record: PATCH, 204 on success.
func (c *Client) UpdateRecord(ctx context.Context, object, id string, fields json.RawMessage) (*Response, error) {
	return c.call(ctx, http.MethodPatch, record(object, id), nonNil(fields))
}

// UpsertRecord inserts or updates the record of object whose external id field
// holds value: PATCH sobjects/{object}/{field}/{value}, the value path-escaped.
// Salesforce answers 201 with {"id","success","errors"[,"created":true]} when it
// inserted, 200 with "created":false (API 46.0 and later) or 204 when it updated,
// 300 with the record URLs when the value matches several records, and 404 when
// field is not an external id field. Being keyed by the external id, it is
// idempotent, so it is retried like any PATCH.
func (c *Client) UpsertRecord(ctx context.Context, object, field, value string, fields json.RawMessage) (*Response, error) {
	path := "sobjects/" + url.PathEscape(object) + "/" + url.PathEscape(field) + "/" + url.PathEscape(value)
	return c.call(ctx, http.MethodPatch, path, nonNil(fields))
}

// DeleteRecord deletes one record: 204 on success; a repeat answers 404.
func (c *Client) DeleteRecord(ctx context.Context, object, id string) (*Response, error) {
	return c.call(ctx, http.MethodDelete, record(object, id), nil)
}

// ListApprovals lists the approval process definitions by object:
// GET process/approvals/.
func (c *Client) ListApprovals(ctx context.Context) (*Response, error) {
	return c.call(ctx, http.MethodGet, "process/approvals/", nil)
}

// ProcessApprovals submits, approves or rejects: POST process/approvals/ with
// {"requests":[...]}; the answer is an array of ProcessResult. Never replayed
// after it may have reached Salesforce, since a replay could submit twice.
func (c *Client) ProcessApprovals(ctx context.Context, body json.RawMessage) (*Response, error) {
	return c.call(ctx, http.MethodPost, "process/approvals/", nonNil(body))
}

// nonNil makes an absent body an empty one, so that a write still says it
// carries JSON and Salesforce answers with its own parse error.
func nonNil(b json.RawMessage) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
