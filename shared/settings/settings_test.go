package settings

import (
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sfconnect/connector/shared/credentials"
	"github.com/sfconnect/connector/shared/faults"
)

func lookupOf(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

func TestDefaults(t *testing.T) {
	s, err := Read(lookupOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if s.SecretID != "" || s.SecretTTL != credentials.DefaultTTL || s.AuthFlow != "" || s.SessionTable != "" ||
		s.OutputBudget != DefaultOutputBudget || s.LogLevel != slog.LevelInfo || len(s.Credentials) != 0 {
		t.Errorf("got %+v, want the defaults", s)
	}
	tr := s.Client.Transport
	if s.Client.TokenTTL != 0 || tr.Timeout != 0 || tr.MaxAttempts != 0 || tr.BreakerFailures != 0 || tr.IdleReset != 0 ||
		s.Client.APIUsageLimitPercent != 0 || s.Client.DeadlineMargin != 0 {
		t.Errorf("got client options %+v, want zero values (the libraries' defaults)", s.Client)
	}
}

func TestRead(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		check func(t *testing.T, s Settings)
	}{
		{"every tuning variable", map[string]string{
			TokenTTL: "30m", Timeout: "3s", MaxAttempts: "4", RetryBaseDelay: "100ms", RetryMaxDelay: "1s",
			BreakerFailures: "7", BreakerCooldown: "1m", DeadlineMargin: "750ms", IdleReset: "30s",
		}, func(t *testing.T, s Settings) {
			tr := s.Client.Transport
			if s.Client.TokenTTL != 30*time.Minute || tr.Timeout != 3*time.Second || tr.MaxAttempts != 4 ||
				tr.RetryBaseDelay != 100*time.Millisecond || tr.RetryMaxDelay != time.Second || tr.BreakerFailures != 7 ||
				tr.BreakerCooldown != time.Minute || s.Client.DeadlineMargin != 750*time.Millisecond || tr.IdleReset != 30*time.Second {
				t.Errorf("got %+v", s.Client)
			}
		}},
		{"secret mode", map[string]string{SecretID: " sf/prod ", SecretTTL: "90s", credentials.KeyAuthFlow: "JWT", SessionTable: "sessions"},
			func(t *testing.T, s Settings) {
				if s.SecretID != "sf/prod" || s.SecretTTL != 90*time.Second || s.AuthFlow != credentials.FlowJWT || s.SessionTable != "sessions" {
					t.Errorf("got %+v", s)
				}
			}},
		{"credentials kept as given, empty ones included", map[string]string{
			credentials.KeyPassword: " p w ", credentials.KeySecurityToken: "", credentials.KeyClientID: "id", "SALESFORCE_OTHER": "x",
		}, func(t *testing.T, s Settings) {
			want := map[string]string{credentials.KeyPassword: " p w ", credentials.KeySecurityToken: "", credentials.KeyClientID: "id"}
			if len(s.Credentials) != len(want) {
				t.Fatalf("got %v, want %v", s.Credentials, want)
			}
			for k, v := range want {
				if got, ok := s.Credentials[k]; !ok || got != v {
					t.Errorf("%s: got %q, want %q", k, got, v)
				}
			}
		}},
		{"the flow reaches the environment's credentials too", map[string]string{credentials.KeyAuthFlow: "soap"},
			func(t *testing.T, s Settings) {
				if s.Credentials[credentials.KeyAuthFlow] != "soap" {
					t.Errorf("got %v", s.Credentials)
				}
			}},
		{"usage limit, budget, level", map[string]string{APIUsageLimitPercent: " 97.5% ", OutputBudget: "100000", LogLevel: "DEBUG"},
			func(t *testing.T, s Settings) {
				if s.Client.APIUsageLimitPercent != 97.5 || s.OutputBudget != 100000 || s.LogLevel != slog.LevelDebug {
					t.Errorf("got %v, %d, %v", s.Client.APIUsageLimitPercent, s.OutputBudget, s.LogLevel)
				}
			}},
		{"blank is unset", map[string]string{Timeout: "  ", OutputBudget: ""}, func(t *testing.T, s Settings) {
			if s.Client.Transport.Timeout != 0 || s.OutputBudget != DefaultOutputBudget {
				t.Errorf("got %+v", s)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Read(lookupOf(tt.env))
			if err != nil {
				t.Fatalf("got %v, want no error", err)
			}
			tt.check(t, s)
		})
	}
}

func TestReadErrors(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		wantCode faults.Code
		wantText []string // the message names each
	}{
		{"durations", map[string]string{Timeout: "10", BreakerCooldown: "-1s", TokenTTL: "soon"}, faults.UnknownError,
			[]string{Timeout, BreakerCooldown, TokenTTL}},
		{"counts", map[string]string{MaxAttempts: "0", BreakerFailures: "many"}, faults.UnknownError, []string{MaxAttempts, BreakerFailures}},
		{"base above max", map[string]string{RetryBaseDelay: "5s"}, faults.UnknownError, []string{RetryBaseDelay, RetryMaxDelay}},
		{"usage limit", map[string]string{APIUsageLimitPercent: "101"}, faults.UnknownError, []string{APIUsageLimitPercent}},
		{"usage limit zero", map[string]string{APIUsageLimitPercent: "0"}, faults.UnknownError, []string{APIUsageLimitPercent}},
		{"usage limit NaN", map[string]string{APIUsageLimitPercent: "NaN"}, faults.UnknownError, []string{APIUsageLimitPercent}},
		{"budget too big", map[string]string{OutputBudget: "262145"}, faults.UnknownError, []string{OutputBudget, "4096", "262144"}},
		{"budget with a unit", map[string]string{OutputBudget: "240KB"}, faults.UnknownError, []string{OutputBudget}},
		{"level", map[string]string{LogLevel: "loud"}, faults.UnknownError, []string{LogLevel}},
		{"flow", map[string]string{credentials.KeyAuthFlow: "kerberos"}, faults.MissingToken, []string{credentials.KeyAuthFlow, "kerberos"}},
		{"secret ttl", map[string]string{SecretTTL: "300"}, faults.MissingToken, []string{SecretTTL}},
		{"a login setting wins the code", map[string]string{SecretTTL: "0s", Timeout: "x"}, faults.MissingToken, []string{SecretTTL, Timeout}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(lookupOf(tt.env))
			if got := faults.CodeOf(err); got != tt.wantCode {
				t.Fatalf("got %q (%v), want %q", got, err, tt.wantCode)
			}
			for _, want := range tt.wantText {
				if !strings.Contains(faults.MessageOf(err), want) {
					t.Errorf("message %q does not name %s", faults.MessageOf(err), want)
				}
			}
		})
	}
}

