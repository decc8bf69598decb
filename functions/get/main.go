// Command get is the Lambda function that reads one Salesforce record (GET).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sfconnect/connector/shared/connector"
)

func main() {
	lambda.StartHandler(connector.Handler(connector.MustFromEnv().Get))
}
