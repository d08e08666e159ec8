package speedtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/internal/wire"
)

// Authenticator decides whether a bearer credential belongs to an agent
// allowed to run speed tests.
type Authenticator interface {
	// Authenticate returns the agent's id (for logs). A credential that is
	// unknown or revoked is ErrUnauthorized (401); any other error means
	// the authenticator could not decide (503, the agent retries).
	Authenticate(ctx context.Context, bearerToken string) (agentID string, err error)
}

// ErrUnauthorized is an unknown or revoked credential.
var ErrUnauthorized = errors.New("speedtest: unknown or revoked agent credential")

// AgentLookup is the part of store.Store that StoreAuth needs.
type AgentLookup interface {
	AgentByCredential(ctx context.Context, credHash string) (store.Agent, error)
}

// StoreAuth authenticates against the collector's own store, as the write
// endpoint does: the credential's hash must belong to an agent not revoked.
type StoreAuth struct {
	Store AgentLookup
}

// Authenticate implements Authenticator.
func (a StoreAuth) Authenticate(ctx context.Context, token string) (string, error) {
	ag, err := a.Store.AgentByCredential(ctx, store.HashSecret(token))
	if errors.Is(err, store.ErrNotFound) || err == nil && ag.Revoked {
		return "", ErrUnauthorized
	}
	if err != nil {
		return "", fmt.Errorf("speedtest: credential lookup: %w", err)
	}
	return ag.ID, nil
}

// TokenFile authenticates against a file of allowed credentials, for a
// standalone server with no collector to ask. Each line holds one entry
// and, optionally, a name for the logs:
//
//	# comments and blank lines are ignored
//	sha256:<64 hex digits>  oak-primary   # the SHA-256 of a credential
//	<credential>            elm-primary   # the credential itself (at least 16 characters)
//
// Hashes let the file be copied around without handing out credentials.
// The file is read again when it changes (checked at most every 5 s); a
// changed file that does not parse is logged and the previous one kept.
type TokenFile struct {
	path string
	log  *slog.Logger

	mu      sync.Mutex
	names   map[string]string // store.HashSecret(credential) → name
	mod     time.Time
	size    int64
	checked time.Time
}

// tokenFileRecheck is how often Authenticate looks whether the file changed.
const tokenFileRecheck = 5 * time.Second

// minPlainToken refuses guessable plain tokens.
const minPlainToken = 16

// LoadTokenFile reads path; errors name the file and line.
func LoadTokenFile(path string, log *slog.Logger) (*TokenFile, error) {
	if log == nil {
		log = slog.Default()
	}
	f := &TokenFile{path: path, log: log}
	if err := f.reload(); err != nil {
		return nil, err
	}
	return f, nil
}

// Len is the number of credentials allowed.
func (f *TokenFile) Len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.names)
}

func (f *TokenFile) reload() error {
	fi, err := os.Stat(f.path)
	if err != nil {
		return fmt.Errorf("token file: %w", err)
	}
	data, err := os.ReadFile(f.path)
	if err != nil {
		return fmt.Errorf("token file: %w", err)
	}
	names, err := parseTokenFile(f.path, data)
	if err != nil {
		return err
	}
	f.names, f.mod, f.size = names, fi.ModTime(), fi.Size()
	return nil
}

func parseTokenFile(path string, data []byte) (map[string]string, error) {
	names := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 4096), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		where := fmt.Sprintf("%s:%d", path, n)
		if len(fields) > 2 {
			return nil, fmt.Errorf("%s: want a credential or sha256:<hash> and an optional name, found %d words", where, len(fields))
		}
		name := fmt.Sprintf("%s:%d", filepath.Base(path), n)
		if len(fields) == 2 {
			name = fields[1]
		}
		var hash string
		if h, ok := strings.CutPrefix(fields[0], "sha256:"); ok {
			h = strings.ToLower(h)
			if b, err := hex.DecodeString(h); err != nil || len(b) != 32 {
				return nil, fmt.Errorf("%s: sha256: must be followed by 64 hex digits", where)
			}
			hash = h
		} else {
			if len(fields[0]) < minPlainToken {
				return nil, fmt.Errorf("%s: a credential must be at least %d characters (or write sha256:<hash>)", where, minPlainToken)
			}
			hash = store.HashSecret(fields[0])
		}
		names[hash] = name
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%s: no credentials: every agent would be refused", path)
	}
	return names, nil
}

