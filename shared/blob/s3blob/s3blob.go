// Package s3blob is the blob.Store of the bulk functions: Amazon S3 through
// the AWS SDK, configured from the function's environment by shared/awsenv.
// Importing it registers it (blob.Register), which is all a bulk function's
// main needs; the other functions do not import it and stay without the S3
// client.
package s3blob

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/sfconnect/connector/shared/awsenv"
	"github.com/sfconnect/connector/shared/blob"
	"github.com/sfconnect/connector/shared/faults"
)

func init() { blob.Register(FromEnv) }

// PartSize is the size of each part of a multipart upload but the last: the
// least S3 takes (5 MiB), since a Writer holds one part in memory. Objects
// up to 50 GiB fit S3's 10,000 parts.
const PartSize = 5 << 20

// spare holds part buffers between Writers: a function writes its objects
// one after another, so one buffer serves them all. (A sync.Pool would drop
// it at every garbage collection and make another 5 MiB.)
var spare = make(chan []byte, 2)

func partBuffer() []byte {
	select {
	case b := <-spare:
		return b[:0]
	default:
		return make([]byte, 0, PartSize)
	}
}

// FromEnv returns S3 configured from the environment read through getenv:
// region and credentials as Lambda sets them, and the endpoint override of
// AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL, which is addressed path-style
// (a local endpoint such as moto has no bucket.host names).
func FromEnv(getenv func(string) string) (blob.Store, error) {
	cfg, err := awsenv.Load(getenv)
	if err != nil {
		return nil, faults.Wrap(faults.UnknownError, err, "cannot use S3: %v", err)
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if o.BaseEndpoint = awsenv.Endpoint(getenv, "S3"); o.BaseEndpoint != nil {
			o.UsePathStyle = true
		}
	})
	return New(client), nil
}

// New returns the Store of a client. Checksums are the SDK's only where S3
// requires them: the objects are streamed once over TLS, and a checksum per
// part would have to be repeated when the upload completes.
func New(client *s3.Client) blob.Store {
	return store{client}
}

type store struct{ c *s3.Client }

func plain(o *s3.Options) {
	o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
	o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
}

func (s store) Open(ctx context.Context, loc blob.Location, off, n int64, etag string) (io.ReadCloser, blob.Info, error) {
	in := &s3.GetObjectInput{Bucket: aws.String(loc.Bucket), Key: aws.String(loc.Key)}
	switch {
	case n >= 0:
		if n == 0 {
			return io.NopCloser(bytes.NewReader(nil)), blob.Info{}, nil
		}
		in.Range = aws.String("bytes=" + strconv.FormatInt(off, 10) + "-" + strconv.FormatInt(off+n-1, 10))
	case off > 0:
		in.Range = aws.String("bytes=" + strconv.FormatInt(off, 10) + "-")
	}
	if etag != "" {
		in.IfMatch = aws.String(etag)
	}
	out, err := s.c.GetObject(ctx, in, plain)
	if err != nil {
		return nil, blob.Info{}, mapError("read", loc, err)
	}
	info := blob.Info{ETag: aws.ToString(out.ETag), Size: aws.ToInt64(out.ContentLength)}
	if cr := aws.ToString(out.ContentRange); cr != "" { // bytes a-b/size
		if i := lastSlash(cr); i >= 0 {
			if size, err := strconv.ParseInt(cr[i+1:], 10, 64); err == nil {
				info.Size = size
			}
		}
	}
	return &body{r: out.Body, loc: loc}, info, nil
}

func lastSlash(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '/' {
			return i
		}
	}
	return -1
}

// body is an object's body whose read errors are faults errors.
type body struct {
	r   io.ReadCloser
	loc blob.Location
}

func (b *body) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		err = mapError("read", b.loc, err)
	}
	return n, err
}

func (b *body) Close() error { return b.r.Close() }

func (s store) Get(ctx context.Context, loc blob.Location, max int64) ([]byte, bool, error) {
	out, err := s.c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(loc.Bucket), Key: aws.String(loc.Key)}, plain)
	var nsk *types.NoSuchKey
	if errors.As(err, &nsk) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, mapError("read", loc, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(io.LimitReader(out.Body, max+1))
	if err != nil {
		return nil, false, mapError("read", loc, err)
	}
	if int64(len(data)) > max {
		return nil, false, faults.New(faults.UnknownError, "%s is larger than %d bytes", loc, max)
	}
	return data, true, nil
}

func (s store) Put(ctx context.Context, loc blob.Location, data []byte, contentType string) error {
	_, err := s.c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(loc.Bucket), Key: aws.String(loc.Key),
		Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data))), ContentType: aws.String(contentType)}, plain)
	return mapError("write", loc, err)
}

func (s store) Create(ctx context.Context, loc blob.Location, contentType string) (blob.Writer, error) {
	return &writer{ctx: ctx, s: s, loc: loc, contentType: contentType}, nil
}

// writer streams an object: one PutObject when it stays under PartSize,
// otherwise a multipart upload of PartSize parts, one held in memory at a time.
type writer struct {
	ctx         context.Context
	s           store
	loc         blob.Location
	contentType string
	buf         []byte  // the part being filled, from the first Write to Close or Abort
	upload      *string // the multipart upload, once started
	parts       []types.CompletedPart
	err         error
}

func (w *writer) Write(p []byte) (int, error) {
	if w.buf == nil && w.err == nil {
		w.buf = partBuffer()
	}
	written := 0
	for len(p) > 0 && w.err == nil {
		n := min(len(p), PartSize-len(w.buf))
		w.buf = append(w.buf, p[:n]...)
		p, written = p[n:], written+n
		if len(w.buf) == PartSize {
			w.err = w.flush()
		}
	}
	return written, w.err
}

