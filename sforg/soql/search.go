package soql

import (
	"strings"
	"time"
	"unicode"
)

// SOSL: text search over the records of several objects.
//
//	FIND {SearchQuery} [IN ALL|NAME|EMAIL|PHONE|SIDEBAR FIELDS]
//	    [RETURNING Object [(Field, ... [WHERE ...] [ORDER BY ...] [LIMIT n] [OFFSET n])], ...]
//	    [WITH Option [= value] ...] [LIMIT n] [UPDATE TRACKING|VIEWSTAT]
//
// What Salesforce documents and this engine does: the search query is words,
// "quoted phrases", the wildcards * (any run of characters) and ? (one
// character), the operators AND, OR and AND NOT with parentheses, and
// backslash escapes for the reserved characters; searches are
// case-insensitive; the search group picks the fields searched (ALL: every
// text field); each RETURNING object filters, orders and limits like a SOQL
// query; LIMIT caps the whole result (2,000 at most). Without RETURNING every
// searchable object is searched and only Ids come back. A query with no
// braced term fails with MALFORMED_SEARCH "No search term found. The search
// term must be enclosed in braces."; a term of fewer than two characters with
// INVALID_SEARCH "search term must be longer than one character: <term>".
//
// [UNCONFIRMED] choices where Salesforce documents no rule:
//   - tokenisation: a field's text is split into words at every character
//     that is not a letter or a digit; a search word is split the same way and
//     its parts must follow each other in one field (as a phrase does); words
//     joined by AND (or by nothing) may match in different fields;
//   - operator precedence: AND and AND NOT bind tighter than OR; a bare NOT
//     is read as AND NOT;
//   - ranking: records whose name fields match come first, then the others,
//     each in creation order, unless the RETURNING object has ORDER BY;
//   - the global LIMIT is filled in RETURNING order;
//   - SIDEBAR FIELDS searches the name fields.

// Search codes and messages.
const (
	CodeMalformedSearch = "MALFORMED_SEARCH"
	CodeInvalidSearch   = "INVALID_SEARCH"
	noSearchTerm        = "No search term found. The search term must be enclosed in braces."
	maxSearchLimit      = 2000
)

// SearchSource is a Source that can be searched: which objects a search
// without RETURNING covers, and which fields of an object a search group
// (ALL, NAME, EMAIL, PHONE) reads.
type SearchSource interface {
	Source
	SearchObjects() []string
	SearchFields(object, group string) []string
}

// searchStmt is a parsed SOSL statement.
type searchStmt struct {
	term  *termNode
	group string   // ALL, NAME, EMAIL, PHONE or SIDEBAR
	specs []*Query // the RETURNING objects, as subqueries of their own
	limit int      // -1 without LIMIT
}

// Search parses and runs one SOSL statement. Errors are *Error carrying
// Salesforce's errorCode (MALFORMED_SEARCH, INVALID_SEARCH, INVALID_TYPE,
// INVALID_FIELD) and message.
func Search(src SearchSource, sosl string) (*Result, error) {
	st, err := parseSearch(sosl)
	if err != nil {
		return nil, err
	}
	res, err := runSearch(src, sosl, st)
	if err != nil {
		return nil, searchCode(err)
	}
	return res, nil
}

func runSearch(src SearchSource, sosl string, st *searchStmt) (*Result, *Error) {
	now := time.Now().UTC()
	if c, ok := src.(Clock); ok {
		now = c.Now()
	}
	now = now.In(location(src))
	specs := st.specs
	if len(specs) == 0 {
		for _, name := range src.SearchObjects() {
			specs = append(specs, &Query{Items: []Item{{Path: Path{Parts: []string{"Id"}}}}, Object: name, Limit: -1, text: sosl})
		}
	}
	limit := maxSearchLimit
	if st.limit >= 0 && st.limit < limit {
		limit = st.limit
	}
	out := &Result{Records: []*Record{}}
	for _, spec := range specs {
		obj, ok := src.Object(spec.Object)
		if !ok {
			return nil, invalidType(sosl, spec.objectTok)
		}
		if obj.SubqueryOnly {
			return nil, notQueryable(obj)
		}
		env := &filterEnv{scope: &scope{src: src, q: sosl, obj: obj}, now: now}
		p, err := compilePlan(env, spec, true)
		if err != nil {
			return nil, err
		}
		rows := searchRows(src, obj.Name, st, p)
		from, to := p.window(len(rows))
		for _, row := range rows[from:to] {
			if len(out.Records) >= limit {
				break
			}
			out.Records = append(out.Records, p.build(p.typ, row, p.nodes))
		}
	}
	out.TotalSize = len(out.Records)
	return out, nil
}

