package sforg

// CSV as Bulk API 2.0 reads and writes it. Salesforce's "Prepare CSV Files"
// and "Valid CSV Record Rows" pages set the rules modelled here:
//
//   - the first row names the fields; every other row is one record with as
//     many values as the header has names;
//   - the job's columnDelimiter (COMMA, BACKQUOTE, CARET, PIPE, SEMICOLON, TAB)
//     separates values and its lineEnding (LF or CRLF) ends rows; a file whose
//     rows end otherwise fails the job ("LineEnding is invalid on user data");
//   - a value holding the delimiter, a line break or a double quote is quoted,
//     an embedded quote doubled; values are not trimmed, and a quote that does
//     not open or close a quoted value (a space before an opening quote, text
//     after a closing one, a quote inside an unquoted value) is malformed;
//   - the file is UTF-8.
//
// [UNCONFIRMED] A leading UTF-8 byte order mark is skipped (spreadsheet tools
// write one; the docs only ask for UTF-8), and the wording of the parse
// failures other than the line-ending one is this emulator's own.
//
// Result files (ingest results, query results) are written with the job's
// delimiter and line ending and every value in double quotes, as the
// documented result examples show.

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"
)

// bulkDelimiters maps a job's columnDelimiter to its byte.
var bulkDelimiters = map[string]byte{
	"COMMA":     ',',
	"BACKQUOTE": '`',
	"CARET":     '^',
	"PIPE":      '|',
	"SEMICOLON": ';',
	"TAB":       '\t',
}

// csvDialect is the delimiter and line ending of a job's CSV.
type csvDialect struct {
	comma byte
	crlf  bool
}

// newDialect returns the dialect of a job's columnDelimiter and lineEnding,
// both already validated.
func newDialect(delimiter, lineEnding string) csvDialect {
	return csvDialect{comma: bulkDelimiters[delimiter], crlf: lineEnding == "CRLF"}
}

func (d csvDialect) setting() string {
	if d.crlf {
		return "CRLF"
	}
	return "LF"
}

// csvError is a CSV that cannot be read; its text becomes the failed job's
// errorMessage.
type csvError struct{ msg string }

func (e *csvError) Error() string { return e.msg }

func csvFailure(format string, args ...any) *csvError {
	return &csvError{msg: "ClientInputError : " + fmt.Sprintf(format, args...)}
}

// lineEndingError is Salesforce's failure for rows that end otherwise than
// the job's lineEnding says.
func lineEndingError(d csvDialect) *csvError {
	return &csvError{msg: "ClientInputError : LineEnding is invalid on user data. Current LineEnding setting is " + d.setting()}
}

// parseBulkCSV splits a job's data into rows of values. The first row is the
// header. Every row must have as many values as the header.
func parseBulkCSV(data []byte, d csvDialect) ([][]string, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		return nil, csvFailure("the CSV data is not valid UTF-8")
	}
	p := &csvParser{b: data, d: d, line: 1}
	var rows [][]string
	for p.i < len(p.b) {
		row, err := p.row()
		if err != nil {
			return nil, err
		}
		if len(rows) > 0 && len(row) != len(rows[0]) {
			return nil, csvFailure("row %d has %d values, the header has %d", len(rows)+1, len(row), len(rows[0]))
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return nil, csvFailure("the CSV data is empty: the first row must name the fields")
	}
	return rows, nil
}

// csvParser reads one row at a time.
type csvParser struct {
	b    []byte
	i    int
	d    csvDialect
	line int // line of b[i], for messages
}

// row reads values up to the end of a row (its line ending consumed) or of
// the data.
func (p *csvParser) row() ([]string, error) {
	var row []string
	for {
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		row = append(row, v)
		if p.i == len(p.b) {
			return row, nil
		}
		c := p.b[p.i]
		if c == p.d.comma {
			p.i++
			continue
		}
		if err := p.lineEnd(); err != nil {
			return nil, err
		}
		return row, nil
	}
}

// lineEnd consumes the line ending at p.i, which must be the dialect's.
func (p *csvParser) lineEnd() error {
	switch {
	case p.d.crlf && p.b[p.i] == '\r' && p.i+1 < len(p.b) && p.b[p.i+1] == '\n':
		p.i += 2
	case !p.d.crlf && p.b[p.i] == '\n':
		p.i++
	default:
		return lineEndingError(p.d)
	}
	p.line++
	return nil
}

// atBreak reports whether p.i is at the delimiter or a line break character.
func (p *csvParser) atBreak() bool {
	c := p.b[p.i]
	return c == p.d.comma || c == '\n' || c == '\r'
}

// value reads one value, quoted or not.
func (p *csvParser) value() (string, error) {
	if p.i < len(p.b) && p.b[p.i] == '"' {
		return p.quoted()
	}
	start := p.i
	for p.i < len(p.b) && !p.atBreak() {
		if p.b[p.i] == '"' {
			return "", csvFailure("a double quote inside an unquoted value on line %d: quote the whole value and double the quote", p.line)
		}
		p.i++
	}
	return string(p.b[start:p.i]), nil
}

// quoted reads a value in double quotes, where "" stands for one quote.
func (p *csvParser) quoted() (string, error) {
	open := p.line
	p.i++ // the opening quote
	var v []byte
	for {
		end := bytes.IndexByte(p.b[p.i:], '"')
		if end < 0 {
			return "", csvFailure("a quoted value opened on line %d is never closed", open)
		}
		chunk := p.b[p.i : p.i+end]
		p.line += bytes.Count(chunk, []byte("\n"))
		v = append(v, chunk...)
		p.i += end + 1
		if p.i < len(p.b) && p.b[p.i] == '"' {
			v = append(v, '"')
			p.i++
			continue
		}
		break
	}
	if p.i < len(p.b) && !p.atBreak() {
		return "", csvFailure("unexpected character %q after a closing quote on line %d", p.b[p.i], p.line)
	}
	return string(v), nil
}

// appendCSVRow writes one row with every value quoted, then the line ending.
func appendCSVRow(b []byte, d csvDialect, values ...string) []byte {
	for i, v := range values {
		if i > 0 {
			b = append(b, d.comma)
		}
		b = appendQuoted(b, v)
	}
	return appendLineEnd(b, d)
}

// appendQuoted writes v in double quotes, doubling the quotes inside.
func appendQuoted(b []byte, v string) []byte {
	b = append(b, '"')
	for {
		i := strings.IndexByte(v, '"')
		if i < 0 {
			break
		}
		b = append(b, v[:i+1]...)
		b = append(b, '"')
		v = v[i+1:]
	}
	b = append(b, v...)
	return append(b, '"')
}

func appendLineEnd(b []byte, d csvDialect) []byte {
	if d.crlf {
		return append(b, '\r', '\n')
	}
	return append(b, '\n')
}
