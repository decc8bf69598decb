package connector

// Exactly-once writes on top of at-least-once triggers (README "Exactly-once
// writes"). A write that carries an idempotency key (the input idempotencyKey,
// or the id of the EventBridge event that carried it) is done at most once per
// key, and every repeat with the same input answers what the first did:
//
//   - record writes (CREATE, UPDATE, DELETE) go through the UI API with an
//     Idempotency-Key derived from the key, when the API version honours it
//     (56.0 and later): Salesforce itself runs the first and replays its
//     answer to the others, so a write whose outcome is unknown is sent again
//     safely, also with no ledger;
//   - with the ledger (SALESFORCE_IDEMPOTENCY_TABLE), every write claims its key
//     there first (package ledger): a repeat gets the stored output, another
//     input with the key is refused before anything is sent, and a repeat while
//     the first runs is told to wait. After an unknown outcome the next attempt
//     asks Salesforce what the first did (Action.reconcile) before sending.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/sfconnect/connector/shared/faults"
	"github.com/sfconnect/connector/shared/ledger"
	"github.com/sfconnect/connector/shared/salesforce"
)

// maxKeyLength is the longest idempotencyKey, in characters: the length the
// IETF draft and most APIs allow, and room for an execution ARN with a state
// name.
const maxKeyLength = 255

// The ledger write that ends a claim goes ahead after the invocation's
// context ended (a REQUEST_TIMEOUT at the deadline minus the client's margin),
// and must be done endReserve before the deadline itself, so that the
// function still answers before Lambda stops it; endTimeout bounds it when
// there is no deadline. A claim not ended in time lasts until the deadline.
const (
	endReserve = 100 * time.Millisecond
	endTimeout = 2 * time.Second
)

// beforeDeadline bounds a ledger call so that the function still answers,
// with the call's error, before Lambda stops it.
func beforeDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok {
		return context.WithDeadline(ctx, dl.Add(-endReserve))
	}
	return context.WithCancel(ctx)
}

// endContext is the context of the write that ends a claim.
func endContext(ctx context.Context) (context.Context, context.CancelFunc) {
	base := context.WithoutCancel(ctx)
	if dl, ok := ctx.Deadline(); ok {
		return context.WithDeadline(base, dl.Add(-endReserve))
	}
	return context.WithTimeout(base, endTimeout)
}

// idemKey is the idempotency key of one write.
type idemKey struct {
	caller   string // the input's idempotencyKey, or the EventBridge event's id
	implicit bool   // the event's id: used where it protects, else ignored
	digest   [sha256.Size]byte
	// via says what protected the write, for the log line: "ledger",
	// "salesforce" (the UI API's Idempotency-Key), both, or "none".
	ledger, salesforce bool
	replayed           bool // the answer came from the ledger
}

// newKey derives a write's key from the caller's, scoped by the function and
// the action: one caller key used with two actions (or two deployments sharing
// the integration user) names two writes.
func newKey(action, caller string, implicit bool) *idemKey {
	h := sha256.New()
	for _, part := range []string{"sfconnect/idempotency/v1", lambdacontext.FunctionName, action, caller} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	k := &idemKey{caller: caller, implicit: implicit}
	h.Sum(k.digest[:0])
	return k
}