// searchRows returns the rows of an object the term finds in the search
// group's fields and the plan's WHERE keeps, ranked (or in ORDER BY order).
func searchRows(src SearchSource, object string, st *searchStmt, p *plan) []map[string]any {
	group := st.group
	if group == "SIDEBAR" {
		group = "NAME"
	}
	fields := src.SearchFields(object, group)
	names := src.SearchFields(object, "NAME")
	var first, rest []map[string]any
	for _, row := range p.filter(liveRows(src, object, false), false) {
		if !st.term.match(tokensOf(row, fields)) {
			continue
		}
		if st.term.match(tokensOf(row, names)) {
			first = append(first, row)
		} else {
			rest = append(rest, row)
		}
	}
	rows := append(first, rest...)
	if len(p.order) > 0 {
		rows = sortRows(rows, p.order)
	}
	return rows
}

// tokensOf splits the text of a row's fields into lower-case words, one list
// per field.
func tokensOf(row map[string]any, fields []string) [][]string {
	out := make([][]string, 0, len(fields))
	for _, f := range fields {
		if s, ok := row[f].(string); ok && s != "" {
			out = append(out, words(strings.ToLower(s), false))
		}
	}
	return out
}

// words splits text at every character that is not a letter or a digit; with
// wild, * and ? stay inside words as wildcards. Escaped characters are marked
// by the caller with a leading \x00 and never wildcards.
func words(text string, wild bool) []string {
	var out []string
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			out = append(out, b.String())
			b.Reset()
		}
	}
	escaped := false
	for _, r := range text {
		switch {
		case r == 0:
			escaped = true
			continue
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		case wild && !escaped && (r == '*' || r == '?'):
			b.WriteRune(r)
		default:
			flush()
		}
		escaped = false
	}
	flush()
	return out
}

// termNode is a compiled search query: a phrase (consecutive word patterns)
// or an operator over others.
type termNode struct {
	op     string // "", "AND", "OR", "NOT"
	kids   []*termNode
	phrase []func(word string) bool
}

// match reports whether a record's fields (each a list of words) satisfy the
// term.
func (n *termNode) match(doc [][]string) bool {
	switch n.op {
	case "AND":
		for _, k := range n.kids {
			if !k.match(doc) {
				return false
			}
		}
		return true
	case "OR":
		for _, k := range n.kids {
			if k.match(doc) {
				return true
			}
		}
		return false
	case "NOT":
		return !n.kids[0].match(doc)
	}
	for _, field := range doc {
		for i := 0; i+len(n.phrase) <= len(field); i++ {
			ok := true
			for j, match := range n.phrase {
				if !match(field[i+j]) {
					ok = false
					break
				}
			}
			if ok {
				return true
			}
		}
	}
	return false
}

// termToken is one lexeme of a search query.
type termToken struct {
	kind string // "word", "phrase", "(", ")"
	text string // with escaped characters marked by \x00
}

