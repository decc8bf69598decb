package cli

import (
	"flag"
	"io"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantStatus int
		wantOK     bool
		wantN      int // -n, when ok
	}{
		{name: "no flags", args: nil, wantOK: true, wantN: 1},
		{name: "a flag", args: []string{"-n", "7"}, wantOK: true, wantN: 7},
		{name: "help", args: []string{"-h"}, wantStatus: 0},
		{name: "unknown flag", args: []string{"-nope"}, wantStatus: 2},
		{name: "bad value", args: []string{"-n", "seven"}, wantStatus: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			n := fs.Int("n", 1, "a number")
			status, ok := Parse(fs, tt.args)
			if status != tt.wantStatus || ok != tt.wantOK {
				t.Errorf("got (%d, %v), want (%d, %v)", status, ok, tt.wantStatus, tt.wantOK)
			}
			if tt.wantOK && *n != tt.wantN {
				t.Errorf("got -n %d, want %d", *n, tt.wantN)
			}
		})
	}
}
