// Package connector holds the Lambda handlers of the Salesforce connector: it
// decodes an invoke (a Step Functions task input or an EventBridge event),
// validates the contract's parameters, calls Salesforce through the shared client
// and shapes the contract's output. Every function binary is a few lines around
// one of its methods.
package connector

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/sfconnect/connector/shared/awsenv"
	"github.com/sfconnect/connector/shared/credentials"
	"github.com/sfconnect/connector/shared/faults"
	"github.com/sfconnect/connector/shared/ledger"
	"github.com/sfconnect/connector/shared/salesforce"
	"github.com/sfconnect/connector/shared/salesforce/session"
	"github.com/sfconnect/connector/shared/salesforce/transport"
	"github.com/sfconnect/connector/shared/sessionstore"
	"github.com/sfconnect/connector/shared/settings"
)

// Output is the contract's result. UPDATE and DELETE leave SalesforceResult out
// on success; on a Salesforce error answer every action carries its body, so a
// workflow can read Salesforce's error array. QUERY adds its paging state,
// COLLECTION and COMPOSITE their counts of what succeeded and failed (tally.go),
// and every action the org's API usage when Salesforce reported it. The whole
// encoded output stays within the output budget (budget.go).
type Output struct {
	SalesforceResult string `json:"salesforceResult,omitempty"`
	SalesforceStatus string `json:"salesforceStatus"`
	*Paging
	*Tally
	*Bulk // the bulk actions' job state (bulk.go)

	SalesforceAPIUsage *salesforce.Usage `json:"salesforceApiUsage,omitempty"`
}

// Connector is what one execution environment keeps across invocations: the
// Salesforce client with its session and breaker, and the logger.
type Connector struct {
	client  *salesforce.Client
	log     *slog.Logger
	initErr error // configuration that could not be read; reported on every invoke
	budget  int   // the largest encoded output, in bytes (budget.go)

	ledger *ledger.Ledger // the idempotency ledger (idempotency.go); nil: none

	metricsMu sync.Mutex
	metrics   io.Writer // where the EMF lines go (metrics.go); nil: none

	objectStore objectStore // S3, for the bulk actions (bulk.go)
}

// New returns a Connector over a client, with the default output budget and no
// metrics lines (FromEnv writes them to standard output).
func New(client *salesforce.Client, log *slog.Logger) *Connector {
	if log == nil {
		log = slog.Default()
	}
	return &Connector{client: client, log: log, budget: settings.DefaultOutputBudget}
}

// FromEnv builds a Connector from the environment read through lookup
// (os.LookupEnv): package settings parses it, and this wires the clients
// (see README "Configuration"). Log lines and metrics lines go to out
// (standard output in a function, which Lambda sends to CloudWatch Logs). It
// does no network I/O: the secret and the session are fetched on the first
// invoke.
func FromEnv(lookup func(string) (string, bool), out io.Writer) (*Connector, error) {
	s, err := settings.Read(lookup)
	log := NewLogger(out, s.LogLevel)
	if err != nil {
		return &Connector{log: log, initErr: err}, err
	}
	getenv := func(k string) string { v, _ := lookup(k); return v }
	opts := s.Client
	opts.Logger = log
	var creds *credentials.Cache
	if s.SecretID == "" {
		creds = credentials.NewCache(credentials.Static(s.Credentials), s.SecretTTL)
	} else {
		awsCfg, err := awsenv.Load(getenv)
		if err != nil {
			err = faults.Wrap(faults.MissingToken, err, "cannot read secret %q: %v", s.SecretID, err)
			return &Connector{log: log, initErr: err}, err
		}
		src := credentials.SecretsManager(secretsmanager.NewFromConfig(awsCfg, func(o *secretsmanager.Options) {
			o.BaseEndpoint = awsenv.Endpoint(getenv, "SECRETS_MANAGER")
		}), s.SecretID)
		src.DefaultFlow = s.AuthFlow
		creds = credentials.NewCache(src, s.SecretTTL)
	}
	opts.Credentials = creds
	if s.SessionTable != "" {
		// One login for every execution environment (see the README).
		db, err := dynamoDB(getenv, "session table", s.SessionTable)
		if err != nil {
			return &Connector{log: log, initErr: err}, err
		}
		store := sessionstore.New(db, sessionstore.Options{Table: s.SessionTable, Logger: log, CallTimeout: s.SessionTableTimeout,
			RejectionCooldown: cmp.Or(opts.LoginCooldown, session.DefaultCooldown)})
		ttl := cmp.Or(opts.TokenTTL, salesforce.DefaultTokenTTL)
		opts.Share = func(next session.Source) session.Source { return store.Shared(next, ttl) }
	}
	c := New(salesforce.New(opts), log)
	if s.IdempotencyTable != "" {
		db, err := dynamoDB(getenv, "idempotency table", s.IdempotencyTable)
		if err != nil {
			return &Connector{log: log, initErr: err}, err
		}
		c.ledger = ledger.New(db, ledger.Options{Table: s.IdempotencyTable, TTL: s.IdempotencyTTL, Logger: log})
	}
	c.budget = s.OutputBudget
	c.metrics = out               // CloudWatch Logs reads the EMF lines
	c.objectStore.getenv = getenv // S3 is opened on a bulk action's first use
	return c, nil
}

// dynamoDB is the DynamoDB client of a table setting, configured from
// Lambda's variables.
func dynamoDB(getenv func(string) string, what, table string) (*dynamodb.Client, error) {
	awsCfg, err := awsenv.Load(getenv)
	if err != nil {
		return nil, faults.Wrap(faults.UnknownError, err, "cannot use the %s %q: %v", what, table, err)
	}
	return dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) { o.BaseEndpoint = awsenv.Endpoint(getenv, "DYNAMODB") }), nil
}

