package soql

import (
	"strings"
	"time"

	"github.com/sfconnect/connector/sforg/internal/ids"
)

// fakeOrg is a Source over a few objects held in memory.
type fakeOrg struct {
	objects map[string]ObjectInfo          // by lower-case name
	rows    map[string][]map[string]any    // by canonical object name
	byID    map[string]map[string]any      // live and deleted rows by 18-char id
	now     time.Time                      // zero: no Clock
	kids    map[string][]ChildRelationship // nil: let the engine guess
	calls   map[string]int                 // Rows calls per object
}

func (o *fakeOrg) Object(name string) (ObjectInfo, bool) {
	obj, ok := o.objects[strings.ToLower(name)]
	return obj, ok
}

func (o *fakeOrg) Rows(object string, all bool) []map[string]any {
	if o.calls != nil {
		o.calls[object]++
	}
	var out []map[string]any
	for _, r := range o.rows[object] {
		if all || r["IsDeleted"] != true {
			out = append(out, r)
		}
	}
	return out
}

func (o *fakeOrg) Row(id string) (map[string]any, bool) {
	r, ok := o.byID[id]
	if !ok || r["IsDeleted"] == true {
		return nil, false
	}
	return r, true
}

// clockOrg adds a Clock to a fakeOrg.
type clockOrg struct{ *fakeOrg }

func (c clockOrg) Now() time.Time { return c.now }

// childOrg adds a Children listing to a fakeOrg.
type childOrg struct{ *fakeOrg }

func (c childOrg) ChildRelationships(object string) []ChildRelationship { return c.kids[object] }

func objectInfo(name string, fields ...FieldInfo) ObjectInfo {
	base := []FieldInfo{{Name: "Id", Type: TypeID}, {Name: "IsDeleted", Type: TypeBoolean}}
	m := map[string]FieldInfo{}
	for _, f := range append(base, fields...) {
		m[strings.ToLower(f.Name)] = f
	}
	return ObjectInfo{Name: name, Fields: m}
}

func ref(name, to, rel string) FieldInfo {
	return FieldInfo{Name: name, Type: TypeReference, ReferenceTo: to, RelationshipName: rel}
}

// Ids of the fixture rows, by a short handle.
var (
	uAlice, uBob, uCarl                  = ids.New("005", "5g0", 1), ids.New("005", "5g0", 2), ids.New("005", "5g0", 3)
	aAcme, aGlobex, aInitech, aLabs, aOB = ids.New("001", "5g0", 1), ids.New("001", "5g0", 2), ids.New("001", "5g0", 3), ids.New("001", "5g0", 4), ids.New("001", "5g0", 5)
	aNatural, aGone                      = ids.New("001", "5g0", 6), ids.New("001", "5g0", 7)
	cJane, cJohn, cNobody, cGone, cBob   = ids.New("003", "5g0", 1), ids.New("003", "5g0", 2), ids.New("003", "5g0", 3), ids.New("003", "5g0", 4), ids.New("003", "5g0", 5)
	cOrphan                              = ids.New("003", "5g0", 6)
)

// handles names the fixture ids in rendered results.
var handles = map[string]string{
	uAlice: "uAlice", uBob: "uBob", uCarl: "uCarl",
	aAcme: "aAcme", aGlobex: "aGlobex", aInitech: "aInitech", aLabs: "aLabs", aOB: "aOB", aNatural: "aNatural", aGone: "aGone",
	cJane: "cJane", cJohn: "cJohn", cNobody: "cNobody", cGone: "cGone", cBob: "cBob", cOrphan: "cOrphan",
}

