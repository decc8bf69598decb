package soql

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

// render writes a result compactly: Type(id){Field:value ...}, ids by handle.
func render(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case *Record:
		if v == nil {
			return "null"
		}
		var b strings.Builder
		b.WriteString(v.Type)
		if v.ID != "" {
			b.WriteString("(" + handle(v.ID) + ")")
		}
		b.WriteString("{")
		for i, f := range v.Fields {
			if i > 0 {
				b.WriteString(" ")
			}
			b.WriteString(f.Name + ":" + render(f.Value))
		}
		b.WriteString("}")
		return b.String()
	case *Result:
		if v == nil {
			return "null"
		}
		parts := make([]string, len(v.Records))
		for i, r := range v.Records {
			parts[i] = render(r)
		}
		return strconv.Itoa(v.TotalSize) + "[" + strings.Join(parts, ", ") + "]"
	case string:
		if h, ok := handles[v]; ok {
			return h
		}
		return v
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	return "?"
}

func handle(id string) string {
	if h, ok := handles[id]; ok {
		return h
	}
	return id
}

// pluck joins one top-level field of every record with "|".
func pluck(res *Result, field string) string {
	vals := make([]string, len(res.Records))
	for i, r := range res.Records {
		for _, f := range r.Fields {
			if f.Name == field {
				vals[i] = render(f.Value)
			}
		}
	}
	return strings.Join(vals, "|")
}

func mustRun(t *testing.T, src Source, q string, all bool) *Result {
	t.Helper()
	res, err := Run(src, q, all)
	if err != nil {
		t.Fatalf("Run(%q): %v", q, err)
	}
	return res
}

