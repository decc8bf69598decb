package sforg_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sfconnect/connector/internal/testclock"
	"github.com/sfconnect/connector/sforg"
)

// activityOrg is an org at 2024-05-01T12:00Z with an account, its contact and
// opportunity, three tasks and two events around them.
type activityOrg struct {
	org
	clock                   *testclock.Clock
	acc, con, opp           string
	call, quote, notes      string // tasks: open on the contact, completed on the opportunity, open on the account
	pastMeeting, futureDemo string // events: ended on the account, to come with the contact
}

func newActivityOrg(t *testing.T) *activityOrg {
	t.Helper()
	clock := testclock.New(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))
	a := &activityOrg{org: newOrg(t, sforg.Options{Now: clock.Now, SessionTTL: 72 * time.Hour}), clock: clock}
	a.acc = a.create(t, "Account", map[string]any{"Name": "Acme"})
	a.con = a.create(t, "Contact", map[string]any{"LastName": "Doe", "FirstName": "Jane", "AccountId": a.acc})
	a.opp = a.create(t, "Opportunity", map[string]any{"Name": "Big deal", "StageName": "Prospecting", "CloseDate": "2024-06-30", "AccountId": a.acc})
	a.call = a.create(t, "Task", map[string]any{"Subject": "Call Jane", "WhoId": a.con})
	a.quote = a.create(t, "Task", map[string]any{"Subject": "Send quote", "WhatId": a.opp, "Status": "Completed", "Priority": "High"})
	a.notes = a.create(t, "Task", map[string]any{"Subject": "Kickoff notes", "WhatId": a.acc, "ActivityDate": "2024-05-03"})
	a.pastMeeting = a.create(t, "Event", map[string]any{"Subject": "Past meeting", "WhatId": a.acc, "StartDateTime": "2024-04-30T10:00:00.000Z", "DurationInMinutes": 60})
	a.futureDemo = a.create(t, "Event", map[string]any{"Subject": "Future demo", "WhoId": a.con, "StartDateTime": "2024-05-02T10:00:00Z", "EndDateTime": "2024-05-02T11:30:00Z"})
	return a
}

func (a *activityOrg) get(t *testing.T, object, id string) map[string]any {
	t.Helper()
	res := a.do(t, http.MethodGet, "/services/data/v45.0/sobjects/"+object+"/"+id, nil)
	if res.status != http.StatusOK {
		t.Fatalf("get %s: got %d %s", id, res.status, res.body)
	}
	var m map[string]any
	res.json(t, &m)
	return m
}

// subjects runs a query with child subqueries and lists, per relationship,
// the Subjects of the children of the first record ("-" for none).
func (a *activityOrg) subjects(t *testing.T, soql string) map[string]string {
	t.Helper()
	res := a.do(t, http.MethodGet, "/services/data/v45.0/query?q="+url.QueryEscape(soql), nil)
	if res.status != http.StatusOK {
		t.Fatalf("query: got %d %s", res.status, res.body)
	}
	var page struct {
		Records []map[string]json.RawMessage
	}
	res.json(t, &page)
	if len(page.Records) != 1 {
		t.Fatalf("got %d records, want 1", len(page.Records))
	}
	out := map[string]string{}
	for name, raw := range page.Records[0] {
		if name == "attributes" || name == "Name" {
			continue
		}
		var sub *struct {
			TotalSize int
			Done      bool
			Records   []struct{ Subject string }
		}
		if err := json.Unmarshal(raw, &sub); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if sub == nil {
			out[name] = "-"
			continue
		}
		var s []string
		for _, r := range sub.Records {
			s = append(s, r.Subject)
		}
		out[name] = strings.Join(s, ", ")
	}
	return out
}

