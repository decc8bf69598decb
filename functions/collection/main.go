// Command collection is the Lambda function that creates, updates, upserts or
// deletes up to 200 Salesforce records in one sObject Collections call
// (COLLECTION).
package main

import "github.com/sfconnect/connector/shared/connector"

func main() { connector.Main("collection") }
