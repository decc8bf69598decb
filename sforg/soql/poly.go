package soql

import "github.com/sfconnect/connector/shared/sfid"

// Polymorphic relationships. Some reference fields may point at records of
// several types: ProcessInstance.TargetObjectId at whatever record was
// submitted for approval, Task.WhatId at an Account or an Opportunity. Such a
// field has no one parent object; SOQL follows its relationship
// (ProcessInstance.TargetObject) to the pseudo-object Name, whose fields every
// parent can answer: Id, Type (the parent's sObject type) and Name (the value
// of its name field). The Type qualifier filters on the parent's type, as in
// WHERE What.Type = 'Account'.
//
// A Source marks a field polymorphic by leaving its ReferenceTo empty, and lets
// the engine follow it by implementing Identities. Of Name's fields only Id,
// Type and Name are modelled; the person fields Salesforce also offers there
// (FirstName, Alias, Email...) are not.

// NameObject is the type a polymorphic relationship leads to, and the type of
// the nested record a query returns for it.
const NameObject = "Name"

// Identities tells the engine what a polymorphic reference points at: the
// sObject type of the live record with an 18-character id, and the value of
// that record's name field (nil when it has none). ok is false when no live
// record has the id. Without it a polymorphic relationship reads as null.
type Identities interface {
	Identify(id string) (object string, name any, ok bool)
}

// nameInfo is the Name pseudo-object as far as it is modelled.
var nameInfo = ObjectInfo{Name: NameObject, Fields: map[string]FieldInfo{
	"id":   {Name: "Id", Type: TypeID},
	"type": {Name: "Type", Type: TypeString},
	"name": {Name: "Name", Type: TypeString},
}}

// polymorphic reports whether a reference field may point at several types.
func polymorphic(f FieldInfo) bool {
	return f.Type == TypeReference && f.ReferenceTo == "" && f.RelationshipName != ""
}

// parentObject is the object a reference field's relationship leads to.
func parentObject(src Source, ref FieldInfo) (ObjectInfo, bool) {
	if polymorphic(ref) {
		return nameInfo, true
	}
	return src.Object(ref.ReferenceTo)
}

// follow returns the parent row that the reference field ref of row points
// at: the record itself, or for a polymorphic field its Name row. It returns
// nil when the field is empty or the parent cannot be read.
func follow(src Source, row map[string]any, ref FieldInfo) map[string]any {
	if !polymorphic(ref) {
		return parentRow(src, row, ref.Name)
	}
	ids, ok := src.(Identities)
	id, _ := row[ref.Name].(string)
	if !ok || id == "" {
		return nil
	}
	if len(id) == 15 {
		id = sfid.To18(id)
	}
	object, name, ok := ids.Identify(id)
	if !ok {
		return nil
	}
	return map[string]any{"Id": id, "Type": object, "Name": name}
}