func TestRunSelectShape(t *testing.T) {
	org := newFakeOrg()
	tests := []struct {
		name, query string
		want        string
	}{
		{"plain fields keep select order and canonical names",
			"select name, ID, industry from ACCOUNT where Name = 'Acme'",
			"Account(aAcme){Name:Acme Id:aAcme Industry:Technology}"},
		{"parent fields nest under their relationship in first-seen order",
			"SELECT firstname, ACCOUNT.name, Id, account.Owner.Name, Account.Industry, Owner.Name FROM contact WHERE LastName = 'Doe'",
			"Contact(cJane){FirstName:Jane Account:Account(aAcme){Name:Acme Owner:User(uBob){Name:Bob Boss} Industry:Technology} Id:cJane Owner:User(uBob){Name:Bob Boss}}"},
		{"an empty lookup is null",
			"SELECT LastName, Account.Name, Account.Owner.Name FROM Contact WHERE LastName = 'Nobody'",
			"Contact(cNobody){LastName:Nobody Account:null}"},
		{"a lookup to a deleted row is null",
			"SELECT LastName, Account.Name FROM Contact WHERE LastName = 'Orphan'",
			"Contact(cOrphan){LastName:Orphan Account:null}"},
		{"an empty parent of a parent is null inside the parent",
			"SELECT Name, Parent.Name, Parent.Owner.Name FROM Account WHERE Name = 'acme labs'",
			"Account(aLabs){Name:acme labs Parent:Account(aAcme){Name:Acme Owner:User(uBob){Name:Bob Boss}}}"},
		{"three levels",
			"SELECT Account.Owner.Manager.Name FROM Contact WHERE LastName = 'Doe'",
			"Contact(cJane){Account:Account(aAcme){Owner:User(uBob){Manager:User(uAlice){Name:Alice Admin}}}}"},
		{"the id field and the relationship are distinct fields",
			"SELECT AccountId, Account.Id FROM Contact WHERE LastName = 'Doe'",
			"Contact(cJane){AccountId:aAcme Account:Account(aAcme){Id:aAcme}}"},
		{"object name as a prefix",
			"SELECT Account.Name FROM Account WHERE Account.Name = 'Acme'",
			"Account(aAcme){Name:Acme}"},
		{"object alias",
			"SELECT a.Name, a.Owner.Name FROM Account a WHERE a.Name = 'Globex'",
			"Account(aGlobex){Name:Globex Owner:User(uAlice){Name:Alice Admin}}"},
		{"an empty string reads back as null",
			"SELECT Name, LastActivityDate FROM Account WHERE Name LIKE 'O%'",
			"Account(aOB){Name:O'Brien & Sons LastActivityDate:null}"},
		{"numbers, booleans and dates come back as stored",
			"SELECT NumberOfEmployees, AnnualRevenue, Active__c, CreatedDate, LastActivityDate FROM Account WHERE Name = 'Acme'",
			"Account(aAcme){NumberOfEmployees:100 AnnualRevenue:1e+06 Active__c:true CreatedDate:2024-01-01T10:00:00.000+0000 LastActivityDate:2024-03-01}"},
		{"FIELDS(STANDARD) expands Id first, then by name",
			"SELECT FIELDS(STANDARD) FROM User WHERE Name = 'Bob Boss'",
			"User(uBob){Id:uBob IsActive:true IsDeleted:false ManagerId:uAlice Name:Bob Boss Username:bob@example.com}"},
		{"FIELDS(CUSTOM) with a LIMIT",
			"SELECT FIELDS(CUSTOM) FROM Account WHERE Name = 'Acme' LIMIT 200",
			"Account(aAcme){Active__c:true}"},
		{"FOR UPDATE and WITH are accepted",
			"SELECT Name FROM Account WHERE Name = 'Acme' WITH SECURITY_ENFORCED LIMIT 1 FOR UPDATE",
			"Account(aAcme){Name:Acme}"},
		{"multi-line statement",
			"SELECT Name\n  FROM Account\n WHERE Name = 'Acme'",
			"Account(aAcme){Name:Acme}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := mustRun(t, org, tt.query, false)
			if len(res.Records) != 1 || res.TotalSize != 1 {
				t.Fatalf("got %d records (totalSize %d), want 1: %s", len(res.Records), res.TotalSize, render(res))
			}
			if got := render(res.Records[0]); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRunWhere(t *testing.T) {
	org := newFakeOrg()
	const all = "Acme|Globex|Initech|acme labs|O'Brien & Sons|100% Natural_Foods"
	tests := []struct {
		where string
		want  string
	}{
		{"Name = 'acme'", "Acme"},
		{"Name = 'ACME LABS'", "acme labs"},
		{"name != 'Acme'", "Globex|Initech|acme labs|O'Brien & Sons|100% Natural_Foods"},
		{"Name <> 'Acme'", "Globex|Initech|acme labs|O'Brien & Sons|100% Natural_Foods"},
		{"Name > 'b'", "Globex|Initech|O'Brien & Sons"},
		{"Name <= 'acme'", "Acme|100% Natural_Foods"},
		{"Name = ''", ""},
		{"Industry = ''", "Initech"},
		{"Industry = null", "Initech"},
		{"Industry != null", "Acme|Globex|acme labs|O'Brien & Sons|100% Natural_Foods"},
		{"Industry != 'Technology'", "Globex|Initech|O'Brien & Sons|100% Natural_Foods"},
		{"Industry < 'S'", "Globex|O'Brien & Sons|100% Natural_Foods"},
		{"NumberOfEmployees > 50", "Acme"},
		{"NumberOfEmployees >= 50", "Acme|Globex"},
		{"NumberOfEmployees < 10", "O'Brien & Sons|100% Natural_Foods"},
		{"NumberOfEmployees <= 10", "acme labs|O'Brien & Sons|100% Natural_Foods"},
		{"NumberOfEmployees = 7", "O'Brien & Sons"},
		{"NumberOfEmployees = 7.0", "O'Brien & Sons"},
		{"NumberOfEmployees != 7", "Acme|Globex|Initech|acme labs|100% Natural_Foods"},
		{"NumberOfEmployees = null", "Initech"},
		{"NumberOfEmployees != null", "Acme|Globex|acme labs|O'Brien & Sons|100% Natural_Foods"},
		{"AnnualRevenue > 100.25", "Acme|Initech|acme labs|100% Natural_Foods"},
		{"AnnualRevenue = 0", "O'Brien & Sons"},
		{"AnnualRevenue > -1", "Acme|Initech|acme labs|O'Brien & Sons|100% Natural_Foods"},
		{"Active__c = true", "Acme|Initech|100% Natural_Foods"},
		{"Active__c = FALSE", "Globex|acme labs|O'Brien & Sons"},
		{"Active__c != true", "Globex|acme labs|O'Brien & Sons"},
		{"Name LIKE 'acme%'", "Acme|acme labs"},
		{"Name like '%LABS'", "acme labs"},
		{"Name LIKE 'Acm_'", "Acme"},
		{"Name LIKE '_cme'", "Acme"},
		{"Name LIKE '%'", all},
		{"Name LIKE '%_%'", all},
		{"Name LIKE '%\\_%'", "100% Natural_Foods"},
		{"Name LIKE '100\\% %'", "100% Natural_Foods"},
		{"Name LIKE '%\\%%'", "100% Natural_Foods"},
		{"Name LIKE 'O\\'Brien%'", "O'Brien & Sons"},
		{"Name LIKE '%a%s'", "acme labs|100% Natural_Foods"},
		{"Industry LIKE '%'", "Acme|Globex|acme labs|O'Brien & Sons|100% Natural_Foods"},
		{"Name = 'O\\'Brien & Sons'", "O'Brien & Sons"},
		{"Industry IN ('technology', 'Retail')", "Acme|acme labs|O'Brien & Sons|100% Natural_Foods"},
		{"Industry IN ('Retail', null)", "Initech|O'Brien & Sons|100% Natural_Foods"},
		{"Industry NOT IN ('Technology')", "Globex|Initech|O'Brien & Sons|100% Natural_Foods"},
		{"NumberOfEmployees IN (3, 7, 100)", "Acme|O'Brien & Sons|100% Natural_Foods"},
		{"Industry = 'Technology' AND NumberOfEmployees > 20", "Acme"},
		{"Industry = 'Retail' OR NumberOfEmployees > 60", "Acme|O'Brien & Sons|100% Natural_Foods"},
		{"Industry = 'Retail' or Industry = 'Manufacturing' or Name = 'Acme'", "Acme|Globex|O'Brien & Sons|100% Natural_Foods"},
		{"NOT Industry = 'Technology'", "Globex|Initech|O'Brien & Sons|100% Natural_Foods"},
		{"NOT (Industry = 'Technology' OR Industry = 'Retail')", "Globex|Initech"},
		{"(Industry = 'Technology' OR Industry = 'Retail') AND Active__c = true", "Acme|100% Natural_Foods"},
		{"((Name = 'Acme'))", "Acme"},
		{"Id = '" + aAcme[:15] + "'", "Acme"},
		{"Id = '" + aAcme + "'", "Acme"},
		{"Id = '" + strings.ToUpper(aAcme[:15]) + "'", ""},
		{"Id != '" + aAcme + "'", "Globex|Initech|acme labs|O'Brien & Sons|100% Natural_Foods"},
		{"Id IN ('" + aAcme[:15] + "', '" + aGlobex + "')", "Acme|Globex"},
		{"OwnerId = '" + uBob[:15] + "'", "Acme|Initech"},
		{"OwnerId = null", "acme labs"},
		{"OwnerId = ''", "acme labs"},
		{"Owner.Name = 'bob boss'", "Acme|Initech"},
		{"Owner.Name = null", "acme labs"},
		{"Owner.Manager.Name = 'Alice Admin'", "Acme|Initech"},
		{"Parent.Name LIKE 'acme%'", "Initech|acme labs"},
		{"Parent.Owner.Name = 'Bob Boss'", "Initech|acme labs"},
		{"Parent.Id = '" + aGlobex[:15] + "'", "100% Natural_Foods"},
		{"CreatedDate > 2024-01-01T00:00:00Z", "Acme|Globex|acme labs|O'Brien & Sons|100% Natural_Foods"},
		{"CreatedDate < 2024-01-01T00:00:00Z", "Initech"},
		{"CreatedDate = 2024-01-01T10:00:00Z", "Acme"},
		{"CreatedDate = 2024-01-01T10:00:00.000Z", "Acme"},
		{"CreatedDate = 2024-01-01T11:00:00+01:00", "Acme"},
		{"CreatedDate >= 2024-01-01T11:00:00+0100", "Acme|Globex|acme labs|O'Brien & Sons|100% Natural_Foods"},
		{"CreatedDate <= 2024-01-01T05:00:00-05:00", "Acme|Initech"},
		{"LastActivityDate = 2024-03-01", "Acme"},
		{"LastActivityDate > 2024-03-01", "acme labs|100% Natural_Foods"},
		{"LastActivityDate < 2024-03-01", "Initech"},
		{"LastActivityDate != 2024-03-01", "Globex|Initech|acme labs|O'Brien & Sons|100% Natural_Foods"},
		{"LastActivityDate = null", "Globex|O'Brien & Sons"},
		{"Id IN (SELECT AccountId FROM Contact)", "Acme|Globex"},
		{"Id NOT IN (SELECT AccountId FROM Contact WHERE LastName = 'Doe')", "Globex|Initech|acme labs|O'Brien & Sons|100% Natural_Foods"},
		{"OwnerId IN (SELECT Id FROM User WHERE IsActive = false)", "O'Brien & Sons"},
	}
	for _, tt := range tests {
		t.Run(tt.where, func(t *testing.T) {
			res := mustRun(t, org, "SELECT Name FROM Account WHERE "+tt.where, false)
			if got := pluck(res, "Name"); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if res.TotalSize != len(res.Records) {
				t.Errorf("got totalSize %d, want %d", res.TotalSize, len(res.Records))
			}
		})
	}
}

func TestRunDateLiterals(t *testing.T) {
	// Wednesday 6 March 2024, noon UTC.
	org := clockOrg{newFakeOrg()}
	org.now = time.Date(2024, 3, 6, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		where string
		want  string
	}{
		{"CreatedDate = TODAY", "O'Brien & Sons"},
		{"CreatedDate = YESTERDAY", "acme labs"},
		{"CreatedDate = TOMORROW", "100% Natural_Foods"},
		{"CreatedDate > TODAY", "100% Natural_Foods"},
		{"CreatedDate >= TODAY", "O'Brien & Sons|100% Natural_Foods"},
		{"CreatedDate < YESTERDAY", "Acme|Globex|Initech"},
		{"CreatedDate <= YESTERDAY", "Acme|Globex|Initech|acme labs"},
		{"CreatedDate != TODAY", "Acme|Globex|Initech|acme labs|100% Natural_Foods"},
		{"CreatedDate = LAST_N_DAYS:7", "acme labs|O'Brien & Sons"},
		{"CreatedDate = NEXT_N_DAYS:1", "100% Natural_Foods"},
		{"CreatedDate = N_DAYS_AGO:1", "acme labs"},
		{"CreatedDate < THIS_MONTH", "Acme|Globex|Initech"},
		{"CreatedDate = LAST_MONTH", "Globex"},
		{"CreatedDate = THIS_YEAR", "Acme|Globex|acme labs|O'Brien & Sons|100% Natural_Foods"},
		{"CreatedDate = LAST_YEAR", "Initech"},
		{"CreatedDate = LAST_QUARTER", "Initech"},
		{"CreatedDate = LAST_N_MONTHS:2", "Acme|Globex"},
		{"LastActivityDate = THIS_WEEK", "acme labs|100% Natural_Foods"},
		{"LastActivityDate = LAST_N_DAYS:1", "acme labs"},
		{"LastActivityDate < LAST_WEEK", "Initech"},
		{"LastActivityDate = LAST_WEEK", "Acme"},
	}
	for _, tt := range tests {
		t.Run(tt.where, func(t *testing.T) {
			res := mustRun(t, org, "SELECT Name FROM Account WHERE "+tt.where, false)
			if got := pluck(res, "Name"); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRunOrderLimitOffset(t *testing.T) {
	org := newFakeOrg()
	tests := []struct {
		tail string
		want string
	}{
		{"ORDER BY NumberOfEmployees", "Initech|100% Natural_Foods|O'Brien & Sons|acme labs|Globex|Acme"},
		{"ORDER BY NumberOfEmployees ASC", "Initech|100% Natural_Foods|O'Brien & Sons|acme labs|Globex|Acme"},
		{"ORDER BY NumberOfEmployees DESC", "Acme|Globex|acme labs|O'Brien & Sons|100% Natural_Foods|Initech"},
		{"ORDER BY NumberOfEmployees ASC NULLS LAST", "100% Natural_Foods|O'Brien & Sons|acme labs|Globex|Acme|Initech"},
		{"ORDER BY NumberOfEmployees DESC NULLS FIRST", "Initech|Acme|Globex|acme labs|O'Brien & Sons|100% Natural_Foods"},
		{"ORDER BY Name", "100% Natural_Foods|Acme|acme labs|Globex|Initech|O'Brien & Sons"},
		{"order by name desc", "O'Brien & Sons|Initech|Globex|acme labs|Acme|100% Natural_Foods"},
		{"ORDER BY Industry, Name DESC", "Initech|Globex|O'Brien & Sons|100% Natural_Foods|acme labs|Acme"},
		{"ORDER BY Industry DESC, Name", "Acme|acme labs|100% Natural_Foods|O'Brien & Sons|Globex|Initech"},
		{"ORDER BY Owner.Name NULLS LAST, Name", "100% Natural_Foods|Globex|Acme|Initech|O'Brien & Sons|acme labs"},
		{"ORDER BY Owner.Name, Name", "acme labs|100% Natural_Foods|Globex|Acme|Initech|O'Brien & Sons"},
		{"ORDER BY CreatedDate DESC LIMIT 2", "100% Natural_Foods|O'Brien & Sons"},
		{"ORDER BY CreatedDate", "Initech|Acme|Globex|acme labs|O'Brien & Sons|100% Natural_Foods"},
		{"ORDER BY LastActivityDate", "Globex|O'Brien & Sons|Initech|Acme|acme labs|100% Natural_Foods"},
		{"ORDER BY LastActivityDate DESC", "100% Natural_Foods|acme labs|Acme|Initech|Globex|O'Brien & Sons"},
		{"ORDER BY Active__c, Name", "acme labs|Globex|O'Brien & Sons|100% Natural_Foods|Acme|Initech"},
		{"ORDER BY Active__c DESC, Name DESC", "Initech|Acme|100% Natural_Foods|O'Brien & Sons|Globex|acme labs"},
		{"ORDER BY AnnualRevenue DESC", "Acme|Initech|acme labs|100% Natural_Foods|O'Brien & Sons|Globex"},
		{"ORDER BY Name LIMIT 2", "100% Natural_Foods|Acme"},
		{"ORDER BY Name LIMIT 2 OFFSET 2", "acme labs|Globex"},
		{"ORDER BY Name OFFSET 5", "O'Brien & Sons"},
		{"ORDER BY Name OFFSET 6", ""},
		{"OFFSET 10", ""},
		{"LIMIT 0", ""},
		{"LIMIT 3", "Acme|Globex|Initech"},
		{"LIMIT 100", "Acme|Globex|Initech|acme labs|O'Brien & Sons|100% Natural_Foods"},
		{"WHERE Industry = 'Technology' LIMIT 1 OFFSET 1", "acme labs"},
		{"WHERE Industry = 'Technology' OFFSET 2000", ""},
	}
	for _, tt := range tests {
		t.Run(tt.tail, func(t *testing.T) {
			res := mustRun(t, org, "SELECT Name FROM Account "+tt.tail, false)
			if got := pluck(res, "Name"); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if res.TotalSize != len(res.Records) {
				t.Errorf("got totalSize %d, want %d", res.TotalSize, len(res.Records))
			}
		})
	}
}

func TestRunCount(t *testing.T) {
	org := newFakeOrg()
	tests := []struct {
		query string
		all   bool
		want  int
	}{
		{"SELECT COUNT() FROM Account", false, 6},
		{"SELECT count() FROM Account", true, 7},
		{"SELECT COUNT() FROM Account WHERE Industry = 'Technology'", false, 2},
		{"SELECT COUNT() FROM Account WHERE Industry = 'Technology'", true, 3},
		{"SELECT COUNT() FROM Contact WHERE Account.Name = 'Acme'", false, 2},
		{"SELECT COUNT() FROM Account LIMIT 4", false, 4},
		{"SELECT COUNT() FROM Account WHERE Name = 'nobody'", false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			res := mustRun(t, org, tt.query, tt.all)
			if res.TotalSize != tt.want {
				t.Errorf("got totalSize %d, want %d", res.TotalSize, tt.want)
			}
			if res.Records == nil || len(res.Records) != 0 {
				t.Errorf("got records %v, want an empty list", res.Records)
			}
		})
	}
}

func TestRunAggregate(t *testing.T) {
	org := newFakeOrg()
	tests := []struct {
		query string
		want  string
	}{
		{"SELECT COUNT(Id) FROM Account", "1[AggregateResult{expr0:6}]"},
		{"SELECT COUNT(Industry) cnt FROM Account", "1[AggregateResult{cnt:5}]"},
		{"SELECT COUNT(Id), COUNT_DISTINCT(Industry), SUM(NumberOfEmployees), MAX(Name) FROM Account",
			"1[AggregateResult{expr0:6 expr1:3 expr2:170 expr3:O'Brien & Sons}]"},
		{"SELECT COUNT(Id) total, MIN(CreatedDate) FROM Account WHERE Name = 'nobody'",
			"1[AggregateResult{total:0 expr0:null}]"},
		{"SELECT Industry, COUNT(Id) FROM Account GROUP BY Industry ORDER BY Industry",
			"4[AggregateResult{Industry:null expr0:1}, AggregateResult{Industry:Manufacturing expr0:1}, " +
				"AggregateResult{Industry:Retail expr0:2}, AggregateResult{Industry:Technology expr0:2}]"},
		{"SELECT Industry, COUNT(Id) n, AVG(NumberOfEmployees) FROM Account WHERE Industry != null GROUP BY Industry ORDER BY COUNT(Id) DESC, Industry DESC LIMIT 2",
			"2[AggregateResult{Industry:Technology n:2 expr0:55}, AggregateResult{Industry:Retail n:2 expr0:5}]"},
		{"SELECT Owner.Name, SUM(AnnualRevenue) FROM Account GROUP BY Owner.Name ORDER BY Owner.Name NULLS LAST",
			"4[AggregateResult{Name:Alice Admin expr0:100.5}, AggregateResult{Name:Bob Boss expr0:1.5e+06}, " +
				"AggregateResult{Name:Carl Gone expr0:0}, AggregateResult{Name:null expr0:200000}]"},
		{"SELECT Account.Name, COUNT(Id) FROM Contact GROUP BY Account.Name ORDER BY COUNT(Id) DESC LIMIT 1",
			"1[AggregateResult{Name:Acme expr0:2}]"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			res := mustRun(t, org, tt.query, false)
			if got := render(res); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRunQueryAll(t *testing.T) {
	org := newFakeOrg()
	tests := []struct {
		query string
		all   bool
		want  string
	}{
		{"SELECT Name FROM Account WHERE IsDeleted = true", false, ""},
		{"SELECT Name FROM Account WHERE IsDeleted = true", true, "Gone Inc"},
		{"SELECT LastName FROM Contact", false, "Doe|Smith|Nobody|Acme|Orphan"},
		{"SELECT LastName FROM Contact", true, "Doe|Smith|Nobody|Gone|Acme|Orphan"},
		{"SELECT LastName FROM Contact ORDER BY LastName DESC", true, "Smith|Orphan|Nobody|Gone|Doe|Acme"},
		{"SELECT LastName FROM Contact WHERE Account.Name = 'Acme'", true, "Doe|Gone|Acme"},
	}
	for _, tt := range tests {
		t.Run(tt.query+" all="+strconv.FormatBool(tt.all), func(t *testing.T) {
			res := mustRun(t, org, tt.query, tt.all)
			field := "Name"
			if strings.Contains(tt.query, "LastName") {
				field = "LastName"
			}
			if got := pluck(res, field); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// deletedLeak is a Source that returns deleted rows even when not asked to.
type deletedLeak struct{ *fakeOrg }

func (d deletedLeak) Rows(object string, _ bool) []map[string]any {
	return d.fakeOrg.Rows(object, true)
}

func TestRunDropsDeletedRowsTheSourceReturns(t *testing.T) {
	res := mustRun(t, deletedLeak{newFakeOrg()}, "SELECT Name FROM Account WHERE Industry = 'Technology'", false)
	if got, want := pluck(res, "Name"), "Acme|acme labs"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestRunSubquery(t *testing.T) {
	guess := newFakeOrg()
	listed := newFakeOrg()
	listed.kids = map[string][]ChildRelationship{"Account": {{Name: "Contacts", Object: "Contact", Field: "AccountId"}}}
	tests := []struct {
		name  string
		src   Source
		query string
		all   bool
		want  string
	}{
		{"guessed relationship", guess,
			"SELECT Name, (SELECT LastName FROM Contacts ORDER BY LastName) FROM Account WHERE Name LIKE 'acme%'", false,
			"2[Account(aAcme){Name:Acme Contacts:2[Contact(cBob){LastName:Acme}, Contact(cJane){LastName:Doe}]}, " +
				"Account(aLabs){Name:acme labs Contacts:null}]"},
		{"listed relationship", childOrg{listed},
			"SELECT Name, (SELECT LastName FROM contacts ORDER BY LastName) FROM Account WHERE Name LIKE 'acme%'", false,
			"2[Account(aAcme){Name:Acme Contacts:2[Contact(cBob){LastName:Acme}, Contact(cJane){LastName:Doe}]}, " +
				"Account(aLabs){Name:acme labs Contacts:null}]"},
		{"limit applies per parent, where and parent fields inside", guess,
			"SELECT Name, (SELECT LastName, Owner.Name FROM Contacts WHERE LastName != 'Doe' LIMIT 1) FROM Account WHERE Name IN ('Acme', 'Globex')", false,
			"2[Account(aAcme){Name:Acme Contacts:1[Contact(cBob){LastName:Acme Owner:User(uCarl){Name:Carl Gone}}]}, " +
				"Account(aGlobex){Name:Globex Contacts:1[Contact(cJohn){LastName:Smith Owner:User(uAlice){Name:Alice Admin}}]}]"},
		{"queryAll includes deleted children", guess,
			"SELECT Name, (SELECT LastName FROM Contacts) FROM Account WHERE Name = 'Acme'", true,
			"1[Account(aAcme){Name:Acme Contacts:3[Contact(cJane){LastName:Doe}, Contact(cGone){LastName:Gone}, Contact(cBob){LastName:Acme}]}]"},
		{"child relationship to the same object", guess,
			"SELECT Name, (SELECT Name FROM Accounts) FROM Account WHERE Name = 'Acme'", false,
			"1[Account(aAcme){Name:Acme Accounts:2[Account(aInitech){Name:Initech}, Account(aLabs){Name:acme labs}]}]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := mustRun(t, tt.src, tt.query, tt.all)
			if got := render(res); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRunSubqueryReadsChildrenOnce(t *testing.T) {
	org := newFakeOrg()
	org.calls = map[string]int{}
	mustRun(t, org, "SELECT Name, (SELECT LastName FROM Contacts) FROM Account", false)
	if got := org.calls["Contact"]; got != 1 {
		t.Errorf("got %d reads of Contact, want 1", got)
	}
}

const (
	wantTypeHint  = " is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names."
	wantFieldHint = ". If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names."
	wantRelHint   = " in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names."
)

func TestRunErrors(t *testing.T) {
	org := newFakeOrg()
	tests := []struct {
		name, query string
		code, msg   string
	}{
		{"unknown object", "SELECT Id FROM Missing__c", CodeInvalidType,
			"\nSELECT Id FROM Missing__c\n               ^\nERROR at Row:1:Column:16\nsObject type 'Missing__c'" + wantTypeHint},
		{"unknown object keeps the four tokens after it", "SELECT Id, Name, AccountNumber FROM AccountOpps WHERE Name like 'okToDelete%' AND Name != null", CodeInvalidType,
			"\nSELECT Id, Name, AccountNumber FROM AccountOpps WHERE Name like 'okToDelete%'\n                                    ^\nERROR at Row:1:Column:37\nsObject type 'AccountOpps'" + wantTypeHint},
		{"unknown field", "SELECT Id, Nmae FROM Account", CodeInvalidField,
			"\nSELECT Id, Nmae FROM Account\n           ^\nERROR at Row:1:Column:12\nNo such column 'Nmae' on entity 'Account'" + wantFieldHint},
		{"unknown field shows four tokens after it", "SELECT Bacon__c FROM Account LIMIT 2", CodeInvalidField,
			"\nSELECT Bacon__c FROM Account LIMIT 2\n       ^\nERROR at Row:1:Column:8\nNo such column 'Bacon__c' on entity 'Account'" + wantFieldHint},
		{"unknown parent field names the parent entity", "SELECT Account.Nmae FROM Contact", CodeInvalidField,
			"\nSELECT Account.Nmae FROM Contact\n       ^\nERROR at Row:1:Column:8\nNo such column 'Nmae' on entity 'Account'" + wantFieldHint},
		{"unknown field in WHERE", "SELECT Id FROM Account WHERE Owner.Nmae = 'x'", CodeInvalidField,
			"\nSELECT Id FROM Account WHERE Owner.Nmae = 'x'\n                             ^\nERROR at Row:1:Column:30\nNo such column 'Nmae' on entity 'User'" + wantFieldHint},
		{"unknown field in ORDER BY", "SELECT Id FROM Account ORDER BY Nmae", CodeInvalidField,
			"\nSELECT Id FROM Account ORDER BY Nmae\n                                ^\nERROR at Row:1:Column:33\nNo such column 'Nmae' on entity 'Account'" + wantFieldHint},
		{"unknown relationship", "SELECT Acount.Name FROM Contact", CodeInvalidField,
			"\nSELECT Acount.Name FROM Contact\n       ^\nERROR at Row:1:Column:8\nDidn't understand relationship 'Acount'" + wantRelHint},
		{"a non-reference field used as a relationship", "SELECT Name.Foo FROM Account", CodeInvalidField,
			"\nSELECT Name.Foo FROM Account\n       ^\nERROR at Row:1:Column:8\nDidn't understand relationship 'Name'" + wantRelHint},
		{"unknown child relationship", "SELECT Id, (SELECT Id FROM Contactz) FROM Account", CodeInvalidType,
			"\nSELECT Id, (SELECT Id FROM Contactz) FROM Account\n                           ^\nERROR at Row:1:Column:28\nDidn't understand relationship 'Contactz' in FROM part of query call. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names."},
		{"field error on the third row", "SELECT Id\nFROM Account\nWHERE Nmae = 'x'", CodeInvalidField,
			"\nWHERE Nmae = 'x'\n      ^\nERROR at Row:3:Column:7\nNo such column 'Nmae' on entity 'Account'" + wantFieldHint},
		{"long statement is cut around the error", "SELECT Id, Name, Industry, NumberOfEmployees, AnnualRevenue, CreatedDate, Bogus__c, LastActivityDate, OwnerId, ParentId, Active__c FROM Account", CodeInvalidField,
			"\nAnnualRevenue, CreatedDate, Bogus__c, LastActivityDate, OwnerId\n                            ^\nERROR at Row:1:Column:75\nNo such column 'Bogus__c' on entity 'Account'" + wantFieldHint},
		{"missing field before FROM", "SELECT Id, FROM Account", CodeMalformedQuery,
			"\nSELECT Id, FROM Account\n          ^\nERROR at Row:1:Column:11\nunexpected token: 'FROM'"},
		{"empty select list", "SELECT FROM Account", CodeMalformedQuery,
			"\nSELECT FROM Account\n      ^\nERROR at Row:1:Column:7\nunexpected token: 'FROM'"},
		{"misspelt keyword", "SELEKT Id FROM Account", CodeMalformedQuery,
			"\nSELEKT Id FROM Account\n^\nERROR at Row:1:Column:0\nunexpected token: 'SELEKT'"},
		{"alias on a plain field", "SELECT Id n FROM Account", CodeMalformedQuery,
			"\nSELECT Id n FROM Account\n         ^\nERROR at Row:1:Column:10\nunexpected token: 'n'"},
		{"dangling WHERE", "SELECT Id FROM Account WHERE", CodeMalformedQuery,
			"\nSELECT Id FROM Account WHERE\n                           ^\nERROR at Row:1:Column:28\nunexpected token: <EOF>"},
		{"AND and OR mixed without parentheses", "SELECT Id FROM Account WHERE Name = 'x' AND Industry = 'y' OR Id = null", CodeMalformedQuery,
			"\nWHERE Name = 'x' AND Industry = 'y' OR Id = null\n                                   ^\nERROR at Row:1:Column:59\nunexpected token: 'OR'"},
		{"bind variable", "SELECT Id FROM Account WHERE Name = :name", CodeMalformedQuery,
			"\nSELECT Id FROM Account WHERE Name = :name\n                                   ^\nERROR at Row:1:Column:36\nunexpected token: ':'"},
		{"stray character", "SELECT Id FROM Account WHERE Name = $x", CodeMalformedQuery,
			"\nSELECT Id FROM Account WHERE Name = $x\n                                   ^\nERROR at Row:1:Column:36\nunexpected token: '$'"},
		{"unterminated string", "SELECT Id FROM Account WHERE Name = 'abc", CodeMalformedQuery,
			"\nSELECT Id FROM Account WHERE Name = 'abc\n                                   ^\nERROR at Row:1:Column:36\nunexpected token: '''"},
		{"trailing garbage", "SELECT Id FROM Account LIMIT 5 5", CodeMalformedQuery,
			"\nSELECT Id FROM Account LIMIT 5 5\n                              ^\nERROR at Row:1:Column:31\nunexpected token: '5'"},
		{"LIKE without a value", "SELECT Id FROM Account WHERE Name LIKE", CodeMalformedQuery,
			"\nId FROM Account WHERE Name LIKE\n                              ^\nERROR at Row:1:Column:38\nunexpected token: <EOF>"},
		{"NOT LIKE is not SOQL", "SELECT Id FROM Account WHERE Name NOT LIKE 'a%'", CodeMalformedQuery,
			"\nId FROM Account WHERE Name NOT LIKE 'a%'\n                              ^\nERROR at Row:1:Column:38\nunexpected token: 'LIKE'"},
		{"LIMIT out of range", "SELECT Id FROM Account LIMIT 99999999999", CodeMalformedQuery,
			"\nSELECT Id FROM Account LIMIT 99999999999\n                             ^\nERROR at Row:1:Column:30\nnumeric value out of range: 99999999999"},
		{"quoted number", "SELECT Id FROM Account WHERE NumberOfEmployees = '5'", CodeInvalidField,
			"\nSELECT Id FROM Account WHERE NumberOfEmployees = '5'\n                             ^\nERROR at Row:1:Column:30\nvalue of filter criterion for field 'NumberOfEmployees' must be of type integer and should not be enclosed in quotes"},
		{"quoted currency", "SELECT Id FROM Account WHERE AnnualRevenue > '5'", CodeInvalidField,
			"\nSELECT Id FROM Account WHERE AnnualRevenue > '5'\n                             ^\nERROR at Row:1:Column:30\nvalue of filter criterion for field 'AnnualRevenue' must be of type currency and should not be enclosed in quotes"},
		{"quoted boolean", "SELECT Id FROM Account WHERE Active__c = 'true'", CodeInvalidField,
			"\nSELECT Id FROM Account WHERE Active__c = 'true'\n                             ^\nERROR at Row:1:Column:30\nvalue of filter criterion for field 'Active__c' must be of type boolean and should not be enclosed in quotes"},
		{"quoted date", "SELECT Id FROM Account WHERE LastActivityDate = '2024-01-01'", CodeInvalidField,
			"\nSELECT Id FROM Account WHERE LastActivityDate = '2024-01-01'\n                             ^\nERROR at Row:1:Column:30\nvalue of filter criterion for field 'LastActivityDate' must be of type date and should not be enclosed in quotes"},
		{"date for a datetime", "SELECT Id FROM Account WHERE CreatedDate > 2024-01-01", CodeInvalidField,
			"\nSELECT Id FROM Account WHERE CreatedDate > 2024-01-01\n                             ^\nERROR at Row:1:Column:30\nvalue of filter criterion for field 'CreatedDate' must be of type dateTime and should not be enclosed in quotes"},
		{"datetime for a date", "SELECT Id FROM Account WHERE LastActivityDate > 2024-01-01T00:00:00Z", CodeInvalidField,
			"\nSELECT Id FROM Account WHERE LastActivityDate > 2024-01-01T00:00:00Z\n                             ^\nERROR at Row:1:Column:30\nvalue of filter criterion for field 'LastActivityDate' must be of type date and should not be enclosed in quotes"},
		{"number for text", "SELECT Id FROM Contact WHERE Account.Name = 5", CodeInvalidField,
			"\nSELECT Id FROM Contact WHERE Account.Name = 5\n                             ^\nERROR at Row:1:Column:30\nvalue of filter criterion for field 'Account.Name' must be of type string and should be enclosed in quotes"},
		{"LIKE on a number", "SELECT Id FROM Account WHERE NumberOfEmployees LIKE '5%'", CodeInvalidField,
			"\nSELECT Id FROM Account WHERE NumberOfEmployees LIKE '5%'\n                             ^\nERROR at Row:1:Column:30\nvalue of filter criterion for field 'NumberOfEmployees' must be of type integer and should not be enclosed in quotes"},
		{"invalid id", "SELECT Id FROM Account WHERE Id = 'abc'", CodeInvalidFilter,
			"\nSELECT Id FROM Account WHERE Id = 'abc'\n                             ^\nERROR at Row:1:Column:30\ninvalid ID field: abc"},
		{"invalid id in IN", "SELECT Id FROM Contact WHERE AccountId IN ('" + aAcme + "', '001')", CodeInvalidFilter,
			"\nSELECT Id FROM Contact WHERE AccountId IN ('0015g0000000001AAA',\n                             ^\nERROR at Row:1:Column:30\ninvalid ID field: 001"},
		{"unknown escape in a string", "SELECT Id FROM Account WHERE Name = 'a\\qb'", CodeMalformedQuery,
			"\nSELECT Id FROM Account WHERE Name = 'a\\qb'\n                                   ^\nERROR at Row:1:Column:36\nInvalid string literal 'a\\qb'. Illegal character sequence '\\q' in string literal."},
		{"offset above 2000", "SELECT Id FROM Account OFFSET 2001", CodeNumberOutsideRange,
			"Maximum SOQL offset allowed is 2000"},
		{"duplicate field", "SELECT Id, Name, id FROM Account", CodeInvalidField,
			"duplicate field selected: Id"},
		{"duplicate parent field", "SELECT Account.Name, account.name FROM Contact", CodeInvalidField,
			"duplicate field selected: Account.Name"},
		{"FIELDS(ALL) needs a LIMIT", "SELECT FIELDS(ALL) FROM Account", CodeMalformedQuery,
			"\nSELECT FIELDS(ALL) FROM\n       ^\nERROR at Row:1:Column:8\nThe SOQL FIELDS function must have a LIMIT of at most 200"},
		{"field neither grouped nor aggregated", "SELECT Name, COUNT(Id) FROM Account", CodeMalformedQuery,
			"\nSELECT Name, COUNT(Id\n       ^\nERROR at Row:1:Column:8\nField must be grouped or aggregated: Name"},
		{"SUM of text", "SELECT SUM(Name) FROM Account", CodeMalformedQuery,
			"\nSELECT SUM(Name) FROM\n       ^\nERROR at Row:1:Column:8\nfield Name does not support aggregate operator SUM"},
		{"COUNT() with other fields", "SELECT Id, COUNT() FROM Account", CodeMalformedQuery,
			"\nSELECT Id, COUNT() FROM Account\n          ^\nERROR at Row:1:Column:11\nunexpected token: 'COUNT'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Run(org, tt.query, false)
			if err == nil {
				t.Fatalf("got result %s, want error %s", render(res), tt.code)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("got error %T %v, want *soql.Error", err, err)
			}
			if e.Code != tt.code {
				t.Errorf("got code %q, want %q", e.Code, tt.code)
			}
			if e.Message != tt.msg {
				t.Errorf("got message %q, want %q", e.Message, tt.msg)
			}
		})
	}
}

func TestParse(t *testing.T) {
	q, err := Parse("SELECT Id, Account.Name, COUNT(Id) c FROM Contact x WHERE (Name LIKE 'a\\%%' OR Id IN ('a', 'b')) AND NOT Birthdate = LAST_N_DAYS:30 GROUP BY Id ORDER BY Name DESC NULLS FIRST, Id LIMIT 10 OFFSET 5")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := q.Object+"/"+q.Alias, "Contact/x"; got != want {
		t.Errorf("got object %q, want %q", got, want)
	}
	if got, want := q.Items[1].Path.String(), "Account.Name"; got != want {
		t.Errorf("got item %q, want %q", got, want)
	}
	if got, want := q.Items[2].Func+" "+q.Items[2].Alias, "COUNT c"; got != want {
		t.Errorf("got aggregate %q, want %q", got, want)
	}
	and, ok := q.Where.(*Logic)
	if !ok || and.Op != "AND" || len(and.Terms) != 2 {
		t.Fatalf("got where %#v, want AND of two terms", q.Where)
	}
	or := and.Terms[0].(*Logic)
	if like := or.Terms[0].(*Cmp); like.Value.Str != "a%%" || like.Value.Raw != "a\\%%" {
		t.Errorf("got LIKE value %q raw %q, want %q raw %q", like.Value.Str, like.Value.Raw, "a%%", "a\\%%")
	}
	not := and.Terms[1].(*Not).X.(*Cmp)
	if not.Value.Kind != LitRange || not.Value.Str != "LAST_N_DAYS" || not.Value.N != 30 {
		t.Errorf("got literal %+v, want LAST_N_DAYS:30", not.Value)
	}
	if len(q.OrderBy) != 2 || !q.OrderBy[0].Desc || q.OrderBy[0].Nulls != "FIRST" || q.OrderBy[1].Desc {
		t.Errorf("got order %+v, want Name DESC NULLS FIRST, Id", q.OrderBy)
	}
	if q.Limit != 10 || q.Offset != 5 {
		t.Errorf("got limit %d offset %d, want 10 and 5", q.Limit, q.Offset)
	}

	_, err = Parse("SELECT Id FROM")
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeMalformedQuery {
		t.Errorf("got %v, want a MALFORMED_QUERY error", err)
	}
}

func TestLikeMatcher(t *testing.T) {
	tests := []struct {
		pattern, value string
		want           bool
	}{
		{"abc", "ABC", true},
		{"abc", "abcd", false},
		{"a%", "a", true},
		{"%", "", true},
		{"_", "", false},
		{"_", "é", true},
		{"%b%", "abc", true},
		{"a%c%e", "abXcYe", true},
		{"a%c%e", "abXcY", false},
		{"%%a", "bba", true},
		{"a_c", "abbc", false},
		{`a\%`, "a%", true},
		{`a\%`, "ab", false},
		{`a\_b`, "a_b", true},
		{`a\_b`, "axb", false},
		{`it\'s`, "It's", true},
		{"ÉCOLE%", "école normale", true},
	}
	for _, tt := range tests {
		t.Run(tt.pattern+" "+tt.value, func(t *testing.T) {
			if got := likeMatcher(tt.pattern)(tt.value); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestStoredMillis(t *testing.T) {
	tests := []string{
		"2011-07-07T00:37:00.000+0000",
		"1970-01-01T00:00:00.000+0000",
		"1969-12-31T23:59:59.999+0000",
		"2000-02-29T12:34:56.789+0000",
		"2024-03-01T00:00:00.001+0000",
		"2400-12-31T23:59:59.000+0000",
	}
	for _, s := range tests {
		t.Run(s, func(t *testing.T) {
			want, err := time.Parse("2006-01-02T15:04:05.000-0700", s)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := storedMillis(s)
			if !ok || got != want.UnixMilli() {
				t.Errorf("got %d (%v), want %d", got, ok, want.UnixMilli())
			}
		})
	}
	for _, s := range []string{"2011-07-07T02:37:00.000+0200", "2011-07-07T00:37:00Z", "2011-07-07"} {
		if _, ok := storedMillis(s); !ok {
			t.Errorf("got no time for %q, want one", s)
		}
	}
	if _, ok := storedMillis("not a date"); ok {
		t.Errorf("got a time for %q, want none", "not a date")
	}
}
