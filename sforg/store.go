package sforg

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sfconnect/connector/sforg/internal/ids"
	"github.com/sfconnect/connector/sforg/soql"
	"github.com/sfconnect/connector/shared/sfid"
)

// APIError is one element of Salesforce's REST error array.
type APIError struct {
	Message   string   `json:"message"`
	ErrorCode string   `json:"errorCode"`
	Fields    []string `json:"fields,omitempty"`
}

// MarshalJSON keeps "fields" when it is an empty list (Salesforce sends
// "fields":[] on DML errors) and drops it when nil.
func (e APIError) MarshalJSON() ([]byte, error) {
	if e.Fields == nil {
		return json.Marshal(struct {
			Message   string `json:"message"`
			ErrorCode string `json:"errorCode"`
		}{e.Message, e.ErrorCode})
	}
	return json.Marshal(struct {
		Message   string   `json:"message"`
		ErrorCode string   `json:"errorCode"`
		Fields    []string `json:"fields"`
	}{e.Message, e.ErrorCode, e.Fields})
}

// Failure is a Salesforce error answer: an HTTP status and the error array.
type Failure struct {
	Status int
	Errors []APIError
}

func (f *Failure) Error() string {
	if len(f.Errors) == 0 {
		return fmt.Sprintf("status %d", f.Status)
	}
	return f.Errors[0].ErrorCode + ": " + f.Errors[0].Message
}

func fail(status int, code, format string, args ...any) *Failure {
	return &Failure{Status: status, Errors: []APIError{{Message: fmt.Sprintf(format, args...), ErrorCode: code}}}
}

func failFields(status int, code string, fields []string, format string, args ...any) *Failure {
	if fields == nil {
		fields = []string{}
	}
	return &Failure{Status: status, Errors: []APIError{{Message: fmt.Sprintf(format, args...), ErrorCode: code, Fields: fields}}}
}

// row is one stored record. Field values are string, float64, bool or nil.
type row struct {
	object *Object
	fields map[string]any // canonical field name -> value; always has Id and IsDeleted
}

// Store is the org's data: object definitions and records, in memory, safe for
// concurrent use.
type Store struct {
	mu      sync.RWMutex
	now     func() time.Time
	pod     string
	objects map[string]*Object // lower-case name -> object
	rows    map[string]*row    // 18-char id -> row
	order   map[string][]*row  // canonical object name -> rows in insertion order
	seq     uint64
	autoNum map[string]uint64 // "Object.Field" -> last auto number issued
	userID  string            // the integration user: owner and creator of new records
	// journals record how to undo each change while an all-or-none request
	// runs (txn.go); empty otherwise.
	journals []*[]func()
}

// NewStore returns an empty store with no objects defined.
func NewStore(now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{now: now, pod: "5g0", objects: map[string]*Object{}, rows: map[string]*row{}, order: map[string][]*row{}, autoNum: map[string]uint64{}}
}

// Define adds an object definition. It fails if the name is taken.
func (s *Store) Define(o *Object) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(o.Name)
	if _, ok := s.objects[key]; ok {
		return fmt.Errorf("object %s already exists", o.Name)
	}
	o.index()
	o.changed = s.now()
	s.objects[key] = o
	return nil
}

// Object finds an object case-insensitively.
func (s *Store) Object(name string) (*Object, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	o, ok := s.objects[strings.ToLower(name)]
	return o, ok
}

// Objects lists the defined objects sorted by name.
func (s *Store) Objects() []*Object {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*Object, 0, len(s.objects))
	for _, o := range s.objects {
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// SetUser names the user that owns and creates new records.
func (s *Store) SetUser(id string) {
	s.mu.Lock()
	s.userID = id
	s.mu.Unlock()
}

func (s *Store) newID(prefix string) string {
	s.seq++
	return ids.New(prefix, s.pod, s.seq)
}

func (s *Store) timestamp() string {
	return s.now().UTC().Format("2006-01-02T15:04:05.000+0000")
}

// Insert validates fields as a REST create would and stores a new record.
func (s *Store) Insert(object string, fields map[string]any) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.insertChecked(object, fields)
}

