package sfid

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzValidName checks that an accepted API name is one URL path segment as
// it is: letters, digits and single underscores, at most 80 characters.
func FuzzValidName(f *testing.F) {
	for _, s := range []string{"Account", "My_Object__c", "ns__Invoice__c", "A__B__C__c", "Foo_", "_x", "Account/../limits", "Account%2F", "Account\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !ValidName(s) {
			return
		}
		if len(s) > 80 || url.PathEscape(s) != s || strings.Contains(s, "___") || strings.HasSuffix(s, "_") {
			t.Fatalf("ValidName(%q) = true", s)
		}
		for _, c := range []byte(s) {
			if !(c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
				t.Fatalf("ValidName(%q) = true with %q", s, c)
			}
		}
		if c := s[0]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			t.Fatalf("ValidName(%q) = true, starting with %q", s, c)
		}
	})
}

// FuzzValid checks ids: an accepted id is 15 or 18 alphanumerics, To18 turns
// it into an equivalent valid 18-character id, and To18 is idempotent.
func FuzzValid(f *testing.F) {
	for _, s := range []string{"001D000000IqhSL", "001D000000IqhSLIAZ", "001D000000IqhSLiaz", "001D000000IqhSLIAA", "001D000000IqhS/", "001D000000IqhSL%2F"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		long := To18(id)
		if !Valid(id) {
			if long != "" {
				t.Fatalf("To18(%q) = %q for an invalid id", id, long)
			}
			return
		}
		if (len(id) != 15 && len(id) != 18) || !alnum(id) || url.PathEscape(id) != id {
			t.Fatalf("Valid(%q) = true", id)
		}
		if !Valid(long) || len(long) != 18 || long[:15] != id[:15] || To18(long) != long {
			t.Fatalf("To18(%q) = %q", id, long)
		}
		if len(id) == 18 && !strings.EqualFold(long, id) {
			t.Fatalf("To18(%q) = %q, want the same id", id, long)
		}
	})
}
