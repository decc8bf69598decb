// Package blob is the object storage the bulk actions stream through: S3
// locations as workflows name them (s3://bucket/key), the Store interface the
// actions read and write with, and the registry through which a function links
// an implementation. Only the bulk functions link one (package s3blob, imported
// by their main for this alone), so the AWS SDK's S3 client stays out of the
// other functions' bootstraps.
package blob

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/sfconnect/connector/shared/faults"
)

// Location is one object, or with a Key ending in "/" (or empty) a prefix.
type Location struct {
	Bucket string
	Key    string
}

// String is the location as an s3:// URL.
func (l Location) String() string { return "s3://" + l.Bucket + "/" + l.Key }

// Join is the object name under the prefix l.
func (l Location) Join(name string) Location { return Location{l.Bucket, l.Key + name} }

// Info describes an object read.
type Info struct {
	Size int64  // the whole object's size
	ETag string // its entity tag: pass it back to read the same version
}

// Store reads and writes objects. Its errors are faults errors: a bucket or
// object that does not exist, or that the function may not use, is
// INVALID_INPUT; an object that changed under an ETag too; a store that kept
// failing is CIRCUIT_BREAKER_OPEN, one that could not be reached
// CONNECTION_ERROR, and the deadline REQUEST_TIMEOUT.
type Store interface {
	// Open reads loc from byte off on: n bytes, or to its end when n < 0.
	// With etag set, the object must still be that version.
	Open(ctx context.Context, loc Location, off, n int64, etag string) (io.ReadCloser, Info, error)
	// Get reads a small object whole, up to max bytes; found is false when
	// there is no such object (the bucket exists).
	Get(ctx context.Context, loc Location, max int64) (data []byte, found bool, err error)
	// Put writes a small object whole.
	Put(ctx context.Context, loc Location, data []byte, contentType string) error
	// Create streams an object: Close completes it, Abort drops what was written.
	Create(ctx context.Context, loc Location, contentType string) (Writer, error)
}

// Writer is an object being written. Close completes it; after a failed
// Write or Close, Abort drops it. Neither is safe for concurrent use.
type Writer interface {
	io.Writer
	Close() error
	Abort()
}

// Opener builds a Store from the function's environment, read through getenv.
type Opener func(getenv func(string) string) (Store, error)

var (
	mu     sync.Mutex
	opener Opener
)

// Register makes open the way Open builds a Store; package s3blob registers
// S3 when a function imports it. The last registration wins.
func Register(open Opener) {
	mu.Lock()
	defer mu.Unlock()
	opener = open
}

// Open builds the registered Store.
func Open(getenv func(string) string) (Store, error) {
	mu.Lock()
	open := opener
	mu.Unlock()
	if open == nil {
		return nil, faults.New(faults.UnknownError, "this function has no object store: a bulk function's main imports shared/blob/s3blob")
	}
	return open(getenv)
}

// ParseObject reads the s3:// URL of one object from the input parameter param.
func ParseObject(param, raw string) (Location, error) {
	l, err := parse(param, raw)
	if err == nil && (l.Key == "" || strings.HasSuffix(l.Key, "/")) {
		err = faults.New(faults.InvalidInput, "%s %s names no object: give s3://bucket/key", param, quote(raw))
	}
	return l, err
}

// ParsePrefix reads the s3:// URL of a prefix (a "folder") from the input
// parameter param: s3://bucket/ or s3://bucket/some/prefix/. The trailing
// slash is required, so that a prefix is never mistaken for an object.
func ParsePrefix(param, raw string) (Location, error) {
	l, err := parse(param, raw)
	if err == nil && l.Key != "" && !strings.HasSuffix(l.Key, "/") {
		err = faults.New(faults.InvalidInput, "%s %s must end with / (a prefix: s3://bucket/prefix/)", param, quote(raw))
	}
	return l, err
}

// maxKey is S3's longest key, in bytes.
const maxKey = 1024

func parse(param, raw string) (Location, error) {
	bad := func(why string) (Location, error) {
		return Location{}, faults.New(faults.InvalidInput, "%s %s is not an s3:// URL: %s", param, quote(raw), why)
	}
	rest, ok := strings.CutPrefix(raw, "s3://")
	if !ok {
		return bad("it must start with s3://")
	}
	bucket, key, _ := strings.Cut(rest, "/")
	switch {
	case !validBucket(bucket):
		return bad("the bucket name must be 3 to 63 lower-case letters, digits, dots and hyphens")
	case len(key) > maxKey:
		return bad("the key is longer than 1024 bytes")
	case !utf8.ValidString(key):
		return bad("the key is not UTF-8")
	case strings.ContainsFunc(key, unicode.IsControl):
		return bad("the key holds a control character")
	case strings.Contains("/"+key+"/", "/../") || strings.Contains("/"+key+"/", "/./"):
		return bad("the key holds a . or .. segment")
	}
	return Location{Bucket: bucket, Key: key}, nil
}

// validBucket checks S3's naming rules for general purpose buckets.
func validBucket(b string) bool {
	if len(b) < 3 || len(b) > 63 || strings.Contains(b, "..") {
		return false
	}
	for i, c := range b {
		alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		if !alnum && (c != '.' && c != '-' || i == 0 || i == len(b)-1) {
			return false
		}
	}
	return true
}

// quote shows untrusted text in a message: quoted, escaped and cut short.
func quote(s string) string {
	if r := []rune(s); len(r) > 80 {
		return fmt.Sprintf("%q...", string(r[:80]))
	}
	return fmt.Sprintf("%q", s)
}
