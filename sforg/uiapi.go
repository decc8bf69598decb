package sforg

// User Interface API records (API 41.0 and later), the single-record writes the
// connector sends with an Idempotency-Key (idempotency.go):
//
//	POST   /services/data/vNN.N/ui-api/records       {"apiName":"Account","fields":{...}} -> 201 Record
//	GET    /services/data/vNN.N/ui-api/records/{id}  ?fields=Account.Name&optionalFields=... or ?layoutTypes=Full -> 200 Record
//	PATCH  /services/data/vNN.N/ui-api/records/{id}  {"fields":{...}} -> 200 Record
//	DELETE /services/data/vNN.N/ui-api/records/{id}  -> 204
//
// A Record (uiapi_record.go) is {"apiName","childRelationships","eTag",
// "fields":{Name:{"displayValue","value"}},"id","lastModifiedById",
// "lastModifiedDate","recordTypeId","recordTypeInfo","systemModstamp",
// "weakEtag"}, each property from the API version that added it.
//
// Errors come in the UI API's two shapes. Request errors are the REST error
// array: 404 NOT_FOUND for a record that does not exist, 400
// INVALID_INPUT_COMBINATION for a GET without fields or layoutTypes,
// ILLEGAL_QUERY_PARAMETER_VALUE for a write without a body,
// POST_BODY_PARSE_ERROR for a value of the wrong JSON type, INVALID_FIELD for a
// field that does not exist (on GET worded as the SOQL error the UI API passes
// on). A save the data refuses (a required field missing, a value too long, a
// duplicate, a bad reference, a read-only field from 43.0, an object that
// cannot be written) is 400 "Error with Output": {"enhancedErrorType":
// "RecordError","message":...,"output":{"errors":[...],"fieldErrors":{Field:
// [...]}}}, each error {"constituentField","duplicateRecordError","errorCode",
// "field","fieldLabel","message"}.
//
// [UNCONFIRMED] What Salesforce does not document and the emulator chooses:
// the error for a POST without apiName, for an unknown apiName (400
// INVALID_TYPE, the sObject Collections wording) and for a PATCH whose apiName
// names another object; that the message of Error with Output is the update
// wording for creates too; which store errors are record errors; that the
// type names in POST_BODY_PARSE_ERROR beyond the documented String/Integer
// pair are Java's (Boolean, Double, Map, List); that a malformed or deleted
// record id is 404 (NOT_FOUND, ENTITY_IS_DELETED); that an unknown layoutTypes
// value is ILLEGAL_QUERY_PARAMETER_VALUE. Not modelled: layouts (a layout or a
// save answers every field), childRelationships (always {}), record types,
// duplicate rules (allowSaveOnDuplicate is accepted and ignored), compound
// address fields, If-Modified-Since, /ui-api/records/batch and the other UI
// API resources.

import (
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/sfconnect/connector/sforg/soql"
	"github.com/sfconnect/connector/shared/sfid"
)

// API versions of the UI API's record resources.
const (
	uiAPIVersion          = 41.0 // /ui-api/records exists (earlier versions: 404)
	uiReadOnlyFieldOutput = 43.0 // a read-only field in a save answers Error with Output
)

// uiRecordErrorMessage is the message of every Error with Output of a save.
const uiRecordErrorMessage = "An error occurred while trying to update the record. Please try again."

func (s *Server) uiAPIRoutes() {
	s.idem = newIdempotency(s.opts.Idempotency, s.opts.Now)
	records := s.byMethod(map[string]http.HandlerFunc{"POST": s.api(RouteUIRecordCreate, s.uiCreate)})
	s.handle("/services/data/{version}/ui-api/records", records)
	record := s.byMethod(map[string]http.HandlerFunc{
		"GET":    s.api(RouteUIRecordGet, s.uiGet),
		"PATCH":  s.api(RouteUIRecordUpdate, s.uiUpdate),
		"DELETE": s.api(RouteUIRecordDelete, s.uiDelete),
	})
	s.handle("/services/data/{version}/ui-api/records/{id}", record)
}

// uiRecordInput is the Record Input body of a create or update.
type uiRecordInput struct {
	APIName              *string        `json:"apiName"`
	Fields               map[string]any `json:"fields"`
	AllowSaveOnDuplicate *bool          `json:"allowSaveOnDuplicate"`
}

// uiCreate answers POST /ui-api/records: 201 and the new Record.
func (s *Server) uiCreate(w http.ResponseWriter, r *http.Request, c *call) {
	s.uiRecordWrite(w, r, c, http.MethodPost, func(w http.ResponseWriter, in *uiRecordInput) {
		if in.APIName == nil || *in.APIName == "" {
			writeFailure(w, fail(http.StatusBadRequest, "ILLEGAL_QUERY_PARAMETER_VALUE", "The apiName of the object is required to create a record."))
			return
		}
		o, ok := s.store.Object(*in.APIName)
		if !ok {
			writeFailure(w, unsupportedType(*in.APIName))
			return
		}
		s.uiSave(w, c, o, "", in.Fields, http.StatusCreated)
	})
}

