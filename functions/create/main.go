// Command create is the Lambda function that creates one Salesforce record (CREATE).
package main

import "github.com/sfconnect/connector/shared/connector"

func main() { connector.Main("create") }
