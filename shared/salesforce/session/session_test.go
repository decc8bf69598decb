package session

import (
	"context"
	"regexp"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sfconnect/connector/internal/testclock"
	"github.com/sfconnect/connector/shared/credentials"
	"github.com/sfconnect/connector/shared/faults"
)

func TestHash(t *testing.T) {
	k := hash("jwt", "https://login.salesforce.com/services/oauth2/token", "u@example.com", "3MVG9")
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(k) {
		t.Errorf("got %q, want a hex SHA-256", k)
	}
	if k != hash("jwt", "https://login.salesforce.com/services/oauth2/token", "u@example.com", "3MVG9") {
		t.Errorf("got another key for the same parts, want the same")
	}
	if hash("ab", "c") == hash("a", "bc") {
		t.Errorf("got one key for different parts, want two")
	}
}

type staticCreds struct{ cfg credentials.Config }

func (s staticCreds) Load(context.Context) (credentials.Config, error) { return s.cfg, nil }
func (s staticCreds) Invalidate()                                      {}

func TestLoginIdentity(t *testing.T) {
	base := credentials.Config{AuthFlow: credentials.FlowPassword, LoginURL: "https://acme.my.salesforce.com/services/oauth2/token",
		SOAPLoginURL: "https://acme.my.salesforce.com/services/Soap/u/45.0", Username: "u@example.com", ClientID: "3MVG9", Version: "v45.0"}
	id := func(cfg credentials.Config) Identity {
		t.Helper()
		got, err := (&Login{creds: staticCreds{cfg}}).Identity(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	first := id(base)
	if first.Version != "45.0" || first.Key != hash("password", base.LoginURL, "u@example.com", "3MVG9", "") {
		t.Errorf("got %+v, want version 45.0 and the hash of flow, token URL, user and client id", first)
	}
	for name, edit := range map[string]func(*credentials.Config){
		"user":      func(c *credentials.Config) { c.Username = "other@example.com" },
		"client id": func(c *credentials.Config) { c.ClientID = "3MVG8" },
		"login URL": func(c *credentials.Config) { c.LoginURL = "https://other.my.salesforce.com/services/oauth2/token" },
		"flow":      func(c *credentials.Config) { c.AuthFlow = credentials.FlowSOAP },
		"revision":  func(c *credentials.Config) { c.Revision = "v2" },
	} {
		cfg := base
		edit(&cfg)
		if id(cfg).Key == first.Key {
			t.Errorf("%s changed, identity did not", name)
		}
	}
	if soap := base; true {
		soap.AuthFlow = credentials.FlowSOAP
		if id(soap).Key != hash("soap", base.SOAPLoginURL, "u@example.com", "3MVG9", "") {
			t.Errorf("the SOAP flow's identity must name the SOAP login URL")
		}
	}
}

// counter is a Source that hands out numbered sessions, issued at now.
type counter struct {
	n   atomic.Int64
	now func() time.Time
}

func (c *counter) Token(context.Context) (*Token, error) {
	n := c.n.Add(1)
	return &Token{AccessToken: strconv.FormatInt(n, 10), IssuedAt: c.now()}, nil
}
func (c *counter) Invalidate(*Token)                          {}
func (c *counter) Identity(context.Context) (Identity, error) { return Identity{}, nil }

func TestCache(t *testing.T) {
	clock := testclock.New(time.Unix(1e9, 0))
	next := &counter{now: clock.Now}
	c := Reuse(next, time.Hour, time.Minute, clock.Now)
	first, _ := c.Token(t.Context())
	if again, _ := c.Token(t.Context()); again != first || next.n.Load() != 1 {
		t.Fatalf("got %d logins, want the session reused", next.n.Load())
	}
	clock.Advance(time.Hour)
	second, _ := c.Token(t.Context())
	if second == first || next.n.Load() != 2 {
		t.Fatalf("after the TTL got %d logins, want 2", next.n.Load())
	}
	c.Invalidate(first) // an older session: the fresh one stays
	if got, _ := c.Token(t.Context()); got != second {
		t.Errorf("invalidating a stale session dropped the fresh one")
	}
	c.Invalidate(second)
	if got, _ := c.Token(t.Context()); got == second || next.n.Load() != 3 {
		t.Errorf("invalidating the current session kept it")
	}
}

// panicky is a Source whose Token panics.
type panicky struct{ counter }

func (*panicky) Token(context.Context) (*Token, error) { panic("a bug in a login") }

// TestCachePanicIsAnError: a panic in the shared login is an UNKNOWN_ERROR,
// not a crash of the execution environment.
func TestCachePanicIsAnError(t *testing.T) {
	c := Reuse(&panicky{}, time.Hour, time.Minute, time.Now)
	_, err := c.Token(t.Context())
	if faults.CodeOf(err) != faults.UnknownError {
		t.Fatalf("got %v, want UNKNOWN_ERROR", err)
	}
}
