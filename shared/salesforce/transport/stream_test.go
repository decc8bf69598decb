package transport

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sfconnect/connector/shared/faults"
)

// uploads is a test server that records what each upload carried, and
// answers as answer says for the nth request (1-based).
type uploads struct {
	mu       sync.Mutex
	lengths  []int64  // Content-Length of each request (-1: chunked)
	bodies   []string // each body as received
	answer   func(n int, w http.ResponseWriter)
	requests atomic.Int64
}

func (u *uploads) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := int(u.requests.Add(1))
	b, _ := io.ReadAll(r.Body)
	u.mu.Lock()
	u.lengths = append(u.lengths, r.ContentLength)
	u.bodies = append(u.bodies, string(b))
	u.mu.Unlock()
	if u.answer != nil {
		u.answer(n, w)
		return
	}
	w.WriteHeader(http.StatusCreated)
}

// opener counts how often an upload body was opened.
type opener struct {
	data  string
	sized bool
	opens atomic.Int64
}

func (o *opener) open() (io.ReadCloser, error) {
	o.opens.Add(1)
	body := io.NopCloser(strings.NewReader(o.data))
	if o.sized {
		return Sized(body, int64(len(o.data))), nil
	}
	return body, nil
}

func TestUpload(t *testing.T) {
	const data = "Name,Ext__c\nAcme,1\nGlobex,2\n"
	for _, tc := range []struct {
		name       string
		sized      bool
		wantLength int64
	}{
		{"a sized body carries Content-Length", true, int64(len(data))},
		{"an unsized body is chunked", false, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := &uploads{}
			srv := httptest.NewServer(u)
			t.Cleanup(srv.Close)
			o := &opener{data: data, sized: tc.sized}
			resp, err := New(Options{}).Send(t.Context(), Request{Name: "PUT batches", Method: http.MethodPut, URL: srv.URL, Upload: o.open})
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != http.StatusCreated {
				t.Errorf("got status %d, want 201", resp.Status)
			}
			if u.bodies[0] != data {
				t.Errorf("got body %q, want %q", u.bodies[0], data)
			}
			if u.lengths[0] != tc.wantLength {
				t.Errorf("got Content-Length %d, want %d", u.lengths[0], tc.wantLength)
			}
		})
	}
}

// TestUploadNotResent: an upload that reached Salesforce and got a 503 is not
// sent again (a second upload to a Bulk API job makes its close fail), and one
// that never left (connection refused) opens a fresh body for each attempt.
func TestUploadNotResent(t *testing.T) {
	t.Run("503 after the upload was written", func(t *testing.T) {
		u := &uploads{answer: func(_ int, w http.ResponseWriter) { w.WriteHeader(http.StatusServiceUnavailable) }}
		srv := httptest.NewServer(u)
		t.Cleanup(srv.Close)
		o := &opener{data: "Name\nAcme\n", sized: true}
		_, err := New(Options{RetryBaseDelay: time.Millisecond, RetryMaxDelay: time.Millisecond}).
			Send(t.Context(), Request{Name: "PUT batches", Method: http.MethodPut, URL: srv.URL, Upload: o.open})
		if got := faults.CodeOf(err); got != faults.UnknownError || !strings.Contains(faults.MessageOf(err), "outcome is unknown") {
			t.Errorf("got %q %q, want UNKNOWN_ERROR saying the outcome is unknown", got, faults.MessageOf(err))
		}
		if got := u.requests.Load(); got != 1 {
			t.Errorf("got %d uploads, want 1", got)
		}
	})
	t.Run("connection refused", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		o := &opener{data: "Name\nAcme\n", sized: true}
		_, err = New(Options{RetryBaseDelay: time.Millisecond, RetryMaxDelay: time.Millisecond}).
			Send(t.Context(), Request{Name: "PUT batches", Method: http.MethodPut, URL: "http://" + addr, Upload: o.open})
		if got := faults.CodeOf(err); got != faults.ConnectionError {
			t.Errorf("got %q, want CONNECTION_ERROR", got)
		}
		if got := o.opens.Load(); got != 3 {
			t.Errorf("got %d bodies opened, want one per attempt (3)", got)
		}
	})
	t.Run("the body cannot be opened", func(t *testing.T) {
		u := &uploads{}
		srv := httptest.NewServer(u)
		t.Cleanup(srv.Close)
		refused := faults.New(faults.InvalidInput, "no such object")
		_, err := New(Options{}).Send(t.Context(), Request{Name: "PUT batches", Method: http.MethodPut, URL: srv.URL,
			Upload: func() (io.ReadCloser, error) { return nil, refused }})
		if !errors.Is(err, refused) {
			t.Errorf("got %v, want the opener's error", err)
		}
		if got := u.requests.Load(); got != 0 {
			t.Errorf("got %d requests, want none", got)
		}
	})
}

// TestTransferLimits: a request's own timeout and body cap replace the
// client's.
func TestTransferLimits(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 4096)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			<-release
		}
		w.Write(big)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	c := New(Options{MaxBodyBytes: 1024, MaxAttempts: 1})
	read := func(body io.Reader) (any, error) { return io.Copy(io.Discard, body) }

	if _, err := c.Send(t.Context(), Request{Name: "GET", Method: http.MethodGet, URL: srv.URL, Idempotent: true, Read: read}); faults.CodeOf(err) != faults.UnknownError {
		t.Errorf("under the client's cap: got %v, want UNKNOWN_ERROR for a body over 1024 bytes", err)
	}
	resp, err := c.Send(t.Context(), Request{Name: "GET", Method: http.MethodGet, URL: srv.URL, Idempotent: true, Read: read, MaxBodyBytes: -1})
	if err != nil || resp.Value != int64(len(big)) {
		t.Errorf("without a cap: got %v %v, want %d bytes read", resp, err, len(big))
	}
	_, err = c.Send(t.Context(), Request{Name: "GET", Method: http.MethodGet, URL: srv.URL + "/slow", Idempotent: true, Timeout: 50 * time.Millisecond})
	if got := faults.CodeOf(err); got != faults.RequestTimeout {
		t.Errorf("with a 50ms timeout: got %q (%v), want REQUEST_TIMEOUT", got, err)
	}
}
