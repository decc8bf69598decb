package sforg

// sObject Collections, /services/data/vNN.N/composite/sobjects (API 42.0 and
// later): many records in one request, as jsforce sends arrays to create,
// update, destroy and retrieve. From Salesforce's REST reference
// ("Create/Update/Delete/Get Records Using sObject Collections"):
//
//	POST   /composite/sobjects                 {"allOrNone":b,"records":[{"attributes":{"type":T},...}]}  -> 200 [SaveResult]
//	PATCH  /composite/sobjects                 {"allOrNone":b,"records":[{"attributes":{"type":T},"id":X,...}]}
//	DELETE /composite/sobjects?ids=X,Y[&allOrNone=true]                                                -> 200 [DeleteResult]
//	GET    /composite/sobjects/{Name}?ids=X,Y&fields=A,B                                                -> 200 [record|null]
//	POST   /composite/sobjects/{Name}          {"ids":[...],"fields":[...]}
//
// A well-formed request answers 200 with one result per record, in request
// order: {"id","success":true,"errors":[]}, or success false with errors
// [{"statusCode","message","fields"}] (the SOAP Error shape, not the REST
// error array). With allOrNone every change is rolled back when one record
// fails; the records that did not fail then carry ALL_OR_NONE_OPERATION_ROLLED_BACK.
// Failed creates and ids that are not ids carry no "id" (the documented
// examples); failed updates and deletes of a real id keep it. Get answers null
// for an id that is malformed, of another object, absent or deleted, and 400
// for a field that does not exist.
//
// Records of mixed types are processed in chunks of consecutive records of one
// type ({A1,A2,C1,A3} is three chunks) and a request may hold at most 10.
//
// [UNCONFIRMED] wordings: the 200-record limit error, the missing-type and
// unknown-type errors (400 for the whole request, as the body cannot be read
// into sObjects), MISSING_ARGUMENT for a missing ids/fields/records argument,
// INVALID_CROSS_REFERENCE_KEY for an update or delete of an id that never
// existed (what Apex DML reports), and the 11th chunk failing the whole request
// with EXCEEDED_MAX_TYPES_LIMIT and the message Apex gives for it. Upsert
// (API 46.0) is in collections_upsert.go.

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/sfconnect/connector/shared/sfid"
)

// Limits of a collection request.
const (
	maxCollectionRecords = 200  // create, update, delete
	maxCollectionGetIDs  = 2000 // get with a request body
	maxCollectionChunks  = 10   // runs of consecutive records of one type
	collectionsVersion   = 42.0 // first API version with sObject Collections
)

// collectionError is one error of a collection result.
type collectionError struct {
	StatusCode string   `json:"statusCode"`
	Message    string   `json:"message"`
	Fields     []string `json:"fields"`
}

// collectionResult is a SaveResult or DeleteResult of a collection request.
type collectionResult struct {
	ID      string            `json:"id,omitempty"`
	Success bool              `json:"success"`
	Errors  []collectionError `json:"errors"`
}

// Whole-request failures and per-record errors of collections.
var (
	errTooManyRecords = fail(http.StatusBadRequest, "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than %d records into this call", maxCollectionRecords)
	errNoType         = fail(http.StatusBadRequest, "INVALID_TYPE", "Must send a concrete entity type.")
	errTooManyChunks  = fail(http.StatusBadRequest, "EXCEEDED_MAX_TYPES_LIMIT", "Cannot have more than %d chunks in a single operation. Please rearrange the data to reduce chunking.", maxCollectionChunks)
	rolledBack        = collectionError{StatusCode: "ALL_OR_NONE_OPERATION_ROLLED_BACK", Message: "Record rolled back because not all records were valid and the request was using AllOrNone header", Fields: []string{}}
)

func missingArgument(name string) *Failure {
	return fail(http.StatusBadRequest, "MISSING_ARGUMENT", "%s: missing required argument", name)
}

