package salesforce

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/sfconnect/connector/local/moto"
	"github.com/sfconnect/connector/sforg"
	"github.com/sfconnect/connector/shared/credentials"
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
				})
				fleet[i], _ = flowClient(flowConfig(t, org, flow), func(o *Options) { o.TokenStore = store })
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

// fakeStore is a TokenStore without DynamoDB: it keeps one session per key and
// records what the client asked for.
type fakeStore struct {
	mu       sync.Mutex
	sessions map[string]sessionstore.Session
	keys     []string
	rejected []string
}

func (f *fakeStore) Session(ctx context.Context, key, rejected string, login func(context.Context) (sessionstore.Session, error)) (sessionstore.Session, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys = append(f.keys, key)
	f.rejected = append(f.rejected, rejected)
	if s, ok := f.sessions[key]; ok && s.AccessToken != rejected {
		return s, nil
	}
	s, err := login(ctx)
	if err == nil {
		f.sessions[key] = s
	}
	return s, err
}

func TestTokenStoreHook(t *testing.T) {
	org := startOrg(t, nil)
	store := &fakeStore{sessions: map[string]sessionstore.Session{}}
	cfg := flowConfig(t, org, credentials.FlowJWT)
	clock := time.Now()
	c, _ := flowClient(cfg, func(o *Options) {
		o.TokenStore = store
		o.TokenTTL = 40 * time.Minute
		o.Now = func() time.Time { return clock }
	})
	if _, err := c.ListApprovals(t.Context()); err != nil {
		t.Fatal(err)
	}
	first := org.IssuedTokens()
	org.ExpireSessions()
	if _, err := c.ListApprovals(t.Context()); err != nil {
		t.Fatal(err)
	}

	if len(store.keys) != 2 || store.keys[0] != store.keys[1] {
		t.Fatalf("got keys %v, want the same key twice", store.keys)
	}
	want := sessionstore.Key(credentials.FlowJWT, cfg.LoginURL, cfg.Username, cfg.ClientID)
	if store.keys[0] != want {
		t.Errorf("got key %q, want %q", store.keys[0], want)
	}
	if store.rejected[0] != "" || len(first) != 1 || store.rejected[1] != first[0] {
		t.Errorf("got rejected %q, want none, then the revoked session", store.rejected)
	}
	s := store.sessions[want]
	if got := s.ExpiresAt.Sub(s.IssuedAt); got != 40*time.Minute {
		t.Errorf("got a session stored for %v, want the token TTL, 40m", got)
	}
	if strings.Contains(want, cfg.Username) || strings.Contains(want, cfg.ClientID) {
		t.Errorf("got key %q, want a hash", want)
	}
}
