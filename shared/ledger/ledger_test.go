package ledger_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sfconnect/connector/internal/testclock"
	"github.com/sfconnect/connector/local/moto"
	"github.com/sfconnect/connector/shared/ledger"
)

// fixture is a fresh table on a moto_server that serialises its requests, so
// that conditional writes are atomic as in DynamoDB (see moto.StartSerialTest).
type fixture struct {
	client *dynamodb.Client
	table  string
	clock  *testclock.Clock
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	client := moto.DynamoDB(moto.StartSerialTest(t))
	return fixture{
		client: client,
		table:  moto.NewTable(t, client, "ledger", ledger.AttrKey, ledger.AttrExpiry),
		clock:  testclock.New(time.Now().Truncate(time.Millisecond)), // real time: a deadline bounds the DynamoDB calls too
	}
}

// ledger returns a Ledger of one execution environment on the fixture's table.
func (f fixture) ledger(api ledger.API) *ledger.Ledger {
	if api == nil {
		api = f.client
	}
	return ledger.New(api, ledger.Options{Table: f.table, TTL: time.Hour, Claim: time.Minute, Now: f.clock.Now})
}

func (f fixture) item(t *testing.T, key string) map[string]types.AttributeValue {
	t.Helper()
	out, err := f.client.GetItem(t.Context(), &dynamodb.GetItemInput{
		TableName: aws.String(f.table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{ledger.AttrKey: &types.AttributeValueMemberS{Value: key}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

func begin(t *testing.T, l *ledger.Ledger, key, hash string) ledger.Begun {
	t.Helper()
	b, err := l.Begin(t.Context(), key, hash)
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	return b
}

func wantState(t *testing.T, b ledger.Begun, want ledger.State) {
	t.Helper()
	names := map[ledger.State]string{ledger.Claimed: "Claimed", ledger.Completed: "Completed", ledger.Mismatch: "Mismatch", ledger.InProgress: "InProgress"}
	if b.State != want {
		t.Fatalf("got %q, want %q", names[b.State], names[want])
	}
}

// TestLifecycle walks one key through the states a repeat can find it in.
func TestLifecycle(t *testing.T) {
	f := newFixture(t)
	l := f.ledger(nil)
	tests := []struct {
		name string
		run  func(t *testing.T, key string)
	}{
		{"a completed write answers its output to the same input", func(t *testing.T, key string) {
			b := begin(t, l, key, "h1")
			wantState(t, b, ledger.Claimed)
			if b.Claim.Resumed || b.Claim.Attempt != 1 {
				t.Errorf("got resumed %v attempt %d, want a first attempt", b.Claim.Resumed, b.Claim.Attempt)
			}
			if err := b.Claim.Complete(t.Context(), []byte(`{"salesforceStatus":"201"}`)); err != nil {
				t.Fatal(err)
			}
			again := begin(t, l, key, "h1")
			wantState(t, again, ledger.Completed)
			if got, want := string(again.Output), `{"salesforceStatus":"201"}`; got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		}},
		{"another input is a mismatch, completed or not", func(t *testing.T, key string) {
			b := begin(t, l, key, "h1")
			wantState(t, begin(t, l, key, "h2"), ledger.Mismatch)
			if err := b.Claim.Complete(t.Context(), []byte(`{}`)); err != nil {
				t.Fatal(err)
			}
			wantState(t, begin(t, l, key, "h2"), ledger.Mismatch)
		}},
		{"a repeat while the claim lasts waits for its end", func(t *testing.T, key string) {
			ctx, cancel := context.WithDeadline(t.Context(), f.clock.Now().Add(30*time.Second))
			defer cancel()
			if _, err := l.Begin(ctx, key, "h1"); err != nil {
				t.Fatal(err)
			}
			again := begin(t, l, key, "h1")
			wantState(t, again, ledger.InProgress)
			if got, want := again.Until, f.clock.Now().Add(30*time.Second); !got.Equal(want) {
				t.Errorf("got until %s, want the first invocation's deadline %s", got, want)
			}
		}},
		{"a failure that sent nothing frees the key, for any input", func(t *testing.T, key string) {
			b := begin(t, l, key, "h1")
			if err := b.Claim.Release(t.Context(), false); err != nil {
				t.Fatal(err)
			}
			next := begin(t, l, key, "h2")
			wantState(t, next, ledger.Claimed)
			if next.Claim.Resumed {
				t.Errorf("got a resumed claim, want a fresh one")
			}
		}},
		{"an unknown outcome is resumed by the next attempt", func(t *testing.T, key string) {
			b := begin(t, l, key, "h1")
			if err := b.Claim.Release(t.Context(), true); err != nil {
				t.Fatal(err)
			}
			wantState(t, begin(t, l, key, "h2"), ledger.Mismatch)
			f.clock.Advance(time.Second)
			next := begin(t, l, key, "h1")
			wantState(t, next, ledger.Claimed)
			if !next.Claim.Resumed || next.Claim.Attempt != 2 || !next.Claim.Started.Equal(b.Claim.Started) {
				t.Errorf("got resumed %v attempt %d started %s, want the second attempt of the one started %s",
					next.Claim.Resumed, next.Claim.Attempt, next.Claim.Started, b.Claim.Started)
			}
			// Nothing this attempt does can free what the first may have done.
			if err := next.Claim.Release(t.Context(), false); err != nil {
				t.Fatal(err)
			}
			if third := begin(t, l, key, "h1"); !third.Claim.Resumed || third.Claim.Attempt != 3 {
				t.Errorf("got resumed %v attempt %d, want the third attempt resumed", third.Claim.Resumed, third.Claim.Attempt)
			}
		}},
		{"a claim whose invocation died is taken over after its deadline", func(t *testing.T, key string) {
			begin(t, l, key, "h1") // never ended
			wantState(t, begin(t, l, key, "h1"), ledger.InProgress)
			f.clock.Advance(time.Minute)
			next := begin(t, l, key, "h1")
			wantState(t, next, ledger.Claimed)
			if !next.Claim.Resumed {
				t.Errorf("got a fresh claim, want a resumed one")
			}
		}},
		{"a completed write expires after the TTL", func(t *testing.T, key string) {
			b := begin(t, l, key, "h1")
			if err := b.Claim.Complete(t.Context(), []byte(`{}`)); err != nil {
				t.Fatal(err)
			}
			f.clock.Advance(time.Hour)
			next := begin(t, l, key, "h2")
			wantState(t, next, ledger.Claimed)
			if next.Claim.Resumed {
				t.Errorf("got a resumed claim, want a fresh one")
			}
			if item := f.item(t, key); item["output"] != nil {
				t.Errorf("got the expired output kept in %v, want it removed", item)
			}
		}},
		{"a claim taken over cannot complete", func(t *testing.T, key string) {
			b := begin(t, l, key, "h1")
			f.clock.Advance(time.Minute)
			begin(t, l, key, "h1")
			if err := b.Claim.Complete(t.Context(), []byte(`{}`)); err == nil {
				t.Errorf("got no error, want the late completion refused")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, tt.name) })
	}
}

// TestOneWinnerAmongConcurrentRepeats starts 20 invocations with one key at
// once: exactly one claims it; the others wait for it.
func TestOneWinnerAmongConcurrentRepeats(t *testing.T) {
	f := newFixture(t)
	const n = 20
	got := make([]ledger.Begun, n)
	var wg sync.WaitGroup
	for i := range n {
		l := f.ledger(nil)
		wg.Go(func() {
			b, err := l.Begin(t.Context(), "one key", "h1")
			if err != nil {
				t.Errorf("invocation %d: %v", i, err)
			}
			got[i] = b
		})
	}
	wg.Wait()
	claimed, waiting := 0, 0
	for _, b := range got {
		switch b.State {
		case ledger.Claimed:
			claimed++
		case ledger.InProgress:
			waiting++
		}
	}
	if claimed != 1 || waiting != n-1 {
		t.Errorf("got %d claimed and %d waiting, want 1 and %d", claimed, waiting, n-1)
	}
}

// failing is a DynamoDB API that fails every call.
type failing struct{}

func (failing) UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return nil, errors.New("connection refused")
}

// TestTableUnavailable: a ledger that cannot be written is an error, never a
// claim.
func TestTableUnavailable(t *testing.T) {
	l := ledger.New(failing{}, ledger.Options{Table: "t"})
	if b, err := l.Begin(t.Context(), "k", "h"); err == nil {
		t.Errorf("got state %d and no error, want an error", b.State)
	}
}

// TestItemHoldsNoInput checks what an item keeps: the status, the hash of the
// input, the output, times; never the input itself.
func TestItemHoldsNoInput(t *testing.T) {
	f := newFixture(t)
	l := f.ledger(nil)
	b := begin(t, l, "k", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")
	if err := b.Claim.Complete(t.Context(), []byte(`{"salesforceStatus":"204"}`)); err != nil {
		t.Fatal(err)
	}
	item := f.item(t, "k")
	var names []string
	for k := range item {
		names = append(names, k)
	}
	for _, want := range []string{"id", "status", "inputHash", "owner", "startedAt", "attempts", "output", "expiry"} {
		if item[want] == nil {
			t.Errorf("item %v has no %q", names, want)
		}
	}
	if len(item) != 8 {
		t.Errorf("got attributes %v, want exactly the 8 of a completed write", names)
	}
	out, ok := item["output"].(*types.AttributeValueMemberB)
	if !ok || !bytes.Equal(out.Value, []byte(`{"salesforceStatus":"204"}`)) {
		t.Errorf("got output %v, want the output as bytes", item["output"])
	}
}
