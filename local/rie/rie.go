// Package rie runs a Lambda bootstrap natively under the AWS Lambda Runtime
// Interface Emulator: the same runtime API `sam local invoke` gives a function
// inside its container, without Docker. Tests, `make invoke` and the demo use it
// so that every local run goes through the real aws-lambda-go invoke loop,
// including how errors become errorType and how the deadline is enforced.
package rie

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sfconnect/connector/local/internal/proc"
)

// InstallCommand is how the pinned emulator gets into <module root>/bin.
const InstallCommand = "GOBIN=$(pwd)/bin go install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d"

// ErrNotInstalled reports that no aws-lambda-rie binary was found.
var ErrNotInstalled = errors.New("aws-lambda-rie not found (set AWS_LAMBDA_RIE or run: " + InstallCommand + ")")

// invokePath is the emulator's one invoke endpoint; the function name in it is fixed.
const invokePath = "/2015-03-31/functions/function/invocations"

// maxBody bounds what is read from an invoke response; Lambda itself caps
// synchronous responses at 6 MB.
const maxBody = 16 << 20

// Options describe one emulated function.
type Options struct {
	// Bootstrap is the path of the function's executable (required).
	Bootstrap string
	// FunctionName becomes AWS_LAMBDA_FUNCTION_NAME; default: the name of the
	// bootstrap's directory (build/get/bootstrap -> "get").
	FunctionName string
	// Timeout is the function timeout, rounded up to whole seconds as Lambda
	// configures it (AWS_LAMBDA_FUNCTION_TIMEOUT); default 30s, as in template.yaml.
	Timeout time.Duration
	// MemoryMB becomes AWS_LAMBDA_FUNCTION_MEMORY_SIZE; default 128, as in template.yaml.
	MemoryMB int
	// Env is the function's configuration. Like a container, the function sees
	// only these variables plus the AWS_LAMBDA_* ones and PATH, TZ and a region:
	// nothing leaks in from the caller's shell.
	Env map[string]string
	// Binary is the emulator executable; default $AWS_LAMBDA_RIE, then
	// <module root>/bin/aws-lambda-rie, then aws-lambda-rie on PATH.
	Binary string
	// Log receives the emulator's and the function's output; nil discards it.
	Log io.Writer
}

// InvokeResult is one invoke's outcome as the emulator reported it.
type InvokeResult struct {
	Status int    // HTTP status: 200 for results and typed errors, 502 for a crash
	Body   []byte // the raw response body
	// ErrorType and ErrorMessage are set when the body is {"errorType","errorMessage"}.
	ErrorType    string
	ErrorMessage string
	// TimedOut is set when the function outlived its timeout; the emulator then
	// answers in plain text ("Task timed out after N seconds").
	TimedOut bool
}

// Failed reports whether the function did not return a result.
func (r InvokeResult) Failed() bool {
	return r.ErrorType != "" || r.TimedOut || r.Status != http.StatusOK
}

// Emulator is one running aws-lambda-rie process serving one function.
type Emulator struct {
	// URL is the invoke endpoint, for clients other than Invoke (the Node harness).
	URL string

	proc   *proc.Process
	client *http.Client

	invokeMu sync.Mutex // the emulator crashes on overlapping invokes
}

// Start runs the emulator for opts.Bootstrap on two free loopback ports and
// returns once it answers HTTP. ctx bounds the start-up only; the process
// lives until Close.
func Start(ctx context.Context, opts Options) (*Emulator, error) {
	if opts.Bootstrap == "" {
		return nil, errors.New("rie: no bootstrap given")
	}
	bootstrap, err := filepath.Abs(opts.Bootstrap)
	if err != nil {
		return nil, fmt.Errorf("rie: %w", err)
	}
	if _, err := os.Stat(bootstrap); err != nil {
		return nil, fmt.Errorf("rie: bootstrap: %w", err)
	}
	binary, err := findBinary(opts.Binary)
	if err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
	}
	// A port taken between picking and binding makes the emulator exit at
	// once; proc.Retry then starts it on others.
	return proc.Retry(ctx, 3, func() (*Emulator, error) { return start(ctx, binary, bootstrap, opts) })
}

