package rie

import (
	"errors"
	"os"
	"testing"
)

// StartTest starts an emulator for a test and stops it in t.Cleanup; the
// emulator's output is logged when the test fails. Without the emulator binary
// the test is skipped, unless CI is set: in CI a missing emulator is a broken
// pipeline, not a reason to pass.
func StartTest(t testing.TB, opts Options) *Emulator {
	t.Helper()
	var log *Buffer
	if opts.Log == nil {
		log = &Buffer{}
		opts.Log = log
	}
	e, err := Start(t.Context(), opts)
	if errors.Is(err, ErrNotInstalled) {
		RequireInstalled(t)
	}
	if err != nil {
		t.Fatalf("start emulator: %v", err)
	}
	t.Cleanup(func() {
		e.Close()
		if log != nil && t.Failed() {
			t.Logf("emulator output:\n%s", log.String())
		}
	})
	return e
}

// RequireInstalled skips the test when the emulator binary is missing, or
// fails it when CI is set.
func RequireInstalled(t testing.TB) {
	t.Helper()
	_, err := findBinary("")
	switch {
	case err == nil:
	case os.Getenv("CI") != "":
		t.Fatalf("CI is set: %v", err)
	default:
		t.Skipf("skipping: %v", err)
	}
}

// BuildTest compiles a function package (relative to the module root, e.g.
// "./functions/get") into the test's temporary directory and returns the
// bootstrap's path.
func BuildTest(t testing.TB, pkg string) string {
	t.Helper()
	path, err := Build(t.Context(), pkg, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return path
}
