package sforg

// The UI API's Record representation, built from the store under its lock.
//
// A field is {"displayValue","value"}: value is the raw value (dates
// "2020-01-01", date-times "2020-04-23T17:17:11.000Z", numbers as JSON
// numbers) and displayValue is null except where Salesforce formats or
// localises: a date ("1/1/2020") or date-time ("4/23/2020, 10:17 AM", in the
// context user's time zone) in the en_US short format, a currency
// ("$1,234.50", with the field's scale), a picklist (its label, which is its
// value in this org) and a relationship (the parent's name). A reference field
// (AccountId) is plain; its relationship (Account) carries the parent as a
// nested Record with Id and its name field. Field maps are written in
// alphabetical order, as Salesforce's are.
//
// Record properties by the version that added them: apiName,
// childRelationships, fields, id and recordTypeInfo from 41.0, eTag from 42.0,
// lastModifiedById, lastModifiedDate and systemModstamp from 44.0,
// recordTypeId and weakEtag from 48.0. eTag is a hash of the record's content
// (32 hexadecimal digits), weakEtag the systemModstamp in epoch milliseconds.
//
// [UNCONFIRMED] With no page layouts in this org, a save or a ?layoutTypes
// read carries every field except Id, IsDeleted and SystemModstamp (what a
// captured create answer of a full layout leaves out) and every relationship;
// recordTypeId is the master record type 012000000000000AAA for every object
// but User and the objects only the platform writes (null); the date-time
// display format with its comma follows captured answers (the documentation's
// example has none); negative currencies display as "-$5.00".

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // users' time zones for display values, on any machine

	"github.com/sfconnect/connector/sforg/soql"
)

// uiTimeLayout is how the UI API writes date-times.
const uiTimeLayout = "2006-01-02T15:04:05.000Z"

// uiView is what an answer depends on besides the record: the API version and
// the context user (whose time zone formats date-times).
type uiView struct {
	version float64
	user    string
}

func (s *Server) uiView(c *call) uiView {
	v, _ := strconv.ParseFloat(c.version, 64)
	return uiView{version: v, user: c.userID}
}

// uiRequest is which fields a GET asks for.
type uiRequest struct {
	all      bool     // ?layoutTypes: every field
	fields   []string // ?fields: each must exist
	optional []string // ?optionalFields: those that do not exist are left out
}

// uiSelection is which fields of a record an answer carries.
type uiSelection struct {
	all    bool                    // every field and relationship (a layout or a save)
	name   bool                    // and the object's name field (a nested parent record)
	fields map[string]bool         // canonical field names
	rels   map[string]*uiSelection // relationship name -> the parent's fields
}

func newSelection() *uiSelection {
	return &uiSelection{fields: map[string]bool{}, rels: map[string]*uiSelection{}}
}

// objectOf returns the object of a live or deleted record, by 18-character id.
func (s *Store) objectOf(id string) (*Object, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, ok := s.rows[id]
	if !ok {
		return nil, false
	}
	return r.object, true
}

// uiWrite creates (id "") or updates a record as user, with the checks of a
// REST write, and returns the saved record as the UI API answers a save. The
// write and the read of the answer are one step under the write lock.
func (s *Store) uiWrite(user string, o *Object, id string, fields map[string]any, v uiView) (map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id == "" {
		newID, err := s.insertChecked(o.Name, fields)
		if err != nil {
			return nil, err
		}
		id = newID
		s.stampUser(s.rows[id], user, true, bodyNames(fields, "OwnerId"))
	} else {
		if err := s.updateChecked(o.Name, id, fields); err != nil {
			return nil, err
		}
		s.stampUser(s.rows[id], user, false, true)
	}
	return s.uiRecord(s.rows[id], &uiSelection{all: true}, s.location(v.user), v.version), nil
}

// stampUser records the user of a write in the audit fields (and as owner of
// a new record unless the body named one). The store stamps the integration
// user; another login user (users.go) writes as itself.
func (s *Store) stampUser(r *row, user string, created, ownerGiven bool) {
	if user == "" || user == s.userID {
		return
	}
	names := []string{"LastModifiedById"}
	if created {
		names = append(names, "CreatedById")
		if !ownerGiven {
			names = append(names, "OwnerId")
		}
	}
	for _, name := range names {
		if _, ok := r.object.Field(name); ok {
			r.fields[name] = user
		}
	}
}