// failed turns a store error into the errors of a collection result.
func failed(id string, err error) collectionResult {
	f, ok := err.(*Failure)
	if !ok {
		f = internalFailure(err)
	}
	res := collectionResult{ID: id, Errors: make([]collectionError, 0, len(f.Errors))}
	for _, e := range f.Errors {
		res.Errors = append(res.Errors, saveError(e.ErrorCode, e.Message, e.Fields))
	}
	return res
}

func (s *Server) collectionRoutes() {
	dml := s.byMethod(map[string]http.HandlerFunc{
		"POST":   s.api(RouteCollectionCreate, s.collectionCreate),
		"PATCH":  s.api(RouteCollectionUpdate, s.collectionUpdate),
		"DELETE": s.api(RouteCollectionDelete, s.collectionDelete),
	})
	s.handle("/services/data/{version}/composite/sobjects", dml)
	get := s.byMethod(map[string]http.HandlerFunc{
		"GET":  s.api(RouteCollectionGet, s.collectionGet),
		"POST": s.api(RouteCollectionGet, s.collectionGet),
	})
	s.handle("/services/data/{version}/composite/sobjects/{name}", get)
}

// collectionRequest is the body of a create or update.
type collectionRequest struct {
	AllOrNone bool             `json:"allOrNone"`
	Records   []map[string]any `json:"records"`
}

// readCollection decodes a create or update body and resolves each record's
// attributes.type, answering whole-request failures itself.
func (s *Server) readCollection(w http.ResponseWriter, r *http.Request, c *call) (*collectionRequest, []*Object, bool) {
	if !c.atLeast(collectionsVersion) {
		writeFailure(w, errNotFound)
		return nil, nil, false
	}
	var req collectionRequest
	if f := decodeJSON(r, &req); f != nil {
		writeFailure(w, f)
		return nil, nil, false
	}
	if req.Records == nil {
		writeFailure(w, missingArgument("records"))
		return nil, nil, false
	}
	if len(req.Records) > maxCollectionRecords {
		writeFailure(w, errTooManyRecords)
		return nil, nil, false
	}
	objects := make([]*Object, len(req.Records))
	for i, rec := range req.Records {
		attrs, _ := rec["attributes"].(map[string]any)
		name, _ := attrs["type"].(string)
		if name == "" {
			writeFailure(w, errNoType)
			return nil, nil, false
		}
		o, ok := s.store.Object(name)
		if !ok {
			writeFailure(w, fail(http.StatusBadRequest, "INVALID_TYPE", "sObject type '%s' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.", name))
			return nil, nil, false
		}
		objects[i] = o
	}
	chunks := 0
	for i, o := range objects {
		if i == 0 || o != objects[i-1] {
			chunks++
		}
	}
	if chunks > maxCollectionChunks {
		writeFailure(w, errTooManyChunks)
		return nil, nil, false
	}
	return &req, objects, true
}

// settle applies allOrNone to the results of a batch: when a record failed,
// the batch is undone and the others are marked rolled back (keeping their id
// only when keepID). It reports whether the batch may commit.
func settle(results []collectionResult, allOrNone, keepID bool) bool {
	ok := true
	for _, res := range results {
		ok = ok && res.Success
	}
	if ok || !allOrNone {
		return true
	}
	for i := range results {
		if results[i].Success {
			id := results[i].ID
			if !keepID {
				id = ""
			}
			results[i] = collectionResult{ID: id, Errors: []collectionError{rolledBack}}
		}
	}
	return false
}

// runBatch applies do to the records 0..n-1 in one store batch, settles it as
// allOrNone asks (keepID: whether rolled-back results keep their id), and
// answers 200 with the results.
func (s *Server) runBatch(w http.ResponseWriter, n int, allOrNone, keepID bool, do func(tx *batch, i int) collectionResult) {
	results := make([]collectionResult, n)
	s.store.batch(func(tx *batch) bool {
		for i := range results {
			results[i] = do(tx, i)
		}
		return settle(results, allOrNone, keepID)
	})
	writeJSON(w, http.StatusOK, results)
}

