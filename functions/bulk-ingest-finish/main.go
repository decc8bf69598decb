// Command bulk-ingest-finish is the Lambda function that streams a finished
// ingest job's result sets to S3 (BULK_INGEST_FINISH).
package main

import (
	_ "github.com/sfconnect/connector/shared/blob/s3blob" // S3: only the bulk functions link it
	"github.com/sfconnect/connector/shared/connector"
)

func main() { connector.Main("bulk-ingest-finish") }
