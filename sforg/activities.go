package sforg

import (
	"slices"
	"sort"
	"time"

	"github.com/sfconnect/connector/sforg/soql"
)

// Activities: Task and Event records, and the read-only ActivityHistory and
// OpenActivity objects Salesforce derives from them.
//
//   - A task or event points at a person with WhoId (a Contact or a Lead) and at
//     a record with WhatId (an Account, Opportunity, Case or custom object);
//     AccountId is read-only, the account of the WhatId record or else of the
//     WhoId contact.
//   - A task is closed when its Status is Completed (IsClosed, with
//     CompletedDateTime); IsHighPriority follows Priority.
//   - An event runs from StartDateTime (alias ActivityDateTime) for
//     DurationInMinutes to EndDateTime: give the start and either the duration
//     or the end, and the other is computed. ActivityDate is the start's date.
//   - ActivityHistory holds closed tasks and events that have ended;
//     OpenActivity open tasks and events still to come. Both are queryable
//     only as relationship subqueries of their parent (ActivityHistories and
//     OpenActivities of an Account, Contact, Lead, Opportunity or Case); a
//     direct query fails with INVALID_TYPE_FOR_OPERATION, as Salesforce
//     documents them as supporting describeSObjects() only. The further limits
//     Salesforce documents for users without "View All Data" (one parent
//     record, LIMIT 499, ORDER BY ActivityDate DESC, LastModifiedDate DESC
//     only) do not apply: the emulator's user sees all data.
//
// [UNCONFIRMED] which related record ActivityHistories and OpenActivities of an
// Account follow: AccountId is assumed (it covers the account's contacts, as
// Salesforce says the related list does); Opportunity and Case use WhatId,
// Contact and Lead WhoId. Who.Name and What.Name (polymorphic parents) are
// not resolved in SOQL.

// taskStatuses and the other picklists hold the values of a new org.
var (
	taskStatuses   = []string{"Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred"}
	taskPriorities = []string{"High", "Normal", "Low"}
	activityTypes  = []string{"Call", "Email", "Meeting", "Other"}
	whoTargets     = []string{"Contact", "Lead"}
	whatTargets    = []string{"Account", "Opportunity", "Case"}
)

// poly is a polymorphic lookup such as WhoId, pointing at any of targets.
func poly(name, label, relationship string, targets []string) *Field {
	f := lookup(name, label, "", relationship, "")
	f.ReferenceTargets = targets
	return f
}

// activityFields are the fields Task and Event share, after Subject.
func activityFields() []*Field {
	return []*Field{
		poly("WhoId", "Name ID", "Who", whoTargets),
		poly("WhatId", "Related To ID", "What", whatTargets),
		readOnly(lookup("AccountId", "Account ID", "Account", "Account", "")),
		typed(soql.TypeDate, "ActivityDate", "Due Date Only", 0),
		picklist("Type", "Type", activityTypes...),
		typed(soql.TypeTextArea, "Description", "Description", 32000),
		owner(""),
	}
}