// succeeded is the result of a record the batch wrote.
func succeeded(id string) collectionResult {
	return collectionResult{ID: id, Success: true, Errors: []collectionError{}}
}

// collectionCreate answers POST /composite/sobjects.
func (s *Server) collectionCreate(w http.ResponseWriter, r *http.Request, c *call) {
	req, objects, ok := s.readCollection(w, r, c)
	if !ok {
		return
	}
	s.runBatch(w, len(req.Records), req.AllOrNone, false, func(tx *batch, i int) collectionResult {
		id, err := tx.insert(objects[i].Name, req.Records[i])
		if err != nil {
			return failed("", err)
		}
		return succeeded(id)
	})
}

// collectionUpdate answers PATCH /composite/sobjects: every record names its
// id in an "id" field.
func (s *Server) collectionUpdate(w http.ResponseWriter, r *http.Request, c *call) {
	req, objects, ok := s.readCollection(w, r, c)
	if !ok {
		return
	}
	s.runBatch(w, len(req.Records), req.AllOrNone, true, func(tx *batch, i int) collectionResult {
		o, rec := objects[i], req.Records[i]
		raw := recordID(rec)
		id := sfid.To18(raw)
		switch {
		case raw == "":
			return failed("", fail(http.StatusBadRequest, "MISSING_ARGUMENT", "Id not specified in an update call"))
		case id == "" || !strings.HasPrefix(id, o.KeyPrefix):
			return failed("", failFields(http.StatusBadRequest, "MALFORMED_ID", []string{"Id"}, "%s ID: id value of incorrect type: %s", o.Label, raw))
		}
		if err := tx.update(o.Name, id, rec); err != nil {
			return failed(id, crossReference(err))
		}
		return succeeded(id)
	})
}

// recordID returns the "id" (any case) of a record body as a string.
func recordID(rec map[string]any) string {
	for k, v := range rec {
		if strings.EqualFold(k, "id") {
			s, _ := v.(string)
			return s
		}
	}
	return ""
}

// crossReference words "no such record" as DML does inside a collection.
func crossReference(err error) error {
	if f, ok := err.(*Failure); ok && f.Status == http.StatusNotFound && len(f.Errors) > 0 && f.Errors[0].ErrorCode == "NOT_FOUND" {
		return failFields(http.StatusBadRequest, "INVALID_CROSS_REFERENCE_KEY", nil, "invalid cross reference id")
	}
	return err
}

// collectionDelete answers DELETE /composite/sobjects?ids=X,Y[&allOrNone=true].
func (s *Server) collectionDelete(w http.ResponseWriter, r *http.Request, c *call) {
	if !c.atLeast(collectionsVersion) {
		writeFailure(w, errNotFound)
		return
	}
	ids := splitList(r.URL.Query().Get("ids"))
	if len(ids) == 0 {
		writeFailure(w, missingArgument("ids"))
		return
	}
	if len(ids) > maxCollectionRecords {
		writeFailure(w, errTooManyRecords)
		return
	}
	allOrNone, _ := strconv.ParseBool(r.URL.Query().Get("allOrNone"))
	s.runBatch(w, len(ids), allOrNone, true, func(tx *batch, i int) collectionResult {
		id := sfid.To18(ids[i])
		if id == "" {
			return failed("", failFields(http.StatusBadRequest, "MALFORMED_ID", nil, "malformed id %s", ids[i]))
		}
		if err := tx.delete(id); err != nil {
			return failed(id, crossReference(err))
		}
		return succeeded(id)
	})
}

