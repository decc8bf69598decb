package salesforce

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/sfconnect/connector/internal/testclock"
	"github.com/sfconnect/connector/sforg"
	"github.com/sfconnect/connector/shared/credentials"
	"github.com/sfconnect/connector/shared/faults"
)

// switchable is a credentials source whose configuration a test replaces,
// as an operator replaces a secret.
type switchable struct {
	mu  sync.Mutex
	cfg credentials.Config
}

func (s *switchable) Load(context.Context) (credentials.Config, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg, nil
}

func (s *switchable) set(cfg credentials.Config) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg = cfg
}

// TestSecretSwitchedToAnotherOrg: once the configuration names another org,
// a warm environment's next write goes there, not to the old org with the
// old session for the rest of its TTL.
func TestSecretSwitchedToAnotherOrg(t *testing.T) {
	orgA, orgB := startOrg(t, nil), startOrg(t, nil)
	src := &switchable{cfg: flowConfig(t, orgA, credentials.FlowPassword)}
	// The cache reads the source at every load, as a short SALESFORCE_SECRET_TTL would.
	c, _ := flowClient(credentials.Config{}, func(o *Options) { o.Credentials = credentials.NewCache(src, time.Nanosecond) })
	create := func() {
		t.Helper()
		if resp, err := c.CreateRecord(t.Context(), "Account", []byte(`{"Name":"Acme"}`)); err != nil || resp.Status != 201 {
			t.Fatalf("create: %v %v", resp, err)
		}
	}
	create()
	src.set(flowConfig(t, orgB, credentials.FlowPassword))
	for range 3 {
		create()
	}
	if a, b := orgA.Store().Count("Account"), orgB.Store().Count("Account"); a != 1 || b != 3 {
		t.Errorf("got %d Accounts in org A and %d in org B, want 1 and 3", a, b)
	}
	if orgB.Logins() != 1 {
		t.Errorf("got %d logins to org B, want 1", orgB.Logins())
	}
}

// TestRejectionRemembered: a wrong password costs one failed login, not two
// per invocation; the rejection is remembered for the cool-down, ends with it,
// and a changed password is tried at once.
func TestRejectionRemembered(t *testing.T) {
	org := startOrg(t, nil)
	wrong := flowConfig(t, org, credentials.FlowPassword)
	wrong.Password = "not-the-password"
	src := &switchable{cfg: wrong}
	clock := testclock.New(time.Now())
	c, _ := flowClient(credentials.Config{}, func(o *Options) {
		o.Credentials = credentials.NewCache(src, time.Nanosecond)
		o.Now = clock.Now
		o.LoginCooldown = 5 * time.Minute
	})
	for i := range 5 {
		_, err := c.ListApprovals(t.Context())
		if faults.CodeOf(err) != faults.MissingToken {
			t.Fatalf("invocation %d: got %v, want MISSING_TOKEN", i, err)
		}
	}
	if got := org.Requests(sforg.RouteToken); got != 1 {
		t.Fatalf("got %d login requests for 5 invocations, want 1", got)
	}

	clock.Advance(5 * time.Minute)
	if _, err := c.ListApprovals(t.Context()); faults.CodeOf(err) != faults.MissingToken {
		t.Fatalf("after the cool-down: got %v, want MISSING_TOKEN", err)
	}
	if got := org.Requests(sforg.RouteToken); got != 2 {
		t.Fatalf("after the cool-down got %d login requests, want 2", got)
	}

	src.set(flowConfig(t, org, credentials.FlowPassword)) // the password fixed
	if _, err := c.ListApprovals(t.Context()); err != nil {
		t.Fatalf("with the right password: %v", err)
	}
	if got := org.Requests(sforg.RouteToken); got != 3 {
		t.Errorf("got %d login requests, want 3", got)
	}
}
