package connector

import (
	"unicode/utf8"

	"github.com/sfconnect/connector/shared/faults"
	"github.com/sfconnect/connector/shared/settings"
)

// readFactor times the output budget is the most of an answer read into
// memory: an answer that large cannot fit the output once written into
// salesforceResult (a SOAP answer shrinks when turned into JSON, so there is
// room beyond 1x).
const readFactor = 4

// hintOf is ": " and an action's budget hint, or "".
func hintOf(a *Action) string {
	if a.Hint == "" {
		return ""
	}
	return ": " + a.Hint
}

// overBudget is the error of an output that does not fit. It is UNKNOWN_ERROR:
// the call was valid and succeeded, and a retry would give the same answer, so
// it must not be a code a workflow retries; the message says what to change.
func overBudget(a *Action, size, budget int) error {
	return faults.New(faults.UnknownError, "%s output is %d bytes, over the %d-byte output budget (%s)%s",
		a.Name, size, budget, settings.OutputBudget, hintOf(a))
}

// escapedLen is the length of b once encoded inside a JSON string by encode
// (encoding/json without HTML escaping): quotes, backslashes and control
// characters take an escape, U+2028 and U+2029 become \u2028 and \u2029, and
// each byte of invalid UTF-8 becomes \ufffd. It lets QUERY measure records
// before it writes them into salesforceResult.
func escapedLen(b []byte) int {
	n := 0
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t':
				n += 2
			case c < 0x20:
				n += 6
			default:
				n++
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			n += 6
		case r == '\u2028' || r == '\u2029':
			n += 6
		default:
			n += size
		}
		i += size
	}
	return n
}
