package soql

import (
	"strings"
	"time"
)

// Time zones and date functions.
//
// Salesforce stores dateTime values in UTC and returns them in UTC, but it
// computes relative date literals (TODAY, LAST_N_DAYS:n, THIS_MONTH...) in the
// time zone of the user running the query: for a user in America/Los_Angeles,
// TODAY on a dateTime field is the 24 hours from local midnight, 07:00 or
// 08:00 UTC. Date functions (CALENDAR_YEAR, DAY_ONLY, HOUR_IN_DAY...) read a
// dateTime in UTC unless its field is wrapped in convertTimezone(), which
// converts it to the user's time zone first; convertTimezone() is allowed only
// inside a date function.

// Zone gives the running user's time zone. A Source that does not implement it
// runs in UTC.
type Zone interface {
	Location() *time.Location
}

// location is the time zone relative dates and convertTimezone() use.
func location(src Source) *time.Location {
	if z, ok := src.(Zone); ok {
		if loc := z.Location(); loc != nil {
			return loc
		}
	}
	return time.UTC
}

// dateFuncs are SOQL's date functions. The fiscal ones follow the calendar:
// the org has the default fiscal year, which starts in January.
var dateFuncs = map[string]bool{
	"CALENDAR_MONTH": true, "CALENDAR_QUARTER": true, "CALENDAR_YEAR": true,
	"DAY_IN_MONTH": true, "DAY_IN_WEEK": true, "DAY_IN_YEAR": true, "DAY_ONLY": true,
	"FISCAL_MONTH": true, "FISCAL_QUARTER": true, "FISCAL_YEAR": true,
	"HOUR_IN_DAY": true, "WEEK_IN_MONTH": true, "WEEK_IN_YEAR": true,
}

// atDateFunc reports whether the parser stands at NAME( with NAME a date function.
func (p *parser) atDateFunc() bool {
	t, next := p.peek(), p.peekAt(1)
	return t.kind == tIdent && dateFuncs[strings.ToUpper(t.text)] && next.kind == tPunct && next.text == "("
}

// datePath parses FUNC(field) or FUNC(convertTimezone(field)).
func (p *parser) datePath() (Path, *Error) {
	t := p.next()
	p.next() // (
	convert := false
	if in := p.peek(); isKw(in, "convertTimezone") && p.peekAt(1).kind == tPunct && p.peekAt(1).text == "(" {
		p.next()
		p.next()
		convert = true
	}
	inner, err := p.fieldPath()
	if err != nil {
		return Path{}, err
	}
	if convert {
		if err := p.expectPunct(")"); err != nil {
			return Path{}, err
		}
	}
	if err := p.expectPunct(")"); err != nil {
		return Path{}, err
	}
	inner.Func, inner.Convert, inner.Pos = strings.ToUpper(t.text), convert, t.pos
	return inner, nil
}

// dateItem parses a date function in the SELECT list, with its optional alias.
func (p *parser) dateItem() (Item, *Error) {
	path, err := p.datePath()
	if err != nil {
		return Item{}, err
	}
	it := Item{Path: path, Pos: path.Pos}
	if a := p.peek(); a.kind == tIdent && !isClauseWord(a) {
		it.Alias = p.next().text
	}
	return it, nil
}

// funcString writes a path with its date function, as Salesforce names the
// column in errors: CALENDAR_YEAR(CreatedDate).
func funcString(fn string, convert bool, field string) string {
	if convert {
		field = "convertTimezone(" + field + ")"
	}
	return fn + "(" + field + ")"
}

// dateColumn wraps a resolved date or dateTime column in its date function.
// [UNCONFIRMED] the wording of the errors for a function on a field of another
// type, HOUR_IN_DAY on a date and convertTimezone() on a date: Salesforce's
// exact messages were not found; these name the function and the field.
func (s *scope) dateColumn(c *column, p Path) (*column, *Error) {
	fn, typ := p.Func, c.field.Type
	switch {
	case typ != TypeDate && typ != TypeDateTime:
		return nil, posError(CodeMalformedQuery, s.q, p.Pos, "Invalid field "+c.name+" for date function "+fn+": it takes a date or dateTime field")
	case typ == TypeDate && (p.Convert || fn == "HOUR_IN_DAY"):
		return nil, posError(CodeMalformedQuery, s.q, p.Pos, "Invalid field "+c.name+" for date function "+funcString(fn, p.Convert, "")+": it takes a dateTime field")
	}
	loc := time.UTC
	if p.Convert {
		loc = location(s.src)
	}
	inner := c.get
	c.get = func(row map[string]any) any { return dateFuncValue(fn, typ, inner(row), loc) }
	c.fn = fn
	c.name = funcString(fn, p.Convert, c.name)
	c.kind, c.field = kNum, FieldInfo{Name: c.name, Type: TypeInt}
	if fn == "DAY_ONLY" {
		c.kind, c.field.Type = kDate, TypeDate
	}
	return c, nil
}

// dateFuncValue applies a date function to a stored date ("2026-03-01") or
// dateTime ("2026-03-01T06:30:00.000+0000"), the dateTime read in loc. Numbers
// come back as float64, DAY_ONLY as a date; null stays null.
func dateFuncValue(fn, typ string, v any, loc *time.Location) any {
	s, ok := v.(string)
	if !ok || s == "" {
		return nil
	}
	var t time.Time
	if typ == TypeDate {
		d, err := time.Parse(dateLayout, s[:min(len(s), len(dateLayout))])
		if err != nil {
			return nil
		}
		t = d
	} else {
		ms, ok := storedMillis(s)
		if !ok {
			return nil
		}
		t = time.UnixMilli(ms).In(loc)
	}
	n := 0
	switch fn {
	case "DAY_ONLY":
		return t.Format(dateLayout)
	case "CALENDAR_MONTH", "FISCAL_MONTH":
		n = int(t.Month())
	case "CALENDAR_QUARTER", "FISCAL_QUARTER":
		n = (int(t.Month())-1)/3 + 1
	case "CALENDAR_YEAR", "FISCAL_YEAR":
		n = t.Year()
	case "DAY_IN_MONTH":
		n = t.Day()
	case "DAY_IN_WEEK": // 1 for Sunday, 7 for Saturday
		n = int(t.Weekday()) + 1
	case "DAY_IN_YEAR":
		n = t.YearDay()
	case "HOUR_IN_DAY":
		n = t.Hour()
	case "WEEK_IN_MONTH": // 1 for days 1-7 of the month
		n = (t.Day()-1)/7 + 1
	case "WEEK_IN_YEAR": // 1 for January 1-7
		n = (t.YearDay()-1)/7 + 1
	}
	return float64(n)
}
