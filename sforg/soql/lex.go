package soql

import (
	"strings"
	"unicode/utf8"
)

// tokKind classifies a lexeme. Keywords are identifiers: SOQL keywords are
// case-insensitive and contextual, so the parser decides what a word means.
type tokKind int

const (
	tEOF      tokKind = iota
	tIdent            // Name, My_Field__c, SELECT, TODAY
	tNumber           // 12, -3.5
	tString           // 'it\'s'
	tDate             // 2024-01-31
	tDateTime         // 2024-01-31T10:00:00Z
	tPunct            // ( ) , . :
	tOp               // = != <> < <= > >=
)

// token is one lexeme. pos is its byte offset in the query, which errors turn
// into Salesforce's Row/Column.
type token struct {
	kind tokKind
	text string // source text (for strings, with the quotes)
	val  string // decoded value of a string literal
	raw  string // a string literal's content with its escapes kept, for LIKE
	pos  int
}

// lex splits the whole query up front, so the parser can look ahead freely and
// a lexical error is reported where Salesforce reports it.
func lex(q string) ([]token, *Error) {
	var toks []token
	i := 0
	for {
		for i < len(q) && isSpace(q[i]) {
			i++
		}
		if i >= len(q) {
			toks = append(toks, token{kind: tEOF, pos: len(q)})
			return toks, nil
		}
		c := q[i]
		start := i
		switch {
		case isIdentStart(c):
			for i < len(q) && isIdentPart(q[i]) {
				i++
			}
			toks = append(toks, token{kind: tIdent, text: q[start:i], pos: start})
		case isDigit(c) || (c == '-' || c == '+') && i+1 < len(q) && isDigit(q[i+1]):
			tok := lexNumberOrDate(q, i)
			i += len(tok.text)
			toks = append(toks, tok)
		case c == '\'':
			tok, err := lexString(q, i)
			if err != nil {
				return nil, err
			}
			i += len(tok.text)
			toks = append(toks, tok)
		case strings.ContainsRune("(),.:", rune(c)):
			i++
			toks = append(toks, token{kind: tPunct, text: q[start:i], pos: start})
		case c == '=':
			i++
			toks = append(toks, token{kind: tOp, text: "=", pos: start})
		case c == '!' && i+1 < len(q) && q[i+1] == '=':
			i += 2
			toks = append(toks, token{kind: tOp, text: "!=", pos: start})
		case c == '<' || c == '>':
			i++
			if i < len(q) && (q[i] == '=' || c == '<' && q[i] == '>') {
				i++
			}
			toks = append(toks, token{kind: tOp, text: q[start:i], pos: start})
		default:
			r, _ := utf8.DecodeRuneInString(q[i:])
			return nil, syntaxError(q, start, "unexpected token: '"+string(r)+"'")
		}
	}
}

// lexNumberOrDate reads a number, a date (YYYY-MM-DD) or a datetime
// (YYYY-MM-DDThh:mm:ss[.fff](Z|±hh:mm)) starting at i.
func lexNumberOrDate(q string, i int) token {
	if d := matchDate(q, i); d > 0 {
		end := i + d
		if t := matchTime(q, end); t > 0 {
			return token{kind: tDateTime, text: q[i : end+t], pos: i}
		}
		return token{kind: tDate, text: q[i:end], pos: i}
	}
	j := i
	if q[j] == '-' || q[j] == '+' {
		j++
	}
	for j < len(q) && isDigit(q[j]) {
		j++
	}
	if j+1 < len(q) && q[j] == '.' && isDigit(q[j+1]) {
		j++
		for j < len(q) && isDigit(q[j]) {
			j++
		}
	}
	return token{kind: tNumber, text: q[i:j], pos: i}
}

// matchDate returns the length of a YYYY-MM-DD at i, or 0.
func matchDate(q string, i int) int {
	const shape = "dddd-dd-dd"
	if !matchShape(q, i, shape) {
		return 0
	}
	if end := i + len(shape); end < len(q) && (isIdentPart(q[end]) && q[end] != 'T' || q[end] == '-') {
		return 0
	}
	return len(shape)
}

// matchTime returns the length of a Thh:mm:ss[.fff](Z|±hh:mm|±hhmm) at i, or 0.
func matchTime(q string, i int) int {
	const shape = "Tdd:dd:dd"
	if !matchShape(q, i, shape) {
		return 0
	}
	j := i + len(shape)
	if j+1 < len(q) && q[j] == '.' && isDigit(q[j+1]) {
		j++
		for j < len(q) && isDigit(q[j]) {
			j++
		}
	}
	switch {
	case j < len(q) && q[j] == 'Z':
		j++
	case matchShape(q, j, "+dd:dd") || matchShape(q, j, "-dd:dd"):
		j += 6
	case matchShape(q, j, "+dddd") || matchShape(q, j, "-dddd"):
		j += 5
	default:
		return 0
	}
	if j < len(q) && isIdentPart(q[j]) {
		return 0
	}
	return j - i
}

// matchShape reports whether q at i follows shape, where 'd' is any digit and
// every other byte stands for itself.
func matchShape(q string, i int, shape string) bool {
	if i+len(shape) > len(q) {
		return false
	}
	for k := 0; k < len(shape); k++ {
		c := q[i+k]
		if shape[k] == 'd' {
			if !isDigit(c) {
				return false
			}
		} else if c != shape[k] {
			return false
		}
	}
	return true
}

// lexString reads a single-quoted literal with SOQL's backslash escapes.
func lexString(q string, start int) (token, *Error) {
	var b strings.Builder
	i := start + 1
	for i < len(q) {
		c := q[i]
		switch c {
		case '\'':
			return token{kind: tString, text: q[start : i+1], val: b.String(), raw: q[start+1 : i], pos: start}, nil
		case '\\':
			if i+1 >= len(q) {
				return token{}, syntaxError(q, start, "unexpected token: '''")
			}
			d, ok := escapes[q[i+1]]
			if !ok {
				return token{}, syntaxError(q, start, "Invalid string literal "+literalText(q, start)+
					". Illegal character sequence '\\"+string(q[i+1])+"' in string literal.")
			}
			b.WriteByte(d)
			i += 2
		default:
			b.WriteByte(c)
			i++
		}
	}
	return token{}, syntaxError(q, start, "unexpected token: '''")
}

// literalText returns the quoted literal starting at start, up to its closing
// quote or the end of the query.
func literalText(q string, start int) string {
	i := start + 1
	for i < len(q) && q[i] != '\'' {
		if q[i] == '\\' {
			i++
		}
		i++
	}
	return q[start:min(i+1, len(q))]
}

// escapes maps the character after a backslash to what it stands for. \_ and
// \% stand for themselves; LIKE reads them from the raw text as literal
// wildcard characters.
var escapes = map[byte]byte{
	'n': '\n', 'N': '\n', 'r': '\r', 'R': '\r', 't': '\t', 'T': '\t',
	'b': '\b', 'B': '\b', 'f': '\f', 'F': '\f',
	'"': '"', '\'': '\'', '\\': '\\', '_': '_', '%': '%',
}

func isSpace(c byte) bool      { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }
func isDigit(c byte) bool      { return c >= '0' && c <= '9' }
func isIdentStart(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }
func isIdentPart(c byte) bool  { return isIdentStart(c) || isDigit(c) }
