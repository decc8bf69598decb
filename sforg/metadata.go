package sforg

// The Metadata API's createMetadata for CustomObject (docs/salesforce-protocol.md
// §6.1): POST /services/Soap/m/{version}[/{orgId}] with the session id in the
// SOAP SessionHeader (an OAuth access token or a SOAP login session: both are
// sessions here). A created object is defined in the store at once, so REST and
// SOQL can use it in the next call.
//
// What fails how:
//   - Not XML, no Envelope/Body, a metadata element without xsi:type, or a
//     value outside an enumeration of the WSDL (deploymentStatus, sharingModel,
//     a field type) -> HTTP 500 soapenv:Client fault; nothing is saved. The
//     enumeration wording "'X' is not a valid value for the enum 'SharingModel'"
//     is Salesforce's (seen for createMetadata in certinia/apex-mdapi#54).
//   - Bad or expired session -> HTTP 500 sf:INVALID_SESSION_ID fault.
//   - More than 10 components -> HTTP 500 sf:EXCEEDED_ID_LIMIT fault "record limit
//     reached. cannot submit more than 10 records in this operation" (wording
//     seen for the CRUD Metadata calls, certinia/apex-mdapi#105).
//   - Anything wrong with one component -> its SaveResult has success false and
//     errors; the others are saved (partial save is the default from API 34.0;
//     AllOrNoneHeader allOrNone=true rolls back all when one fails).

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/sfconnect/connector/sforg/soql"
	"github.com/sfconnect/connector/shared/sfid"
)

const (
	nsMetadata = "http://soap.sforce.com/2006/04/metadata"
	nsXSI      = "http://www.w3.org/2001/XMLSchema-instance"
	// maxMetadataComponents is createMetadata's limit per call for most types (D-cmd).
	maxMetadataComponents = 10
)

// metadataRoutes serves the Metadata API endpoint.
func (s *Server) metadataRoutes() {
	// Paths below the version (the org id, a trailing slash, clients'
	// .../deployRequest/<id>) reach the same endpoint (routes.go).
	s.handleTree("/services/Soap/m/{version}", s.soap("metadata", s.metadataAPI))
}

// xmlNode is any XML element, kept with its namespace-resolved names.
type xmlNode struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Nodes   []xmlNode  `xml:",any"`
	Text    string     `xml:",chardata"`
}

// child returns the first child element with a local name.
func (n *xmlNode) child(local string) *xmlNode {
	for i := range n.Nodes {
		if n.Nodes[i].XMLName.Local == local {
			return &n.Nodes[i]
		}
	}
	return nil
}

// children returns every child element with a local name.
func (n *xmlNode) children(local string) []*xmlNode {
	var out []*xmlNode
	for i := range n.Nodes {
		if n.Nodes[i].XMLName.Local == local {
			out = append(out, &n.Nodes[i])
		}
	}
	return out
}

// text returns the trimmed text of a child element ("" when absent).
func (n *xmlNode) text(local string) string {
	if c := n.child(local); c != nil {
		return strings.TrimSpace(c.Text)
	}
	return ""
}

// xsiType returns the local part of the xsi:type attribute, whatever its prefix.
func (n *xmlNode) xsiType() string {
	for _, a := range n.Attrs {
		if a.Name.Local == "type" && (a.Name.Space == nsXSI || a.Name.Space == "xsi") {
			v := strings.TrimSpace(a.Value)
			if i := strings.LastIndex(v, ":"); i >= 0 {
				v = v[i+1:]
			}
			return v
		}
	}
	return ""
}

// soapFault is a whole-call failure.
type soapFault struct {
	code, exception, message string
}

func (f *soapFault) Error() string { return f.message }

func clientFault(format string, args ...any) *soapFault {
	return &soapFault{code: "soapenv:Client", message: fmt.Sprintf(format, args...)}
}

func apiFault(exception, message string) *soapFault {
	return &soapFault{code: "sf:" + exception, exception: exception, message: message}
}