func TestTaskAndEventFields(t *testing.T) {
	a := newActivityOrg(t)
	for _, tc := range []struct {
		name, object, id string
		want             map[string]any
	}{
		{"open task on a contact", "Task", a.call, map[string]any{"Status": "Not Started", "Priority": "Normal", "IsClosed": false, "IsHighPriority": false,
			"AccountId": a.acc, "WhoId": a.con, "WhatId": nil, "CompletedDateTime": nil}},
		{"completed task on an opportunity", "Task", a.quote, map[string]any{"Status": "Completed", "IsClosed": true, "IsHighPriority": true,
			"AccountId": a.acc, "CompletedDateTime": "2024-05-01T12:00:00.000+0000"}},
		{"event with a duration", "Event", a.pastMeeting, map[string]any{"StartDateTime": "2024-04-30T10:00:00.000+0000", "ActivityDateTime": "2024-04-30T10:00:00.000+0000",
			"EndDateTime": "2024-04-30T11:00:00.000+0000", "DurationInMinutes": 60.0, "ActivityDate": "2024-04-30", "AccountId": a.acc, "ShowAs": "Busy"}},
		{"event with an end", "Event", a.futureDemo, map[string]any{"EndDateTime": "2024-05-02T11:30:00.000+0000", "DurationInMinutes": 90.0, "AccountId": a.acc}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := a.get(t, tc.object, tc.id)
			for k, want := range tc.want {
				if !jsonEqual(got[k], want) {
					t.Errorf("%s: got %v, want %v", k, got[k], want)
				}
			}
		})
	}

	t.Run("event times follow the field written", func(t *testing.T) {
		if res := a.do(t, http.MethodPatch, "/services/data/v45.0/sobjects/Event/"+a.futureDemo, map[string]any{"DurationInMinutes": 30}); res.status != http.StatusNoContent {
			t.Fatalf("got %d %s", res.status, res.body)
		}
		if got := a.get(t, "Event", a.futureDemo)["EndDateTime"]; got != "2024-05-02T10:30:00.000+0000" {
			t.Errorf("after a new duration, EndDateTime: got %v, want 10:30", got)
		}
		if res := a.do(t, http.MethodPatch, "/services/data/v45.0/sobjects/Event/"+a.futureDemo, map[string]any{"EndDateTime": "2024-05-02T12:00:00Z"}); res.status != http.StatusNoContent {
			t.Fatalf("got %d %s", res.status, res.body)
		}
		if got := a.get(t, "Event", a.futureDemo)["DurationInMinutes"]; got != 120.0 {
			t.Errorf("after a new end, DurationInMinutes: got %v, want 120", got)
		}
	})

	t.Run("read-only and polymorphic fields", func(t *testing.T) {
		for _, tc := range []struct {
			body map[string]any
			code string
		}{
			{map[string]any{"Subject": "x", "IsClosed": true}, "INVALID_FIELD_FOR_INSERT_UPDATE"},
			{map[string]any{"Subject": "x", "AccountId": a.acc}, "INVALID_FIELD_FOR_INSERT_UPDATE"},
			{map[string]any{"Subject": "x", "WhoId": a.acc}, "MALFORMED_ID"},
			{map[string]any{"Subject": "x", "WhatId": a.con}, "MALFORMED_ID"},
			{map[string]any{"Subject": "x", "Status": ""}, "REQUIRED_FIELD_MISSING"},
		} {
			res := a.do(t, http.MethodPost, "/services/data/v45.0/sobjects/Task/", tc.body)
			if res.status != http.StatusBadRequest || res.errorCode(t) != tc.code {
				t.Errorf("%v: got %d %s, want 400 %s", tc.body, res.status, res.body, tc.code)
			}
		}
	})
}

