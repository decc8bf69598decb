package sforg

// Processing of Bulk API 2.0 ingest jobs: the header row becomes a plan (which
// field or parent lookup each column writes), then every row becomes a field
// map written through the store with the checks and errors of REST. Rules from
// Salesforce's "Prepare CSV Files", "Relationship Fields in a Header Row" and
// the ingest reference pages:
//
//   - a column names a field of the job's object, or a parent by a field that
//     identifies it: RelationshipName.IndexedFieldName (Account.Ext_Id__c,
//     Parent__r.Ext_Id__c), or ObjectType:RelationshipName.IndexedFieldName for
//     a polymorphic relationship (User:Owner.Email), one level deep;
//   - an empty value leaves the field as it is (on insert: not set); #N/A sets
//     it to null;
//   - dates are yyyy-MM-dd, dateTimes yyyy-MM-ddTHH:mm:ss.SSS+HHmm (or Z);
//   - update and delete rows carry the record's Id; upsert rows the job's
//     external id field; a result row carries sf__Id and sf__Created (true
//     when the row inserted a record) or sf__Error, then the row as uploaded.
//
// sf__Error reads "STATUS_CODE:message:fields --", the form Salesforce's
// result files show. [UNCONFIRMED] the exact separators; the codes and
// messages of CSV-only failures (a value of the wrong type, a parent that is
// not found or found twice, duplicate external ids in one internal batch,
// a missing Id or external id) are this emulator's choice among Salesforce's
// status codes; "1" and "0" are read as booleans besides true and false.

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/sfconnect/connector/sforg/soql"
	"github.com/sfconnect/connector/shared/sfid"
)

// ingestPlan is what each header column of an ingest job writes.
type ingestPlan struct {
	object   *Object
	op       string
	cols     []ingestColumn
	idCol    int    // the Id column, -1 without one
	extCol   int    // upsert: the external id column
	extField *Field // upsert: the external id field
}

// ingestColumn is one header column.
type ingestColumn struct {
	field       *Field  // the field written: for a relationship column, the reference field
	parent      *Object // relationship column: the parent object
	parentField *Field  // relationship column: the parent's identifying field
	skip        bool    // not written (the Id of an update, other columns of a delete)
}

// headerError fails a job whose header cannot be used.
func headerError(format string, args ...any) *csvError {
	return &csvError{msg: "InvalidBatch : " + fmt.Sprintf(format, args...)}
}

// newIngestPlan reads a job's header row against the store's schema.
func newIngestPlan(st *Store, o *Object, op, externalID string, header []string) (*ingestPlan, error) {
	p := &ingestPlan{object: o, op: op, idCol: -1, extCol: -1, cols: make([]ingestColumn, len(header))}
	seen := map[string]bool{}
	for i, name := range header {
		key := strings.ToLower(name)
		if seen[key] {
			return nil, headerError("Duplicate field name: %s", name)
		}
		seen[key] = true
		if strings.EqualFold(name, "Id") {
			p.idCol = i
		}
		col, err := resolveColumn(st, o, name)
		if err != nil {
			return nil, err
		}
		p.cols[i] = col
		if op == "upsert" && col.parent == nil && col.field.Name == externalID {
			p.extCol, p.extField = i, col.field
		}
	}
	switch op {
	case "update", "delete", "hardDelete":
		if p.idCol < 0 {
			return nil, headerError("Field name not found : Id (every %s row needs the record's Id)", op)
		}
		for i := range p.cols {
			p.cols[i].skip = i == p.idCol || op != "update"
		}
	case "upsert":
		if p.extCol < 0 {
			return nil, headerError("Field name not found : %s (the job's external id field must be a column)", externalID)
		}
	}
	return p, nil
}

// resolveColumn resolves one header name: a field of o, or a parent lookup.
func resolveColumn(st *Store, o *Object, name string) (ingestColumn, error) {
	notFound := headerError("Field name not found : %s", name)
	rel, field, isRel := strings.Cut(name, ".")
	if !isRel {
		f, ok := o.Field(name)
		if !ok {
			return ingestColumn{}, notFound
		}
		return ingestColumn{field: f}, nil
	}
	typeName, rel, polymorphic := strings.Cut(rel, ":")
	if !polymorphic {
		rel, typeName = typeName, ""
	}
	var ref *Field
	for _, f := range o.Fields {
		if f.Type == soql.TypeReference && f.RelationshipName != "" && strings.EqualFold(f.RelationshipName, rel) {
			ref = f
			break
		}
	}
	if ref == nil || strings.Contains(field, ".") {
		return ingestColumn{}, notFound
	}
	parentName := ref.ReferenceTo
	if polymorphic {
		parentName = typeName
	}
	parent, ok := st.Object(parentName)
	if parentName == "" || !ok || (ref.ReferenceTo != "" && parent.Name != ref.ReferenceTo) {
		return ingestColumn{}, notFound
	}
	pf, ok := parent.Field(field)
	if !ok {
		return ingestColumn{}, notFound
	}
	if !pf.ExternalID && !pf.Unique && pf.Name != "Id" {
		return ingestColumn{}, headerError("%s on %s is not an external id or unique field and cannot identify the parent in %s", pf.Name, parent.Name, name)
	}
	return ingestColumn{field: ref, parent: parent, parentField: pf}, nil
}