// parseTerm compiles the text between FIND's braces.
func parseTerm(raw string) (*termNode, *Error) {
	var toks []termToken
	var b strings.Builder
	kind := ""
	flush := func() {
		if kind != "" {
			toks = append(toks, termToken{kind: kind, text: b.String()})
		}
		b.Reset()
		kind = ""
	}
	rs := []rune(raw)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == '\\' && i+1 < len(rs):
			if kind == "" {
				kind = "word"
			}
			i++
			b.WriteRune(0)
			b.WriteRune(rs[i])
		case r == '"':
			flush()
			end := i + 1
			for end < len(rs) && rs[end] != '"' {
				if rs[end] == '\\' && end+1 < len(rs) {
					b.WriteRune(0)
					end++
				}
				b.WriteRune(rs[end])
				end++
			}
			if end >= len(rs) {
				return nil, plainError(CodeMalformedSearch, "Invalid search query: unmatched quotation mark in {"+raw+"}")
			}
			kind = "phrase"
			flush()
			i = end
		case r == '(' || r == ')':
			flush()
			toks = append(toks, termToken{kind: string(r)})
		case unicode.IsSpace(r):
			flush()
		default:
			if kind == "" {
				kind = "word"
			}
			b.WriteRune(r)
		}
	}
	flush()
	letters := 0
	for _, t := range toks {
		for _, w := range words(t.text, false) {
			letters += len([]rune(w))
		}
	}
	if letters < 2 {
		return nil, plainError(CodeInvalidSearch, "search term must be longer than one character: "+strings.TrimSpace(raw))
	}
	tp := &termParser{toks: toks, raw: raw}
	n, err := tp.or()
	if err != nil {
		return nil, err
	}
	if tp.i < len(toks) {
		return nil, tp.bad()
	}
	return n, nil
}

// termParser reads a search query: OR over AND over phrases and groups.
type termParser struct {
	toks []termToken
	i    int
	raw  string
}

func (tp *termParser) bad() *Error {
	return plainError(CodeMalformedSearch, "Invalid search query: unbalanced parentheses or a misplaced operator in {"+tp.raw+"}")
}

func (tp *termParser) isOp(name string) bool {
	return tp.i < len(tp.toks) && tp.toks[tp.i].kind == "word" && strings.EqualFold(tp.toks[tp.i].text, name)
}

func (tp *termParser) or() (*termNode, *Error) {
	n, err := tp.and()
	if err != nil {
		return nil, err
	}
	kids := []*termNode{n}
	for tp.isOp("OR") {
		tp.i++
		k, err := tp.and()
		if err != nil {
			return nil, err
		}
		kids = append(kids, k)
	}
	if len(kids) == 1 {
		return n, nil
	}
	return &termNode{op: "OR", kids: kids}, nil
}

func (tp *termParser) and() (*termNode, *Error) {
	n, err := tp.unary()
	if err != nil {
		return nil, err
	}
	kids := []*termNode{n}
	for tp.i < len(tp.toks) && tp.toks[tp.i].kind != ")" && !tp.isOp("OR") {
		if tp.isOp("AND") {
			tp.i++
		}
		negate := false
		if tp.isOp("NOT") {
			tp.i++
			negate = true
		}
		k, err := tp.unary()
		if err != nil {
			return nil, err
		}
		if negate {
			k = &termNode{op: "NOT", kids: []*termNode{k}}
		}
		kids = append(kids, k)
	}
	if len(kids) == 1 {
		return n, nil
	}
	return &termNode{op: "AND", kids: kids}, nil
}

func (tp *termParser) unary() (*termNode, *Error) {
	if tp.i >= len(tp.toks) || tp.isOp("AND") || tp.isOp("OR") || tp.isOp("NOT") {
		return nil, tp.bad()
	}
	t := tp.toks[tp.i]
	tp.i++
	switch t.kind {
	case "(":
		n, err := tp.or()
		if err != nil {
			return nil, err
		}
		if tp.i >= len(tp.toks) || tp.toks[tp.i].kind != ")" {
			return nil, tp.bad()
		}
		tp.i++
		return n, nil
	case ")":
		return nil, tp.bad()
	}
	patterns := words(strings.ToLower(t.text), true)
	if len(patterns) == 0 {
		// Only punctuation: it matches nothing a word could.
		return &termNode{op: "OR"}, nil
	}
	n := &termNode{}
	for _, pat := range patterns {
		// A word holds only letters, digits and the wildcards, which LIKE
		// spells % and _.
		n.phrase = append(n.phrase, likeMatcher(strings.NewReplacer("*", "%", "?", "_").Replace(pat)))
	}
	return n, nil
}

