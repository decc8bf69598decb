// Command bulk-query-finish is the Lambda function that streams a query job's
// result sets to S3 as parts and a manifest (BULK_QUERY_FINISH).
package main

import (
	_ "github.com/sfconnect/connector/shared/blob/s3blob" // S3: only the bulk functions link it
	"github.com/sfconnect/connector/shared/connector"
)

func main() { connector.Main("bulk-query-finish") }
