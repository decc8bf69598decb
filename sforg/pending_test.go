package sforg

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sfconnect/connector/internal/testclock"
)

// pendingSOQL is the query the connector's APPROVAL_LIST sends for pending
// work items (shared/connector/approvals_pending.go), with a filter.
func pendingSOQL(where string) string {
	q := "SELECT Id, ProcessInstanceId, ProcessInstance.TargetObjectId, ProcessInstance.TargetObject.Type, " +
		"ProcessInstance.TargetObject.Name, ProcessInstance.ProcessDefinition.Name, ActorId, CreatedDate, " +
		"ElapsedTimeInMinutes, ElapsedTimeInHours, ElapsedTimeInDays FROM ProcessInstanceWorkitem"
	if where != "" {
		q += " WHERE " + where
	}
	return q + " ORDER BY CreatedDate, Id"
}

// pendingWorld is an org on a settable clock with an Account and a Contact
// process, and one submitted record of each.
type pendingWorld struct {
	*orgClient
	clock            *testclock.Clock
	account, contact string // the records
	accountItem      string // the Account's work item
	contactItem      string
}

func newPendingWorld(t *testing.T) *pendingWorld {
	t.Helper()
	clock := testclock.New(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	c := startOrgClient(t, Options{Now: clock.Now})
	if _, err := c.s.DefineApprovalProcess(ApprovalProcess{Name: "Contact Review", DeveloperName: "Contact_Review", Object: "Contact"}); err != nil {
		t.Fatal(err)
	}
	w := &pendingWorld{orgClient: c, clock: clock}
	w.account = c.insert("Account", map[string]any{"Name": "Acme <Pending>"})
	w.contact = c.insert("Contact", map[string]any{"FirstName": "Jane", "LastName": "Doe"})
	r, _ := c.mustApprove(map[string]any{"actionType": "Submit", "contextId": w.account})
	w.accountItem = r.NewWorkitemIDs[0]
	clock.Advance(30 * time.Minute)
	r, _ = c.mustApprove(map[string]any{"actionType": "Submit", "contextId": w.contact})
	w.contactItem = r.NewWorkitemIDs[0]
	return w
}

// workitem is one record of pendingSOQL's answer.
type workitem struct {
	Attributes struct {
		Type string `json:"type"`
	} `json:"attributes"`
	ID                string `json:"Id"`
	ProcessInstanceID string `json:"ProcessInstanceId"`
	ProcessInstance   struct {
		TargetObjectID string `json:"TargetObjectId"`
		TargetObject   *struct {
			Attributes struct {
				Type string `json:"type"`
				URL  string `json:"url"`
			} `json:"attributes"`
			Type string `json:"Type"`
			Name string `json:"Name"`
		} `json:"TargetObject"`
		ProcessDefinition struct {
			Name string `json:"Name"`
		} `json:"ProcessDefinition"`
	} `json:"ProcessInstance"`
	ActorID              string   `json:"ActorId"`
	CreatedDate          string   `json:"CreatedDate"`
	ElapsedTimeInMinutes *float64 `json:"ElapsedTimeInMinutes"`
	ElapsedTimeInHours   *float64 `json:"ElapsedTimeInHours"`
	ElapsedTimeInDays    *float64 `json:"ElapsedTimeInDays"`
}

func (w *pendingWorld) workitems(where string) []workitem {
	w.t.Helper()
	p := w.mustQuery(pendingSOQL(where), false)
	out := make([]workitem, len(p.Records))
	for i, raw := range p.Records {
		if err := json.Unmarshal(raw, &out[i]); err != nil {
			w.t.Fatalf("%v: %s", err, raw)
		}
	}
	return out
}

func itemIDs(items []workitem) string {
	var s []string
	for _, it := range items {
		s = append(s, it.ID)
	}
	return strings.Join(s, ",")
}

// The connector's query of pending work items reads what the approval
// actions did: one item per pending submission, its target through the
// polymorphic TargetObject, the process's name and the elapsed time.
func TestPendingWorkitemsQuery(t *testing.T) {
	w := newPendingWorld(t)
	w.clock.Advance(60 * time.Minute) // the Account's item has waited 90 minutes, the Contact's 60

	items := w.workitems("")
	if got, want := itemIDs(items), w.accountItem+","+w.contactItem; got != want {
		t.Fatalf("got work items %q, want %q (oldest first)", got, want)
	}
	acme := items[0]
	if acme.Attributes.Type != "ProcessInstanceWorkitem" || acme.ProcessInstance.TargetObjectID != w.account {
		t.Errorf("got %+v, want the Account's work item", acme)
	}
	target := acme.ProcessInstance.TargetObject
	if target == nil {
		t.Fatal("TargetObject: got null, want the Account as a Name record")
	}
	// [UNCONFIRMED] shape: a Name record whose url names the target's own type.
	if target.Attributes.Type != "Name" || target.Attributes.URL != "/services/data/v45.0/sobjects/Account/"+w.account {
		t.Errorf("TargetObject attributes: got %+v, want type Name and the Account's url", target.Attributes)
	}
	if target.Type != "Account" || target.Name != "Acme <Pending>" {
		t.Errorf("TargetObject: got Type %q Name %q, want Account, %q", target.Type, target.Name, "Acme <Pending>")
	}
	if got := acme.ProcessInstance.ProcessDefinition.Name; got != DefaultApprovalProcess.Name {
		t.Errorf("process: got %q, want %q", got, DefaultApprovalProcess.Name)
	}
	if acme.ActorID != w.s.store.UserID() {
		t.Errorf("actor: got %q, want the integration user %q", acme.ActorID, w.s.store.UserID())
	}
	if got, want := acme.CreatedDate, "2026-03-02T09:00:00.000+0000"; got != want {
		t.Errorf("CreatedDate: got %q, want %q", got, want)
	}
	for _, tt := range []struct {
		name string
		got  *float64
		want float64
	}{
		{"Account minutes", acme.ElapsedTimeInMinutes, 90},
		{"Account hours", acme.ElapsedTimeInHours, 1.5},
		{"Account days", acme.ElapsedTimeInDays, 0.063}, // 0.0625, to 3 decimals
		{"Contact minutes", items[1].ElapsedTimeInMinutes, 60},
		{"Contact days", items[1].ElapsedTimeInDays, 0.042},
	} {
		if tt.got == nil || *tt.got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	if got := items[1].ProcessInstance.TargetObject; got == nil || got.Type != "Contact" || got.Name != "Jane Doe" {
		t.Errorf("Contact's TargetObject: got %+v, want Type Contact, Name Jane Doe", got)
	}
}

func TestPendingWorkitemsFilters(t *testing.T) {
	w := newPendingWorld(t)
	w.clock.Advance(60 * time.Minute)
	tests := []struct {
		name, where string
		want        func() string
	}{
		{"by the target's type", "ProcessInstance.TargetObject.Type = 'Contact'", func() string { return w.contactItem }},
		{"by the target's type, no match", "ProcessInstance.TargetObject.Type = 'Lead'", func() string { return "" }},
		{"by the target's id", "ProcessInstance.TargetObjectId = '" + w.account[:15] + "'", func() string { return w.accountItem }},
		{"by the actor", "ActorId = '" + w.s.store.UserID() + "'", func() string { return w.accountItem + "," + w.contactItem }},
		{"by the elapsed time", "ElapsedTimeInMinutes > 75", func() string { return w.accountItem }},
		{"type and id together", "ProcessInstance.TargetObject.Type = 'Account' AND ProcessInstance.TargetObjectId = '" + w.contact + "'", func() string { return "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, want := itemIDs(w.workitems(tt.where)), tt.want(); got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}

// A decision removes the work item from the query, and the instance's
// elapsed time stops at its CompletedDate.
func TestPendingWorkitemsFollowDecisions(t *testing.T) {
	w := newPendingWorld(t)
	w.clock.Advance(10 * time.Minute)
	w.mustApprove(map[string]any{"actionType": "Approve", "contextId": w.accountItem})
	if got, want := itemIDs(w.workitems("")), w.contactItem; got != want {
		t.Fatalf("after the approval: got %q, want only the Contact's %q", got, want)
	}
	w.mustApprove(map[string]any{"actionType": "Reject", "contextId": w.contactItem})
	if got := itemIDs(w.workitems("")); got != "" {
		t.Fatalf("after the rejection: got %q, want no work item", got)
	}
	w.clock.Advance(time.Hour)
	recs := w.records("SELECT Status, ElapsedTimeInMinutes, CompletedDate FROM ProcessInstance ORDER BY CreatedDate", false)
	if len(recs) != 2 {
		t.Fatalf("got %d instances, want 2", len(recs))
	}
	for i, want := range []struct {
		status  string
		minutes float64
	}{{"Approved", 40}, {"Rejected", 10}} {
		if recs[i]["Status"] != want.status || recs[i]["ElapsedTimeInMinutes"] != want.minutes {
			t.Errorf("instance %d: got %v, want %s after %v minutes, however late it is read", i, recs[i], want.status, want.minutes)
		}
	}
	// queryAll still sees the decided work items, with the same fields.
	if got := len(w.records(pendingSOQL(""), true)); got != 2 {
		t.Errorf("queryAll: got %d work items, want the 2 decided ones", got)
	}
}

// GET of a work item shows the elapsed time too.
func TestPendingWorkitemGet(t *testing.T) {
	w := newPendingWorld(t)
	w.clock.Advance(15 * time.Minute)
	status, body := w.do("GET", "/services/data/v45.0/sobjects/ProcessInstanceWorkitem/"+w.contactItem, nil, nil)
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, body)
	}
	var got map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if got["ElapsedTimeInMinutes"] != 15.0 || got["ElapsedTimeInHours"] != 0.25 {
		t.Errorf("got minutes %v hours %v, want 15 and 0.25: %s", got["ElapsedTimeInMinutes"], got["ElapsedTimeInHours"], body)
	}
}
