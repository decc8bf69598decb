package moto

import (
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
)

// Serial is a loopback proxy in front of a moto_server that passes one
// request at a time, and counts them. DynamoDB applies each conditional write
// atomically; moto serves requests on threads without locking the item, and was
// seen to let two of twenty simultaneous attribute_not_exists writes succeed.
// Serialised, it behaves as DynamoDB does, so whatever counts the winners of a
// conditional write (tests, the chaos soak) talks to moto through one.
type Serial struct {
	URL string // the proxy's endpoint, e.g. http://127.0.0.1:40123

	srv      *http.Server
	done     chan struct{}
	requests atomic.Int64
}

// NewSerial starts a serialising proxy to the moto_server at target.
func NewSerial(target string) (*Serial, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	// A client that gave up (a call's timeout) is no news: answer it quietly.
	proxy.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, _ error) { w.WriteHeader(http.StatusBadGateway) }
	s := &Serial{URL: "http://" + ln.Addr().String(), done: make(chan struct{})}
	var mu sync.Mutex
	s.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		s.requests.Add(1)
		proxy.ServeHTTP(w, r)
	})}
	go func() {
		defer close(s.done)
		s.srv.Serve(ln) //nolint:errcheck // ends with Close
	}()
	return s, nil
}

// Requests is how many requests the proxy passed on.
func (s *Serial) Requests() int64 { return s.requests.Load() }

// Close stops the proxy.
func (s *Serial) Close() error {
	err := s.srv.Close()
	<-s.done
	return err
}
