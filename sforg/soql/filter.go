package soql

import (
	"strings"
	"time"

	"github.com/sfconnect/connector/shared/sfid"
)

// pred is a compiled WHERE condition. Literals are checked and converted once,
// when the query is compiled, never per row.
type pred func(row map[string]any) bool

// filterEnv is what compiling a condition needs beyond the scope.
type filterEnv struct {
	*scope
	now time.Time
	all bool
}

func (e *filterEnv) compile(x Expr) (pred, *Error) {
	switch x := x.(type) {
	case *Logic:
		ps := make([]pred, len(x.Terms))
		for i, t := range x.Terms {
			p, err := e.compile(t)
			if err != nil {
				return nil, err
			}
			ps[i] = p
		}
		if x.Op == "AND" {
			return func(row map[string]any) bool {
				for _, p := range ps {
					if !p(row) {
						return false
					}
				}
				return true
			}, nil
		}
		return func(row map[string]any) bool {
			for _, p := range ps {
				if p(row) {
					return true
				}
			}
			return false
		}, nil
	case *Not:
		p, err := e.compile(x.X)
		if err != nil {
			return nil, err
		}
		return func(row map[string]any) bool { return !p(row) }, nil
	case *Cmp:
		return e.comparison(x)
	}
	panic("soql: unknown expression")
}

func (e *filterEnv) comparison(c *Cmp) (pred, *Error) {
	col, err := e.column(c.Field)
	if err != nil {
		return nil, err
	}
	if err := compoundRefusal(e.q, c.Field.Pos, col, "filtered"); err != nil {
		return nil, err
	}
	get := col.get
	switch {
	case c.Sub != nil:
		in, err := e.semiJoin(col, c.Sub)
		if err != nil {
			return nil, err
		}
		want := c.Op == "IN"
		return func(row map[string]any) bool { return in(get(row)) == want }, nil
	case c.Op == "IN" || c.Op == "NOT IN":
		ms := make([]func(any) bool, len(c.Values))
		for i, v := range c.Values {
			m, err := e.matcher(col, c.Field.Pos, "=", v)
			if err != nil {
				return nil, err
			}
			ms[i] = m
		}
		want := c.Op == "IN"
		return func(row map[string]any) bool {
			v := get(row)
			for _, m := range ms {
				if m(v) {
					return want
				}
			}
			return !want
		}, nil
	}
	m, err := e.matcher(col, c.Field.Pos, c.Op, c.Value)
	if err != nil {
		return nil, err
	}
	return func(row map[string]any) bool { return m(get(row)) }, nil
}

// typeWords name field types the way Salesforce's filter errors do.
var typeWords = map[string]string{
	TypeInt: "integer", TypeDouble: "double", TypeCurrency: "currency", TypePercent: "percent",
	TypeBoolean: "boolean", TypeDate: "date", TypeDateTime: "dateTime",
}

// mismatch reports a literal of the wrong type. Like Salesforce's filter
// errors it points at the field, not at the value.
func (e *filterEnv) mismatch(col *column, at int) *Error {
	if col.kind == kText {
		return posError(CodeInvalidField, e.q, at, "value of filter criterion for field '"+col.name+
			"' must be of type string and should be enclosed in quotes")
	}
	word := typeWords[col.field.Type]
	if word == "" {
		word = col.field.Type
	}
	return posError(CodeInvalidField, e.q, at, "value of filter criterion for field '"+col.name+
		"' must be of type "+word+" and should not be enclosed in quotes")
}

