package sforg

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/sfconnect/connector/sforg/soql"
	"github.com/sfconnect/connector/shared/sfid"
)

// recordResult is the body of a create or upsert, fields in Salesforce's order.
type recordResult struct {
	ID      string     `json:"id"`
	Errors  []APIError `json:"errors"`
	Success bool       `json:"success"`
	Created *bool      `json:"created,omitempty"`
}

// upsertCreatedField is the first API version whose upsert answers carry
// "created" and whose updates answer 200 with a body instead of 204 (the field's
// version is documented, the 204-to-200 switch at it is unconfirmed,
// docs/salesforce-protocol.md §3).
const upsertCreatedField = 46.0

// object resolves the {name} of a path, answering 404 NOT_FOUND itself.
func (s *Server) object(w http.ResponseWriter, r *http.Request) (*Object, bool) {
	o, ok := s.store.Object(r.PathValue("name"))
	if !ok {
		writeFailure(w, errNotFound)
	}
	return o, ok
}

// decodeRecord reads a record body: a JSON object of field values.
func decodeRecord(w http.ResponseWriter, r *http.Request) (map[string]any, bool) {
	var fields map[string]any
	if f := decodeJSON(r, &fields); f != nil {
		writeFailure(w, f)
		return nil, false
	}
	if fields == nil { // the body was null
		fields = map[string]any{}
	}
	return fields, true
}

// objectRecord resolves the {name} of a path and reads the record body,
// answering the failure itself.
func (s *Server) objectRecord(w http.ResponseWriter, r *http.Request) (*Object, map[string]any, bool) {
	o, ok := s.object(w, r)
	if !ok {
		return nil, nil, false
	}
	fields, ok := decodeRecord(w, r)
	return o, fields, ok
}

func writeError(w http.ResponseWriter, err error) {
	if f, ok := err.(*Failure); ok {
		writeFailure(w, f)
		return
	}
	writeFailure(w, fail(http.StatusInternalServerError, "UNKNOWN_EXCEPTION", "An unexpected error occurred: %v", err))
}

// createRecord answers POST /sobjects/{Name}/: 201 {"id","errors":[],"success":true}.
func (s *Server) createRecord(w http.ResponseWriter, r *http.Request, c *call) {
	o, fields, ok := s.objectRecord(w, r)
	if !ok {
		return
	}
	id, err := s.store.Insert(o.Name, fields)
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Location", c.base+"/sobjects/"+o.Name+"/"+id)
	writeJSON(w, http.StatusCreated, recordResult{ID: id, Errors: []APIError{}, Success: true})
}

