package sessionstore

import (
	"context"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/sfconnect/connector/shared/faults"
)

// EnvTable names the environment variable that turns the shared session cache
// on: the name or ARN of its DynamoDB table.
const EnvTable = "SALESFORCE_SESSION_TABLE"

// Open returns a Store over table with the AWS SDK's default configuration
// (region, credentials, and AWS_ENDPOINT_URL_DYNAMODB or AWS_ENDPOINT_URL from the
// process environment). It does no network I/O.
func Open(ctx context.Context, table string, log *slog.Logger) (*Store, error) {
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, faults.Wrap(faults.UnknownError, err, "cannot load the AWS configuration for the session table %q", table)
	}
	return New(dynamodb.NewFromConfig(awsCfg), Options{Table: table, Logger: log}), nil
}