// matcher compiles "value op literal" for one column into a test of the stored
// value. Comparisons other than = and != never match null.
func (e *filterEnv) matcher(col *column, at int, op string, lit Literal) (func(any) bool, *Error) {
	if lit.Kind == LitNull {
		switch op {
		case "=":
			return isNull, nil
		case "!=":
			return func(v any) bool { return !isNull(v) }, nil
		}
		return func(any) bool { return false }, nil
	}
	switch col.kind {
	case kText:
		if lit.Kind != LitString {
			return nil, e.mismatch(col, at)
		}
		return textMatcher(op, lit), nil
	case kID:
		if lit.Kind != LitString {
			return nil, e.mismatch(col, at)
		}
		if op == "LIKE" {
			return textMatcher(op, lit), nil
		}
		if lit.Str == "" {
			return e.matcher(col, at, op, Literal{Kind: LitNull})
		}
		if !sfid.Valid(lit.Str) {
			return nil, posError(CodeInvalidFilter, e.q, at, "invalid ID field: "+lit.Str)
		}
		want := lit.Str[:15]
		full := sfid.To18(lit.Str)
		return ordered(op, func(v any) (int, bool) {
			s, ok := v.(string)
			if !ok || s == "" {
				return 0, false
			}
			if id15(s) == want {
				return 0, true
			}
			return strings.Compare(s, full), true
		}), nil
	case kNum:
		if lit.Kind != LitNumber || op == "LIKE" {
			return nil, e.mismatch(col, at)
		}
		want := lit.Num
		return ordered(op, func(v any) (int, bool) {
			n, ok := toFloat(v)
			if !ok {
				return 0, false
			}
			return cmpNum(n, want), true
		}), nil
	case kBool:
		if lit.Kind != LitBool || op == "LIKE" {
			return nil, e.mismatch(col, at)
		}
		want := lit.Str == "TRUE"
		return ordered(op, func(v any) (int, bool) {
			b, _ := v.(bool) // a checkbox is never null: unset reads as false
			return cmpBool(b, want), true
		}), nil
	case kDate:
		switch {
		case lit.Kind == LitDate && op != "LIKE":
			if _, err := time.Parse(dateLayout, lit.Text); err != nil {
				return nil, e.mismatch(col, at)
			}
			want := lit.Text
			return ordered(op, func(v any) (int, bool) {
				d, ok := storedDate(v)
				if !ok {
					return 0, false
				}
				return strings.Compare(d, want), true
			}), nil
		case lit.Kind == LitRange && op != "LIKE":
			lo, hi := dateRange(lit.Str, lit.N, e.now)
			los, his := lo.Format(dateLayout), hi.Format(dateLayout)
			return ordered(op, func(v any) (int, bool) {
				d, ok := storedDate(v)
				if !ok {
					return 0, false
				}
				return rangePos(strings.Compare(d, los), strings.Compare(d, his)), true
			}), nil
		}
		return nil, e.mismatch(col, at)
	case kDateTime:
		switch {
		case lit.Kind == LitDateTime && op != "LIKE":
			t, ok := parseDateTime(lit.Text)
			if !ok {
				return nil, e.mismatch(col, at)
			}
			want := t.UnixMilli()
			return ordered(op, func(v any) (int, bool) {
				ms, ok := storedMillis(v)
				if !ok {
					return 0, false
				}
				return cmpNum(ms, want), true
			}), nil
		case lit.Kind == LitRange && op != "LIKE":
			lo, hi := dateRange(lit.Str, lit.N, e.now)
			lom, him := lo.UnixMilli(), hi.UnixMilli()
			return ordered(op, func(v any) (int, bool) {
				ms, ok := storedMillis(v)
				if !ok {
					return 0, false
				}
				return rangePos(cmpNum(ms, lom), cmpNum(ms, him)), true
			}), nil
		}
		return nil, e.mismatch(col, at)
	}
	return nil, e.mismatch(col, at)
}

