package soql

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sfconnect/connector/sforg/internal/ids"
)

// zoneOrg is a fakeOrg with a Clock and, when loc is set, a Zone.
type zoneOrg struct {
	*fakeOrg
	loc *time.Location
}

func (z zoneOrg) Now() time.Time { return z.now }

func (z zoneOrg) Location() *time.Location { return z.loc }

// Opportunities whose CreatedDate sits around the midnights of UTC and of Los
// Angeles on 2024-03-07/08, and around the start of daylight saving time in Los
// Angeles (Sunday 2024-03-10, 02:00 PST becomes 03:00 PDT).
var (
	oppEarlyLA  = ids.New("006", "5g0", 1) // 2024-03-07T09:00Z = 03-07 01:00 PST
	oppLateLA   = ids.New("006", "5g0", 2) // 2024-03-08T07:59Z = 03-07 23:59 PST
	oppMidLA    = ids.New("006", "5g0", 3) // 2024-03-08T08:00Z = 03-08 00:00 PST
	oppEve      = ids.New("006", "5g0", 4) // 2024-03-07T07:59Z = 03-06 23:59 PST
	oppSatNight = ids.New("006", "5g0", 5) // 2024-03-10T07:30Z = 03-09 23:30 PST
	oppSunday   = ids.New("006", "5g0", 6) // 2024-03-10T08:00Z = 03-10 00:00 PST
	oppSatLate  = ids.New("006", "5g0", 7) // 2024-03-17T06:59Z = 03-16 23:59 PDT
	oppNextSun  = ids.New("006", "5g0", 8) // 2024-03-17T07:00Z = 03-17 00:00 PDT
)

func newZoneOrg(t *testing.T, now string, inLA bool) zoneOrg {
	t.Helper()
	at, err := time.Parse(time.RFC3339, now)
	if err != nil {
		t.Fatal(err)
	}
	o := &fakeOrg{objects: map[string]ObjectInfo{}, rows: map[string][]map[string]any{}, byID: map[string]map[string]any{}, now: at}
	obj := objectInfo("Opportunity",
		FieldInfo{Name: "Name", Type: TypeString},
		FieldInfo{Name: "CreatedDate", Type: TypeDateTime},
		FieldInfo{Name: "CloseDate", Type: TypeDate},
		FieldInfo{Name: "Amount", Type: TypeCurrency})
	o.objects["opportunity"] = obj
	for _, r := range []struct {
		id, name, created, close string
		amount                   float64
	}{
		{oppEarlyLA, "early", "2024-03-07T09:00:00.000+0000", "2024-03-07", 10},
		{oppLateLA, "late", "2024-03-08T07:59:00.000+0000", "2024-03-08", 20},
		{oppMidLA, "midnight", "2024-03-08T08:00:00.000+0000", "2024-03-08", 40},
		{oppEve, "eve", "2024-03-07T07:59:00.000+0000", "2024-02-29", 80},
		{oppSatNight, "saturday night", "2024-03-10T07:30:00.000+0000", "2024-03-09", 1},
		{oppSunday, "sunday", "2024-03-10T08:00:00.000+0000", "2024-03-10", 2},
		{oppSatLate, "saturday late", "2024-03-17T06:59:00.000+0000", "2024-03-16", 4},
		{oppNextSun, "next sunday", "2024-03-17T07:00:00.000+0000", "2024-03-17", 8},
	} {
		row := map[string]any{"Id": r.id, "IsDeleted": false, "Name": r.name, "CreatedDate": r.created, "CloseDate": r.close, "Amount": r.amount}
		o.rows["Opportunity"] = append(o.rows["Opportunity"], row)
		o.byID[r.id] = row
	}
	z := zoneOrg{fakeOrg: o}
	if inLA {
		loc, err := time.LoadLocation("America/Los_Angeles")
		if err != nil {
			t.Fatal(err)
		}
		z.loc = loc
	}
	return z
}

func names(t *testing.T, res *Result) string {
	t.Helper()
	var out []string
	for _, r := range res.Records {
		out = append(out, render(r.Fields[0].Value))
	}
	return strings.Join(out, ", ")
}

