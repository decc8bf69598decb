package salesforce

import (
	"context"
	"net/http"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/sfconnect/connector/local/moto"
	"github.com/sfconnect/connector/sforg"
	"github.com/sfconnect/connector/shared/credentials"
	"github.com/sfconnect/connector/shared/faults"
	"github.com/sfconnect/connector/shared/salesforce/session"
	"github.com/sfconnect/connector/shared/sessionstore"
)

// countedAPI counts the DynamoDB reads of one execution environment.
type countedAPI struct {
	sessionstore.API
	gets *atomic.Int64
}

func (c countedAPI) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.gets.Add(1)
	return c.API.GetItem(ctx, in, opts...)
}

// TestFleetSharesOneLogin starts 20 execution environments at once (clients
// with their own token caches and their own Store) against one org and one
// DynamoDB table: they log in once, and once more after Salesforce revokes the
// session.
func TestFleetSharesOneLogin(t *testing.T) {
	db := moto.DynamoDB(moto.StartSerialTest(t))
	for _, flow := range []string{credentials.FlowPassword, credentials.FlowClientCredentials, credentials.FlowJWT, credentials.FlowSOAP} {
		t.Run(flow, func(t *testing.T) {
			org := startOrg(t, nil)
			table := moto.NewTable(t, db, "sessions", sessionstore.AttrKey, sessionstore.AttrExpiry)
			var gets atomic.Int64
			const n = 20
			fleet := make([]*Client, n)
			for i := range fleet {
				store := sessionstore.New(countedAPI{db, &gets}, sessionstore.Options{
					Table: table, PollMin: time.Millisecond, PollMax: 20 * time.Millisecond,
					CallTimeout: 30 * time.Second, // moto on a loaded machine can take seconds
				})
				fleet[i], _ = flowClient(flowConfig(t, org, flow), func(o *Options) {
					o.Share = func(next session.Source) session.Source { return store.Shared(next, time.Hour) }
				})
			}
			all := func(round string) {
				t.Helper()
				var wg sync.WaitGroup
				for i, c := range fleet {
					wg.Go(func() {
						resp, err := c.ListApprovals(t.Context())
						if err != nil || resp.Status != http.StatusOK {
							t.Errorf("%s, environment %d: got %v %v, want 200", round, i, resp, err)
						}
					})
				}
				wg.Wait()
			}

			all("first invocations")
			if got := org.Logins(); got != 1 {
				t.Fatalf("got %d logins, want 1 for the fleet", got)
			}

			// Warm environments use their own cached session: no DynamoDB read.
			reads := gets.Load()
			all("warm invocations")
			if got := gets.Load(); got != reads {
				t.Errorf("got %d more DynamoDB reads, want none while the local session is valid", got-reads)
			}

			org.ExpireSessions()
			all("after the session was revoked")
			if got := org.Logins(); got != 2 {
				t.Errorf("got %d logins, want 2 (one replacement for the fleet)", got)
			}
			if got := org.Requests(sforg.RouteToken) + org.Requests(sforg.RouteSOAPLogin); got != 2 {
				t.Errorf("got %d login requests, want 2", got)
			}
		})
	}
}

// recorder is a layer of the Share seam that records what passes through it
// and keeps one session per identity, as the session table does.
type recorder struct {
	next session.Source

	mu          sync.Mutex
	sessions    map[string]*session.Token
	identities  []session.Identity
	invalidated []string
}

func (r *recorder) Token(ctx context.Context) (*session.Token, error) {
	id, err := r.next.Identity(ctx)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.identities = append(r.identities, id)
	t, ok := r.sessions[id.Key]
	r.mu.Unlock()
	if ok {
		return t, nil
	}
	if t, err = r.next.Token(ctx); err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.sessions[id.Key] = t
	r.mu.Unlock()
	return t, nil
}

func (r *recorder) Invalidate(t *session.Token) {
	r.mu.Lock()
	r.invalidated = append(r.invalidated, t.AccessToken)
	for k, s := range r.sessions {
		if s == t {
			delete(r.sessions, k)
		}
	}
	r.mu.Unlock()
	r.next.Invalidate(t)
}

func (r *recorder) Identity(ctx context.Context) (session.Identity, error) {
	return r.next.Identity(ctx)
}

// TestShareSeam: a layer put in by Options.Share sees the login's identity
// (a hash, never the configuration) and the session Salesforce rejected.
func TestShareSeam(t *testing.T) {
	org := startOrg(t, nil)
	rec := &recorder{sessions: map[string]*session.Token{}}
	cfg := flowConfig(t, org, credentials.FlowJWT)
	c, _ := flowClient(cfg, func(o *Options) {
		o.Share = func(next session.Source) session.Source { rec.next = next; return rec }
	})
	if _, err := c.ListApprovals(t.Context()); err != nil {
		t.Fatal(err)
	}
	first := org.IssuedTokens()
	org.ExpireSessions()
	if _, err := c.ListApprovals(t.Context()); err != nil {
		t.Fatal(err)
	}

	if len(rec.identities) != 2 || rec.identities[0] != rec.identities[1] {
		t.Fatalf("got identities %v, want the same one twice", rec.identities)
	}
	id := rec.identities[0]
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(id.Key) || id.Version != cfg.Version {
		t.Errorf("got identity %+v, want a SHA-256 key and version %s", id, cfg.Version)
	}
	if len(first) != 1 || len(rec.invalidated) != 1 || rec.invalidated[0] != first[0] {
		t.Errorf("got invalidated %q, want the revoked session", rec.invalidated)
	}
	if org.Logins() != 2 {
		t.Errorf("got %d logins, want 2", org.Logins())
	}
}

// TestFleetSharesARejection: with the session table, a wrong password costs
// one failed login for a fleet of 20 environments over three rounds of
// invocations: the rejection is stored and every environment returns it for
// the cool-down.
func TestFleetSharesARejection(t *testing.T) {
	db := moto.DynamoDB(moto.StartSerialTest(t))
	org := startOrg(t, nil)
	table := moto.NewTable(t, db, "sessions", sessionstore.AttrKey, sessionstore.AttrExpiry)
	wrong := flowConfig(t, org, credentials.FlowPassword)
	wrong.Password = "not-the-password"
	fleet := make([]*Client, 20)
	for i := range fleet {
		store := sessionstore.New(db, sessionstore.Options{Table: table, PollMin: time.Millisecond, PollMax: 20 * time.Millisecond,
			RejectionCooldown: 5 * time.Minute, CallTimeout: 30 * time.Second})
		fleet[i], _ = flowClient(wrong, func(o *Options) {
			o.Share = func(next session.Source) session.Source { return store.Shared(next, time.Hour) }
		})
	}
	for round := range 3 {
		var wg sync.WaitGroup
		for i, c := range fleet {
			wg.Go(func() {
				if _, err := c.ListApprovals(t.Context()); faults.CodeOf(err) != faults.MissingToken {
					t.Errorf("round %d, environment %d: got %v, want MISSING_TOKEN", round, i, err)
				}
			})
		}
		wg.Wait()
	}
	if got := org.Requests(sforg.RouteToken); got != 1 {
		t.Errorf("got %d login requests from 20 environments in 3 rounds, want 1", got)
	}
}
