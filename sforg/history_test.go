package sforg_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sfconnect/connector/internal/testclock"
	"github.com/sfconnect/connector/sforg"
)

// historyOrg is an org whose clock started at 2024-05-01T12:00:30Z: account
// "first" was created then and changed at 12:02:30, "second" created at
// 12:02:30 and deleted at 12:04:30, "third" created at 12:04:30; it is now
// 12:05:30.
type historyOrg struct {
	org
	clock                *testclock.Clock
	first, second, third string
}

func newHistoryOrg(t *testing.T) *historyOrg {
	t.Helper()
	clock := testclock.New(time.Date(2024, 5, 1, 12, 0, 30, 0, time.UTC))
	h := &historyOrg{org: newOrg(t, sforg.Options{Now: clock.Now, SessionTTL: 60 * 24 * time.Hour}), clock: clock}
	h.first = h.create(t, "Account", map[string]any{"Name": "first"})
	clock.Advance(2 * time.Minute)
	h.second = h.create(t, "Account", map[string]any{"Name": "second"})
	if res := h.do(t, http.MethodPatch, "/services/data/v45.0/sobjects/Account/"+h.first, map[string]any{"Phone": "555"}); res.status != http.StatusNoContent {
		t.Fatalf("update: got %d %s", res.status, res.body)
	}
	clock.Advance(2 * time.Minute)
	if res := h.do(t, http.MethodDelete, "/services/data/v45.0/sobjects/Account/"+h.second, nil); res.status != http.StatusNoContent {
		t.Fatalf("delete: got %d %s", res.status, res.body)
	}
	h.third = h.create(t, "Account", map[string]any{"Name": "third"})
	clock.Advance(time.Minute)
	return h
}

func (h *historyOrg) window(t *testing.T, what, object, start, end string) response {
	t.Helper()
	q := url.Values{}
	if start != "" {
		q.Set("start", start)
	}
	if end != "" {
		q.Set("end", end)
	}
	return h.do(t, http.MethodGet, "/services/data/v45.0/sobjects/"+object+"/"+what+"/?"+q.Encode(), nil)
}

func TestGetUpdated(t *testing.T) {
	h := newHistoryOrg(t)
	for _, tc := range []struct {
		name, start, end string
		ids              []string
		covered          string
	}{
		// Seconds are ignored: the window is [12:00, 12:05), 12:05 being the current minute.
		{"open end", "2024-05-01T12:00:45Z", "2024-05-01T13:00:00Z", []string{h.first, h.third}, "2024-05-01T12:05:00.000+0000"},
		// first changed again at 12:02:30, after the window: SystemModstamp decides.
		{"closed window", "2024-05-01T12:00:00+00:00", "2024-05-01T12:02:00+00:00", []string{}, "2024-05-01T12:02:00.000+0000"},
		{"jsforce's format and an offset", "2024-05-01T05:02:00-07:00", "2024-05-01T12:03:59+00:00", []string{h.first}, "2024-05-01T12:03:00.000+0000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := h.window(t, "updated", "Account", tc.start, tc.end)
			if res.status != http.StatusOK {
				t.Fatalf("got %d %s", res.status, res.body)
			}
			sameKeysAndTypes(t, res.body, fixture(t, "restforce/spec/fixtures/sobject/get_updated_success_response.json"))
			var got struct {
				IDs               []string `json:"ids"`
				LatestDateCovered string   `json:"latestDateCovered"`
			}
			res.json(t, &got)
			if !jsonEqual(got.IDs, tc.ids) || got.LatestDateCovered != tc.covered {
				t.Errorf("got %v %q, want %v %q", got.IDs, got.LatestDateCovered, tc.ids, tc.covered)
			}
		})
	}
	t.Run("a change of the current minute is returned, and covered again next time", func(t *testing.T) {
		fourth := h.create(t, "Account", map[string]any{"Name": "fourth"}) // 12:05:30
		res := h.window(t, "updated", "Account", "2024-05-01T12:05:00Z", "2024-05-01T12:07:00Z")
		var got struct {
			IDs               []string `json:"ids"`
			LatestDateCovered string   `json:"latestDateCovered"`
		}
		res.json(t, &got)
		if !jsonEqual(got.IDs, []string{fourth}) || got.LatestDateCovered != "2024-05-01T12:05:00.000+0000" {
			t.Errorf("got %d %s, want [%s] covered to 12:05", res.status, res.body, fourth)
		}
	})
}