// header is the Idempotency-Key sent to Salesforce: the digest shaped as a
// version 4 UUID (version nibble 4, variant bits 10), the form Salesforce
// asks for; whether it checks the version is [UNCONFIRMED].
func (k *idemKey) header() string {
	var u [16]byte
	copy(u[:], k.digest[:16])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	s := hex.EncodeToString(u[:])
	return s[:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}

// ledgerID is the key's item in the ledger: the digest in hexadecimal, so the
// table holds no caller key.
func (k *idemKey) ledgerID() string { return hex.EncodeToString(k.digest[:]) }

// name is the key as messages show it.
func (k *idemKey) name() string {
	if k.implicit {
		return "the EventBridge event id " + quote(k.caller)
	}
	return "idempotencyKey " + quote(k.caller)
}

// protection names what protected the write, for the log line.
func (k *idemKey) protection() string {
	switch {
	case k.ledger && k.salesforce:
		return "ledger+salesforce"
	case k.ledger:
		return "ledger"
	case k.salesforce:
		return "salesforce"
	}
	return "none"
}

// keyOf returns the idempotency key of a write: the input's idempotencyKey, 1
// to 255 printable ASCII characters, or else the id of the EventBridge event
// that carried the input (a UUID made once per event; that a retried delivery
// keeps it follows from being the same event, which AWS does not state in so
// many words [UNCONFIRMED]). Reads take none: they change nothing.
func keyOf(a *Action, in *input) (*idemKey, error) {
	if a.Method == http.MethodGet {
		return nil, nil
	}
	raw := bytes.TrimSpace(in.IdempotencyKey)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		if validKey(in.eventID) {
			return newKey(a.Name, in.eventID, true), nil
		}
		return nil, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil || !validKey(s) {
		return nil, faults.New(faults.InvalidInput, "idempotencyKey must be a string of 1 to %d printable ASCII characters", maxKeyLength)
	}
	return newKey(a.Name, s, false), nil
}

func validKey(s string) bool {
	if len(s) == 0 || len(s) > maxKeyLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// fingerprint hashes what a write was asked to do: the action and its
// parameters as canonical JSON (keys sorted, no spacing; a salesforcePayload
// given as a string holding JSON counts as that JSON). The idempotency key and
// the EventBridge envelope are not part of it.
func (in *input) fingerprint(action string) string {
	params := *in
	params.IdempotencyKey = nil
	if p := bytes.TrimSpace(params.SalesforcePayload); len(p) > 0 && p[0] == '"' {
		var s string
		if json.Unmarshal(p, &s) == nil && json.Valid([]byte(s)) {
			params.SalesforcePayload = json.RawMessage(s)
		}
	}
	raw, err := json.Marshal(params)
	if err != nil {
		raw = nil // every field is raw JSON that decoding accepted: not reached
	}
	h := sha256.New()
	h.Write([]byte(action))
	h.Write([]byte{0})
	h.Write(canonicalJSON(raw))
	return hex.EncodeToString(h.Sum(nil))
}

// canonicalJSON re-encodes JSON with sorted keys and no spacing; numbers keep
// their text.
func canonicalJSON(b []byte) []byte {
	var v any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if dec.Decode(&v) != nil {
		return b
	}
	out, err := json.Marshal(v)
	if err != nil {
		return b
	}
	return out
}

// salesforceKey returns the Idempotency-Key a record write sends: the key's
// UUID when the write has a key and the session's API version honours it
// (salesforce.IdempotencyVersion), else "".
func (in *input) salesforceKey(ctx context.Context, sf *salesforce.Client) (string, error) {
	if in.key == nil {
		return "", nil
	}
	ok, _, err := sf.KeyedWrites(ctx)
	if err != nil || !ok {
		return "", err
	}
	in.key.salesforce = true
	return in.key.header(), nil
}

// reconcileFunc finds in Salesforce what an earlier attempt of a write did
// after its outcome was unknown (since is when the first attempt began). A
// Response is that attempt's answer as Salesforce would have given it; nil
// means the write may be sent (it did nothing, or sending again is safe).
type reconcileFunc func(ctx context.Context, sf *salesforce.Client, in *input, since time.Time) (*salesforce.Response, error)

// once runs a write that has a key: through the ledger when there is one,
// otherwise protected by Salesforce's Idempotency-Key where the write allows
// it. It returns the output and its encoding.
func (c *Connector) once(ctx context.Context, a *Action, in *input, stats *salesforce.Stats) (*Output, []byte, error) {
	k := in.key
	if c.ledger == nil {
		out, body, err := c.answer(ctx, a, in, stats, nil)
		return out, body, k.refusal(err)
	}
	k.ledger = true
	bctx, cancel := beforeDeadline(ctx)
	b, err := c.ledger.Begin(bctx, k.ledgerID(), in.fingerprint(a.Name))
	late := bctx.Err() != nil
	cancel()
	if err != nil {
		if late {
			return nil, nil, faults.Wrap(faults.RequestTimeout, err, "%s: no time left to read the idempotency table; nothing was sent", k.name())
		}
		return nil, nil, faults.Wrap(faults.ConnectionError, err, "%s: the idempotency table cannot be used; nothing was sent", k.name())
	}
	switch b.State {
	case ledger.Completed:
		k.replayed = true
		var out Output
		_ = json.Unmarshal(b.Output, &out) // for the log line only
		return &out, b.Output, nil
	case ledger.Mismatch:
		return nil, nil, faults.New(faults.InvalidInput, "%s was used before with a different input; nothing was sent (use a new key for a new write)", k.name())
	case ledger.InProgress:
		return nil, nil, faults.New(faults.RequestTimeout, "%s: an earlier invocation with this key is still running (for at most %s more); retry after that", k.name(), waitText(b.Wait))
	}
	claim := b.Claim
	reconcile := reconcilers[a.Name]
	if !claim.Resumed {
		reconcile = nil
	}
	var resp *salesforce.Response
	if reconcile != nil {
		resp, err = reconcile(ctx, c.client, in, claim.Started)
	}
	var out *Output
	var body []byte
	if err == nil {
		out, body, err = c.answer(ctx, a, in, stats, resp)
		err = k.refusal(err)
	}
	if err == nil && resp == nil && reconcile != nil && !succeeded(out) {
		// Refused (ALREADY_IN_PROCESS, a decided work item, a name in use):
		// the earlier attempt may have been done by Salesforce only after the
		// look-up. Look again.
		if found, lerr := reconcile(ctx, c.client, in, claim.Started); lerr == nil && found != nil {
			out, body, err = c.answer(ctx, a, in, stats, found)
		}
	}
	end, cancel := endContext(ctx)
	defer cancel()
	var endErr error
	switch {
	case err == nil && succeeded(out):
		endErr = claim.Complete(end, body)
	case err == nil:
		endErr = claim.Release(end, false) // Salesforce refused the write: it changed nothing
	default:
		endErr = claim.Release(end, mayHaveSent(err))
	}
	if endErr != nil {
		c.log.Warn("idempotency: cannot end the claim of the key; a repeat resumes it after this invocation's deadline",
			"action", a.Name, "error", endErr.Error())
	}
	return out, body, err
}

// succeeded reports a 2xx output: what the ledger keeps for repeats. A refusal
// (a 4xx, or UPSERT's 300) changed nothing and is not kept, so that a repeat
// tries again, as Salesforce's own idempotency does.
func succeeded(out *Output) bool {
	s, err := strconv.Atoi(out.SalesforceStatus)
	return err == nil && s >= 200 && s < 300
}

// mayHaveSent reports whether a failed write may have reached Salesforce. The
// input and login errors come before any write; CONNECTION_ERROR and
// CIRCUIT_BREAKER_OPEN mean a POST never reached it (the transport sends a POST
// again only then), and for the idempotent writes sending again is safe anyway.
func mayHaveSent(err error) bool {
	switch faults.CodeOf(err) {
	case faults.MissingInput, faults.InvalidInput, faults.MissingToken, faults.ConnectionError, faults.CircuitBreakerOpen:
		return false
	}
	return true
}

// refusal names the key in Salesforce's refusals of its Idempotency-Key.
func (k *idemKey) refusal(err error) error {
	switch {
	case errors.Is(err, salesforce.ErrKeyReused):
		return faults.Wrap(faults.InvalidInput, err, "%s was used before with a different input; Salesforce changed nothing (use a new key for a new write)", k.name())
	case errors.Is(err, salesforce.ErrKeyInFlight):
		return faults.Wrap(faults.RequestTimeout, err, "%s: Salesforce is still running an earlier request with this key; retry in a few seconds", k.name())
	}
	return err
}

// waitText is a duration rounded up to whole seconds, for messages.
func waitText(d time.Duration) string {
	return fmt.Sprintf("%ds", int(math.Ceil(d.Seconds())))
}
