// Package sessionstore shares one Salesforce session between all the execution
// environments of a deployment, through one DynamoDB item per integration user.
//
// A Step Functions Map state can start hundreds of environments at once. Each
// logging in on its own burns the user's login rate limit (3,600 an hour) and,
// with bad credentials, counts failed logins towards a lockout. With a Store, the
// first environment to find no usable session takes a short lease on the item
// and logs in; the others wait for the session it writes and reuse it. A session
// Salesforce rejects is replaced once: only the environment that still finds the
// rejected session in the item may take the lease.
//
// The item holds the access token, which is a secret: the table must be
// encrypted at rest and readable only by the connector's functions. Nothing
// else from the configuration is stored; the item's key is a SHA-256 hash.
package sessionstore

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sfconnect/connector/shared/faults"
)

// API is the part of the DynamoDB client a Store uses; *dynamodb.Client
// satisfies it and tests can fake it. GetItem and UpdateItem are the only IAM
// actions the functions need on the table.
type API interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

var _ API = (*dynamodb.Client)(nil)

// Session is a Salesforce session as the item stores it.
type Session struct {
	AccessToken string // a secret: never logged
	InstanceURL string
	IssuedAt    time.Time
	ExpiresAt   time.Time // after this no environment uses it
}

// Attribute names of an item. The table's partition key is AttrKey (string);
// AttrExpiry is its time-to-live attribute (epoch seconds).
const (
	AttrKey    = "id"
	AttrExpiry = "expiry"

	attrToken       = "accessToken"
	attrInstance    = "instanceUrl"
	attrIssuedAt    = "issuedAt"  // epoch ms
	attrExpiresAt   = "expiresAt" // epoch ms
	attrLeaseOwner  = "leaseOwner"
	attrLeaseUntil  = "leaseUntil" // epoch ms
	attrFailedAt    = "failedAt"   // epoch ms
	attrFailCode    = "failCode"
	attrFailMessage = "failMessage"
)

// Options tunes a Store. Zero values take the defaults noted on each field.
type Options struct {
	Table string // the table's name or ARN; required

	// LeaseDuration is how long one environment may take to log in before
	// another may take over (default 15s): long enough for a healthy login,
	// short enough that an environment that died holding it delays the others
	// only a little.
	LeaseDuration time.Duration
	// PollMin and PollMax bound the waits between reads of an environment
	// waiting for another's login (defaults 50ms and 1s); the wait doubles.
	PollMin, PollMax time.Duration

	// CallTimeout bounds each attempt of a DynamoDB call, and CallAttempts
	// counts them (defaults 1s and 2): a table that does not answer costs at
	// most their product before the environment logs in on its own.
	CallTimeout  time.Duration
	CallAttempts int

	// RejectionCooldown, when above 0, makes a login Salesforce rejected
	// (MISSING_TOKEN) count for every environment for that long: they get the
	// stored error instead of trying the same credentials again. The item's
	// key names the credentials' revision, so changed credentials are a new
	// item and are tried at once. Other failures (a timeout, an unreachable
	// org) count only for the environments that waited on them.
	RejectionCooldown time.Duration

	Logger *slog.Logger     // default slog.Default()
	Now    func() time.Time // for tests (default time.Now)
}

// The defaults of Options.
const (
	DefaultLeaseDuration = 15 * time.Second
	DefaultPollMin       = 50 * time.Millisecond
	DefaultPollMax       = time.Second
	DefaultCallTimeout   = time.Second
	DefaultCallAttempts  = 2
)

// maxFailMessage bounds a stored failure message read back: the item may
// have been written by anyone with access to the table.
const maxFailMessage = 1000

// writeTimeout bounds the write of a login's outcome, which goes ahead even when
// the caller's context has ended: other environments are waiting for it.
const writeTimeout = 5 * time.Second

// Store is the shared session cache over one DynamoDB table. It is safe for
// concurrent use.
type Store struct {
	api  API
	opts Options
	log  *slog.Logger

	// owner names this Store's leases; sleep waits between polls (tests replace it).
	owner string
	sleep func(ctx context.Context, d time.Duration) error
}