// startIngest reads a closed job's CSV and moves it InProgress, or fails it.
// It reports whether the job is InProgress.
func (e *bulkEngine) startIngest(job *bulkJob) bool {
	e.mu.Lock()
	state, data := job.state, job.data
	e.mu.Unlock()
	if state != stateUploadComplete {
		return state == stateInProgress
	}
	var plan *ingestPlan
	rows, err := parseBulkCSV(data, newDialect(job.delimiter, job.lineEnding))
	if err == nil {
		if o, ok := e.s.store.Object(job.object); ok {
			plan, err = newIngestPlan(e.s.store, o, job.operation, job.externalID, rows[0])
		} else {
			err = headerError("sObject type '%s' is not supported.", job.object)
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if job.state != stateUploadComplete { // aborted or deleted meanwhile
		return false
	}
	if err != nil {
		job.errMessage = err.Error()
		job.unreadable = true
		e.touch(job, stateFailed)
		return false
	}
	job.plan, job.header, job.rows = plan, rows[0], rows[1:]
	e.touch(job, stateInProgress)
	return true
}

// advanceIngest attempts up to budget rows of an ingest job (budget < 0: to
// the end) and returns how many it attempted.
func (e *bulkEngine) advanceIngest(job *bulkJob, budget int) int {
	if !e.startIngest(job) {
		return 0
	}
	done := 0
	for budget != 0 {
		e.mu.Lock()
		if job.state != stateInProgress {
			e.mu.Unlock()
			return done
		}
		if job.next == len(job.rows) {
			e.touch(job, stateJobComplete)
			e.mu.Unlock()
			return done
		}
		if job.next == job.chunkEnd && !e.startChunk(job) {
			e.mu.Unlock()
			return done
		}
		from, end := job.next, job.chunkEnd
		if budget > 0 {
			end = min(end, from+budget)
		}
		w := &rowWriter{plan: job.plan, rows: job.rows, batchFrom: job.chunkBegin, batchTo: job.chunkEnd}
		e.mu.Unlock()

		outcomes := w.write(e.s.store, from, end)

		e.mu.Lock()
		job.outcomes = append(job.outcomes, outcomes...)
		for _, o := range outcomes {
			if o.err != "" {
				job.failures++
			}
		}
		job.next = end
		job.modstamp = e.now()
		if job.next == len(job.rows) && job.state == stateInProgress {
			e.touch(job, stateJobComplete)
		}
		e.mu.Unlock()
		done += end - from
		if budget > 0 {
			budget -= end - from
		}
	}
	return done
}

// startChunk begins the job's next internal batch: up to 10,000 rows, fewer
// when the daily record allocation has less left. A job whose allocation is
// used up is Failed and its other rows stay unprocessed. The caller holds mu.
func (e *bulkEngine) startChunk(job *bulkJob) bool {
	u := e.used()
	left := e.opts.RecordsPerDay - u.records
	switch {
	case left <= 0:
		job.errMessage = quotaMessage("records processed by Bulk API", e.opts.RecordsPerDay)
	case u.batches >= e.opts.BatchesPerDay:
		job.errMessage = quotaMessage("Bulk API batches", e.opts.BatchesPerDay)
	default:
		size := min(bulkChunk, len(job.rows)-job.next, left)
		job.chunkBegin, job.chunkEnd = job.next, job.next+size
		e.usage = append(e.usage, bulkUsage{at: e.now(), records: size, batches: 1})
		return true
	}
	e.touch(job, stateFailed)
	return false
}

// rowWriter writes rows of one internal batch through the store.
type rowWriter struct {
	plan               *ingestPlan
	rows               [][]string
	batchFrom, batchTo int // the internal batch, for duplicate external ids

	st      *Store
	extKeys map[any][]string            // upsert: external id key -> live record ids
	dupKeys map[any]bool                // upsert: keys used by several rows of the batch
	parents map[string]map[any][]string // "Object.Field" -> key -> live record ids
}

// write attempts rows[from:to] under the store's write lock.
func (w *rowWriter) write(st *Store, from, to int) []bulkOutcome {
	st.mu.Lock()
	defer st.mu.Unlock()
	w.st = st
	if w.plan.op == "upsert" {
		w.extKeys = st.keyIndex(w.plan.object, w.plan.extField)
		w.dupKeys = map[any]bool{}
		seen := map[any]bool{}
		for _, row := range w.rows[w.batchFrom:w.batchTo] {
			if k, err := externalValue(w.plan.extField, row[w.plan.extCol]); err == nil && row[w.plan.extCol] != "" {
				k = indexKey(k)
				w.dupKeys[k] = seen[k]
				seen[k] = true
			}
		}
		for k := range w.dupKeys {
			if !w.dupKeys[k] {
				delete(w.dupKeys, k)
			}
		}
	}
	out := make([]bulkOutcome, 0, to-from)
	for i := from; i < to; i++ {
		o := w.row(w.rows[i])
		o.row = i
		out = append(out, o)
	}
	return out
}

// keyIndex maps the values of a field to the live records holding them. The
// caller holds the lock.
func (s *Store) keyIndex(o *Object, f *Field) map[any][]string {
	idx := map[any][]string{}
	for _, r := range s.order[o.Name] {
		if r.fields["IsDeleted"] == true || r.fields[f.Name] == nil {
			continue
		}
		k := indexKey(r.fields[f.Name])
		idx[k] = append(idx[k], r.fields["Id"].(string))
	}
	return idx
}

// indexKey folds a value as external ids compare: strings ignore case.
func indexKey(v any) any {
	if s, ok := v.(string); ok {
		return strings.ToLower(s)
	}
	return v
}

// row attempts one row.
func (w *rowWriter) row(row []string) bulkOutcome {
	p := w.plan
	o := p.object
	var target string
	if p.idCol >= 0 && p.op != "insert" && p.op != "upsert" {
		raw := row[p.idCol]
		if raw == "" {
			return failedRow("", fail(http.StatusBadRequest, "MISSING_ARGUMENT", "Id not specified in an %s call", p.op))
		}
		target = sfid.To18(raw)
		if target == "" || !strings.HasPrefix(target, o.KeyPrefix) {
			return failedRow("", failFields(http.StatusBadRequest, "MALFORMED_ID", []string{"Id"}, "%s ID: id value of incorrect type: %s", o.Label, raw))
		}
	}
	switch p.op {
	case "delete":
		if err := w.st.deleteChecked(o.Name, target); err != nil {
			return failedRow(target, crossReference(err))
		}
		return bulkOutcome{id: target}
	case "hardDelete":
		r, ok := w.st.rows[target]
		switch {
		case !ok || r.object != o:
			return failedRow(target, crossReference(errNotFound))
		case o.ReadOnly:
			return failedRow(target, fail(http.StatusBadRequest, "INVALID_TYPE_FOR_OPERATION", "entity type %s does not support delete", o.Name))
		}
		w.st.unlink(target)
		return bulkOutcome{id: target}
	}
	fields, err := w.fields(row)
	if err != nil {
		return failedRow(target, err)
	}
	switch p.op {
	case "insert":
		id, err := w.st.insertChecked(o.Name, fields)
		if err != nil {
			return failedRow("", err)
		}
		return bulkOutcome{id: id, created: true}
	case "update":
		if err := w.st.updateChecked(o.Name, target, fields); err != nil {
			return failedRow(target, crossReference(err))
		}
		return bulkOutcome{id: target}
	}
	return w.upsert(row, fields)
}

// upsert matches a row by the job's external id: no match inserts, one match
// updates, more fail.
func (w *rowWriter) upsert(row []string, fields map[string]any) bulkOutcome {
	o, f := w.plan.object, w.plan.extField
	raw := row[w.plan.extCol]
	if raw == "" {
		return failedRow("", failFields(http.StatusBadRequest, "MISSING_ARGUMENT", []string{f.Name}, "%s not specified", f.Name))
	}
	key, err := externalValue(f, raw)
	if err != nil {
		return failedRow("", err)
	}
	k := indexKey(key)
	if w.dupKeys[k] {
		return failedRow("", failFields(http.StatusBadRequest, "DUPLICATE_VALUE", []string{f.Name}, "Duplicate external id specified: %s", raw))
	}
	delete(fields, f.Name)
	matches := w.extKeys[k]
	switch {
	case len(matches) > 1:
		return failedRow("", failFields(http.StatusBadRequest, "DUPLICATE_EXTERNAL_ID", []string{f.Name}, "%s: more than one record found for external id field: [%s]", f.Label, strings.Join(matches, ", ")))
	case len(matches) == 1:
		clean, err := w.st.validate(o, fields, false, matches[0])
		if err != nil {
			return failedRow(matches[0], err)
		}
		w.st.apply(w.st.rows[matches[0]], clean)
		return bulkOutcome{id: matches[0]}
	case f.Name == "Id":
		return failedRow("", crossReference(errNotFound))
	}
	fields[f.Name] = key
	clean, err := w.st.validate(o, fields, true, "")
	if err != nil {
		return failedRow("", err)
	}
	id := w.st.insertLocked(o, clean)
	w.extKeys[k] = []string{id}
	return bulkOutcome{id: id, created: true}
}

// fields converts a row's values to the field map a REST body would carry.
func (w *rowWriter) fields(row []string) (map[string]any, error) {
	out := make(map[string]any, len(row))
	for i, col := range w.plan.cols {
		v := row[i]
		if col.skip || v == "" {
			continue // an empty value leaves the field alone
		}
		if v == "#N/A" {
			out[col.field.Name] = nil
			continue
		}
		if col.parent != nil {
			id, err := w.parentID(col, v)
			if err != nil {
				return nil, err
			}
			out[col.field.Name] = id
			continue
		}
		cv, err := csvValue(col.field, v)
		if err != nil {
			return nil, err
		}
		out[col.field.Name] = cv
	}
	return out, nil
}

// parentID resolves a relationship column's value to the parent's id.
func (w *rowWriter) parentID(col ingestColumn, v string) (string, error) {
	key, err := externalValue(col.parentField, v)
	if err != nil {
		return "", err
	}
	name := col.parent.Name + "." + col.parentField.Name
	if w.parents == nil {
		w.parents = map[string]map[any][]string{}
	}
	idx, ok := w.parents[name]
	if !ok {
		idx = w.st.keyIndex(col.parent, col.parentField)
		w.parents[name] = idx
	}
	switch ids := idx[indexKey(key)]; len(ids) {
	case 0:
		return "", failFields(http.StatusBadRequest, "INVALID_FIELD", nil, "Foreign key external ID: %s not found for field %s in entity %s", v, col.parentField.Name, col.parent.Name)
	case 1:
		return ids[0], nil
	default:
		return "", failFields(http.StatusBadRequest, "DUPLICATE_EXTERNAL_ID", []string{col.field.Name}, "%s: more than one record found for external id field: [%s]", col.parentField.Label, strings.Join(ids, ", "))
	}
}

// csvNumber is the form of a CSV number: digits with an optional sign, point and
// exponent.
var csvNumber = regexp.MustCompile(`^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$`)

// csvValue converts a CSV value to the JSON value REST would receive for the
// field's type; text is left to the store's checks.
func csvValue(f *Field, v string) (any, error) {
	wrongType := func() error {
		return failFields(http.StatusBadRequest, "INVALID_TYPE_ON_FIELD_IN_RECORD", []string{f.Name}, "%s: value not of required type: %s", f.Label, v)
	}
	switch f.Type {
	case soql.TypeBoolean:
		switch strings.ToLower(v) {
		case "true", "1":
			return true, nil
		case "false", "0":
			return false, nil
		}
		return nil, wrongType()
	case soql.TypeInt, soql.TypeDouble, soql.TypeCurrency, soql.TypePercent:
		if !csvNumber.MatchString(v) {
			return nil, wrongType()
		}
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, wrongType()
		}
		return n, nil
	case soql.TypeDate, soql.TypeDateTime:
		if _, ok := parseTime(v, f.Type == soql.TypeDate); !ok {
			return nil, wrongType()
		}
	}
	return v, nil
}

// failedRow is the outcome of a row the store refused.
func failedRow(id string, err error) bulkOutcome {
	f, ok := err.(*Failure)
	if !ok || len(f.Errors) == 0 {
		f = internalFailure(err)
	}
	e := f.Errors[0]
	msg := e.ErrorCode + ":" + e.Message + ":" + strings.Join(e.Fields, ",")
	if len(e.Fields) > 0 {
		msg += " "
	}
	return bulkOutcome{id: id, err: msg + "--"}
}