// insertChecked is Insert for a caller holding the write lock.
func (s *Store) insertChecked(object string, fields map[string]any) (string, error) {
	o, ok := s.objects[strings.ToLower(object)]
	if !ok {
		return "", fail(http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
	}
	clean, err := s.validate(o, fields, true, "")
	if err != nil {
		return "", err
	}
	return s.insertLocked(o, clean), nil
}

// InsertSystem stores a record the platform itself creates (approval rows and
// such) without the checks a REST create makes.
func (s *Store) InsertSystem(object string, fields map[string]any) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.objects[strings.ToLower(object)]
	if !ok {
		return "", fmt.Errorf("no object %s", object)
	}
	clean := make(map[string]any, len(fields))
	for k, v := range fields {
		f, ok := o.Field(k)
		if !ok {
			return "", fmt.Errorf("no field %s on %s", k, object)
		}
		clean[f.Name] = v
	}
	return s.insertLocked(o, clean), nil
}

// formatAutoNumber renders n in a display format such as "{00000000}" or
// "INV-{0000}": the braces hold as many zeros as the minimum width.
func formatAutoNumber(format string, n uint64) string {
	open := strings.Index(format, "{")
	end := strings.Index(format, "}")
	if open < 0 || end < open {
		return format + strconv.FormatUint(n, 10)
	}
	width := end - open - 1
	return format[:open] + fmt.Sprintf("%0*d", width, n) + format[end+1:]
}

func (s *Store) insertLocked(o *Object, clean map[string]any) string {
	return s.insertRow(o, s.newID(o.KeyPrefix), clean)
}

// insertRow stores a new record under id; the caller holds the write lock.
func (s *Store) insertRow(o *Object, id string, clean map[string]any) string {
	ts := s.timestamp()
	r := &row{object: o, fields: make(map[string]any, len(o.Fields))}
	for _, f := range o.Fields {
		if f.Default != nil {
			r.fields[f.Name] = f.Default
		} else {
			r.fields[f.Name] = nil
		}
	}
	for k, v := range clean {
		r.fields[k] = v
	}
	r.fields["Id"] = id
	r.fields["IsDeleted"] = false
	for name, v := range map[string]any{"CreatedDate": ts, "LastModifiedDate": ts, "SystemModstamp": ts} {
		if _, ok := o.Field(name); ok {
			r.fields[name] = v
		}
	}
	for _, name := range []string{"CreatedById", "LastModifiedById", "OwnerId"} {
		if _, ok := o.Field(name); ok && r.fields[name] == nil && s.userID != "" {
			r.fields[name] = s.userID
		}
	}
	for _, f := range o.Fields {
		if f.AutoNumber != "" {
			key := o.Name + "." + f.Name
			s.autoNum[key]++
			r.fields[f.Name] = formatAutoNumber(f.AutoNumber, s.autoNum[key])
		}
	}
	if o.derive != nil {
		o.derive(r.fields)
	}
	s.derived(o, r.fields, clean)
	s.rows[id] = r
	s.order[o.Name] = append(s.order[o.Name], r)
	s.noteInsert(id)
	return id
}

