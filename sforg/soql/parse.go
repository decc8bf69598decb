package soql

import (
	"strconv"
	"strings"
)

// Query is a parsed SOQL statement, not yet checked against any object.
type Query struct {
	Items   []Item  // the SELECT list in order
	Object  string  // the FROM object as written
	Alias   string  // optional alias of the FROM object
	Where   Expr    // nil without WHERE
	GroupBy []Path  // GROUP BY fields
	OrderBy []Order // ORDER BY items
	Limit   int     // -1 without LIMIT
	Offset  int     // 0 without OFFSET

	objectTok token
	text      string // the whole statement, for error locations
}

// Path is a dotted field reference as written, such as Account.Owner.Name.
type Path struct {
	Parts []string
	Pos   int // byte offset of the first part (of the date function when Func is set)

	Func    string // a date function applied to the field (CALENDAR_YEAR, DAY_ONLY...), or "" (zone.go)
	Convert bool   // the field is wrapped in convertTimezone() inside Func
}

func (p Path) String() string {
	if p.Func != "" {
		return funcString(p.Func, p.Convert, strings.Join(p.Parts, "."))
	}
	return strings.Join(p.Parts, ".")
}

// Item is one element of the SELECT list.
type Item struct {
	Path   Path   // the field, or the aggregate's argument
	Func   string // upper-case aggregate (COUNT, SUM, ...) or "" for a plain field
	Alias  string // alias of an aggregate
	Count  bool   // COUNT() with no argument
	Fields string // FIELDS(ALL|STANDARD|CUSTOM): the upper-case argument
	Sub    *Query // a child relationship subquery
	Pos    int
}

// Order is one ORDER BY item.
type Order struct {
	Path  Path
	Func  string // aggregate ordering such as COUNT(Id)
	Desc  bool
	Nulls string // "FIRST", "LAST" or "" for the default
}

// Expr is a WHERE condition: *Logic, *Not or *Cmp.
type Expr interface{ expr() }

// Logic joins conditions with one operator; SOQL refuses AND and OR mixed
// without parentheses.
type Logic struct {
	Op    string // "AND" or "OR"
	Terms []Expr
}

// Not negates a condition.
type Not struct{ X Expr }

// Cmp compares a field with a value, a list of values or a semi-join.
type Cmp struct {
	Field  Path
	Op     string // = != < <= > >= LIKE IN NOT IN
	Value  Literal
	Values []Literal // for IN and NOT IN
	Sub    *Query    // for IN (SELECT ...)
}

func (*Logic) expr() {}
func (*Not) expr()   {}
func (*Cmp) expr()   {}

// Literal kinds.
const (
	LitString   = "string"
	LitNumber   = "number"
	LitBool     = "boolean"
	LitNull     = "null"
	LitDate     = "date"
	LitDateTime = "datetime"
	LitRange    = "range" // TODAY, LAST_N_DAYS:n, ...
)

// Literal is a value in a condition.
type Literal struct {
	Kind string
	Text string // source text
	Str  string // decoded string, or the upper-case range keyword
	Raw  string // string content with escapes kept (for LIKE)
	Num  float64
	N    int // the n of LAST_N_DAYS:n
	Pos  int
}

// Parse parses one SOQL statement. Errors are *Error with MALFORMED_QUERY.
func Parse(query string) (*Query, error) {
	q, err := parse(query)
	if err != nil {
		return nil, err
	}
	return q, nil
}

func parse(query string) (*Query, *Error) {
	toks, err := lex(query)
	if err != nil {
		return nil, err
	}
	p := &parser{q: query, toks: toks}
	stmt, err := p.query(false)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, unexpected(query, t)
	}
	return stmt, nil
}

type parser struct {
	q    string
	toks []token
	i    int
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) peekAt(k int) token {
	if p.i+k < len(p.toks) {
		return p.toks[p.i+k]
	}
	return p.toks[len(p.toks)-1]
}
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

// isKw reports whether t is the keyword kw (given in upper case).
func isKw(t token, kw string) bool { return t.kind == tIdent && strings.EqualFold(t.text, kw) }

func (p *parser) acceptKw(kw string) bool {
	if isKw(p.peek(), kw) {
		p.i++
		return true
	}
	return false
}

func (p *parser) expectKw(kw string) *Error {
	if !p.acceptKw(kw) {
		return unexpected(p.q, p.peek())
	}
	return nil
}

func (p *parser) acceptPunct(s string) bool {
	if t := p.peek(); t.kind == tPunct && t.text == s {
		p.i++
		return true
	}
	return false
}

