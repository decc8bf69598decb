package connector

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/sfconnect/connector/sforg"
	"github.com/sfconnect/connector/shared/credentials"
	"github.com/sfconnect/connector/shared/salesforce"
	"github.com/sfconnect/connector/shared/salesforce/transport"
)

// handler is the signature every action method shares.
type handler = func(context.Context, []byte) ([]byte, error)

// world is one test's org and connector, as one execution environment sees them.
type world struct {
	org  *sforg.Server
	conn *Connector
	logs *syncBuffer
	opts salesforce.Options
}

// coldStart returns the connector of a new execution environment: same
// configuration, no session, no pooled connections.
func (w *world) coldStart() *Connector {
	return New(salesforce.New(w.opts), slog.New(slog.NewJSONHandler(w.logs, nil)))
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// setup starts an org on loopback and a connector pointed at it, with short
// retry waits so fault tests stay quick.
func setup(t *testing.T, tune ...func(*salesforce.Options, map[string]string)) *world {
	t.Helper()
	org, err := sforg.Start(sforg.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { org.Close() })
	settings := org.Settings()
	logs := &syncBuffer{}
	opts := quickOptions(slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	for _, f := range tune {
		f(&opts, settings)
	}
	opts.Credentials = settingsSource(settings)
	return newWorld(org, opts, logs)
}

// quickOptions are the client options of the tests' connectors: a loopback
// timeout, three attempts with millisecond waits so fault tests stay quick, and
// a breaker that does not open unless a test asks for it.
func quickOptions(log *slog.Logger) salesforce.Options {
	return salesforce.Options{
		Transport: transport.Options{
			// Generous: a 2,000-record page under -race on a loaded machine
			// has taken over 2s. Tests of timeouts set their own.
			Timeout:         30 * time.Second,
			MaxAttempts:     3,
			RetryBaseDelay:  time.Millisecond,
			RetryMaxDelay:   5 * time.Millisecond,
			BreakerFailures: 1000,
		},
		DeadlineMargin: 50 * time.Millisecond,
		Logger:         log,
	}
}

// newWorld is org with a connector built from opts, logging to opts.Logger
// (which writes to logs).
func newWorld(org *sforg.Server, opts salesforce.Options, logs *syncBuffer) *world {
	return &world{org: org, conn: New(salesforce.New(opts), opts.Logger), logs: logs, opts: opts}
}

// settingsSource is a configuration source reading the SALESFORCE_* keys from
// settings (an org's Settings()), cached for a minute.
func settingsSource(settings map[string]string) *credentials.Cache {
	return credentials.NewCache(credentials.Static(settings), time.Minute)
}

// result is what a workflow sees of one invoke.
type result struct {
	Output
	ErrorType    string
	ErrorMessage string
}

// invoke runs the real aws-lambda-go handler path with an event.
func invoke(t *testing.T, h handler, event string) result {
	t.Helper()
	return invokeCtx(t.Context(), t, h, event)
}

func invokeCtx(ctx context.Context, t *testing.T, h handler, event string) result {
	t.Helper()
	_, r := invokeRaw(ctx, t, h, event)
	return r
}

// invokeRaw is invokeCtx that also returns the output's bytes as the Lambda
// returns them (nil for an error).
func invokeRaw(ctx context.Context, t *testing.T, h handler, event string) ([]byte, result) {
	t.Helper()
	body, err := lambda.NewHandler(Handler(h)).Invoke(ctx, []byte(event))
	var r result
	if err != nil {
		var ie messages.InvokeResponse_Error
		if !errors.As(err, &ie) {
			t.Fatalf("got error %T %v, want messages.InvokeResponse_Error", err, err)
		}
		r.ErrorType, r.ErrorMessage = ie.Type, ie.Message
		return nil, r
	}
	if err := json.Unmarshal(body, &r.Output); err != nil {
		t.Fatalf("output %s: %v", body, err)
	}
	return body, r
}

// mustOK fails the test unless the invoke succeeded with the status.
func mustOK(t *testing.T, r result, status string) {
	t.Helper()
	if r.ErrorType != "" || r.SalesforceStatus != status {
		t.Fatalf("got %q %s %s, want status %s", r.ErrorType, r.ErrorMessage, r.SalesforceStatus+" "+r.SalesforceResult, status)
	}
}

// field reads a top-level field of the JSON result.
func field(t *testing.T, r result, name string) any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.SalesforceResult), &m); err != nil {
		t.Fatalf("result %q is not a JSON object: %v", r.SalesforceResult, err)
	}
	return m[name]
}

func jsonEvent(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
