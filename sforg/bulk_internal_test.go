package sforg

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestParseBulkCSV(t *testing.T) {
	tests := []struct {
		name, data string
		d          csvDialect
		want       [][]string
		err        string
	}{
		{"plain", "a,b\n1,2\n", csvDialect{comma: ','}, [][]string{{"a", "b"}, {"1", "2"}}, ""},
		{"no final line ending", "a,b\n1,2", csvDialect{comma: ','}, [][]string{{"a", "b"}, {"1", "2"}}, ""},
		{"empty values", "a,b,c\n,,\n", csvDialect{comma: ','}, [][]string{{"a", "b", "c"}, {"", "", ""}}, ""},
		{"quotes", "a,b\n\"x,y\",\"say \"\"hi\"\"\"\n", csvDialect{comma: ','}, [][]string{{"a", "b"}, {"x,y", `say "hi"`}}, ""},
		{"line break in quotes", "a\n\"1\n2\"\n", csvDialect{comma: ','}, [][]string{{"a"}, {"1\n2"}}, ""},
		{"CRLF in quotes of an LF file", "a\n\"1\r\n2\"\n", csvDialect{comma: ','}, [][]string{{"a"}, {"1\r\n2"}}, ""},
		{"CRLF", "a;b\r\n1;2\r\n", csvDialect{comma: ';', crlf: true}, [][]string{{"a", "b"}, {"1", "2"}}, ""},
		{"BOM", "\xef\xbb\xbfa\n1\n", csvDialect{comma: ','}, [][]string{{"a"}, {"1"}}, ""},
		{"empty quoted value", "a,b\n\"\",x\n", csvDialect{comma: ','}, [][]string{{"a", "b"}, {"", "x"}}, ""},
		{"bare CR in an LF file", "a\r1\n", csvDialect{comma: ','}, nil, "ClientInputError : LineEnding is invalid on user data. Current LineEnding setting is LF"},
		{"CR without LF in a CRLF file", "a\r1\r\n", csvDialect{comma: ',', crlf: true}, nil, "ClientInputError : LineEnding is invalid on user data. Current LineEnding setting is CRLF"},
		{"blank line", "a\n1\n\n2\n", csvDialect{comma: ','}, [][]string{{"a"}, {"1"}, {""}, {"2"}}, ""},
		{"header only", "a,b\n", csvDialect{comma: ','}, [][]string{{"a", "b"}}, ""},
		{"quote after a space", "a\n x\"\n", csvDialect{comma: ','}, nil, "ClientInputError : a double quote inside an unquoted value on line 2: quote the whole value and double the quote"},
		{"space after a closing quote", "a\n\"x\" \n", csvDialect{comma: ','}, nil, "ClientInputError : unexpected character ' ' after a closing quote on line 2"},
		{"unterminated on line 3", "a\n1\n\"x\n\n", csvDialect{comma: ','}, nil, "ClientInputError : a quoted value opened on line 3 is never closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseBulkCSV([]byte(tt.data), tt.d)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("got %q, %v; want error %q", got, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v", err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
			for i := range got {
				if strings.Join(got[i], "\x00") != strings.Join(tt.want[i], "\x00") {
					t.Errorf("row %d: got %q, want %q", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestAppendCSVRow(t *testing.T) {
	got := string(appendCSVRow(nil, csvDialect{comma: '\t', crlf: true}, "a", `say "hi"`, "", "x\ty"))
	if want := "\"a\"\t\"say \"\"hi\"\"\"\t\"\"\t\"x\ty\"\r\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestBulkBackgroundPace checks the background worker: steps of
// RecordsPerStep records, InProgress between them, and a worker that stops
// with the org. The worker reports each step on a channel, so nothing waits
// on time.
func TestBulkBackgroundPace(t *testing.T) {
	tests := []struct {
		name    string
		opts    BulkOptions
		rows    int
		want    []string // the job's state after each step
		records []int    // records processed after each step
	}{
		{"one step per job", BulkOptions{}, 5, []string{stateJobComplete}, []int{5}},
		{"two records a step", BulkOptions{RecordsPerStep: 2, StepInterval: time.Millisecond}, 5,
			[]string{stateInProgress, stateInProgress, stateJobComplete}, []int{2, 4, 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Start(Options{Bulk: tt.opts})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			type snapshot struct {
				state string
				n     int
			}
			steps := make(chan snapshot, 10)
			var job *bulkJob
			s.bulk.afterStep = func() {
				s.bulk.mu.Lock()
				defer s.bulk.mu.Unlock()
				steps <- snapshot{job.state, len(job.outcomes)}
			}
			tok := s.newSession(s.store.UserID())
			do := func(method, path, contentType, body string) {
				t.Helper()
				req, _ := http.NewRequestWithContext(t.Context(), method, s.URL+"/services/data/v58.0/jobs/ingest"+path, strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+tok)
				req.Header.Set("Content-Type", contentType)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				if res.StatusCode >= 300 {
					t.Fatalf("%s %s: got %d", method, path, res.StatusCode)
				}
			}
			do(http.MethodPost, "", "application/json", `{"object":"Account","operation":"insert"}`)
			s.bulk.mu.Lock()
			job = s.bulk.list[0]
			s.bulk.mu.Unlock()
			do(http.MethodPut, "/"+job.id+"/batches", "text/csv", "Name\n"+strings.Repeat("Acme\n", tt.rows))
			do(http.MethodPatch, "/"+job.id, "application/json", `{"state":"UploadComplete"}`)
			for i, want := range tt.want {
				select {
				case got := <-steps:
					if got.state != want || got.n != tt.records[i] {
						t.Errorf("step %d: got %s with %d records, want %s with %d", i+1, got.state, got.n, want, tt.records[i])
					}
				case <-t.Context().Done():
					t.Fatal("the worker stopped")
				}
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			select {
			case <-s.bulk.done:
			default:
				t.Error("the worker still runs after Close")
			}
		})
	}
}
