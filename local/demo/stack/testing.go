package stack

import (
	"testing"

	"github.com/sfconnect/connector/local/moto"
	"github.com/sfconnect/connector/local/rie"
)

// Require skips the test when moto_server or aws-lambda-rie is missing, or
// fails it when CI is set: in CI a missing tool is a broken pipeline, not a
// reason to pass.
func Require(t testing.TB) {
	t.Helper()
	rie.RequireInstalled(t)
	moto.Require(t)
}