// activityObjects defines Task, Event, ActivityHistory and OpenActivity.
func activityObjects() []*Object {
	task := object("Task", "Task", "Tasks", "00T", flatten(
		nameField(text("Subject", "Subject", 255)),
		activityFields(),
		withDefault(required(picklist("Status", "Status", taskStatuses...)), "Not Started"),
		withDefault(required(picklist("Priority", "Priority", taskPriorities...)), "Normal"),
		picklist("TaskSubtype", "Task Subtype", "Task", "Email", "ListEmail", "Cadence", "Call"),
		readOnly(checkbox("IsClosed", "Closed", false)),
		readOnly(checkbox("IsHighPriority", "High Priority", false)),
		readOnly(typed(soql.TypeDateTime, "CompletedDateTime", "Completed Date/Time", 0)),
	)...)
	task.derive = func(fields map[string]any) {
		closed := fields["Status"] == "Completed"
		if closed && fields["IsClosed"] != true {
			fields["CompletedDateTime"] = fields["LastModifiedDate"]
		}
		if !closed {
			fields["CompletedDateTime"] = nil
		}
		fields["IsClosed"] = closed
		fields["IsHighPriority"] = fields["Priority"] == "High"
	}

	event := object("Event", "Event", "Events", "00U", flatten(
		nameField(text("Subject", "Subject", 255)),
		activityFields(),
		text("Location", "Location", 255),
		checkbox("IsAllDayEvent", "All-Day Event", false),
		typed(soql.TypeDateTime, "ActivityDateTime", "Due Date Time", 0),
		typed(soql.TypeDateTime, "StartDateTime", "Start Date Time", 0),
		typed(soql.TypeDateTime, "EndDateTime", "End Date Time", 0),
		number(soql.TypeInt, "DurationInMinutes", "Duration", 8, 0),
		withDefault(picklist("ShowAs", "Show Time As", "Busy", "OutOfOffice", "Free"), "Busy"),
		checkbox("IsPrivate", "Private", false),
	)...)

	// An account's ActivityHistories and OpenActivities follow AccountId; the
	// other parents' follow WhoId or WhatId (activityChildren).
	view := func(name, label, plural, children string, rows func(s *Store, all bool) []map[string]any) *Object {
		o := object(name, label, plural, "",
			poly("WhoId", "Name ID", "Who", whoTargets),
			poly("WhatId", "Related To ID", "What", whatTargets),
			lookup("AccountId", "Account ID", "Account", "Account", children),
			nameField(text("Subject", "Subject", 255)),
			checkbox("IsTask", "Task", false),
			typed(soql.TypeDate, "ActivityDate", "Due Date Only", 0),
			typed(soql.TypeDateTime, "ActivityDateTime", "Due Date Time", 0),
			typed(soql.TypeDateTime, "StartDateTime", "Start", 0),
			typed(soql.TypeDateTime, "EndDateTime", "End", 0),
			number(soql.TypeInt, "DurationInMinutes", "Duration", 8, 0),
			checkbox("IsAllDayEvent", "All-Day Event", false),
			text("Location", "Location", 255),
			picklist("Status", "Status", taskStatuses...),
			picklist("Priority", "Priority", taskPriorities...),
			checkbox("IsClosed", "Closed", false),
			checkbox("IsHighPriority", "High Priority", false),
			picklist("ActivityType", "Type", activityTypes...),
			typed(soql.TypeTextArea, "Description", "Description", 32000),
			owner(""),
		)
		o.ReadOnly = true
		o.view = rows
		return o
	}
	history := view("ActivityHistory", "Activity History", "Activity Histories", "ActivityHistories", func(s *Store, all bool) []map[string]any {
		return s.activityRows(all, true)
	})
	open := view("OpenActivity", "Open Activity", "Open Activities", "OpenActivities", func(s *Store, all bool) []map[string]any {
		return s.activityRows(all, false)
	})
	return []*Object{task, event, history, open}
}

// activityChildren are the child relationships of activities whose reference
// is polymorphic.
var activityChildren = []struct {
	child, field, name string
	parents            []string
}{
	{"Task", "WhatId", "Tasks", whatTargets},
	{"Task", "WhoId", "Tasks", whoTargets},
	{"Event", "WhatId", "Events", whatTargets},
	{"Event", "WhoId", "Events", whoTargets},
	{"ActivityHistory", "WhatId", "ActivityHistories", []string{"Opportunity", "Case"}},
	{"ActivityHistory", "WhoId", "ActivityHistories", whoTargets},
	{"OpenActivity", "WhatId", "OpenActivities", []string{"Opportunity", "Case"}},
	{"OpenActivity", "WhoId", "OpenActivities", whoTargets},
}

// activityRelationships lists the activity child relationships of parent for SOQL.
func activityRelationships(parent string) []soql.ChildRelationship {
	var out []soql.ChildRelationship
	for _, c := range activityChildren {
		if slices.Contains(c.parents, parent) {
			out = append(out, soql.ChildRelationship{Name: c.name, Object: c.child, Field: c.field})
		}
	}
	return out
}

// activityDescribeChildren lists them for describe's childRelationships.
func activityDescribeChildren(parent string) []childRelationship {
	var out []childRelationship
	for _, r := range activityRelationships(parent) {
		name := r.Name
		out = append(out, childRelationship{ChildSObject: r.Object, Field: r.Field, JunctionIDListNames: []string{}, JunctionReferenceTo: []string{}, RelationshipName: &name})
	}
	return out
}

// refAccepts reports whether a reference field may point at a record of o: a
// lookup at its one object, a polymorphic one at its targets (WhatId also at
// custom objects), TargetObjectId-style fields without targets at anything.
func refAccepts(f *Field, o *Object) bool {
	switch {
	case f.ReferenceTo != "":
		return o.Name == f.ReferenceTo
	case len(f.ReferenceTargets) > 0:
		return slices.Contains(f.ReferenceTargets, o.Name) || f.Name == "WhatId" && o.Custom
	}
	return true
}

