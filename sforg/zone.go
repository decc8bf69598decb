package sforg

import (
	"sync"
	"time"
	_ "time/tzdata" // the org's time zones work on machines without a zoneinfo database
)

// Location is the running user's time zone (the integration user's
// TimeZoneSidKey, America/Los_Angeles unless changed): SOQL computes relative
// date literals and convertTimezone() in it, as Salesforce does for the user
// who sends the query (the SOQL reference's date literal and convertTimezone()
// pages). The caller holds the store's read lock.
func (src source) Location() *time.Location {
	r, ok := src.s.rows[src.s.userID]
	if !ok {
		return time.UTC
	}
	name, _ := r.fields["TimeZoneSidKey"].(string)
	return zoneNamed(name)
}

// zones caches loaded time zones by name.
var zones sync.Map

// zoneNamed loads a time zone by its IANA name (what TimeZoneSidKey holds),
// or UTC for an empty or unknown name.
func zoneNamed(name string) *time.Location {
	if name == "" {
		return time.UTC
	}
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		loc = time.UTC
	}
	zones.Store(name, loc)
	return loc
}