func TestGetDeleted(t *testing.T) {
	h := newHistoryOrg(t)
	type result struct {
		DeletedRecords []struct {
			ID          string `json:"id"`
			DeletedDate string `json:"deletedDate"`
		} `json:"deletedRecords"`
		EarliestDateAvailable string `json:"earliestDateAvailable"`
		LatestDateCovered     string `json:"latestDateCovered"`
	}
	get := func(t *testing.T, start, end string) result {
		t.Helper()
		res := h.window(t, "deleted", "Account", start, end)
		if res.status != http.StatusOK {
			t.Fatalf("got %d %s", res.status, res.body)
		}
		sameKeysAndTypes(t, res.body, fixture(t, "restforce/spec/fixtures/sobject/get_deleted_success_response.json"))
		var r result
		res.json(t, &r)
		return r
	}

	got := get(t, "2024-05-01T12:00:00Z", "2024-05-02T00:00:00Z")
	if len(got.DeletedRecords) != 1 || got.DeletedRecords[0].ID != h.second || got.DeletedRecords[0].DeletedDate != "2024-05-01T12:04:30.000+0000" {
		t.Errorf("deletedRecords: got %+v, want %s deleted at 12:04:30", got.DeletedRecords, h.second)
	}
	// Nothing was purged yet: the log covers everything since the org began.
	if got.EarliestDateAvailable != "2024-05-01T12:00:00.000+0000" || got.LatestDateCovered != "2024-05-01T12:05:00.000+0000" {
		t.Errorf("got earliest %q, latest %q", got.EarliestDateAvailable, got.LatestDateCovered)
	}
	if got := get(t, "2024-05-01T12:00:00Z", "2024-05-01T12:04:00Z"); len(got.DeletedRecords) != 0 {
		t.Errorf("before the deletion: got %+v, want none", got.DeletedRecords)
	}

	t.Run("after 15 days the delete log is purged", func(t *testing.T) {
		h.clock.Advance(16 * 24 * time.Hour)
		got := get(t, "2024-04-30T00:00:00Z", "2024-05-20T00:00:00Z")
		if len(got.DeletedRecords) != 0 || got.EarliestDateAvailable != "2024-05-01T12:04:00.000+0000" {
			t.Errorf("got %+v, want no records and the purged deletion's minute as earliestDateAvailable", got)
		}
	})
}

