package connector

import (
	"context"

	"github.com/sfconnect/connector/shared/salesforce"
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