func start(ctx context.Context, binary, bootstrap string, opts Options) (*Emulator, error) {
	ports, err := proc.FreePorts(2)
	if err != nil {
		return nil, fmt.Errorf("rie: %w", err)
	}
	emulatorAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
	runtimeAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1]))

	cmd := exec.Command(binary,
		"--runtime-interface-emulator-address", emulatorAddr,
		"--runtime-api-address", runtimeAddr,
		bootstrap)
	cmd.Dir = filepath.Dir(bootstrap)
	cmd.Env = environment(bootstrap, opts)
	log := opts.Log
	if log == nil {
		log = io.Discard
	}
	cmd.Stdout, cmd.Stderr = log, log
	p, err := proc.Start(cmd)
	if err != nil {
		return nil, fmt.Errorf("rie: start %s: %w", binary, err)
	}
	e := &Emulator{URL: "http://" + emulatorAddr + invokePath, proc: p, client: &http.Client{}}
	// The root is a path the emulator answers with 404 without starting the
	// function, so readiness costs no invoke.
	if err := p.WaitHTTP(ctx, e.client, "http://"+emulatorAddr+"/", 10*time.Millisecond); err != nil {
		e.Close()
		return nil, fmt.Errorf("rie: emulator %w", err)
	}
	return e, nil
}

