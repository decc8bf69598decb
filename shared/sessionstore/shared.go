package sessionstore

import (
	"context"
	"sync"
	"time"

	"github.com/sfconnect/connector/shared/salesforce/session"
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
	rejected string // the access token Salesforce refused since the last session
}

func (sh *shared) Token(ctx context.Context) (*session.Token, error) {
	id, err := sh.next.Identity(ctx)
	if err != nil {
		return nil, err
	}
	sess, err := sh.store.Session(ctx, id.Key, sh.lastRejected(), func(ctx context.Context) (Session, error) {
		t, err := sh.next.Token(ctx)
		if err != nil {
			return Session{}, err
		}
		return Session{AccessToken: t.AccessToken, InstanceURL: t.InstanceURL, IssuedAt: t.IssuedAt, ExpiresAt: t.IssuedAt.Add(sh.ttl)}, nil
	})
	if err != nil {
		return nil, err
	}
	sh.mu.Lock()
	sh.rejected = ""
	sh.mu.Unlock()
	return &session.Token{AccessToken: sess.AccessToken, InstanceURL: sess.InstanceURL, Version: id.Version, IssuedAt: sess.IssuedAt, Identity: id.Key}, nil
}

// Invalidate remembers t's access token, so that the next Token replaces the
// stored session only if it is still that very one, and tells next.
func (sh *shared) Invalidate(t *session.Token) {
	sh.mu.Lock()
	sh.rejected = t.AccessToken
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
