package salesforce

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"

	"github.com/sfconnect/connector/shared/faults"
	"github.com/sfconnect/connector/shared/salesforce/session"
	"github.com/sfconnect/connector/shared/salesforce/soap"
	"github.com/sfconnect/connector/shared/salesforce/transport"
)

// CustomObject is the part of the Metadata API's CustomObject type the connector
// sets. The JSON names are Salesforce's, so a workflow payload decodes into it.
type CustomObject struct {
	FullName         string    `json:"fullName"` // e.g. Invoice__c
	Label            string    `json:"label"`
	PluralLabel      string    `json:"pluralLabel"`
	NameField        NameField `json:"nameField"`
	DeploymentStatus string    `json:"deploymentStatus"` // InDevelopment or Deployed
	SharingModel     string    `json:"sharingModel"`     // e.g. ReadWrite, Private
	Description      string    `json:"description,omitempty"`
}

// NameField is the object's Name field: Text, or AutoNumber with a DisplayFormat
// such as "AN-{0000}".
type NameField struct {
	Label         string `json:"label"`
	Type          string `json:"type"`
	DisplayFormat string `json:"displayFormat,omitempty"`
}

// CreateCustomObject creates a custom object with the Metadata API's createMetadata
// call (SOAP, docs/salesforce-protocol.md §6.1) at {instance}/services/Soap/m/{version}.
//
// The answer is 200 with the SaveResult as JSON, {"fullName","success","errors"},
// also when success is false (Salesforce reports per-item failures that way). A
// SOAP fault other than INVALID_SESSION_ID is returned with status 500 as
// {"faultcode","faultstring"}. The call is a POST: never replayed after it may have
// reached Salesforce.
func (c *Client) CreateCustomObject(ctx context.Context, def CustomObject) (*Response, error) {
	ctx, cancel := c.bound(ctx)
	defer cancel()
	resp, err := c.do(ctx, func(t *session.Token) transport.Request {
		return transport.Request{
			Name:   "createMetadata",
			Method: http.MethodPost,
			URL:    t.InstanceURL + "/services/Soap/m/" + t.Version,
			Header: map[string]string{"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": "createMetadata", "Accept": "text/xml"},
			Body:   createMetadataEnvelope(t.AccessToken, def),
			SOAP:   true,
		}
	})
	if err != nil {
		return nil, err
	}
	return metadataAnswer(resp)
}

// metadataAnswer turns the SOAP answer into the JSON a workflow reads.
func metadataAnswer(resp *Response) (*Response, error) {
	env, perr := soap.Parse(resp.Body)
	var out any
	switch {
	case perr == nil && env.Body.Fault != nil:
		out = struct {
			Code   string `json:"faultcode"`
			String string `json:"faultstring"`
		}{env.Body.Fault.Code, env.Body.Fault.String}
	case resp.Status != http.StatusOK:
		return resp, nil // a 4xx from the endpoint: as Salesforce sent it
	case perr != nil || env.Body.CreateMetadata == nil || len(env.Body.CreateMetadata.Results) == 0:
		return nil, faults.New(faults.UnknownError, "createMetadata: Salesforce's answer is not a createMetadataResponse")
	default:
		results := env.Body.CreateMetadata.Results
		for i := range results {
			if results[i].Errors == nil {
				results[i].Errors = []soap.SaveError{}
			}
			for j := range results[i].Errors {
				if results[i].Errors[j].Fields == nil {
					results[i].Errors[j].Fields = []string{}
				}
			}
		}
		out = results
		if len(results) == 1 {
			out = results[0]
		}
	}
	body, err := json.Marshal(out)
	if err != nil {
		return nil, faults.Wrap(faults.UnknownError, err, "createMetadata: encoding the answer")
	}
	h := resp.Header.Clone()
	h.Set("Content-Type", "application/json")
	return &Response{Status: resp.Status, Body: body, Header: h}, nil
}

// createMetadataEnvelope is the createMetadata request for one CustomObject. Every
// value, the session id included, is XML-escaped. Elements follow the Metadata
// WSDL's sequence (fullName from Metadata, then CustomObject's fields in order).
func createMetadataEnvelope(sessionID string, def CustomObject) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` +
		`<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:met="http://soap.sforce.com/2006/04/metadata" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">` +
		`<soapenv:Header><met:SessionHeader>`)
	soap.Element(&b, "met:sessionId", sessionID)
	b.WriteString(`</met:SessionHeader></soapenv:Header>` +
		`<soapenv:Body><met:createMetadata><met:metadata xsi:type="met:CustomObject">`)
	soap.Element(&b, "met:fullName", def.FullName)
	soap.Optional(&b, "met:deploymentStatus", def.DeploymentStatus)
	soap.Optional(&b, "met:description", def.Description)
	soap.Optional(&b, "met:label", def.Label)
	b.WriteString(`<met:nameField>`)
	soap.Optional(&b, "met:displayFormat", def.NameField.DisplayFormat)
	soap.Optional(&b, "met:label", def.NameField.Label)
	soap.Optional(&b, "met:type", def.NameField.Type)
	b.WriteString(`</met:nameField>`)
	soap.Optional(&b, "met:pluralLabel", def.PluralLabel)
	soap.Optional(&b, "met:sharingModel", def.SharingModel)
	b.WriteString(`</met:metadata></met:createMetadata></soapenv:Body></soapenv:Envelope>`)
	return b.Bytes()
}
