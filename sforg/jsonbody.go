package sforg

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"unicode/utf8"
)

// maxBody caps a REST request body (Salesforce's own limit is far larger than
// anything the connector sends).
const maxBody = 50 << 20

// decodeJSON reads a JSON request body into v. Salesforce parses bodies with
// Jackson, so a syntax error is answered as Jackson words it: 400
// JSON_PARSER_ERROR "Unexpected character ('x' (code 120)): ... at [line:1,
// column:N]", where N is Jackson's column (one past the offending character).
func decodeJSON(r *http.Request, v any) *Failure {
	body, f := readBody(r)
	if f != nil {
		return f
	}
	return decodeJSONBytes(body, v)
}

// readBody reads a REST request body of at most maxBody bytes.
func readBody(r *http.Request) ([]byte, *Failure) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, fail(http.StatusBadRequest, "JSON_PARSER_ERROR", "Unexpected end-of-input: %v", err)
	}
	if len(body) > maxBody {
		return nil, fail(http.StatusRequestEntityTooLarge, "JSON_PARSER_ERROR", "request body too large")
	}
	return body, nil
}

func decodeJSONBytes(body []byte, v any) *Failure {
	sc := &jsonScan{b: body}
	sc.space()
	if sc.i == len(sc.b) {
		return sc.fail("No content to map due to end-of-input")
	}
	if f := sc.value(); f != nil {
		return f
	}
	end := sc.i
	dec := json.NewDecoder(bytes.NewReader(body[:end]))
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			at := &jsonScan{b: body}
			at.moveTo(int(te.Offset) - 1)
			return at.fail(fmt.Sprintf("Cannot deserialize instance of `%s` out of %s token", javaType(te.Type.Kind().String()), jacksonToken(te.Value)))
		}
		return fail(http.StatusBadRequest, "JSON_PARSER_ERROR", "%s", err.Error())
	}
	return nil
}

func javaType(kind string) string {
	switch kind {
	case "map", "struct":
		return "SObject"
	case "slice", "array":
		return "java.util.ArrayList"
	case "string":
		return "java.lang.String"
	case "bool":
		return "boolean"
	}
	return "double"
}

func jacksonToken(value string) string {
	switch value {
	case "array":
		return "START_ARRAY"
	case "object":
		return "START_OBJECT"
	case "string":
		return "VALUE_STRING"
	case "bool":
		return "VALUE_TRUE"
	}
	return "VALUE_NUMBER_FLOAT"
}

// jsonScan finds the first syntax error of a JSON text the way Jackson reports it.
type jsonScan struct {
	b         []byte
	i         int // next byte
	line      int // 0-based line of b[i]
	lineStart int // offset of the current line's first byte
}

// moveTo advances to offset off, keeping line and column right.
func (s *jsonScan) moveTo(off int) {
	for s.i < off && s.i < len(s.b) {
		s.next()
	}
}

func (s *jsonScan) next() {
	if s.b[s.i] == '\n' {
		s.line++
		s.lineStart = s.i + 1
	}
	s.i++
}

func (s *jsonScan) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\r', '\n':
			s.next()
		default:
			return
		}
	}
}

// fail words msg with the location after the current character, as Jackson
// reports it.
func (s *jsonScan) fail(msg string) *Failure {
	col := s.i - s.lineStart + 1
	if s.i < len(s.b) {
		col++
	}
	return fail(http.StatusBadRequest, "JSON_PARSER_ERROR", "%s at [line:%d, column:%d]", msg, s.line+1, col)
}

func (s *jsonScan) unexpected(expect string) *Failure {
	if s.i >= len(s.b) {
		return s.fail("Unexpected end-of-input: " + expect)
	}
	r, _ := utf8.DecodeRune(s.b[s.i:])
	return s.fail(fmt.Sprintf("Unexpected character ('%c' (code %d)): %s", r, r, expect))
}

