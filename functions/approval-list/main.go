// Command approval-list is the Lambda function that lists the org's approval processes (APPROVAL_LIST).
package main

import "github.com/sfconnect/connector/shared/connector"

func main() { connector.Main("approval-list") }
