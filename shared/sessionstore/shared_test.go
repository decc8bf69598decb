package sessionstore_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sfconnect/connector/shared/salesforce/session"
	"github.com/sfconnect/connector/shared/sessionstore"
)

// loginSource is the bottom of a session chain: it counts logins, hands out
// numbered sessions, and says which identity it logs in as.
type loginSource struct {
	identity    session.Identity
	n           atomic.Int64
	invalidated atomic.Int64
}

func (l *loginSource) Token(context.Context) (*session.Token, error) {
	n := l.n.Add(1)
	return &session.Token{AccessToken: fmt.Sprintf("00D000000000001!shared-%d", n), InstanceURL: "https://acme.my.salesforce.com",
		Version: l.identity.Version, IssuedAt: time.Now()}, nil
}

func (l *loginSource) Invalidate(*session.Token) { l.invalidated.Add(1) }

func (l *loginSource) Identity(context.Context) (session.Identity, error) { return l.identity, nil }

// TestSharedSource: Shared is the session.Source layer the client plugs the
// table in with. Two environments get one login; a session one of them saw
// rejected is replaced once, for both; the stored session lives for the TTL
// given; the version is the identity's.
func TestSharedSource(t *testing.T) {
	f := tables(t)(t)
	id := session.Identity{Key: "identity-key-of-a-test", Version: "62.0"}
	login := &loginSource{identity: id}
	a := f.store(nil, nil, nil).Shared(login, 40*time.Minute)
	b := f.store(nil, nil, nil).Shared(login, 40*time.Minute)

	var wg sync.WaitGroup
	tokens := make([]*session.Token, 2)
	for i, src := range []session.Source{a, b} {
		wg.Go(func() {
			tok, err := src.Token(bounded(t))
			if err != nil {
				t.Errorf("environment %d: %v", i, err)
			}
			tokens[i] = tok
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if login.n.Load() != 1 || tokens[0].AccessToken != tokens[1].AccessToken {
		t.Fatalf("got %d logins and tokens %q, %q; want one login for both", login.n.Load(), tokens[0].AccessToken, tokens[1].AccessToken)
	}
	if tokens[0].Version != "62.0" || tokens[1].Version != "62.0" {
		t.Errorf("got versions %q, %q, want the identity's 62.0", tokens[0].Version, tokens[1].Version)
	}
	item := f.item(t, id.Key)
	issued, _ := strconv.ParseInt(item["issuedAt"].(*types.AttributeValueMemberN).Value, 10, 64)
	expires, _ := strconv.ParseInt(item["expiresAt"].(*types.AttributeValueMemberN).Value, 10, 64)
	if got := time.Duration(expires-issued) * time.Millisecond; got != 40*time.Minute {
		t.Errorf("got a session stored for %v, want the TTL given, 40m", got)
	}

	a.Invalidate(tokens[0])
	if login.invalidated.Load() != 1 {
		t.Errorf("got %d invalidations passed on, want 1", login.invalidated.Load())
	}
	fresh, err := a.Token(bounded(t))
	if err != nil || fresh.AccessToken == tokens[0].AccessToken || login.n.Load() != 2 {
		t.Fatalf("after the rejection got %v %v with %d logins, want a second login", fresh, err, login.n.Load())
	}
	// b still holds the rejected session in its own cache; once Salesforce
	// refuses it there too, b finds the replacement without a third login.
	b.Invalidate(tokens[1])
	again, err := b.Token(bounded(t))
	if err != nil || again.AccessToken != fresh.AccessToken || login.n.Load() != 2 {
		t.Errorf("got %v %v with %d logins, want the replacement and no third login", again, err, login.n.Load())
	}
}

// TestSharedSourceSealsTheToken: the table holds the access token only
// sealed with the identity's key; an item whose instance URL was changed, or
// that another key sealed, is replaced by a login of its own and never used.
func TestSharedSourceSealsTheToken(t *testing.T) {
	f := tables(t)(t)
	id := session.Identity{Key: "identity-key-sealed", Version: "62.0", Seal: [32]byte{1, 2, 3}}
	login := &loginSource{identity: id}
	src := f.store(nil, nil, nil).Shared(login, time.Hour)
	tok, err := src.Token(bounded(t))
	if err != nil {
		t.Fatal(err)
	}
	item := f.item(t, id.Key)
	stored := item["accessToken"].(*types.AttributeValueMemberS).Value
	if strings.Contains(stored, tok.AccessToken) || !strings.HasPrefix(stored, "v1:") {
		t.Fatalf("the table holds %q, want the token sealed", stored)
	}

	t.Run("an instance URL changed in the table", func(t *testing.T) {
		_, err := f.client.UpdateItem(t.Context(), &dynamodb.UpdateItemInput{
			TableName:                 aws.String(f.table),
			Key:                       map[string]types.AttributeValue{sessionstore.AttrKey: &types.AttributeValueMemberS{Value: id.Key}},
			UpdateExpression:          aws.String("SET instanceUrl = :u"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":u": &types.AttributeValueMemberS{Value: "https://attacker.example"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		before := login.n.Load()
		got, err := f.store(nil, nil, nil).Shared(login, time.Hour).Token(bounded(t))
		if err != nil || got.InstanceURL == "https://attacker.example" || login.n.Load() != before+1 {
			t.Fatalf("got %v %v with %d more logins, want a login of its own", got, err, login.n.Load()-before)
		}
	})
	t.Run("sealed with another key", func(t *testing.T) {
		other := &loginSource{identity: session.Identity{Key: id.Key, Version: "62.0", Seal: [32]byte{9}}}
		got, err := f.store(nil, nil, nil).Shared(other, time.Hour).Token(bounded(t))
		if err != nil || other.n.Load() != 1 {
			t.Fatalf("got %v %v with %d logins, want a login of its own", got, err, other.n.Load())
		}
	})
}
