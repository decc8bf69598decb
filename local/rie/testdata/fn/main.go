// Command fn is a throwaway Lambda function for the rie package's tests: it
// answers, reads its environment, fails with a typed error, panics or outlives
// its deadline, as the event asks.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"
)

type request struct {
	Mode string `json:"mode"`
	Name string `json:"name"`
}

type response struct {
	Hello string  `json:"hello,omitempty"`
	Env   *string `json:"env,omitempty"`
}

func handle(ctx context.Context, req request) (response, error) {
	switch req.Mode {
	case "env":
		v, ok := os.LookupEnv(req.Name)
		if !ok {
			return response{}, nil
		}
		return response{Env: &v}, nil
	case "fail":
		// A value, not a pointer: aws-lambda-go passes its Type through as errorType.
		return response{}, messages.InvokeResponse_Error{Type: "MISSING_INPUT", Message: "name is required"}
	case "panic":
		panic("deliberate panic")
	case "sleep":
		<-ctx.Done() // the deadline passed ...
		select {}    // ... and the function still does not answer
	}
	return response{Hello: req.Name}, nil
}

func main() { lambda.Start(handle) }