func (p *parser) expectPunct(s string) *Error {
	if !p.acceptPunct(s) {
		return unexpected(p.q, p.peek())
	}
	return nil
}

// clauseWords end a list or a FROM alias.
var clauseWords = map[string]bool{
	"SELECT": true, "FROM": true, "WHERE": true, "WITH": true, "GROUP": true, "HAVING": true, "ORDER": true,
	"LIMIT": true, "OFFSET": true, "FOR": true, "USING": true, "AND": true, "OR": true, "NOT": true,
	"ASC": true, "DESC": true, "NULLS": true, "LIKE": true, "IN": true, "UPDATE": true,
}

func isClauseWord(t token) bool { return t.kind == tIdent && clauseWords[strings.ToUpper(t.text)] }

var aggregates = map[string]bool{"COUNT": true, "COUNT_DISTINCT": true, "SUM": true, "AVG": true, "MIN": true, "MAX": true}

// query parses SELECT ... up to the end of the statement, or up to the closing
// parenthesis of a subquery.
func (p *parser) query(sub bool) (*Query, *Error) {
	stmt := &Query{Limit: -1, text: p.q}
	if err := p.expectKw("SELECT"); err != nil {
		return nil, err
	}
	for {
		it, err := p.item(sub)
		if err != nil {
			return nil, err
		}
		stmt.Items = append(stmt.Items, it)
		if !p.acceptPunct(",") {
			break
		}
	}
	if err := p.expectKw("FROM"); err != nil {
		return nil, err
	}
	obj := p.next()
	if obj.kind != tIdent || isClauseWord(obj) {
		return nil, unexpected(p.q, obj)
	}
	stmt.Object, stmt.objectTok = obj.text, obj
	if sub && p.peek().kind == tPunct && p.peek().text == "." {
		// A child relationship may be written Account.Contacts.
		p.next()
		rel := p.next()
		if rel.kind != tIdent {
			return nil, unexpected(p.q, rel)
		}
		stmt.Object, stmt.objectTok = rel.text, rel
	}
	if t := p.peek(); t.kind == tIdent && !isClauseWord(t) {
		stmt.Alias = p.next().text
	}
	if p.acceptKw("USING") {
		if err := p.expectKw("SCOPE"); err != nil {
			return nil, err
		}
		if t := p.next(); t.kind != tIdent {
			return nil, unexpected(p.q, t)
		}
	}
	if err := p.clauses(stmt); err != nil {
		return nil, err
	}
	if !sub && p.acceptKw("FOR") {
		// FOR VIEW / REFERENCE / UPDATE only touch record locks and recent-item
		// lists, which the emulator does not keep.
		t := p.next()
		if !isKw(t, "VIEW") && !isKw(t, "REFERENCE") && !isKw(t, "UPDATE") {
			return nil, unexpected(p.q, t)
		}
	}
	return stmt, nil
}

// clauses parses WHERE, WITH, GROUP BY, ORDER BY, LIMIT and OFFSET into stmt
// (a SOSL RETURNING object takes them too: search.go).
func (p *parser) clauses(stmt *Query) *Error {
	if p.acceptKw("WHERE") {
		w, err := p.condition()
		if err != nil {
			return err
		}
		stmt.Where = w
	}
	if p.acceptKw("WITH") {
		// WITH SECURITY_ENFORCED, USER_MODE, SYSTEM_MODE: the emulator has one
		// user who sees everything, so these change nothing.
		if t := p.next(); t.kind != tIdent {
			return unexpected(p.q, t)
		}
	}
	if p.acceptKw("GROUP") {
		if err := p.expectKw("BY"); err != nil {
			return err
		}
		for {
			path, err := p.path()
			if err != nil {
				return err
			}
			stmt.GroupBy = append(stmt.GroupBy, path)
			if !p.acceptPunct(",") {
				break
			}
		}
	}
	if p.acceptKw("ORDER") {
		if err := p.expectKw("BY"); err != nil {
			return err
		}
		for {
			o, err := p.order()
			if err != nil {
				return err
			}
			stmt.OrderBy = append(stmt.OrderBy, o)
			if !p.acceptPunct(",") {
				break
			}
		}
	}
	if p.acceptKw("LIMIT") {
		n, err := p.count()
		if err != nil {
			return err
		}
		stmt.Limit = n
	}
	if p.acceptKw("OFFSET") {
		n, err := p.count()
		if err != nil {
			return err
		}
		stmt.Offset = n
	}
	return nil
}

