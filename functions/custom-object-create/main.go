// Command custom-object-create is the Lambda function that creates a custom object through the Metadata API (CUSTOM_OBJECT_CREATE).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sfconnect/connector/shared/connector"
)

func main() {
	lambda.StartHandler(connector.Handler(connector.MustFromEnv().CustomObjectCreate))
}