// newFakeOrg builds the fixture: three users, seven accounts (one deleted) and
// six contacts (one deleted, one whose account is deleted).
func newFakeOrg() *fakeOrg {
	o := &fakeOrg{
		objects: map[string]ObjectInfo{},
		rows:    map[string][]map[string]any{},
		byID:    map[string]map[string]any{},
	}
	for _, obj := range []ObjectInfo{
		objectInfo("User",
			FieldInfo{Name: "Name", Type: TypeString},
			FieldInfo{Name: "Username", Type: TypeString},
			FieldInfo{Name: "IsActive", Type: TypeBoolean},
			ref("ManagerId", "User", "Manager")),
		objectInfo("Account",
			FieldInfo{Name: "Name", Type: TypeString},
			FieldInfo{Name: "Industry", Type: TypePicklist},
			FieldInfo{Name: "NumberOfEmployees", Type: TypeInt},
			FieldInfo{Name: "AnnualRevenue", Type: TypeCurrency},
			FieldInfo{Name: "CreatedDate", Type: TypeDateTime},
			FieldInfo{Name: "LastActivityDate", Type: TypeDate},
			FieldInfo{Name: "Active__c", Type: TypeBoolean},
			ref("OwnerId", "User", "Owner"),
			ref("ParentId", "Account", "Parent")),
		objectInfo("Contact",
			FieldInfo{Name: "FirstName", Type: TypeString},
			FieldInfo{Name: "LastName", Type: TypeString},
			FieldInfo{Name: "Email", Type: TypeEmail},
			ref("AccountId", "Account", "Account"),
			ref("OwnerId", "User", "Owner")),
	} {
		o.objects[strings.ToLower(obj.Name)] = obj
	}
	add := func(object string, row map[string]any) {
		if _, ok := row["IsDeleted"]; !ok {
			row["IsDeleted"] = false
		}
		o.rows[object] = append(o.rows[object], row)
		o.byID[row["Id"].(string)] = row
	}
	add("User", map[string]any{"Id": uAlice, "Name": "Alice Admin", "Username": "alice@example.com", "IsActive": true, "ManagerId": nil})
	add("User", map[string]any{"Id": uBob, "Name": "Bob Boss", "Username": "bob@example.com", "IsActive": true, "ManagerId": uAlice})
	add("User", map[string]any{"Id": uCarl, "Name": "Carl Gone", "Username": "carl@example.com", "IsActive": false, "ManagerId": uBob})

	add("Account", map[string]any{"Id": aAcme, "Name": "Acme", "Industry": "Technology", "NumberOfEmployees": 100.0,
		"AnnualRevenue": 1e6, "CreatedDate": "2024-01-01T10:00:00.000+0000", "LastActivityDate": "2024-03-01",
		"Active__c": true, "OwnerId": uBob, "ParentId": nil})
	add("Account", map[string]any{"Id": aGlobex, "Name": "Globex", "Industry": "Manufacturing", "NumberOfEmployees": 50.0,
		"AnnualRevenue": nil, "CreatedDate": "2024-02-01T00:00:00.000+0000", "LastActivityDate": nil,
		"Active__c": false, "OwnerId": uAlice, "ParentId": nil})
	add("Account", map[string]any{"Id": aInitech, "Name": "Initech", "Industry": nil, "NumberOfEmployees": nil,
		"AnnualRevenue": 5e5, "CreatedDate": "2023-12-31T23:59:59.000+0000", "LastActivityDate": "2024-01-15",
		"Active__c": true, "OwnerId": uBob, "ParentId": aAcme})
	add("Account", map[string]any{"Id": aLabs, "Name": "acme labs", "Industry": "Technology", "NumberOfEmployees": 10.0,
		"AnnualRevenue": 2e5, "CreatedDate": "2024-03-05T08:30:00.000+0000", "LastActivityDate": "2024-03-05",
		"Active__c": false, "OwnerId": nil, "ParentId": aAcme})
	add("Account", map[string]any{"Id": aOB, "Name": "O'Brien & Sons", "Industry": "Retail", "NumberOfEmployees": 7.0,
		"AnnualRevenue": 0.0, "CreatedDate": "2024-03-06T00:00:00.000+0000", "LastActivityDate": "",
		"Active__c": false, "OwnerId": uCarl, "ParentId": nil})
	add("Account", map[string]any{"Id": aNatural, "Name": "100% Natural_Foods", "Industry": "Retail", "NumberOfEmployees": 3.0,
		"AnnualRevenue": 100.5, "CreatedDate": "2024-03-07T00:00:00.000+0000", "LastActivityDate": "2024-03-07",
		"Active__c": true, "OwnerId": uAlice, "ParentId": aGlobex})
	add("Account", map[string]any{"Id": aGone, "Name": "Gone Inc", "Industry": "Technology", "NumberOfEmployees": 1.0,
		"AnnualRevenue": 1.0, "CreatedDate": "2024-03-08T00:00:00.000+0000", "LastActivityDate": nil,
		"Active__c": true, "OwnerId": uAlice, "ParentId": nil, "IsDeleted": true})

	add("Contact", map[string]any{"Id": cJane, "FirstName": "Jane", "LastName": "Doe", "Email": "jane@acme.example", "AccountId": aAcme, "OwnerId": uBob})
	add("Contact", map[string]any{"Id": cJohn, "FirstName": "John", "LastName": "Smith", "Email": nil, "AccountId": aGlobex, "OwnerId": uAlice})
	add("Contact", map[string]any{"Id": cNobody, "FirstName": nil, "LastName": "Nobody", "Email": "nobody@example.com", "AccountId": nil, "OwnerId": uAlice})
	add("Contact", map[string]any{"Id": cGone, "FirstName": "Ann", "LastName": "Gone", "Email": nil, "AccountId": aAcme, "OwnerId": uAlice, "IsDeleted": true})
	add("Contact", map[string]any{"Id": cBob, "FirstName": "Bob", "LastName": "Acme", "Email": "bob@acme.example", "AccountId": aAcme, "OwnerId": uCarl})
	add("Contact", map[string]any{"Id": cOrphan, "FirstName": "Olga", "LastName": "Orphan", "Email": nil, "AccountId": aGone, "OwnerId": uAlice})
	return o
}
