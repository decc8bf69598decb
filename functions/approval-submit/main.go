// Command approval-submit is the Lambda function that submits a record for approval (APPROVAL_SUBMIT).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sfconnect/connector/shared/connector"
)

func main() {
	lambda.Start(connector.Handler(connector.MustFromEnv().ApprovalSubmit))
}
