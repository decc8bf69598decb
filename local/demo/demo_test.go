package main

import (
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/sfconnect/connector/local/demo/stack"
	"github.com/sfconnect/connector/local/rie"
)

// TestDemo runs the demo as `make demo` does: the org, a real moto_server,
// every function built for this host under aws-lambda-rie, and the story. It
// is skipped without moto or the emulator, unless CI is set.
func TestDemo(t *testing.T) {
	stack.Require(t)
	var out rie.Buffer
	o := options{out: &out, log: io.Discard}

	e, err := up(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.close)
	o.process = e.org.ProcessBulk

	t.Run("story", func(t *testing.T) {
		out.Reset()
		sum, err := tell(t.Context(), o, story, e.functions, e.logs)
		if err != nil {
			t.Fatalf("got %v, want the story to pass:\n%s", err, out.String())
		}
		if sum.Steps != len(story) || sum.Passed != len(story) {
			t.Errorf("got %d of %d steps passed, want %d of %d", sum.Passed, sum.Steps, len(story), len(story))
		}
		// One login per function environment: each function read the secret
		// from moto, logged in once and reused its session afterwards.
		if got, want := e.org.Logins(), 16; got != want || sum.Functions != want {
			t.Errorf("got %d logins for %d function environments, want %d for %d", got, sum.Functions, want, want)
		}
		text := out.String()
		for i, st := range story {
			if !strings.Contains(text, st.title) {
				t.Errorf("step %d %q is not in the output", i+1, st.title)
			}
		}
		if strings.Contains(text, "FAILED") {
			t.Errorf("the output reports a failure:\n%s", text)
		}
		if strings.Contains(text, "sforg-password") || strings.Contains(text, "SFORGTOKEN") {
			t.Errorf("the output shows the password or security token:\n%s", text)
		}
	})

	t.Run("a failing step stops the story", func(t *testing.T) {
		out.Reset()
		broken := []step{
			story[0],
			{
				title: "get a record that does not exist",
				fn:    "get",
				event: direct(func(*state) any { return map[string]any{"SObjectName": "Account"} }),
				check: func(*state, output) error { return nil },
			},
			story[1],
		}
		sum, err := tell(t.Context(), o, broken, e.functions, e.logs)
		if !errors.Is(err, errStep) {
			t.Fatalf("got %v, want errStep", err)
		}
		if sum.Steps != 2 || sum.Passed != 1 {
			t.Errorf("got %d of %d steps passed, want 1 of 2", sum.Passed, sum.Steps)
		}
		if text := out.String(); !strings.Contains(text, "FAILED  MISSING_INPUT: SObjectId is required") {
			t.Errorf("the output does not report the typed error:\n%s", text)
		}
	})
}

func TestFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"help", []string{"-h"}, 0},
		{"unknown flag", []string{"-nope"}, 2},
		{"stray argument", []string{"extra"}, 2},
		{"org address in use or invalid", []string{"-addr", "not-an-address"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := realMain(t.Context(), tt.args, io.Discard, io.Discard); got != tt.want {
				t.Errorf("got exit status %d, want %d", got, tt.want)
			}
		})
	}
}

func TestShow(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"nulls dropped", `{"Id":"001","Phone":null,"attributes":{"type":"Account","url":null}}`, `{"Id":"001","attributes":{"type":"Account"}}`},
		{"arrays kept", `[{"a":null,"b":[1,null]}]`, `[{"b":[1,null]}]`},
		{"no HTML escaping", `{"q":"a<b & c>d"}`, `{"q":"a<b & c>d"}`},
		{"not JSON", `plain text`, `plain text`},
		{"cut long", `{"s":"` + strings.Repeat("x", 300) + `"}`, `{"s":"` + strings.Repeat("x", 154) + ` …`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := show([]byte(tt.in), false); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// Every story step names a function that exists and builds its event from
// the samples without error.
func TestStoryEvents(t *testing.T) {
	names, err := stack.Functions()
	if err != nil {
		t.Fatal(err)
	}
	s := &state{accountID: "0015g0000000003AAA", workitemID: "04i5g0000000006AAA", invoiceID: "a015g0000000008AAA",
		importJob: "7505g0000012AbCAAU", exportJob: "7505g0000012AbDAAU", process: func() int { return 0 }}
	for i, st := range story {
		if !slices.Contains(names, st.fn) {
			t.Errorf("step %d: no function %q", i+1, st.fn)
		}
		if _, err := st.event(s); err != nil {
			t.Errorf("step %d (%s): %v", i+1, st.title, err)
		}
	}
}
