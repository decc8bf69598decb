package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// moto accepts any signature, so the benchmark cannot tell a wrong one: the
// floor's hand-written SigV4 is checked against the AWS SDK's signer instead,
// with and without a session token (Lambda always has one).
func TestSignMatchesSDK(t *testing.T) {
	for _, token := range []string{"", "FwoGZXIvYXdzEJr//////////wEaDExampleSessionToken"} {
		t.Run("token="+token, func(t *testing.T) {
			t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
			t.Setenv("AWS_SESSION_TOKEN", token)
			body := []byte(`{"SecretId":"sfconnect/salesforce"}`)
			now := time.Date(2026, 11, 28, 13, 30, 0, 0, time.UTC)
			newRequest := func() *http.Request {
				req, err := http.NewRequest(http.MethodPost, "https://secretsmanager.eu-west-1.amazonaws.com/", bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Content-Type", "application/x-amz-json-1.1")
				req.Header.Set("X-Amz-Target", "secretsmanager.GetSecretValue")
				return req
			}

			ours := newRequest()
			sign(ours, body, "eu-west-1", "secretsmanager", now)

			theirs := newRequest()
			theirs.ContentLength = 0 // the floor does not sign content-length
			if token != "" {
				theirs.Header.Set("X-Amz-Security-Token", token)
			}
			hash := sha256.Sum256(body)
			creds := aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", SessionToken: token}
			if err := v4.NewSigner().SignHTTP(t.Context(), creds, theirs, hex.EncodeToString(hash[:]), "secretsmanager", "eu-west-1", now); err != nil {
				t.Fatal(err)
			}
			for _, h := range []string{"Authorization", "X-Amz-Date", "X-Amz-Security-Token"} {
				if got, want := ours.Header.Get(h), theirs.Header.Get(h); got != want {
					t.Errorf("%s: got %q, want %q", h, got, want)
				}
			}
		})
	}
}