// uiUpdate answers PATCH /ui-api/records/{id}: 200 and the updated Record.
func (s *Server) uiUpdate(w http.ResponseWriter, r *http.Request, c *call) {
	s.uiRecordWrite(w, r, c, http.MethodPatch, func(w http.ResponseWriter, in *uiRecordInput) {
		o, id, f := s.uiRecordObject(r.PathValue("id"))
		if f != nil {
			writeFailure(w, f)
			return
		}
		if in.APIName != nil && *in.APIName != "" && !strings.EqualFold(*in.APIName, o.Name) {
			writeFailure(w, fail(http.StatusBadRequest, "ILLEGAL_QUERY_PARAMETER_VALUE", "To update a record, leave apiName null or name the record's object (%s).", o.Name))
			return
		}
		s.uiSave(w, c, o, id, in.Fields, http.StatusOK)
	})
}

// uiDelete answers DELETE /ui-api/records/{id}: 204.
func (s *Server) uiDelete(w http.ResponseWriter, r *http.Request, c *call) {
	if !c.atLeast(uiAPIVersion) {
		writeFailure(w, errNotFound)
		return
	}
	s.idempotent(w, r, c, http.MethodDelete, nil, func(w http.ResponseWriter) {
		o, id, f := s.uiRecordObject(r.PathValue("id"))
		if f != nil {
			writeFailure(w, f)
			return
		}
		if err := s.store.Delete(o.Name, id); err != nil {
			writeError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// uiGet answers GET /ui-api/records/{id}: 200 and the Record with the fields
// asked for (?fields and ?optionalFields, "Object.Field" or spanning
// "Object.Relationship.Field"), or every field for ?layoutTypes.
func (s *Server) uiGet(w http.ResponseWriter, r *http.Request, c *call) {
	if !c.atLeast(uiAPIVersion) {
		writeFailure(w, errNotFound)
		return
	}
	q := r.URL.Query()
	fields, optional, layouts := listParam(q["fields"]), listParam(q["optionalFields"]), listParam(q["layoutTypes"])
	if len(fields) == 0 && len(layouts) == 0 {
		writeFailure(w, fail(http.StatusBadRequest, "INVALID_INPUT_COMBINATION", "Must provide either 'fields' or 'layoutTypes'."))
		return
	}
	for _, l := range layouts {
		if !strings.EqualFold(l, "Full") && !strings.EqualFold(l, "Compact") {
			writeFailure(w, fail(http.StatusBadRequest, "ILLEGAL_QUERY_PARAMETER_VALUE", "Unknown layout type: %s. Use Full or Compact.", l))
			return
		}
	}
	o, id, f := s.uiRecordObject(r.PathValue("id"))
	if f != nil {
		writeFailure(w, f)
		return
	}
	rec, err := s.store.uiRead(o, id, uiRequest{all: len(layouts) > 0, fields: fields, optional: optional}, s.uiView(c))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, rec)
}

// uiRecordWrite checks the version of a create or update, reads its Record
// Input and runs save with it under the request's Idempotency-Key.
func (s *Server) uiRecordWrite(w http.ResponseWriter, r *http.Request, c *call, method string, save func(http.ResponseWriter, *uiRecordInput)) {
	if !c.atLeast(uiAPIVersion) {
		writeFailure(w, errNotFound)
		return
	}
	body, f := readBody(r)
	if f != nil {
		writeFailure(w, f)
		return
	}
	s.idempotent(w, r, c, method, body, func(w http.ResponseWriter) {
		if in, ok := readRecordInput(w, body, method); ok {
			save(w, in)
		}
	})
}

// readRecordInput decodes a Record Input body, answering its errors itself.
func readRecordInput(w http.ResponseWriter, body []byte, method string) (*uiRecordInput, bool) {
	missing := fail(http.StatusBadRequest, "ILLEGAL_QUERY_PARAMETER_VALUE", "Record input is required for %s.", method)
	if len(strings.TrimSpace(string(body))) == 0 {
		writeFailure(w, missing)
		return nil, false
	}
	var in *uiRecordInput
	if f := decodeJSONBytes(body, &in); f != nil {
		writeFailure(w, f)
		return nil, false
	}
	if in == nil { // the body was null
		writeFailure(w, missing)
		return nil, false
	}
	if in.Fields == nil {
		in.Fields = map[string]any{}
	}
	return in, true
}

// unsupportedType is the answer to an apiName the org does not have.
func unsupportedType(name string) *Failure {
	return fail(http.StatusBadRequest, "INVALID_TYPE", "sObject type '%s' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.", name)
}

// uiRecordObject resolves the {id} of a path to its object and 18-character
// id. An id that is malformed or names no record is 404 NOT_FOUND; a deleted
// record is found here and refused by the store (ENTITY_IS_DELETED).
func (s *Server) uiRecordObject(raw string) (*Object, string, *Failure) {
	id := sfid.To18(raw)
	if id == "" {
		return nil, "", errNotFound
	}
	o, ok := s.store.objectOf(id)
	if !ok {
		return nil, "", errNotFound
	}
	return o, id, nil
}

// uiSave creates (id "") or updates a record and answers the Record with
// status, or the save's errors.
func (s *Server) uiSave(w http.ResponseWriter, c *call, o *Object, id string, fields map[string]any, status int) {
	if f := checkJSONTypes(o, fields); f != nil {
		writeFailure(w, f)
		return
	}
	rec, err := s.store.uiWrite(c.userID, o, id, fields, s.uiView(c))
	if err != nil {
		f, ok := err.(*Failure)
		if !ok || !isRecordError(f, c) {
			writeError(w, err)
			return
		}
		writeJSON(w, f.Status, recordErrorBody(o, f))
		return
	}
	writeJSON(w, status, rec)
}

// isRecordError reports whether a store error is a refused save, which the UI
// API answers as Error with Output, rather than a malformed request.
func isRecordError(f *Failure, c *call) bool {
	if f.Status != http.StatusBadRequest || len(f.Errors) == 0 {
		return false
	}
	switch f.Errors[0].ErrorCode {
	case "INVALID_FIELD", "JSON_PARSER_ERROR":
		return false
	case "INVALID_FIELD_FOR_INSERT_UPDATE":
		return c.atLeast(uiReadOnlyFieldOutput)
	}
	return true
}

// recordExceptionError is one error of a Record Exceptions body, properties
// in Salesforce's (alphabetical) order.
type recordExceptionError struct {
	ConstituentField     *string `json:"constituentField"`
	DuplicateRecordError any     `json:"duplicateRecordError"`
	ErrorCode            string  `json:"errorCode"`
	Field                *string `json:"field"`
	FieldLabel           *string `json:"fieldLabel"`
	Message              string  `json:"message"`
}

// errorWithOutput is the UI API's Error with Output body.
type errorWithOutput struct {
	EnhancedErrorType string `json:"enhancedErrorType"`
	Message           string `json:"message"`
	Output            struct {
		Errors      []recordExceptionError            `json:"errors"`
		FieldErrors map[string][]recordExceptionError `json:"fieldErrors"`
	} `json:"output"`
}

// recordErrorBody turns a refused save into Error with Output: errors that
// name fields go under output.fieldErrors, one entry per field, the others
// under output.errors.
func recordErrorBody(o *Object, f *Failure) errorWithOutput {
	out := errorWithOutput{EnhancedErrorType: "RecordError", Message: uiRecordErrorMessage}
	out.Output.Errors = []recordExceptionError{}
	out.Output.FieldErrors = map[string][]recordExceptionError{}
	for _, e := range f.Errors {
		if len(e.Fields) == 0 {
			out.Output.Errors = append(out.Output.Errors, recordExceptionError{ErrorCode: e.ErrorCode, Message: e.Message})
			continue
		}
		for _, name := range e.Fields {
			field, label := name, name
			if fd, ok := o.Field(name); ok {
				field, label = fd.Name, fd.Label
			}
			out.Output.FieldErrors[field] = append(out.Output.FieldErrors[field], recordExceptionError{
				ErrorCode: e.ErrorCode, Field: &field, FieldLabel: &label, Message: e.Message,
			})
		}
	}
	return out
}

// checkJSONTypes refuses a field value whose JSON type does not fit the
// field, as the UI API does before it saves: 400 POST_BODY_PARSE_ERROR "Value
// for field 'Name' in object 'Account' with data type 'STRING' should be a
// String but instead is a Integer." Unknown fields are left to the store.
func checkJSONTypes(o *Object, fields map[string]any) *Failure {
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		f, ok := o.Field(name)
		v := fields[name]
		if !ok || v == nil {
			continue
		}
		want, got := javaTypeOf(f), javaTypeOfValue(v)
		if want == got || (want == "Double" && got == "Integer") {
			continue
		}
		return fail(http.StatusBadRequest, "POST_BODY_PARSE_ERROR", "Value for field '%s' in object '%s' with data type '%s' should be a %s but instead is a %s.", f.Name, o.Name, strings.ToUpper(f.Type), want, got)
	}
	return nil
}

// javaTypeOf names the Java type a field's JSON value must have.
func javaTypeOf(f *Field) string {
	switch f.Type {
	case soql.TypeBoolean:
		return "Boolean"
	case soql.TypeInt:
		return "Integer"
	case soql.TypeDouble, soql.TypeCurrency, soql.TypePercent:
		return "Double"
	}
	return "String"
}

// javaTypeOfValue names the Java type a JSON value decodes to.
func javaTypeOfValue(v any) string {
	switch x := v.(type) {
	case string:
		return "String"
	case bool:
		return "Boolean"
	case float64:
		if x == float64(int64(x)) {
			return "Integer"
		}
		return "Double"
	case map[string]any:
		return "Map"
	case []any:
		return "List"
	}
	return fmt.Sprintf("%T", v)
}

// listParam reads a list parameter given comma-separated, repeated, or both.
func listParam(values []string) []string {
	var out []string
	for _, v := range values {
		for _, item := range strings.Split(v, ",") {
			if item = strings.TrimSpace(item); item != "" {
				out = append(out, item)
			}
		}
	}
	return out
}
