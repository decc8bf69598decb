package connector

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sfconnect/connector/shared/faults"
)

// The output budget. Step Functions fails an execution whose state passes
// 256 KB (262,144 bytes), and no Catch can save it; a Task's result is merged
// into the state, so every output stays under a budget that leaves room for the
// rest of the state. The budget is measured on the whole encoded output, the
// JSON the function returns.
const (
	EnvOutputBudget     = "SALESFORCE_OUTPUT_BUDGET"
	DefaultOutputBudget = 240_000
	MaxOutputBudget     = 262_144
	MinOutputBudget     = 4_096
)

// budgetFromEnv reads SALESFORCE_OUTPUT_BUDGET, a byte count.
func budgetFromEnv(getenv func(string) string) (int, error) {
	v := strings.TrimSpace(getenv(EnvOutputBudget))
	if v == "" {
		return DefaultOutputBudget, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < MinOutputBudget || n > MaxOutputBudget {
		return DefaultOutputBudget, fmt.Errorf("%s: %q is not a byte count from %d to %d", EnvOutputBudget, v, MinOutputBudget, MaxOutputBudget)
	}
	return n, nil
}

// budgetHints tell a user how to get an action's output under the budget.
var budgetHints = map[string]string{
	"QUERY": ": page it with pageSize, maxRecords and cursor",
	"GET":   ": name only the fields you need in fields",
}

// overBudget is the error of an output that does not fit. It is UNKNOWN_ERROR:
// the call was valid and succeeded, and a retry would give the same answer, so
// it must not be a code a workflow retries; the message says what to change.
func overBudget(action string, size, budget int) error {
	return faults.New(faults.UnknownError, "%s output is %d bytes, over the %d-byte output budget (%s)%s",
		action, size, budget, EnvOutputBudget, budgetHints[action])
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
