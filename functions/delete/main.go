// Command delete is the Lambda function that deletes one Salesforce record (DELETE).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sfconnect/connector/shared/connector"
)

func main() {
	lambda.Start(connector.Handler(connector.MustFromEnv().Delete))
}