// flush uploads the buffer as the next part.
func (w *writer) flush() error {
	if w.upload == nil {
		out, err := w.s.c.CreateMultipartUpload(w.ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(w.loc.Bucket),
			Key: aws.String(w.loc.Key), ContentType: aws.String(w.contentType)}, plain)
		if err != nil {
			return mapError("write", w.loc, err)
		}
		w.upload = out.UploadId
	}
	number := int32(len(w.parts) + 1)
	out, err := w.s.c.UploadPart(w.ctx, &s3.UploadPartInput{Bucket: aws.String(w.loc.Bucket), Key: aws.String(w.loc.Key),
		UploadId: w.upload, PartNumber: aws.Int32(number), Body: bytes.NewReader(w.buf), ContentLength: aws.Int64(int64(len(w.buf)))}, plain)
	if err != nil {
		return mapError("write", w.loc, err)
	}
	w.parts = append(w.parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(number)})
	w.buf = w.buf[:0]
	return nil
}

// release gives the part buffer back for the next Writer.
func (w *writer) release() {
	if w.buf == nil {
		return
	}
	select {
	case spare <- w.buf:
	default:
	}
	w.buf = nil
}

func (w *writer) Close() error {
	if w.err != nil {
		return w.err
	}
	defer w.release()
	if w.upload == nil {
		w.err = w.s.Put(w.ctx, w.loc, w.buf, w.contentType)
		return w.err
	}
	if len(w.buf) > 0 {
		if w.err = w.flush(); w.err != nil {
			return w.err
		}
	}
	slices.SortFunc(w.parts, func(a, b types.CompletedPart) int { return int(*a.PartNumber - *b.PartNumber) })
	_, err := w.s.c.CompleteMultipartUpload(w.ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(w.loc.Bucket),
		Key: aws.String(w.loc.Key), UploadId: w.upload, MultipartUpload: &types.CompletedMultipartUpload{Parts: w.parts}}, plain)
	w.err = mapError("write", w.loc, err)
	if w.err == nil {
		w.err = errors.New("s3blob: writer closed")
		return nil
	}
	return w.err
}

// Abort drops a multipart upload begun, so that its parts are not kept (and
// billed). It runs even when the invocation's context has ended.
func (w *writer) Abort() {
	w.release()
	if w.upload == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(w.ctx), 5*time.Second)
	defer cancel()
	w.s.c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(w.loc.Bucket), //nolint:errcheck // best effort: a lifecycle rule cleans up the rest
		Key: aws.String(w.loc.Key), UploadId: w.upload}, plain)
	w.upload = nil
}

// codes sorts S3's error codes: what the caller named wrongly, or may not
// use, is the caller's INVALID_INPUT.
var codes = map[string]struct {
	code faults.Code
	what string
}{
	"NoSuchBucket":       {faults.InvalidInput, "the bucket does not exist"},
	"NoSuchKey":          {faults.InvalidInput, "there is no such object"},
	"NotFound":           {faults.InvalidInput, "there is no such object"},
	"AccessDenied":       {faults.InvalidInput, "access denied: the function's role may use only the buckets and prefixes the template gives it"},
	"AllAccessDisabled":  {faults.InvalidInput, "access to the bucket is disabled"},
	"InvalidBucketName":  {faults.InvalidInput, "the bucket name is not valid"},
	"PreconditionFailed": {faults.InvalidInput, "the object changed since the first part was read"},
	"InvalidRange":       {faults.InvalidInput, "the object is shorter than the range asked for"},
	"SlowDown":           {faults.CircuitBreakerOpen, "S3 kept asking to slow down"},
}

// mapError turns an S3 failure into the catalogue, naming the location.
func mapError(op string, loc blob.Location, err error) error {
	if err == nil {
		return nil
	}
	var fe *faults.Error
	if errors.As(err, &fe) {
		return err
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		if c, ok := codes[api.ErrorCode()]; ok {
			return faults.Wrap(c.code, err, "cannot %s %s: %s", op, loc, c.what)
		}
	}
	var resp *awshttp.ResponseError
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
		return faults.Wrap(faults.RequestTimeout, err, "cannot %s %s: no time left before the deadline", op, loc)
	case errors.As(err, &resp) && resp.HTTPStatusCode() == http.StatusNotFound:
		return faults.Wrap(faults.InvalidInput, err, "cannot %s %s: not found", op, loc)
	case errors.As(err, &resp) && resp.HTTPStatusCode() == http.StatusForbidden:
		return faults.Wrap(faults.InvalidInput, err, "cannot %s %s: %s", op, loc, codes["AccessDenied"].what)
	case errors.As(err, &resp) && resp.HTTPStatusCode() >= 500:
		return faults.Wrap(faults.CircuitBreakerOpen, err, "cannot %s %s: S3 answered %d after the SDK's retries", op, loc, resp.HTTPStatusCode())
	case errors.As(err, &netErr):
		return faults.Wrap(faults.ConnectionError, err, "cannot %s %s: S3 could not be reached", op, loc)
	}
	return faults.Wrap(faults.UnknownError, err, "cannot %s %s: %s", op, loc, shortError(err))
}

// shortError is an S3 error's own text, cut short.
func shortError(err error) string {
	if s := err.Error(); len(s) > 300 {
		return s[:300] + "..."
	}
	return err.Error()
}
