package credentials

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"

	"github.com/sfconnect/connector/shared/faults"
)

// SecretsAPI is the one Secrets Manager call the connector makes; the SDK client
// satisfies it and tests can fake it.
type SecretsAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// SecretSource reads the configuration from the current version (AWSCURRENT) of a
// Secrets Manager secret whose SecretString is a JSON object of SALESFORCE_* keys
// with string values. Keys without the SALESFORCE_ prefix are ignored; unknown
// SALESFORCE_* keys land in Config.Extra. For example:
//
//	{"SALESFORCE_CLIENT_ID": "3MVG9...", "SALESFORCE_CLIENT_SECRET": "...",
//	 "SALESFORCE_USERNAME": "integration@example.com", "SALESFORCE_PASSWORD": "...",
//	 "SALESFORCE_SECURITY_TOKEN": "...",
//	 "SALESFORCE_URL_LOGIN": "https://login.salesforce.com/services/oauth2/token",
//	 "SALESFORCE_SOAP_URL_LOGIN": "https://login.salesforce.com/services/Soap/c/45.0",
//	 "SALESFORCE_VERSION": "45.0"}
//
// The client credentials flow needs only SALESFORCE_CLIENT_ID, _CLIENT_SECRET,
// _URL_LOGIN (the org's My Domain token URL) and _VERSION; the JWT bearer flow
// SALESFORCE_CLIENT_ID, _USERNAME, _PRIVATE_KEY (PEM, its line breaks written as
// \n in the JSON), _URL_LOGIN, _VERSION and optionally _JWT_AUDIENCE. Either may
// carry SALESFORCE_AUTH_FLOW ("client_credentials" or "jwt").
type SecretSource struct {
	client   SecretsAPI
	secretID string

	// DefaultFlow is the authentication flow when the secret has no
	// SALESFORCE_AUTH_FLOW; FromEnv sets it from the environment.
	DefaultFlow string
}

var _ SecretsAPI = (*secretsmanager.Client)(nil)

// SecretsManager returns a Source reading the secret secretID (a name or an ARN)
// through client. It makes no call until Load.
func SecretsManager(client SecretsAPI, secretID string) *SecretSource {
	return &SecretSource{client: client, secretID: secretID}
}

// Load reads and validates the secret. It never puts the secret's content into an
// error, not even a JSON syntax error, which quotes the offending character.
func (s *SecretSource) Load(ctx context.Context) (Config, error) {
	out, err := s.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(s.secretID)})
	if err != nil {
		return Config{}, s.classify(ctx, err)
	}
	if out.SecretString == nil {
		return Config{}, faults.New(faults.MissingToken,
			"secret %q has no SecretString (a binary secret is not supported)", s.secretID)
	}
	c, err := parseSecret(s.secretID, *out.SecretString, s.DefaultFlow)
	c.Revision = aws.ToString(out.VersionId)
	return c, err
}

// parseSecret turns a SecretString into a validated Config.
func parseSecret(secretID, text, defaultFlow string) (Config, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(text), &raw); err != nil || raw == nil {
		return Config{}, faults.New(faults.MissingToken, "secret %q is not a JSON object", secretID)
	}
	values := make(map[string]string, len(raw))
	var wrongType []string
	for key, r := range raw {
		if !strings.HasPrefix(key, "SALESFORCE_") {
			continue
		}
		var v string
		if kind := jsonKind(r); kind != "a string" || json.Unmarshal(r, &v) != nil {
			wrongType = append(wrongType, key+" is "+kind)
			continue
		}
		values[key] = v
	}
	if len(wrongType) > 0 {
		slices.Sort(wrongType)
		return Config{}, faults.New(faults.MissingToken,
			"secret %q: values must be JSON strings, but %s", secretID, strings.Join(wrongType, ", "))
	}
	c, problems := build(func(key string) (string, bool) {
		v, ok := values[key]
		return v, ok
	}, defaultFlow)
	if len(problems) > 0 {
		return Config{}, faults.New(faults.MissingToken,
			"invalid Salesforce configuration in secret %q: %s", secretID, strings.Join(problems, "; "))
	}
	for key, v := range values {
		if _, known := fieldOf(key); known {
			continue
		}
		if c.Extra == nil {
			c.Extra = make(map[string]string)
		}
		c.Extra[key] = v
	}
	return c, nil
}

// jsonKind names the JSON type of a value from its first byte. A null must be
// caught here: json.Unmarshal turns it into an empty string without an error.
func jsonKind(r json.RawMessage) string {
	s := strings.TrimSpace(string(r))
	if s == "" {
		return "empty"
	}
	switch s[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}

// apiErrors maps Secrets Manager and AWS error codes to the catalogue. Anything
// not listed is a MissingToken: the configuration could not be obtained.
var apiErrors = map[string]struct {
	code   faults.Code
	reason string
}{
	"ResourceNotFoundException":   {faults.MissingToken, "not found"},
	"AccessDeniedException":       {faults.MissingToken, "access denied"},
	"DecryptionFailure":           {faults.MissingToken, "cannot be decrypted with its KMS key"},
	"InvalidRequestException":     {faults.MissingToken, "cannot be read (deleted or scheduled for deletion?)"},
	"UnrecognizedClientException": {faults.MissingToken, "request rejected: unknown AWS credentials"},
	"InvalidSignatureException":   {faults.MissingToken, "request rejected: bad AWS signature"},
	"ExpiredTokenException":       {faults.MissingToken, "request rejected: expired AWS credentials"},
	"InternalServiceError":        {faults.ConnectionError, "Secrets Manager failed"},
	"ServiceUnavailable":          {faults.ConnectionError, "Secrets Manager unavailable"},
	"ThrottlingException":         {faults.ConnectionError, "Secrets Manager throttled the request"},
}

// classify turns a GetSecretValue failure into a catalogue error. The cause is
// kept for logs: SDK errors carry codes and request ids, never the secret.
func (s *SecretSource) classify(ctx context.Context, err error) error {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || ctx.Err() != nil {
		return faults.Wrap(faults.RequestTimeout, err, "reading secret %q timed out", s.secretID)
	}
	var notFound *types.ResourceNotFoundException
	if errors.As(err, &notFound) {
		return faults.Wrap(faults.MissingToken, err, "secret %q not found", s.secretID)
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		if known, ok := apiErrors[apiErr.ErrorCode()]; ok {
			return faults.Wrap(known.code, err, "secret %q: %s", s.secretID, known.reason)
		}
		return faults.Wrap(faults.MissingToken, err, "secret %q cannot be read: %s", s.secretID, apiErr.ErrorCode())
	}
	return faults.Wrap(faults.ConnectionError, err, "cannot reach Secrets Manager to read secret %q", s.secretID)
}
