// Package soap reads and writes the few SOAP messages the connector exchanges
// with Salesforce: login() of the partner and enterprise APIs, the Metadata
// API's createMetadata, and the faults either may answer with.
package soap

import (
	"bytes"
	"encoding/xml"
	"strings"
)

// Envelope reads the SOAP answers the client needs. encoding/xml matches a tag
// without a namespace against any namespace, so partner, enterprise and metadata
// answers all fit.
type Envelope struct {
	Body struct {
		Fault *Fault `xml:"Fault"`
		Login *struct {
			Result LoginResult `xml:"result"`
		} `xml:"loginResponse"`
		CreateMetadata *struct {
			Results []SaveResult `xml:"result"`
		} `xml:"createMetadataResponse"`
	} `xml:"Body"`
}

// Fault is a SOAP 1.1 fault, e.g. faultcode "sf:INVALID_SESSION_ID".
type Fault struct {
	Code   string `xml:"faultcode"`
	String string `xml:"faultstring"`
}

// Name is the fault code without its namespace prefix.
func (f *Fault) Name() string {
	if _, after, ok := strings.Cut(f.Code, ":"); ok {
		return after
	}
	return f.Code
}

// LoginResult is LoginResult of the partner and enterprise WSDLs.
type LoginResult struct {
	ServerURL       string `xml:"serverUrl"`
	SessionID       string `xml:"sessionId"`
	PasswordExpired bool   `xml:"passwordExpired"`
}

// SaveResult is the Metadata API's SaveResult.
type SaveResult struct {
	FullName string      `xml:"fullName" json:"fullName"`
	Success  bool        `xml:"success" json:"success"`
	Errors   []SaveError `xml:"errors" json:"errors"`
}

// SaveError is one error of a SaveResult.
type SaveError struct {
	StatusCode string   `xml:"statusCode" json:"statusCode"`
	Message    string   `xml:"message" json:"message"`
	Fields     []string `xml:"fields" json:"fields"`
}

// Parse reads a SOAP envelope.
func Parse(body []byte) (*Envelope, error) {
	var env Envelope
	if err := xml.Unmarshal(body, &env); err != nil {
		return nil, err
	}
	return &env, nil
}

// FaultOf returns the SOAP fault in body, or nil when body is not one (an HTML
// error page, say).
func FaultOf(body []byte) *Fault {
	env, err := Parse(body)
	if err != nil {
		return nil
	}
	return env.Body.Fault
}

// Element writes <name>value</name> with value escaped.
func Element(b *bytes.Buffer, name, value string) {
	b.WriteString("<" + name + ">")
	Escape(b, value)
	b.WriteString("</" + name + ">")
}

// Optional is Element for fields Salesforce defaults: an empty value writes nothing.
func Optional(b *bytes.Buffer, name, value string) {
	if value != "" {
		Element(b, name, value)
	}
}

// Escape writes s as XML text.
func Escape(b *bytes.Buffer, s string) {
	_ = xml.EscapeText(b, []byte(s)) // writing to a bytes.Buffer does not fail
}
