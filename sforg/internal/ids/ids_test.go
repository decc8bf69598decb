package ids

import (
	"testing"

	"github.com/sfconnect/connector/shared/sfid"
)

func TestNewIsValidAndDistinct(t *testing.T) {
	seen := map[string]bool{}
	for n := uint64(0); n < 1000; n++ {
		id := New("001", "5g0", n)
		if !sfid.Valid(id) || len(id) != 18 || id[:3] != "001" {
			t.Fatalf("New(%d) = %q, not a valid Account id", n, id)
		}
		if seen[id] {
			t.Fatalf("New(%d) = %q repeats", n, id)
		}
		seen[id] = true
	}
}
