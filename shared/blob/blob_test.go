package blob_test

import (
	"strings"
	"testing"

	"github.com/sfconnect/connector/shared/blob"
	"github.com/sfconnect/connector/shared/faults"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		raw    string
		prefix bool
		want   blob.Location
		err    string
	}{
		{raw: "s3://my-bucket/in/accounts.csv", want: blob.Location{Bucket: "my-bucket", Key: "in/accounts.csv"}},
		{raw: "s3://my.bucket/out/", prefix: true, want: blob.Location{Bucket: "my.bucket", Key: "out/"}},
		{raw: "s3://my-bucket/", prefix: true, want: blob.Location{Bucket: "my-bucket"}},
		{raw: "s3://my-bucket/out", prefix: true, err: "must end with /"},
		{raw: "s3://my-bucket/out/", err: "names no object"},
		{raw: "https://my-bucket.s3.amazonaws.com/x.csv", err: "must start with s3://"},
		{raw: "s3://My_Bucket/x.csv", err: "bucket name"},
		{raw: "s3://ab/x.csv", err: "bucket name"},
		{raw: "s3://-bucket/x.csv", err: "bucket name"},
		{raw: "s3://my-bucket/a/../b.csv", err: ". or .."},
		{raw: "s3://my-bucket/a\nb.csv", err: "control character"},
		{raw: "s3://my-bucket/" + strings.Repeat("k", 1025), err: "longer than 1024"},
	} {
		t.Run(tc.raw, func(t *testing.T) {
			parse := blob.ParseObject
			if tc.prefix {
				parse = blob.ParsePrefix
			}
			got, err := parse("source", tc.raw)
			if tc.err != "" {
				if faults.CodeOf(err) != faults.InvalidInput || !strings.Contains(faults.MessageOf(err), tc.err) {
					t.Errorf("got %v, want INVALID_INPUT containing %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("got %+v %v, want %+v", got, err, tc.want)
			}
		})
	}
}
