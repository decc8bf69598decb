package connector

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/sfconnect/connector/shared/faults"
	"github.com/sfconnect/connector/shared/salesforce"
	"github.com/sfconnect/connector/shared/sfid"
)

// maxCollectionRecords is the most records one sObject Collections request
// takes (create, update, upsert and delete alike).
const maxCollectionRecords = 200

// The operations of COLLECTION, as the input names them.
const (
	opCreate = "create"
	opUpdate = "update"
	opUpsert = "upsert"
	opDelete = "delete"
)

// collectionCall is a validated COLLECTION input: what is sent is exactly what
// was checked, records re-encoded from their checked fields.
type collectionCall struct {
	op        string
	object    string // SObjectName; "" only for a delete without one
	field     string // the external id field of an upsert
	allOrNone bool
	records   []json.RawMessage // create, update, upsert
	ids       []string          // delete
}

func collection(c *Connector, ctx context.Context, in *input) (*salesforce.Response, *Tally, error) {
	call, err := in.collectionCall()
	if err != nil {
		return nil, nil, err
	}
	sf := c.client
	var resp *salesforce.Response
	switch call.op {
	case opCreate:
		resp, err = sf.CreateRecords(ctx, call.allOrNone, call.records)
	case opUpdate:
		resp, err = sf.UpdateRecords(ctx, call.allOrNone, call.records)
	case opUpsert:
		resp, err = sf.UpsertRecords(ctx, call.object, call.field, call.allOrNone, call.records)
	default:
		resp, err = sf.DeleteRecords(ctx, call.allOrNone, call.ids)
	}
	if err != nil {
		return nil, nil, err
	}
	sent := len(call.records) + len(call.ids)
	tally, err := tallyRecords(resp, sent)
	if err != nil {
		return nil, nil, err
	}
	return resp, tally, nil
}

// collectionCall validates the whole input before anything is sent.
func (in *input) collectionCall() (*collectionCall, error) {
	op, err := in.operation()
	if err != nil {
		return nil, err
	}
	call := &collectionCall{op: op}
	if op != opDelete || !isAbsent(in.SObjectName) {
		if call.object, err = in.objectName(); err != nil {
			return nil, err
		}
	}
	switch {
	case op == opUpsert:
		if call.field, err = in.externalIDField(); err != nil {
			return nil, err
		}
		if strings.EqualFold(call.field, "Id") {
			return nil, faults.New(faults.InvalidInput,
				"externalIdField Id: sObject Collections upsert takes an external id field, not the record id (use operation update for records keyed by Id)")
		}
	case !isAbsent(in.ExternalIDField):
		return nil, faults.New(faults.InvalidInput, "externalIdField is only for operation upsert, not %s", op)
	}
	if call.allOrNone, err = flag(in.AllOrNone, "allOrNone"); err != nil {
		return nil, err
	}
	list, err := in.recordList()
	if err != nil {
		return nil, err
	}
	for i, raw := range list {
		if err := call.add(raw); err != nil {
			return nil, faults.New(faults.InvalidInput, "salesforcePayload[%d] %s", i, err)
		}
	}
	return call, nil
}

// add checks one item of salesforcePayload and adds it to the call: a record,
// or for a delete its id. The error completes "salesforcePayload[i] ...".
func (call *collectionCall) add(raw json.RawMessage) error {
	fields, err := objectFields(raw)
	if err != nil {
		return err
	}
	if call.op == opDelete {
		id, err := deleteID(fields)
		if err == nil {
			call.ids = append(call.ids, id)
		}
		return err
	}
	rec, err := call.record(fields)
	if err == nil {
		call.records = append(call.records, rec)
	}
	return err
}

// operation returns COLLECTION's operation: create, update, upsert or delete
// (in any letter case).
func (in *input) operation() (string, error) {
	s, err := text(in.Operation, "operation")
	if err != nil {
		return "", err
	}
	switch op := strings.ToLower(s); op {
	case opCreate, opUpdate, opUpsert, opDelete:
		return op, nil
	}
	return "", faults.New(faults.InvalidInput, "operation %s is not one of create, update, upsert, delete", quote(s))
}

// recordList returns salesforcePayload as a list of 1 to 200 JSON values: the
// list itself or a string holding it.
func (in *input) recordList() ([]json.RawMessage, error) {
	raw, err := in.payloadJSON()
	if err != nil {
		return nil, err
	}
	var list []json.RawMessage
	if raw[0] != '[' || json.Unmarshal(raw, &list) != nil {
		return nil, faults.New(faults.InvalidInput, "salesforcePayload must be a JSON array of records")
	}
	switch {
	case len(list) == 0:
		return nil, faults.New(faults.MissingInput, "salesforcePayload is an empty list: send 1 to %d records", maxCollectionRecords)
	case len(list) > maxCollectionRecords:
		return nil, faults.New(faults.InvalidInput,
			"salesforcePayload holds %d records, more than the %d sObject Collections takes in one call: split them over several calls", len(list), maxCollectionRecords)
	}
	return list, nil
}

