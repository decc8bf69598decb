package sessionstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sfconnect/connector/local/moto"
	"github.com/sfconnect/connector/shared/faults"
	"github.com/sfconnect/connector/shared/sessionstore"
)

// logins is a login function that counts its calls and hands out numbered
// sessions valid for an hour.
type logins struct {
	n    atomic.Int64
	gate chan struct{} // when set, each login waits for it to close
	fail error         // when set, each login fails with it
}

func (l *logins) login(ctx context.Context) (sessionstore.Session, error) {
	n := l.n.Add(1)
	if l.gate != nil {
		select {
		case <-l.gate:
		case <-ctx.Done():
			return sessionstore.Session{}, ctx.Err()
		}
	}
	if l.fail != nil {
		return sessionstore.Session{}, l.fail
	}
	now := time.Now()
	return sessionstore.Session{
		AccessToken: fmt.Sprintf("00D000000000001!session-%d", n),
		InstanceURL: "https://acme.my.salesforce.com",
		IssuedAt:    now,
		ExpiresAt:   now.Add(time.Hour),
	}, nil
}

// watched wraps the DynamoDB API to observe reads and to fail on demand.
type watched struct {
	sessionstore.API
	onGet  func()
	getErr error
}

func (w *watched) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	if w.getErr != nil {
		return nil, w.getErr
	}
	out, err := w.API.GetItem(ctx, in, opts...)
	if w.onGet != nil {
		w.onGet()
	}
	return out, err
}

type fixture struct {
	client *dynamodb.Client
	table  string
}

// tables returns a function that makes a fresh table on one moto_server,
// which lives as long as the test t.
func tables(t *testing.T) func(t *testing.T) fixture {
	client := moto.DynamoDB(moto.StartSerialTest(t))
	return func(t *testing.T) fixture {
		return fixture{client: client, table: moto.NewTable(t, client, "sessions", sessionstore.AttrKey, sessionstore.AttrExpiry)}
	}
}

// store returns a Store of a new execution environment on the fixture's table.
func (f fixture) store(api sessionstore.API, log *bytes.Buffer, tune func(*sessionstore.Options)) *sessionstore.Store {
	if api == nil {
		api = f.client
	}
	// A generous call timeout: moto on a loaded machine has taken seconds to
	// answer, and a store that falls back to its own login would break the
	// counts these tests assert. TestSessionHostileTable sets a short one.
	o := sessionstore.Options{Table: f.table, PollMin: time.Millisecond, PollMax: 20 * time.Millisecond,
		CallTimeout: 30 * time.Second, Logger: slog.New(slog.DiscardHandler)}
	if log != nil {
		o.Logger = slog.New(slog.NewJSONHandler(log, nil))
	}
	if tune != nil {
		tune(&o)
	}
	return sessionstore.New(api, o)
}