// deriveActivity keeps an event's times consistent and an activity's AccountId
// current after a write; changed holds the fields the write set. The caller
// holds the write lock.
func (s *Store) deriveActivity(o *Object, fields, changed map[string]any) {
	if o.Name != "Task" && o.Name != "Event" {
		return
	}
	fields["AccountId"] = s.accountOf(fields["WhatId"], fields["WhoId"])
	if o.Name == "Event" {
		deriveEventTimes(fields, changed)
	}
}

// accountOf is the account an activity relates to: the WhatId account, the
// WhatId record's account, or the WhoId contact's account.
func (s *Store) accountOf(what, who any) any {
	for _, ref := range []any{what, who} {
		id, _ := ref.(string)
		r, ok := s.rows[id]
		if !ok {
			continue
		}
		if r.object.Name == "Account" {
			return id
		}
		if acc, _ := r.fields["AccountId"].(string); acc != "" {
			return acc
		}
	}
	return nil
}

const storedTime = "2006-01-02T15:04:05.000+0000"

// deriveEventTimes fills StartDateTime, ActivityDateTime, EndDateTime,
// DurationInMinutes and ActivityDate from what the write gave: an end given
// without a duration sets the duration, otherwise the duration sets the end.
func deriveEventTimes(fields, changed map[string]any) {
	if _, ok := changed["ActivityDateTime"]; ok {
		if _, both := changed["StartDateTime"]; !both {
			fields["StartDateTime"] = fields["ActivityDateTime"]
		}
	}
	start, hasStart := parseStored(fields["StartDateTime"])
	fields["ActivityDateTime"] = fields["StartDateTime"]
	if !hasStart {
		return
	}
	fields["ActivityDate"] = start.Format("2006-01-02") // [UNCONFIRMED] the UTC date of the start
	_, endGiven := changed["EndDateTime"]
	_, durationGiven := changed["DurationInMinutes"]
	end, hasEnd := parseStored(fields["EndDateTime"])
	minutes, hasMinutes := fields["DurationInMinutes"].(float64)
	switch {
	case hasEnd && (endGiven && !durationGiven || !hasMinutes):
		fields["DurationInMinutes"] = float64(int(end.Sub(start) / time.Minute))
	case hasMinutes:
		fields["EndDateTime"] = start.Add(time.Duration(minutes) * time.Minute).Format(storedTime)
	}
}

func parseStored(v any) (time.Time, bool) {
	s, _ := v.(string)
	t, err := time.Parse(storedTime, s)
	return t, err == nil
}

// activityRows builds the rows of ActivityHistory (done) or OpenActivity (not
// done) from the tasks and events, with the Id of the task or event. History
// comes newest first, open activities soonest first [UNCONFIRMED default
// order]. The caller holds the read lock.
func (s *Store) activityRows(all, done bool) []map[string]any {
	now := s.now()
	var out []map[string]any
	for _, object := range []string{"Task", "Event"} {
		for _, r := range s.order[object] {
			f := r.fields
			if !all && f["IsDeleted"] == true {
				continue
			}
			isTask := object == "Task"
			finished := f["IsClosed"] == true
			if !isTask {
				end, ok := parseStored(f["EndDateTime"])
				finished = ok && !end.After(now)
			}
			if finished != done {
				continue
			}
			row := map[string]any{"IsTask": isTask, "ActivityType": f["Type"], "IsClosed": finished}
			for _, name := range []string{"Id", "IsDeleted", "WhoId", "WhatId", "AccountId", "Subject", "ActivityDate", "ActivityDateTime",
				"StartDateTime", "EndDateTime", "DurationInMinutes", "IsAllDayEvent", "Location", "Status", "Priority", "IsHighPriority",
				"Description", "OwnerId", "CreatedDate", "CreatedById", "LastModifiedDate", "LastModifiedById", "SystemModstamp"} {
				if v, ok := f[name]; ok {
					row[name] = v
				}
			}
			out = append(out, row)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, _ := out[i]["ActivityDate"].(string)
		b, _ := out[j]["ActivityDate"].(string)
		if a != b {
			return done == (a > b)
		}
		x, _ := out[i]["LastModifiedDate"].(string)
		y, _ := out[j]["LastModifiedDate"].(string)
		return x > y
	})
	return out
}
