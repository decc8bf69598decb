// Command custom-object-create is the Lambda function that creates a custom object through the Metadata API (CUSTOM_OBJECT_CREATE).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sfconnect/connector/shared/connector"
)

func main() {
	lambda.Start(connector.Handler(connector.MustFromEnv().CustomObjectCreate))
}
