// Command invoke runs one connector function once, the way `sam local invoke`
// does but without Docker: it builds functions/<fn> for the host, starts it
// under the Lambda Runtime Interface Emulator with the variables of a SAM
// --env-vars file, sends one event and prints the response.
//
//	go run ./local/invoke -fn get -event events/get.json -env-vars events/env.json
//
// When the env file points the functions at a loopback address where nothing
// listens (events/env.json uses 127.0.0.1:8080), it starts a local org there
// for the duration of the call, with the env file's credentials. That org
// starts empty and forgets everything on exit; run `go run ./local/sforg` in
// another terminal for one that keeps its records between calls.
//
// Exit status: 0 for a result, 1 for a function error or timeout, 2 when the
// call could not be made.
package main

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/sfconnect/connector/local/rie"
	"github.com/sfconnect/connector/sforg"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// config is the parsed command line.
type config struct {
	fn       string
	pkg      string
	dir      string
	event    string
	envVars  string
	build    bool
	timeout  time.Duration
	startOrg bool
	quiet    bool
}

var validName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("invoke", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.fn, "fn", "", "function to run: the name of a functions/<name> directory (required)")
	fs.StringVar(&c.pkg, "pkg", "", "package to build instead of ./functions/<fn>")
	fs.StringVar(&c.dir, "dir", "", "directory the function's bootstrap is built into or taken from (default build/<fn>)")
	fs.StringVar(&c.event, "event", "", "event file, or - for stdin (default events/<fn>.json)")
	fs.StringVar(&c.envVars, "env-vars", "events/env.json", "SAM --env-vars file: {\"Parameters\": {...}} and/or {\"<LogicalId>\": {...}}")
	fs.BoolVar(&c.build, "build", true, "build build/<fn>/bootstrap for the host first; false uses the existing one")
	fs.DurationVar(&c.timeout, "timeout", 30*time.Second, "function timeout, as Timeout in template.yaml")
	fs.BoolVar(&c.startOrg, "start-org", true, "start a local org when the env file points at a loopback address where nothing listens")
	fs.BoolVar(&c.quiet, "quiet", false, "do not copy the emulator's and the function's logs to stderr")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if !validName.MatchString(c.fn) {
		return c, fmt.Errorf("-fn: want the name of a functions/<name> directory, got %q", c.fn)
	}
	if c.event == "" {
		c.event = filepath.Join("events", c.fn+".json")
	}
	if c.pkg == "" {
		c.pkg = "./functions/" + c.fn
	}
	return c, nil
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "invoke:", err)
		return 2
	}
	res, err := invoke(ctx, c, stdin, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "invoke:", err)
		return 2
	}
	stdout.Write(bytes.TrimRight(res.Body, "\n"))
	fmt.Fprintln(stdout)
	if res.Failed() {
		if res.ErrorType != "" {
			fmt.Fprintf(stderr, "invoke: %s failed with %s\n", c.fn, res.ErrorType)
		} else {
			fmt.Fprintf(stderr, "invoke: %s failed (status %d)\n", c.fn, res.Status)
		}
		return 1
	}
	return 0
}

func invoke(ctx context.Context, c config, stdin io.Reader, stderr io.Writer) (rie.InvokeResult, error) {
	root, err := rie.ModuleRoot()
	if err != nil {
		return rie.InvokeResult{}, err
	}
	event, err := readEvent(c.event, stdin)
	if err != nil {
		return rie.InvokeResult{}, err
	}
	env, err := readEnvVars(c.envVars, c.fn)
	if err != nil {
		return rie.InvokeResult{}, err
	}

	dir := c.dir
	if dir == "" {
		dir = filepath.Join(root, "build", c.fn)
	}
	bootstrap := filepath.Join(dir, "bootstrap")
	if c.build {
		if bootstrap, err = rie.Build(ctx, c.pkg, dir); err != nil {
			return rie.InvokeResult{}, err
		}
	} else if err := checkHostBinary(bootstrap); err != nil {
		return rie.InvokeResult{}, err
	}

	if c.startOrg {
		org, err := startOrgIfAbsent(env, stderr)
		if err != nil {
			return rie.InvokeResult{}, err
		}
		if org != nil {
			defer org.Close()
		}
	}

	logs := &gate{w: stderr}
	opts := rie.Options{Bootstrap: bootstrap, FunctionName: c.fn, Timeout: c.timeout, Env: env}
	if !c.quiet {
		opts.Log = logs
	}
	em, err := rie.Start(ctx, opts)
	if err != nil {
		return rie.InvokeResult{}, err
	}
	defer em.Close()
	defer logs.off() // the function's complaints about the emulator going away are noise
	return em.Invoke(ctx, event)
}