// count reads the integer of LIMIT or OFFSET.
func (p *parser) count() (int, *Error) {
	t := p.next()
	if t.kind != tNumber || strings.ContainsAny(t.text, ".-+") {
		return 0, unexpected(p.q, t)
	}
	n, err := strconv.ParseInt(t.text, 10, 32)
	if err != nil {
		return 0, posError(CodeMalformedQuery, p.q, t.pos, "numeric value out of range: "+t.text)
	}
	return int(n), nil
}

func (p *parser) item(sub bool) (Item, *Error) {
	t := p.peek()
	if t.kind == tPunct && t.text == "(" && !sub {
		p.next()
		q, err := p.query(true)
		if err != nil {
			return Item{}, err
		}
		if err := p.expectPunct(")"); err != nil {
			return Item{}, err
		}
		return Item{Sub: q, Pos: t.pos}, nil
	}
	if t.kind == tIdent && p.peekAt(1).kind == tPunct && p.peekAt(1).text == "(" {
		name := strings.ToUpper(t.text)
		switch {
		case name == "FIELDS":
			p.next()
			p.next()
			arg := p.next()
			kind := strings.ToUpper(arg.text)
			if arg.kind != tIdent || kind != "ALL" && kind != "STANDARD" && kind != "CUSTOM" {
				return Item{}, unexpected(p.q, arg)
			}
			if err := p.expectPunct(")"); err != nil {
				return Item{}, err
			}
			return Item{Fields: kind, Pos: t.pos}, nil
		case aggregates[name]:
			p.next()
			p.next()
			it := Item{Func: name, Pos: t.pos}
			if name == "COUNT" && p.acceptPunct(")") {
				it.Count = true
				return it, nil
			}
			path, err := p.path()
			if err != nil {
				return Item{}, err
			}
			it.Path = path
			if err := p.expectPunct(")"); err != nil {
				return Item{}, err
			}
			if a := p.peek(); a.kind == tIdent && !isClauseWord(a) {
				it.Alias = p.next().text
			}
			return it, nil
		case dateFuncs[name]:
			return p.dateItem()
		}
		p.next()
		return Item{}, unexpected(p.q, p.peek())
	}
	path, err := p.path()
	if err != nil {
		return Item{}, err
	}
	return Item{Path: path, Pos: path.Pos}, nil
}

func (p *parser) path() (Path, *Error) {
	if p.atDateFunc() {
		return p.datePath()
	}
	return p.fieldPath()
}

// fieldPath parses a dotted field reference.
func (p *parser) fieldPath() (Path, *Error) {
	t := p.next()
	if t.kind != tIdent || isClauseWord(t) {
		return Path{}, unexpected(p.q, t)
	}
	path := Path{Parts: []string{t.text}, Pos: t.pos}
	for p.peek().kind == tPunct && p.peek().text == "." {
		p.next()
		t := p.next()
		if t.kind != tIdent {
			return Path{}, unexpected(p.q, t)
		}
		path.Parts = append(path.Parts, t.text)
	}
	return path, nil
}

func (p *parser) order() (Order, *Error) {
	var o Order
	if t := p.peek(); t.kind == tIdent && aggregates[strings.ToUpper(t.text)] &&
		p.peekAt(1).kind == tPunct && p.peekAt(1).text == "(" {
		o.Func = strings.ToUpper(t.text)
		p.next()
		p.next()
		if !(o.Func == "COUNT" && p.peek().kind == tPunct && p.peek().text == ")") {
			path, err := p.path()
			if err != nil {
				return o, err
			}
			o.Path = path
		} else {
			o.Path = Path{Pos: t.pos}
		}
		if err := p.expectPunct(")"); err != nil {
			return o, err
		}
	} else {
		path, err := p.path()
		if err != nil {
			return o, err
		}
		o.Path = path
	}
	if p.acceptKw("DESC") {
		o.Desc = true
	} else {
		p.acceptKw("ASC")
	}
	if p.acceptKw("NULLS") {
		t := p.next()
		switch {
		case isKw(t, "FIRST"):
			o.Nulls = "FIRST"
		case isKw(t, "LAST"):
			o.Nulls = "LAST"
		default:
			return o, unexpected(p.q, t)
		}
	}
	return o, nil
}

// condition parses terms joined by one logical operator.
func (p *parser) condition() (Expr, *Error) {
	first, err := p.term()
	if err != nil {
		return nil, err
	}
	op := ""
	terms := []Expr{first}
	for {
		t := p.peek()
		var this string
		switch {
		case isKw(t, "AND"):
			this = "AND"
		case isKw(t, "OR"):
			this = "OR"
		default:
			if op == "" {
				return first, nil
			}
			return &Logic{Op: op, Terms: terms}, nil
		}
		if op != "" && op != this {
			return nil, unexpected(p.q, t)
		}
		op = this
		p.next()
		x, err := p.term()
		if err != nil {
			return nil, err
		}
		terms = append(terms, x)
	}
}

