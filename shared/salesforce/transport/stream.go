package transport

import (
	"context"
	"io"
	"math"
	"net/http"
)

// Transfers: a Bulk API 2.0 upload streams its body from S3 (Request.Upload),
// and a result set streams to S3 (Request.Read with MaxBodyBytes < 0), so
// that neither is ever whole in memory. Each attempt opens its own body: an
// attempt that failed before the request was written whole is sent again
// with a fresh one, while an upload that may have reached Salesforce is not
// (it is not Idempotent), as for any POST.

// Sized returns an upload body of n bytes: the request then carries
// Content-Length n instead of a chunked body, and the HTTP client fails the
// attempt if the body gives more or fewer bytes.
func Sized(body io.ReadCloser, n int64) io.ReadCloser { return sized{body, n} }

type sized struct {
	io.ReadCloser
	n int64
}

// answer is what exchange reads of a response: resty's, or net/http's for an
// upload.
type answer interface {
	RawBody() io.ReadCloser
	StatusCode() int
	Header() http.Header
}

type netAnswer struct{ r *http.Response }

func (a netAnswer) RawBody() io.ReadCloser { return a.r.Body }
func (a netAnswer) StatusCode() int        { return a.r.StatusCode }
func (a netAnswer) Header() http.Header    { return a.r.Header }

// upload sends a request whose body Request.Upload opens, with the client's
// own net/http client: resty reads a streamed body whole into memory to be
// able to send it again. unopened is the opener's error, when it failed and
// nothing was sent; err a failure of the exchange.
func (c *Client) upload(ctx context.Context, req Request) (res answer, unopened, err error) {
	body, err := req.Upload()
	if err != nil {
		return nil, err, nil
	}
	hr, err := http.NewRequestWithContext(ctx, req.Method, req.URL, body)
	if err != nil {
		body.Close()
		return nil, err, nil
	}
	if b, ok := body.(sized); ok {
		hr.ContentLength = b.n
	}
	for k, v := range req.Header {
		hr.Header.Set(k, v)
	}
	if req.Bearer != "" {
		hr.Header.Set("Authorization", "Bearer "+req.Bearer)
	}
	resp, err := c.http.GetClient().Do(hr)
	if err != nil {
		return nil, nil, err
	}
	return netAnswer{resp}, nil, nil
}

// bodyCap is the most of an answer a request reads: its own cap, none, or the
// client's.
func bodyCap(req Request, client int64) int64 {
	switch {
	case req.MaxBodyBytes < 0:
		return math.MaxInt64 - 1
	case req.MaxBodyBytes > 0:
		return req.MaxBodyBytes
	}
	return client
}