// lookup resolves an object name and a 15- or 18-character id in a path to
// the object and the live row, or the error Salesforce answers.
func (s *Store) lookup(object, id string) (*Object, *row, error) {
	o, ok := s.objects[strings.ToLower(object)]
	if !ok {
		return nil, nil, fail(http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
	}
	id18 := sfid.To18(id)
	if id18 == "" {
		// Salesforce reads a path segment that is not an id as the name of an
		// external id field (/sobjects/{Name}/{Field}/{Value} without a value).
		return nil, nil, fail(http.StatusNotFound, "NOT_FOUND", "Provided external ID field does not exist or is not accessible: %s", id)
	}
	r, ok := s.rows[id18]
	if !ok || r.object != o {
		return nil, nil, errNotFound
	}
	if r.fields["IsDeleted"] == true {
		return nil, nil, failFields(http.StatusNotFound, "ENTITY_IS_DELETED", nil, "entity is deleted")
	}
	return o, r, nil
}

// Get returns a copy of a live record's fields, or only the named ones.
func (s *Store) Get(object, id string, only []string) (*Object, map[string]any, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	o, r, err := s.lookup(object, id)
	if err != nil {
		return nil, nil, err
	}
	out := map[string]any{}
	fields := s.view(r) // pending.go: with read-time fields
	if len(only) == 0 {
		for k, v := range fields {
			out[k] = v
		}
		return o, out, nil
	}
	for _, name := range only {
		f, ok := o.Field(name)
		if !ok {
			return nil, nil, fail(http.StatusBadRequest, "INVALID_FIELD", "No such column '%s' on entity '%s'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.", name, o.Name)
		}
		out[f.Name] = fields[f.Name]
	}
	return o, out, nil
}

// Update validates and applies a REST PATCH.
func (s *Store) Update(object, id string, fields map[string]any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.updateChecked(object, id, fields)
}

// updateChecked is Update for a caller holding the write lock.
func (s *Store) updateChecked(object, id string, fields map[string]any) error {
	o, r, err := s.lookup(object, id)
	if err != nil {
		return err
	}
	clean, err := s.validate(o, fields, false, r.fields["Id"].(string))
	if err != nil {
		return err
	}
	s.apply(r, clean)
	return nil
}

// apply writes validated values, recomputes derived fields and stamps the row.
func (s *Store) apply(r *row, clean map[string]any) {
	s.noteChange(r)
	for k, v := range clean {
		r.fields[k] = v
	}
	s.touch(r)
	if _, ok := clean["LastModifiedById"]; !ok && s.userID != "" {
		if _, ok := r.object.Field("LastModifiedById"); ok {
			r.fields["LastModifiedById"] = s.userID
		}
	}
	if r.object.derive != nil {
		r.object.derive(r.fields)
	}
	s.derived(r.object, r.fields, clean)
}

// UpdateSystem changes fields of any record without REST checks.
func (s *Store) UpdateSystem(id string, fields map[string]any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.rows[sfid.To18(id)]
	if !ok {
		return fmt.Errorf("no record %s", id)
	}
	clean := make(map[string]any, len(fields))
	for k, v := range fields {
		f, ok := r.object.Field(k)
		if !ok {
			return fmt.Errorf("no field %s on %s", k, r.object.Name)
		}
		clean[f.Name] = v
	}
	s.apply(r, clean)
	return nil
}

func (s *Store) touch(r *row) {
	ts := s.timestamp()
	for _, name := range []string{"LastModifiedDate", "SystemModstamp"} {
		if _, ok := r.object.Field(name); ok {
			r.fields[name] = ts
		}
	}
}

// Delete moves a record to the recycle bin: queryAll still sees it.
func (s *Store) Delete(object, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.deleteChecked(object, id)
}

// deleteChecked is Delete for a caller holding the write lock.
func (s *Store) deleteChecked(object, id string) error {
	o, r, err := s.lookup(object, id)
	if err != nil {
		return err
	}
	if o.ReadOnly {
		return fail(http.StatusBadRequest, "INVALID_TYPE_FOR_OPERATION", "entity type %s does not support delete", o.Name)
	}
	s.noteChange(r)
	r.fields["IsDeleted"] = true
	s.touch(r)
	return nil
}

// FindBy returns the ids of live records of object whose field equals value
// (strings compared case-insensitively, as external ids are).
func (s *Store) FindBy(object, field string, value any) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	o, ok := s.objects[strings.ToLower(object)]
	if !ok {
		return nil
	}
	f, ok := o.Field(field)
	if !ok {
		return nil
	}
	var ids []string
	for _, r := range s.order[o.Name] {
		if r.fields["IsDeleted"] == true {
			continue
		}
		if equalValue(r.fields[f.Name], value) {
			ids = append(ids, r.fields["Id"].(string))
		}
	}
	return ids
}