func (p *parser) term() (Expr, *Error) {
	if p.acceptKw("NOT") {
		x, err := p.term()
		if err != nil {
			return nil, err
		}
		return &Not{X: x}, nil
	}
	if p.acceptPunct("(") {
		x, err := p.condition()
		if err != nil {
			return nil, err
		}
		if err := p.expectPunct(")"); err != nil {
			return nil, err
		}
		return x, nil
	}
	return p.comparison()
}

func (p *parser) comparison() (Expr, *Error) {
	field, err := p.path()
	if err != nil {
		return nil, err
	}
	c := &Cmp{Field: field}
	t := p.next()
	switch {
	case t.kind == tOp:
		c.Op = t.text
		if c.Op == "<>" {
			c.Op = "!="
		}
	case isKw(t, "LIKE"):
		c.Op = "LIKE"
	case isKw(t, "IN"):
		c.Op = "IN"
	case isKw(t, "NOT"):
		if in := p.next(); !isKw(in, "IN") {
			return nil, unexpected(p.q, in)
		}
		c.Op = "NOT IN"
	default:
		return nil, unexpected(p.q, t)
	}
	if c.Op == "IN" || c.Op == "NOT IN" {
		if err := p.expectPunct("("); err != nil {
			return nil, err
		}
		if isKw(p.peek(), "SELECT") {
			sub, err := p.query(true)
			if err != nil {
				return nil, err
			}
			c.Sub = sub
		} else {
			for {
				v, err := p.literal()
				if err != nil {
					return nil, err
				}
				c.Values = append(c.Values, v)
				if !p.acceptPunct(",") {
					break
				}
			}
		}
		if err := p.expectPunct(")"); err != nil {
			return nil, err
		}
		return c, nil
	}
	v, err := p.literal()
	if err != nil {
		return nil, err
	}
	c.Value = v
	return c, nil
}

// rangeWords are the date literals that stand for a period; the ones ending in
// _N_ take a count after a colon.
var rangeWords = map[string]bool{
	"YESTERDAY": true, "TODAY": true, "TOMORROW": true,
	"LAST_WEEK": true, "THIS_WEEK": true, "NEXT_WEEK": true,
	"LAST_MONTH": true, "THIS_MONTH": true, "NEXT_MONTH": true,
	"LAST_90_DAYS": true, "NEXT_90_DAYS": true,
	"LAST_QUARTER": true, "THIS_QUARTER": true, "NEXT_QUARTER": true,
	"LAST_YEAR": true, "THIS_YEAR": true, "NEXT_YEAR": true,
	"LAST_N_DAYS": true, "NEXT_N_DAYS": true, "N_DAYS_AGO": true,
	"LAST_N_WEEKS": true, "NEXT_N_WEEKS": true, "LAST_N_MONTHS": true, "NEXT_N_MONTHS": true,
	"LAST_N_YEARS": true, "NEXT_N_YEARS": true,
}

func (p *parser) literal() (Literal, *Error) {
	t := p.next()
	lit := Literal{Text: t.text, Pos: t.pos}
	switch t.kind {
	case tString:
		lit.Kind, lit.Str, lit.Raw = LitString, t.val, t.raw
	case tNumber:
		n, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return lit, unexpected(p.q, t)
		}
		lit.Kind, lit.Num = LitNumber, n
	case tDate:
		lit.Kind = LitDate
	case tDateTime:
		lit.Kind = LitDateTime
	case tIdent:
		word := strings.ToUpper(t.text)
		switch {
		case word == "NULL":
			lit.Kind = LitNull
		case word == "TRUE" || word == "FALSE":
			lit.Kind, lit.Str = LitBool, word
		case rangeWords[word]:
			lit.Kind, lit.Str = LitRange, word
			if strings.Contains(word, "_N_") || word == "N_DAYS_AGO" {
				if err := p.expectPunct(":"); err != nil {
					return lit, err
				}
				n := p.next()
				v, err := strconv.Atoi(n.text)
				if n.kind != tNumber || err != nil || v < 0 {
					return lit, unexpected(p.q, n)
				}
				lit.N = v
				lit.Text = p.q[t.pos : n.pos+len(n.text)]
			}
		default:
			return lit, unexpected(p.q, t)
		}
	default:
		return lit, unexpected(p.q, t)
	}
	return lit, nil
}
