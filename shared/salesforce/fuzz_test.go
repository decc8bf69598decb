package salesforce

import (
	"encoding/xml"
	"strings"
	"testing"
	"unicode/utf8"
)

// xmlText reports whether s is made of characters XML 1.0 can carry, so that
// it must come back from the envelope unchanged.
func xmlText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		ok := r == '\t' || r == '\n' || r == '\r' || (r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || r >= 0x10000
		if !ok {
			return false
		}
	}
	return true
}

// FuzzMetadataEnvelope checks the createMetadata request built from any
// definition and session: always well-formed XML with exactly one
// createMetadata, and values that come back as sent (or with the characters
// XML cannot carry replaced), never markup of their own.
func FuzzMetadataEnvelope(f *testing.F) {
	f.Add("00D!session", "Invoice__c", "R&D <Invoice>", `Bills "sent" & paid`)
	f.Add("00D!a<b>&\"c\"", "Invoice__c</met:fullName><met:label>x", "]]>", "\x00\x1b\r\n\t")
	f.Fuzz(func(t *testing.T, session, fullName, label, description string) {
		def := invoice
		def.FullName, def.Label, def.Description = fullName, label, description
		body := createMetadataEnvelope(session, def)
		var m metadataRequest
		if err := xml.Unmarshal(body, &m); err != nil {
			t.Fatalf("envelope is not XML: %v\n%s", err, body)
		}
		if n := strings.Count(string(body), "<met:createMetadata>"); n != 1 {
			t.Fatalf("got %d createMetadata elements, want 1", n)
		}
		md := m.Body.Create.Metadata
		for _, v := range []struct{ sent, got string }{
			{session, m.Header.Session}, {fullName, md.FullName}, {label, md.Label}, {description, md.Description},
		} {
			if xmlText(v.sent) && v.got != v.sent && !(v.sent == "" && v.got == "") {
				t.Fatalf("got %q back, want %q", v.got, v.sent)
			}
		}
		if md.PluralLabel != invoice.PluralLabel || md.SharingModel != invoice.SharingModel {
			t.Fatalf("other fields changed: %+v", md)
		}
	})
}
