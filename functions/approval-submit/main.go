// Command approval-submit is the Lambda function that submits a record for approval (APPROVAL_SUBMIT).
package main

import "github.com/sfconnect/connector/shared/connector"

func main() { connector.Main("approval-submit") }
