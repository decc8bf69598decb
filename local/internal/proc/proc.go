// Package proc runs the local stand-ins for AWS (aws-lambda-rie, moto_server)
// as child processes: each in its own process group, so that stopping it also
// ends whatever it forked and a Ctrl-C in the terminal reaches only our
// process, which then stops it; on free loopback ports, started again when a
// port was taken; ready once it answers HTTP.
package proc

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"strconv"
	"sync"
	"time"
)

// Process is a started child process.
type Process struct {
	cmd  *exec.Cmd
	done chan struct{}
	stop sync.Once
}

// Start starts cmd in its own process group.
func Start(cmd *exec.Cmd) (*Process, error) {
	newProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Process{cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Exited is closed once the process has exited.
func (p *Process) Exited() <-chan struct{} { return p.done }

// WaitHTTP asks url with client every interval until an HTTP answer comes
// from this process. It fails when the process exits first or ctx ends.
//
// The answer must come from this process, not just from the port: ports are
// picked by binding and releasing them (FreePorts), so another process may
// take one in between, answer, and close it later; the child meanwhile fails
// to bind and exits, and Retry starts it on other ports.
func (p *Process) WaitHTTP(ctx context.Context, client *http.Client, rawURL string, every time.Duration) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return err
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		return fmt.Errorf("no port in %s", rawURL)
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
		if err != nil {
			return err
		}
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if listens(p.cmd.Process.Pid, port) {
				return nil
			}
		}
		select {
		case <-p.done:
			return fmt.Errorf("exited during start-up: %v", p.cmd.ProcessState)
		case <-ctx.Done():
			return fmt.Errorf("did not answer on %s: %w", rawURL, ctx.Err())
		case <-tick.C:
		}
	}
}

// Stop kills the process and its group and waits for the process to exit.
// Later calls do nothing.
func (p *Process) Stop() {
	p.stop.Do(func() {
		killProcessGroup(p.cmd)
		<-p.done
	})
}

// Retry calls start up to attempts times, until it succeeds or ctx ends, and
// returns its last error. A child's ports are picked by binding and releasing
// them (FreePorts), so another process may take one in between; the child
// then exits at once, and the next attempt picks other ports.
func Retry[T any](ctx context.Context, attempts int, start func() (T, error)) (T, error) {
	var (
		v   T
		err error
	)
	for range attempts {
		if v, err = start(); err == nil || ctx.Err() != nil {
			break
		}
	}
	return v, err
}

// FreePorts asks the kernel for n distinct free loopback ports.
func FreePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close() // held until all are picked, so they differ
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