// bodyNames reports whether a request body sets a field, whatever its case.
func bodyNames(fields map[string]any, name string) bool {
	for k := range fields {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

// uiRead returns a live record with the fields a GET asks for.
func (s *Store) uiRead(o *Object, id string, req uiRequest, v uiView) (map[string]any, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, r, err := s.lookup(o.Name, id)
	if err != nil {
		return nil, err
	}
	sel := newSelection()
	sel.all = req.all
	for _, path := range req.fields {
		if !s.selectPath(o, sel, path) {
			return nil, s.invalidFields(o, id, req.fields)
		}
	}
	for _, path := range req.optional {
		s.selectPath(o, sel, path)
	}
	return s.uiRecord(r, sel, s.location(v.user), v.version), nil
}

// selectPath adds "Object.Field" or "Object.Relationship[.Relationship].Field"
// to sel, and reports false (adding nothing) when the path does not resolve:
// another object, an unknown field or relationship, or a polymorphic one
// (which the UI API does not span).
func (s *Store) selectPath(o *Object, sel *uiSelection, path string) bool {
	segs := strings.Split(path, ".")
	if len(segs) < 2 || !strings.EqualFold(segs[0], o.Name) {
		return false
	}
	var chain []*Field
	cur := o
	for i, seg := range segs[1:] {
		if i == len(segs)-2 {
			f, ok := cur.Field(seg)
			if !ok {
				return false
			}
			chain = append(chain, f)
			break
		}
		ref := relationship(cur, seg)
		if ref == nil || ref.ReferenceTo == "" {
			return false
		}
		parent, ok := s.objects[strings.ToLower(ref.ReferenceTo)]
		if !ok {
			return false
		}
		chain = append(chain, ref)
		cur = parent
	}
	for _, f := range chain[:len(chain)-1] {
		sel.fields[f.Name] = true
		next := sel.rels[f.RelationshipName]
		if next == nil {
			next = newSelection()
			next.fields["Id"] = true
			next.name = sel.all // a layout's parents carry their names
			sel.rels[f.RelationshipName] = next
		}
		sel = next
	}
	sel.fields[chain[len(chain)-1].Name] = true
	return true
}

// relationship finds the reference field of a relationship name (Owner ->
// OwnerId), case-insensitively.
func relationship(o *Object, name string) *Field {
	for _, f := range o.Fields {
		if f.Type == soql.TypeReference && f.RelationshipName != "" && strings.EqualFold(f.RelationshipName, name) {
			return f
		}
	}
	return nil
}

// invalidFields words a GET whose ?fields do not all exist as the UI API
// does: 400 with the SOQL error of the query it runs, prefixed by its code.
func (s *Store) invalidFields(o *Object, id string, paths []string) error {
	cols := make([]string, len(paths))
	for i, p := range paths {
		first, rest, ok := strings.Cut(p, ".")
		if ok && strings.EqualFold(first, o.Name) {
			p = rest
		}
		cols[i] = p
	}
	q := "SELECT " + strings.Join(cols, ", ") + " FROM " + o.Name + " WHERE Id = '" + id + "'"
	_, err := soql.Run(source{s}, q, false)
	var qe *soql.Error
	if errors.As(err, &qe) {
		return fail(http.StatusBadRequest, qe.Code, "%s: %s", qe.Code, qe.Message)
	}
	return fail(http.StatusBadRequest, "INVALID_FIELD", "INVALID_FIELD: No such column '%s' on entity '%s'.", strings.Join(paths, ", "), o.Name)
}

// uiRecord builds the Record representation of a row. The caller holds the
// store's lock.
func (s *Store) uiRecord(r *row, sel *uiSelection, loc *time.Location, version float64) map[string]any {
	o := r.object
	fields := map[string]any{}
	for _, f := range o.Fields {
		if sel.all && f.Name != "Id" && f.Name != "IsDeleted" && f.Name != "SystemModstamp" || sel.fields[f.Name] || sel.name && f.NameField {
			fields[f.Name] = uiField(f, r.fields[f.Name], loc)
		}
		if f.Type != soql.TypeReference || f.RelationshipName == "" {
			continue
		}
		sub := sel.rels[f.RelationshipName]
		if sub == nil && sel.all {
			sub = &uiSelection{name: true, fields: map[string]bool{"Id": true}}
		}
		if sub == nil {
			continue
		}
		entry := map[string]any{"displayValue": nil, "value": nil}
		if id, _ := r.fields[f.Name].(string); id != "" {
			if parent, ok := s.rows[id]; ok {
				entry["displayValue"] = nameOf(parent)
				entry["value"] = s.uiRecord(parent, sub, loc, version)
			}
		}
		fields[f.RelationshipName] = entry
	}
	rec := map[string]any{
		"apiName":            o.Name,
		"childRelationships": map[string]any{},
		"fields":             fields,
		"id":                 r.fields["Id"],
		"recordTypeInfo":     nil,
	}
	if version >= 44 {
		rec["lastModifiedById"] = r.fields["LastModifiedById"]
		rec["lastModifiedDate"] = uiTimestamp(r.fields["LastModifiedDate"])
		rec["systemModstamp"] = uiTimestamp(r.fields["SystemModstamp"])
	}
	if version >= 48 {
		rec["recordTypeId"] = nil
		if o.Name != "User" && !o.ReadOnly {
			rec["recordTypeId"] = masterRecordType
		}
		var weak int64
		if t, ok := storeTime(r.fields["SystemModstamp"]); ok {
			weak = t.UnixMilli()
		}
		rec["weakEtag"] = weak
	}
	if version >= 42 {
		b, _ := json.Marshal(rec)
		sum := md5.Sum(b)
		rec["eTag"] = hex.EncodeToString(sum[:])
	}
	return rec
}

// nameOf returns the value of a record's name field, or nil.
func nameOf(r *row) any {
	for _, f := range r.object.Fields {
		if f.NameField {
			return r.fields[f.Name]
		}
	}
	return nil
}

// uiField is the Field Value of one stored value.
func uiField(f *Field, v any, loc *time.Location) map[string]any {
	out := map[string]any{"displayValue": nil, "value": v}
	if v == nil {
		return out
	}
	switch f.Type {
	case soql.TypeDate:
		if t, err := time.Parse("2006-01-02", v.(string)); err == nil {
			out["displayValue"] = t.Format("1/2/2006")
		}
	case soql.TypeDateTime:
		if t, ok := storeTime(v); ok {
			out["value"] = t.UTC().Format(uiTimeLayout)
			out["displayValue"] = t.In(loc).Format("1/2/2006, 3:04 PM")
		}
	case soql.TypeCurrency:
		if n, ok := v.(float64); ok {
			out["displayValue"] = usd(n, f.Scale)
		}
	case soql.TypePicklist:
		out["displayValue"] = v
	}
	return out
}

// storeTime reads a stored date-time ("2006-01-02T15:04:05.000+0000").
func storeTime(v any) (time.Time, bool) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse("2006-01-02T15:04:05.000-0700", s)
	return t, err == nil
}

// uiTimestamp writes a stored date-time as the UI API does, or nil.
func uiTimestamp(v any) any {
	if t, ok := storeTime(v); ok {
		return t.UTC().Format(uiTimeLayout)
	}
	return nil
}

// usd formats an amount in the en_US locale: "$1,234.50" with scale digits.
func usd(n float64, scale int) string {
	if math.IsInf(n, 0) || math.IsNaN(n) {
		return ""
	}
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	s := strconv.FormatFloat(n, 'f', max(scale, 0), 64)
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if frac != "" {
		b.WriteString("." + frac)
	}
	return sign + "$" + b.String()
}

// locations caches time zones by their Salesforce key (America/Los_Angeles).
var locations sync.Map

// location returns the time zone of a user, UTC when it has none. The caller
// holds the store's lock.
func (s *Store) location(user string) *time.Location {
	r, ok := s.rows[user]
	if !ok {
		return time.UTC
	}
	key, _ := r.fields["TimeZoneSidKey"].(string)
	if loc, ok := locations.Load(key); ok {
		return loc.(*time.Location)
	}
	loc, err := time.LoadLocation(key)
	if err != nil || key == "" {
		loc = time.UTC
	}
	locations.Store(key, loc)
	return loc
}
