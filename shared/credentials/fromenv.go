package credentials

import (
	"context"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/sfconnect/connector/shared/awsenv"
	"github.com/sfconnect/connector/shared/faults"
)

// FromEnv builds the Cache a Lambda function keeps for its lifetime: over the secret
// named by SALESFORCE_SECRET_ID when that is set, otherwise over the environment,
// with the TTL from SALESFORCE_SECRET_TTL. It does no network I/O, so a bad secret
// surfaces as a typed error on the first invoke rather than a crash at start-up.
//
// getenv cannot tell an empty variable from an unset one; see FromLookupEnv.
func FromEnv(ctx context.Context, getenv func(string) string) (*Cache, error) {
	return FromLookupEnv(ctx, func(key string) (string, bool) {
		v := getenv(key)
		return v, v != ""
	})
}

// FromLookupEnv is FromEnv over a lookup such as os.LookupEnv, which lets an
// environment configuration carry an empty SALESFORCE_SECURITY_TOKEN.
//
// In secret mode the AWS SDK reads its own settings (region, credentials, and
// AWS_ENDPOINT_URL_SECRETS_MANAGER or AWS_ENDPOINT_URL) from the process
// environment, not from lookup.
func FromLookupEnv(ctx context.Context, lookup func(string) (string, bool)) (*Cache, error) {
	ttl := DefaultTTL
	if raw, _ := lookup(KeySecretTTL); strings.TrimSpace(raw) != "" {
		d, err := time.ParseDuration(strings.TrimSpace(raw))
		if err != nil || d <= 0 {
			return nil, faults.New(faults.MissingToken, "%s must be a positive Go duration such as 5m", KeySecretTTL)
		}
		ttl = d
	}

	secretID, _ := lookup(KeySecretID)
	secretID = strings.TrimSpace(secretID)
	if secretID == "" {
		return NewCache(LookupEnv(lookup), ttl), nil
	}

	awsCfg, err := awsenv.Load()
	if err != nil {
		return nil, faults.Wrap(faults.MissingToken, err, "cannot read secret %q: %v", secretID, err)
	}
	src := SecretsManager(secretsmanager.NewFromConfig(awsCfg, func(o *secretsmanager.Options) {
		o.BaseEndpoint = awsenv.Endpoint("SECRETS_MANAGER")
	}), secretID)
	src.DefaultFlow, _ = lookup(KeyAuthFlow)
	return NewCache(src, ttl), nil
}
