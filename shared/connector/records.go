package connector

import (
	"context"

	"github.com/sfconnect/connector/shared/salesforce"
)

// Create is the CREATE action: SObjectName and salesforcePayload in, the create
// result and 201 out.
func (c *Connector) Create(ctx context.Context, event []byte) ([]byte, error) {
	return c.run(ctx, "CREATE", false, create, event)
}

// Get is the GET action: SObjectName and SObjectId in (and optionally fields, the
// field names to read), the record out.
func (c *Connector) Get(ctx context.Context, event []byte) ([]byte, error) {
	return c.run(ctx, "GET", false, get, event)
}

// Update is the UPDATE action: SObjectName, SObjectId and salesforcePayload in,
// the status out.
func (c *Connector) Update(ctx context.Context, event []byte) ([]byte, error) {
	return c.run(ctx, "UPDATE", true, update, event)
}

// Delete is the DELETE action: SObjectName and SObjectId in, the status out.
func (c *Connector) Delete(ctx context.Context, event []byte) ([]byte, error) {
	return c.run(ctx, "DELETE", true, remove, event)
}

func create(ctx context.Context, sf *salesforce.Client, in *input) (*salesforce.Response, error) {
	name, err := in.objectName()
	if err != nil {
		return nil, err
	}
	payload, err := in.payload()
	if err != nil {
		return nil, err
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
	return sf.UpdateRecord(ctx, name, id, payload)
}

func remove(ctx context.Context, sf *salesforce.Client, in *input) (*salesforce.Response, error) {
	name, id, err := in.record()
	if err != nil {
		return nil, err
	}
	return sf.DeleteRecord(ctx, name, id)
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