func (f fixture) item(t *testing.T, key string) map[string]types.AttributeValue {
	t.Helper()
	out, err := f.client.GetItem(t.Context(), &dynamodb.GetItemInput{
		TableName: aws.String(f.table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{sessionstore.AttrKey: &types.AttributeValueMemberS{Value: key}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

// fleet runs n environments, each with its own Store, asking for the session at
// once, and returns the access tokens they got.
func (f fixture) fleet(t *testing.T, n int, key, rejected string, l *logins) []string {
	t.Helper()
	tokens := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		s := f.store(nil, nil, nil)
		wg.Go(func() {
			sess, err := s.Session(bounded(t), key, rejected, l.login)
			if err != nil {
				t.Errorf("environment %d: %v", i, err)
				return
			}
			tokens[i] = sess.AccessToken
		})
	}
	wg.Wait()
	return tokens
}

// bounded is the test's context with a deadline, so that a broken store fails
// the test instead of polling forever.
func bounded(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func allEqual(t *testing.T, tokens []string, want string) {
	t.Helper()
	for i, got := range tokens {
		if got != want {
			t.Errorf("environment %d: got %q, want %q", i, got, want)
		}
	}
}

func TestSessionShared(t *testing.T) {
	key := "3c9d1f0b" + strings.Repeat("0", 56) // an identity key, as session.Login hashes one
	setup := tables(t)

	t.Run("one login for a fleet", func(t *testing.T) {
		f := setup(t)
		var l logins
		tokens := f.fleet(t, 20, key, "", &l)
		if got := l.n.Load(); got != 1 {
			t.Fatalf("got %d logins, want 1", got)
		}
		allEqual(t, tokens, "00D000000000001!session-1")

		// A later environment reads it too.
		if tokens := f.fleet(t, 1, key, "", &l); l.n.Load() != 1 || tokens[0] != "00D000000000001!session-1" {
			t.Errorf("got %d logins and %q, want the stored session", l.n.Load(), tokens[0])
		}
	})

	t.Run("item holds the session and its expiry, nothing else", func(t *testing.T) {
		f := setup(t)
		var l logins
		f.fleet(t, 1, key, "", &l)
		it := f.item(t, key)
		var names []string
		for name := range it {
			names = append(names, name)
		}
		want := map[string]bool{"id": true, "accessToken": true, "instanceUrl": true, "issuedAt": true, "expiresAt": true, "expiry": true}
		for _, name := range names {
			if !want[name] {
				t.Errorf("item has %q, want only %v (the lease is released)", name, want)
			}
		}
		exp, ok := it[sessionstore.AttrExpiry].(*types.AttributeValueMemberN)
		if n, err := strconv.ParseInt(exp.Value, 10, 64); !ok || err != nil || n < time.Now().Unix() {
			t.Errorf("got expiry %v, want epoch seconds in the future", it[sessionstore.AttrExpiry])
		}
	})

	t.Run("expired session replaced once", func(t *testing.T) {
		f := setup(t)
		old := f.store(nil, nil, nil)
		_, err := old.Session(bounded(t), key, "", func(context.Context) (sessionstore.Session, error) {
			return sessionstore.Session{AccessToken: "old", InstanceURL: "https://x", IssuedAt: time.Now().Add(-2 * time.Hour),
				ExpiresAt: time.Now().Add(-time.Hour)}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var l logins
		tokens := f.fleet(t, 20, key, "", &l)
		if got := l.n.Load(); got != 1 {
			t.Errorf("got %d logins, want 1", got)
		}
		allEqual(t, tokens, "00D000000000001!session-1")
	})

	t.Run("rejected session replaced once", func(t *testing.T) {
		f := setup(t)
		var l logins
		first := f.fleet(t, 1, key, "", &l)[0]
		tokens := f.fleet(t, 20, key, first, &l)
		if got := l.n.Load(); got != 2 {
			t.Errorf("got %d logins, want 2 (one more after the rejection)", got)
		}
		allEqual(t, tokens, "00D000000000001!session-2")

		// An environment that saw the first session rejected only now finds
		// the replacement and does not log in again.
		late := f.fleet(t, 1, key, first, &l)
		if got := l.n.Load(); got != 2 || late[0] != "00D000000000001!session-2" {
			t.Errorf("got %d logins and %q, want 2 and the replacement", got, late[0])
		}
	})

	t.Run("lease of an environment that died is taken over", func(t *testing.T) {
		f := setup(t)
		short := func(o *sessionstore.Options) { o.LeaseDuration = 300 * time.Millisecond }
		// The holder takes the lease and never writes: its login hangs until
		// the end of the test, as if its environment had been frozen.
		hung := &logins{gate: make(chan struct{})}
		holder := f.store(nil, nil, short)
		holderDone := make(chan error, 1)
		go func() {
			_, err := holder.Session(bounded(t), key, "", hung.login)
			holderDone <- err
		}()
		for hung.n.Load() == 0 {
			time.Sleep(time.Millisecond)
		}

		var l logins
		got, err := f.store(nil, nil, short).Session(bounded(t), key, "", l.login)
		if err != nil {
			t.Fatalf("got %v, want a session", err)
		}
		if l.n.Load() != 1 || got.AccessToken != "00D000000000001!session-1" {
			t.Errorf("got %d logins and %q, want 1 and the new session", l.n.Load(), got.AccessToken)
		}

		// The old holder wakes up: its late write must not replace the newer session.
		close(hung.gate)
		if err := <-holderDone; err != nil {
			t.Errorf("holder: %v", err)
		}
		tok := f.item(t, key)["accessToken"].(*types.AttributeValueMemberS).Value
		if tok != "00D000000000001!session-1" {
			t.Errorf("got stored %q, want the taker's session", tok)
		}
	})

	t.Run("failed login shared with the waiting environments", func(t *testing.T) {
		f := setup(t)
		fail := faults.New(faults.MissingToken, "Salesforce rejected the login: invalid_grant: authentication failure")
		l := &logins{gate: make(chan struct{}), fail: fail}
		holderDone := make(chan error, 1)
		go func() {
			_, err := f.store(nil, nil, nil).Session(bounded(t), key, "", l.login)
			holderDone <- err
		}()
		for l.n.Load() == 0 {
			time.Sleep(time.Millisecond)
		}
		// Five environments start waiting; the login fails once they have seen the lease.
		const n = 5
		var seen sync.WaitGroup
		seen.Add(n)
		errs := make(chan error, n)
		for range n {
			var once sync.Once
			s := f.store(&watched{API: f.client, onGet: func() { once.Do(seen.Done) }}, nil, nil)
			go func() {
				_, err := s.Session(bounded(t), key, "", l.login)
				errs <- err
			}()
		}
		seen.Wait()
		close(l.gate)
		if err := <-holderDone; faults.CodeOf(err) != faults.MissingToken {
			t.Errorf("holder: got %v, want MISSING_TOKEN", err)
		}
		for range n {
			err := <-errs
			if faults.CodeOf(err) != faults.MissingToken || faults.MessageOf(err) != faults.MessageOf(fail) {
				t.Errorf("waiter: got %v, want %v", err, fail)
			}
		}
		if got := l.n.Load(); got != 1 {
			t.Errorf("got %d logins, want 1", got)
		}

		// Someone arriving later tries again.
		var ok logins
		if _, err := f.store(nil, nil, nil).Session(bounded(t), key, "", ok.login); err != nil || ok.n.Load() != 1 {
			t.Errorf("got %v after %d logins, want a new login to succeed", err, ok.n.Load())
		}
	})

	t.Run("waiting ends with the caller's deadline", func(t *testing.T) {
		f := setup(t)
		hung := &logins{gate: make(chan struct{})}
		done := make(chan struct{})
		t.Cleanup(func() { close(hung.gate); <-done })
		go func() {
			defer close(done)
			_, _ = f.store(nil, nil, nil).Session(context.Background(), key, "", hung.login)
		}()
		for hung.n.Load() == 0 {
			time.Sleep(time.Millisecond)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		var l logins
		_, err := f.store(nil, nil, nil).Session(ctx, key, "", l.login)
		if faults.CodeOf(err) != faults.RequestTimeout || l.n.Load() != 0 {
			t.Errorf("got %v after %d logins, want REQUEST_TIMEOUT and none", err, l.n.Load())
		}
	})
}

// TestTableUnavailable needs no DynamoDB: every call fails.
func TestTableUnavailable(t *testing.T) {
	denied := errors.New("AccessDeniedException: not authorized to perform dynamodb:GetItem")
	api := &watched{getErr: denied}

	t.Run("logs in alone", func(t *testing.T) {
		var log bytes.Buffer
		s := sessionstore.New(api, sessionstore.Options{Table: "sessions", Logger: slog.New(slog.NewJSONHandler(&log, nil))})
		var l logins
		got, err := s.Session(t.Context(), "k", "", l.login)
		if err != nil || l.n.Load() != 1 || got.AccessToken == "" {
			t.Fatalf("got %v after %d logins, want a session from one login", err, l.n.Load())
		}
		if !strings.Contains(log.String(), "AccessDeniedException") {
			t.Errorf("got log %q, want the table's error", log.String())
		}
		if strings.Contains(log.String(), got.AccessToken) {
			t.Errorf("got log %q, want no access token", log.String())
		}
	})
	t.Run("no time left", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		s := sessionstore.New(api, sessionstore.Options{Table: "sessions", Logger: slog.New(slog.DiscardHandler)})
		var l logins
		_, err := s.Session(ctx, "k", "", l.login)
		if faults.CodeOf(err) != faults.RequestTimeout || l.n.Load() != 0 {
			t.Errorf("got %v after %d logins, want REQUEST_TIMEOUT and none", err, l.n.Load())
		}
	})
}

// TestSessionHostileTable: a table that accepts connections and never
// answers, an item without expiresAt, and a stored failure with a code the
// catalogue does not know. None may cost the invocation its login or let
// anything but a catalogue code out.
func TestSessionHostileTable(t *testing.T) {
	setup := tables(t)
	key := "hostile-" + strings.Repeat("0", 56)

	t.Run("a table that never answers: log in alone", func(t *testing.T) {
		hang := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-hang:
			}
		}))
		t.Cleanup(srv.Close)
		t.Cleanup(func() { close(hang) })
		f := setup(t)
		s := f.store(moto.DynamoDB(srv.URL), nil, func(o *sessionstore.Options) { o.CallTimeout = 100 * time.Millisecond })
		var l logins
		sess, err := s.Session(bounded(t), key, "", l.login)
		if err != nil || sess.AccessToken == "" || l.n.Load() != 1 {
			t.Fatalf("got %v, %d logins; want a session of its own login", err, l.n.Load())
		}
	})

	t.Run("an item without expiresAt counts as expired", func(t *testing.T) {
		f := setup(t)
		_, err := f.client.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(f.table), Item: map[string]types.AttributeValue{
			sessionstore.AttrKey: &types.AttributeValueMemberS{Value: key},
			"accessToken":        &types.AttributeValueMemberS{Value: "00D!damaged"},
			"instanceUrl":        &types.AttributeValueMemberS{Value: "https://acme.my.salesforce.com"},
		}})
		if err != nil {
			t.Fatal(err)
		}
		var l logins
		sess, err := f.store(nil, nil, nil).Session(bounded(t), key, "", l.login)
		if err != nil || sess.AccessToken == "00D!damaged" || l.n.Load() != 1 {
			t.Fatalf("got %v %q, %d logins; want a fresh login", err, sess.AccessToken, l.n.Load())
		}
	})

	t.Run("a stored failure keeps to the catalogue", func(t *testing.T) {
		f := setup(t)
		_, err := f.client.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(f.table), Item: map[string]types.AttributeValue{
			sessionstore.AttrKey: &types.AttributeValueMemberS{Value: key},
			"failedAt":           &types.AttributeValueMemberN{Value: strconv.FormatInt(time.Now().Add(time.Hour).UnixMilli(), 10)},
			"failCode":           &types.AttributeValueMemberS{Value: "DROP_TABLES"},
			"failMessage":        &types.AttributeValueMemberS{Value: strings.Repeat("x", 200_000)},
		}})
		if err != nil {
			t.Fatal(err)
		}
		var l logins
		_, err = f.store(nil, nil, nil).Session(bounded(t), key, "", l.login)
		if got := faults.CodeOf(err); got != faults.UnknownError || len(faults.MessageOf(err)) > 1100 {
			t.Errorf("got %q with a %d-byte message, want UNKNOWN_ERROR and a short message", got, len(faults.MessageOf(err)))
		}
	})
}
