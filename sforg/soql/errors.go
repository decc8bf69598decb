package soql

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Salesforce errorCodes a query can fail with.
const (
	CodeMalformedQuery     = "MALFORMED_QUERY"
	CodeInvalidType        = "INVALID_TYPE"
	CodeInvalidField       = "INVALID_FIELD"
	CodeInvalidFilter      = "INVALID_QUERY_FILTER_OPERATOR"
	CodeNumberOutsideRange = "NUMBER_OUTSIDE_VALID_RANGE"
)

// Message texts that clients match on, worded exactly as Salesforce words them.
const (
	typeHint  = " is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names."
	fieldHint = ". If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names."
	relHint   = " in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names."
)

// snippetBefore and snippetAfter size the excerpt Salesforce puts above the
// caret: the words starting up to 36 characters before the error and four
// tokens after it. Both are fitted to captured responses (a "SET OPTIONS"
// probe and an INVALID_TYPE on a 36-character prefix); Salesforce does not
// document the rule, and clients read only the Row/Column line.
const (
	snippetBefore = 36
	snippetAfter  = 4
)

// syntaxError reports a token the grammar does not allow. Salesforce's parser
// counts these columns from 0 and puts the caret one character left of the
// token: "SELECT Id, FROM Account" fails at Row:1:Column:11 with the caret under
// the space before FROM.
func syntaxError(q string, pos int, text string) *Error {
	pos = min(max(pos, 0), len(q))
	lineStart := strings.LastIndexByte(q[:pos], '\n') + 1
	return located(CodeMalformedQuery, q, max(pos-1, lineStart), utf8.RuneCountInString(q[lineStart:pos]), text)
}

// posError reports a semantic error (unknown object or field, bad filter
// value) at the 1-based column of the offending name, caret under it.
func posError(code, q string, pos int, text string) *Error {
	pos = min(max(pos, 0), len(q))
	lineStart := strings.LastIndexByte(q[:pos], '\n') + 1
	return located(code, q, pos, utf8.RuneCountInString(q[lineStart:pos])+1, text)
}

// located builds Salesforce's message with its location prefix:
// "\n<snippet>\n<spaces>^\nERROR at Row:R:Column:C\n<text>".
func located(code, q string, pos, col int, text string) *Error {
	lineStart := strings.LastIndexByte(q[:pos], '\n') + 1
	lineEnd := len(q)
	if k := strings.IndexByte(q[pos:], '\n'); k >= 0 {
		lineEnd = pos + k
	}
	row := strings.Count(q[:lineStart], "\n") + 1

	from := lineStart
	if pos-lineStart > snippetBefore {
		from = pos - snippetBefore
		// Start at a word boundary: drop the rest of a cut word.
		for from < pos && !isSpace(q[from-1]) {
			from++
		}
	}
	for from < pos && isSpace(q[from]) {
		from++
	}
	to := snippetEnd(q[:lineEnd], pos)
	snippet := strings.TrimRight(q[from:to], " \t\r")
	caret := strings.Repeat(" ", utf8.RuneCountInString(q[from:pos])) + "^"

	var b strings.Builder
	b.WriteString("\n")
	b.WriteString(snippet)
	b.WriteString("\n")
	b.WriteString(caret)
	b.WriteString("\nERROR at Row:")
	b.WriteString(strconv.Itoa(row))
	b.WriteString(":Column:")
	b.WriteString(strconv.Itoa(col))
	b.WriteString("\n")
	b.WriteString(text)
	return &Error{Code: code, Message: b.String()}
}

// snippetEnd returns where the excerpt ends: after the token at pos and
// snippetAfter more tokens, or at the end of the line. It scans loosely
// because the query may not lex.
func snippetEnd(line string, pos int) int {
	i := pos
	for n := 0; n <= snippetAfter; n++ {
		for i < len(line) && isSpace(line[i]) {
			i++
		}
		if i >= len(line) {
			return len(line)
		}
		c := line[i]
		switch {
		case c == '\'':
			i++
			for i < len(line) && line[i] != '\'' {
				if line[i] == '\\' {
					i++
				}
				i++
			}
			i = min(i+1, len(line))
		case isDigit(c):
			for i < len(line) && (isIdentPart(line[i]) || strings.IndexByte("-+:.", line[i]) >= 0) {
				i++
			}
		case isIdentStart(c):
			for i < len(line) && isIdentPart(line[i]) {
				i++
			}
		case (c == '!' || c == '<' || c == '>') && i+1 < len(line) && (line[i+1] == '=' || line[i+1] == '>'):
			i += 2
		default:
			_, size := utf8.DecodeRuneInString(line[i:])
			i += size
		}
	}
	return i
}

// plainError is an error without a location, as Salesforce sends for limits
// and duplicate fields.
func plainError(code, text string) *Error { return &Error{Code: code, Message: text} }

func unexpected(q string, t token) *Error {
	if t.kind == tEOF {
		return syntaxError(q, t.pos, "unexpected token: <EOF>")
	}
	return syntaxError(q, t.pos, "unexpected token: '"+t.text+"'")
}

func invalidType(q string, t token) *Error {
	return posError(CodeInvalidType, q, t.pos, "sObject type '"+t.text+"'"+typeHint)
}

func noSuchColumn(q string, pos int, name, entity string) *Error {
	return posError(CodeInvalidField, q, pos, "No such column '"+name+"' on entity '"+entity+"'"+fieldHint)
}

func badRelationship(q string, pos int, name string) *Error {
	return posError(CodeInvalidField, q, pos, "Didn't understand relationship '"+name+"'"+relHint)
}
