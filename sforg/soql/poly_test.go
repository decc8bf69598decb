package soql

import (
	"errors"
	"strings"
	"testing"

	"github.com/sfconnect/connector/sforg/internal/ids"
)

// polyOrg adds to the fixture a Review object whose SubjectId is polymorphic
// (it reviews an Account or a Contact), a Remark object that points at a
// Review, and answers Identify from the rows it holds.
type polyOrg struct{ *fakeOrg }

func (o polyOrg) Identify(id string) (string, any, bool) {
	for object, rows := range o.rows {
		for _, r := range rows {
			if r["Id"] != id {
				continue
			}
			if r["IsDeleted"] == true {
				return "", nil, false
			}
			name, ok := r["Name"]
			if !ok {
				name = r["LastName"] // Contact's fixture has no compound Name
			}
			return object, name, true
		}
	}
	return "", nil, false
}

var (
	rvAcme, rvJane, rvGone, rvNone = ids.New("a0R", "5g0", 1), ids.New("a0R", "5g0", 2), ids.New("a0R", "5g0", 3), ids.New("a0R", "5g0", 4)
	rmFirst                        = ids.New("a0M", "5g0", 1)
)

func newPolyOrg() *fakeOrg {
	o := newFakeOrg()
	for _, obj := range []ObjectInfo{
		objectInfo("Review",
			FieldInfo{Name: "Stars", Type: TypeInt},
			FieldInfo{Name: "SubjectId", Type: TypeReference, RelationshipName: "Subject"}),
		objectInfo("Remark",
			FieldInfo{Name: "Body", Type: TypeString},
			ref("ReviewId", "Review", "Review")),
	} {
		o.objects[strings.ToLower(obj.Name)] = obj
	}
	add := func(object string, row map[string]any) {
		row["IsDeleted"] = false
		o.rows[object] = append(o.rows[object], row)
		o.byID[row["Id"].(string)] = row
	}
	add("Review", map[string]any{"Id": rvAcme, "Stars": 5.0, "SubjectId": aAcme})
	add("Review", map[string]any{"Id": rvJane, "Stars": 3.0, "SubjectId": cJane[:15]}) // a 15-character id is followed too
	add("Review", map[string]any{"Id": rvGone, "Stars": 1.0, "SubjectId": aGone})      // a deleted subject
	add("Review", map[string]any{"Id": rvNone, "Stars": 2.0, "SubjectId": nil})
	add("Remark", map[string]any{"Id": rmFirst, "Body": "first", "ReviewId": rvJane})
	return o
}

func init() {
	for id, h := range map[string]string{rvAcme: "rvAcme", rvJane: "rvJane", rvGone: "rvGone", rvNone: "rvNone", rmFirst: "rmFirst"} {
		handles[id] = h
	}
}

func TestRunPolymorphicRelationship(t *testing.T) {
	org := polyOrg{newPolyOrg()}
	tests := []struct {
		name, query string
		want        []string
	}{
		{"the parent is a Name record with the parent's type and name",
			"SELECT Id, Subject.Type, Subject.Name, Subject.Id FROM Review WHERE Stars > 2 ORDER BY Stars DESC",
			[]string{"Review(rvAcme){Id:rvAcme Subject:Name(aAcme){Type:Account Name:Acme Id:aAcme}}",
				"Review(rvJane){Id:rvJane Subject:Name(cJane){Type:Contact Name:Doe Id:cJane}}"}},
		{"an empty reference and a deleted parent are null",
			"SELECT Id, Subject.Type FROM Review WHERE Stars < 3 ORDER BY Stars",
			[]string{"Review(rvGone){Id:rvGone Subject:null}", "Review(rvNone){Id:rvNone Subject:null}"}},
		{"the Type qualifier filters on the parent's type, in any letter case",
			"SELECT Id FROM Review WHERE Subject.Type = 'contact'",
			[]string{"Review(rvJane){Id:rvJane}"}},
		{"Type with IN",
			"SELECT Id FROM Review WHERE Subject.Type IN ('Account', 'Lead') ORDER BY Id",
			[]string{"Review(rvAcme){Id:rvAcme}"}},
		{"Name in a filter",
			"SELECT Id FROM Review WHERE Subject.Name LIKE 'ac%'",
			[]string{"Review(rvAcme){Id:rvAcme}"}},
		{"through a parent first",
			"SELECT Body, Review.Subject.Type, Review.Subject.Name FROM Remark WHERE Review.Subject.Type = 'Contact'",
			[]string{"Remark(rmFirst){Body:first Review:Review(rvJane){Subject:Name(cJane){Type:Contact Name:Doe}}}"}},
		{"ordered by the parent's type",
			"SELECT Id FROM Review WHERE SubjectId != null ORDER BY Subject.Type DESC",
			[]string{"Review(rvJane){Id:rvJane}", "Review(rvAcme){Id:rvAcme}", "Review(rvGone){Id:rvGone}"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := mustRun(t, org, tt.query, false)
			var got []string
			for _, r := range res.Records {
				got = append(got, render(r))
			}
			if strings.Join(got, ", ") != strings.Join(tt.want, ", ") {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}

	t.Run("the Name record knows the parent's own type for its url", func(t *testing.T) {
		res := mustRun(t, org, "SELECT Subject.Type FROM Review WHERE Id = '"+rvAcme+"'", false)
		sub, _ := res.Records[0].Fields[0].Value.(*Record)
		if sub == nil || sub.Type != NameObject || sub.Object != "Account" {
			t.Fatalf("got %+v, want a Name record of an Account", sub)
		}
		if top := res.Records[0]; top.Object != "" {
			t.Errorf("got Object %q on a plain record, want none", top.Object)
		}
	})
}

func TestRunPolymorphicErrors(t *testing.T) {
	org := polyOrg{newPolyOrg()}
	tests := []struct {
		name, query, code, text string
	}{
		{"a field the Name object does not have", "SELECT Subject.Industry FROM Review", CodeInvalidField, "No such column 'Industry' on entity 'Name'"},
		{"no relationship of that name", "SELECT Subjects.Type FROM Review", CodeInvalidField, "Didn't understand relationship 'Subjects'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Run(org, tt.query, false)
			var qe *Error
			if !errors.As(err, &qe) {
				t.Fatalf("got %v, want a query error", err)
			}
			if qe.Code != tt.code || !strings.Contains(qe.Message, tt.text) {
				t.Errorf("got %s %q, want %s containing %q", qe.Code, qe.Message, tt.code, tt.text)
			}
		})
	}
}

// A Source that cannot identify records still compiles the query; the
// relationship reads as null and a Type filter matches nothing.
func TestRunPolymorphicWithoutIdentities(t *testing.T) {
	org := newPolyOrg()
	res := mustRun(t, org, "SELECT Id, Subject.Type FROM Review WHERE Id = '"+rvAcme+"'", false)
	if got, want := render(res.Records[0]), "Review(rvAcme){Id:rvAcme Subject:null}"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if res := mustRun(t, org, "SELECT Id FROM Review WHERE Subject.Type = 'Account'", false); len(res.Records) != 0 {
		t.Errorf("got %d records, want none", len(res.Records))
	}
}
