package auth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/probity-edu/probity/collector/store"
)

// CookieName is the session cookie.
const CookieName = "probity_session"

// Defaults of Authenticator's limits, as in collector.yaml's web section.
const (
	DefaultIdle = 8 * time.Hour
	DefaultMax  = 7 * 24 * time.Hour
)

// touchEvery bounds writes: LastSeen moves at most once a minute per
// session, which is far finer than any idle limit.
const touchEvery = time.Minute

// ErrBadToken is an Authorization header that names no valid admin
// token. It is not "nobody": a script with a revoked token should hear so.
var ErrBadToken = errors.New("unknown or revoked admin token")

// Authenticator resolves requests to principals and makes sessions.
type Authenticator struct {
	Store store.Store
	Idle  time.Duration    // 0: DefaultIdle
	Max   time.Duration    // 0: DefaultMax
	Now   func() time.Time // nil: time.Now
	Log   *slog.Logger     // nil: slog.Default
}

func (a *Authenticator) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func (a *Authenticator) log() *slog.Logger {
	if a.Log != nil {
		return a.Log
	}
	return slog.Default()
}

func (a *Authenticator) limits() (idle, max time.Duration) {
	idle, max = a.Idle, a.Max
	if idle <= 0 {
		idle = DefaultIdle
	}
	if max <= 0 {
		max = DefaultMax
	}
	return idle, max
}

// Principal resolves r: an Authorization: Bearer admin token first (a
// bad one is ErrBadToken), else the session cookie (an unknown, expired
// or idle session, or a disabled user, is nobody). Other errors are the
// store's. A principal already in r's context is returned as is.
func (a *Authenticator) Principal(r *http.Request) (Principal, error) {
	if p, ok := FromContext(r.Context()); ok {
		return p, nil
	}
	ctx := r.Context()
	if h := r.Header.Get("Authorization"); h != "" {
		tok, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || strings.TrimSpace(tok) == "" {
			return Principal{}, ErrBadToken
		}
		t, err := a.Store.AdminByToken(ctx, store.HashSecret(strings.TrimSpace(tok)))
		if errors.Is(err, store.ErrNotFound) {
			return Principal{}, ErrBadToken
		}
		if err != nil {
			return Principal{}, fmt.Errorf("admin token lookup: %w", err)
		}
		return Principal{Admin: &t}, nil
	}
	c, err := r.Cookie(CookieName)
	if err != nil || c.Value == "" {
		return Principal{}, nil
	}
	return a.sessionPrincipal(ctx, c.Value)
}

func (a *Authenticator) sessionPrincipal(ctx context.Context, token string) (Principal, error) {
	hash := store.HashSecret(token)
	se, err := a.Store.Session(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, nil
	}
	if err != nil {
		return Principal{}, fmt.Errorf("session lookup: %w", err)
	}
	now := a.now()
	idle, _ := a.limits()
	if !now.Before(se.Expires) || now.Sub(se.LastSeen) >= idle {
		if err := a.Store.DeleteSession(ctx, hash); err != nil {
			a.log().Warn("deleting an expired session", "err", err)
		}
		return Principal{}, nil
	}
	u, err := a.Store.UserByID(ctx, se.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, nil
	}
	if err != nil {
		return Principal{}, fmt.Errorf("user lookup: %w", err)
	}
	if u.Disabled {
		return Principal{}, nil
	}
	if now.Sub(se.LastSeen) >= touchEvery {
		if err := a.Store.TouchSession(ctx, hash, now); err != nil && !errors.Is(err, store.ErrNotFound) {
			a.log().Warn("recording session activity", "err", err)
		}
		se.LastSeen = now
	}
	return Principal{User: &u, Session: &se}, nil
}

// NewSession starts a session for u and returns the cookie value, which
// only the browser keeps; the store keeps its hash.
func (a *Authenticator) NewSession(ctx context.Context, u store.User) (token string, se store.Session, err error) {
	now := a.now()
	_, max := a.limits()
	token = RandomToken()
	se = store.Session{TokenHash: store.HashSecret(token), UserID: u.ID, CSRF: RandomToken(), Created: now, Expires: now.Add(max), LastSeen: now}
	if err := a.Store.CreateSession(ctx, se); err != nil {
		return "", store.Session{}, err
	}
	return token, se, nil
}

// EndSession deletes the session whose cookie value is token.
func (a *Authenticator) EndSession(ctx context.Context, token string) error {
	return a.Store.DeleteSession(ctx, store.HashSecret(token))
}

// RandomToken returns 256 random bits as hex.
func RandomToken() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("auth: no randomness: %v", err))
	}
	return hex.EncodeToString(b[:])
}