func (s *jsonScan) value() *Failure {
	s.space()
	if s.i >= len(s.b) {
		return s.fail("Unexpected end-of-input: expected a value")
	}
	switch c := s.b[s.i]; {
	case c == '{':
		return s.object()
	case c == '[':
		return s.array()
	case c == '"':
		return s.str()
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		start := s.i
		for s.i < len(s.b) && (s.b[s.i] >= 'a' && s.b[s.i] <= 'z' || s.b[s.i] >= 'A' && s.b[s.i] <= 'Z' || s.b[s.i] >= '0' && s.b[s.i] <= '9') {
			s.next()
		}
		switch word := string(s.b[start:s.i]); word {
		case "true", "false", "null":
			return nil
		default:
			return s.fail(fmt.Sprintf("Unrecognized token '%s': was expecting ('true', 'false' or 'null')", word))
		}
	}
	return s.unexpected("expected a valid value (number, String, array, object, 'true', 'false' or 'null')")
}

func (s *jsonScan) object() *Failure {
	startLine, startCol := s.line+1, s.i-s.lineStart+1
	s.next() // {
	s.space()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.next()
		return nil
	}
	for {
		s.space()
		if s.i >= len(s.b) {
			return s.fail(fmt.Sprintf("Unexpected end-of-input: expected close marker for OBJECT (start marker at [line:%d, column:%d])", startLine, startCol))
		}
		if s.b[s.i] != '"' {
			return s.unexpected("was expecting double-quote to start field name")
		}
		if f := s.str(); f != nil {
			return f
		}
		s.space()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			if s.i >= len(s.b) {
				return s.fail(fmt.Sprintf("Unexpected end-of-input: expected close marker for OBJECT (start marker at [line:%d, column:%d])", startLine, startCol))
			}
			return s.unexpected("was expecting a colon to separate field name and value")
		}
		s.next()
		if f := s.value(); f != nil {
			return f
		}
		s.space()
		if s.i >= len(s.b) {
			return s.fail(fmt.Sprintf("Unexpected end-of-input: expected close marker for OBJECT (start marker at [line:%d, column:%d])", startLine, startCol))
		}
		switch s.b[s.i] {
		case ',':
			s.next()
		case '}':
			s.next()
			return nil
		default:
			return s.unexpected("was expecting comma to separate Object entries")
		}
	}
}

func (s *jsonScan) array() *Failure {
	startLine, startCol := s.line+1, s.i-s.lineStart+1
	s.next() // [
	s.space()
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.next()
		return nil
	}
	for {
		if f := s.value(); f != nil {
			return f
		}
		s.space()
		if s.i >= len(s.b) {
			return s.fail(fmt.Sprintf("Unexpected end-of-input: expected close marker for ARRAY (start marker at [line:%d, column:%d])", startLine, startCol))
		}
		switch s.b[s.i] {
		case ',':
			s.next()
		case ']':
			s.next()
			return nil
		default:
			return s.unexpected("was expecting comma to separate Array entries")
		}
	}
}

func (s *jsonScan) str() *Failure {
	s.next() // opening quote
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.next()
			return nil
		case c == '\\':
			s.next()
			if s.i >= len(s.b) {
				break
			}
			e := s.b[s.i]
			switch e {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.next()
			case 'u':
				s.next()
				for k := 0; k < 4; k++ {
					if s.i >= len(s.b) || !isHex(s.b[s.i]) {
						return s.unexpected("expected a hex-digit for character escape sequence")
					}
					s.next()
				}
			default:
				return s.fail(fmt.Sprintf("Unrecognized character escape '%c' (code %d)", e, e))
			}
		case c < 0x20:
			return s.fail(fmt.Sprintf("Illegal unquoted character ((CTRL-CHAR, code %d)): has to be escaped using backslash to be included in string value", c))
		default:
			s.next()
		}
	}
	return s.fail("Unexpected end-of-input: was expecting closing quote for a string value")
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func (s *jsonScan) number() *Failure {
	digits := func() int {
		n := 0
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.next()
			n++
		}
		return n
	}
	if s.b[s.i] == '-' {
		s.next()
	}
	if s.i < len(s.b) && s.b[s.i] == '0' && s.i+1 < len(s.b) && s.b[s.i+1] >= '0' && s.b[s.i+1] <= '9' {
		s.next()
		return s.fail("Invalid numeric value: Leading zeroes not allowed")
	}
	if digits() == 0 {
		return s.unexpected("expected digit (0-9) to follow minus sign, for valid numeric value")
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.next()
		if digits() == 0 {
			return s.unexpected("Decimal point not followed by a digit")
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.next()
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.next()
		}
		if digits() == 0 {
			return s.unexpected("Exponent indicator not followed by a digit")
		}
	}
	return nil
}
