package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/sfconnect/connector/local/demo/stack"
	"github.com/sfconnect/connector/sforg"
	"github.com/sfconnect/connector/shared/connector"
)

// concurrentLogins starts a fresh connector in this process, configured as a
// function is (the secret read from moto), and sends it 50 GETs at once while
// the org's login answers slowly, so that all of them wait for the session
// together. One execution environment serves one invoke at a time; 50 callers
// at once is what a library user (or a future multi-concurrency runtime) does.
func concurrentLogins(ctx context.Context, w *world, t *table) error {
	const callers = 50
	conn, err := inProcess(w)
	if err != nil {
		return err
	}
	if err := w.org.Inject(sforg.Fault{Route: sforg.RouteToken, Kind: sforg.FaultLatency, Delay: 200 * time.Millisecond, Times: 1}); err != nil {
		return err
	}
	defer w.org.ClearFaults()
	before := w.org.Logins()
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Go(func() {
			if _, err := conn.Get(ctx, w.event); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		return fmt.Errorf("concurrent GET: %w", err)
	}
	n := w.org.Logins() - before
	t.add(row{Section: "Logins", Figure: fmt.Sprintf("logins for %d concurrent callers of one fresh connector (login answering in 200 ms)", callers),
		Value: fmt.Sprint(n), Target: "1", Met: met(n == 1)})
	return nil
}

// inProcess returns a new connector in this process, configured as the
// functions are (the secret read from moto), with its log lines discarded.
func inProcess(w *world) (*connector.Connector, error) { return inProcessWith(w, stack.SecretName) }

// inProcessWith is inProcess reading the secret of that name.
func inProcessWith(w *world, secret string) (*connector.Connector, error) {
	env := stack.FunctionEnv(secret, w.moto)
	return connector.FromEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }, io.Discard)
}
