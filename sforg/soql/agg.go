package soql

import (
	"slices"
	"strconv"
	"strings"
)

// aggPlan is a compiled aggregate query: GROUP BY columns, aggregate functions,
// and the output fields in SELECT order.
type aggPlan struct {
	groups []*column
	funcs  []aggFunc
	out    []aggOut
	order  []aggOrder
}

// aggFunc is one aggregate to compute per group; col is nil for COUNT().
type aggFunc struct {
	fn  string
	col *column
}

// aggOut is one output field: a grouped column or an aggregate.
type aggOut struct {
	name  string
	group int // index into groups, or -1
	fn    int // index into funcs, or -1
}

type aggOrder struct {
	key   orderKey
	group int
	fn    int
}

const aggregateType = "AggregateResult"

func compileAggregate(env *filterEnv, stmt *Query) (*aggPlan, *Error) {
	q := stmt.text
	a := &aggPlan{}
	for _, g := range stmt.GroupBy {
		col, err := env.column(g)
		if err != nil {
			return nil, err
		}
		if err := compoundRefusal(q, g.Pos, col, "grouped"); err != nil {
			return nil, err
		}
		a.groups = append(a.groups, col)
	}
	groupOf := func(col *column) int {
		for i, g := range a.groups {
			if g.name == col.name {
				return i
			}
		}
		return -1
	}
	funcOf := func(fn string, pos int, path Path) (int, *Error) {
		f := aggFunc{fn: fn}
		if len(path.Parts) > 0 {
			col, err := env.column(path)
			if err != nil {
				return 0, err
			}
			if !supports(fn, col.kind) {
				return 0, posError(CodeMalformedQuery, q, pos, "field "+col.name+" does not support aggregate operator "+fn)
			}
			f.col = col
		}
		for i, have := range a.funcs {
			if have.fn == f.fn && (have.col == nil) == (f.col == nil) && (f.col == nil || have.col.name == f.col.name) {
				return i, nil
			}
		}
		a.funcs = append(a.funcs, f)
		return len(a.funcs) - 1, nil
	}

	expr := 0
	seen := map[string]bool{}
	// alias names an expression (an aggregate or a date function): its alias,
	// or expr0, expr1... in SELECT order.
	alias := func(given string) (string, *Error) {
		name := given
		if name == "" {
			name = "expr" + strconv.Itoa(expr)
			expr++
		}
		if seen[strings.ToLower(name)] {
			return "", plainError(CodeInvalidField, "duplicate alias: "+name)
		}
		seen[strings.ToLower(name)] = true
		return name, nil
	}
	for _, it := range stmt.Items {
		switch {
		case it.Sub != nil || it.Fields != "" || it.Count:
			return nil, syntaxError(q, it.Pos, "unexpected token: '"+firstWord(q, it.Pos)+"'")
		case it.Func != "":
			i, err := funcOf(it.Func, it.Pos, it.Path)
			if err != nil {
				return nil, err
			}
			name, err := alias(it.Alias)
			if err != nil {
				return nil, err
			}
			a.out = append(a.out, aggOut{name: name, group: -1, fn: i})
		default:
			col, err := env.column(it.Path)
			if err != nil {
				return nil, err
			}
			g := groupOf(col)
			if g < 0 {
				return nil, posError(CodeMalformedQuery, q, it.Pos, "Field must be grouped or aggregated: "+col.field.Name)
			}
			if col.fn != "" { // a date function (zone.go)
				name, err := alias(it.Alias)
				if err != nil {
					return nil, err
				}
				a.out = append(a.out, aggOut{name: name, group: g, fn: -1})
				continue
			}
			if seen[strings.ToLower(col.field.Name)] {
				return nil, plainError(CodeInvalidField, "duplicate field selected: "+col.name)
			}
			seen[strings.ToLower(col.field.Name)] = true
			a.out = append(a.out, aggOut{name: col.field.Name, group: g, fn: -1})
		}
	}
	for _, o := range stmt.OrderBy {
		if o.Func != "" {
			i, err := funcOf(o.Func, o.Path.Pos, o.Path)
			if err != nil {
				return nil, err
			}
			a.order = append(a.order, aggOrder{key: newOrderKey(a.funcKind(i), o, nil), group: -1, fn: i})
			continue
		}
		col, err := env.column(o.Path)
		if err != nil {
			return nil, err
		}
		g := groupOf(col)
		if g < 0 {
			return nil, posError(CodeMalformedQuery, q, o.Path.Pos, "Ordered field must be grouped or aggregated: "+col.field.Name)
		}
		a.order = append(a.order, aggOrder{key: newOrderKey(col.kind, o, nil), group: g, fn: -1})
	}
	return a, nil
}

// supports reports whether an aggregate applies to a field kind: SUM and AVG
// need numbers, MIN and MAX anything ordered but checkboxes.
func supports(fn string, k kind) bool {
	switch fn {
	case "SUM", "AVG":
		return k == kNum
	case "MIN", "MAX":
		return k != kBool
	}
	return true
}