func equalValue(a, b any) bool {
	as, aok := a.(string)
	bs, bok := b.(string)
	if aok && bok {
		return strings.EqualFold(as, bs)
	}
	return a == b
}

// Query runs SOQL over the store under its read lock.
func (s *Store) Query(q string, all bool) (*soql.Result, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return soql.Run(source{s}, q, all)
}

// Count returns how many live records an object has.
func (s *Store) Count(object string) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 0
	if o, ok := s.objects[strings.ToLower(object)]; ok {
		for _, r := range s.order[o.Name] {
			if r.fields["IsDeleted"] != true {
				n++
			}
		}
	}
	return n
}

// source adapts the store to soql.Source; the caller holds the read lock.
type source struct{ s *Store }

func (src source) Object(name string) (soql.ObjectInfo, bool) {
	o, ok := src.s.objects[strings.ToLower(name)]
	if !ok {
		return soql.ObjectInfo{}, false
	}
	return o.info(), true
}

func (src source) Rows(object string, all bool) []map[string]any {
	o, ok := src.s.objects[strings.ToLower(object)]
	if !ok {
		return nil
	}
	if o.view != nil {
		return o.view(src.s, all)
	}
	rows := src.s.order[o.Name]
	out := make([]map[string]any, 0, len(rows))
	for _, r := range rows {
		if all || r.fields["IsDeleted"] != true {
			out = append(out, src.s.view(r))
		}
	}
	return out
}

func (src source) Row(id string) (map[string]any, bool) {
	r, ok := src.s.rows[sfid.To18(id)]
	if !ok || r.fields["IsDeleted"] == true {
		return nil, false
	}
	return src.s.view(r), true
}

// reset drops every object and record; ids start over.
func (s *Store) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.objects = map[string]*Object{}
	s.rows = map[string]*row{}
	s.order = map[string][]*row{}
	s.seq = 0
	s.autoNum = map[string]uint64{}
	s.userID = ""
}

// UserID returns the integration user's id.
func (s *Store) UserID() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.userID
}

// AddField adds a field to a defined object (a CustomField deployed after its
// object). Existing records get null (or the field's default). The object's
// definition is replaced: look it up again with Object afterwards.
func (s *Store) AddField(object string, f *Field) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.objects[strings.ToLower(object)]
	if !ok {
		return fmt.Errorf("no object %s", object)
	}
	if _, dup := o.Field(f.Name); dup {
		return fmt.Errorf("field %s already exists on %s", f.Name, o.Name)
	}
	// Copy on write: handlers read an *Object without the store's lock, so a
	// defined object never changes; the store swaps in a new definition.
	n := *o
	n.Fields = append(slices.Clone(o.Fields), f)
	n.index()
	n.changed = s.now()
	s.objects[strings.ToLower(o.Name)] = &n
	for _, r := range s.order[o.Name] {
		r.object = &n
		r.fields[f.Name] = f.Default
	}
	return nil
}

// Upsert inserts or updates the record of object whose external id field
// equals value, atomically. It returns the record's id and whether it was
// created; several matches fail with status 300 and the matching ids.
func (s *Store) Upsert(object, field, value string, fields map[string]any, updateOnly bool) (id string, created bool, matches []string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.upsertLocked(object, field, value, fields, updateOnly)
}

