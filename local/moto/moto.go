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
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awscreds "github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/sfconnect/connector/local/internal/proc"
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

	proc *proc.Process
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
	// A port taken between picking and binding makes moto exit at once;
	// proc.Retry then starts it on another.
	return proc.Retry(ctx, 3, func() (*Server, error) { return start(ctx, bin, log) })
}

func start(ctx context.Context, bin string, log io.Writer) (*Server, error) {
	ports, err := proc.FreePorts(1)
	if err != nil {
		return nil, err
	}
	port := strconv.Itoa(ports[0])
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", port)
	if log == nil {
		log = io.Discard
	}
	cmd.Stdout, cmd.Stderr = log, log
	p, err := proc.Start(cmd)
	if err != nil {
		return nil, fmt.Errorf("start moto_server: %w", err)
	}
	s := &Server{URL: "http://" + net.JoinHostPort("127.0.0.1", port), proc: p}
	client := &http.Client{Timeout: time.Second}
	defer client.CloseIdleConnections()
	// Any HTTP answer means it serves; unsigned requests land in its S3 handler.
	if err := p.WaitHTTP(ctx, client, s.URL+"/", 50*time.Millisecond); err != nil {
		s.Close()
		return nil, fmt.Errorf("moto_server %w", err)
	}
	return s, nil
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
// Secrets Manager and S3: endpoints, region and static credentials.
func (s *Server) Env() map[string]string {
	return map[string]string{
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": s.URL,
		"AWS_ENDPOINT_URL_S3":              s.URL,
		"AWS_REGION":                       Region,
		"AWS_DEFAULT_REGION":               Region,
		"AWS_ACCESS_KEY_ID":                AccessKeyID,
		"AWS_SECRET_ACCESS_KEY":            SecretAccessKey,
		"AWS_EC2_METADATA_DISABLED":        "true",
	}
}

// Close stops moto_server, and anything it forked, and waits for it.
func (s *Server) Close() error {
	s.proc.Stop()
	return nil
}
