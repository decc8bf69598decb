package sforg

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sfconnect/connector/internal/testclock"
)

func TestReplicationIDLimit(t *testing.T) {
	old := maxReplicationIDs
	maxReplicationIDs = 2
	t.Cleanup(func() { maxReplicationIDs = old })
	clock := testclock.New(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))
	c := startOrgClient(t, Options{Now: clock.Now})
	for range 3 {
		c.createJSON("Account", `{"Name":"x"}`)
	}
	clock.Advance(time.Minute)
	for _, tc := range []struct {
		what   string
		status int
		want   string
	}{
		{"updated", http.StatusBadRequest, `"errorCode":"EXCEEDED_ID_LIMIT"`},
		{"deleted", http.StatusOK, `"deletedRecords":[]`},
	} {
		status, body := c.do("GET", "/services/data/v45.0/sobjects/Account/"+tc.what+"/?start=2024-05-01T11:00:00Z&end=2024-05-01T13:00:00Z", nil, nil)
		if status != tc.status || !strings.Contains(string(body), tc.want) {
			t.Errorf("%s: got %d %s, want %d %s", tc.what, status, body, tc.status, tc.want)
		}
	}
}
