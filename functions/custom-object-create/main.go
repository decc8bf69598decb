// Command custom-object-create is the Lambda function that creates a custom object through the Metadata API (CUSTOM_OBJECT_CREATE).
package main

import "github.com/sfconnect/connector/shared/connector"

func main() { connector.Main("custom-object-create") }
