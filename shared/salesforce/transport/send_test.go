package transport

import (
	"bytes"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	c := New(Options{RetryBaseDelay: 100 * time.Millisecond, RetryMaxDelay: time.Second})
	c.jitter = func(d time.Duration) time.Duration { return d } // the ceiling itself
	want := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, time.Second, time.Second}
	for i, w := range want {
		if got := c.backoff(i+1, -1); got != w {
			t.Errorf("attempt %d: got %v, want %v", i+1, got, w)
		}
	}
	for range 1000 {
		if d := fullJitter(time.Second); d < 0 || d > time.Second {
			t.Fatalf("jitter: got %v, want within [0, 1s]", d)
		}
	}
}

func TestAllowedURL(t *testing.T) {
	for raw, want := range map[string]bool{
		"https://na1.salesforce.com/services/data":           true,
		"HTTPS://login.salesforce.com":                       true,
		"http://127.0.0.1:8080/services/data":                true,
		"http://localhost:1234":                              true,
		"http://[::1]:1234/x":                                true,
		"http://na1.salesforce.com/services/data":            false,
		"http://127.0.0.1.nip.io/":                           false,
		"http://10.0.0.1/":                                   false,
		"ftp://127.0.0.1/":                                   false,
		"/services/data/v45.0/query/01gD0000002HU6KIAW-2000": false,
		"https:///nohost":                                    false,
		"::not a url":                                        false,
	} {
		if got := AllowedURL(raw); got != want {
			t.Errorf("AllowedURL(%q): got %v, want %v", raw, got, want)
		}
	}
}

func TestSalesforceURL(t *testing.T) {
	for raw, want := range map[string]bool{
		"https://acme.my.salesforce.com":              true,
		"https://acme--uat.sandbox.my.salesforce.com": true,
		"https://na1.salesforce.com":                  true,
		"https://ACME.MY.SALESFORCE.COM.":             true,
		"https://acme.my.salesforce.mil":              true,
		"https://acme.my.sfcrmproducts.cn":            true,
		"https://acme.my.site.com":                    true,
		"http://127.0.0.1:8080":                       true,
		"https://localhost:8443":                      true,
		"https://[::1]:8443":                          true,
		"http://acme.my.salesforce.com":               false,
		"https://salesforce.com.attacker.example":     false,
		"https://attacker-salesforce.com":             false,
		"https://evil.example/services/data":          false,
		"https://10.0.0.5":                            false,
		"https://user:pass@acme.my.salesforce.com":    false,
		"https://acme.my.salesforce.com@evil.example": false,
		"/services/data/v45.0":                        false,
	} {
		if got := SalesforceURL(raw); got != want {
			t.Errorf("SalesforceURL(%q): got %v, want %v", raw, got, want)
		}
	}
}

// TestNetworkErrorLogsNoURL: a failed query's debug log line does not carry
// its URL, whose q= holds the SOQL.
func TestNetworkErrorLogsNoURL(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	var logs bytes.Buffer
	c := New(Options{MaxAttempts: 1, Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	_, err = c.Send(t.Context(), Request{Name: "GET query", Method: "GET", URL: "http://" + addr + "/services/data/v45.0/query?q=SELECT+Id+FROM+Contact+WHERE+Email%3D%27jane%40example.com%27", Idempotent: true})
	if err == nil {
		t.Fatal("got no error from a closed port")
	}
	if strings.Contains(logs.String(), "example.com") || strings.Contains(logs.String(), "SELECT") {
		t.Errorf("the log holds the query: %s", logs.String())
	}
	if !strings.Contains(logs.String(), "connection refused") {
		t.Errorf("the log lost the cause: %s", logs.String())
	}
}
