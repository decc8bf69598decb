package sforg

import "testing"

func TestJacksonParseErrors(t *testing.T) {
	tests := []struct {
		body string
		want string // "" when the body is valid
	}{
		{`{"Name":"x"}`, ""},
		{"{\n  \"Name\" : \"x\",\n  \"Amount\" : -1.5e3\n}", ""},
		{`{"Name" x}`, "Unexpected character ('x' (code 120)): was expecting a colon to separate field name and value at [line:1, column:10]"},
		{`{Name:"x"}`, "Unexpected character ('N' (code 78)): was expecting double-quote to start field name at [line:1, column:3]"},
		{`{"a":1,}`, "Unexpected character ('}' (code 125)): was expecting double-quote to start field name at [line:1, column:9]"},
		{`{"a":1 "b":2}`, "Unexpected character ('\"' (code 34)): was expecting comma to separate Object entries at [line:1, column:9]"},
		{"{\n\"a\": #}", "Unexpected character ('#' (code 35)): expected a valid value (number, String, array, object, 'true', 'false' or 'null') at [line:2, column:7]"},
		{`{"a": tru}`, "Unrecognized token 'tru': was expecting ('true', 'false' or 'null') at [line:1, column:11]"},
		{`{"a": 01}`, "Invalid numeric value: Leading zeroes not allowed at [line:1, column:9]"},
		{`{"a": "x`, "Unexpected end-of-input: was expecting closing quote for a string value at [line:1, column:9]"},
		{`{"a": 1`, "Unexpected end-of-input: expected close marker for OBJECT (start marker at [line:1, column:1]) at [line:1, column:8]"},
		{`{"a": [1 2]}`, "Unexpected character ('2' (code 50)): was expecting comma to separate Array entries at [line:1, column:11]"},
		{"{\"a\": \"\\q\"}", "Unrecognized character escape 'q' (code 113) at [line:1, column:10]"},
		{"", "No content to map due to end-of-input at [line:1, column:1]"},
		{`[{"Name":"x"}]`, "Cannot deserialize instance of `SObject` out of START_ARRAY token at [line:1, column:2]"},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			var v map[string]any
			f := decodeJSONBytes([]byte(tt.body), &v)
			switch {
			case tt.want == "" && f != nil:
				t.Fatalf("got %v, want no error", f)
			case tt.want == "":
			case f == nil:
				t.Fatalf("got no error, want %q", tt.want)
			case f.Status != 400 || f.Errors[0].ErrorCode != "JSON_PARSER_ERROR" || f.Errors[0].Message != tt.want:
				t.Errorf("got %d %s %q, want 400 JSON_PARSER_ERROR %q", f.Status, f.Errors[0].ErrorCode, f.Errors[0].Message, tt.want)
			}
		})
	}
}

func TestJavaDouble(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{23, "23.0"}, {0, "0.0"}, {0.5, "0.5"}, {-1234.25, "-1234.25"}, {9999999, "9999999.0"},
		{1e7, "1.0E7"}, {5e7, "5.0E7"}, {1.25e10, "1.25E10"}, {0.0001, "1.0E-4"}, {0.001, "0.001"},
	}
	for _, tt := range tests {
		if got := javaDouble(tt.in); got != tt.want {
			t.Errorf("javaDouble(%v): got %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestReleaseName(t *testing.T) {
	tests := []struct {
		major int
		want  string
	}{{20, "Winter '11"}, {31, "Summer '14"}, {45, "Spring '19"}, {66, "Spring '26"}, {67, "Summer '26"}, {68, "Winter '27"}}
	for _, tt := range tests {
		if got := releaseName(tt.major); got != tt.want {
			t.Errorf("releaseName(%d): got %q, want %q", tt.major, got, tt.want)
		}
	}
}

func TestFormatAutoNumber(t *testing.T) {
	tests := []struct {
		format string
		n      uint64
		want   string
	}{{"{00000000}", 1, "00000001"}, {"INV-{0000}", 42, "INV-0042"}, {"{0}", 12345, "12345"}, {"A-{00}", 123, "A-123"}}
	for _, tt := range tests {
		if got := formatAutoNumber(tt.format, tt.n); got != tt.want {
			t.Errorf("formatAutoNumber(%q, %d): got %q, want %q", tt.format, tt.n, got, tt.want)
		}
	}
}
