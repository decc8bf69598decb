// Command approval-reject is the Lambda function that rejects a pending approval work item (APPROVAL_REJECT).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sfconnect/connector/shared/connector"
)

func main() {
	lambda.Start(connector.Handler(connector.MustFromEnv().ApprovalReject))
}
