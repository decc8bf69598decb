// Command create is the Lambda function that creates one Salesforce record (CREATE).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sfconnect/connector/shared/connector"
)

func main() {
	lambda.Start(connector.Handler(connector.MustFromEnv().Create))
}
