// Command query is the Lambda function that runs a SOQL query and returns every page (QUERY).
package main

import "github.com/sfconnect/connector/shared/connector"

func main() { connector.Main("query") }
