package soql

import (
	"slices"
	"sort"
	"strings"
	"time"
)

// MaxOffset is the largest OFFSET Salesforce accepts.
const MaxOffset = 2000

// fieldsLimit is the largest LIMIT allowed with FIELDS(ALL) or FIELDS(CUSTOM).
const fieldsLimit = 200

// Run parses and runs one SOQL statement against src. With all (queryAll) it
// includes deleted rows; otherwise rows with IsDeleted=true are left out. Errors
// are *Error carrying Salesforce's errorCode and message.
func Run(src Source, query string, all bool) (*Result, error) {
	stmt, err := parse(query)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	if c, ok := src.(Clock); ok {
		now = c.Now()
	}
	now = now.In(location(src)) // relative dates are the running user's (zone.go)
	res, err := execute(src, stmt, all, now)
	if err != nil {
		return nil, err
	}
	return res, nil
}

// plan is a statement compiled against one object.
type plan struct {
	env       *filterEnv
	typ       string // canonical object name
	where     pred
	order     []orderKey
	limit     int // -1 for none
	offset    int
	nodes     []*node // output shape of a plain SELECT
	countOnly bool    // SELECT COUNT()
	agg       *aggPlan
}

// node is one output field. A leaf reads field from the current row; a
// relationship node follows ref to a parent of type typ and nests kids; a
// subquery node lists children.
type node struct {
	name  string
	field string
	ref   string
	hop   FieldInfo // the reference field of a relationship node
	typ   string
	kids  []*node
	sub   *subPlan
}

func execute(src Source, stmt *Query, all bool, now time.Time) (*Result, *Error) {
	obj, ok := src.Object(stmt.Object)
	if !ok {
		return nil, invalidType(stmt.text, stmt.objectTok)
	}
	if obj.SubqueryOnly {
		return nil, notQueryable(obj)
	}
	env := &filterEnv{scope: &scope{src: src, q: stmt.text, obj: obj, alias: stmt.Alias}, now: now, all: all}
	p, err := compilePlan(env, stmt, false)
	if err != nil {
		return nil, err
	}
	return p.run(), nil
}

// compilePlan checks a statement against the object and compiles it. child is
// true for a relationship subquery, which allows neither aggregates nor nesting.
func compilePlan(env *filterEnv, stmt *Query, child bool) (*plan, *Error) {
	p := &plan{env: env, typ: env.obj.Name, limit: stmt.Limit, offset: stmt.Offset}
	q := stmt.text

	aggregate := len(stmt.GroupBy) > 0
	for _, it := range stmt.Items {
		if it.Func != "" && !it.Count || it.Path.Func != "" {
			aggregate = true // a date function in SELECT needs GROUP BY, as an aggregate does [UNCONFIRMED]
		}
	}
	switch {
	case len(stmt.Items) == 1 && stmt.Items[0].Count:
		if child || aggregate {
			return nil, syntaxError(q, stmt.Items[0].Pos, "unexpected token: 'COUNT'")
		}
		p.countOnly = true
	case aggregate:
		if child {
			return nil, syntaxError(q, stmt.Items[0].Pos, "unexpected token: '"+firstWord(q, stmt.Items[0].Pos)+"'")
		}
		a, err := compileAggregate(env, stmt)
		if err != nil {
			return nil, err
		}
		p.agg = a
	default:
		if err := p.compileSelect(stmt, child); err != nil {
			return nil, err
		}
	}

	if stmt.Where != nil {
		w, err := env.compile(stmt.Where)
		if err != nil {
			return nil, err
		}
		p.where = w
	}
	if p.agg == nil {
		for _, o := range stmt.OrderBy {
			if o.Func != "" {
				return nil, syntaxError(q, o.Path.Pos, "unexpected token: '"+o.Func+"'")
			}
			col, err := env.column(o.Path)
			if err != nil {
				return nil, err
			}
			if err := compoundRefusal(q, o.Path.Pos, col, "sorted"); err != nil {
				return nil, err
			}
			p.order = append(p.order, newOrderKey(col.kind, o, col.get))
		}
	}
	if stmt.Offset > MaxOffset {
		return nil, plainError(CodeNumberOutsideRange, "Maximum SOQL offset allowed is 2000")
	}
	return p, nil
}

// compileSelect builds the output tree of a plain SELECT, nesting parent fields
// under their relationship in the order they first appear.
func (p *plan) compileSelect(stmt *Query, child bool) *Error {
	env, q := p.env, stmt.text
	for _, it := range stmt.Items {
		switch {
		case it.Count:
			return syntaxError(q, it.Pos, "unexpected token: 'COUNT'")
		case it.Sub != nil:
			if child {
				return syntaxError(q, it.Pos, "unexpected token: '('")
			}
			sp, err := compileSub(env, it.Sub)
			if err != nil {
				return err
			}
			for _, n := range p.nodes {
				if n.sub != nil && n.name == sp.name {
					return plainError(CodeInvalidField, "duplicate field selected: "+sp.name)
				}
			}
			p.nodes = append(p.nodes, &node{name: sp.name, sub: sp})
		case it.Fields != "":
			if it.Fields != "STANDARD" && (stmt.Limit < 0 || stmt.Limit > fieldsLimit) {
				return posError(CodeMalformedQuery, q, it.Pos, "The SOQL FIELDS function must have a LIMIT of at most 200")
			}
			for _, name := range fieldNames(env.obj, it.Fields) {
				col, err := env.column(Path{Parts: []string{name}, Pos: it.Pos})
				if err != nil {
					return err
				}
				if err := p.addColumn(col); err != nil {
					return err
				}
			}
		default:
			col, err := env.column(it.Path)
			if err != nil {
				return err
			}
			if err := p.addColumn(col); err != nil {
				return err
			}
		}
	}
	return nil
}