// record checks one record of a create, update or upsert and encodes it with
// attributes.type set to the call's object, first, as Salesforce's examples
// write it; the other fields follow in their order.
func (call *collectionCall) record(fields []member) (json.RawMessage, error) {
	// objectFields refused names that differ only in case: each is found once.
	var attrsRaw json.RawMessage
	var id, key *member
	for i, f := range fields {
		switch {
		case f.name == "attributes":
			attrsRaw = f.value
		case strings.EqualFold(f.name, "Id"):
			id = &fields[i]
		}
		if call.op == opUpsert && strings.EqualFold(f.name, call.field) {
			key = &fields[i]
		}
	}
	attrs, err := call.attributes(attrsRaw)
	if err != nil {
		return nil, err
	}
	switch {
	case call.op == opCreate && id != nil:
		return nil, errors.New("has an Id: records to create carry none (update or upsert records that exist)")
	case call.op == opUpdate && id == nil:
		return nil, errors.New("has no Id: every record to update names its record id")
	case call.op == opUpdate:
		if _, err := checkID(id.value); err != nil {
			return nil, err
		}
	case call.op == opUpsert && key == nil:
		return nil, fmt.Errorf("has no %s, the external id field every record of the upsert is keyed by", call.field)
	case call.op == opUpsert:
		if err := checkExternalID(*key); err != nil {
			return nil, err
		}
	}

	var b bytes.Buffer
	b.WriteString(`{"attributes":`)
	writeMembers(&b, attrs)
	for _, f := range fields {
		if f.name == "attributes" {
			continue
		}
		b.WriteByte(',')
		writeKey(&b, f.name)
		b.Write(f.value)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// attributes checks a record's attributes, whose type, when given, must be the
// call's object, and returns them with the type first.
func (call *collectionCall) attributes(raw json.RawMessage) ([]member, error) {
	typ := member{name: "type", value: quoteJSON(call.object)}
	if isAbsent(raw) {
		return []member{typ}, nil
	}
	attrs, err := objectFields(raw)
	if err != nil {
		return nil, errors.New("has attributes that are not a JSON object")
	}
	out := []member{typ}
	for _, a := range attrs {
		if a.name != "type" {
			out = append(out, a)
			continue
		}
		var t string
		if json.Unmarshal(a.value, &t) != nil || !strings.EqualFold(t, call.object) {
			return nil, fmt.Errorf("has attributes.type %s, not SObjectName %s: one call writes records of one object", quote(string(a.value)), quote(call.object))
		}
	}
	return out, nil
}

// deleteID returns the record id of a delete item, which holds that and
// nothing else.
func deleteID(fields []member) (string, error) {
	if len(fields) != 1 || !strings.EqualFold(fields[0].name, "Id") {
		return "", errors.New(`must be {"Id": "<record id>"} and nothing else`)
	}
	return checkID(fields[0].value)
}

// checkID returns a record id given as a JSON value, when it is one.
func checkID(raw json.RawMessage) (string, error) {
	var id string
	if err := json.Unmarshal(raw, &id); err != nil || !sfid.Valid(id) {
		return "", fmt.Errorf("has Id %s, not a 15- or 18-character Salesforce id", quote(string(raw)))
	}
	return id, nil
}

// checkExternalID checks an upsert key: a string that is not empty, or a
// number (a Number external id field). It travels in the body, never in a
// path, so any text is safe.
func checkExternalID(f member) error {
	v := bytes.TrimSpace(f.value)
	switch {
	case isAbsent(v):
		return fmt.Errorf("has an empty %s, the external id it is keyed by", f.name)
	case v[0] == '"' || v[0] == '-' || (v[0] >= '0' && v[0] <= '9'):
		return nil
	}
	return fmt.Errorf("has %s %s: an external id is a string or a number", f.name, quote(string(v)))
}

// flag returns an optional boolean parameter: true or false, or a string
// holding one (what a templated workflow often sends); absent is false.
func flag(raw json.RawMessage, name string) (bool, error) {
	if isAbsent(raw) {
		return false, nil
	}
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return b, nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	}
	return false, faults.New(faults.InvalidInput, "%s must be true or false", name)
}

// member is one name and value of a JSON object, in the order it came.
type member struct {
	name  string
	value json.RawMessage
}

// objectFields decodes a JSON object keeping its members in order. Two
// members whose names differ only in letter case are refused: Salesforce reads
// field names case-insensitively, so which one it would take is unknown.
func objectFields(raw json.RawMessage) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("must be a JSON object")
	}
	var out []member
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, errors.New("must be a JSON object")
		}
		name, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, errors.New("must be a JSON object")
		}
		if seen[strings.ToLower(name)] {
			return nil, fmt.Errorf("names %s twice", quote(name))
		}
		seen[strings.ToLower(name)] = true
		out = append(out, member{name: name, value: v})
	}
	if _, err := dec.Token(); err != nil {
		return nil, errors.New("must be a JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("must be a JSON object")
	}
	return out, nil
}

// writeMembers writes fields as a JSON object.
func writeMembers(b *bytes.Buffer, fields []member) {
	b.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			b.WriteByte(',')
		}
		writeKey(b, f.name)
		b.Write(f.value)
	}
	b.WriteByte('}')
}

func writeKey(b *bytes.Buffer, name string) {
	b.Write(quoteJSON(name))
	b.WriteByte(':')
}

// quoteJSON encodes s as a JSON string.
func quoteJSON(s string) json.RawMessage {
	b, _ := json.Marshal(s) // a string always encodes
	return b
}
