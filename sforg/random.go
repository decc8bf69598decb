package sforg

import (
	"crypto/rand"
	"encoding/base64"
)

// randomToken returns the opaque part of a session id.
func randomToken() string {
	b := make([]byte, 72)
	rand.Read(b) //nolint:errcheck // crypto/rand.Read never fails
	s := base64.RawURLEncoding.EncodeToString(b)
	out := []byte(s)
	for i, c := range out {
		if c == '-' || c == '_' {
			out[i] = 'A' + byte(i%26)
		}
	}
	return "AR8AQ" + string(out)
}