// TestDateLiteralsInUserTimeZone pins the clock at 2024-03-08T05:30Z, which is
// still 2024-03-07 in Los Angeles: TODAY differs between the two zones.
func TestDateLiteralsInUserTimeZone(t *testing.T) {
	for _, tc := range []struct {
		name, now, where string
		inLA             bool
		want             string
	}{
		{"datetime TODAY in Los Angeles", "2024-03-08T05:30:00Z", "CreatedDate = TODAY", true, "early, late"},
		{"datetime TODAY in UTC", "2024-03-08T05:30:00Z", "CreatedDate = TODAY", false, "late, midnight"},
		{"datetime YESTERDAY in Los Angeles", "2024-03-08T05:30:00Z", "CreatedDate = YESTERDAY", true, "eve"},
		{"datetime TOMORROW in Los Angeles", "2024-03-08T05:30:00Z", "CreatedDate = TOMORROW", true, "midnight"},
		{"datetime after TODAY in Los Angeles", "2024-03-08T05:30:00Z", "CreatedDate > TODAY AND CreatedDate < 2024-03-09T00:00:00Z", true, "midnight"},
		{"date TODAY in Los Angeles", "2024-03-08T05:30:00Z", "CloseDate = TODAY", true, "early"},
		{"date TODAY in UTC", "2024-03-08T05:30:00Z", "CloseDate = TODAY", false, "late, midnight"},
		{"LAST_N_DAYS:1 in Los Angeles", "2024-03-08T05:30:00Z", "CreatedDate = LAST_N_DAYS:1", true, "early, late, eve"},
		{"THIS_MONTH of a date in Los Angeles", "2024-03-01T05:00:00Z", "CloseDate = THIS_MONTH", true, "eve"},
		{"THIS_MONTH of a date in UTC", "2024-03-01T05:00:00Z", "CloseDate = LAST_MONTH", false, "eve"},
		// The week of 2024-03-10 starts at midnight PST and ends at midnight PDT.
		{"THIS_WEEK across daylight saving time", "2024-03-12T06:00:00Z", "CreatedDate = THIS_WEEK", true, "sunday, saturday late"},
		{"THIS_WEEK in UTC", "2024-03-12T06:00:00Z", "CreatedDate = THIS_WEEK", false, "saturday night, sunday"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := newZoneOrg(t, tc.now, tc.inLA)
			res, err := Run(src, "SELECT Name FROM Opportunity WHERE "+tc.where, false)
			if err != nil {
				t.Fatal(err)
			}
			if got := names(t, res); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDateFunctions(t *testing.T) {
	for _, tc := range []struct {
		name, query string
		want        string
	}{
		{"HOUR_IN_DAY reads UTC",
			"SELECT HOUR_IN_DAY(CreatedDate), COUNT(Id) FROM Opportunity WHERE CreatedDate < 2024-03-09T00:00:00Z GROUP BY HOUR_IN_DAY(CreatedDate) ORDER BY HOUR_IN_DAY(CreatedDate)",
			"AggregateResult{expr0:7 expr1:2}, AggregateResult{expr0:8 expr1:1}, AggregateResult{expr0:9 expr1:1}"},
		{"convertTimezone reads the user's zone",
			"SELECT HOUR_IN_DAY(convertTimezone(CreatedDate)) h, SUM(Amount) FROM Opportunity WHERE CreatedDate < 2024-03-09T00:00:00Z GROUP BY HOUR_IN_DAY(convertTimezone(CreatedDate)) ORDER BY HOUR_IN_DAY(convertTimezone(CreatedDate)) DESC",
			"AggregateResult{h:23 expr0:100}, AggregateResult{h:1 expr0:10}, AggregateResult{h:0 expr0:40}"},
		{"DAY_ONLY of convertTimezone against TODAY",
			"SELECT Name FROM Opportunity WHERE DAY_ONLY(convertTimezone(CreatedDate)) = TODAY",
			"Opportunity(" + oppEarlyLA + "){Name:early}, Opportunity(" + oppLateLA + "){Name:late}"},
		{"DAY_ONLY without convertTimezone is the UTC day",
			"SELECT Name FROM Opportunity WHERE DAY_ONLY(CreatedDate) = 2024-03-08",
			"Opportunity(" + oppLateLA + "){Name:late}, Opportunity(" + oppMidLA + "){Name:midnight}"},
		{"DAY_ONLY grouped",
			"SELECT DAY_ONLY(convertTimezone(CreatedDate)) d, COUNT(Id) n FROM Opportunity WHERE CreatedDate < 2024-03-09T00:00:00Z GROUP BY DAY_ONLY(convertTimezone(CreatedDate)) ORDER BY DAY_ONLY(convertTimezone(CreatedDate))",
			"AggregateResult{d:2024-03-06 n:1}, AggregateResult{d:2024-03-07 n:2}, AggregateResult{d:2024-03-08 n:1}"},
		{"date functions of a date field",
			"SELECT CALENDAR_YEAR(CloseDate), CALENDAR_QUARTER(CloseDate), CALENDAR_MONTH(CloseDate), DAY_IN_MONTH(CloseDate), DAY_IN_WEEK(CloseDate), DAY_IN_YEAR(CloseDate), WEEK_IN_MONTH(CloseDate), WEEK_IN_YEAR(CloseDate), FISCAL_YEAR(CloseDate) FROM Opportunity WHERE Name = 'eve' GROUP BY CALENDAR_YEAR(CloseDate), CALENDAR_QUARTER(CloseDate), CALENDAR_MONTH(CloseDate), DAY_IN_MONTH(CloseDate), DAY_IN_WEEK(CloseDate), DAY_IN_YEAR(CloseDate), WEEK_IN_MONTH(CloseDate), WEEK_IN_YEAR(CloseDate), FISCAL_YEAR(CloseDate)",
			// 2024-02-29 was a Thursday, day 60 of a leap year.
			"AggregateResult{expr0:2024 expr1:1 expr2:2 expr3:29 expr4:5 expr5:60 expr6:5 expr7:9 expr8:2024}"},
		{"date function in WHERE",
			"SELECT Name FROM Opportunity WHERE CALENDAR_MONTH(CloseDate) = 2",
			"Opportunity(" + oppEve + "){Name:eve}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := newZoneOrg(t, "2024-03-08T05:30:00Z", true)
			res, err := Run(src, tc.query, false)
			if err != nil {
				t.Fatal(err)
			}
			var recs []string
			for _, r := range res.Records {
				recs = append(recs, render(r))
			}
			if got := strings.Join(recs, ", "); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDateFunctionErrors(t *testing.T) {
	for _, tc := range []struct {
		name, query, code, text string
	}{
		{"not a date field", "SELECT CALENDAR_YEAR(Name), COUNT(Id) FROM Opportunity GROUP BY CALENDAR_YEAR(Name)", CodeMalformedQuery, "date function CALENDAR_YEAR"},
		{"convertTimezone of a date", "SELECT Name FROM Opportunity WHERE DAY_ONLY(convertTimezone(CloseDate)) = TODAY", CodeMalformedQuery, "takes a dateTime field"},
		{"HOUR_IN_DAY of a date", "SELECT Name FROM Opportunity WHERE HOUR_IN_DAY(CloseDate) = 1", CodeMalformedQuery, "takes a dateTime field"},
		{"convertTimezone alone", "SELECT convertTimezone(CreatedDate) FROM Opportunity", CodeMalformedQuery, "unexpected token: '('"},
		{"convertTimezone alone in WHERE", "SELECT Name FROM Opportunity WHERE convertTimezone(CreatedDate) > TODAY", CodeMalformedQuery, "unexpected token: '('"},
		{"date function not grouped", "SELECT CALENDAR_YEAR(CreatedDate) FROM Opportunity", CodeMalformedQuery, "Field must be grouped or aggregated: CALENDAR_YEAR(CreatedDate)"},
		{"number against a date", "SELECT Name FROM Opportunity WHERE DAY_ONLY(CreatedDate) = 3", CodeInvalidField, "must be of type date"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Run(newZoneOrg(t, "2024-03-08T05:30:00Z", true), tc.query, false)
			wantError(t, err, tc.code, tc.text)
		})
	}
}

// wantError fails unless err is a *Error with code whose message holds text.
func wantError(t *testing.T, err error, code, text string) {
	t.Helper()
	var qe *Error
	if !errors.As(err, &qe) {
		t.Fatalf("got %v, want a *soql.Error", err)
	}
	if qe.Code != code || !strings.Contains(qe.Message, text) {
		t.Errorf("got %s %q, want %s containing %q", qe.Code, qe.Message, code, text)
	}
}
