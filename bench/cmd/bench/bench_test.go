package main

import (
	"archive/zip"
	"bytes"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestQuantile(t *testing.T) {
	s := sample{5, 1, 4, 2, 3}
	tests := []struct {
		q    float64
		want float64
	}{{0, 1}, {0.25, 2}, {0.5, 3}, {0.9, 4.6}, {1, 5}}
	for _, tt := range tests {
		if got := s.quantile(tt.q); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("quantile(%v): got %v, want %v", tt.q, got, tt.want)
		}
	}
	if got := (sample{}).median(); !math.IsNaN(got) {
		t.Errorf("median of nothing: got %v, want NaN", got)
	}
	if s[0] != 5 {
		t.Errorf("quantile sorted the sample in place: got %v", s)
	}
	if got := ratios(sample{2, 9}, sample{1, 3, 7}); len(got) != 2 || got[0] != 2 || got[1] != 3 {
		t.Errorf("ratios: got %v, want [2 3]", got)
	}
}

func TestParseGoBench(t *testing.T) {
	const out = `goos: linux
BenchmarkHandlerOverhead/handler-2         	   14772	    177104 ns/op	   26614 B/op	     306 allocs/op
BenchmarkHandlerOverhead/paired-2          	    9196	    260040 ns/op	     93569 handler-ns/op	        86.00 overhead-allocs/op
BenchmarkHandlerOverhead/handler-2         	   15000	    170000 ns/op	   26600 B/op	     305 allocs/op
BenchmarkQueryMerge                        	      10	  99880000 ns/op
PASS`
	got := parseGoBench(out)
	if n := len(got["BenchmarkHandlerOverhead/handler"]["ns/op"]); n != 2 {
		t.Errorf("handler ns/op: got %d values, want 2", n)
	}
	if v := got["BenchmarkHandlerOverhead/paired"]["overhead-allocs/op"]; len(v) != 1 || v[0] != 86 {
		t.Errorf("paired overhead-allocs/op: got %v, want [86]", v)
	}
	if v := got["BenchmarkQueryMerge"]["ns/op"]; len(v) != 1 || v[0] != 99880000 {
		t.Errorf("BenchmarkQueryMerge ns/op: got %v, want [99880000]", v)
	}
	if len(got) != 3 {
		t.Errorf("got %d benchmarks, want 3: %v", len(got), got)
	}
}

func TestReadMemory(t *testing.T) {
	m, err := readMemory(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if m.RSS <= 0 || m.Peak < m.RSS {
		t.Errorf("got RSS %d, peak %d, want 0 < RSS <= peak", m.RSS, m.Peak)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if pid, err := findProcess(exe); err != nil || pid <= 0 {
		t.Errorf("findProcess(own executable): got %d, %v", pid, err)
	}
	if _, err := findProcess(filepath.Join(t.TempDir(), "nothing-runs-this")); err == nil {
		t.Error("findProcess of a path nothing runs: got nil error")
	}
}

func TestSizeOf(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bootstrap")
	content := bytes.Repeat([]byte("bootstrap "), 10_000)
	if err := os.WriteFile(path, content, 0o755); err != nil {
		t.Fatal(err)
	}
	s, err := sizeOf("get", path)
	if err != nil {
		t.Fatal(err)
	}
	if s.Binary != int64(len(content)) || s.Zipped <= 0 || s.Zipped >= s.Binary {
		t.Errorf("got %+v, want binary %d and a smaller zip", s, len(content))
	}
	z, err := zipPackage(path)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != 1 || zr.File[0].Name != "bootstrap" || zr.File[0].Mode()&0o111 == 0 {
		t.Fatalf("got %d files, want one executable bootstrap", len(zr.File))
	}
	rc, err := zr.File[0].Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got, _ := io.ReadAll(rc)
	if !bytes.Equal(got, content) {
		t.Errorf("the zipped bootstrap differs from the file (%d bytes, want %d)", len(got), len(content))
	}
}

func TestTableSummary(t *testing.T) {
	var tb table
	tb.add(row{Section: "A", Figure: "fast", Met: met(true)})
	tb.add(row{Section: "A", Figure: "small|ish", Met: met(false)})
	tb.add(row{Section: "B", Figure: "reported only"})
	if !tb.failed() {
		t.Error("failed(): got false, want true")
	}
	var out strings.Builder
	tb.print(&out)
	for _, want := range []string{"### A", "### B", `small\|ish`, "Targets: 1 of 2 met. Not met: small|ish."} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
}
