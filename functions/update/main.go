// Command update is the Lambda function that updates one Salesforce record (UPDATE).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sfconnect/connector/shared/connector"
)

func main() {
	lambda.StartHandler(connector.Handler(connector.MustFromEnv().Update))
}
