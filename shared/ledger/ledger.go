// Package ledger keeps the idempotency ledger of the connector's writes: one
// DynamoDB item per idempotency key, so that a write repeated with the same key
// (an EventBridge event delivered twice, a Step Functions Task retried whole,
// an Express workflow running a state again) is done once and answers the same.
//
// It follows the design of Powertools for AWS Lambda's idempotency utility:
//
//   - an invocation claims the key with a conditional write that records the
//     status INPROGRESS, a hash of its input and how long its claim lasts (its
//     own deadline: past it, Lambda has stopped the invocation);
//   - a successful write stores its output under the status COMPLETED; a repeat
//     with the same input gets that output back, a repeat with another input is
//     refused, and a repeat while the claim lasts is told to wait;
//   - items expire (a time-to-live attribute) after the ledger's TTL.
//
// Where Powertools deletes the item when the handler fails, this ledger tells
// apart a failure that sent nothing (the key is freed) from one whose outcome
// is unknown (the request may have reached Salesforce). An unknown outcome
// keeps the item INPROGRESS with its claim ended: the next invocation with the
// key takes it over as Resumed, and the caller looks in Salesforce for what the
// earlier attempt did before it sends anything again.
//
// Every call is one conditional UpdateItem, which also returns the item when its
// condition fails: UpdateItem is the only IAM action the functions need.
package ledger

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// API is the part of the DynamoDB client the ledger uses; *dynamodb.Client
// satisfies it and tests can wrap it.
type API interface {
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

var _ API = (*dynamodb.Client)(nil)

// Attribute names of an item. The table's partition key is AttrKey (string);
// AttrExpiry is its time-to-live attribute (epoch seconds).
const (
	AttrKey    = "id"
	AttrExpiry = "expiry"

	attrStatus     = "status"
	attrInputHash  = "inputHash"
	attrOwner      = "owner"
	attrClaimUntil = "claimUntil" // epoch ms; 0 once a claim ended with an unknown outcome
	attrStartedAt  = "startedAt"  // epoch ms of the first attempt
	attrAttempts   = "attempts"
	attrOutput     = "output"
)

// The statuses of an item.
const (
	statusInProgress = "INPROGRESS"
	statusCompleted  = "COMPLETED"
)

// Options tunes a Ledger. Zero values take the defaults noted on each field.
type Options struct {
	Table string // the table's name or ARN; required

	// TTL is how long a completed write answers its repeats (default 24h):
	// EventBridge retries a delivery for up to 24 hours and Lambda an
	// asynchronous event for up to 6.
	TTL time.Duration
	// Claim is how long an invocation's claim lasts when its context has no
	// deadline (default 15m, the longest a Lambda function runs).
	Claim time.Duration
	// CallTimeout bounds each DynamoDB call (default 2s).
	CallTimeout time.Duration

	Logger *slog.Logger     // default slog.Default()
	Now    func() time.Time // for tests (default time.Now)
}

// The defaults of Options.
const (
	DefaultTTL         = 24 * time.Hour
	DefaultClaim       = 15 * time.Minute
	DefaultCallTimeout = 2 * time.Second
)

// maxRounds bounds Begin's compare-and-swap rounds: each lost round means
// another invocation changed the item in between.
const maxRounds = 4

// Ledger is the idempotency ledger over one DynamoDB table. It is safe for
// concurrent use.
type Ledger struct {
	api  API
	opts Options
	log  *slog.Logger
}

// New returns a Ledger over the table o.Table. It does no network I/O.
func New(api API, o Options) *Ledger {
	if o.TTL <= 0 {
		o.TTL = DefaultTTL
	}
	if o.Claim <= 0 {
		o.Claim = DefaultClaim
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = DefaultCallTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Ledger{api: api, opts: o, log: o.Logger}
}

// State is what Begin found.
type State int

const (
	// Claimed: this invocation holds the key and does the write (Begun.Claim).
	Claimed State = iota
	// Completed: an earlier invocation did the write; Begun.Output is its output.
	Completed
	// Mismatch: the key was used with another input; nothing may be sent.
	Mismatch
	// InProgress: another invocation holds the key until Begun.Until.
	InProgress
)

// Begun is the result of Begin.
type Begun struct {
	State  State
	Claim  *Claim        // Claimed
	Output []byte        // Completed
	Until  time.Time     // InProgress: when the other invocation's claim ends
	Wait   time.Duration // InProgress: how long until then, by the ledger's clock
	// Started is when the first attempt with the key began (Claimed,
	// InProgress).
	Started time.Time
}

// Claim is an invocation's hold on a key: end it with Complete or Release.
type Claim struct {
	l     *Ledger
	id    string
	owner string
	// Resumed says an earlier attempt with this key may have sent its write:
	// look in Salesforce for what it did before sending anything.
	Resumed bool
	// Started is when the first attempt with the key began.
	Started time.Time
	// Attempt counts the attempts that claimed the key, this one included.
	Attempt int
}

// Begin claims key for a write whose input hashes to inputHash, until the
// invocation's deadline (ctx's, or Options.Claim from now). It answers what a
// repeat must do: write (Claimed), answer the stored output (Completed),
// refuse (Mismatch) or wait (InProgress). An error is a DynamoDB failure.
func (l *Ledger) Begin(ctx context.Context, key, inputHash string) (Begun, error) {
	now := l.opts.Now()
	until := now.Add(l.opts.Claim)
	if dl, ok := ctx.Deadline(); ok {
		until = dl
	}
	owner := newOwner()
	old, won, err := l.claimFresh(ctx, key, inputHash, owner, now, until)
	for round := 1; ; round++ {
		switch {
		case err != nil:
			return Begun{}, err
		case won:
			return Begun{State: Claimed, Claim: &Claim{l: l, id: key, owner: owner, Started: now, Attempt: 1}, Started: now}, nil
		case round > maxRounds:
			return Begun{}, fmt.Errorf("the item of the key changed %d times while it was being claimed", maxRounds)
		}
		it := readItem(old)
		switch {
		case it.expired(now):
			// Freed or expired since the condition was checked: claim it fresh.
			old, won, err = l.claimFresh(ctx, key, inputHash, owner, now, until)
			continue
		case it.inputHash != inputHash:
			return Begun{State: Mismatch, Started: it.startedAt}, nil
		case it.status == statusCompleted:
			return Begun{State: Completed, Output: it.output, Started: it.startedAt}, nil
		case it.status != statusInProgress:
			return Begun{}, fmt.Errorf("the item of the key has the unknown status %q", it.status)
		case now.Before(it.claimUntil):
			return Begun{State: InProgress, Until: it.claimUntil, Wait: it.claimUntil.Sub(now), Started: it.startedAt}, nil
		}
		// The claim ended without an answer: the invocation died, or its
		// outcome was unknown. Take it over.
		old, won, err = l.takeOver(ctx, key, it, owner, until)
		if won {
			return Begun{State: Claimed, Started: it.startedAt, Claim: &Claim{
				l: l, id: key, owner: owner, Resumed: true, Started: it.startedAt, Attempt: it.attempts + 1,
			}}, nil
		}
	}
}

// claimFresh claims a key nobody holds: no item, or one that expired. It
// returns the item when the condition failed.
func (l *Ledger) claimFresh(ctx context.Context, key, inputHash, owner string, now, until time.Time) (map[string]types.AttributeValue, bool, error) {
	return l.update(ctx, &dynamodb.UpdateItemInput{
		Key: keyOf(key),
		UpdateExpression: aws.String("SET #st = :inprogress, #ih = :hash, #ow = :me, #cu = :until, #sa = :now, #at = :one, #exp = :expiry " +
			"REMOVE #out"),
		ConditionExpression: aws.String("attribute_not_exists(#id) OR #exp <= :nows"),
		ExpressionAttributeNames: map[string]string{
			"#st": attrStatus, "#ih": attrInputHash, "#ow": attrOwner, "#cu": attrClaimUntil, "#sa": attrStartedAt,
			"#at": attrAttempts, "#exp": AttrExpiry, "#out": attrOutput, "#id": AttrKey,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":inprogress": str(statusInProgress),
			":hash":       str(inputHash),
			":me":         str(owner),
			":until":      num(until.UnixMilli()),
			":now":        num(now.UnixMilli()),
			":one":        num(1),
			":expiry":     num(now.Add(l.opts.TTL).Unix()),
			":nows":       num(now.Unix()),
		},
	})
}

// takeOver claims a key whose claim ended, if the item is still the one seen.
func (l *Ledger) takeOver(ctx context.Context, key string, seen item, owner string, until time.Time) (map[string]types.AttributeValue, bool, error) {
	return l.update(ctx, &dynamodb.UpdateItemInput{
		Key:                 keyOf(key),
		UpdateExpression:    aws.String("SET #ow = :me, #cu = :until, #at = #at + :one"),
		ConditionExpression: aws.String("#st = :inprogress AND #ow = :seen AND #cu = :seenuntil"),
		ExpressionAttributeNames: map[string]string{
			"#st": attrStatus, "#ow": attrOwner, "#cu": attrClaimUntil, "#at": attrAttempts,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":inprogress": str(statusInProgress),
			":me":         str(owner),
			":until":      num(until.UnixMilli()),
			":one":        num(1),
			":seen":       str(seen.owner),
			":seenuntil":  num(seen.claimUntilMS),
		},
	})
}

// Complete stores the write's output: repeats with the key get it until the
// ledger's TTL passes. A claim taken over meanwhile (this invocation outlived
// its deadline) is not overwritten: the error says so.
func (c *Claim) Complete(ctx context.Context, output []byte) error {
	now := c.l.opts.Now()
	return c.end(ctx, "SET #st = :completed, #out = :out, #exp = :expiry REMOVE #cu", map[string]types.AttributeValue{
		":completed": str(statusCompleted),
		":out":       &types.AttributeValueMemberB{Value: output},
		":expiry":    num(now.Add(c.l.opts.TTL).Unix()),
	}, map[string]string{"#out": attrOutput, "#exp": AttrExpiry, "#cu": attrClaimUntil})
}

// Release ends the claim without an output. sent says the write may have
// reached Salesforce: the next invocation with the key then resumes it (and
// looks in Salesforce first); otherwise the key is free, as if never used. A
// resumed claim never frees the key: what the earlier attempt did is still
// unknown.
func (c *Claim) Release(ctx context.Context, sent bool) error {
	if sent || c.Resumed { // what an earlier attempt may have sent stays unknown
		return c.end(ctx, "SET #cu = :zero", map[string]types.AttributeValue{":zero": num(0)},
			map[string]string{"#cu": attrClaimUntil})
	}
	return c.end(ctx, "SET #exp = :zero", map[string]types.AttributeValue{":zero": num(0)},
		map[string]string{"#exp": AttrExpiry})
}

// end updates the item while this claim still holds it.
func (c *Claim) end(ctx context.Context, update string, values map[string]types.AttributeValue, names map[string]string) error {
	names["#st"], names["#ow"] = attrStatus, attrOwner
	values[":inprogress"], values[":me"] = str(statusInProgress), str(c.owner)
	_, won, err := c.l.update(ctx, &dynamodb.UpdateItemInput{
		Key:                       keyOf(c.id),
		UpdateExpression:          aws.String(update),
		ConditionExpression:       aws.String("#st = :inprogress AND #ow = :me"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	})
	if err == nil && !won {
		return errors.New("another invocation took the key over before this one ended its claim")
	}
	return err
}

// update runs one conditional UpdateItem under the call timeout. won is false
// when the condition failed; old is then the item as it was.
func (l *Ledger) update(ctx context.Context, in *dynamodb.UpdateItemInput) (old map[string]types.AttributeValue, won bool, err error) {
	in.TableName = aws.String(l.opts.Table)
	in.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
	ctx, cancel := context.WithTimeout(ctx, l.opts.CallTimeout)
	defer cancel()
	_, err = l.api.UpdateItem(ctx, in)
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return ccf.Item, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return nil, true, nil
}

// item is an item as read back.
type item struct {
	status       string
	inputHash    string
	owner        string
	claimUntil   time.Time
	claimUntilMS int64
	startedAt    time.Time
	attempts     int
	output       []byte
	expiry       int64 // epoch s
	exists       bool
}

// expired reports whether the item counts as absent: none, or past its expiry
// (DynamoDB deletes expired items only eventually).
func (it item) expired(now time.Time) bool { return !it.exists || it.expiry <= now.Unix() }

func readItem(a map[string]types.AttributeValue) item {
	if a == nil {
		return item{}
	}
	it := item{
		exists:       true,
		status:       sv(a, attrStatus),
		inputHash:    sv(a, attrInputHash),
		owner:        sv(a, attrOwner),
		claimUntilMS: nv(a, attrClaimUntil),
		startedAt:    time.UnixMilli(nv(a, attrStartedAt)),
		attempts:     int(nv(a, attrAttempts)),
		expiry:       nv(a, AttrExpiry),
	}
	it.claimUntil = time.UnixMilli(it.claimUntilMS)
	if b, ok := a[attrOutput].(*types.AttributeValueMemberB); ok {
		it.output = b.Value
	}
	return it
}

// newOwner returns a random claim owner id.
func newOwner() string {
	b := make([]byte, 12)
	_, _ = crand.Read(b) // never fails on supported platforms
	return hex.EncodeToString(b)
}

func keyOf(key string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{AttrKey: str(key)}
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func sv(a map[string]types.AttributeValue, name string) string {
	if v, ok := a[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func nv(a map[string]types.AttributeValue, name string) int64 {
	v, ok := a[name].(*types.AttributeValueMemberN)
	if !ok {
		return 0
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v.Value), 10, 64)
	if err != nil {
		return 0
	}
	return n
}
