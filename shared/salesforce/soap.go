package salesforce

import (
	"bytes"
	"encoding/xml"
	"strings"
)

// envelope reads the SOAP answers the client needs. encoding/xml matches a tag
// without a namespace against any namespace, so partner, enterprise and metadata
// answers all fit.
type envelope struct {
	Body struct {
		Fault *soapFault `xml:"Fault"`
		Login *struct {
			Result loginResult `xml:"result"`
		} `xml:"loginResponse"`
		CreateMetadata *struct {
			Results []saveResult `xml:"result"`
		} `xml:"createMetadataResponse"`
	} `xml:"Body"`
}

// soapFault is a SOAP 1.1 fault, e.g. faultcode "sf:INVALID_SESSION_ID".
type soapFault struct {
	Code   string `xml:"faultcode"`
	String string `xml:"faultstring"`
}

// code is the fault code without its namespace prefix.
func (f *soapFault) code() string {
	if _, after, ok := strings.Cut(f.Code, ":"); ok {
		return after
	}
	return f.Code
}

// loginResult is LoginResult of the partner and enterprise WSDLs.
type loginResult struct {
	ServerURL       string `xml:"serverUrl"`
	SessionID       string `xml:"sessionId"`
	PasswordExpired bool   `xml:"passwordExpired"`
}

// saveResult is the Metadata API's SaveResult.
type saveResult struct {
	FullName string      `xml:"fullName" json:"fullName"`
	Success  bool        `xml:"success" json:"success"`
	Errors   []saveError `xml:"errors" json:"errors"`
}

type saveError struct {
	StatusCode string   `xml:"statusCode" json:"statusCode"`
	Message    string   `xml:"message" json:"message"`
	Fields     []string `xml:"fields" json:"fields"`
}

func parseEnvelope(body []byte) (*envelope, error) {
	var env envelope
	if err := xml.Unmarshal(body, &env); err != nil {
		return nil, err
	}
	return &env, nil
}

// faultOf returns the SOAP fault in body, or nil when body is not one (an HTML
// error page, say).
func faultOf(body []byte) *soapFault {
	env, err := parseEnvelope(body)
	if err != nil {
		return nil
	}
	return env.Body.Fault
}

// loginEnvelope is the login() request in the WSDL's namespace ns.
func loginEnvelope(ns, username, password string) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` +
		`<env:Envelope xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:env="http://schemas.xmlsoap.org/soap/envelope/">` +
		`<env:Body><n1:login xmlns:n1="`)
	escape(&b, ns)
	b.WriteString(`">`)
	element(&b, "n1:username", username)
	element(&b, "n1:password", password)
	b.WriteString(`</n1:login></env:Body></env:Envelope>`)
	return b.Bytes()
}

// element writes <name>value</name> with value escaped.
func element(b *bytes.Buffer, name, value string) {
	b.WriteString("<" + name + ">")
	escape(b, value)
	b.WriteString("</" + name + ">")
}

// optional is element for fields Salesforce defaults: an empty value writes nothing.
func optional(b *bytes.Buffer, name, value string) {
	if value != "" {
		element(b, name, value)
	}
}

func escape(b *bytes.Buffer, s string) {
	_ = xml.EscapeText(b, []byte(s)) // writing to a bytes.Buffer does not fail
}