// fieldList reads ?fields=A,B.
func fieldList(r *http.Request) []string {
	var out []string
	for _, f := range strings.Split(r.URL.Query().Get("fields"), ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// getRecord answers GET /sobjects/{Name}/{Id}[?fields=A,B].
func (s *Server) getRecord(w http.ResponseWriter, r *http.Request, c *call) {
	o, ok := s.object(w, r)
	if !ok {
		return
	}
	if changed, ok := s.store.recordChanged(o.Name, r.PathValue("id")); ok && notModified(w, r, changed) { // conditional.go
		return
	}
	s.writeRecord(w, c, o, r.PathValue("id"), fieldList(r))
}

func (s *Server) writeRecord(w http.ResponseWriter, c *call, o *Object, id string, only []string) {
	_, fields, err := s.store.Get(o.Name, id, only)
	if err != nil {
		writeError(w, err)
		return
	}
	body := marshalRecord(o, sfid.To18(id), fields, only, c.base)
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(http.StatusOK)
	w.Write(body) //nolint:errcheck // the client went away
}

// updateRecord answers PATCH /sobjects/{Name}/{Id}: 204 and no body.
func (s *Server) updateRecord(w http.ResponseWriter, r *http.Request, c *call) {
	o, fields, ok := s.objectRecord(w, r)
	if !ok {
		return
	}
	if err := s.store.Update(o.Name, r.PathValue("id"), fields); err != nil {
		writeError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// deleteRecord answers DELETE /sobjects/{Name}/{Id}: 204; the record goes to
// the recycle bin (queryAll still sees it, a second delete is ENTITY_IS_DELETED).
func (s *Server) deleteRecord(w http.ResponseWriter, r *http.Request, c *call) {
	o, ok := s.object(w, r)
	if !ok {
		return
	}
	if err := s.store.Delete(o.Name, r.PathValue("id")); err != nil {
		writeError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// writeMatches answers 300 Multiple Choices with the URLs of the records an
// external id matched.
func writeMatches(w http.ResponseWriter, c *call, o *Object, ids []string) {
	urls := make([]string, len(ids))
	for i, id := range ids {
		urls[i] = c.base + "/sobjects/" + o.Name + "/" + id
	}
	writeJSON(w, http.StatusMultipleChoices, urls)
}

// byExternalID resolves /sobjects/{Name}/{Field}/{Value} to the one record the
// value matches. It answers itself, and reports false, when the object is
// unknown, the value matches no record (404) or several (300).
func (s *Server) byExternalID(w http.ResponseWriter, r *http.Request, c *call) (*Object, string, bool) {
	o, ok := s.object(w, r)
	if !ok {
		return nil, "", false
	}
	ids, err := s.store.FindByExternal(o.Name, r.PathValue("field"), r.PathValue("value"))
	switch {
	case err != nil:
		writeError(w, err)
	case len(ids) == 0:
		writeFailure(w, errNotFound)
	case len(ids) > 1:
		writeMatches(w, c, o, ids)
	default:
		return o, ids[0], true
	}
	return nil, "", false
}

// getByExternalID answers GET /sobjects/{Name}/{Field}/{Value}.
func (s *Server) getByExternalID(w http.ResponseWriter, r *http.Request, c *call) {
	if o, id, ok := s.byExternalID(w, r, c); ok {
		s.writeRecord(w, c, o, id, fieldList(r))
	}
}

// deleteByExternalID answers DELETE /sobjects/{Name}/{Field}/{Value}.
func (s *Server) deleteByExternalID(w http.ResponseWriter, r *http.Request, c *call) {
	o, id, ok := s.byExternalID(w, r, c)
	if !ok {
		return
	}
	if err := s.store.Delete(o.Name, id); err != nil {
		writeError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// upsert answers PATCH /sobjects/{Name}/{Field}/{Value}: 201 when it inserted,
// 200 with "created":false (204 before API 46.0) when it updated, 300 when
// the value matches several records. ?updateOnly=true never inserts.
func (s *Server) upsert(w http.ResponseWriter, r *http.Request, c *call) {
	o, fields, ok := s.objectRecord(w, r)
	if !ok {
		return
	}
	updateOnly, _ := strconv.ParseBool(r.URL.Query().Get("updateOnly"))
	id, created, matches, err := s.store.Upsert(o.Name, r.PathValue("field"), r.PathValue("value"), fields, updateOnly)
	if len(matches) > 1 {
		writeMatches(w, c, o, matches)
		return
	}
	if err != nil {
		writeError(w, err)
		return
	}
	res := recordResult{ID: id, Errors: []APIError{}, Success: true}
	if c.atLeast(upsertCreatedField) {
		res.Created = &created
	}
	switch {
	case created:
		w.Header().Set("Location", c.base+"/sobjects/"+o.Name+"/"+id)
		writeJSON(w, http.StatusCreated, res)
	case c.atLeast(upsertCreatedField):
		writeJSON(w, http.StatusOK, res)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// marshalRecord writes a record as the REST API does: "attributes" first, then
// the fields in describe order (or in ?fields= order), numbers typed as their
// fields are.
func marshalRecord(o *Object, id string, fields map[string]any, only []string, base string) []byte {
	var b bytes.Buffer
	b.WriteString(`{"attributes":{"type":`)
	writeJSONValue(&b, o.Name)
	if id != "" {
		b.WriteString(`,"url":`)
		writeJSONValue(&b, base+"/sobjects/"+o.Name+"/"+id)
	}
	b.WriteString("}")
	emit := func(f *Field) {
		b.WriteString(",")
		writeJSONValue(&b, f.Name)
		b.WriteString(":")
		writeJSONValue(&b, FieldValue(f, fields[f.Name]))
	}
	if len(only) == 0 {
		for _, f := range o.Fields {
			emit(f)
		}
	} else {
		for _, name := range only {
			if f, ok := o.Field(name); ok {
				emit(f)
			}
		}
	}
	b.WriteString("}")
	return b.Bytes()
}

func writeJSONValue(b *bytes.Buffer, v any) {
	out, err := json.Marshal(v)
	if err != nil {
		out = []byte("null")
	}
	b.Write(out)
}

// FieldValue returns a stored value as the REST API writes it: int fields as
// integers, double, currency and percent fields as Java doubles ("23.0",
// "5.0E7"), everything else unchanged. Use it with json.Marshal.
func FieldValue(f *Field, v any) any {
	n, ok := v.(float64)
	if !ok {
		return v
	}
	switch f.Type {
	case soql.TypeInt:
		if n == math.Trunc(n) && math.Abs(n) < 1e15 {
			return json.Number(strconv.FormatInt(int64(n), 10))
		}
	case soql.TypeDouble, soql.TypeCurrency, soql.TypePercent:
		return json.Number(javaDouble(n))
	}
	return v
}

// javaDouble formats n as Java's Double.toString does, which is what
// Salesforce's JSON carries for double fields: "23.0", "0.5", "5.0E7".
func javaDouble(n float64) string {
	if math.IsInf(n, 0) || math.IsNaN(n) {
		return "null"
	}
	abs := math.Abs(n)
	if n == 0 || (abs >= 1e-3 && abs < 1e7) {
		s := strconv.FormatFloat(n, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(n, 'E', -1, 64) // e.g. 5E+07, 1.25E-05
	mant, exp, _ := strings.Cut(s, "E")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	e, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(e)
}
