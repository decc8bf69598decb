package moto

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awscreds "github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// S3 returns an S3 client for endpoint with the static test credentials,
// addressed path-style as a local endpoint must be.
func S3(endpoint string) *s3.Client {
	return s3.New(s3.Options{
		Region:       Region,
		Credentials:  awscreds.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
		// moto's S3 takes the SDK's checksums, but they cost the tests CPU
		// for nothing.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

// S3 returns an S3 client for this moto.
func (s *Server) S3() *s3.Client { return S3(s.URL) }

// CreateBucket creates a bucket, as `aws s3 mb` would.
func (s *Server) CreateBucket(ctx context.Context, name string) error {
	if _, err := s.S3().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		return fmt.Errorf("create bucket %q in moto: %w", name, err)
	}
	return nil
}

// PutObject stores an object.
func (s *Server) PutObject(ctx context.Context, bucket, key string, data []byte) error {
	_, err := s.S3().PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
		Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data)))})
	if err != nil {
		return fmt.Errorf("put s3://%s/%s in moto: %w", bucket, key, err)
	}
	return nil
}

// GetObject reads an object whole.
func (s *Server) GetObject(ctx context.Context, bucket, key string) ([]byte, error) {
	out, err := s.S3().GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, fmt.Errorf("get s3://%s/%s from moto: %w", bucket, key, err)
	}
	defer out.Body.Close()
	return io.ReadAll(out.Body)
}

var buckets atomic.Int64

// NewBucket creates a bucket named prefix-N for a test and returns its name.
func NewBucket(t testing.TB, s *Server, prefix string) string {
	t.Helper()
	name := fmt.Sprintf("%s-%d", prefix, buckets.Add(1))
	if err := s.CreateBucket(t.Context(), name); err != nil {
		t.Fatal(err)
	}
	return name
}
