package main

import (
	"io"
	"strings"
	"testing"

	"github.com/sfconnect/connector/local/demo/stack"
	"github.com/sfconnect/connector/sforg"
)

// TestSoakSmoke runs a short soak: every write, every delivery and fault,
// and the reconciliation, with all four failure counts at 0.
func TestSoakSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the write functions under the emulator")
	}
	stack.Require(t)
	c := config{invocations: 80, workers: 4, environments: 1, seed: 7, faultRate: 0.3, version: "66.0", ledger: true, log: io.Discard}
	r, err := run(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	if r.invocations < c.invocations || r.acked == 0 {
		t.Errorf("got %d invocations and %d acknowledged writes, want at least %d and some", r.invocations, r.acked, c.invocations)
	}
	if !r.clean() || len(r.different) > 0 {
		var b strings.Builder
		r.print(&b, c)
		t.Errorf("got failures:\n%s", b.String())
	}
}

// TestReconcileFindsFailures: the checks see a duplicate record and an
// acknowledged write the org does not hold.
func TestReconcileFindsFailures(t *testing.T) {
	org := sforg.New(sforg.Options{})
	for range 2 {
		if _, err := org.Store().Insert("Account", map[string]any{"Name": "Soak 1-1"}); err != nil {
			t.Fatal(err)
		}
	}
	k := kindsFor(config{ledger: true})
	jobs := []*job{
		{n: 1, kind: k[0], target: "Soak 1-1", answers: []string{`201 {"id":"001000000000001AAA"}`}},
		{n: 2, kind: k[0], target: "Soak 1-2", answers: []string{`201 {"id":"001000000000002AAA"}`}},
		{n: 3, kind: k[0], target: "Soak 1-3"}, // never acknowledged: not lost
	}
	var r report
	r.reconcile(org, jobs)
	if r.duplicates != 1 || len(r.lost) != 2 || r.clean() {
		t.Errorf("got %d duplicates and lost %q, want 1 duplicate and writes 1 and 2 lost", r.duplicates, r.lost)
	}
}
