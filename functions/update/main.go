// Command update is the Lambda function that updates one Salesforce record (UPDATE).
package main

import "github.com/sfconnect/connector/shared/connector"

func main() { connector.Main("update") }