// New returns a Store over the table o.Table. It does no network I/O.
func New(api API, o Options) *Store {
	if o.LeaseDuration <= 0 {
		o.LeaseDuration = DefaultLeaseDuration
	}
	if o.PollMin <= 0 {
		o.PollMin = DefaultPollMin
	}
	if o.PollMax < o.PollMin {
		o.PollMax = max(DefaultPollMax, o.PollMin)
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = DefaultCallTimeout
	}
	if o.CallAttempts <= 0 {
		o.CallAttempts = DefaultCallAttempts
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Store{api: api, opts: o, log: o.Logger, owner: newOwner(), sleep: sleepCtx}
}

// newOwner returns a random lease owner id.
func newOwner() string {
	b := make([]byte, 12)
	_, _ = crand.Read(b) // never fails on supported platforms
	return hex.EncodeToString(b)
}

// Session returns a valid session for key. rejected is an access token
// Salesforce refused to this caller ("" when none): a stored session equal to it
// counts as absent. When there is no usable session, the caller that takes the
// lease runs login and stores its session; the others wait for it, and get the
// error too if that login fails. An environment that died holding the lease is
// taken over once the lease expires.
//
// The store is an optimisation: when DynamoDB cannot be used the caller logs in
// on its own (and says so in the log) rather than fail.
func (s *Store) Session(ctx context.Context, key, rejected string, login func(context.Context) (Session, error)) (Session, error) {
	start := s.opts.Now()
	wait := s.opts.PollMin
	for {
		it, err := s.read(ctx, key)
		if err != nil {
			return s.alone(ctx, err, login)
		}
		now := s.opts.Now()
		if it.usable(now, rejected) {
			return it.session, nil
		}
		if it.failedSince(start) || it.rejectedWithin(now, s.opts.RejectionCooldown) {
			return Session{}, it.failure()
		}
		if !it.leased(now) {
			won, err := s.acquire(ctx, key, rejected, now)
			if err != nil {
				return s.alone(ctx, err, login)
			}
			if won {
				return s.loginAndStore(ctx, key, login)
			}
			// Someone else got there first: read what they wrote, after a
			// pause, so that no item the condition refuses can make this
			// loop spin.
		}
		if err := s.sleep(ctx, jittered(wait)); err != nil {
			return Session{}, faults.New(faults.RequestTimeout, "gave up waiting for another execution environment's Salesforce login")
		}
		wait = min(2*wait, s.opts.PollMax)
	}
}

// loginAndStore runs login while holding the lease and writes its outcome for
// the waiting environments.
func (s *Store) loginAndStore(ctx context.Context, key string, login func(context.Context) (Session, error)) (Session, error) {
	sess, err := login(ctx)
	// The outcome is written even when ctx ends now: the others wait for it.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	if err != nil {
		if werr := s.writeFailure(wctx, key, err); werr != nil {
			s.log.Warn("shared session: cannot record the failed login", "error", werr.Error())
		}
		return Session{}, err
	}
	if werr := s.writeSession(wctx, key, sess); werr != nil {
		// The session is good; only the others will not find it.
		s.log.Warn("shared session: cannot store the new session", "error", werr.Error())
	}
	return sess, nil
}

// alone logs in without the store after a DynamoDB failure.
func (s *Store) alone(ctx context.Context, cause error, login func(context.Context) (Session, error)) (Session, error) {
	if ctx.Err() != nil {
		return Session{}, faults.Wrap(faults.RequestTimeout, cause, "no time left to read the shared Salesforce session")
	}
	s.log.Warn("shared session table unavailable; logging in without it", "table", s.opts.Table, "error", cause.Error())
	return login(ctx)
}

// item is what a read found.
type item struct {
	session     Session
	leaseUntil  time.Time
	failedAt    time.Time
	failCode    faults.Code
	failMessage string
}

func (it item) usable(now time.Time, rejected string) bool {
	return it.session.AccessToken != "" && it.session.AccessToken != rejected && now.Before(it.session.ExpiresAt)
}

