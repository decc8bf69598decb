package stack

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

// ErrMotoMissing reports that moto_server is not on PATH. It comes with Python's
// moto package, preinstalled on this project's machines.
var ErrMotoMissing = errors.New("moto_server not found on PATH: it is the local Secrets Manager the functions read their secret from (pip install 'moto[server]')")

// Static test credentials and region: moto accepts any signature, but the SDK
// signs every request and needs something to sign with.
const (
	Region          = "us-east-1"
	AccessKeyID     = "test"
	SecretAccessKey = "test"
)

// Moto is a running moto_server: a local AWS whose Secrets Manager the
// functions read their Salesforce secret from, as they would in AWS.
type Moto struct {
	// URL is the endpoint, e.g. http://127.0.0.1:40123; the functions get it
	// as AWS_ENDPOINT_URL_SECRETS_MANAGER.
	URL string

	cmd   *exec.Cmd
	done  chan struct{}
	close sync.Once
}

// StartMoto runs moto_server on a free loopback port and returns once it
// answers. Its output goes to log (nil discards it). ctx bounds the start-up.
func StartMoto(ctx context.Context, log io.Writer) (*Moto, error) {
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		return nil, ErrMotoMissing
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
		m, err := startMoto(ctx, bin, log)
		if err == nil {
			return m, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

func startMoto(ctx context.Context, bin string, log io.Writer) (*Moto, error) {
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
	// Ctrl-C in the terminal reaches only the demo, which then stops it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start moto_server: %w", err)
	}
	m := &Moto{URL: "http://" + addr, cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(m.done)
	}()

	client := &http.Client{Timeout: time.Second}
	defer client.CloseIdleConnections()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		// Any HTTP answer means it serves; unsigned requests land in its S3 handler.
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.URL+"/", nil)
		if err != nil {
			m.Close()
			return nil, err
		}
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			return m, nil
		}
		select {
		case <-m.done:
			return nil, fmt.Errorf("moto_server exited during start-up: %v", cmd.ProcessState)
		case <-ctx.Done():
			m.Close()
			return nil, fmt.Errorf("moto_server did not answer on %s: %w", addr, ctx.Err())
		case <-tick.C:
		}
	}
}

// Client returns a Secrets Manager client for this moto, with the static test
// credentials and one attempt per call.
func (m *Moto) Client() *secretsmanager.Client {
	return secretsmanager.New(secretsmanager.Options{
		Region:           Region,
		Credentials:      awscreds.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
		BaseEndpoint:     aws.String(m.URL),
		RetryMaxAttempts: 1,
	})
}

// CreateSecret stores a secret with a SecretString, as `aws secretsmanager
// create-secret` would.
func (m *Moto) CreateSecret(ctx context.Context, name, value string) error {
	_, err := m.Client().CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name:         aws.String(name),
		SecretString: aws.String(value),
	})
	if err != nil {
		return fmt.Errorf("create secret %q in moto: %w", name, err)
	}
	return nil
}

// Env returns the variables that point a function's AWS SDK at this moto:
// endpoint, region and static credentials.
func (m *Moto) Env() map[string]string {
	return map[string]string{
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": m.URL,
		"AWS_REGION":                       Region,
		"AWS_DEFAULT_REGION":               Region,
		"AWS_ACCESS_KEY_ID":                AccessKeyID,
		"AWS_SECRET_ACCESS_KEY":            SecretAccessKey,
		"AWS_EC2_METADATA_DISABLED":        "true",
	}
}

// Close stops moto_server and waits for it.
func (m *Moto) Close() error {
	m.close.Do(func() {
		_ = syscall.Kill(-m.cmd.Process.Pid, syscall.SIGKILL)
		<-m.done
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
