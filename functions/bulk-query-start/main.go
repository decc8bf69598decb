// Command bulk-query-start is the Lambda function that starts a Bulk API 2.0
// query job whose results go to S3 (BULK_QUERY_START).
package main

import (
	_ "github.com/sfconnect/connector/shared/blob/s3blob" // S3: only the bulk functions link it
	"github.com/sfconnect/connector/shared/connector"
)

func main() { connector.Main("bulk-query-start") }
