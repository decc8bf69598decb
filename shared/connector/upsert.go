package connector

import (
	"bytes"
	"context"
	"encoding/json"
	"unicode"
	"unicode/utf8"

	"github.com/sfconnect/connector/shared/faults"
	"github.com/sfconnect/connector/shared/salesforce"
	"github.com/sfconnect/connector/shared/sfid"
)

// maxExternalID is the longest external id value accepted: Salesforce's text
// external id fields hold at most 255 characters.
const maxExternalID = 255

func upsert(ctx context.Context, sf *salesforce.Client, in *input) (*salesforce.Response, error) {
	name, err := in.objectName()
	if err != nil {
		return nil, err
	}
	field, err := in.externalIDField()
	if err != nil {
		return nil, err
	}
	value, err := in.externalIDValue()
	if err != nil {
		return nil, err
	}
	payload, err := in.payload()
	if err != nil {
		return nil, err
	}
	return sf.UpsertRecord(ctx, name, field, value, payload)
}

// externalIDField returns externalIdField, a valid API name (such as
// Invoice_Number__c) so that it stays one path segment.
func (in *input) externalIDField() (string, error) {
	s, err := text(in.ExternalIDField, "externalIdField")
	if err != nil {
		return "", err
	}
	if !sfid.ValidName(s) {
		return "", faults.New(faults.InvalidInput, "externalIdField %s is not a valid Salesforce field name", quote(s))
	}
	return s, nil
}

// externalIDValue returns externalIdValue: a string, or a number (a Number
// external id) taken as written. The client path-escapes it into one segment;
// "." and ".." are refused because a URL would resolve them as path steps, and
// control characters because no external id holds one.
func (in *input) externalIDValue() (string, error) {
	raw := bytes.TrimSpace(in.ExternalIDValue)
	var s string
	switch {
	case isAbsent(raw):
		return "", faults.New(faults.MissingInput, "externalIdValue is required")
	case raw[0] == '"':
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", faults.New(faults.InvalidInput, "externalIdValue must be a string or a number")
		}
	case raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9'):
		var n json.Number
		if err := json.Unmarshal(raw, &n); err != nil {
			return "", faults.New(faults.InvalidInput, "externalIdValue must be a string or a number")
		}
		s = n.String()
	default:
		return "", faults.New(faults.InvalidInput, "externalIdValue must be a string or a number")
	}
	switch {
	case s == "":
		return "", faults.New(faults.MissingInput, "externalIdValue is required")
	case utf8.RuneCountInString(s) > maxExternalID:
		return "", faults.New(faults.InvalidInput, "externalIdValue is longer than %d characters", maxExternalID)
	case s == "." || s == "..":
		return "", faults.New(faults.InvalidInput, "externalIdValue %s is not a usable external id", quote(s))
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return "", faults.New(faults.InvalidInput, "externalIdValue %s holds a control character", quote(s))
		}
	}
	return s, nil
}
