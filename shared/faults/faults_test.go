package faults

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"
)

func TestCodeOf(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want Code
	}{
		{"nil", nil, ""},
		{"direct", New(MissingInput, "SObjectName is required"), MissingInput},
		{"wrapped", fmt.Errorf("get: %w", New(RequestTimeout, "no answer")), RequestTimeout},
		{"foreign", errors.New("boom"), UnknownError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CodeOf(tt.err); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMessageOfHidesForeignText(t *testing.T) {
	if got := MessageOf(errors.New("password=hunter2")); got != "unexpected error" {
		t.Errorf("got %q, want a generic message", got)
	}
	if got := MessageOf(Wrap(MissingToken, errors.New("password=hunter2"), "login rejected")); got != "login rejected" {
		t.Errorf("got %q, want %q", got, "login rejected")
	}
}

// TestLambdaErrorType runs the real aws-lambda-go handler path and checks that the
// errorType a workflow sees is the catalogue code, not a Go type name.
func TestLambdaErrorType(t *testing.T) {
	for _, code := range Codes {
		t.Run(string(code), func(t *testing.T) {
			h := lambda.NewHandler(func(context.Context) (string, error) {
				return "", Lambda(fmt.Errorf("ctx: %w", New(code, "msg")))
			})
			_, err := h.Invoke(t.Context(), []byte(`{}`))
			var got messages.InvokeResponse_Error
			if !errors.As(err, &got) {
				t.Fatalf("got %T, want messages.InvokeResponse_Error", err)
			}
			if got.Type != string(code) || got.Message != "msg" {
				t.Errorf("got %q/%q, want %q/%q", got.Type, got.Message, code, "msg")
			}
		})
	}
}
