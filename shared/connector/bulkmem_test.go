package connector

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/sfconnect/connector/shared/blob"
	"github.com/sfconnect/connector/shared/faults"
)

// memory is the object store of the connectors the table-driven tests build
// (catalogue, fault matrix, leaks): S3's behaviour as the bulk actions see
// it, in memory, so that those tests run every bulk action against every
// Salesforce fault without a moto per cell. The bulk tests of their own use
// S3 in moto. Each test uses buckets of its own (newMemBucket).
var memory = &memStore{buckets: map[string]map[string][]byte{}}

func init() {
	blob.Register(func(func(string) string) (blob.Store, error) { return memory, nil })
}

type memStore struct {
	mu      sync.Mutex
	buckets map[string]map[string][]byte
}

var memBuckets atomic.Int64

// newMemBucket creates a bucket in memory and returns its name.
func newMemBucket() string {
	name := fmt.Sprintf("mem-bucket-%d", memBuckets.Add(1))
	memory.mu.Lock()
	defer memory.mu.Unlock()
	memory.buckets[name] = map[string][]byte{}
	return name
}

// put stores an object.
func (m *memStore) put(loc blob.Location, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.buckets[loc.Bucket]
	if !ok {
		return faults.New(faults.InvalidInput, "cannot write %s: the bucket does not exist", loc)
	}
	b[loc.Key] = bytes.Clone(data)
	return nil
}

// object reads an object; found is false when there is none.
func (m *memStore) object(loc blob.Location) (data []byte, found bool, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.buckets[loc.Bucket]
	if !ok {
		return nil, false, faults.New(faults.InvalidInput, "cannot read %s: the bucket does not exist", loc)
	}
	data, found = b[loc.Key]
	return data, found, nil
}

func etagOf(data []byte) string {
	sum := md5.Sum(data)
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

func (m *memStore) Open(_ context.Context, loc blob.Location, off, n int64, etag string) (io.ReadCloser, blob.Info, error) {
	data, found, err := m.object(loc)
	switch {
	case err != nil:
		return nil, blob.Info{}, err
	case !found:
		return nil, blob.Info{}, faults.New(faults.InvalidInput, "cannot read %s: there is no such object", loc)
	case etag != "" && etag != etagOf(data):
		return nil, blob.Info{}, faults.New(faults.InvalidInput, "cannot read %s: the object changed since the first part was read", loc)
	}
	end := int64(len(data))
	if n >= 0 {
		end = min(off+n, end)
	}
	return io.NopCloser(bytes.NewReader(data[min(off, end):end])), blob.Info{Size: int64(len(data)), ETag: etagOf(data)}, nil
}

func (m *memStore) Get(_ context.Context, loc blob.Location, max int64) ([]byte, bool, error) {
	data, found, err := m.object(loc)
	if err == nil && int64(len(data)) > max {
		err = faults.New(faults.UnknownError, "%s is larger than %d bytes", loc, max)
	}
	return data, found && err == nil, err
}

func (m *memStore) Put(_ context.Context, loc blob.Location, data []byte, _ string) error {
	return m.put(loc, data)
}

func (m *memStore) Create(_ context.Context, loc blob.Location, _ string) (blob.Writer, error) {
	return &memWriter{m: m, loc: loc}, nil
}

type memWriter struct {
	m   *memStore
	loc blob.Location
	buf bytes.Buffer
}

func (w *memWriter) Write(p []byte) (int, error) { return w.buf.Write(p) }
func (w *memWriter) Close() error                { return w.m.put(w.loc, w.buf.Bytes()) }
func (w *memWriter) Abort()                      {}
