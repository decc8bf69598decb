// Package settings is the one place the functions read their configuration:
// a table of every setting (its name, default, how it is parsed and one line
// of documentation) and Read, which parses the environment through it into
// the options the libraries take. No other package of shared/ reads the
// environment. README's settings table is generated from Table (see
// Markdown) and a test keeps the two equal.
package settings

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sfconnect/connector/shared/credentials"
	"github.com/sfconnect/connector/shared/faults"
	"github.com/sfconnect/connector/shared/ledger"
	"github.com/sfconnect/connector/shared/salesforce"
	"github.com/sfconnect/connector/shared/salesforce/session"
	"github.com/sfconnect/connector/shared/salesforce/transport"
	"github.com/sfconnect/connector/shared/sessionstore"
)

// Names of the settings that are not credentials (those are credentials.Key*).
const (
	SecretID             = "SALESFORCE_SECRET_ID"
	SecretTTL            = "SALESFORCE_SECRET_TTL"
	SessionTable         = "SALESFORCE_SESSION_TABLE"
	SessionTableTimeout  = "SALESFORCE_SESSION_TABLE_TIMEOUT"
	TokenTTL             = "SALESFORCE_TOKEN_TTL"
	LoginCooldown        = "SALESFORCE_LOGIN_COOLDOWN"
	Timeout              = "SALESFORCE_TIMEOUT"
	MaxAttempts          = "SALESFORCE_MAX_ATTEMPTS"
	RetryBaseDelay       = "SALESFORCE_RETRY_BASE_DELAY"
	RetryMaxDelay        = "SALESFORCE_RETRY_MAX_DELAY"
	BreakerFailures      = "SALESFORCE_BREAKER_FAILURES"
	BreakerCooldown      = "SALESFORCE_BREAKER_COOLDOWN"
	DeadlineMargin       = "SALESFORCE_DEADLINE_MARGIN"
	IdleReset            = "SALESFORCE_IDLE_RESET"
	APIUsageLimitPercent = "SALESFORCE_API_USAGE_LIMIT_PERCENT"
	OutputBudget         = "SALESFORCE_OUTPUT_BUDGET"
	LogLevel             = "LOG_LEVEL"
	IdempotencyTable     = "SALESFORCE_IDEMPOTENCY_TABLE"
	IdempotencyTTL       = "SALESFORCE_IDEMPOTENCY_TTL"
)

// The output budget's bounds. Step Functions fails an execution whose state
// passes 256 KB (262,144 bytes), and no Catch can save it; a Task's result is
// merged into the state, so every output stays under a budget that leaves
// room for the rest of the state.
const (
	DefaultOutputBudget = 240_000
	MaxOutputBudget     = 262_144
	MinOutputBudget     = 4_096
)

// Settings is the parsed configuration of a function.
type Settings struct {
	// Credentials holds the credential keys present in the environment, empty
	// ones included (an empty security token is allowed): the configuration
	// of a local run, used when SecretID is empty.
	Credentials map[string]string
	// SecretID names the Secrets Manager secret holding the credentials.
	SecretID string
	// SecretTTL is how long the loaded configuration is reused.
	SecretTTL time.Duration
	// AuthFlow is the flow a secret without SALESFORCE_AUTH_FLOW uses.
	AuthFlow string
	// SessionTable names the DynamoDB table of the shared session cache; "" is off.
	SessionTable string
	// SessionTableTimeout bounds each attempt of a call to it (0: the
	// sessionstore default).
	SessionTableTimeout time.Duration
	// Client holds the client's tuning; Credentials, Share and Logger are
	// left to the caller.
	Client salesforce.Options
	// OutputBudget is the largest encoded output, in bytes.
	OutputBudget int
	// LogLevel is the level of the functions' logger.
	LogLevel slog.Level
	// IdempotencyTable names the DynamoDB table of the idempotency ledger; ""
	// is off. IdempotencyTTL is how long a completed write answers repeats.
	IdempotencyTable string
	IdempotencyTTL   time.Duration
}

