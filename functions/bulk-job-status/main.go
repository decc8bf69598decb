// Command bulk-job-status is the Lambda function that reads the state of a Bulk
// API 2.0 job (BULK_JOB_STATUS).
package main

import "github.com/sfconnect/connector/shared/connector"

func main() { connector.Main("bulk-job-status") }
