package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sfconnect/connector/local/demo/stack"
	"github.com/sfconnect/connector/local/moto"
	"github.com/sfconnect/connector/local/rie"
	"github.com/sfconnect/connector/sforg"
)

// options are the command line's choices.
type options struct {
	keep    bool
	verbose bool
	addr    string    // the org's listen address; "" picks a free loopback port
	http    bool      // plain HTTP instead of HTTPS
	out     io.Writer // the story
	log     io.Writer // progress of the set-up, function logs with -v
	// process has the org process its closed Bulk API 2.0 jobs: the demo's
	// org waits for the story to say when (up sets it).
	process func() int
}

// summary is what a run proved.
type summary struct {
	Steps     int // steps run
	Passed    int
	Functions int // function environments the story used
	Logins    int // sessions the org issued
	Total     time.Duration
}

// run starts the org, moto and the functions, tells the story and stops
// everything again (with -keep, only once ctx is done).
func run(ctx context.Context, o options) (summary, error) {
	e, err := up(ctx, o)
	if err != nil {
		return summary{}, err
	}
	defer e.close()
	o.process = e.org.ProcessBulk

	sum, err := tell(ctx, o, story, e.functions, e.logs)
	sum.Logins = e.org.Logins()
	fmt.Fprintf(o.out, "\n%d of %d steps passed in %d ms of invokes; the org saw %d logins from %d function environments",
		sum.Passed, sum.Steps, sum.Total.Milliseconds(), sum.Logins, sum.Functions)
	if err == nil && sum.Logins != sum.Functions {
		err = fmt.Errorf("the org saw %d logins, want one per function environment (%d): a function did not reuse its session", sum.Logins, sum.Functions)
	}
	if err == nil {
		fmt.Fprintln(o.out, " (one each: every later invoke reused its session)")
	} else {
		fmt.Fprintln(o.out)
	}

	if o.keep {
		keep(ctx, o.out, e)
	}
	return sum, err
}

// env is everything the demo started.
type env struct {
	org       *sforg.Server
	moto      *moto.Server
	dir       string // the built functions
	functions map[string]*rie.Emulator
	logs      map[string]*logBuffer
}

// up starts the org, moto with the secret, and every function under its
// emulator, and prints what runs where. On error it stops what it started.
func up(ctx context.Context, o options) (_ *env, err error) {
	setup := time.Now()
	e := &env{}
	defer func() {
		if err != nil {
			e.close()
		}
	}()

	addr := o.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if e.dir, err = os.MkdirTemp("", "sfconnect-demo-"); err != nil {
		return nil, err
	}
	// HTTPS with the org's own CA, kept beside the build: the functions trust
	// it through SSL_CERT_FILE, as Go's crypto/x509 reads it on Linux.
	orgOpts := sforg.Options{TLS: !o.http, Bulk: sforg.BulkOptions{Manual: true}}
	if orgOpts.TLS {
		orgOpts.CADir = filepath.Join(e.dir, "ca")
	}
	if e.org, err = sforg.Listen(addr, orgOpts); err != nil {
		return nil, fmt.Errorf("start the org: %w", err)
	}
	if e.moto, err = moto.Start(ctx, nil); err != nil {
		return nil, err
	}
	secret, err := stack.SecretString(e.org.Settings())
	if err != nil {
		return nil, err
	}
	if err := e.moto.CreateSecret(ctx, stack.SecretName, secret); err != nil {
		return nil, err
	}
	if err := bulkSource(ctx, e.moto); err != nil {
		return nil, err
	}

	// Every function is built and started, so that -keep offers them all;
	// the story uses all but approval-reject.
	names, err := stack.Functions()
	if err != nil {
		return nil, err
	}
	build := time.Now()
	bootstraps, err := stack.Build(ctx, e.dir, names)
	if err != nil {
		return nil, err
	}
	buildTime := time.Since(build)

	e.logs = map[string]*logBuffer{}
	for _, n := range names {
		e.logs[n] = &logBuffer{name: n}
		if o.verbose {
			e.logs[n].tee = o.log
		}
	}
	start := time.Now()
	fnEnv := stack.FunctionEnv(stack.SecretName, e.moto)
	if ca := e.org.CAFile(); ca != "" {
		fnEnv["SSL_CERT_FILE"] = ca
	}
	e.functions, err = stack.Start(ctx, bootstraps, fnEnv, func(name string) io.Writer { return e.logs[name] })
	if err != nil {
		return nil, fmt.Errorf("start the functions: %w", err)
	}

	tls := ""
	if e.org.CAFile() != "" {
		tls = ", its own CA trusted by the functions through SSL_CERT_FILE"
	}
	fmt.Fprintf(o.out, "Salesforce org   %s (local emulator, org %s%s)\n", e.org.URL, sforg.OrgID, tls)
	fmt.Fprintf(o.out, "Secrets Manager  %s (moto), secret %s holds the org's 8 SALESFORCE_* settings\n", e.moto.URL, stack.SecretName)
	fmt.Fprintf(o.out, "Lambda           %d functions built for %s/%s in %d ms, each under aws-lambda-rie with SALESFORCE_SECRET_ID=%s (up in %d ms)\n",
		len(names), runtime.GOOS, runtime.GOARCH, buildTime.Milliseconds(), stack.SecretName, time.Since(start).Milliseconds())
	fmt.Fprintf(o.out, "Set-up           %d ms\n\n", time.Since(setup).Milliseconds())
	return e, nil
}

