// Command composite is the Lambda function that sends up to 25 Salesforce REST
// subrequests, with references between them, in one Composite call (COMPOSITE).
package main

import "github.com/sfconnect/connector/shared/connector"

func main() { connector.Main("composite") }