// TestTableIsComplete: every row has what README shows, and names are unique.
func TestTableIsComplete(t *testing.T) {
	seen := map[string]bool{}
	for _, row := range Table {
		if seen[row.Name] {
			t.Errorf("%s: listed twice", row.Name)
		}
		seen[row.Name] = true
		if row.Default == "" || row.Parse == "" || row.Doc == "" {
			t.Errorf("%s: got default %q, parse %q, doc %q; want all three", row.Name, row.Default, row.Parse, row.Doc)
		}
		if !row.Secret && row.set == nil {
			t.Errorf("%s: has no parser", row.Name)
		}
	}
	for _, key := range credentials.Keys {
		if !seen[key] {
			t.Errorf("%s: a key of the contract is missing from the table", key)
		}
	}
}

// TestREADME keeps README's settings table equal to Markdown. Run with
// -update to rewrite it.
func TestREADME(t *testing.T) {
	const path = "../../README.md"
	const begin, end = "<!-- settings:begin (generated from shared/settings.Table) -->\n", "<!-- settings:end -->"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	i, j := strings.Index(readme, begin), strings.Index(readme, end)
	if i < 0 || j < i {
		t.Fatalf("README.md has no %q ... %q section", begin, end)
	}
	got, want := readme[i+len(begin):j], Markdown()
	if got == want {
		return
	}
	if *update {
		if err := os.WriteFile(path, []byte(readme[:i+len(begin)]+want+readme[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md's settings table differs from Table; run go test ./shared/settings -run TestREADME -update\ngot:\n%s\nwant:\n%s", got, want)
}