// Setting is one row of the table.
type Setting struct {
	Name    string
	Default string // as README shows it; "" when there is none
	Parse   string // how the value is read, for README
	Doc     string // one line for README
	// Secret marks a credential: in a deployment it sits in the secret, and a
	// local run reads it from the environment.
	Secret bool

	// code is the error code of a bad value: MISSING_TOKEN for what the
	// login needs, UNKNOWN_ERROR for tuning.
	code faults.Code
	// set parses a value that is present and not blank into s.
	set func(s *Settings, v string) error
}

// Table is every setting, in README's order.
var Table = []Setting{
	cred(credentials.KeyClientID, "the connected app's consumer key (client id)"),
	cred(credentials.KeyClientSecret, "the connected app's consumer secret"),
	cred(credentials.KeyUsername, "the integration user (not used by `client_credentials`)"),
	cred(credentials.KeyPassword, "its password (`password`, `soap`)"),
	cred(credentials.KeySecurityToken, "its security token (`password`, `soap`): may be empty, but must be present, when the org trusts the caller's IP range"),
	cred(credentials.KeyLoginURL, "the OAuth token URL, e.g. `https://login.salesforce.com/services/oauth2/token` (`https://test.salesforce.com/...` for a sandbox, or your My Domain)"),
	cred(credentials.KeySOAPLoginURL, "the SOAP login URL, e.g. `https://login.salesforce.com/services/Soap/c/45.0` (`soap`)"),
	cred(credentials.KeyVersion, "the API version, `45.0` or `v45.0` (31.0 or later)"),
	cred(credentials.KeyPrivateKey, "the PEM RSA private key that signs the JWT bearer assertion (`jwt`)"),
	cred(credentials.KeyJWTAudience, "the assertion's audience (`jwt`); default from the token URL"),
	{Name: credentials.KeyAuthFlow, Default: credentials.FlowAuto, Parse: strings.Join(credentials.Flows(), " \\| "),
		Doc: "the login flow (see [Authentication](#authentication)); `auto` picks it from what the secret holds: a private key `jwt`, " +
			"a username and password `password`, only a client id and secret `client_credentials`; in the secret, or in the " +
			"environment as the default of a secret without it",
		code: faults.MissingToken, set: flow},
	{Name: SecretID, Default: "—", Parse: "name or ARN", code: faults.MissingToken,
		Doc: "the Secrets Manager secret holding the credentials; unset: read them from the environment (local runs)",
		set: func(s *Settings, v string) error { s.SecretID = v; return nil }},
	{Name: SecretTTL, Default: short(credentials.DefaultTTL), Parse: "duration", code: faults.MissingToken,
		Doc: "how long the loaded credentials are reused", set: duration(func(s *Settings) *time.Duration { return &s.SecretTTL })},
	{Name: SessionTable, Default: "off", Parse: "name or ARN", code: faults.UnknownError,
		Doc: "the DynamoDB table of the [shared session cache](#shared-session-cache-one-login-for-a-whole-fleet)",
		set: func(s *Settings, v string) error { s.SessionTable = v; return nil }},
	{Name: SessionTableTimeout, Default: short(sessionstore.DefaultCallTimeout), Parse: "duration", code: faults.UnknownError,
		Doc: "each attempt of a call to the session table (two attempts); then the environment logs in on its own",
		set: duration(func(s *Settings) *time.Duration { return &s.SessionTableTimeout })},
	tuning(TokenTTL, salesforce.DefaultTokenTTL, "how long a session is reused before logging in again (Salesforce returns no expiry; its default idle timeout is 2 h)",
		func(s *Settings) *time.Duration { return &s.Client.TokenTTL }),
	{Name: LoginCooldown, Default: short(session.DefaultCooldown), Parse: "duration", code: faults.MissingToken,
		Doc: "how long credentials Salesforce rejected are not tried again unless they change (each failed login counts towards the user's lockout)",
		set: duration(func(s *Settings) *time.Duration { return &s.Client.LoginCooldown })},
	tuning(Timeout, transport.DefaultTimeout, "per HTTP attempt", func(s *Settings) *time.Duration { return &s.Client.Transport.Timeout }),
	{Name: MaxAttempts, Default: strconv.Itoa(transport.DefaultMaxAttempts), Parse: "count", code: faults.UnknownError,
		Doc: "attempts per request, the first included", set: count(func(s *Settings, n int) { s.Client.Transport.MaxAttempts = n })},
	tuning(RetryBaseDelay, transport.DefaultRetryBaseDelay, "the first backoff ceiling (exponential backoff with full jitter)",
		func(s *Settings) *time.Duration { return &s.Client.Transport.RetryBaseDelay }),
	tuning(RetryMaxDelay, transport.DefaultRetryMaxDelay, "the longest backoff; also caps `Retry-After`",
		func(s *Settings) *time.Duration { return &s.Client.Transport.RetryMaxDelay }),
	{Name: BreakerFailures, Default: strconv.Itoa(transport.DefaultBreakerFailures), Parse: "count", code: faults.UnknownError,
		Doc: "consecutive transient failures that open the circuit breaker",
		set: count(func(s *Settings, n int) { s.Client.Transport.BreakerFailures = uint32(n) })},
	tuning(BreakerCooldown, transport.DefaultBreakerCooldown, "time before the open breaker lets one probe through",
		func(s *Settings) *time.Duration { return &s.Client.Transport.BreakerCooldown }),
	tuning(DeadlineMargin, salesforce.DefaultDeadlineMargin, "time kept free before the invocation's deadline",
		func(s *Settings) *time.Duration { return &s.Client.DeadlineMargin }),
	tuning(IdleReset, transport.DefaultIdleReset, "after this much idle time, a create or approval request uses a fresh connection",
		func(s *Settings) *time.Duration { return &s.Client.Transport.IdleReset }),
	{Name: APIUsageLimitPercent, Default: "off", Parse: "percent", code: faults.UnknownError,
		Doc: "fail fast once the org's daily API usage reaches this (see [API usage](#api-usage))", set: percent},
	{Name: OutputBudget, Default: strconv.Itoa(DefaultOutputBudget), Parse: "bytes", code: faults.UnknownError,
		Doc: "the largest output in bytes (see [Output budget](#output-budget))", set: budget},
	{Name: LogLevel, Default: "info", Parse: "debug \\| info \\| warn \\| error", code: faults.UnknownError,
		Doc: "the level of the JSON log", set: level},
	{Name: IdempotencyTable, Default: "off", Parse: "name or ARN", code: faults.UnknownError,
		Doc: "the DynamoDB table of the [idempotency ledger](#exactly-once-writes-idempotencykey)",
		set: func(s *Settings, v string) error { s.IdempotencyTable = v; return nil }},
	{Name: IdempotencyTTL, Default: short(ledger.DefaultTTL), Parse: "duration", code: faults.UnknownError,
		Doc: "how long the ledger answers a repeated write with its first output (at most 720h)", set: idempotencyTTL},
}

