package sforg

// If-Modified-Since on the resources Salesforce documents it for: Describe
// Global and sObject Describe compare it with when the metadata last changed
// (an object defined, a field added), sObject Rows (GET of a record by id) with
// the record's LastModifiedDate. When nothing changed after the given time
// the answer is 304 Not Modified with no body; the request still counts
// against the API allocation, as every authenticated REST call does.
//
// The header's format is Java's "EEE, dd MMM yyyy HH:mm:ss z" (the docs'
// examples: "Wed, 3 Jul 2013 19:43:31 GMT", "Mon, 30 Nov 2020 08:34:54 MST");
// a value that does not parse is ignored, as HTTP asks.
// [UNCONFIRMED] the comparison is exact to the millisecond: a change at
// 19:43:31.500 is after "19:43:31 GMT", so the body is sent.

import (
	"net/http"
	"strings"
	"time"
)

// httpDateLayouts are the forms of an If-Modified-Since value accepted:
// Java's pattern (day of one or two digits, a zone name or a numeric offset)
// and the other forms HTTP allows.
var httpDateLayouts = []string{
	"Mon, 2 Jan 2006 15:04:05 MST",
	"Mon, 2 Jan 2006 15:04:05 -0700",
	"Monday, 02-Jan-06 15:04:05 MST",
	"Mon Jan _2 15:04:05 2006",
}

// zoneOffsets are the offsets of the zone names Java's date parser knows and
// the docs use; Go would read an unknown name as UTC.
var zoneOffsets = map[string]int{
	"GMT": 0, "UTC": 0, "UT": 0, "Z": 0,
	"EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
	"BST": 1, "CET": 1, "CEST": 2,
}

// parseHTTPDate reads an If-Modified-Since value.
func parseHTTPDate(v string) (time.Time, bool) {
	v = strings.TrimSpace(v)
	for _, layout := range httpDateLayouts {
		t, err := time.Parse(layout, v)
		if err != nil {
			continue
		}
		name, offset := t.Zone()
		if hours, ok := zoneOffsets[name]; ok && offset == 0 {
			t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.FixedZone(name, hours*3600))
		}
		return t, true
	}
	return time.Time{}, false
}

// notModified answers 304 Not Modified, and reports true, when a GET or HEAD
// carries If-Modified-Since and changed is not after it.
func notModified(w http.ResponseWriter, r *http.Request, changed time.Time) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	since, ok := parseHTTPDate(r.Header.Get("If-Modified-Since"))
	if !ok || changed.IsZero() || changed.After(since) {
		return false
	}
	w.WriteHeader(http.StatusNotModified)
	return true
}

// metadataChanged is when any object's definition last changed: Describe
// Global's If-Modified-Since compares with it.
func (s *Store) metadataChanged() time.Time {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var last time.Time
	for _, o := range s.objects {
		if o.changed.After(last) {
			last = o.changed
		}
	}
	return last
}

// recordChanged returns a live record's LastModifiedDate, or false when the
// record cannot be read (the GET then answers the error itself).
func (s *Store) recordChanged(object, id string) (time.Time, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, r, err := s.lookup(object, id)
	if err != nil {
		return time.Time{}, false
	}
	v, _ := r.fields["LastModifiedDate"].(string)
	t, err := time.Parse(storedDateTime, v)
	return t, err == nil
}

// storedDateTime is the layout of stored datetimes (Store.timestamp).
const storedDateTime = "2006-01-02T15:04:05.000-0700"
