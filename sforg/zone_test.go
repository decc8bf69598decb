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

// TestQueryDatesInUserTimeZone creates two accounts on 2024-03-07 in Los Angeles
// (the second one already on 2024-03-08 in UTC) and queries at 2024-03-08T02:00Z,
// when it is still 2024-03-07 18:00 in Los Angeles, the integration user's zone.
func TestQueryDatesInUserTimeZone(t *testing.T) {
	clock := testclock.New(time.Date(2024, 3, 7, 9, 0, 0, 0, time.UTC))
	o := newOrg(t, sforg.Options{Now: clock.Now, SessionTTL: 48 * time.Hour})
	early := o.create(t, "Account", map[string]any{"Name": "Early"})
	clock.Advance(16 * time.Hour) // 2024-03-08T01:00Z
	late := o.create(t, "Account", map[string]any{"Name": "Late"})
	clock.Advance(time.Hour)

	query := func(t *testing.T, soql string) string {
		t.Helper()
		res := o.do(t, http.MethodGet, "/services/data/v45.0/query?q="+url.QueryEscape(soql), nil)
		if res.status != http.StatusOK {
			t.Fatalf("got %d %s", res.status, res.body)
		}
		var page struct {
			Records []map[string]any `json:"records"`
		}
		res.json(t, &page)
		var ids []string
		for _, r := range page.Records {
			for _, v := range r {
				if s, ok := v.(string); ok {
					ids = append(ids, s)
				}
			}
		}
		return strings.Join(ids, ",")
	}
	for _, tc := range []struct {
		name, zone, soql, want string
	}{
		{"TODAY in Los Angeles", "", "SELECT Id FROM Account WHERE CreatedDate = TODAY ORDER BY CreatedDate", early + "," + late},
		{"YESTERDAY in Los Angeles", "", "SELECT Id FROM Account WHERE CreatedDate = YESTERDAY", ""},
		{"DAY_ONLY of convertTimezone", "", "SELECT DAY_ONLY(convertTimezone(CreatedDate)) d FROM Account WHERE Name IN ('Early', 'Late') GROUP BY DAY_ONLY(convertTimezone(CreatedDate))", "2024-03-07"},
		{"DAY_ONLY in UTC", "", "SELECT DAY_ONLY(CreatedDate) d FROM Account WHERE Name IN ('Early', 'Late') GROUP BY DAY_ONLY(CreatedDate) ORDER BY DAY_ONLY(CreatedDate)", "2024-03-07,2024-03-08"},
		{"TODAY for a user in GMT", "GMT", "SELECT Id FROM Account WHERE CreatedDate = TODAY", late},
		{"YESTERDAY for a user in GMT", "GMT", "SELECT Id FROM Account WHERE CreatedDate = YESTERDAY", early},
	} {
		t.Run(tc.name, func(t *testing.T) {
			zone := tc.zone
			if zone == "" {
				zone = "America/Los_Angeles"
			}
			if err := o.Store().UpdateSystem(o.Store().UserID(), map[string]any{"TimeZoneSidKey": zone}); err != nil {
				t.Fatal(err)
			}
			if got := query(t, tc.soql); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