func writeMetadataFault(w http.ResponseWriter, f *soapFault) {
	faultstring := f.message
	if f.exception != "" {
		faultstring = f.exception + ": " + f.message
	}
	writeSOAPFaultNS(w, nsFaultPartner, http.StatusInternalServerError, f.code, faultstring, f.exception, f.message)
}

// metadataAPI answers one Metadata API call.
func (s *Server) metadataAPI(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		soapMethodNotAllowed(w) // routes.go
		return
	}
	if !s.soapVersionOK(r.PathValue("version")) {
		writeMetadataFault(w, apiFault("UNSUPPORTED_API_VERSION", "Invalid Api version specified on URL"))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 16<<20))
	if err != nil || len(bytes.TrimSpace(body)) == 0 {
		writeMetadataFault(w, clientFault("Premature end of file."))
		return
	}
	var env xmlNode
	if err := xml.Unmarshal(body, &env); err != nil {
		writeMetadataFault(w, clientFault("%s", xmlErrorText(err)))
		return
	}
	bodyNode := env.child("Body")
	if env.XMLName.Local != "Envelope" || bodyNode == nil {
		writeMetadataFault(w, clientFault("Element {%s}%s invalid at this location", env.XMLName.Space, env.XMLName.Local))
		return
	}
	token := ""
	if h := env.child("Header"); h != nil {
		if sh := h.child("SessionHeader"); sh != nil {
			token = sh.text("sessionId")
		}
	}
	if _, ok := s.sessionFor(token); !ok || token == "" {
		writeMetadataFault(w, apiFault("INVALID_SESSION_ID", "Invalid Session ID found in SessionHeader: Illegal Session"))
		return
	}
	if _, _, ok := s.useAPI(); !ok {
		writeMetadataFault(w, apiFault("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."))
		return
	}
	if len(bodyNode.Nodes) == 0 {
		writeMetadataFault(w, clientFault("No operation available for request, please check the WSDL for the service."))
		return
	}
	op := &bodyNode.Nodes[0]
	if op.XMLName.Space != nsMetadata || op.XMLName.Local != "createMetadata" {
		// Only createMetadata is emulated; Salesforce serves the other calls.
		writeMetadataFault(w, clientFault("No operation available for request {%s}%s, please check the WSDL for the service.", op.XMLName.Space, op.XMLName.Local))
		return
	}
	allOrNone := false
	if h := env.child("Header"); h != nil {
		if a := h.child("AllOrNoneHeader"); a != nil {
			allOrNone = a.text("allOrNone") == "true" || a.text("allOrNone") == "1"
		}
	}
	results, f := s.createMetadata(op.children("metadata"), allOrNone)
	if f != nil {
		writeMetadataFault(w, f)
		return
	}
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><createMetadataResponse xmlns="` + nsMetadata + `">`)
	for _, res := range results {
		writeSaveResult(&b, res)
	}
	b.WriteString(`</createMetadataResponse></soapenv:Body></soapenv:Envelope>`)
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(http.StatusOK)
	w.Write(b.Bytes()) //nolint:errcheck // the client went away
}

// soapVersionOK accepts "NN.0" from the oldest served version to the newest.
func (s *Server) soapVersionOK(v string) bool {
	major, ok := strings.CutSuffix(v, ".0")
	n, err := strconv.Atoi(major)
	return ok && err == nil && n >= minVersion && n <= s.currentMajor()
}

// xmlErrorText words a parse error for a soapenv:Client fault.
func xmlErrorText(err error) string {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		if strings.Contains(se.Msg, "unexpected EOF") {
			return "Premature end of file."
		}
		return fmt.Sprintf("Unexpected character in XML at line %d: %s", se.Line, se.Msg)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "Premature end of file."
	}
	return err.Error()
}

// saveResult is one SaveResult.
type saveResult struct {
	fullName string
	errors   []metadataError
}

// metadataError is one Error of a SaveResult.
type metadataError struct {
	fields     []string
	message    string
	statusCode string
}

func writeSaveResult(b *bytes.Buffer, r saveResult) {
	b.WriteString("<result>")
	for _, e := range r.errors {
		b.WriteString("<errors>")
		for _, f := range e.fields {
			b.WriteString("<fields>")
			xmlText(b, f)
			b.WriteString("</fields>")
		}
		b.WriteString("<message>")
		xmlText(b, e.message)
		b.WriteString("</message><statusCode>")
		xmlText(b, e.statusCode)
		b.WriteString("</statusCode></errors>")
	}
	b.WriteString("<fullName>")
	xmlText(b, r.fullName)
	b.WriteString("</fullName><success>")
	b.WriteString(strconv.FormatBool(len(r.errors) == 0))
	b.WriteString("</success></result>")
}

// Enumerations of the Metadata WSDL that a CustomObject uses.
var (
	deploymentStatuses = []string{"InDevelopment", "Deployed"}
	sharingModels      = []string{"Private", "Read", "ReadSelect", "ReadWrite", "ReadWriteTransfer", "FullAccess", "ControlledByParent", "ControlledByLeadOrContact", "ControlledByCampaign"}
	fieldTypes         = []string{"AutoNumber", "Lookup", "MasterDetail", "Checkbox", "Currency", "Date", "DateTime", "Email", "Number", "Percent", "Phone", "Picklist", "MultiselectPicklist", "Text", "TextArea", "LongTextArea", "Html", "Url", "EncryptedText", "Summary", "Hierarchy", "File", "MetadataRelationship", "Location", "ExternalLookup", "IndirectLookup", "CustomDataType", "Time", "Address", "Array", "Integer", "Long"}
)

// checkEnum fails the whole call for a value the WSDL enumeration does not
// hold, as Salesforce's SOAP parser does. Enumerations are case-sensitive.
func checkEnum(n *xmlNode, elem, enum string, values []string) *soapFault {
	c := n.child(elem)
	if c == nil {
		return nil
	}
	v := strings.TrimSpace(c.Text)
	for _, ok := range values {
		if v == ok {
			return nil
		}
	}
	return clientFault("'%s' is not a valid value for the enum '%s'", v, enum)
}

// createMetadata checks the whole request, then saves each component.
func (s *Server) createMetadata(items []*xmlNode, allOrNone bool) ([]saveResult, *soapFault) {
	if len(items) > maxMetadataComponents {
		return nil, apiFault("EXCEEDED_ID_LIMIT", fmt.Sprintf("record limit reached. cannot submit more than %d records in this operation", maxMetadataComponents))
	}
	for _, it := range items {
		if it.xsiType() == "" {
			// [UNCONFIRMED] wording: the abstract Metadata type cannot be read without xsi:type.
			return nil, clientFault("Unable to find concrete type for element {%s}metadata: an xsi:type is required", nsMetadata)
		}
		if it.xsiType() != "CustomObject" {
			continue
		}
		checks := []*soapFault{
			checkEnum(it, "deploymentStatus", "DeploymentStatus", deploymentStatuses),
			checkEnum(it, "sharingModel", "SharingModel", sharingModels),
			checkEnum(it, "externalSharingModel", "SharingModel", sharingModels),
		}
		if nf := it.child("nameField"); nf != nil {
			checks = append(checks, checkEnum(nf, "type", "FieldType", fieldTypes))
		}
		for _, f := range it.children("fields") {
			checks = append(checks, checkEnum(f, "type", "FieldType", fieldTypes))
		}
		for _, f := range checks {
			if f != nil {
				return nil, f
			}
		}
	}
	results := make([]saveResult, len(items))
	objects := make([]*Object, len(items))
	seen := map[string]bool{}
	failed := false
	for i, it := range items {
		results[i].fullName = it.text("fullName")
		o, errs := s.customObject(it)
		key := strings.ToLower(results[i].fullName)
		if len(errs) == 0 && seen[key] {
			errs = []metadataError{duplicateObject(results[i].fullName)}
		}
		seen[key] = true
		results[i].errors = errs
		objects[i] = o
		failed = failed || len(errs) > 0
	}
	for i, o := range objects {
		if len(results[i].errors) > 0 {
			continue
		}
		if allOrNone && failed {
			results[i].errors = []metadataError{{message: "Record rolled back because not all records were valid and the request was using AllOrNone header", statusCode: "ALL_OR_NONE_OPERATION_ROLLED_BACK"}}
			continue
		}
		if err := s.store.Define(o); err != nil {
			// Lost a race with a concurrent call defining the same name.
			results[i].errors = []metadataError{duplicateObject(results[i].fullName)}
		}
	}
	return results, nil
}

// duplicateObject is the error for a name already taken. The status code
// DUPLICATE_DEVELOPER_NAME and the wording are [UNCONFIRMED for CustomObject]
// (§6.1).
func duplicateObject(fullName string) metadataError {
	base, _, _ := strings.Cut(fullName, "__")
	return metadataError{fields: []string{"fullName"}, message: "There is already a Custom Object named " + base + ".", statusCode: "DUPLICATE_DEVELOPER_NAME"}
}

func missingField(field string) metadataError {
	return metadataError{fields: []string{field}, message: "Required field is missing: " + field, statusCode: "REQUIRED_FIELD_MISSING"}
}

// integrity reports a value Salesforce refuses. FIELD_INTEGRITY_EXCEPTION is this
// emulator's choice from the StatusCode list for every such case (bad name,
// unsupported name field type, bad length) [UNCONFIRMED codes and wording].
func integrity(field, format string, args ...any) metadataError {
	return metadataError{fields: []string{field}, message: fmt.Sprintf(format, args...), statusCode: "FIELD_INTEGRITY_EXCEPTION"}
}

// customObject validates one component and builds its object definition.
func (s *Server) customObject(it *xmlNode) (*Object, []metadataError) {
	if t := it.xsiType(); t != "CustomObject" {
		// [UNCONFIRMED] Salesforce would create these; the emulator does not.
		return nil, []metadataError{{message: "sforg emulates createMetadata for CustomObject only, not " + t, statusCode: "INVALID_TYPE"}}
	}
	fullName := it.text("fullName")
	if fullName == "" {
		return nil, []metadataError{missingField("fullName")}
	}
	if !validCustomName(fullName) {
		return nil, []metadataError{integrity("fullName", "The custom object name %s is invalid: it must begin with a letter, use only letters, digits and single underscores, and end with __c", fullName)}
	}
	var errs []metadataError
	label, plural := it.text("label"), it.text("pluralLabel")
	if label == "" {
		errs = append(errs, missingField("label"))
	}
	if plural == "" {
		errs = append(errs, missingField("pluralLabel"))
	}
	// deploymentStatus and sharingModel are optional in the WSDL and accepted
	// when absent [UNCONFIRMED whether Salesforce requires sharingModel].
	nf := it.child("nameField")
	nameType, nameLabel, display := "", "", ""
	if nf == nil {
		errs = append(errs, missingField("nameField"))
	} else {
		nameType, nameLabel, display = nf.text("type"), nf.text("label"), nf.text("displayFormat")
		switch {
		case nameLabel == "":
			errs = append(errs, missingField("nameField.label"))
		case nameType == "":
			errs = append(errs, missingField("nameField.type"))
		case nameType != "Text" && nameType != "AutoNumber":
			errs = append(errs, integrity("nameField.type", "The name field of a custom object must be of type Text or AutoNumber, not %s", nameType))
		}
		// An AutoNumber name field without displayFormat is accepted: the
		// CustomField reference lists displayFormat without saying it is
		// required, and a real org accepted one. [UNCONFIRMED] the format
		// Salesforce then uses; the bare number ("{0}") is assumed.
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if _, taken := s.store.Object(fullName); taken {
		return nil, []metadataError{duplicateObject(fullName)}
	}
	o := NewCustomObject(fullName, label, plural, nameLabel, nameType)
	if nameType == "AutoNumber" && display != "" {
		for _, f := range o.Fields {
			if f.Name == "Name" {
				f.AutoNumber = display
			}
		}
	}
	for _, fn := range it.children("fields") {
		f, err := customField(fn)
		if err != nil {
			return nil, []metadataError{*err}
		}
		if hasField(o, f.Name) {
			return nil, []metadataError{integrity("fields", "Duplicate field %s on %s", f.Name, fullName)}
		}
		o.Fields = append(o.Fields, withComponents(f)...)
	}
	return o, nil
}

func hasField(o *Object, name string) bool {
	for _, f := range o.Fields {
		if strings.EqualFold(f.Name, name) {
			return true
		}
	}
	return false
}

// validCustomName accepts Name__c with a valid base (no namespace: the org has none).
func validCustomName(name string) bool {
	base, ok := strings.CutSuffix(name, "__c")
	return ok && !strings.Contains(base, "__") && sfid.ValidName(name) && len(base) <= 40
}

// customField turns a CustomField inside a CustomObject into a field. The
// common types are emulated; others are refused.
func customField(n *xmlNode) (*Field, *metadataError) {
	name, label, typ := n.text("fullName"), n.text("label"), n.text("type")
	if name == "" {
		e := missingField("fields.fullName")
		return nil, &e
	}
	if !validCustomName(name) {
		e := integrity("fields.fullName", "The custom field name %s is invalid: it must end with __c", name)
		return nil, &e
	}
	if label == "" {
		e := missingField("fields.label")
		return nil, &e
	}
	f := &Field{Name: name, Label: label, Custom: true}
	f.Required = n.text("required") == "true"
	f.Unique = n.text("unique") == "true"
	f.ExternalID = n.text("externalId") == "true"
	length, _ := strconv.Atoi(n.text("length"))
	precision, _ := strconv.Atoi(n.text("precision"))
	scale, _ := strconv.Atoi(n.text("scale"))
	switch typ {
	case "Text", "EncryptedText":
		if length < 1 || length > 255 {
			e := integrity("fields.length", "Length of %s must be between 1 and 255", name)
			return nil, &e
		}
		f.Type, f.Length = soql.TypeString, length
	case "TextArea":
		f.Type, f.Length = soql.TypeTextArea, 255
	case "LongTextArea", "Html":
		if length < 256 || length > 131072 {
			e := integrity("fields.length", "Length of %s must be between 256 and 131072", name)
			return nil, &e
		}
		f.Type, f.Length = soql.TypeTextArea, length
	case "Email":
		f.Type, f.Length = soql.TypeEmail, 80
	case "Phone":
		f.Type, f.Length = soql.TypePhone, 40
	case "Url":
		f.Type, f.Length = soql.TypeURL, 255
	case "Checkbox":
		f.Type = soql.TypeBoolean
		f.Default = n.text("defaultValue") == "true"
		f.Required = false
	case "Date":
		f.Type = soql.TypeDate
	case "DateTime":
		f.Type = soql.TypeDateTime
	case "Number", "Currency", "Percent":
		if precision < 1 || precision > 18 || scale < 0 || scale > precision {
			e := integrity("fields.precision", "Precision of %s must be between 1 and 18 and at least its scale", name)
			return nil, &e
		}
		f.Type = map[string]string{"Number": soql.TypeDouble, "Currency": soql.TypeCurrency, "Percent": soql.TypePercent}[typ]
		f.Precision, f.Scale = precision, scale
	case "Location":
		f.Type, f.Scale = soql.TypeLocation, scale // its components come from withComponents (address.go)
	case "Picklist":
		f.Type, f.Length = soql.TypePicklist, 255
		if vs := n.child("valueSet"); vs != nil {
			f.RestrictedPicklist = vs.text("restricted") == "true"
			if def := vs.child("valueSetDefinition"); def != nil {
				for _, v := range def.children("value") {
					f.Picklist = append(f.Picklist, v.text("fullName"))
				}
			}
		}
	default:
		e := metadataError{fields: []string{"fields.type"}, message: "sforg does not emulate custom fields of type " + typ, statusCode: "INVALID_TYPE"}
		return nil, &e
	}
	return f, nil
}