// textMatcher compares text case-insensitively, as Salesforce does. An empty
// literal means null, since Salesforce stores no empty strings.
func textMatcher(op string, lit Literal) func(any) bool {
	if op == "LIKE" {
		like := likeMatcher(lit.Raw)
		return func(v any) bool {
			s, ok := v.(string)
			return ok && s != "" && like(s)
		}
	}
	if lit.Str == "" && (op == "=" || op == "!=") {
		if op == "=" {
			return isNull
		}
		return func(v any) bool { return !isNull(v) }
	}
	want := strings.ToLower(lit.Str)
	if op == "=" || op == "!=" {
		eq := op == "="
		return func(v any) bool {
			s, ok := v.(string)
			return (ok && strings.EqualFold(s, want)) == eq
		}
	}
	return ordered(op, func(v any) (int, bool) {
		s, ok := v.(string)
		if !ok || s == "" {
			return 0, false
		}
		return strings.Compare(strings.ToLower(s), want), true
	})
}

// ordered turns a three-way comparison of the stored value with the literal
// into the operator's test. A value that cannot be compared (null) matches only
// !=, as in Salesforce, where "Field != 'x'" includes rows with no value.
func ordered(op string, cmp func(any) (int, bool)) func(any) bool {
	test := opTest(op)
	return func(v any) bool {
		c, ok := cmp(v)
		if !ok {
			return op == "!="
		}
		return test(c)
	}
}

func opTest(op string) func(int) bool {
	switch op {
	case "=":
		return func(c int) bool { return c == 0 }
	case "!=":
		return func(c int) bool { return c != 0 }
	case "<":
		return func(c int) bool { return c < 0 }
	case "<=":
		return func(c int) bool { return c <= 0 }
	case ">":
		return func(c int) bool { return c > 0 }
	case ">=":
		return func(c int) bool { return c >= 0 }
	}
	return func(int) bool { return false }
}

// rangePos places a value against a period [lo, hi): -1 before, 0 inside, 1
// after, so that = means inside, < before its start, > after its end.
func rangePos(vsLo, vsHi int) int {
	switch {
	case vsLo < 0:
		return -1
	case vsHi >= 0:
		return 1
	}
	return 0
}

// semiJoin runs an IN (SELECT field FROM ...) subquery once and returns a
// membership test on the outer field's value.
func (e *filterEnv) semiJoin(outer *column, sub *Query) (func(any) bool, *Error) {
	obj, ok := e.src.Object(sub.Object)
	if !ok {
		return nil, invalidType(e.q, sub.objectTok)
	}
	if obj.SubqueryOnly {
		return nil, notQueryable(obj)
	}
	inner := &filterEnv{scope: &scope{src: e.src, q: e.q, obj: obj, alias: sub.Alias}, now: e.now, all: e.all}
	if len(sub.Items) != 1 || sub.Items[0].Func != "" || sub.Items[0].Sub != nil || sub.Items[0].Fields != "" {
		return nil, syntaxError(e.q, sub.Items[0].Pos, "unexpected token: '"+firstWord(e.q, sub.Items[0].Pos)+"'")
	}
	col, err := inner.column(sub.Items[0].Path)
	if err != nil {
		return nil, err
	}
	var where pred
	if sub.Where != nil {
		if where, err = inner.compile(sub.Where); err != nil {
			return nil, err
		}
	}
	key := func(k kind, v any) (string, bool) {
		s, ok := v.(string)
		if !ok || s == "" {
			return "", false
		}
		if k == kID {
			return id15(s), true
		}
		return strings.ToLower(s), true
	}
	set := map[string]bool{}
	for _, row := range liveRows(e.src, obj.Name, false) {
		if where != nil && !where(row) {
			continue
		}
		if k, ok := key(col.kind, col.get(row)); ok {
			set[k] = true
		}
	}
	return func(v any) bool {
		k, ok := key(outer.kind, v)
		return ok && set[k]
	}, nil
}

func firstWord(q string, pos int) string {
	end := pos
	for end < len(q) && isIdentPart(q[end]) {
		end++
	}
	if end == pos && pos < len(q) {
		end++
	}
	return q[pos:end]
}

// cmpNum orders two numbers: -1, 0 or 1. Unlike cmp.Compare it calls NaN
// equal to everything.
func cmpNum[T int64 | float64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}