// Read parses the environment through lookup (os.LookupEnv in a function).
// Unset and blank values keep their defaults. Every bad value is reported,
// each naming its setting, as one faults error: MISSING_TOKEN when one of them
// is needed to log in, UNKNOWN_ERROR otherwise; the returned Settings then
// holds the values that were good.
func Read(lookup func(string) (string, bool)) (Settings, error) {
	s := Settings{
		Credentials:  map[string]string{},
		SecretTTL:    credentials.DefaultTTL,
		OutputBudget: DefaultOutputBudget,
		LogLevel:     slog.LevelInfo,
	}
	var errs []error
	code := faults.UnknownError
	for _, row := range Table {
		v, ok := lookup(row.Name)
		if row.Secret {
			if ok {
				s.Credentials[row.Name] = v
			}
			continue
		}
		if strings.TrimSpace(v) == "" {
			continue
		}
		if err := row.set(&s, strings.TrimSpace(v)); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", row.Name, err))
			if row.code == faults.MissingToken {
				code = faults.MissingToken
			}
		}
	}
	if v, ok := lookup(credentials.KeyAuthFlow); ok {
		s.Credentials[credentials.KeyAuthFlow] = v
	}
	base, maxDelay := s.Client.Transport.RetryBaseDelay, s.Client.Transport.RetryMaxDelay
	if base == 0 {
		base = transport.DefaultRetryBaseDelay
	}
	if maxDelay == 0 {
		maxDelay = transport.DefaultRetryMaxDelay
	}
	if base > maxDelay {
		errs = append(errs, fmt.Errorf("%s (%s) is larger than %s (%s)", RetryBaseDelay, base, RetryMaxDelay, maxDelay))
	}
	if err := errors.Join(errs...); err != nil {
		return s, faults.Wrap(code, err, "invalid configuration: %s", strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	return s, nil
}

func cred(name, doc string) Setting {
	return Setting{Name: name, Default: "—", Parse: "string", Doc: doc, Secret: true, code: faults.MissingToken}
}

func tuning(name string, def time.Duration, doc string, field func(*Settings) *time.Duration) Setting {
	return Setting{Name: name, Default: short(def), Parse: "duration", Doc: doc, code: faults.UnknownError, set: duration(field)}
}

// short writes a duration as a user would, 5m or 1h rather than 5m0s or 1h0m0s.
func short(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// duration reads a positive Go duration such as 750ms or 1h.
func duration(field func(*Settings) *time.Duration) func(*Settings, string) error {
	return func(s *Settings, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("%q is not a positive Go duration such as 750ms or 1h", v)
		}
		*field(s) = d
		return nil
	}
}

// count reads a positive integer.
func count(set func(*Settings, int)) func(*Settings, string) error {
	return func(s *Settings, v string) error {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil || n <= 0 {
			return fmt.Errorf("%q is not a positive integer", v)
		}
		set(s, int(n))
		return nil
	}
}

// percent reads a number above 0 and at most 100, such as 90 or 97.5%.
func percent(s *Settings, v string) error {
	p, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(v, "%")), 64)
	if err != nil || math.IsNaN(p) || p <= 0 || p > 100 {
		return fmt.Errorf("%q is not a percentage above 0 and at most 100", v)
	}
	s.Client.APIUsageLimitPercent = p
	return nil
}

