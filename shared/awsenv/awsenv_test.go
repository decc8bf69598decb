package awsenv

import (
	"errors"
	"testing"
)

func TestLoad(t *testing.T) {
	env := map[string]string{"AWS_DEFAULT_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "tok"}
	cfg, err := Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "eu-west-1" {
		t.Errorf("got region %q, want %q", cfg.Region, "eu-west-1")
	}
	creds, err := cfg.Credentials.Retrieve(t.Context())
	if err != nil || creds.AccessKeyID != "AKID" || creds.SessionToken != "tok" {
		t.Errorf("got %+v, %v, want the environment's credentials", creds, err)
	}
	env["AWS_REGION"] = "us-east-2"
	if cfg, _ := Load(func(k string) string { return env[k] }); cfg.Region != "us-east-2" {
		t.Errorf("got region %q, want AWS_REGION to win", cfg.Region)
	}
	delete(env, "AWS_SECRET_ACCESS_KEY")
	if _, err := Load(func(k string) string { return env[k] }); !errors.Is(err, ErrNoCredentials) {
		t.Errorf("got %v, want ErrNoCredentials", err)
	}
}

func TestEndpoint(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{}, ""},
		{map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:1"}, "http://127.0.0.1:1"},
		{map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:1", "AWS_ENDPOINT_URL_SECRETS_MANAGER": "http://127.0.0.1:2"}, "http://127.0.0.1:2"},
		{map[string]string{"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:3"}, ""},
	}
	for _, tt := range tests {
		got := Endpoint(func(k string) string { return tt.env[k] }, "secrets_manager")
		if (got == nil && tt.want != "") || (got != nil && *got != tt.want) {
			t.Errorf("env %v: got %v, want %q", tt.env, got, tt.want)
		}
	}
}
