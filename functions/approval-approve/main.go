// Command approval-approve is the Lambda function that approves a pending approval work item (APPROVAL_APPROVE).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sfconnect/connector/shared/connector"
)

func main() {
	lambda.Start(connector.Handler(connector.MustFromEnv().ApprovalApprove))
}
