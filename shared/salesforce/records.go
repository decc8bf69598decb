package salesforce

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/sfconnect/connector/shared/faults"
	"github.com/sfconnect/connector/shared/salesforce/session"
	"github.com/sfconnect/connector/shared/salesforce/soap"
	"github.com/sfconnect/connector/shared/salesforce/transport"
)

// do sends an authenticated request built for the current session, logging in
// first when there is none. When Salesforce rejects the session (REST 401, SOAP
// fault INVALID_SESSION_ID) it was not processed, so the client logs in again and
// replays it once, POSTs included; a second rejection is MISSING_TOKEN. The API
// usage guard may refuse the request before anything is sent, and every answer's
// Sforce-Limit-Info is remembered.
func (c *Client) do(ctx context.Context, build func(t *session.Token) transport.Request) (*Response, error) {
	if ctx.Err() != nil {
		// No time left at all: not even a login is started, since the shared
		// login goes on without the caller (session.Cache) and nobody would wait for it.
		return nil, transport.Stopped(ctx, "Salesforce call")
	}
	if err := c.admitUsage(ctx); err != nil {
		return nil, err
	}
	resp, err := c.doSession(ctx, build)
	if resp != nil {
		c.observeUsage(ctx, resp.Header)
	}
	return resp, err
}

func (c *Client) doSession(ctx context.Context, build func(t *session.Token) transport.Request) (*Response, error) {
	tok, err := c.tokens.Token(ctx)
	if err != nil {
		return nil, err
	}
	req := build(tok)
	resp, err := c.tr.Send(ctx, req)
	if err != nil || !sessionRejected(req, resp) {
		return resp, err
	}
	c.log.Info("salesforce rejected the session; logging in again", "request", req.Name)
	c.tokens.Invalidate(tok)
	if tok, err = c.tokens.Token(ctx); err != nil {
		return nil, err
	}
	req = build(tok)
	if resp, err = c.tr.Send(ctx, req); err != nil {
		return nil, err
	}
	if sessionRejected(req, resp) {
		c.tokens.Invalidate(tok)
		return nil, faults.New(faults.MissingToken, "%s: Salesforce rejected a fresh session too (%s)", req.Name, rejectionText(req, resp))
	}
	return resp, nil
}

// sessionRejected reports whether Salesforce refused the session of req.
func sessionRejected(req transport.Request, resp *Response) bool {
	if req.SOAP {
		f := soap.FaultOf(resp.Body)
		return resp.Status == http.StatusInternalServerError && f != nil && f.Name() == "INVALID_SESSION_ID"
	}
	return resp.Status == http.StatusUnauthorized
}

// rejectionText is Salesforce's own words for a rejected session.
func rejectionText(req transport.Request, resp *Response) string {
	if req.SOAP {
		if f := soap.FaultOf(resp.Body); f != nil {
			return f.Name()
		}
	}
	var errs []struct {
		ErrorCode string `json:"errorCode"`
		Message   string `json:"message"`
	}
	if json.Unmarshal(resp.Body, &errs) == nil && len(errs) > 0 {
		return errs[0].ErrorCode + ": " + errs[0].Message
	}
	return http.StatusText(resp.Status)
}

// rest builds a REST request against the session's instance and version. path is
// relative to /services/data/vNN.N/ and already escaped.
func rest(t *session.Token, method, path string, body []byte) transport.Request {
	h := map[string]string{"Accept": "application/json"}
	if body != nil {
		h["Content-Type"] = "application/json"
	}
	return transport.Request{
		Name:       method + " " + strings.SplitN(path, "?", 2)[0],
		Method:     method,
		URL:        t.InstanceURL + "/services/data/v" + t.Version + "/" + path,
		Header:     h,
		Body:       body,
		Bearer:     t.AccessToken,
		Idempotent: method != http.MethodPost,
	}
}

// record is the escaped path of one record.
func record(object, id string) string {
	return "sobjects/" + url.PathEscape(object) + "/" + url.PathEscape(id)
}

// call runs one authenticated REST request under ctx with the deadline margin.
func (c *Client) call(ctx context.Context, method, path string, body []byte) (*Response, error) {
	ctx, cancel := c.bound(ctx)
	defer cancel()
	return c.do(ctx, func(t *session.Token) transport.Request { return rest(t, method, path, body) })
}

// bound takes the deadline margin off ctx, so that every attempt and wait ends
// early enough for the handler to report REQUEST_TIMEOUT itself.
func (c *Client) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok {
		return context.WithDeadline(ctx, dl.Add(-c.opts.DeadlineMargin))
	}
	return context.WithCancel(ctx)
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
