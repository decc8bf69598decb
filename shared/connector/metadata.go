package connector

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/sfconnect/connector/shared/faults"
	"github.com/sfconnect/connector/shared/salesforce"
	"github.com/sfconnect/connector/shared/sfid"
)

func customObject(ctx context.Context, sf *salesforce.Client, in *input) (*salesforce.Response, error) {
	def, err := in.customObject()
	if err != nil {
		return nil, err
	}
	return sf.CreateCustomObject(ctx, def)
}

// customObject returns the CustomObject definition of salesforcePayload.
func (in *input) customObject() (salesforce.CustomObject, error) {
	payload, err := in.payload()
	if err != nil {
		return salesforce.CustomObject{}, err
	}
	var def salesforce.CustomObject
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&def); err != nil {
		return def, faults.New(faults.InvalidInput, "salesforcePayload is not a CustomObject definition (fullName, label, pluralLabel, nameField, deploymentStatus, sharingModel, description): %s", jsonProblem(err))
	}
	if def.FullName == "" {
		return def, faults.New(faults.MissingInput, "salesforcePayload.fullName is required")
	}
	// An API name (Salesforce itself checks that it names a custom object, such
	// as Invoice__c): markup, paths or control characters are refused here
	// rather than sent, escaped, for Salesforce to refuse.
	if !sfid.ValidName(def.FullName) {
		return def, faults.New(faults.InvalidInput, "salesforcePayload.fullName %s is not a Salesforce API name such as Invoice__c", quote(def.FullName))
	}
	return def, nil
}

// jsonProblem describes a decoding error without echoing the input's values;
// an unknown field's name is quoted and cut short (it is the caller's input,
// and a 200 KB name would otherwise be the message and the log line).
func jsonProblem(err error) string {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		return "field " + quote(typeErr.Field) + " must be a " + typeErr.Type.String()
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if unquoted, err := strconv.Unquote(name); err == nil {
			name = unquoted
		}
		return "unknown field " + quote(name)
	}
	return "not valid JSON"
}
