package sessionstore

import (
	"context"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/sfconnect/connector/shared/awsenv"
	"github.com/sfconnect/connector/shared/faults"
)

// EnvTable names the environment variable that turns the shared session cache
// on: the name or ARN of its DynamoDB table.
const EnvTable = "SALESFORCE_SESSION_TABLE"

// Open returns a Store over table with the AWS configuration of the process
// environment (awsenv: region, credentials, and AWS_ENDPOINT_URL_DYNAMODB or
// AWS_ENDPOINT_URL). It does no network I/O.
func Open(ctx context.Context, table string, log *slog.Logger) (*Store, error) {
	awsCfg, err := awsenv.Load()
	if err != nil {
		return nil, faults.Wrap(faults.UnknownError, err, "cannot use the session table %q: %v", table, err)
	}
	client := dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) { o.BaseEndpoint = awsenv.Endpoint("DYNAMODB") })
	return New(client, Options{Table: table, Logger: log}), nil
}
