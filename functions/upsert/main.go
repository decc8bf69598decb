// Command upsert is the Lambda function that inserts or updates one Salesforce
// record by an external id (UPSERT).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sfconnect/connector/shared/connector"
)

func main() {
	lambda.Start(connector.Handler(connector.MustFromEnv().Upsert))
}