// MustFromEnv is FromEnv for a main function. A configuration error does not stop
// the process: every invoke then returns it as a typed error a workflow can Catch,
// which is easier to see than a crash loop at init.
func MustFromEnv() *Connector {
	c, err := FromEnv(os.LookupEnv, os.Stdout)
	if err != nil {
		c.log.Error("configuration", "error", faults.MessageOf(err), "errorType", string(faults.CodeOf(err)))
	}
	return c
}

// NewLogger returns the JSON logger of the functions.
func NewLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

// Handler is an action as aws-lambda-go's lambda.Handler: it receives the raw
// event, so that an event that is not JSON is an INVALID_INPUT the workflow can
// Catch rather than a decoding error reported under a Go type name.
type Handler func(ctx context.Context, event []byte) ([]byte, error)

// Invoke implements lambda.Handler.
func (h Handler) Invoke(ctx context.Context, event []byte) ([]byte, error) { return h(ctx, event) }

// run is the one handler path of every action: decode, validate, call, shape
// the output, log, and turn any error into the catalogue's Lambda error.
// Besides the output it enforces the output budget on the encoded output and
// reports the org's API usage: in the output, on the log line and as an EMF
// metrics line.
func (c *Connector) run(ctx context.Context, a *Action, event []byte) (_ []byte, err error) {
	action := a.Name
	var out *Output
	var in *input
	start := time.Now()
	var stats salesforce.Stats
	defer func() {
		if p := recover(); p != nil {
			err = faults.New(faults.UnknownError, "internal error in %s", action)
			c.log.Error("panic", "action", action, "panic", fmt.Sprint(p))
		}
		var key *idemKey
		if in != nil {
			key = in.key
		}
		c.logInvoke(ctx, action, start, &stats, out, key, err)
		if u, ok := stats.APIUsage(); ok {
			c.emitUsage(action, u, time.Now())
		}
		if err != nil {
			err = faults.Lambda(err)
		}
	}()
	if c.initErr != nil {
		return nil, c.initErr
	}
	if in, err = decode(event); err != nil {
		return nil, err
	}
	if in.key, err = keyOf(a, in); err != nil {
		return nil, err
	}
	ctx = salesforce.WithStats(ctx, &stats)
	var body []byte
	if in.key != nil {
		out, body, err = c.once(ctx, a, in, &stats)
	} else {
		out, body, err = c.answer(ctx, a, in, &stats, nil)
	}
	if err != nil {
		return nil, err
	}
	return body, nil
}

// answer makes the output of an action: the action's work (or resp, what a
// look-up found an earlier attempt did), shaped, encoded and held to the
// output budget. Nothing larger than the output could hold is read whole:
// memory follows the budget, not what Salesforce sends (query pages are read
// as a stream and keep only what fits).
func (c *Connector) answer(ctx context.Context, a *Action, in *input, stats *salesforce.Stats, resp *salesforce.Response) (*Output, []byte, error) {
	var x extras
	if resp == nil {
		ctx = transport.WithBodyLimit(ctx, readFactor*int64(c.budget), func() string {
			return fmt.Sprintf("more than the %d-byte output budget (%s) can hold%s", c.budget, settings.OutputBudget, hintOf(a))
		})
		var err error
		if resp, x, err = a.call(c, ctx, in); err != nil {
			return nil, nil, err
		}
	}
	out := &Output{SalesforceStatus: strconv.Itoa(resp.Status), Paging: x.paging, Tally: x.tally, Bulk: x.bulk}
	if !a.StatusOnly || resp.Status >= 300 {
		out.SalesforceResult = string(resp.Body)
	}
	if u, ok := stats.APIUsage(); ok {
		out.SalesforceAPIUsage = &u
	}
	body, err := encode(out)
	if err == nil && len(body) > c.budget {
		err = overBudget(a, len(body), c.budget)
	}
	if err != nil {
		return out, nil, err
	}
	return out, body, nil
}

// encode writes the output as the Lambda response, leaving <, > and & as they are.
func encode(out *Output) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return nil, faults.Wrap(faults.UnknownError, err, "cannot encode the output")
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// logInvoke writes the one log line of an invocation. It holds no payload, no
// record data and nothing secret: ids of the request, the action and its cost.
func (c *Connector) logInvoke(ctx context.Context, action string, start time.Time, stats *salesforce.Stats, out *Output, key *idemKey, err error) {
	attrs := []any{
		"action", action,
		"durationMs", float64(time.Since(start).Microseconds()) / 1000,
		"attempts", stats.Attempts.Load(),
		"login", stats.Logins.Load() > 0,
	}
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		attrs = append(attrs, "requestId", lc.AwsRequestID)
	}
	if out != nil {
		attrs = append(attrs, "status", out.SalesforceStatus)
	}
	if u, ok := stats.APIUsage(); ok {
		attrs = append(attrs, "apiUsage", u.String(), "apiUsagePercent", u.Percent)
	}
	if key != nil {
		// The ledger's item id, short: enough to follow one key's repeats
		// through the log without writing the caller's key.
		attrs = append(attrs, "idempotency", key.protection(), "idempotencyKeyHash", key.ledgerID()[:16])
		if key.replayed {
			attrs = append(attrs, "idempotencyReplayed", true)
		}
	}
	if err != nil {
		attrs = append(attrs, "errorType", string(faults.CodeOf(err)), "error", faults.MessageOf(err))
		c.log.Warn("invoke failed", attrs...)
		return
	}
	c.log.Info("invoke", attrs...)
}
