package sforg

import (
	"strings"
	"time"

	"github.com/sfconnect/connector/sforg/soql"
)

// Field describes one field of an object, as describe would report it.
type Field struct {
	Name             string // canonical API name
	Label            string
	Type             string // soql.Type* constant
	Length           int    // for text types
	ReferenceTo      string // parent object for references
	RelationshipName string // e.g. "Account" for AccountId
	Required         bool   // createable, not nillable, no default: REQUIRED_FIELD_MISSING when absent on create
	ReadOnly         bool   // system field: not createable or updateable (Id, CreatedDate, IsDeleted, ...)
	Unique           bool   // DUPLICATE_VALUE on a second record with the same value
	ExternalID       bool   // usable for upsert
	Picklist         []string
	Default          any // applied on create when the field is absent

	RestrictedPicklist bool   // only Picklist values are accepted
	AutoNumber         string // display format such as "{00000000}" or "INV-{0000}": set on insert, never written
	NameField          bool   // the object's name field (describe nameField; recentItems)
	ChildRelationship  string // for references: the parent's name for the children, e.g. "Contacts"
	Custom             bool   // a custom (__c) field
	Precision, Scale   int    // for numbers: digits in all and after the point (describe)

	CompoundField    string   // the compound (address, location) field this one is a component of (address.go)
	ReferenceTargets []string // a polymorphic reference: the objects it may point at (activities.go)
}

// Object describes one sObject type.
type Object struct {
	Name        string // canonical API name, e.g. "Account" or "Invoice__c"
	Label       string
	LabelPlural string
	KeyPrefix   string // first three characters of its record ids
	Custom      bool
	Fields      []*Field
	fields      map[string]*Field // lower-case name -> field
	// Createable etc. are false for objects that only the platform writes
	// (ProcessInstance, ProcessInstanceWorkitem, ProcessDefinition).
	ReadOnly bool

	// derive recomputes read-only fields from the others (compound Name,
	// IsClosed...) after every insert and update; nil for most objects.
	derive func(fields map[string]any)
	// compute fills the fields Salesforce computes when they are read
	// (ElapsedTimeIn*, pending.go) into a copy of a row; nil for most objects.
	compute func(fields map[string]any, now time.Time)

	changed time.Time // when the definition last changed: If-Modified-Since on describe (conditional.go)
	// view computes the rows of an object the platform derives from others
	// (ActivityHistory, OpenActivity: activities.go), queryable only in
	// subqueries; nil for stored objects. The caller holds the read lock.
	view func(s *Store, all bool) []map[string]any
}

// Field finds a field case-insensitively.
func (o *Object) Field(name string) (*Field, bool) {
	f, ok := o.fields[strings.ToLower(name)]
	return f, ok
}

// index builds the lookup map; call after Fields changes.
func (o *Object) index() {
	o.fields = make(map[string]*Field, len(o.Fields))
	for _, f := range o.Fields {
		o.fields[strings.ToLower(f.Name)] = f
	}
}

func (o *Object) info() soql.ObjectInfo {
	info := soql.ObjectInfo{Name: o.Name, Fields: make(map[string]soql.FieldInfo, len(o.Fields)), SubqueryOnly: o.view != nil}
	for _, f := range o.Fields {
		info.Fields[strings.ToLower(f.Name)] = soql.FieldInfo{Name: f.Name, Type: f.Type, ReferenceTo: f.ReferenceTo, RelationshipName: f.RelationshipName}
	}
	return info
}
