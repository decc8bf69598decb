// Command approval-list is the Lambda function that lists the org's approval processes (APPROVAL_LIST).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sfconnect/connector/shared/connector"
)

func main() {
	lambda.Start(connector.Handler(connector.MustFromEnv().ApprovalList))
}
