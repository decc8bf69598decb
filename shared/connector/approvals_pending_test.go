package connector

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/sfconnect/connector/internal/testclock"
	"github.com/sfconnect/connector/sforg"
	"github.com/sfconnect/connector/shared/faults"
	"github.com/sfconnect/connector/shared/settings"
)

// pendingWorld is an org on a settable clock, with a Contact approval process
// beside the default Account one, and a connector pointed at it.
type pendingWorld struct {
	*world
	clock *testclock.Clock
}

func newPendingWorld(t *testing.T) *pendingWorld {
	t.Helper()
	clock := testclock.New(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	org, err := sforg.Start(sforg.Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { org.Close() })
	if _, err := org.DefineApprovalProcess(sforg.ApprovalProcess{Name: "Contact Review", DeveloperName: "Contact_Review", Object: "Contact"}); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	opts := quickOptions(slog.New(slog.NewJSONHandler(logs, nil)))
	opts.Credentials = settingsSource(org.Settings())
	return &pendingWorld{world: newWorld(org, opts, logs), clock: clock}
}

// record stores a record straight into the org and returns its id.
func (w *pendingWorld) record(t *testing.T, object string, fields map[string]any) string {
	t.Helper()
	id, err := w.org.Store().Insert(object, fields)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// submit submits records for approval through APPROVAL_SUBMIT, in one
// request, and returns their work item ids in order.
func (w *pendingWorld) submit(t *testing.T, approvers []string, records ...string) []string {
	t.Helper()
	requests := make([]map[string]any, len(records))
	for i, id := range records {
		requests[i] = map[string]any{"contextId": id}
		if approvers != nil {
			requests[i]["nextApproverIds"] = approvers
		}
	}
	r := invoke(t, w.conn.ApprovalSubmit, jsonEvent(t, map[string]any{"salesforcePayload": map[string]any{"requests": requests}}))
	mustOK(t, r, "200")
	var items []string
	for _, res := range processResults(t, r) {
		if !res.Success || len(res.NewWorkitemIDs) != 1 {
			t.Fatalf("got %+v, want one new work item per submission", res)
		}
		items = append(items, res.NewWorkitemIDs[0])
	}
	return items
}

// pendingList is APPROVAL_LIST's pending answer.
type pendingList struct {
	TotalSize      int           `json:"totalSize"`
	Done           bool          `json:"done"`
	NextRecordsURL string        `json:"nextRecordsUrl"`
	Records        []pendingItem `json:"records"`
}

// list runs APPROVAL_LIST with the event and checks that salesforceResult and
// the paging fields agree.
func (w *pendingWorld) list(t *testing.T, event map[string]any) (pendingList, result) {
	t.Helper()
	r := invoke(t, w.conn.ApprovalList, jsonEvent(t, event))
	mustOK(t, r, "200")
	var l pendingList
	if err := json.Unmarshal([]byte(r.SalesforceResult), &l); err != nil {
		t.Fatalf("salesforceResult %s: %v", r.SalesforceResult, err)
	}
	p := r.Paging
	if p == nil || p.Done != l.Done || p.RecordCount != len(l.Records) || p.TotalSize != l.TotalSize ||
		(p.Cursor == nil) != l.Done || (p.Cursor != nil && *p.Cursor != l.NextRecordsURL) {
		t.Fatalf("paging fields %+v disagree with salesforceResult %s", p, r.SalesforceResult)
	}
	return l, r
}

func workItemIDs(l pendingList) string {
	ids := make([]string, len(l.Records))
	for i, it := range l.Records {
		ids[i] = it.WorkItemID
	}
	return strings.Join(ids, ",")
}

func TestApprovalListPendingNone(t *testing.T) {
	w := newPendingWorld(t)
	w.record(t, "Account", map[string]any{"Name": "Never submitted"})
	l, r := w.list(t, map[string]any{"pending": true})
	if l.TotalSize != 0 || !l.Done || len(l.Records) != 0 || r.Cursor != nil {
		t.Errorf("got %s, want no work item, done, no cursor", r.SalesforceResult)
	}
	if !strings.Contains(r.SalesforceResult, `"records":[]`) {
		t.Errorf("got %s, want an empty records array (not null)", r.SalesforceResult)
	}
}

// One record submitted, listed, approved: its item goes away.
func TestApprovalListPendingThenApproved(t *testing.T) {
	w := newPendingWorld(t)
	account := w.record(t, "Account", map[string]any{"Name": "Acme & <Sons>"})
	item := w.submit(t, nil, account)[0]
	w.clock.Advance(90 * time.Minute) // the org's clock: the function's is not read

	l, r := w.list(t, map[string]any{"pending": true})
	if l.TotalSize != 1 || len(l.Records) != 1 {
		t.Fatalf("got %s, want one work item", r.SalesforceResult)
	}
	user := w.org.Store().UserID()
	got := l.Records[0]
	str := func(p *string) string {
		if p == nil {
			return "<nil>"
		}
		return *p
	}
	for _, tt := range []struct{ name, got, want string }{
		{"workItemId", got.WorkItemID, item},
		{"targetId", got.TargetID, account},
		{"targetType", str(got.TargetType), "Account"},
		{"targetName", str(got.TargetName), "Acme & <Sons>"},
		{"processName", str(got.ProcessName), sforg.DefaultApprovalProcess.Name},
		{"processDeveloperName", str(got.ProcessDeveloperName), sforg.DefaultApprovalProcess.DeveloperName},
		{"actorId", got.ActorID, user},
		{"actorType", str(got.ActorType), "User"},
		{"originalActorId", str(got.OriginalActorID), user},
		{"submittedById", str(got.SubmittedByID), user},
		{"createdDate", got.CreatedDate, "2026-03-02T09:00:00.000+0000"},
		{"waitingMinutes", string(got.WaitingMinutes), "90"},
	} {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
	if !strings.HasPrefix(got.ProcessInstanceID, "04g") {
		t.Errorf("processInstanceId: got %q, want a ProcessInstance id", got.ProcessInstanceID)
	}
	// The item's id is what APPROVAL_APPROVE takes.
	approved := invoke(t, w.conn.ApprovalApprove, jsonEvent(t, map[string]any{"salesforcePayload": map[string]any{"contextId": got.WorkItemID}}))
	mustOK(t, approved, "200")
	if s := processResults(t, approved)[0].InstanceStatus; s != "Approved" {
		t.Fatalf("approve: got %q, want Approved", s)
	}
	if l, r := w.list(t, map[string]any{"pending": true}); l.TotalSize != 0 {
		t.Errorf("after the approval: got %s, want no work item", r.SalesforceResult)
	}
}

// Several records of two types and two approvers, and the filters.
func TestApprovalListPendingFilters(t *testing.T) {
	w := newPendingWorld(t)
	manager, err := w.org.Store().InsertSystem("User", map[string]any{"Username": "manager@example.com", "LastName": "Manager",
		"Alias": "mgr", "Email": "manager@example.com", "IsActive": true, "TimeZoneSidKey": "GMT", "LocaleSidKey": "en_US",
		"LanguageLocaleKey": "en_US", "EmailEncodingKey": "UTF-8"})
	if err != nil {
		t.Fatal(err)
	}
	a1 := w.record(t, "Account", map[string]any{"Name": "First"})
	a2 := w.record(t, "Account", map[string]any{"Name": "Second"})
	c1 := w.record(t, "Contact", map[string]any{"LastName": "Doe"})
	items := w.submit(t, nil, a1)
	w.clock.Advance(time.Minute)
	items = append(items, w.submit(t, []string{manager}, a2)...)
	w.clock.Advance(time.Minute)
	items = append(items, w.submit(t, nil, c1)...)
	all := strings.Join(items, ",")

	tests := []struct {
		name  string
		event map[string]any
		want  string
	}{
		{"no filter: every item, oldest first", map[string]any{"pending": true}, all},
		{"the string true, and empty filters", map[string]any{"pending": "true", "SObjectName": "", "SObjectId": nil, "actorId": ""}, all},
		{"by type", map[string]any{"pending": true, "SObjectName": "Account"}, items[0] + "," + items[1]},
		{"by type, other", map[string]any{"pending": true, "SObjectName": "Contact"}, items[2]},
		{"by type, none", map[string]any{"pending": true, "SObjectName": "Lead"}, ""},
		{"by record", map[string]any{"pending": true, "SObjectId": a2}, items[1]},
		{"by record, 15 characters", map[string]any{"pending": true, "SObjectId": c1[:15]}, items[2]},
		{"by actor", map[string]any{"pending": true, "actorId": manager}, items[1]},
		{"by type and record that disagree", map[string]any{"pending": true, "SObjectName": "Contact", "SObjectId": a1}, ""},
		{"by type and actor", map[string]any{"pending": true, "SObjectName": "Account", "actorId": w.org.Store().UserID()}, items[0]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, _ := w.list(t, tt.event)
			if got := workItemIDs(l); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}

	t.Run("the Contact's item names its type and the Contact process", func(t *testing.T) {
		l, _ := w.list(t, map[string]any{"pending": true, "SObjectName": "Contact"})
		it := l.Records[0]
		if it.TargetType == nil || *it.TargetType != "Contact" || it.ProcessDeveloperName == nil || *it.ProcessDeveloperName != "Contact_Review" {
			t.Errorf("got %+v, want a Contact in Contact_Review", it)
		}
	})
}

// A backlog over one page is walked with the cursor, each item once, each
// output within the budget; with a small budget the cursor continues in the
// middle of Salesforce's pages.
func TestApprovalListPendingBacklog(t *testing.T) {
	const total = 450
	w := newPendingWorld(t)
	var accounts []string
	for i := range total {
		accounts = append(accounts, w.record(t, "Account", map[string]any{"Name": fmt.Sprintf("Backlog %03d", i)}))
	}
	var want []string
	for start := 0; start < total; start += 150 {
		want = append(want, w.submit(t, nil, accounts[start:start+150]...)...)
	}

	tests := []struct {
		name    string
		budget  int
		event   map[string]any
		invokes int // at least
	}{
		{"one Salesforce page an output", settings.DefaultOutputBudget, map[string]any{"pending": true, "SObjectName": "Account", "pageSize": 200}, 3},
		{"a budget that cuts pages", settings.MinOutputBudget, map[string]any{"pending": true, "pageSize": "200"}, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w.conn.budget = tt.budget
			t.Cleanup(func() { w.conn.budget = settings.DefaultOutputBudget })
			event := tt.event
			var got []string
			invokes := 0
			for {
				invokes++
				if invokes > total {
					t.Fatal("no end")
				}
				body, r := rawInvoke(t, w.conn.ApprovalList, jsonEvent(t, event))
				mustOK(t, r, "200")
				if len(body) > tt.budget {
					t.Fatalf("invoke %d: output of %d bytes, over the %d-byte budget", invokes, len(body), tt.budget)
				}
				var l pendingList
				if err := json.Unmarshal([]byte(r.SalesforceResult), &l); err != nil {
					t.Fatal(err)
				}
				if l.TotalSize != total || r.TotalSize != total || r.RecordCount != len(l.Records) {
					t.Fatalf("invoke %d: got totalSize %d/%d recordCount %d for %d records, want %d", invokes, l.TotalSize, r.TotalSize, r.RecordCount, len(l.Records), total)
				}
				got = append(got, strings.Split(workItemIDs(l), ",")...)
				if r.Done {
					break
				}
				// The loop a workflow runs: the same inputs, plus the cursor.
				event = map[string]any{"pending": true, "SObjectName": "Account", "pageSize": 200, "cursor": *r.Cursor}
			}
			if invokes < tt.invokes {
				t.Errorf("got %d invokes, want at least %d", invokes, tt.invokes)
			}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("got %d items, want the %d submitted, each once, oldest first", len(got), len(want))
			}
		})
	}

	t.Run("unpaged, the whole backlog fits the default budget in one output", func(t *testing.T) {
		l, r := w.list(t, map[string]any{"pending": true})
		if !l.Done || len(l.Records) != total {
			t.Errorf("got %d items, done %v, want all %d", len(l.Records), r.Done, total)
		}
	})
	t.Run("unpaged over the budget fails with the hint", func(t *testing.T) {
		w.conn.budget = settings.MinOutputBudget
		t.Cleanup(func() { w.conn.budget = settings.DefaultOutputBudget })
		wantError(t, invoke(t, w.conn.ApprovalList, `{"pending":true}`), faults.UnknownError,
			"APPROVAL_LIST result of 450 records is over the 4096-byte output budget")
	})
}

// Without pending, APPROVAL_LIST answers as it always has, whatever else the
// input holds (a Task that passes its whole state).
func TestApprovalListDefinitionsUnchanged(t *testing.T) {
	w := newPendingWorld(t)
	account := w.record(t, "Account", map[string]any{"Name": "Pending but not asked"})
	w.submit(t, nil, account)
	for _, event := range []string{`{}`, `{"pending":false}`, `{"pending":null,"SObjectName":"Account","SObjectId":"` + account + `","pageSize":5}`} {
		t.Run(event, func(t *testing.T) {
			r := invoke(t, w.conn.ApprovalList, event)
			mustOK(t, r, "200")
			if r.Paging != nil {
				t.Errorf("got paging fields %+v, want none", r.Paging)
			}
			approvals, ok := field(t, r, "approvals").(map[string]any)
			if !ok || approvals["Account"] == nil || approvals["Contact"] == nil {
				t.Errorf("got %s, want the process definitions of Account and Contact", r.SalesforceResult)
			}
		})
	}
}

// A bad input is refused before anything is sent, not even a login.
func TestApprovalListPendingBadInput(t *testing.T) {
	tests := []struct {
		event string
		code  faults.Code
		text  string
	}{
		{`{"pending":"yes"}`, faults.InvalidInput, "pending must be true or false"},
		{`{"pending":1}`, faults.InvalidInput, "pending must be true or false"},
		{`{"pending":true,"SObjectName":"Account' OR Name != '"}`, faults.InvalidInput, "SObjectName"},
		{`{"pending":true,"SObjectName":"Account/x"}`, faults.InvalidInput, "not a valid Salesforce API name"},
		{`{"pending":true,"SObjectName":42}`, faults.InvalidInput, "SObjectName must be a string"},
		{`{"pending":true,"SObjectId":"001000000000000AAB"}`, faults.InvalidInput, "SObjectId"},
		{`{"pending":true,"SObjectId":"0015g00000000' OR Id != '"}`, faults.InvalidInput, "SObjectId"},
		{`{"pending":true,"actorId":"not-an-id"}`, faults.InvalidInput, "actorId"},
		{`{"pending":true,"actorId":["005"]}`, faults.InvalidInput, "actorId must be a string"},
		{`{"pending":true,"pageSize":10}`, faults.InvalidInput, "pageSize must be a whole number from 200 to 2000"},
		{`{"pending":true,"cursor":"https://evil.example/services/data/v45.0/query/01g-200"}`, faults.InvalidInput, "cursor"},
		{`{"pending":true,"SObjectId":"bad","cursor":"/services/data/v45.0/query/01gD0000002HU6KIAW-2000"}`, faults.InvalidInput, "SObjectId"},
	}
	for _, tt := range tests {
		t.Run(tt.event, func(t *testing.T) {
			w := setup(t)
			wantError(t, invoke(t, w.conn.ApprovalList, tt.event), tt.code, tt.text)
			if n := w.org.Requests("*"); n != 0 {
				t.Errorf("got %d requests at the org, want none", n)
			}
		})
	}
}

// A cursor of another query's result cannot be continued as pending items.
func TestApprovalListPendingForeignCursor(t *testing.T) {
	w := newPendingWorld(t)
	for i := range 300 {
		w.record(t, "Account", map[string]any{"Name": fmt.Sprintf("Other %03d", i)})
	}
	q := invoke(t, w.conn.Query, `{"salesforceQuery":"SELECT Id FROM Account","pageSize":200}`)
	mustOK(t, q, "200")
	if q.Cursor == nil {
		t.Fatal("the query gave no cursor")
	}
	r := invoke(t, w.conn.ApprovalList, jsonEvent(t, map[string]any{"pending": true, "cursor": *q.Cursor}))
	wantError(t, r, faults.InvalidInput, "cursor does not continue a list of pending approvals")
}

// Salesforce's refusal of the query (an org where the user may not read work
// items, say) is an output with its status, done and no cursor.
func TestApprovalListPendingRefused(t *testing.T) {
	w := newPendingWorld(t)
	mustInject(t, w.org, sforg.Fault{Route: "query", Kind: sforg.FaultStatus, Status: 400})
	r := invoke(t, w.conn.ApprovalList, `{"pending":true}`)
	mustOK(t, r, "400")
	if r.Paging == nil || !r.Done || r.Cursor != nil {
		t.Errorf("got paging %+v, want done with no cursor", r.Paging)
	}
}

func TestPendingItemOf(t *testing.T) {
	tests := []struct {
		name, record, want string
	}{
		{"a queue, a null elapsed time and no target",
			`{"attributes":{"type":"ProcessInstanceWorkitem"},"Id":"04i1","ProcessInstanceId":"04g1","ProcessInstance":{"TargetObjectId":"a0B1","TargetObject":null,"ProcessDefinition":null,"SubmittedById":null},"ActorId":"00G1","OriginalActorId":"005X","CreatedDate":"2026-01-01T00:00:00.000+0000","ElapsedTimeInMinutes":null}`,
			`{"workItemId":"04i1","processInstanceId":"04g1","targetId":"a0B1","targetType":null,"targetName":null,"processName":null,"processDeveloperName":null,"actorId":"00G1","actorType":"Queue","originalActorId":"005X","submittedById":null,"createdDate":"2026-01-01T00:00:00.000+0000","waitingMinutes":null}`},
		{"a fractional elapsed time as Salesforce wrote it, and no ProcessInstance",
			`{"attributes":{"type":"ProcessInstanceWorkitem"},"Id":"04i2","ActorId":"0XY1","ElapsedTimeInMinutes":12.0}`,
			`{"workItemId":"04i2","processInstanceId":"","targetId":"","targetType":null,"targetName":null,"processName":null,"processDeveloperName":null,"actorId":"0XY1","actorType":null,"originalActorId":null,"submittedById":null,"createdDate":"","waitingMinutes":12.0}`},
		{"a string where a number belongs is null",
			`{"attributes":{"type":"ProcessInstanceWorkitem"},"Id":"04i3","ElapsedTimeInMinutes":"12"}`,
			`{"workItemId":"04i3","processInstanceId":"","targetId":"","targetType":null,"targetName":null,"processName":null,"processDeveloperName":null,"actorId":"","actorType":null,"originalActorId":null,"submittedById":null,"createdDate":"","waitingMinutes":null}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pendingItemOf(json.RawMessage(tt.record))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	if _, err := pendingItemOf(json.RawMessage(`[1]`)); faults.CodeOf(err) != faults.UnknownError {
		t.Errorf("a record that is not an object: got %v, want UNKNOWN_ERROR", err)
	}
}
