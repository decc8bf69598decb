// Package awsenv builds the AWS SDK configuration of a function from the
// variables Lambda sets (region, the execution role's credentials) and the SDK's
// standard endpoint variables, instead of the SDK's config package. That package
// brings profile, SSO, STS and IMDS code a Lambda function never runs, which
// made every bootstrap 1.8 MB larger and its init 1.4 ms slower (BENCHMARKS.md).
package awsenv

import (
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// ErrNoCredentials means the process has no AWS credentials in its environment:
// Lambda always sets them; a local run must (the demo and tests do).
var ErrNoCredentials = errors.New("no AWS credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)")

// Load returns the configuration from the environment read through getenv
// (os.Getenv in a function): AWS_REGION (or AWS_DEFAULT_REGION), and
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN as Lambda
// exports them for the execution role.
func Load(getenv func(string) string) (aws.Config, error) {
	region := getenv("AWS_REGION")
	if region == "" {
		region = getenv("AWS_DEFAULT_REGION")
	}
	id, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
	if id == "" || secret == "" {
		return aws.Config{}, ErrNoCredentials
	}
	provider := credentials.NewStaticCredentialsProvider(id, secret, getenv("AWS_SESSION_TOKEN"))
	return aws.Config{Region: region, Credentials: aws.NewCredentialsCache(provider)}, nil
}

// Endpoint returns the endpoint override for a service, from the SDK's standard
// variables: AWS_ENDPOINT_URL_<SERVICE> (e.g. SECRETS_MANAGER, DYNAMODB), else
// AWS_ENDPOINT_URL; nil when neither is set. Tests point the clients at moto with it.
func Endpoint(getenv func(string) string, service string) *string {
	for _, key := range []string{"AWS_ENDPOINT_URL_" + strings.ToUpper(service), "AWS_ENDPOINT_URL"} {
		if v := strings.TrimSpace(getenv(key)); v != "" {
			return aws.String(v)
		}
	}
	return nil
}
