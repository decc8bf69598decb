// Command upsert is the Lambda function that inserts or updates one Salesforce
// record by an external id (UPSERT).
package main

import "github.com/sfconnect/connector/shared/connector"

func main() { connector.Main("upsert") }
