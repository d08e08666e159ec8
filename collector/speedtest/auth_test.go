package speedtest

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/probity-edu/probity/collector/api"
	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/collector/store/sqlite"
	"github.com/probity-edu/probity/internal/wire"
)

func TestTokenFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tokens")
	plain := "elm-primary-credential-0001"
	body := "# allowed agents\n\n" +
		"sha256:" + strings.ToUpper(store.HashSecret(goodToken)) + "   oak-pi   # by hash\n" +
		plain + "\n"
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := LoadTokenFile(path, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for tok, want := range map[string]string{goodToken: "oak-pi", plain: "tokens:4"} {
		if id, err := f.Authenticate(ctx, tok); err != nil || id != want {
			t.Errorf("Authenticate(%q) = %q, %v; want %q", tok, id, err, want)
		}
	}
	// The hash itself is not a credential.
	for _, tok := range []string{store.HashSecret(goodToken), "", "sha256:" + store.HashSecret(goodToken), "nope"} {
		if _, err := f.Authenticate(ctx, tok); !errors.Is(err, ErrUnauthorized) {
			t.Errorf("Authenticate(%q) err = %v, want ErrUnauthorized", tok, err)
		}
	}

	// A changed file is read again; an invalid change keeps the old list.
	if err := os.WriteFile(path, []byte("sha256:zz\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	f.checked = time.Time{}
	f.mu.Unlock()
	if _, err := f.Authenticate(ctx, goodToken); err != nil {
		t.Errorf("after an invalid change: %v, want the old credentials kept", err)
	}
	if err := os.WriteFile(path, []byte(plain+" elm\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Minute)
	os.Chtimes(path, later, later)
	f.mu.Lock()
	f.checked = time.Time{}
	f.mu.Unlock()
	if _, err := f.Authenticate(ctx, goodToken); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("credential removed from the file: err = %v, want ErrUnauthorized", err)
	}
	if id, err := f.Authenticate(ctx, plain); err != nil || id != "elm" || f.Len() != 1 {
		t.Errorf("after reload: %q, %v, %d entries", id, err, f.Len())
	}
}

func TestTokenFileErrors(t *testing.T) {
	dir := t.TempDir()
	for body, want := range map[string]string{
		"# nothing\n\n":                      "no credentials",
		"ok-credential-0123456789\nshort\n":  "t:2: a credential must be at least 16 characters",
		"sha256:abc\n":                       "t:1: sha256: must be followed by 64 hex digits",
		"ok-credential-0123456789 name more": "t:1: want a credential or sha256:<hash> and an optional name, found 3 words",
	} {
		path := filepath.Join(dir, "t")
		os.WriteFile(path, []byte(body), 0o600)
		if _, err := LoadTokenFile(path, quietLog()); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want %q", body, err, want)
		}
	}
	if _, err := LoadTokenFile(filepath.Join(dir, "missing"), nil); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing file: err = %v", err)
	}
}

// collector is a real collector API on a real store, with one enrolled
// agent; whoami counts the questions it answers.
type collector struct {
	st      store.Store
	srv     *httptest.Server
	cred    string
	agentID string
	whoami  atomic.Int64
}

func newCollector(t *testing.T) *collector {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "p.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tr, err := st.CreateTrust(ctx, "Trust")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateSite(ctx, store.Site{ID: "oak", TrustID: tr.ID, Name: "Oak", Phase: "primary"}); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateEnrolToken(ctx, "oak", store.HashSecret("tok"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	c := &collector{st: st, cred: goodToken}
	a, err := st.ConsumeEnrolToken(ctx, store.HashSecret("tok"), store.Agent{Hostname: "pi"}, store.HashSecret(c.cred), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	c.agentID = a.ID
	h := (&api.Server{Store: st, Log: quietLog()}).Handler()
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == wire.WhoamiPath {
			c.whoami.Add(1)
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(c.srv.Close)
	return c
}

func TestStoreAuth(t *testing.T) {
	c := newCollector(t)
	ctx := context.Background()
	auth := StoreAuth{Store: c.st}
	if id, err := auth.Authenticate(ctx, c.cred); err != nil || id != c.agentID {
		t.Fatalf("Authenticate = %q, %v; want %s", id, err, c.agentID)
	}
	if _, err := auth.Authenticate(ctx, "unknown"); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("unknown credential: %v", err)
	}
	if err := c.st.RevokeAgent(ctx, c.agentID); err != nil {
		t.Fatal(err)
	}
	if _, err := auth.Authenticate(ctx, c.cred); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("revoked agent: %v", err)
	}
	c.st.Close()
	if _, err := auth.Authenticate(ctx, c.cred); err == nil || errors.Is(err, ErrUnauthorized) {
		t.Errorf("closed store: err = %v, want an error other than ErrUnauthorized", err)
	}
}

func TestRemote(t *testing.T) {
	c := newCollector(t)
	ctx := context.Background()
	r, err := NewRemote(c.srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	r.Now = func() time.Time { return now }

	if id, err := r.Authenticate(ctx, c.cred); err != nil || id != c.agentID {
		t.Fatalf("Authenticate = %q, %v; want %s", id, err, c.agentID)
	}
	if id, err := r.Authenticate(ctx, c.cred); err != nil || id != c.agentID || c.whoami.Load() != 1 {
		t.Fatalf("cached Authenticate = %q, %v after %d questions; want one question", id, err, c.whoami.Load())
	}
	// Checking on the agent's behalf does not record this server's
	// address as the agent's.
	if a, _ := c.st.AgentByCredential(ctx, store.HashSecret(c.cred)); a.LastAddress != "" {
		t.Errorf("agent address recorded as %q by a verification", a.LastAddress)
	}
	now = now.Add(5*time.Minute + time.Second)
	if _, err := r.Authenticate(ctx, c.cred); err != nil || c.whoami.Load() != 2 {
		t.Errorf("after 5 min: %v, %d questions; want a second question", err, c.whoami.Load())
	}

	for range 3 {
		if _, err := r.Authenticate(ctx, "wrong-credential"); !errors.Is(err, ErrUnauthorized) {
			t.Fatalf("bad credential: %v", err)
		}
	}
	if c.whoami.Load() != 3 {
		t.Errorf("%d questions, want a refusal cached", c.whoami.Load())
	}
	now = now.Add(31 * time.Second)
	r.Authenticate(ctx, "wrong-credential")
	if c.whoami.Load() != 4 {
		t.Errorf("%d questions, want a refusal asked again after 30 s", c.whoami.Load())
	}

	// Streams of one agent starting together share one question.
	fresh, _ := NewRemote(c.srv.URL)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() { defer wg.Done(); _, err := fresh.Authenticate(ctx, c.cred); errs <- err }()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent Authenticate: %v", err)
		}
	}
	if c.whoami.Load() != 5 {
		t.Errorf("%d questions after 8 concurrent checks, want 1 more", c.whoami.Load()-4)
	}

	// An unreachable collector is not a refusal and is not cached.
	c.srv.Close()
	down, _ := NewRemote(c.srv.URL)
	for range 2 {
		if _, err := down.Authenticate(ctx, c.cred); err == nil || errors.Is(err, ErrUnauthorized) {
			t.Errorf("collector down: err = %v, want an error other than ErrUnauthorized", err)
		}
	}
	if len(down.cache) != 0 {
		t.Errorf("failed questions cached: %d entries", len(down.cache))
	}
}

