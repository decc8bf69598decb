package salesforce

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// The calls that write many records in one request (sObject Collections, API
// 42.0 and later; upsert 46.0 and later) and the Composite resource (38.0 and
// later [UNCONFIRMED: the first version with it; 38.0 is seen working]). Each
// request is ONE call against the org's daily API allocation, however many
// records or subrequests it carries. A well-formed collection request answers
// 200 with one result per record, in the order sent, even when every record
// failed; a malformed one answers 400 with the REST error array. An older API
// version answers 404 NOT_FOUND: the resource does not exist there.

// collectionBody is the body of a collection create, update or upsert.
type collectionBody struct {
	AllOrNone bool              `json:"allOrNone"`
	Records   []json.RawMessage `json:"records"`
}

func (c *Client) writeRecords(ctx context.Context, method, path string, allOrNone bool, records []json.RawMessage) (*Response, error) {
	body, err := json.Marshal(collectionBody{AllOrNone: allOrNone, Records: nonNilList(records)})
	if err != nil {
		return nil, err
	}
	return c.call(ctx, method, path, body)
}

// CreateRecords creates up to 200 records: POST composite/sobjects, each
// record carrying attributes.type and no id. A POST: never sent again once it
// may have reached Salesforce, since a replay could create every record twice.
func (c *Client) CreateRecords(ctx context.Context, allOrNone bool, records []json.RawMessage) (*Response, error) {
	return c.writeRecords(ctx, http.MethodPost, "composite/sobjects", allOrNone, records)
}

// UpdateRecords updates up to 200 records, each naming its id: PATCH
// composite/sobjects. Sending the same values again leaves the records as they
// were, so it is retried like any PATCH.
func (c *Client) UpdateRecords(ctx context.Context, allOrNone bool, records []json.RawMessage) (*Response, error) {
	return c.writeRecords(ctx, http.MethodPatch, "composite/sobjects", allOrNone, records)
}

// UpsertRecords inserts or updates up to 200 records of object keyed by the
// external id field: PATCH composite/sobjects/{object}/{field}. Each answer
// item says "created". Keyed by the external id, a replay updates what the
// lost attempt inserted instead of inserting it again, so it is retried.
func (c *Client) UpsertRecords(ctx context.Context, object, field string, allOrNone bool, records []json.RawMessage) (*Response, error) {
	path := "composite/sobjects/" + url.PathEscape(object) + "/" + url.PathEscape(field)
	return c.writeRecords(ctx, http.MethodPatch, path, allOrNone, records)
}

// DeleteRecords deletes up to 200 records by id: DELETE
// composite/sobjects?ids=a,b&allOrNone=. It is retried: a replay after a lost
// answer reports, for each record the lost attempt deleted, the error of a
// record in the recycle bin (ENTITY_IS_DELETED, as a single delete answers;
// [UNCONFIRMED] that the per-record code of a collection delete is the same).
func (c *Client) DeleteRecords(ctx context.Context, allOrNone bool, ids []string) (*Response, error) {
	q := url.Values{"ids": {strings.Join(ids, ",")}, "allOrNone": {strconv.FormatBool(allOrNone)}}
	return c.call(ctx, http.MethodDelete, "composite/sobjects?"+q.Encode(), nil)
}

// Composite runs up to 25 subrequests in one call: POST composite with
// {"allOrNone","compositeRequest":[...]}; the answer is
// {"compositeResponse":[...]}, one result per subrequest. A POST: never sent
// again once it may have reached Salesforce.
func (c *Client) Composite(ctx context.Context, body json.RawMessage) (*Response, error) {
	return c.call(ctx, http.MethodPost, "composite", nonNil(body))
}

// nonNilList makes an absent list an empty one, so that it encodes as [].
func nonNilList(l []json.RawMessage) []json.RawMessage {
	if l == nil {
		return []json.RawMessage{}
	}
	return l
}