func TestReplicationErrors(t *testing.T) {
	h := newHistoryOrg(t)
	for _, tc := range []struct {
		name, what, object, start, end string
		status                         int
		code, message                  string
	}{
		{"start after end", "updated", "Account", "2024-05-01T12:00:00Z", "2024-04-30T12:00:00Z", 400, "INVALID_REPLICATION_DATE", "startDate must be at least one minute greater than endDate"},
		{"same minute", "deleted", "Account", "2024-05-01T12:00:10Z", "2024-05-01T12:00:50Z", 400, "INVALID_REPLICATION_DATE", "startDate must be at least one minute greater than endDate"},
		{"more than 30 days ago", "updated", "Account", "2024-03-31T23:59:00Z", "2024-05-01T12:00:00Z", 400, "INVALID_REPLICATION_DATE", "startDate cannot be more than 30 days ago"},
		{"deleted more than 30 days ago", "deleted", "Account", "2024-03-01T00:00:00Z", "2024-05-01T12:00:00Z", 400, "INVALID_REPLICATION_DATE", "startDate cannot be more than 30 days ago"},
		{"no start", "updated", "Account", "", "2024-05-01T12:00:00Z", 400, "MISSING_ARGUMENT", "start was not specified"},
		{"no end", "deleted", "Account", "2024-05-01T12:00:00Z", "", 400, "MISSING_ARGUMENT", "end was not specified"},
		{"not a date", "updated", "Account", "yesterday", "2024-05-01T12:00:00Z", 400, "INVALID_REPLICATION_DATE", "start is not a valid dateTime: yesterday"},
		{"unknown object", "updated", "Nope__c", "2024-05-01T12:00:00Z", "2024-05-01T13:00:00Z", 404, "NOT_FOUND", "The requested resource does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := h.window(t, tc.what, tc.object, tc.start, tc.end)
			var errs []sforg.APIError
			res.json(t, &errs)
			if res.status != tc.status || len(errs) != 1 || errs[0].ErrorCode != tc.code || errs[0].Message != tc.message {
				t.Errorf("got %d %s, want %d %s %q", res.status, res.body, tc.status, tc.code, tc.message)
			}
		})
	}
	t.Run("30 days before the day of the call is allowed", func(t *testing.T) {
		if res := h.window(t, "updated", "Account", "2024-04-01T00:00:00Z", "2024-04-02T00:00:00Z"); res.status != http.StatusOK {
			t.Errorf("got %d %s", res.status, res.body)
		}
	})
	t.Run("only GET", func(t *testing.T) {
		res := h.do(t, http.MethodPost, "/services/data/v45.0/sobjects/Account/deleted/", map[string]any{})
		if res.status != http.StatusMethodNotAllowed || res.errorCode(t) != "METHOD_NOT_ALLOWED" {
			t.Errorf("got %d %s", res.status, res.body)
		}
	})
}

func TestReplicationRoutes(t *testing.T) {
	h := newHistoryOrg(t)
	if err := h.Inject(sforg.Fault{Route: sforg.RouteGetDeleted, Kind: sforg.FaultStatus, Status: 503, Times: 1}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []int{503, 200} {
		if res := h.window(t, "deleted", "Account", "2024-05-01T12:00:00Z", "2024-05-01T13:00:00Z"); res.status != want {
			t.Errorf("got %d %s, want %d", res.status, res.body, want)
		}
	}
	h.window(t, "updated", "Account", "2024-05-01T12:00:00Z", "2024-05-01T13:00:00Z")
	for route, want := range map[string]int{sforg.RouteGetDeleted: 2, sforg.RouteGetUpdated: 1} {
		if got := h.Requests(route); got != want {
			t.Errorf("requests.%s: got %d, want %d", route, got, want)
		}
	}
	if res := h.window(t, "updated", "Account", "2024-05-01T12:00:00Z", "2024-05-01T13:00:00Z"); res.header.Get("Sforce-Limit-Info") == "" {
		t.Error("no Sforce-Limit-Info")
	}
}

// TestDroppedTaskCreateShowsInGetUpdated drops the answer of a Task create
// after it committed: the client sees no answer, and get updated (the way a
// sync tool finds out) lists the task.
func TestDroppedTaskCreateShowsInGetUpdated(t *testing.T) {
	h := newHistoryOrg(t)
	if err := h.Inject(sforg.Fault{Route: sforg.RouteCreate, Kind: sforg.FaultDropAfter, Times: 1}); err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, h.URL+"/services/data/v45.0/sobjects/Task/", strings.NewReader(`{"Subject":"Call back"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+h.token)
	req.Header.Set("Content-Type", "application/json")
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
		t.Fatalf("got status %d, want the connection dropped", res.StatusCode)
	}
	h.clock.Advance(time.Minute)
	res := h.window(t, "updated", "Task", "2024-05-01T12:00:00Z", "2024-05-01T13:00:00Z")
	var got struct{ IDs []string }
	res.json(t, &got)
	if res.status != http.StatusOK || len(got.IDs) != 1 {
		t.Fatalf("got %d %s, want the one task", res.status, res.body)
	}
	if task := h.do(t, http.MethodGet, "/services/data/v45.0/sobjects/Task/"+got.IDs[0], nil); !strings.Contains(string(task.body), `"Subject":"Call back"`) {
		t.Errorf("the task: got %d %s", task.status, task.body)
	}
}
