package salesforce

import (
	"encoding/json"
	"io"
	"strings"
	"testing"
)

// countingReader counts the bytes read from it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestReadPage(t *testing.T) {
	rec := func(i int) string {
		return `{"attributes":{"type":"Account"},"Name":"` + strings.Repeat("n", 4000) + `","I":` + string(rune('0'+i)) + `}`
	}
	var recs []string
	for i := range 9 {
		recs = append(recs, rec(i))
	}
	records := "[" + strings.Join(recs, ",") + "]"
	next := `"/services/data/v45.0/query/01gD0000002HU6KIAW-2000"`
	tests := []struct {
		name      string
		body      string
		limit     Limit
		wantKept  int
		wantCut   bool
		wantNext  bool
		wantEarly bool // the reader stopped before the end of the body
	}{
		{"everything", `{"totalSize":9,"done":true,"records":` + records + `}`, Limit{}, 9, false, false, false},
		{"room for three, cursor first", `{"totalSize":20,"done":false,"nextRecordsUrl":` + next + `,"records":` + records + `}`,
			Limit{Room: 3 * len(rec(0))}, 3, true, true, true},
		{"count of two", `{"totalSize":20,"done":false,"nextRecordsUrl":` + next + `,"records":` + records + `}`,
			Limit{Count: 2}, 2, true, true, true},
		{"cursor after the records: read past them", `{"totalSize":20,"done":false,"records":` + records + `,"nextRecordsUrl":` + next + `}`,
			Limit{Count: 1}, 1, true, true, false},
		{"unknown keys skipped", `{"totalSize":9,"extra":{"a":[1,2]},"done":true,"records":` + records + `}`, Limit{}, 9, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cr := &countingReader{r: strings.NewReader(tt.body)}
			p, err := readPage(cr, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Records) != tt.wantKept || p.Cut != tt.wantCut || (p.NextRecordsURL != "") != tt.wantNext {
				t.Errorf("got %d kept, cut %v, next %q; want %d, %v, %v", len(p.Records), p.Cut, p.NextRecordsURL, tt.wantKept, tt.wantCut, tt.wantNext)
			}
			if early := cr.n < len(tt.body); early != tt.wantEarly {
				t.Errorf("read %d of %d bytes, want early stop %v", cr.n, len(tt.body), tt.wantEarly)
			}
			for _, r := range p.Records {
				if !json.Valid(r) {
					t.Errorf("kept %q, not JSON", r)
				}
			}
		})
	}
	for _, bad := range []string{``, `[]`, `{"done":true,"records":[]}`, `{"totalSize":1,"records":[{"a":}]}`, `{"totalSize":1,"records":{}}`} {
		if _, err := readPage(strings.NewReader(bad), Limit{}); err == nil {
			t.Errorf("readPage(%q): got no error", bad)
		}
	}
}
