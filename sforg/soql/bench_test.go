package soql

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sfconnect/connector/sforg/internal/ids"
)

// bigOrg is the fixture's schema with n accounts owned by 100 users.
func bigOrg(n int) *fakeOrg {
	o := newFakeOrg()
	o.rows["Account"] = nil
	industries := []string{"Technology", "Retail", "Manufacturing", "Energy", ""}
	for u := 0; u < 100; u++ {
		id := ids.New("005", "5g1", uint64(u))
		row := map[string]any{"Id": id, "IsDeleted": false, "Name": fmt.Sprintf("User %03d", u), "IsActive": u%10 != 0}
		o.rows["User"] = append(o.rows["User"], row)
		o.byID[id] = row
	}
	for i := 0; i < n; i++ {
		id := ids.New("001", "5g1", uint64(i))
		row := map[string]any{
			"Id":                id,
			"IsDeleted":         i%50 == 0,
			"Name":              fmt.Sprintf("Account %05d", (i*7919)%n),
			"Industry":          industries[i%len(industries)],
			"NumberOfEmployees": float64(i % 1000),
			"AnnualRevenue":     float64(i) * 10.5,
			"CreatedDate":       fmt.Sprintf("2024-%02d-%02dT%02d:00:00.000+0000", 1+i%12, 1+i%28, i%24),
			"Active__c":         i%3 == 0,
			"OwnerId":           ids.New("005", "5g1", uint64(i%100)),
		}
		o.rows["Account"] = append(o.rows["Account"], row)
		o.byID[id] = row
	}
	return o
}

var bigQueries = []struct {
	name, query string
	want        int // rows (or the count) on bigOrg(50000)
}{
	{"where+order", "SELECT Id, Name, NumberOfEmployees FROM Account WHERE NumberOfEmployees > 500 AND Industry != 'Energy' ORDER BY Name DESC LIMIT 2000", 2000},
	{"where+order all rows", "SELECT Id, Name FROM Account WHERE Industry = 'technology' ORDER BY NumberOfEmployees DESC, Name", 9000},
	{"parent field", "SELECT Name, Owner.Name FROM Account WHERE Owner.IsActive = false ORDER BY Owner.Name, CreatedDate", 4000},
	{"like", "SELECT Id FROM Account WHERE Name LIKE '%99%'", 1390},
	{"datetime", "SELECT Id FROM Account WHERE CreatedDate >= 2024-06-01T00:00:00Z ORDER BY CreatedDate", 28666},
	{"count", "SELECT COUNT() FROM Account WHERE Active__c = true", 16333},
	{"count where", "SELECT COUNT() FROM Account WHERE NumberOfEmployees > 500 AND Industry != 'Energy'", 19500},
	{"group by", "SELECT Industry, COUNT(Id), SUM(AnnualRevenue) FROM Account GROUP BY Industry", 5},
}

// TestBigQueries checks the benchmark's queries give the right counts, so the
// benchmark measures correct work.
func TestBigQueries(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 50,000 rows")
	}
	org := bigOrg(50000)
	for _, tt := range bigQueries {
		t.Run(tt.name, func(t *testing.T) {
			res := mustRun(t, org, tt.query, false)
			got := len(res.Records)
			if strings.Contains(tt.query, "COUNT()") {
				got = res.TotalSize
			}
			if got != tt.want {
				t.Errorf("got %d rows, want %d", got, tt.want)
			}
		})
	}
	res := mustRun(t, org, bigQueries[0].query, false)
	prev := "~"
	for _, r := range res.Records {
		name := r.Fields[1].Value.(string)
		if n := r.Fields[2].Value.(float64); n <= 500 || name > prev {
			t.Fatalf("got %s with %v employees after %s, want > 500 employees in descending name order", name, n, prev)
		}
		prev = name
	}
}

func BenchmarkRun(b *testing.B) {
	org := bigOrg(50000)
	for _, q := range bigQueries {
		b.Run(q.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := Run(org, q.query, false); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
