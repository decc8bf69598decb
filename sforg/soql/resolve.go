package soql

import (
	"strings"

	"github.com/sfconnect/connector/shared/sfid"
)

// kind is how values of a field compare and sort.
type kind int

const (
	kText kind = iota
	kID
	kNum
	kBool
	kDate
	kDateTime
)

func kindOf(typ string) kind {
	switch typ {
	case TypeID, TypeReference:
		return kID
	case TypeInt, TypeDouble, TypeCurrency, TypePercent:
		return kNum
	case TypeBoolean:
		return kBool
	case TypeDate:
		return kDate
	case TypeDateTime:
		return kDateTime
	}
	return kText
}

// column is a field path resolved against the objects: the reference fields to
// follow, then the field to read.
type column struct {
	hops  []FieldInfo // reference fields followed, outermost first
	types []string    // the object reached by each hop
	field FieldInfo
	kind  kind
	name  string // canonical dotted path, e.g. "Account.Owner.Name"
	get   func(row map[string]any) any
	fn    string // the date function applied, or "" (zone.go)
}

// scope is one object a (sub)query reads, with what is needed to resolve names.
type scope struct {
	src   Source
	q     string // the statement text, for error locations
	obj   ObjectInfo
	alias string
}

// column resolves a path such as Name, Account.Name or c.Account.Owner.Name.
func (s *scope) column(p Path) (*column, *Error) {
	parts := p.Parts
	if len(parts) > 1 {
		first := parts[0]
		if s.alias != "" && strings.EqualFold(first, s.alias) ||
			strings.EqualFold(first, s.obj.Name) && relationship(s.obj, first) == nil {
			parts = parts[1:]
		}
	}
	c := &column{}
	cur := s.obj
	var names []string
	for _, part := range parts[:len(parts)-1] {
		ref := relationship(cur, part)
		if ref == nil {
			return nil, badRelationship(s.q, p.Pos, part)
		}
		parent, ok := parentObject(s.src, *ref)
		if !ok {
			return nil, badRelationship(s.q, p.Pos, part)
		}
		c.hops = append(c.hops, *ref)
		c.types = append(c.types, parent.Name)
		names = append(names, ref.RelationshipName)
		cur = parent
	}
	last := parts[len(parts)-1]
	f, ok := cur.Fields[strings.ToLower(last)]
	if !ok {
		return nil, noSuchColumn(s.q, p.Pos, last, cur.Name)
	}
	c.field = f
	c.kind = kindOf(f.Type)
	c.name = strings.Join(append(names, f.Name), ".")
	c.get = getter(s.src, c.hops, f.Name)
	if p.Func != "" {
		return s.dateColumn(c, p)
	}
	return c, nil
}

// relationship finds the reference field whose relationship name is name.
func relationship(obj ObjectInfo, name string) *FieldInfo {
	for _, f := range obj.Fields {
		if f.RelationshipName != "" && strings.EqualFold(f.RelationshipName, name) {
			return &f
		}
	}
	return nil
}

// getter returns the reader of one column; a plain field is a map lookup, a
// parent field follows the lookups through Source.Row.
func getter(src Source, hops []FieldInfo, name string) func(map[string]any) any {
	if len(hops) == 0 {
		return func(row map[string]any) any { return row[name] }
	}
	return func(row map[string]any) any {
		for _, h := range hops {
			if row = follow(src, row, h); row == nil {
				return nil
			}
		}
		return row[name]
	}
}

// parentRow follows the reference field ref of row, or returns nil.
func parentRow(src Source, row map[string]any, ref string) map[string]any {
	id, _ := row[ref].(string)
	if id == "" {
		return nil
	}
	if len(id) == 15 {
		id = sfid.To18(id)
	}
	parent, ok := src.Row(id)
	if !ok {
		return nil
	}
	return parent
}

// isNull reports whether a stored value counts as null. Salesforce stores no
// empty strings: an emptied text field reads back as null.
func isNull(v any) bool {
	if v == nil {
		return true
	}
	s, ok := v.(string)
	return ok && s == ""
}

func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case int32:
		return float64(n), true
	}
	return 0, false
}

// id15 is the case-sensitive part of an id.
func id15(s string) string {
	if len(s) > 15 {
		return s[:15]
	}
	return s
}