func (it item) leased(now time.Time) bool { return now.Before(it.leaseUntil) }

func (it item) failedSince(t time.Time) bool {
	return it.failCode != "" && !it.failedAt.Before(t)
}

// rejectedWithin reports whether the item holds a rejected login younger
// than cooldown.
func (it item) rejectedWithin(now time.Time, cooldown time.Duration) bool {
	return cooldown > 0 && it.failCode == faults.MissingToken && now.Sub(it.failedAt) < cooldown
}

// failure is the stored failure as an error: its code only when the catalogue
// knows it, its message cut short.
func (it item) failure() error {
	code := it.failCode
	if !code.Known() {
		code = faults.UnknownError
	}
	msg := it.failMessage
	if len(msg) > maxFailMessage {
		msg = strings.ToValidUTF8(msg[:maxFailMessage], "") + "…"
	}
	return faults.New(code, "%s", msg)
}

// read gets the item with a strongly consistent read, so that a session written
// a moment ago is seen.
func (s *Store) read(ctx context.Context, key string) (item, error) {
	var out *dynamodb.GetItemOutput
	err := s.call(ctx, func(ctx context.Context) (err error) {
		out, err = s.api.GetItem(ctx, &dynamodb.GetItemInput{
			TableName:      aws.String(s.opts.Table),
			Key:            map[string]types.AttributeValue{AttrKey: &types.AttributeValueMemberS{Value: key}},
			ConsistentRead: aws.Bool(true),
		})
		return err
	})
	if err != nil {
		return item{}, err
	}
	if out.Item == nil {
		return item{}, nil
	}
	a := out.Item
	return item{
		session: Session{
			AccessToken: str(a, attrToken),
			InstanceURL: str(a, attrInstance),
			IssuedAt:    millis(a, attrIssuedAt),
			ExpiresAt:   millis(a, attrExpiresAt),
		},
		leaseUntil:  millis(a, attrLeaseUntil),
		failedAt:    millis(a, attrFailedAt),
		failCode:    faults.Code(str(a, attrFailCode)),
		failMessage: str(a, attrFailMessage),
	}, nil
}

// acquire takes the lease if nobody holds it and the item has no session worth
// keeping: none, an expired one, or the one the caller saw rejected. It reports
// false when another environment was faster.
func (s *Store) acquire(ctx context.Context, key, rejected string, now time.Time) (bool, error) {
	until := now.Add(s.opts.LeaseDuration)
	// An item with a token but no expiresAt (written by hand, or damaged)
	// counts as expired, as read does.
	cond := "(attribute_not_exists(#lu) OR #lu < :now) AND (attribute_not_exists(#tok) OR attribute_not_exists(#ea) OR #ea <= :now"
	values := map[string]types.AttributeValue{
		":me":     &types.AttributeValueMemberS{Value: s.owner},
		":until":  num(until.UnixMilli()),
		":now":    num(now.UnixMilli()),
		":expiry": num(until.Add(time.Hour).Unix()), // an abandoned lease is cleaned up
	}
	if rejected != "" {
		cond += " OR #tok = :rejected"
		values[":rejected"] = &types.AttributeValueMemberS{Value: rejected}
	}
	cond += ")"
	err := s.update(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(s.opts.Table),
		Key:                 map[string]types.AttributeValue{AttrKey: &types.AttributeValueMemberS{Value: key}},
		UpdateExpression:    aws.String("SET #lo = :me, #lu = :until, #exp = :expiry"),
		ConditionExpression: aws.String(cond),
		ExpressionAttributeNames: map[string]string{
			"#lo": attrLeaseOwner, "#lu": attrLeaseUntil, "#tok": attrToken, "#ea": attrExpiresAt, "#exp": AttrExpiry,
		},
		ExpressionAttributeValues: values,
	})
	if conditionFailed(err) {
		return false, nil
	}
	return err == nil, err
}

