package sessionstore

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	crand "crypto/rand"
	"encoding/base64"
	"strings"
	"sync"
	"time"

	"github.com/sfconnect/connector/shared/faults"
	"github.com/sfconnect/connector/shared/salesforce/session"
	"github.com/sfconnect/connector/shared/salesforce/transport"
)

// Shared returns a session.Source that shares next's sessions with every
// execution environment through the store: for the identity next names, it
// gives the session another environment stored, or obtains one from next (a
// login of this environment) and stores it for the others with a lifetime of
// ttl. Put the session cache in front of it (session.Reuse), so that the table
// is read only when this environment has no valid session.
func (s *Store) Shared(next session.Source, ttl time.Duration) session.Source {
	return &shared{store: s, next: next, ttl: ttl}
}

type shared struct {
	store *Store
	next  session.Source
	ttl   time.Duration

	mu       sync.Mutex
	current  *session.Token // the session last given out
	sealed   string         // its access token as the table holds it
	rejected string         // the sealed token Salesforce refused since the last session
}

// Token returns the table's session for next's identity, or a login of this
// environment stored for the others. The access token is stored sealed with
// the identity's key (AES-256-GCM, the item's key and the instance URL as
// associated data): an item that does not open with this environment's key,
// or whose instance URL is not Salesforce's, is replaced by a login of its
// own, never used.
func (sh *shared) Token(ctx context.Context) (*session.Token, error) {
	id, err := sh.next.Identity(ctx)
	if err != nil {
		return nil, err
	}
	aead, err := newAEAD(id.Seal)
	if err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		sess, err := sh.store.Session(ctx, id.Key, sh.lastRejected(), func(ctx context.Context) (Session, error) {
			t, err := sh.next.Token(ctx)
			if err != nil {
				return Session{}, err
			}
			return Session{AccessToken: seal(aead, id.Key, t.InstanceURL, t.AccessToken), InstanceURL: t.InstanceURL,
				IssuedAt: t.IssuedAt, ExpiresAt: t.IssuedAt.Add(sh.ttl)}, nil
		})
		if err != nil {
			return nil, err
		}
		token, ok := open(aead, id.Key, sess.InstanceURL, sess.AccessToken)
		if ok && transport.SalesforceURL(sess.InstanceURL) {
			t := &session.Token{AccessToken: token, InstanceURL: sess.InstanceURL, Version: id.Version, IssuedAt: sess.IssuedAt, Identity: id.Key}
			sh.mu.Lock()
			sh.current, sh.sealed, sh.rejected = t, sess.AccessToken, ""
			sh.mu.Unlock()
			return t, nil
		}
		if attempt > 0 {
			return nil, faults.New(faults.UnknownError, "the shared session table holds a session this environment cannot use, also after replacing it")
		}
		sh.store.log.Warn("shared session: the stored session does not open with this identity's key or names a host that is not Salesforce's; replacing it")
		sh.mu.Lock()
		sh.rejected = sess.AccessToken
		sh.mu.Unlock()
	}
}

// Invalidate remembers t's stored form, so that the next Token replaces the
// stored session only if it is still that very one, and tells next.
func (sh *shared) Invalidate(t *session.Token) {
	sh.mu.Lock()
	if t == sh.current {
		sh.rejected = sh.sealed
	}
	sh.mu.Unlock()
	sh.next.Invalidate(t)
}

func (sh *shared) lastRejected() string {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.rejected
}

func (sh *shared) Identity(ctx context.Context) (session.Identity, error) {
	return sh.next.Identity(ctx)
}

// sealPrefix marks a sealed access token; the version of the format.
const sealPrefix = "v1:"

func newAEAD(key [32]byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, faults.Wrap(faults.UnknownError, err, "cannot use the session key")
	}
	return cipher.NewGCM(block)
}

// seal encrypts an access token for the item key and instance URL.
func seal(aead cipher.AEAD, key, instance, token string) string {
	nonce := make([]byte, aead.NonceSize())
	_, _ = crand.Read(nonce) // never fails on supported platforms
	out := aead.Seal(nonce, nonce, []byte(token), associated(key, instance))
	return sealPrefix + base64.RawStdEncoding.EncodeToString(out)
}

// open decrypts what seal made; false for anything else.
func open(aead cipher.AEAD, key, instance, sealed string) (string, bool) {
	raw, ok := strings.CutPrefix(sealed, sealPrefix)
	if !ok {
		return "", false
	}
	b, err := base64.RawStdEncoding.DecodeString(raw)
	if err != nil || len(b) < aead.NonceSize() {
		return "", false
	}
	plain, err := aead.Open(nil, b[:aead.NonceSize()], b[aead.NonceSize():], associated(key, instance))
	if err != nil {
		return "", false
	}
	return string(plain), true
}

func associated(key, instance string) []byte { return []byte(key + "\x00" + instance) }