// upsertLocked is Upsert for a caller holding the write lock.
func (s *Store) upsertLocked(object, field, value string, fields map[string]any, updateOnly bool) (id string, created bool, matches []string, err error) {
	o, ok := s.objects[strings.ToLower(object)]
	if !ok {
		return "", false, nil, errNotFound
	}
	f, ok := o.Field(field)
	if !ok || !(f.ExternalID || f.Name == "Id") {
		return "", false, nil, fail(http.StatusNotFound, "NOT_FOUND", "Provided external ID field does not exist or is not accessible: %s", field)
	}
	key, err := externalValue(f, value)
	if err != nil {
		return "", false, nil, err
	}
	for _, r := range s.order[o.Name] {
		if r.fields["IsDeleted"] != true && equalValue(r.fields[f.Name], key) {
			matches = append(matches, r.fields["Id"].(string))
		}
	}
	body := make(map[string]any, len(fields))
	for k, v := range fields {
		if !strings.EqualFold(k, f.Name) {
			body[k] = v
		}
	}
	switch {
	case len(matches) > 1:
		return "", false, matches, &Failure{Status: http.StatusMultipleChoices}
	case len(matches) == 1:
		r := s.rows[matches[0]]
		clean, err := s.validate(o, body, false, matches[0])
		if err != nil {
			return "", false, nil, err
		}
		s.apply(r, clean)
		return matches[0], false, nil, nil
	case updateOnly:
		return "", false, nil, fail(http.StatusNotFound, "NOT_FOUND", "Provided external ID field does not exist or is not accessible: %s", value)
	case f.Name == "Id":
		return "", false, nil, errNotFound
	}
	body[f.Name] = key // the path's value is the new record's external id
	clean, err := s.validate(o, body, true, "")
	if err != nil {
		return "", false, nil, err
	}
	return s.insertLocked(o, clean), true, nil, nil
}

// FindByExternal returns the ids of live records whose external id field
// equals the path value, or NOT_FOUND when the field is not an external id.
func (s *Store) FindByExternal(object, field, value string) ([]string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	o, ok := s.objects[strings.ToLower(object)]
	if !ok {
		return nil, errNotFound
	}
	f, ok := o.Field(field)
	if !ok || !(f.ExternalID || f.Name == "Id") {
		return nil, fail(http.StatusNotFound, "NOT_FOUND", "Provided external ID field does not exist or is not accessible: %s", field)
	}
	key, err := externalValue(f, value)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, r := range s.order[o.Name] {
		if r.fields["IsDeleted"] != true && equalValue(r.fields[f.Name], key) {
			ids = append(ids, r.fields["Id"].(string))
		}
	}
	return ids, nil
}

// externalValue converts an external id taken from a URL path to the field's
// stored type.
func externalValue(f *Field, value string) (any, error) {
	switch f.Type {
	case soql.TypeInt, soql.TypeDouble, soql.TypeCurrency, soql.TypePercent:
		n, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return nil, fail(http.StatusBadRequest, "INVALID_FIELD", "%s: value not of required type: %s", f.Label, value)
		}
		return n, nil
	case soql.TypeID, soql.TypeReference:
		id := sfid.To18(value)
		if id == "" {
			return nil, failFields(http.StatusBadRequest, "MALFORMED_ID", []string{f.Name}, "%s: id value of incorrect type: %s", f.Label, value)
		}
		return id, nil
	}
	return value, nil
}

// Now pins relative date literals (TODAY, LAST_N_DAYS:n) to the org's clock.
func (src source) Now() time.Time { return src.s.now() }

// ChildRelationships lists the reference fields of every object that point at
// object and name a child relationship, such as Contact.AccountId ("Contacts").
func (src source) ChildRelationships(object string) []soql.ChildRelationship {
	parent, ok := src.s.objects[strings.ToLower(object)]
	if !ok {
		return nil
	}
	var out []soql.ChildRelationship
	for _, o := range src.s.objects {
		for _, f := range o.Fields {
			if f.ReferenceTo == parent.Name && f.ChildRelationship != "" {
				out = append(out, soql.ChildRelationship{Name: f.ChildRelationship, Object: o.Name, Field: f.Name})
			}
		}
	}
	return append(out, activityRelationships(parent.Name)...)
}
