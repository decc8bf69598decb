// Command query is the Lambda function that runs a SOQL query and returns every page (QUERY).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sfconnect/connector/shared/connector"
)

func main() {
	lambda.Start(connector.Handler(connector.MustFromEnv().Query))
}
