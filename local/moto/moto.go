// Package moto runs moto_server, a local AWS, on loopback: the Secrets Manager
// the demo's and the benchmark's functions read their Salesforce secret from,
// and the Secrets Manager and DynamoDB the tests talk to. Start is for
// programs; StartTest is for tests.
package moto

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awscreds "github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// ErrMissing reports that moto_server is not on PATH. It comes with Python's
// moto package, preinstalled on this project's machines.
var ErrMissing = errors.New("moto_server not found on PATH: it is the local AWS (Secrets Manager, DynamoDB) the demo, the benchmark and the tests use (pip install 'moto[server]')")

// Static test credentials and region: moto accepts any signature, but the SDK
// signs every request and needs something to sign with.
const (
	Region          = "us-east-1"
	AccessKeyID     = "test"
	SecretAccessKey = "test"
)

// Server is a running moto_server.
type Server struct {
	// URL is the endpoint, e.g. http://127.0.0.1:40123; functions get it as
	// AWS_ENDPOINT_URL_SECRETS_MANAGER.
	URL string

	cmd   *exec.Cmd
	done  chan struct{}
	close sync.Once
}

// Start runs moto_server on a free loopback port and returns once it answers
// HTTP. Its output goes to log (nil discards it). ctx bounds the start-up
// only (60s when it has no deadline); the process lives until Close.
func Start(ctx context.Context, log io.Writer) (*Server, error) {
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		return nil, ErrMissing
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
	}
	// The port is picked by binding and releasing it, so another process may
	// take it in between; moto then exits at once and we try another.
	var lastErr error
	for range 3 {
		s, err := start(ctx, bin, log)
		if err == nil {
			return s, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

func start(ctx context.Context, bin string, log io.Writer) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	if log == nil {
		log = io.Discard
	}
	cmd.Stdout, cmd.Stderr = log, log
	// Its own process group, so Close also ends any worker it forks and a
	// Ctrl-C in the terminal reaches only our process, which then stops it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start moto_server: %w", err)
	}
	s := &Server{URL: "http://" + addr, cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(s.done)
	}()

	client := &http.Client{Timeout: time.Second}
	defer client.CloseIdleConnections()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		// Any HTTP answer means it serves; unsigned requests land in its S3 handler.
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/", nil)
		if err != nil {
			s.Close()
			return nil, err
		}
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			return s, nil
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("moto_server exited during start-up: %v", cmd.ProcessState)
		case <-ctx.Done():
			s.Close()
			return nil, fmt.Errorf("moto_server did not answer on %s: %w", addr, ctx.Err())
		case <-tick.C:
		}
	}
}

// SecretsManager returns a Secrets Manager client for endpoint (moto's, or
// any loopback server a test stands in with), with the static test
// credentials and one attempt per call, so failures show at once.
func SecretsManager(endpoint string) *secretsmanager.Client {
	return secretsmanager.New(secretsmanager.Options{
		Region:           Region,
		Credentials:      awscreds.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
		BaseEndpoint:     aws.String(endpoint),
		RetryMaxAttempts: 1,
	})
}

// SecretsManager returns a Secrets Manager client for this moto.
func (s *Server) SecretsManager() *secretsmanager.Client { return SecretsManager(s.URL) }

// CreateSecret stores a secret with a SecretString, as `aws secretsmanager
// create-secret` would.
func (s *Server) CreateSecret(ctx context.Context, name, value string) error {
	_, err := s.SecretsManager().CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name:         aws.String(name),
		SecretString: aws.String(value),
	})
	if err != nil {
		return fmt.Errorf("create secret %q in moto: %w", name, err)
	}
	return nil
}

// Env returns the variables that point a function's AWS SDK at this moto's
// Secrets Manager: endpoint, region and static credentials.
func (s *Server) Env() map[string]string {
	return map[string]string{
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": s.URL,
		"AWS_REGION":                       Region,
		"AWS_DEFAULT_REGION":               Region,
		"AWS_ACCESS_KEY_ID":                AccessKeyID,
		"AWS_SECRET_ACCESS_KEY":            SecretAccessKey,
		"AWS_EC2_METADATA_DISABLED":        "true",
	}
}

// Close stops moto_server, and anything it forked, and waits for it.
func (s *Server) Close() error {
	s.close.Do(func() {
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
	})
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
