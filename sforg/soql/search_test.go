package soql

import (
	"strings"
	"testing"
)

// searchOrg makes the fixture searchable: Account by Name, Contact by its
// names and Email.
type searchOrg struct{ *fakeOrg }

func (searchOrg) SearchObjects() []string { return []string{"Account", "Contact"} }

func (searchOrg) SearchFields(object, group string) []string {
	fields := map[string]map[string][]string{
		"Account": {"ALL": {"Name"}, "NAME": {"Name"}},
		"Contact": {"ALL": {"FirstName", "LastName", "Email"}, "NAME": {"FirstName", "LastName"}, "EMAIL": {"Email"}},
	}
	return fields[object][group]
}

func renderRecords(res *Result) string {
	parts := make([]string, len(res.Records))
	for i, r := range res.Records {
		parts[i] = render(r)
	}
	return strings.Join(parts, ", ")
}

func TestSearch(t *testing.T) {
	for _, tc := range []struct {
		name, sosl, want string
	}{
		{"all objects, ids only, name matches first",
			"FIND {acme}",
			"Account(aAcme){Id:aAcme}, Account(aLabs){Id:aLabs}, Contact(cBob){Id:cBob}, Contact(cJane){Id:cJane}"},
		{"case-insensitive", "FIND {ACME} RETURNING Account", "Account(aAcme){Id:aAcme}, Account(aLabs){Id:aLabs}"},
		{"fields and ORDER BY", "FIND {acme} RETURNING Contact(FirstName ORDER BY FirstName DESC)", "Contact(cJane){FirstName:Jane}, Contact(cBob){FirstName:Bob}"},
		{"email fields", "FIND {acme} IN EMAIL FIELDS RETURNING Contact(LastName)", "Contact(cBob){LastName:Acme}, Contact(cJane){LastName:Doe}"},
		{"name fields", "find {acme} in name fields returning contact(LastName)", "Contact(cBob){LastName:Acme}"},
		{"words in any order", "FIND {labs acme} RETURNING Account(Name)", "Account(aLabs){Name:acme labs}"},
		{"phrase", `FIND {"acme labs"} RETURNING Account(Name)`, "Account(aLabs){Name:acme labs}"},
		{"phrase in the wrong order", `FIND {"labs acme"} RETURNING Account(Name)`, ""},
		{"OR", "FIND {acme OR globex} RETURNING Account(Name)", "Account(aAcme){Name:Acme}, Account(aGlobex){Name:Globex}, Account(aLabs){Name:acme labs}"},
		{"AND NOT", "FIND {acme AND NOT labs} RETURNING Account(Name)", "Account(aAcme){Name:Acme}"},
		{"parentheses", "FIND {(acme OR globex) AND NOT labs} RETURNING Account(Name)", "Account(aAcme){Name:Acme}, Account(aGlobex){Name:Globex}"},
		{"trailing wildcard", "FIND {glo*} RETURNING Account(Name)", "Account(aGlobex){Name:Globex}"},
		{"one-character wildcard", "FIND {in?tech} RETURNING Account(Name)", "Account(aInitech){Name:Initech}"},
		{"no prefix match without a wildcard", "FIND {glob} RETURNING Account(Name)", ""},
		{"escaped quote", `FIND {O\'Brien} RETURNING Account(Name)`, "Account(aOB){Name:O'Brien & Sons}"},
		{"punctuation splits words", "FIND {100% Natural_Foods} RETURNING Account(Name)", "Account(aNatural){Name:100% Natural_Foods}"},
		{"WHERE", "FIND {acme OR globex} RETURNING Account(Name WHERE Industry = 'Technology')", "Account(aAcme){Name:Acme}, Account(aLabs){Name:acme labs}"},
		{"object LIMIT and global LIMIT", "FIND {acme} RETURNING Account(Name LIMIT 1), Contact(LastName) LIMIT 2", "Account(aAcme){Name:Acme}, Contact(cBob){LastName:Acme}"},
		{"OFFSET", "FIND {acme} RETURNING Account(Name OFFSET 1)", "Account(aLabs){Name:acme labs}"},
		{"parent fields", "FIND {jane} RETURNING Contact(LastName, Account.Name)", "Contact(cJane){LastName:Doe Account:Account(aAcme){Name:Acme}}"},
		{"deleted records are not found", "FIND {gone}", ""},
		{"options", "FIND {acme} IN ALL FIELDS RETURNING Account(Name LIMIT 1) WITH SPELL_CORRECTION = false WITH SNIPPET LIMIT 10 UPDATE TRACKING", "Account(aAcme){Name:Acme}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Search(searchOrg{newFakeOrg()}, tc.sosl)
			if err != nil {
				t.Fatal(err)
			}
			if got := renderRecords(res); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if res.TotalSize != len(res.Records) {
				t.Errorf("TotalSize: got %d, want %d", res.TotalSize, len(res.Records))
			}
		})
	}
}

func TestSearchErrors(t *testing.T) {
	for _, tc := range []struct {
		name, sosl, code, text string
	}{
		{"no braces", "FIND acme", CodeMalformedSearch, "No search term found. The search term must be enclosed in braces."},
		{"no closing brace", "FIND {acme", CodeMalformedSearch, "No search term found. The search term must be enclosed in braces."},
		{"not FIND", "SELECT Id FROM Account", CodeMalformedSearch, "unexpected token: 'SELECT'"},
		{"one character", "FIND {a*}", CodeInvalidSearch, "search term must be longer than one character: a*"},
		{"unknown object", "FIND {acme} RETURNING Nope__c", CodeInvalidType, "sObject type 'Nope__c' is not supported."},
		{"unknown field", "FIND {acme} RETURNING Account(Nope)", CodeInvalidField, "No such column 'Nope' on entity 'Account'"},
		{"bad search group", "FIND {acme} IN BOGUS FIELDS", CodeMalformedSearch, "unexpected token: 'BOGUS'"},
		{"unclosed field list", "FIND {acme} RETURNING Account(Name", CodeMalformedSearch, "ERROR at Row:1:Column:34\nunexpected token: <EOF>"},
		{"unmatched quote", `FIND {"acme} RETURNING Account`, CodeMalformedSearch, "unmatched quotation mark"},
		{"dangling operator", "FIND {acme AND}", CodeMalformedSearch, "misplaced operator"},
		{"unbalanced parenthesis", "FIND {(acme}", CodeMalformedSearch, "unbalanced parentheses"},
		{"aggregate", "FIND {acme} RETURNING Account(COUNT())", CodeMalformedSearch, "unexpected token: 'COUNT'"},
		{"bad LIMIT", "FIND {acme} LIMIT x", CodeMalformedSearch, "unexpected token: 'x'"},
		{"trailing text", "FIND {acme} RETURNING Account junk", CodeMalformedSearch, "unexpected token: 'junk'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Search(searchOrg{newFakeOrg()}, tc.sosl)
			wantError(t, err, tc.code, tc.text)
		})
	}
}
