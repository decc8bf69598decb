package sforg

// What a query of pending approvals reads (docs/salesforce-protocol.md §5:
// pending work items are ProcessInstanceWorkitem rows, read through SOQL):
//
//   - ElapsedTimeInDays, ElapsedTimeInHours and ElapsedTimeInMinutes of
//     ProcessInstance and ProcessInstanceWorkitem. Salesforce computes them
//     when they are read: the time since the row was created, up to now, or
//     for a decided ProcessInstance up to its CompletedDate. Here they are
//     computed from the org's clock (Options.Now) on every read: SOQL, queryAll
//     and GET /sobjects/{Name}/{Id}.
//   - ProcessInstance.TargetObject, a polymorphic relationship: SOQL follows
//     it to the Name pseudo-object (soql/poly.go), for which the store tells the
//     type and name of any live record (Identify). [UNCONFIRMED] A query
//     answer nests that parent as a record whose attributes say type "Name"
//     and whose url names the record's own type (.../sobjects/Account/001...),
//     as recalled from real answers; no fixture shows it.
//
// [UNCONFIRMED] Salesforce's field reference gives the three fields 0, 2 and 3
// decimals (minutes, hours, days); whether it rounds or truncates to them is
// not documented. They are rounded here. ProcessInstanceStep's elapsed times
// (from the step's start to its completion) are not modelled.

import (
	"math"
	"time"

	"github.com/sfconnect/connector/sforg/soql"
)

// elapsedFields are the three computed durations, with their decimals.
var elapsedFields = []struct {
	name, label string
	unit        time.Duration
	precision   int
	scale       int
}{
	{"ElapsedTimeInDays", "Elapsed Time in Days", 24 * time.Hour, 7, 3},
	{"ElapsedTimeInHours", "Elapsed Time in Hours", time.Hour, 7, 2},
	{"ElapsedTimeInMinutes", "Elapsed Time in Minutes", time.Minute, 8, 0},
}

// withElapsed gives an approval object its read-time elapsed fields.
func withElapsed(o *Object) {
	for _, e := range elapsedFields {
		o.Fields = append(o.Fields, readOnly(number(soql.TypeDouble, e.name, e.label, e.precision, e.scale)))
	}
	o.compute = elapsed
}

// elapsed sets the elapsed fields of a copy of a row: from CreatedDate to the
// row's CompletedDate when it has one, otherwise to now. A row whose dates
// cannot be read gets nulls, as Salesforce leaves them empty for old rows.
func elapsed(fields map[string]any, now time.Time) {
	start, ok := storeTime(fields["CreatedDate"])
	end := now
	if done, has := storeTime(fields["CompletedDate"]); has {
		end = done
	}
	for _, e := range elapsedFields {
		if !ok {
			fields[e.name] = nil
			continue
		}
		scale := math.Pow10(e.scale)
		fields[e.name] = math.Round(float64(end.Sub(start))/float64(e.unit)*scale) / scale
	}
}

// view is a row's fields as a read sees them: the stored map itself, or for
// an object with read-time fields a copy with them computed. The caller holds
// the store's lock.
func (s *Store) view(r *row) map[string]any {
	if r.object.compute == nil {
		return r.fields
	}
	out := make(map[string]any, len(r.fields)+len(elapsedFields))
	for k, v := range r.fields {
		out[k] = v
	}
	r.object.compute(out, s.now())
	return out
}

// Identify tells the SOQL engine the sObject type and the name of the live
// record with an 18-character id, for polymorphic relationships such as
// ProcessInstance.TargetObject (soql.Identities). The name is the object's name
// field (Name, CaseNumber...), nil for an object without one.
func (src source) Identify(id string) (string, any, bool) {
	r, ok := src.s.rows[id]
	if !ok || r.fields["IsDeleted"] == true {
		return "", nil, false
	}
	for _, f := range r.object.Fields {
		if f.NameField {
			return r.object.Name, r.fields[f.Name], true
		}
	}
	return r.object.Name, nil, true
}