func TestNewRemoteBadURL(t *testing.T) {
	for _, u := range []string{"", "collector.example", "ftp://x", "http://"} {
		if _, err := NewRemote(u); err == nil {
			t.Errorf("NewRemote(%q) accepted", u)
		}
	}
}

// A server whose authenticator cannot reach the collector tells the agent
// to retry (503), not that its credential is bad.
func TestAuthUnavailableIs503(t *testing.T) {
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	r, err := NewRemote(gone.URL)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Auth: r, MaxDuration: time.Second, Log: quietLog()}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	resp := request(t, context.Background(), "GET", srv.URL+wire.SpeedtestDownloadPath, goodToken, nil)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("authenticator down: %d, want 503 with Retry-After", resp.StatusCode)
	}
	decodeError(t, resp)
	if st := s.Stats(); st.AuthErrors != 1 || st.Unauthorized != 0 {
		t.Errorf("stats = %+v", st)
	}
}

// TestRemoteEndToEnd runs a standalone server that asks a real collector.
func TestRemoteEndToEnd(t *testing.T) {
	c := newCollector(t)
	r, err := NewRemote(c.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Auth: r, MaxDuration: time.Second, Log: quietLog()}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	resp := request(t, context.Background(), "POST", srv.URL+wire.SpeedtestUploadPath, c.cred, strings.NewReader(strings.Repeat("x", 5000)))
	resp.Body.Close()
	if resp.StatusCode != 200 || s.Stats().BytesReceived != 5000 {
		t.Errorf("upload through a remote authenticator: %d, %+v", resp.StatusCode, s.Stats())
	}
	resp = request(t, context.Background(), "POST", srv.URL+wire.SpeedtestUploadPath, "wrong", strings.NewReader("x"))
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("wrong credential through a remote authenticator: %d", resp.StatusCode)
	}
}
