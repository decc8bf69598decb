package salesforce

// Look-ups that find what an earlier write did, when its outcome is unknown
// and Salesforce keeps no idempotency key for it (approvals, the Metadata
// API): the connector asks before it sends the write again.

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/sfconnect/connector/shared/faults"
	"github.com/sfconnect/connector/shared/salesforce/transport"
)

// Lookup runs a SOQL query expected to fit one page and returns its records.
// all reads deleted rows too (queryAll): the work items of a decided
// approval, say. Any answer but 200 is an UNKNOWN_ERROR carrying Salesforce's
// error code.
func (c *Client) Lookup(ctx context.Context, soql string, all bool) ([]json.RawMessage, error) {
	resource := "query"
	if all {
		resource = "queryAll"
	}
	resp, err := c.call(ctx, http.MethodGet, resource+"?"+url.Values{"q": {soql}}.Encode(), nil)
	if err != nil {
		return nil, err
	}
	if resp.Status != http.StatusOK {
		return nil, faults.New(faults.UnknownError, "looking up an earlier write: Salesforce answered %d (%s)", resp.Status, rejectionText(transport.Request{}, resp))
	}
	var page struct {
		Records []json.RawMessage `json:"records"`
	}
	if err := json.Unmarshal(resp.Body, &page); err != nil {
		return nil, faults.New(faults.UnknownError, "looking up an earlier write: Salesforce's answer is not a query result")
	}
	return page.Records, nil
}

// ObjectExists reports whether the org has the sObject name: its describe
// answers 200, and 404 when there is none.
func (c *Client) ObjectExists(ctx context.Context, name string) (bool, error) {
	resp, err := c.call(ctx, http.MethodGet, "sobjects/"+url.PathEscape(name)+"/describe/", nil)
	switch {
	case err != nil:
		return false, err
	case resp.Status == http.StatusOK:
		return true, nil
	case resp.Status == http.StatusNotFound:
		return false, nil
	}
	return false, faults.New(faults.UnknownError, "looking up the object %s: Salesforce answered %d", name, resp.Status)
}
