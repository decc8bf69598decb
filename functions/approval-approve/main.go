// Command approval-approve is the Lambda function that approves a pending approval work item (APPROVAL_APPROVE).
package main

import "github.com/sfconnect/connector/shared/connector"

func main() { connector.Main("approval-approve") }
