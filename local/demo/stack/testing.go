package stack

import (
	"errors"
	"os"
	"os/exec"
	"testing"

	"github.com/sfconnect/connector/local/rie"
)

// Require skips the test when moto_server or aws-lambda-rie is missing, or
// fails it when CI is set: in CI a missing tool is a broken pipeline, not a
// reason to pass.
func Require(t testing.TB) {
	t.Helper()
	rie.RequireInstalled(t)
	if _, err := exec.LookPath("moto_server"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set: %v", ErrMotoMissing)
		}
		t.Skipf("skipping: %v", ErrMotoMissing)
	}
}

// StartMotoTest starts moto_server for a test and stops it in t.Cleanup.
func StartMotoTest(t testing.TB) *Moto {
	t.Helper()
	m, err := StartMoto(t.Context(), nil)
	if errors.Is(err, ErrMotoMissing) {
		Require(t)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}
