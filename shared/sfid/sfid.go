// Package sfid validates Salesforce record ids and API names. Both the
// connector (to keep input out of URL paths) and the org emulator use it.
package sfid

import (
	"regexp"
	"strings"
)

const suffixAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"

// Suffix returns the three-character case-safe suffix of a 15-character id.
func Suffix(id15 string) string {
	var b [3]byte
	for chunk := 0; chunk < 3; chunk++ {
		bits := 0
		for i := 0; i < 5; i++ {
			c := id15[chunk*5+i]
			if c >= 'A' && c <= 'Z' {
				bits |= 1 << i
			}
		}
		b[chunk] = suffixAlphabet[bits]
	}
	return string(b[:])
}

func alnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// Valid reports whether id is a well-formed 15-character id or an 18-character id
// whose suffix matches (compared case-insensitively, as Salesforce does).
func Valid(id string) bool {
	switch len(id) {
	case 15:
		return alnum(id)
	case 18:
		return alnum(id) && strings.EqualFold(Suffix(id[:15]), id[15:])
	}
	return false
}

// To18 returns the 18-character form of a valid id, repairing the case of an
// 18-character id's suffix. It returns "" for an invalid id.
func To18(id string) string {
	if !Valid(id) {
		return ""
	}
	return id[:15] + Suffix(id[:15])
}

var baseName = regexp.MustCompile(`^[A-Za-z](?:[A-Za-z0-9]|_[A-Za-z0-9])*$`)
var namespace = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]{0,14}$`)

// Suffixes of custom API names the connector accepts: __c (custom object or
// field), __x (external object), __mdt (custom metadata type), __e (platform
// event), __b (big object), __kav (knowledge article version), and the
// __Share, __History, __Feed and __ChangeEvent companions of a custom object.
var customSuffixes = map[string]bool{"c": true, "x": true, "mdt": true, "e": true, "b": true, "kav": true, "Share": true, "History": true, "Feed": true, "ChangeEvent": true}

// ValidName reports whether s is a valid sObject or field API name: a standard
// name, base__suffix, or namespace__base__suffix. Such a name cannot hold a path
// separator, dot, query or fragment character.
func ValidName(s string) bool {
	if s == "" || len(s) > 80 {
		return false
	}
	parts := strings.Split(s, "__")
	switch len(parts) {
	case 1:
		return baseName.MatchString(s) && len(s) <= 40
	case 2:
		return baseName.MatchString(parts[0]) && len(parts[0]) <= 40 && customSuffixes[parts[1]]
	case 3:
		return namespace.MatchString(parts[0]) && baseName.MatchString(parts[1]) && len(parts[1]) <= 40 && customSuffixes[parts[2]]
	}
	return false
}