// gate is a writer that can be switched off.
type gate struct {
	mu     sync.Mutex
	w      io.Writer
	closed bool
}

func (g *gate) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return len(p), nil
	}
	return g.w.Write(p)
}

func (g *gate) off() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed = true
}

func readEvent(path string, stdin io.Reader) ([]byte, error) {
	var (
		event []byte
		err   error
	)
	if path == "-" {
		event, err = io.ReadAll(stdin)
	} else {
		event, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("event: %w", err)
	}
	if !json.Valid(event) {
		return nil, fmt.Errorf("event %s is not valid JSON", path)
	}
	return event, nil
}

// readEnvVars reads a SAM --env-vars file: variables under "Parameters" apply
// to every function, variables under a function's logical id (GetFunction) or
// its directory name (get) override them for that function. SAM allows
// numbers and booleans as values; they are passed on as their JSON text.
func readEnvVars(path, fn string) (map[string]string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("env vars: %w", err)
	}
	var file map[string]map[string]json.RawMessage
	if err := json.Unmarshal(raw, &file); err != nil {
		return nil, fmt.Errorf("env vars %s: want {\"Parameters\": {\"NAME\": \"value\"}}: %w", path, err)
	}
	env := map[string]string{}
	for _, section := range []string{"Parameters", logicalID(fn), fn} {
		for k, v := range file[section] {
			var s string
			switch {
			case bytes.Equal(v, []byte("null")):
				continue
			case json.Unmarshal(v, &s) == nil:
				env[k] = s
			default:
				env[k] = string(v)
			}
		}
	}
	return env, nil
}

// logicalID is the function's logical id in template.yaml:
// approval-submit -> ApprovalSubmitFunction.
func logicalID(fn string) string {
	var b strings.Builder
	for part := range strings.SplitSeq(fn, "-") {
		if part == "" {
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String() + "Function"
}

// checkHostBinary refuses a bootstrap built for another architecture (make
// build targets arm64 by default), which would fail with a confusing exec error.
func checkHostBinary(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("%s: %w (build it or drop -build=false)", path, err)
	}
	defer f.Close()
	want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[runtime.GOARCH]
	if f.Machine != want {
		return fmt.Errorf("%s is built for %v, this host is %s: run `make build GOARCH=%s` or drop -build=false", path, f.Machine, runtime.GOARCH, runtime.GOARCH)
	}
	return nil
}

// orgAddr returns the loopback host:port both login URLs point at, if they do.
func orgAddr(env map[string]string) (string, bool) {
	var addr string
	for _, key := range []string{"SALESFORCE_URL_LOGIN", "SALESFORCE_SOAP_URL_LOGIN"} {
		u, err := url.Parse(env[key])
		if err != nil || u.Scheme != "http" || u.Port() == "" {
			return "", false
		}
		if ip := net.ParseIP(u.Hostname()); u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return "", false
		}
		if addr != "" && addr != u.Host {
			return "", false
		}
		addr = u.Host
	}
	return addr, true
}

// startOrgIfAbsent starts a local org where the env file expects one and none
// runs, with the env file's credentials so the login succeeds.
func startOrgIfAbsent(env map[string]string, stderr io.Writer) (*sforg.Server, error) {
	addr, ok := orgAddr(env)
	if !ok {
		return nil, nil
	}
	if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		conn.Close()
		return nil, nil // someone's org (or something else) is there: use it
	}
	host, port, _ := net.SplitHostPort(addr)
	if host == "localhost" {
		host = "127.0.0.1"
	}
	org, err := sforg.Listen(net.JoinHostPort(host, port), sforg.Options{
		ClientID:      env["SALESFORCE_CLIENT_ID"],
		ClientSecret:  env["SALESFORCE_CLIENT_SECRET"],
		Username:      env["SALESFORCE_USERNAME"],
		Password:      env["SALESFORCE_PASSWORD"],
		SecurityToken: env["SALESFORCE_SECURITY_TOKEN"],
	})
	if err != nil {
		return nil, fmt.Errorf("start a local org on %s: %w", addr, err)
	}
	fmt.Fprintf(stderr, "invoke: started an empty local org on %s for this call (run `go run ./local/sforg` for one that keeps its data)\n", org.URL)
	return org, nil
}