// collectionGet answers GET /composite/sobjects/{Name}?ids=&fields= and its
// POST form with {"ids":[...],"fields":[...]}.
func (s *Server) collectionGet(w http.ResponseWriter, r *http.Request, c *call) {
	o, ok := s.objectSince(w, r, c, collectionsVersion)
	if !ok {
		return
	}
	var ids, fields []string
	if r.Method == http.MethodPost {
		var body struct {
			IDs    []string `json:"ids"`
			Fields []string `json:"fields"`
		}
		if f := decodeJSON(r, &body); f != nil {
			writeFailure(w, f)
			return
		}
		ids, fields = body.IDs, body.Fields
	} else {
		ids, fields = splitList(r.URL.Query().Get("ids")), splitList(r.URL.Query().Get("fields"))
	}
	switch {
	case len(ids) == 0:
		writeFailure(w, missingArgument("ids"))
		return
	case len(fields) == 0:
		writeFailure(w, missingArgument("fields"))
		return
	case len(ids) > maxCollectionGetIDs:
		writeFailure(w, fail(http.StatusBadRequest, "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than %d records into this call", maxCollectionGetIDs))
		return
	}
	for _, name := range fields {
		if _, ok := o.Field(name); !ok {
			writeFailure(w, fail(http.StatusBadRequest, "INVALID_FIELD", "No such column '%s' on entity '%s'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.", name, o.Name))
			return
		}
	}
	out := make([]json.RawMessage, len(ids))
	for i, raw := range ids {
		out[i] = json.RawMessage("null")
		id := sfid.To18(raw)
		if id == "" {
			continue
		}
		if _, got, err := s.store.Get(o.Name, id, fields); err == nil {
			out[i] = marshalRecord(o, id, got, fields, c.base)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// splitList reads a comma-separated parameter, skipping empty items.
func splitList(v string) []string {
	var out []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// batch is a run of DML under the store's write lock that can be undone, for
// allOrNone collections.
type batch struct {
	s    *Store
	undo []func()
}

// batch runs fn under the write lock; when fn returns false every change it
// made through the batch is undone (ids and auto numbers stay used, as in
// Salesforce).
func (s *Store) batch(fn func(tx *batch) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx := &batch{s: s}
	if fn(tx) {
		return
	}
	for i := len(tx.undo) - 1; i >= 0; i-- {
		tx.undo[i]()
	}
}

func (tx *batch) insert(object string, fields map[string]any) (string, error) {
	id, err := tx.s.insertChecked(object, fields)
	if err == nil {
		tx.undo = append(tx.undo, func() { tx.s.unlink(id) })
	}
	return id, err
}

func (tx *batch) update(object, id string, fields map[string]any) error {
	restore := tx.s.saved(id)
	err := tx.s.updateChecked(object, id, fields)
	if err == nil {
		tx.undo = append(tx.undo, restore)
	}
	return err
}

// delete deletes a record of any object by its 18-character id.
func (tx *batch) delete(id string) error {
	r, ok := tx.s.rows[id]
	if !ok {
		return errNotFound
	}
	restore := tx.s.saved(id)
	err := tx.s.deleteChecked(r.object.Name, id)
	if err == nil {
		tx.undo = append(tx.undo, restore)
	}
	return err
}

// saved returns a function that puts a row's fields back as they are now. The
// caller holds the write lock.
func (s *Store) saved(id string) func() {
	r, ok := s.rows[sfid.To18(id)]
	if !ok {
		return func() {}
	}
	fields := make(map[string]any, len(r.fields))
	for k, v := range r.fields {
		fields[k] = v
	}
	return func() { r.fields = fields }
}

// unlink removes an inserted row altogether. The caller holds the write lock.
func (s *Store) unlink(id string) {
	r, ok := s.rows[id]
	if !ok {
		return
	}
	delete(s.rows, id)
	list := s.order[r.object.Name]
	for i := len(list) - 1; i >= 0; i-- {
		if list[i] == r {
			s.order[r.object.Name] = append(list[:i:i], list[i+1:]...)
			break
		}
	}
}
