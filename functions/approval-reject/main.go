// Command approval-reject is the Lambda function that rejects a pending approval work item (APPROVAL_REJECT).
package main

import "github.com/sfconnect/connector/shared/connector"

func main() { connector.Main("approval-reject") }
