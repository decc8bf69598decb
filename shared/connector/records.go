package connector

import (
	"context"
	"net/http"

	"github.com/sfconnect/connector/shared/salesforce"
	"github.com/sfconnect/connector/shared/salesforce/transport"
)

func create(ctx context.Context, sf *salesforce.Client, in *input) (*salesforce.Response, error) {
	name, err := in.objectName()
	if err != nil {
		return nil, err
	}
	payload, err := in.payload()
	if err != nil {
		return nil, err
	}
	key, err := in.salesforceKey(ctx, sf)
	if err != nil {
		return nil, err
	}
	if key != "" {
		return sf.CreateRecordWithKey(ctx, name, payload, key)
	}
	return sf.CreateRecord(ctx, name, payload)
}

func get(ctx context.Context, sf *salesforce.Client, in *input) (*salesforce.Response, error) {
	name, id, err := in.record()
	if err != nil {
		return nil, err
	}
	fields, err := in.fields()
	if err != nil {
		return nil, err
	}
	return sf.GetRecord(ctx, name, id, fields...)
}

func update(ctx context.Context, sf *salesforce.Client, in *input) (*salesforce.Response, error) {
	name, id, err := in.record()
	if err != nil {
		return nil, err
	}
	payload, err := in.payload()
	if err != nil {
		return nil, err
	}
	key, err := in.salesforceKey(ctx, sf)
	if err != nil {
		return nil, err
	}
	if key != "" {
		return sf.UpdateRecordWithKey(ctx, id, payload, key)
	}
	return sf.UpdateRecord(ctx, name, id, payload)
}

func remove(ctx context.Context, sf *salesforce.Client, in *input) (*salesforce.Response, error) {
	name, id, err := in.record()
	if err != nil {
		return nil, err
	}
	key, err := in.salesforceKey(ctx, sf)
	if err != nil {
		return nil, err
	}
	if key != "" {
		return sf.DeleteRecordWithKey(ctx, id, key)
	}
	if in.key == nil {
		return sf.DeleteRecord(ctx, name, id)
	}
	// A keyed delete that the transport sent again (its connection dropped
	// after it was sent) and that then finds no record was done by the
	// earlier send: its answer is the delete's, 204.
	var sent transport.Counts
	resp, err := sf.DeleteRecord(transport.WithCounts(ctx, &sent), name, id)
	if total := transport.CountsFrom(ctx); total != nil {
		total.Attempts.Add(sent.Attempts.Load())
		total.Logins.Add(sent.Logins.Load())
	}
	if err == nil && resp.Status == http.StatusNotFound && sent.Attempts.Load()-sent.Logins.Load() > 1 {
		return &salesforce.Response{Status: http.StatusNoContent, Header: resp.Header}, nil
	}
	return resp, err
}

// record returns the SObjectName and SObjectId that name one record.
func (in *input) record() (name, id string, err error) {
	if name, err = in.objectName(); err != nil {
		return "", "", err
	}
	if id, err = in.objectID(); err != nil {
		return "", "", err
	}
	return name, id, nil
}