// writeSession stores the new session and frees the lease, if this Store still
// holds it: one that was taken over must not overwrite the newer login.
func (s *Store) writeSession(ctx context.Context, key string, sess Session) error {
	err := s.update(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.opts.Table),
		Key:       map[string]types.AttributeValue{AttrKey: &types.AttributeValueMemberS{Value: key}},
		UpdateExpression: aws.String("SET #tok = :tok, #inst = :inst, #ia = :ia, #ea = :ea, #exp = :expiry " +
			"REMOVE #lo, #lu, #fa, #fc, #fm"),
		ConditionExpression: aws.String("#lo = :me"),
		ExpressionAttributeNames: map[string]string{
			"#tok": attrToken, "#inst": attrInstance, "#ia": attrIssuedAt, "#ea": attrExpiresAt, "#exp": AttrExpiry,
			"#lo": attrLeaseOwner, "#lu": attrLeaseUntil, "#fa": attrFailedAt, "#fc": attrFailCode, "#fm": attrFailMessage,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":tok":    &types.AttributeValueMemberS{Value: sess.AccessToken},
			":inst":   &types.AttributeValueMemberS{Value: sess.InstanceURL},
			":ia":     num(sess.IssuedAt.UnixMilli()),
			":ea":     num(sess.ExpiresAt.UnixMilli()),
			":expiry": num(sess.ExpiresAt.Unix() + 1),
			":me":     &types.AttributeValueMemberS{Value: s.owner},
		},
	})
	if conditionFailed(err) {
		return errors.New("the lease was taken over before the session was stored")
	}
	return err
}

// writeFailure records a failed login for the environments waiting on it and
// frees the lease. The message is the catalogue's, which holds no secret.
func (s *Store) writeFailure(ctx context.Context, key string, cause error) error {
	err := s.update(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(s.opts.Table),
		Key:                 map[string]types.AttributeValue{AttrKey: &types.AttributeValueMemberS{Value: key}},
		UpdateExpression:    aws.String("SET #fa = :now, #fc = :code, #fm = :msg REMOVE #lo, #lu"),
		ConditionExpression: aws.String("#lo = :me"),
		ExpressionAttributeNames: map[string]string{
			"#fa": attrFailedAt, "#fc": attrFailCode, "#fm": attrFailMessage, "#lo": attrLeaseOwner, "#lu": attrLeaseUntil,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now":  num(s.opts.Now().UnixMilli()),
			":code": &types.AttributeValueMemberS{Value: string(faults.CodeOf(cause))},
			":msg":  &types.AttributeValueMemberS{Value: nonEmpty(faults.MessageOf(cause))},
			":me":   &types.AttributeValueMemberS{Value: s.owner},
		},
	})
	if conditionFailed(err) {
		return errors.New("the lease was taken over before the failure was recorded")
	}
	return err
}

// update runs one UpdateItem through call.
func (s *Store) update(ctx context.Context, in *dynamodb.UpdateItemInput) error {
	return s.call(ctx, func(ctx context.Context) error {
		_, err := s.api.UpdateItem(ctx, in)
		return err
	})
}

// call makes up to CallAttempts attempts of one DynamoDB call, each bounded by
// CallTimeout, so that a table that accepts connections and never answers
// costs little before the caller logs in on its own. A refused condition is
// an answer, not a failure: it is not tried again.
func (s *Store) call(ctx context.Context, fn func(ctx context.Context) error) error {
	var err error
	for range s.opts.CallAttempts {
		actx, cancel := context.WithTimeout(ctx, s.opts.CallTimeout)
		err = fn(actx)
		cancel()
		if err == nil || conditionFailed(err) || ctx.Err() != nil {
			return err
		}
	}
	return err
}

func conditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func str(a map[string]types.AttributeValue, name string) string {
	if v, ok := a[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func millis(a map[string]types.AttributeValue, name string) time.Time {
	v, ok := a[name].(*types.AttributeValueMemberN)
	if !ok {
		return time.Time{}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v.Value), 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.UnixMilli(n)
}

func nonEmpty(s string) string {
	if s == "" {
		return "login failed"
	}
	return s
}

// jittered returns a duration in [d/2, d], so that waiting environments do not
// read in step.
func jittered(d time.Duration) time.Duration {
	return d/2 + rand.N(d/2+1)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