// Invoke sends one event and waits for the function's answer. Concurrent calls
// are queued. The error is non-nil only when no answer came back; a function
// error is reported in the result.
func (e *Emulator) Invoke(ctx context.Context, payload []byte) (InvokeResult, error) {
	e.invokeMu.Lock()
	defer e.invokeMu.Unlock()
	select {
	case <-e.proc.Exited():
		return InvokeResult{}, errors.New("rie: emulator is not running")
	default:
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.URL, bytes.NewReader(payload))
	if err != nil {
		return InvokeResult{}, fmt.Errorf("rie: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.client.Do(req)
	if err != nil {
		return InvokeResult{}, fmt.Errorf("rie: invoke: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return InvokeResult{}, fmt.Errorf("rie: read response: %w", err)
	}
	return parseResult(resp.StatusCode, body), nil
}

// parseResult recognises the emulator's two failure shapes: a JSON error
// object (typed errors, panics) and the plain-text timeout notice.
func parseResult(status int, body []byte) InvokeResult {
	r := InvokeResult{Status: status, Body: body}
	if bytes.HasPrefix(body, []byte("Task timed out")) {
		r.TimedOut = true
		r.ErrorMessage = string(body)
		return r
	}
	var fault struct {
		ErrorType    *string `json:"errorType"`
		ErrorMessage string  `json:"errorMessage"`
	}
	if bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")) && json.Unmarshal(body, &fault) == nil && fault.ErrorType != nil {
		r.ErrorType, r.ErrorMessage = *fault.ErrorType, fault.ErrorMessage
	}
	return r
}

// Close stops the emulator and the function it started, and waits for both.
func (e *Emulator) Close() error {
	e.proc.Stop()
	e.client.CloseIdleConnections()
	return nil
}

func environment(bootstrap string, opts Options) []string {
	name := opts.FunctionName
	if name == "" {
		name = filepath.Base(filepath.Dir(bootstrap))
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	seconds := int((timeout + time.Second - 1) / time.Second)
	memory := opts.MemoryMB
	if memory <= 0 {
		memory = 128
	}
	env := map[string]string{
		"PATH":                            os.Getenv("PATH"),
		"TZ":                              ":UTC",
		"AWS_REGION":                      "us-east-1",
		"AWS_DEFAULT_REGION":              "us-east-1",
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_NAME":        name,
		"AWS_LAMBDA_FUNCTION_TIMEOUT":     strconv.Itoa(seconds),
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(memory),
	}
	for k, v := range opts.Env {
		env[k] = v
	}
	// This variable switches the emulator into a mode that ignores the bootstrap.
	delete(env, "AWS_LAMBDA_MAX_CONCURRENCY")
	list := make([]string, 0, len(env))
	for k, v := range env {
		list = append(list, k+"="+v)
	}
	sort.Strings(list)
	return list
}

func findBinary(explicit string) (string, error) {
	if explicit != "" {
		return explicit, nil
	}
	if p := os.Getenv("AWS_LAMBDA_RIE"); p != "" {
		return p, nil
	}
	if root, err := ModuleRoot(); err == nil {
		p := filepath.Join(root, "bin", "aws-lambda-rie")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath("aws-lambda-rie"); err == nil {
		return p, nil
	}
	return "", ErrNotInstalled
}

// ModuleRoot returns the nearest directory at or above the working directory
// that holds a go.mod: the repository root, whichever package's test runs.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("rie: no go.mod at or above the working directory")
		}
		dir = parent
	}
}

// Build compiles a function package for the host into dir/bootstrap the way
// `make build` does for Lambda (static, lambda.norpc), and returns its path.
// pkg is a package path relative to the module root, e.g. "./functions/get".
func Build(ctx context.Context, pkg, dir string) (string, error) {
	out, err := filepath.Abs(filepath.Join(dir, "bootstrap"))
	if err != nil {
		return "", err
	}
	if err := goBuild(ctx, nil, out, []string{pkg}, nil); err != nil {
		return "", fmt.Errorf("rie: go build %s: %w", pkg, err)
	}
	return out, nil
}

// BuildAll compiles packages (paths relative to the module root, e.g.
// "./functions/get") for goos/goarch in one go build, the way `make build` does
// for Lambda (static, BuildFlags, then flags), and places
// each at dir/<base name>/bootstrap, the layout of a Lambda deployment package.
// It returns the bootstrap paths by base name.
func BuildAll(ctx context.Context, dir, goos, goarch string, pkgs []string, flags ...string) (map[string]string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	out := filepath.Join(dir, ".bin") + string(filepath.Separator)
	if err := goBuild(ctx, []string{"GOOS=" + goos, "GOARCH=" + goarch}, out, pkgs, flags); err != nil {
		return nil, fmt.Errorf("go build for %s/%s: %w", goos, goarch, err)
	}
	paths := make(map[string]string, len(pkgs))
	for _, p := range pkgs {
		name := filepath.Base(p)
		bootstrap := filepath.Join(dir, name, "bootstrap")
		if err := os.MkdirAll(filepath.Dir(bootstrap), 0o755); err != nil {
			return nil, err
		}
		if err := os.Rename(filepath.Join(out, name), bootstrap); err != nil {
			return nil, err
		}
		paths[name] = bootstrap
	}
	return paths, os.Remove(out)
}

// BuildFlags are the go build flags of every bootstrap built here: those of
// the Makefile's GO_BUILD_FLAGS but the stripping -ldflags.
var BuildFlags = []string{"-trimpath", "-tags", "lambda.norpc"}

// goBuild runs go build with BuildFlags, flags, -o out and pkgs in the module
// root with cgo off and env added, and returns go's output as the error's text
// when it fails.
func goBuild(ctx context.Context, env []string, out string, pkgs, flags []string) error {
	root, err := ModuleRoot()
	if err != nil {
		return err
	}
	args := slices.Concat([]string{"build"}, BuildFlags, flags)
	args = append(append(args, "-o", out), pkgs...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	cmd.Env = append(append(os.Environ(), "CGO_ENABLED=0"), env...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%w\n%s", err, strings.TrimSpace(string(msg)))
	}
	return nil
}
