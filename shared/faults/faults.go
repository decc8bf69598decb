// Package faults is the connector's error catalogue: one error type whose Code is
// the Lambda errorType a Step Functions Retry or Catch matches on.
package faults

import (
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-lambda-go/lambda/messages"
)

// Code names one entry of the catalogue. Its string is the Lambda errorType.
type Code string

// The catalogue. Workflows match these strings; never rename them.
const (
	MissingInput       Code = "MISSING_INPUT"
	InvalidInput       Code = "INVALID_INPUT"
	UnknownError       Code = "UNKNOWN_ERROR"
	RequestTimeout     Code = "REQUEST_TIMEOUT"
	CircuitBreakerOpen Code = "CIRCUIT_BREAKER_OPEN"
	MissingToken       Code = "MISSING_TOKEN"
	ConnectionError    Code = "CONNECTION_ERROR"
)

// Codes lists the catalogue in documentation order.
var Codes = []Code{MissingInput, InvalidInput, UnknownError, RequestTimeout, CircuitBreakerOpen, MissingToken, ConnectionError}

// Known reports whether c is a code of the catalogue: a code read from outside
// (a stored failure, say) is used only when it is.
func (c Code) Known() bool { return slices.Contains(Codes, c) }

// Error is the one error type of the connector. Message is shown to workflows and
// must never hold a password, token or secret; Err is the cause, kept for logs.
type Error struct {
	Code    Code
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an Error with a formatted, secret-free message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an Error with a message and the cause kept for logs.
func Wrap(code Code, err error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: err}
}

// CodeOf returns the catalogue code of err, or UnknownError for anything that is
// not an *Error. A nil error has no code.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return UnknownError
}

// MessageOf returns the message safe to show to a workflow. Errors from outside the
// catalogue get a generic message, since their text may carry anything.
func MessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "unexpected error"
}

// Lambda converts err to the value aws-lambda-go reports with errorType equal to
// the catalogue code. It must be returned as is: a pointer or a wrapped value would
// be reported under its Go type name.
func Lambda(err error) error {
	if err == nil {
		return nil
	}
	return messages.InvokeResponse_Error{Type: string(CodeOf(err)), Message: MessageOf(err)}
}

// Recover, deferred, turns a panic into an UNKNOWN_ERROR in *err naming what
// was under way. Use it where a panic would otherwise escape to a goroutine
// nobody recovers in (singleflight re-panics in a new one).
func Recover(err *error, what string) {
	if p := recover(); p != nil {
		*err = Wrap(UnknownError, fmt.Errorf("panic: %v", p), "internal error in %s", what)
	}
}