// budget reads a byte count within the output budget's bounds.
func budget(s *Settings, v string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < MinOutputBudget || n > MaxOutputBudget {
		return fmt.Errorf("%q is not a byte count from %d to %d", v, MinOutputBudget, MaxOutputBudget)
	}
	s.OutputBudget = n
	return nil
}

// flow reads the default login flow.
func flow(s *Settings, v string) error {
	v = strings.ToLower(v)
	if !slices.Contains(credentials.Flows(), v) {
		return fmt.Errorf("%q is not one of %s", v, strings.Join(credentials.Flows(), ", "))
	}
	s.AuthFlow = v
	return nil
}

// idempotencyTTL reads the ledger's TTL: a positive duration of at most 30
// days, the time Salesforce keeps its own idempotency keys.
func idempotencyTTL(s *Settings, v string) error {
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 || d > 30*24*time.Hour {
		return fmt.Errorf("%q is not a positive Go duration of at most 720h", v)
	}
	s.IdempotencyTTL = d
	return nil
}

// level reads a slog level name.
func level(s *Settings, v string) error {
	if err := s.LogLevel.UnmarshalText([]byte(v)); err != nil {
		return fmt.Errorf("%q is not one of debug, info, warn, error", v)
	}
	return nil
}

// Markdown is README's settings table, made from Table.
func Markdown() string {
	var b strings.Builder
	b.WriteString("| Setting | Default | Value | In the secret | Meaning |\n| --- | --- | --- | --- | --- |\n")
	for _, row := range Table {
		where := ""
		if row.Secret || row.Name == credentials.KeyAuthFlow {
			where = "yes"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", row.Name, code(row.Default), row.Parse, where, row.Doc)
	}
	return b.String()
}

// code puts a default in backticks unless it says there is none.
func code(s string) string {
	if s == "—" || s == "off" {
		return s
	}
	return "`" + s + "`"
}
