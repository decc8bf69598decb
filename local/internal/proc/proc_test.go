//go:build linux

package proc

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRetry(t *testing.T) {
	errTaken := errors.New("port taken")
	tests := []struct {
		name      string
		failures  int // calls that fail before one succeeds
		cancel    bool
		wantCalls int
		wantErr   error
	}{
		{name: "first try", failures: 0, wantCalls: 1},
		{name: "third try", failures: 2, wantCalls: 3},
		{name: "gives up", failures: 5, wantCalls: 3, wantErr: errTaken},
		{name: "context ended", failures: 5, cancel: true, wantCalls: 1, wantErr: errTaken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			if tt.cancel {
				cancel()
			}
			calls := 0
			v, err := Retry(ctx, 3, func() (int, error) {
				calls++
				if calls <= tt.failures {
					return 0, errTaken
				}
				return calls, nil
			})
			if calls != tt.wantCalls || !errors.Is(err, tt.wantErr) {
				t.Errorf("got %d calls, error %v; want %d, %v", calls, err, tt.wantCalls, tt.wantErr)
			}
			if err == nil && v != calls {
				t.Errorf("got value %d, want %d", v, calls)
			}
		})
	}
}

func TestFreePorts(t *testing.T) {
	ports, err := FreePorts(3)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range ports {
		if p <= 0 || seen[p] {
			t.Errorf("got ports %v, want three distinct ones", ports)
		}
		seen[p] = true
	}
}

// start runs a shell command as a Process that the test stops. Its output
// goes through a pipe, which a forked child left alive would hold open.
func start(t *testing.T, script string) *Process {
	t.Helper()
	return startWriting(t, script, &bytes.Buffer{})
}

func startWriting(t *testing.T, script string, out io.Writer) *Process {
	t.Helper()
	cmd := exec.Command("sh", "-c", script)
	cmd.Stdout = out
	p, err := Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	return p
}

// TestMain lets the test binary be a child that serves HTTP: with
// PROC_TEST_SERVE=addr it answers 404 on addr until killed.
func TestMain(m *testing.M) {
	if addr := os.Getenv("PROC_TEST_SERVE"); addr != "" {
		_ = http.ListenAndServe(addr, http.NotFoundHandler())
		os.Exit(1)
	}
	os.Exit(m.Run())
}

func TestWaitHTTP(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	ports, err := FreePorts(2)
	if err != nil {
		t.Fatal(err)
	}
	nobody := "http://127.0.0.1:" + strconv.Itoa(ports[0]) + "/"

	t.Run("answers", func(t *testing.T) {
		addr := "127.0.0.1:" + strconv.Itoa(ports[1])
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "PROC_TEST_SERVE="+addr)
		p, err := Start(cmd)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Stop)
		if err := p.WaitHTTP(t.Context(), http.DefaultClient, "http://"+addr+"/", 10*time.Millisecond); err != nil {
			t.Errorf("got %v, want the child's 404 taken as an answer", err)
		}
	})
	t.Run("another process answers on the port", func(t *testing.T) {
		// The child never listens; the answers come from this test's server.
		// They must not count: the child exits and WaitHTTP says so.
		p := start(t, "sleep 0.5; exit 3")
		err := p.WaitHTTP(t.Context(), srv.Client(), srv.URL+"/", 10*time.Millisecond)
		if err == nil || !strings.Contains(err.Error(), "exited during start-up") {
			t.Errorf("got %v, want another process's answers ignored until the child exits", err)
		}
	})
	t.Run("exits first", func(t *testing.T) {
		p := start(t, "exit 3")
		err := p.WaitHTTP(t.Context(), http.DefaultClient, nobody, 10*time.Millisecond)
		if err == nil || !strings.Contains(err.Error(), "exited during start-up") {
			t.Errorf("got %v, want it to report the exit", err)
		}
	})
	t.Run("context ends", func(t *testing.T) {
		p := start(t, "sleep 60")
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		err := p.WaitHTTP(ctx, http.DefaultClient, nobody, 10*time.Millisecond)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want context.Canceled", err)
		}
	})
}

// firstWrite is closed on the first write to it.
type firstWrite struct {
	once sync.Once
	c    chan struct{}
}

func (w *firstWrite) Write(b []byte) (int, error) {
	w.once.Do(func() { close(w.c) })
	return len(b), nil
}

// Stop ends the whole group: the shell's forked sleep would otherwise hold the
// output pipe open, and Stop would wait for it.
func TestStopEndsTheGroup(t *testing.T) {
	forked := &firstWrite{c: make(chan struct{})}
	p := startWriting(t, "sleep 60 & echo forked; wait", forked)
	<-forked.c
	stopped := make(chan struct{})
	go func() {
		p.Stop()
		p.Stop() // a second Stop does nothing
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(30 * time.Second): // a guard against hanging, not a timing
		t.Fatal("Stop did not return: the forked sleep outlived it")
	}
	select {
	case <-p.Exited():
	default:
		t.Error("got Exited open after Stop, want it closed")
	}
}

func TestListed(t *testing.T) {
	// Two rows of a /proc/net/tcp table: one socket listening on 127.0.0.1:45999
	// (0xB3AF) with inode 215797, one connection on the same port.
	table := `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   1: 0100007F:B3AF 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 215797 1 000000001d0e31c1 100 0 0 10 0
   2: 0100007F:B3AF 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 215900 1 0000000000000000 20 4 30 10 -1
`
	tests := []struct {
		name   string
		port   int
		inodes map[string]bool
		want   bool
	}{
		{"its listening socket", 45999, map[string]bool{"215797": true}, true},
		{"another process's socket", 45999, map[string]bool{"1": true}, false},
		{"its connection, not a listener", 45999, map[string]bool{"215900": true}, false},
		{"another port", 46000, map[string]bool{"215797": true}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := listed(bufio.NewScanner(strings.NewReader(table)), tt.port, tt.inodes); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