// close stops the functions, moto and the org and removes the build.
func (e *env) close() {
	for _, l := range e.logs {
		l.off() // what the functions say while being killed is noise
	}
	stack.Stop(e.functions)
	if e.moto != nil {
		e.moto.Close()
	}
	if e.org != nil {
		e.org.Close()
	}
	if e.dir != "" {
		os.RemoveAll(e.dir)
	}
}

// keep prints how to reach what is running and waits for ctx to end.
func keep(ctx context.Context, out io.Writer, e *env) {
	org, secrets, functions := e.org, e.moto, e.functions
	fmt.Fprintf(out, "\nStill running (-keep); Ctrl-C stops everything.\n\nThe org's settings:\n")
	settings := org.Settings()
	keys := make([]string, 0, len(settings))
	for k := range settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(out, "  %s=%s\n", k, settings[k])
	}
	fmt.Fprintf(out, "  control plane: %s/__sforg/counters, /__sforg/faults, /__sforg/reset\n", org.URL)
	fmt.Fprintf(out, "\nSecrets Manager: AWS_ENDPOINT_URL_SECRETS_MANAGER=%s (credentials test/test, region %s), secret %s\n", secrets.URL, moto.Region, stack.SecretName)
	fmt.Fprintf(out, "\nFunctions (invoke one: curl -d @events/approval-list.json <URL>):\n")
	names := make([]string, 0, len(functions))
	for n := range functions {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(out, "  %-22s %s\n", n, functions[n].URL)
	}
	<-ctx.Done()
}

// logBuffer keeps one function's output for the failure report and, with -v,
// copies it line by line to tee with the function's name in front.
type logBuffer struct {
	name string
	tee  io.Writer

	mu      sync.Mutex
	buf     bytes.Buffer
	partial []byte
	closed  bool
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return len(p), nil
	}
	l.buf.Write(p)
	if l.tee != nil {
		l.partial = append(l.partial, p...)
		for {
			i := bytes.IndexByte(l.partial, '\n')
			if i < 0 {
				break
			}
			fmt.Fprintf(l.tee, "    [%s] %s\n", l.name, l.partial[:i])
			l.partial = l.partial[i+1:]
		}
	}
	return len(p), nil
}

func (l *logBuffer) off() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
}

// tail returns the last lines written.
func (l *logBuffer) tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	lines := strings.Split(strings.TrimRight(l.buf.String(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// errStep marks a step that ran and failed, as opposed to an invoke that could
// not be made.
var errStep = errors.New("step failed")
