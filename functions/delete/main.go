// Command delete is the Lambda function that deletes one Salesforce record (DELETE).
package main

import "github.com/sfconnect/connector/shared/connector"

func main() { connector.Main("delete") }