func (p *plan) addColumn(col *column) *Error {
	level := &p.nodes
	for i, h := range col.hops {
		var next *node
		for _, n := range *level {
			if n.kids != nil && n.ref == h.Name {
				next = n
				break
			}
		}
		if next == nil {
			next = &node{name: h.RelationshipName, ref: h.Name, hop: h, typ: col.types[i], kids: []*node{}}
			*level = append(*level, next)
		}
		level = &next.kids
	}
	for _, n := range *level {
		if n.kids == nil && n.sub == nil && n.field == col.field.Name {
			return plainError(CodeInvalidField, "duplicate field selected: "+col.name)
		}
	}
	*level = append(*level, &node{name: col.field.Name, field: col.field.Name})
	return nil
}

// fieldNames lists the fields FIELDS(ALL|STANDARD|CUSTOM) stands for: Id first,
// then by name.
func fieldNames(obj ObjectInfo, which string) []string {
	var names []string
	for _, f := range obj.Fields {
		custom := strings.HasSuffix(strings.ToLower(f.Name), "__c")
		if which == "ALL" || which == "CUSTOM" && custom || which == "STANDARD" && !custom {
			names = append(names, f.Name)
		}
	}
	sort.Slice(names, func(i, j int) bool {
		if (names[i] == "Id") != (names[j] == "Id") {
			return names[i] == "Id"
		}
		return names[i] < names[j]
	})
	return names
}

// liveRows returns an object's rows, leaving out deleted ones unless all.
func liveRows(src Source, object string, all bool) []map[string]any {
	rows := src.Rows(object, all)
	if all {
		return rows
	}
	for i, row := range rows {
		if deleted, _ := row["IsDeleted"].(bool); deleted {
			// The source returned a deleted row anyway: copy the live ones.
			live := slices.Clone(rows[:i])
			for _, r := range rows[i+1:] {
				if d, _ := r["IsDeleted"].(bool); !d {
					live = append(live, r)
				}
			}
			return live
		}
	}
	return rows
}

// filter returns the matching rows. With early and without ORDER BY or
// aggregation it stops once LIMIT and OFFSET are satisfied.
func (p *plan) filter(rows []map[string]any, early bool) []map[string]any {
	stop := -1
	if early && p.limit >= 0 && len(p.order) == 0 && p.agg == nil {
		stop = p.offset + p.limit
	}
	if p.where == nil {
		if stop >= 0 && stop < len(rows) {
			return rows[:stop]
		}
		return rows
	}
	var out []map[string]any
	for _, row := range rows {
		if stop >= 0 && len(out) >= stop {
			break
		}
		if p.where(row) {
			out = append(out, row)
		}
	}
	return out
}

// window applies OFFSET and LIMIT to n results and returns the bounds.
func (p *plan) window(n int) (int, int) {
	from := min(p.offset, n)
	to := n
	if p.limit >= 0 {
		to = min(n, from+p.limit)
	}
	return from, to
}

func (p *plan) run() *Result {
	rows := p.filter(liveRows(p.env.src, p.typ, p.env.all), true)
	if p.countOnly {
		from, to := p.window(len(rows))
		return &Result{TotalSize: to - from, Records: []*Record{}}
	}
	if p.agg != nil {
		return p.agg.run(p, rows)
	}
	if len(p.order) > 0 {
		rows = sortRows(rows, p.order)
	}
	from, to := p.window(len(rows))
	rows = rows[from:to]
	recs := make([]*Record, len(rows))
	for i, row := range rows {
		recs[i] = p.build(p.typ, row, p.nodes)
	}
	return &Result{TotalSize: len(recs), Records: recs}
}

func (p *plan) build(typ string, row map[string]any, nodes []*node) *Record {
	id, _ := row["Id"].(string)
	r := &Record{Type: typ, ID: id, Fields: make([]Field, len(nodes))}
	if typ == NameObject {
		r.Object, _ = row["Type"].(string) // poly.go
	}
	for i, n := range nodes {
		f := Field{Name: n.name}
		switch {
		case n.sub != nil:
			f.Value = n.sub.children(row)
		case n.kids != nil:
			if parent := follow(p.env.src, row, n.hop); parent != nil {
				f.Value = p.build(n.typ, parent, n.kids)
			}
		default:
			f.Value = outValue(row[n.field])
		}
		r.Fields[i] = f
	}
	return r
}

// outValue is a stored value as a query returns it: Salesforce stores no empty
// strings, so an empty text reads back as null.
func outValue(v any) any {
	if s, ok := v.(string); ok && s == "" {
		return nil
	}
	return v
}
