// Command bulk-ingest-start is the Lambda function that starts one part of an
// import (BULK_INGEST_START): rows of a CSV object in S3 streamed into a Bulk
// API 2.0 ingest job, which it closes.
package main

import (
	_ "github.com/sfconnect/connector/shared/blob/s3blob" // S3: only the bulk functions link it
	"github.com/sfconnect/connector/shared/connector"
)

func main() { connector.Main("bulk-ingest-start") }
