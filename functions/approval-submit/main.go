// Command approval-submit is the Lambda function that submits a record for approval (APPROVAL_SUBMIT).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sfconnect/connector/shared/connector"
)

func main() {
	lambda.StartHandler(connector.Handler(connector.MustFromEnv().ApprovalSubmit))
}