// Authenticate implements Authenticator.
func (f *TokenFile) Authenticate(_ context.Context, token string) (string, error) {
	hash := store.HashSecret(token)
	f.mu.Lock()
	defer f.mu.Unlock()
	if now := time.Now(); now.Sub(f.checked) >= tokenFileRecheck {
		f.checked = now
		if fi, err := os.Stat(f.path); err != nil {
			f.log.Warn("speedtest: token file unreadable; keeping the credentials read before", "err", err)
		} else if !fi.ModTime().Equal(f.mod) || fi.Size() != f.size {
			if err := f.reload(); err != nil {
				f.log.Warn("speedtest: token file changed but is invalid; keeping the credentials read before", "err", err)
			} else {
				f.log.Info("speedtest: token file reloaded", "path", f.path, "credentials", len(f.names))
			}
		}
	}
	name, ok := f.names[hash]
	if !ok {
		return "", ErrUnauthorized
	}
	return name, nil
}

// Remote authenticates by asking a collector who the credential belongs to
// (GET /api/v1/whoami with the agent's own credential), for a standalone
// server at a trust's edge. Answers are cached: a good credential for
// GoodTTL, a refused one for BadTTL; a collector that cannot be reached is
// not cached, and the agent is told to retry (503).
type Remote struct {
	base    string
	Client  *http.Client
	GoodTTL time.Duration // default 5m
	BadTTL  time.Duration // default 30s
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu    sync.Mutex
	cache map[string]*remoteEntry // by store.HashSecret(credential)
}

type remoteEntry struct {
	done    chan struct{} // closed when the answer is in
	agentID string
	err     error
	expires time.Time
}

// remoteCacheMax bounds the cache, which random credentials would
// otherwise grow without limit.
const remoteCacheMax = 10000

// whoamiVerify asks the collector not to record the caller's address as
// the agent's: the caller is this server, not the agent (see collector/api).
const whoamiVerify = "verify=1"

// NewRemote checks the collector's base URL (http:// or https://).
func NewRemote(collector string) (*Remote, error) {
	u, err := url.Parse(collector)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("collector URL must be http:// or https://host[:port], not %q", collector)
	}
	return &Remote{
		base:    strings.TrimRight(u.String(), "/"),
		Client:  &http.Client{Timeout: 10 * time.Second},
		GoodTTL: 5 * time.Minute,
		BadTTL:  30 * time.Second,
		cache:   map[string]*remoteEntry{},
	}, nil
}

func (r *Remote) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Authenticate implements Authenticator. Concurrent calls with one
// credential (an agent opening several streams) share one question.
func (r *Remote) Authenticate(ctx context.Context, token string) (string, error) {
	key := store.HashSecret(token)
	r.mu.Lock()
	if r.cache == nil {
		r.cache = map[string]*remoteEntry{}
	}
	if e, ok := r.cache[key]; ok {
		select {
		case <-e.done:
			if r.now().Before(e.expires) {
				r.mu.Unlock()
				return e.agentID, e.err
			}
			delete(r.cache, key)
		default:
			r.mu.Unlock()
			select {
			case <-e.done:
				return e.agentID, e.err
			case <-ctx.Done():
				return "", ctx.Err()
			}
		}
	}
	if len(r.cache) >= remoteCacheMax {
		r.sweep()
	}
	e := &remoteEntry{done: make(chan struct{})}
	r.cache[key] = e
	r.mu.Unlock()

	id, err := r.ask(ctx, token)
	r.mu.Lock()
	e.agentID, e.err = id, err
	switch {
	case err == nil:
		e.expires = r.now().Add(r.GoodTTL)
	case errors.Is(err, ErrUnauthorized):
		e.expires = r.now().Add(r.BadTTL)
	default:
		delete(r.cache, key) // ask again next time
	}
	close(e.done)
	r.mu.Unlock()
	return id, err
}

// sweep drops expired answers, then refusals, then everything answered,
// until the cache has room. r.mu is held.
func (r *Remote) sweep() {
	now := r.now()
	for _, drop := range []func(*remoteEntry) bool{
		func(e *remoteEntry) bool { return !now.Before(e.expires) },
		func(e *remoteEntry) bool { return e.err != nil },
		func(*remoteEntry) bool { return true },
	} {
		for k, e := range r.cache {
			select {
			case <-e.done:
				if drop(e) {
					delete(r.cache, k)
				}
			default: // in flight: a caller is waiting for it
			}
		}
		if len(r.cache) < remoteCacheMax {
			return
		}
	}
}

func (r *Remote) ask(ctx context.Context, token string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.base+wire.WhoamiPath+"?"+whoamiVerify, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := r.Client.Do(req)
	if err != nil {
		return "", fmt.Errorf("speedtest: asking the collector: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", fmt.Errorf("speedtest: asking the collector: %w", err)
	}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusUnauthorized, http.StatusForbidden:
		return "", ErrUnauthorized
	default:
		return "", fmt.Errorf("speedtest: collector %s answered %s", r.base, resp.Status)
	}
	var who wire.Whoami
	if err := json.Unmarshal(body, &who); err != nil || who.AgentID == "" {
		return "", fmt.Errorf("speedtest: collector %s: whoami answer without an agent id (is it a Probity collector?)", r.base)
	}
	return who.AgentID, nil
}
