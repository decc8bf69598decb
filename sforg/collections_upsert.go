package sforg

// sObject Collections upsert (API 46.0 and later), from Salesforce's REST
// reference ("Upsert Records Using sObject Collections"):
//
//	PATCH /composite/sobjects/{Name}/{ExternalIdField}
//	      {"allOrNone":b,"records":[{"attributes":{"type":Name},"Ext__c":"E-1",...},...]}
//	-> 200 [{"id":X,"success":true,"errors":[],"created":true|false},...]
//
// Up to 200 records, all of the type in the URI, each naming its external id
// value in the field of the URI; records are inserted or updated in order and
// the results come back in the same order. Whole-request failures are those of
// the other collection operations (collections.go) plus 404 NOT_FOUND when the
// field is not an external id field (the single-record upsert's answer) and
// 400 INVALID_TYPE when a record is of another type. Per record:
//
//   - a value that appears on several records of the request (compared as
//     external ids are: text case-insensitively) fails every one of them with
//     DUPLICATE_VALUE "Duplicate external id specified: <value>", the code and
//     message clients see;
//   - a value that matches several existing records fails with
//     DUPLICATE_EXTERNAL_ID;
//   - a missing, null or empty value fails with MISSING_ARGUMENT, except with
//     the field Id, where a null (or absent) Id inserts, as Salesforce's Mobile
//     SDK documents;
//   - validation errors are those of a single create or update.
//
// With allOrNone, a failure rolls every record back and the others report
// ALL_OR_NONE_OPERATION_ROLLED_BACK, "created":false, and their id only when
// they matched an existing record.
//
// [UNCONFIRMED]: the whole-request status of a field that is not an external
// id, the INVALID_TYPE code and wording for a record of another type, the
// codes and wording for a value matching several records and for a missing
// value, the fields of those errors, and the id of a failed record (left out).

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/sfconnect/connector/shared/sfid"
)

// collectionsUpsertVersion is the first API version with sObject Collections upsert.
const collectionsUpsertVersion = 46.0

// upsertResult is an UpsertResult of a collection upsert.
type upsertResult struct {
	ID      string            `json:"id,omitempty"`
	Success bool              `json:"success"`
	Errors  []collectionError `json:"errors"`
	Created bool              `json:"created"`
}

// saveError is one error of a collection or tree result: "fields" is a list,
// never null.
func saveError(code, message string, fields []string) collectionError {
	if fields == nil {
		fields = []string{}
	}
	return collectionError{StatusCode: code, Message: message, Fields: fields}
}

func upsertFailure(code, message string, fields ...string) upsertResult {
	return upsertResult{Errors: []collectionError{saveError(code, message, fields)}}
}

// collectionUpsert answers PATCH /composite/sobjects/{Name}/{Field}.
func (s *Server) collectionUpsert(w http.ResponseWriter, r *http.Request, c *call) {
	o, ok := s.objectSince(w, r, c, collectionsUpsertVersion)
	if !ok {
		return
	}
	f, ok := o.Field(r.PathValue("field"))
	if !ok || !(f.ExternalID || f.Name == "Id") {
		writeFailure(w, fail(http.StatusNotFound, "NOT_FOUND", "Provided external ID field does not exist or is not accessible: %s", r.PathValue("field")))
		return
	}
	req, objects, ok := s.readCollection(w, r, c)
	if !ok {
		return
	}
	for _, other := range objects {
		if other != o {
			writeFailure(w, fail(http.StatusBadRequest, "INVALID_TYPE", "Every record of an upsert must be of type %s, the object of the request URI; found %s", o.Name, other.Name))
			return
		}
	}

	n := len(req.Records)
	keys := make([]string, n) // each record's external id value, as text
	insertOnly := make([]bool, n)
	results := make([]upsertResult, n)
	failedEarly := make([]bool, n)
	seen := map[string][]int{}
	for i, rec := range req.Records {
		v := fieldValue(rec, f.Name)
		switch {
		case f.Name == "Id" && v == nil:
			insertOnly[i] = true
			continue
		case v == nil || v == "":
			results[i], failedEarly[i] = upsertFailure("MISSING_ARGUMENT", f.Name+" not specified", f.Name), true
			continue
		}
		keys[i] = externalText(v)
		norm := strings.ToLower(keys[i])
		if f.Name == "Id" && sfid.To18(keys[i]) != "" {
			norm = sfid.To18(keys[i])
		}
		seen[norm] = append(seen[norm], i)
	}
	for _, same := range seen {
		if len(same) < 2 {
			continue
		}
		for _, i := range same {
			results[i], failedEarly[i] = upsertFailure("DUPLICATE_VALUE", "Duplicate external id specified: "+keys[i], f.Name), true
		}
	}

	s.store.batch(func(tx *batch) bool {
		for i, rec := range req.Records {
			if !failedEarly[i] {
				results[i] = tx.upsert(o, f, keys[i], insertOnly[i], rec)
			}
		}
		return settleUpserts(results, req.AllOrNone)
	})
	writeJSON(w, http.StatusOK, results)
}

// fieldValue returns a record's value of a field, matching its name as
// Salesforce does, case-insensitively.
func fieldValue(rec map[string]any, name string) any {
	for k, v := range rec {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

// externalText writes an external id value from a JSON body as the text a
// URL path would carry.
func externalText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}

// upsert inserts or updates one record of a collection upsert inside the batch.
func (tx *batch) upsert(o *Object, f *Field, key string, insertOnly bool, rec map[string]any) upsertResult {
	j := tx.s.journalLocked()
	var (
		id      string
		created bool
		matches []string
		err     error
	)
	if insertOnly {
		body := make(map[string]any, len(rec))
		for k, v := range rec {
			if !strings.EqualFold(k, "Id") {
				body[k] = v
			}
		}
		id, err = tx.s.insertChecked(o.Name, body)
		created = err == nil
	} else {
		id, created, matches, err = tx.s.upsertLocked(o.Name, f.Name, key, rec, false)
	}
	tx.undo = append(tx.undo, tx.s.endJournalLocked(j)...)
	switch {
	case len(matches) > 1:
		return upsertFailure("DUPLICATE_EXTERNAL_ID", fmt.Sprintf("Duplicate external id specified: %s (matches %s)", key, strings.Join(matches, ", ")), f.Name)
	case err != nil:
		return upsertResult{Errors: failed("", crossReference(err)).Errors}
	}
	return upsertResult{ID: id, Success: true, Errors: []collectionError{}, Created: created}
}

// settleUpserts applies allOrNone to upsert results, as settle does to the
// other collection operations; a rolled-back record keeps its id only when it
// was an update. It reports whether the batch may commit.
func settleUpserts(results []upsertResult, allOrNone bool) bool {
	ok := true
	for _, res := range results {
		ok = ok && res.Success
	}
	if ok || !allOrNone {
		return true
	}
	for i, res := range results {
		if res.Success {
			id := res.ID
			if res.Created {
				id = ""
			}
			results[i] = upsertResult{ID: id, Errors: []collectionError{rolledBack}}
		}
	}
	return false
}
