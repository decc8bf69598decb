package s3blob

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/sfconnect/connector/local/moto"
	"github.com/sfconnect/connector/shared/blob"
	"github.com/sfconnect/connector/shared/faults"
)

// newStore is S3 in moto, reached the way a function reaches it: from the
// environment, with the endpoint override addressed path-style.
func newStore(t *testing.T) (blob.Store, *moto.Server, string) {
	t.Helper()
	m := moto.StartTest(t)
	env := m.Env()
	s, err := blob.Open(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return s, m, moto.NewBucket(t, m, "s3blob")
}

func TestReadRanges(t *testing.T) {
	s, m, bucket := newStore(t)
	data := []byte("0123456789abcdef")
	if err := m.PutObject(t.Context(), bucket, "in/data.csv", data); err != nil {
		t.Fatal(err)
	}
	loc := blob.Location{Bucket: bucket, Key: "in/data.csv"}
	for _, tc := range []struct {
		name   string
		off, n int64
		want   string
	}{
		{"whole", 0, -1, string(data)},
		{"from an offset", 10, -1, "abcdef"},
		{"a range", 2, 5, "23456"},
		{"nothing", 4, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, info, err := s.Open(t.Context(), loc, tc.off, tc.n, "")
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(r)
			r.Close()
			if err != nil || string(got) != tc.want {
				t.Errorf("got %q %v, want %q", got, err, tc.want)
			}
			if tc.n != 0 && (info.Size != int64(len(data)) || info.ETag == "") {
				t.Errorf("got %+v, want the whole size %d and an ETag", info, len(data))
			}
		})
	}

	_, info, err := s.Open(t.Context(), loc, 0, 1, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.PutObject(t.Context(), bucket, "in/data.csv", []byte("changed")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Open(t.Context(), loc, 0, -1, info.ETag); faults.CodeOf(err) != faults.InvalidInput || !strings.Contains(faults.MessageOf(err), "changed") {
		t.Errorf("a changed object under its old ETag: got %v, want INVALID_INPUT saying it changed", err)
	}
}

func TestMissing(t *testing.T) {
	s, _, bucket := newStore(t)
	for _, tc := range []struct {
		name string
		loc  blob.Location
		want string
	}{
		{"object", blob.Location{Bucket: bucket, Key: "no/such.csv"}, "no such object"},
		{"bucket", blob.Location{Bucket: "sfconnect-no-such-bucket", Key: "in.csv"}, "bucket does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := s.Open(t.Context(), tc.loc, 0, -1, "")
			if faults.CodeOf(err) != faults.InvalidInput || !strings.Contains(faults.MessageOf(err), tc.want) {
				t.Errorf("got %v, want INVALID_INPUT saying %q", err, tc.want)
			}
			if err := s.Put(t.Context(), tc.loc, []byte("x"), "text/plain"); tc.name == "bucket" && faults.CodeOf(err) != faults.InvalidInput {
				t.Errorf("write: got %v, want INVALID_INPUT", err)
			}
		})
	}
	data, found, err := s.Get(t.Context(), blob.Location{Bucket: bucket, Key: "no/such.json"}, 100)
	if err != nil || found || data != nil {
		t.Errorf("got %q %v %v, want nothing found and no error", data, found, err)
	}
	if _, _, err := s.Get(t.Context(), blob.Location{Bucket: "sfconnect-no-such-bucket", Key: "x.json"}, 100); faults.CodeOf(err) != faults.InvalidInput {
		t.Errorf("a missing bucket: got %v, want INVALID_INPUT", err)
	}
}

func TestWriter(t *testing.T) {
	s, m, bucket := newStore(t)
	for _, tc := range []struct {
		name string
		size int
	}{
		{"small: one PutObject", 1000},
		{"exactly one part", PartSize},
		{"multipart: two full parts and a short one", 2*PartSize + 12345},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := bytes.Repeat([]byte("0123456789\n"), tc.size/11+1)[:tc.size]
			loc := blob.Location{Bucket: bucket, Key: "out/" + strings.ReplaceAll(tc.name, " ", "-")}
			w, err := s.Create(t.Context(), loc, "text/csv")
			if err != nil {
				t.Fatal(err)
			}
			// Odd-sized writes, as a stream gives them.
			for r := bytes.NewReader(want); r.Len() > 0; {
				chunk := make([]byte, min(r.Len(), 777_777))
				r.Read(chunk)
				if _, err := w.Write(chunk); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			got, err := m.GetObject(t.Context(), bucket, loc.Key)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("got %d bytes (%v), want the %d written", len(got), err, len(want))
			}
		})
	}
	t.Run("aborted", func(t *testing.T) {
		loc := blob.Location{Bucket: bucket, Key: "out/aborted"}
		w, err := s.Create(t.Context(), loc, "text/csv")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(make([]byte, PartSize+1)); err != nil {
			t.Fatal(err)
		}
		w.Abort()
		if _, found, err := s.Get(t.Context(), loc, 1); found || err != nil {
			t.Errorf("got found %v (%v), want no object after Abort", found, err)
		}
	})
}
