// Package soql parses and runs the subset of SOQL the org emulator serves, with
// Salesforce's error codes and messages. It knows nothing of HTTP or paging: the
// emulator hands it a Source and slices the Result into pages.
package soql

import "time"

// Field types, as Salesforce's describe names them.
const (
	TypeID        = "id"
	TypeString    = "string"
	TypeTextArea  = "textarea"
	TypePicklist  = "picklist"
	TypeEmail     = "email"
	TypePhone     = "phone"
	TypeURL       = "url"
	TypeBoolean   = "boolean"
	TypeInt       = "int"
	TypeDouble    = "double"
	TypeCurrency  = "currency"
	TypePercent   = "percent"
	TypeDate      = "date"
	TypeDateTime  = "datetime"
	TypeReference = "reference"
)

// FieldInfo describes one field of an object.
type FieldInfo struct {
	Name             string // canonical API name, e.g. "AccountId"
	Type             string // one of the Type constants
	ReferenceTo      string // for references: the parent object's canonical name
	RelationshipName string // for references: e.g. "Account" for AccountId, "Owner" for OwnerId
}

// ObjectInfo describes one queryable object.
type ObjectInfo struct {
	Name   string               // canonical API name, e.g. "Account"
	Fields map[string]FieldInfo // keyed by lower-case field name

	// SubqueryOnly objects (ActivityHistory, OpenActivity) are read only
	// through a parent's relationship subquery.
	SubqueryOnly bool
}

// Source is what a query reads. Rows are maps keyed by canonical field name; every
// row has "Id" and "IsDeleted". Values are string, float64, bool or nil (dates and
// datetimes are strings in Salesforce's formats).
type Source interface {
	// Object finds an object by name, case-insensitively.
	Object(name string) (ObjectInfo, bool)
	// Rows returns the rows of an object in insertion order; deleted rows only when all is true.
	Rows(object string, all bool) []map[string]any
	// Row finds any live row by its 18-character id (for parent lookups).
	Row(id string) (map[string]any, bool)
}

// Record is one result row in SELECT order. Type is the sObject type
// ("AggregateResult" for aggregate rows) and ID its id ("" for aggregates).
type Record struct {
	Type   string
	ID     string
	Fields []Field
	// Object is the record's own sObject type when Type is NameObject (the
	// parent reached through a polymorphic relationship, poly.go); "" otherwise.
	Object string
}

// Field is one selected value. Value is string, float64, bool, nil or, for a
// parent relationship such as Account.Name, a *Record holding the parent's fields
// (nil when the lookup is empty). For a child relationship subquery such as
// (SELECT Name FROM Contacts) Value is a *Result (nil when there are no
// children), which Salesforce renders as {"totalSize":n,"done":true,"records":[…]}.
type Field struct {
	Name  string
	Value any
}

// Result is the whole answer of a query before paging. For SELECT COUNT() there
// are no records and TotalSize is the count.
type Result struct {
	TotalSize int
	Records   []*Record
}

// Error is a query failure carrying Salesforce's errorCode (MALFORMED_QUERY,
// INVALID_FIELD, INVALID_TYPE) and message, to be sent as a 400.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Optional interfaces a Source may implement. The engine works without them.

// Clock fixes "now" for relative date literals such as TODAY and LAST_N_DAYS:n,
// so tests can pin the date. Without it the engine uses time.Now in UTC.
type Clock interface {
	Now() time.Time
}

// ChildRelationship names a child relationship usable in a subquery, e.g.
// {Name: "Contacts", Object: "Contact", Field: "AccountId"} on Account.
type ChildRelationship struct {
	Name   string // relationship name as written in FROM, e.g. "Contacts"
	Object string // the child object's canonical name
	Field  string // the child's reference field pointing at the parent
}

// Children lists an object's child relationships. Without it the engine
// guesses them from the plural of a child object that has a reference field to
// the parent (Contacts -> Contact.AccountId, Opportunities -> Opportunity.AccountId).
type Children interface {
	ChildRelationships(object string) []ChildRelationship
}