func TestActivityRelationshipQueries(t *testing.T) {
	a := newActivityOrg(t)
	const all = "Name, (SELECT Subject FROM Tasks), (SELECT Subject FROM Events), (SELECT Subject FROM ActivityHistories), (SELECT Subject FROM OpenActivities)"
	for _, tc := range []struct {
		name, soql string
		want       map[string]string
	}{
		{"account", "SELECT " + all + " FROM Account WHERE Id = '" + a.acc + "'", map[string]string{
			"Tasks": "Kickoff notes", "Events": "Past meeting",
			"ActivityHistories": "Past meeting, Send quote", "OpenActivities": "Call Jane, Future demo, Kickoff notes"}},
		{"contact", "SELECT " + all + " FROM Contact WHERE Id = '" + a.con + "'", map[string]string{
			"Tasks": "Call Jane", "Events": "Future demo", "ActivityHistories": "-", "OpenActivities": "Call Jane, Future demo"}},
		{"opportunity", "SELECT " + all + " FROM Opportunity WHERE Id = '" + a.opp + "'", map[string]string{
			"Tasks": "Send quote", "Events": "-", "ActivityHistories": "Send quote", "OpenActivities": "-"}},
		{"filtered and ordered", "SELECT Name, (SELECT Subject FROM OpenActivities WHERE IsTask = true ORDER BY Subject DESC LIMIT 1) FROM Account WHERE Id = '" + a.acc + "'",
			map[string]string{"OpenActivities": "Kickoff notes"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := a.subjects(t, tc.soql)
			if !jsonEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}

	t.Run("an event moves to the history when it ends", func(t *testing.T) {
		a.clock.Advance(24 * time.Hour) // 2024-05-02T12:00Z, after the demo
		got := a.subjects(t, "SELECT Name, (SELECT Subject FROM ActivityHistories), (SELECT Subject FROM OpenActivities) FROM Contact WHERE Id = '"+a.con+"'")
		want := map[string]string{"ActivityHistories": "Future demo", "OpenActivities": "Call Jane"}
		if !jsonEqual(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})

	t.Run("ActivityHistory and OpenActivity only as subqueries", func(t *testing.T) {
		for _, soql := range []string{
			"SELECT Id FROM ActivityHistory",
			"SELECT Id FROM OpenActivity WHERE IsTask = true",
			"SELECT Id FROM Account WHERE Id IN (SELECT AccountId FROM ActivityHistory)",
		} {
			res := a.do(t, http.MethodGet, "/services/data/v45.0/query?q="+url.QueryEscape(soql), nil)
			want := "entity type " + map[bool]string{true: "ActivityHistory", false: "OpenActivity"}[strings.Contains(soql, "History")] + " does not support query"
			var errs []sforg.APIError
			res.json(t, &errs)
			if res.status != http.StatusBadRequest || len(errs) != 1 || errs[0].ErrorCode != "INVALID_TYPE_FOR_OPERATION" || errs[0].Message != want {
				t.Errorf("%s: got %d %s, want 400 INVALID_TYPE_FOR_OPERATION %q", soql, res.status, res.body, want)
			}
		}
	})
}

func TestActivityDescribe(t *testing.T) {
	o := newOrg(t, sforg.Options{})
	var account struct {
		ChildRelationships []struct {
			ChildSObject, Field string
			RelationshipName    *string
		}
	}
	res := o.do(t, http.MethodGet, "/services/data/v45.0/sobjects/Account/describe", nil)
	res.json(t, &account)
	var got []string
	for _, c := range account.ChildRelationships {
		if c.RelationshipName != nil {
			got = append(got, *c.RelationshipName+"="+c.ChildSObject+"."+c.Field)
		}
	}
	for _, want := range []string{"Tasks=Task.WhatId", "Events=Event.WhatId", "ActivityHistories=ActivityHistory.AccountId", "OpenActivities=OpenActivity.AccountId", "Contacts=Contact.AccountId"} {
		if n := len(slices.DeleteFunc(slices.Clone(got), func(s string) bool { return s != want })); n != 1 {
			t.Errorf("Account childRelationships %v: got %d of %s, want 1", got, n, want)
		}
	}
	for _, c := range account.ChildRelationships {
		if c.RelationshipName == nil && (c.ChildSObject == "ActivityHistory" || c.ChildSObject == "OpenActivity") {
			t.Errorf("an unnamed %s.%s among Account's childRelationships", c.ChildSObject, c.Field)
		}
	}

	var task struct {
		Fields []struct {
			Name                  string
			ReferenceTo           []string
			PolymorphicForeignKey bool
			RelationshipName      *string
			NameField             bool
		}
	}
	res = o.do(t, http.MethodGet, "/services/data/v45.0/sobjects/Task/describe", nil)
	res.json(t, &task)
	fields := map[string]string{}
	for _, f := range task.Fields {
		rel := ""
		if f.RelationshipName != nil {
			rel = *f.RelationshipName
		}
		fields[f.Name] = strings.Join(f.ReferenceTo, "|") + " " + rel
		if f.NameField && f.Name != "Subject" {
			t.Errorf("name field: got %s, want Subject", f.Name)
		}
	}
	for name, want := range map[string]string{"WhoId": "Contact|Lead Who", "WhatId": "Account|Opportunity|Case What", "AccountId": "Account Account", "Subject": " "} {
		if fields[name] != want {
			t.Errorf("Task.%s: got %q, want %q", name, fields[name], want)
		}
	}
}