// parseSearch parses a SOSL statement.
func parseSearch(sosl string) (*searchStmt, *Error) {
	i := 0
	for i < len(sosl) && isSpace(sosl[i]) {
		i++
	}
	if !strings.EqualFold(sosl[i:min(i+4, len(sosl))], "FIND") || i+4 < len(sosl) && isIdentPart(sosl[i+4]) {
		toks, err := lex(sosl)
		if err != nil {
			return nil, searchCode(err)
		}
		return nil, searchCode(unexpected(sosl, toks[0]))
	}
	j := i + 4
	for j < len(sosl) && isSpace(sosl[j]) {
		j++
	}
	if j >= len(sosl) || sosl[j] != '{' {
		return nil, plainError(CodeMalformedSearch, noSearchTerm)
	}
	end := j + 1
	for end < len(sosl) && sosl[end] != '}' {
		if sosl[end] == '\\' {
			end++
		}
		end++
	}
	if end >= len(sosl) {
		return nil, plainError(CodeMalformedSearch, noSearchTerm)
	}
	term, err := parseTerm(sosl[j+1 : end])
	if err != nil {
		return nil, err
	}
	// Lex the clauses after the term with the term blanked, so that error
	// positions count from the start of the statement.
	toks, err := lex(strings.Repeat(" ", end+1) + sosl[end+1:])
	if err != nil {
		return nil, searchCode(err)
	}
	p := &parser{q: sosl, toks: toks}
	st := &searchStmt{term: term, group: "ALL", limit: -1}
	if err := p.searchClauses(st); err != nil {
		return nil, searchCode(err)
	}
	return st, nil
}

// searchCode reports a syntax error of a search as MALFORMED_SEARCH.
func searchCode(err *Error) *Error {
	if err.Code == CodeMalformedQuery {
		err.Code = CodeMalformedSearch
	}
	return err
}

// searchClauses parses what follows FIND {...}.
func (p *parser) searchClauses(st *searchStmt) *Error {
	if p.acceptKw("IN") {
		g := p.next()
		group := strings.ToUpper(g.text)
		if g.kind != tIdent || group != "ALL" && group != "NAME" && group != "EMAIL" && group != "PHONE" && group != "SIDEBAR" {
			return unexpected(p.q, g)
		}
		if err := p.expectKw("FIELDS"); err != nil {
			return err
		}
		st.group = group
	}
	if p.acceptKw("RETURNING") {
		for {
			spec, err := p.returning()
			if err != nil {
				return err
			}
			st.specs = append(st.specs, spec)
			if !p.acceptPunct(",") {
				break
			}
		}
	}
	for p.acceptKw("WITH") {
		// WITH SPELL_CORRECTION = false, WITH SNIPPET, WITH METADATA = 'LABELS'...:
		// options that change nothing the emulator computes.
		if t := p.next(); t.kind != tIdent {
			return unexpected(p.q, t)
		}
		if t := p.peek(); t.kind == tOp && t.text == "=" {
			p.next()
			if v := p.next(); v.kind != tIdent && v.kind != tString && v.kind != tNumber {
				return unexpected(p.q, v)
			}
		}
	}
	if p.acceptKw("LIMIT") {
		n, err := p.count()
		if err != nil {
			return err
		}
		st.limit = n
	}
	if p.acceptKw("UPDATE") {
		if t := p.next(); !isKw(t, "TRACKING") && !isKw(t, "VIEWSTAT") {
			return unexpected(p.q, t)
		}
	}
	if t := p.peek(); t.kind != tEOF {
		return unexpected(p.q, t)
	}
	return nil
}

// returning parses one RETURNING object: Name [(fields [WHERE] [ORDER BY]
// [LIMIT] [OFFSET])], its clauses read as a SOQL query's (a GROUP BY fails
// when the plan is compiled). Without a field list it returns the Id.
func (p *parser) returning() (*Query, *Error) {
	obj := p.next()
	if obj.kind != tIdent || isClauseWord(obj) {
		return nil, unexpected(p.q, obj)
	}
	q := &Query{Object: obj.text, objectTok: obj, Limit: -1, text: p.q}
	if !p.acceptPunct("(") {
		q.Items = []Item{{Path: Path{Parts: []string{"Id"}, Pos: obj.pos}, Pos: obj.pos}}
		return q, nil
	}
	for {
		it, err := p.item(true)
		if err != nil {
			return nil, err
		}
		q.Items = append(q.Items, it)
		if !p.acceptPunct(",") {
			break
		}
	}
	if err := p.clauses(q); err != nil {
		return nil, err
	}
	if err := p.expectPunct(")"); err != nil {
		return nil, err
	}
	return q, nil
}
