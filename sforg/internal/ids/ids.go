// Package ids builds the record ids the org emulator hands out. Validation
// stays in shared/sfid, which the functions link; only the emulator and its
// tests make ids.
package ids

import (
	"fmt"

	"github.com/sfconnect/connector/shared/sfid"
)

// New builds the 18-character id of the n-th record with a key prefix such as
// "001". The fourth to sixth characters ("000" plus pod letters) follow the shape
// of real ids; n is encoded in base 62 in the remaining nine characters.
func New(prefix string, pod string, n uint64) string {
	const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	if len(prefix) != 3 || len(pod) != 3 {
		panic(fmt.Sprintf("ids: bad prefix %q or pod %q", prefix, pod))
	}
	var body [9]byte
	for i := 8; i >= 0; i-- {
		body[i] = digits[n%62]
		n /= 62
	}
	id15 := prefix + pod + string(body[:])
	return id15 + sfid.Suffix(id15)
}
