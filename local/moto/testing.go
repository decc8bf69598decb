package moto

import (
	"errors"
	"os"
	"os/exec"
	"testing"
)

// StartTest starts moto_server for a test and stops it in t.Cleanup. Without
// moto_server the test is skipped, unless CI is set (see Require).
func StartTest(t testing.TB) *Server {
	t.Helper()
	s, err := Start(t.Context(), nil)
	if errors.Is(err, ErrMissing) {
		Require(t)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Require skips the test when moto_server is missing, or fails it when CI is
// set: in CI a missing tool is a broken pipeline, not a reason to pass.
func Require(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("moto_server"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set: %v", ErrMissing)
		}
		t.Skipf("skipping: %v", ErrMissing)
	}
}