// funcKind is the kind of an aggregate's value, for ordering.
func (a *aggPlan) funcKind(i int) kind {
	f := a.funcs[i]
	if (f.fn == "MIN" || f.fn == "MAX") && f.col != nil {
		return f.col.kind
	}
	return kNum
}

// acc accumulates one aggregate over one group.
type acc struct {
	count    int
	sum      float64
	distinct map[string]struct{}
	best     any
	bestKey  sortKey
	has      bool
}

type group struct {
	first map[string]any
	accs  []acc
}

func (a *aggPlan) run(p *plan, rows []map[string]any) *Result {
	var groups []*group
	index := map[string]*group{}
	if len(a.groups) == 0 {
		groups = append(groups, &group{accs: make([]acc, len(a.funcs))})
	}
	var kb strings.Builder
	for _, row := range rows {
		var g *group
		if len(a.groups) == 0 {
			g = groups[0]
		} else {
			kb.Reset()
			for _, c := range a.groups {
				k := keyOf(c.kind, c.get(row))
				switch {
				case k.null:
					kb.WriteString("\x00n")
				case numericKind(c.kind):
					kb.WriteString(strconv.FormatFloat(k.n, 'g', -1, 64))
				default:
					kb.WriteString(k.s)
				}
				kb.WriteByte(0xff)
			}
			key := kb.String()
			if g = index[key]; g == nil {
				g = &group{first: row, accs: make([]acc, len(a.funcs))}
				index[key] = g
				groups = append(groups, g)
			}
		}
		for i, f := range a.funcs {
			a.add(&g.accs[i], f, row)
		}
	}

	if len(a.order) > 0 {
		keys := make([][]sortKey, len(groups))
		for gi, g := range groups {
			keys[gi] = make([]sortKey, len(a.order))
			for k, o := range a.order {
				if o.group >= 0 {
					keys[gi][k] = keyOf(o.key.kind, a.groups[o.group].get(g.first))
				} else {
					keys[gi][k] = keyOf(o.key.kind, a.value(g, o.fn))
				}
			}
		}
		idx := make([]int, len(groups))
		for i := range idx {
			idx[i] = i
		}
		slices.SortStableFunc(idx, func(x, y int) int {
			for k, o := range a.order {
				if c := compareKeys(o.key, keys[x][k], keys[y][k]); c != 0 {
					return c
				}
			}
			return 0
		})
		sorted := make([]*group, len(groups))
		for i, j := range idx {
			sorted[i] = groups[j]
		}
		groups = sorted
	}

	from, to := p.window(len(groups))
	recs := make([]*Record, 0, to-from)
	for _, g := range groups[from:to] {
		r := &Record{Type: aggregateType, Fields: make([]Field, len(a.out))}
		for i, o := range a.out {
			if o.group >= 0 {
				r.Fields[i] = Field{Name: o.name, Value: outValue(a.groups[o.group].get(g.first))}
			} else {
				r.Fields[i] = Field{Name: o.name, Value: a.value(g, o.fn)}
			}
		}
		recs = append(recs, r)
	}
	return &Result{TotalSize: len(recs), Records: recs}
}

func (a *aggPlan) add(x *acc, f aggFunc, row map[string]any) {
	if f.col == nil {
		x.count++
		return
	}
	v := f.col.get(row)
	if isNull(v) {
		return
	}
	x.count++
	switch f.fn {
	case "SUM", "AVG":
		n, _ := toFloat(v)
		x.sum += n
	case "COUNT_DISTINCT":
		if x.distinct == nil {
			x.distinct = map[string]struct{}{}
		}
		k := keyOf(f.col.kind, v)
		if f.col.kind == kID {
			k.s = id15(k.s)
		}
		x.distinct[k.s+"\xff"+strconv.FormatFloat(k.n, 'g', -1, 64)] = struct{}{}
	case "MIN", "MAX":
		k := keyOf(f.col.kind, v)
		o := orderKey{kind: f.col.kind, desc: f.fn == "MAX"}
		if !x.has || compareKeys(o, k, x.bestKey) < 0 {
			x.best, x.bestKey, x.has = v, k, true
		}
	}
}

// value is an aggregate's result: counts are numbers, the others null over no
// values.
func (a *aggPlan) value(g *group, i int) any {
	x := g.accs[i]
	switch a.funcs[i].fn {
	case "COUNT":
		return float64(x.count)
	case "COUNT_DISTINCT":
		return float64(len(x.distinct))
	case "SUM":
		if x.count == 0 {
			return nil
		}
		return x.sum
	case "AVG":
		if x.count == 0 {
			return nil
		}
		return x.sum / float64(x.count)
	}
	if !x.has {
		return nil
	}
	return x.best
}
