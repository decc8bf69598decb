// Command get is the Lambda function that reads one Salesforce record (GET).
package main

import "github.com/sfconnect/connector/shared/connector"

func main() { connector.Main("get") }
