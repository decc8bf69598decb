package salesforce

import (
	"strings"
	"testing"
	"time"
)

func TestOptionsFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    Options
		wantErr []string // variables the error must name
	}{
		{name: "unset keeps defaults", env: nil, want: Options{}},
		{name: "every variable", env: map[string]string{
			EnvAuthFlow:        "SOAP",
			EnvTokenTTL:        "30m",
			EnvTimeout:         "3s",
			EnvMaxAttempts:     "4",
			EnvRetryBaseDelay:  "100ms",
			EnvRetryMaxDelay:   "1s",
			EnvBreakerFailures: "7",
			EnvBreakerCooldown: "1m",
		}, want: Options{
			AuthFlow: "soap", TokenTTL: 30 * time.Minute, Timeout: 3 * time.Second, MaxAttempts: 4,
			RetryBaseDelay: 100 * time.Millisecond, RetryMaxDelay: time.Second, BreakerFailures: 7, BreakerCooldown: time.Minute,
		}},
		{name: "bad values", env: map[string]string{
			EnvAuthFlow:        "kerberos",
			EnvTimeout:         "10",
			EnvMaxAttempts:     "0",
			EnvBreakerFailures: "many",
			EnvBreakerCooldown: "-1s",
		}, wantErr: []string{EnvAuthFlow, EnvTimeout, EnvMaxAttempts, EnvBreakerFailures, EnvBreakerCooldown}},
		{name: "base above max", env: map[string]string{EnvRetryBaseDelay: "5s"},
			wantErr: []string{EnvRetryBaseDelay, EnvRetryMaxDelay}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := OptionsFromEnv(func(k string) string { return tt.env[k] })
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("error: got %v, want none", err)
				}
				if got.AuthFlow != tt.want.AuthFlow || got.TokenTTL != tt.want.TokenTTL || got.Timeout != tt.want.Timeout ||
					got.MaxAttempts != tt.want.MaxAttempts || got.RetryBaseDelay != tt.want.RetryBaseDelay ||
					got.RetryMaxDelay != tt.want.RetryMaxDelay || got.BreakerFailures != tt.want.BreakerFailures ||
					got.BreakerCooldown != tt.want.BreakerCooldown {
					t.Errorf("got %+v, want %+v", got, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("error: got none, want one naming %v", tt.wantErr)
			}
			for _, key := range tt.wantErr {
				if !strings.Contains(err.Error(), key) {
					t.Errorf("error %q does not name %s", err, key)
				}
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	o := Options{}.withDefaults()
	if o.TokenTTL != time.Hour || o.Timeout != 10*time.Second || o.MaxAttempts != 3 ||
		o.RetryBaseDelay != 200*time.Millisecond || o.RetryMaxDelay != 2*time.Second ||
		o.BreakerFailures != 5 || o.BreakerCooldown != 30*time.Second ||
		o.DeadlineMargin != 500*time.Millisecond || o.MaxBodyBytes != 64<<20 {
		t.Errorf("defaults: got %+v", o)
	}
}
