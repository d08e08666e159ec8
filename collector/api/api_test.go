package api

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/collector/store/sqlite"
	"github.com/probity-edu/probity/internal/wire"
)

type fixture struct {
	st   store.Store
	srv  *httptest.Server
	cred string
	site store.Site
}

func newFixture(t testing.TB, maxBody int64) *fixture {
	t.Helper()
	return newFixtureWith(t, func(s *Server) { s.MaxBody = maxBody })
}

// newFixtureWith is newFixture with the Server set up by configure before
// it serves (its Store is the real one; configure may wrap it).
func newFixtureWith(t testing.TB, configure func(*Server)) *fixture {
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
	site, err := st.CreateSite(ctx, store.Site{ID: "oak", TrustID: tr.ID, Name: "Oak Primary", URN: "111", Phase: "primary"})
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Store: st, Catalogue: testCatalogue(), Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	configure(s)
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	f := &fixture{st: st, srv: srv, site: site}
	if err := st.CreateEnrolToken(ctx, "oak", store.HashSecret("tok-1"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	var er wire.EnrolResponse
	if code := f.postJSON(t, wire.EnrolPath, wire.EnrolRequest{Token: "tok-1", Hostname: "pi"}, &er); code != 200 {
		t.Fatalf("enrol: %d", code)
	}
	if er.Site != "oak" || er.SiteName != "Oak Primary" || er.Credential == "" {
		t.Fatalf("enrol answer: %+v", er)
	}
	f.cred = er.Credential
	// Reads need a principal; this one sees everything.
	if err := st.CreateAdminToken(ctx, store.AdminToken{Name: "test reader", Hash: store.HashSecret(readerSecret)}); err != nil {
		t.Fatal(err)
	}
	return f
}

// readerSecret is the fixture's admin token for reads.
const readerSecret = "reader-secret-for-tests"

func (f *fixture) postJSON(t testing.TB, path string, in, out any) int {
	t.Helper()
	b, _ := json.Marshal(in)
	resp, err := http.Post(f.srv.URL+path, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		_ = json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

func (f *fixture) write(t *testing.T, cred, batch string, body []byte, gz bool) (int, wire.WriteResponse) {
	t.Helper()
	if gz {
		var buf bytes.Buffer
		w := gzip.NewWriter(&buf)
		w.Write(body)
		w.Close()
		body = buf.Bytes()
	}
	req, _ := http.NewRequest("POST", f.srv.URL+wire.WritePath, bytes.NewReader(body))
	if cred != "" {
		req.Header.Set("Authorization", "Bearer "+cred)
	}
	if batch != "" {
		req.Header.Set(wire.HeaderBatchID, batch)
	}
	if gz {
		req.Header.Set("Content-Encoding", "gzip")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var wr wire.WriteResponse
	_ = json.NewDecoder(resp.Body).Decode(&wr)
	return resp.StatusCode, wr
}

func (f *fixture) count(t *testing.T, measurement string) int {
	t.Helper()
	pts, err := f.st.Points(context.Background(), store.PointQuery{Site: "oak", Measurement: measurement, From: time.Unix(0, 0), To: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return len(pts)
}

func TestEnrolTokenSingleUse(t *testing.T) {
	f := newFixture(t, 0)
	var e apiError
	if code := f.postJSON(t, wire.EnrolPath, wire.EnrolRequest{Token: "tok-1"}, &e); code != 401 || !strings.Contains(e.Error, "already used") {
		t.Fatalf("reused token: %d %q", code, e.Error)
	}
	if code := f.postJSON(t, wire.EnrolPath, wire.EnrolRequest{Token: "never-issued"}, nil); code != 401 {
		t.Fatalf("unknown token: %d", code)
	}
	if code := f.postJSON(t, wire.EnrolPath, map[string]int{"x": 1}, nil); code != 400 {
		t.Fatalf("empty request: %d", code)
	}
}

func TestWrite(t *testing.T) {
	f := newFixture(t, 0)
	body := []byte("ping,target=gw,site=elsewhere loss_pct=0,ok=true 1764844800000000000\nping,target=gw loss_pct=10,ok=true 1764844860000000000\n")
	code, wr := f.write(t, f.cred, "batch-0001", body, true)
	if code != 200 || wr.Status != wire.StatusStored || wr.Points != 2 {
		t.Fatalf("write: %d %+v", code, wr)
	}
	// The same batch again is acknowledged and not stored twice.
	code, wr = f.write(t, f.cred, "batch-0001", body, false)
	if code != 200 || wr.Status != wire.StatusDuplicate {
		t.Fatalf("duplicate: %d %+v", code, wr)
	}
	if n := f.count(t, "ping"); n != 2 {
		t.Fatalf("stored %d points, want 2", n)
	}
	// The site tag comes from the credential, not the body.
	pts, _ := f.st.Points(context.Background(), store.PointQuery{Site: "elsewhere", Measurement: "ping", From: time.Unix(0, 0), To: time.Now().Add(time.Hour)})
	if len(pts) != 0 {
		t.Fatal("a point was stored under the site named in its body")
	}
}

func TestWriteRejections(t *testing.T) {
	f := newFixture(t, 64<<10)
	cases := []struct {
		name, cred, batch string
		body              []byte
		code              int
		errPart           string
		line              int
	}{
		{"no credential", "", "batch-0002", []byte("m a=1\n"), 401, "Bearer", 0},
		{"unknown credential", "nope", "batch-0002", []byte("m a=1\n"), 401, "unknown or revoked", 0},
		{"no batch id", f.cred, "", []byte("m a=1\n"), 400, wire.HeaderBatchID, 0},
		{"bad line", f.cred, "batch-0003", []byte("m a=1\nm a=2\nm a=\n"), 400, "line 3", 3},
		{"empty", f.cred, "batch-0004", []byte("\n"), 400, "no points", 0},
		{"too large", f.cred, "batch-0005", bytes.Repeat([]byte("m a=1\n"), 20000), 413, "split the batch", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, wr := f.write(t, tc.cred, tc.batch, tc.body, false)
			if code != tc.code || !strings.Contains(wr.Error, tc.errPart) || wr.Line != tc.line {
				t.Fatalf("got %d %+v, want %d with %q line %d", code, wr, tc.code, tc.errPart, tc.line)
			}
		})
	}
	if n := f.count(t, "m"); n != 0 {
		t.Fatalf("rejected batches stored %d points", n)
	}
	// A good batch after the bad ones is kept.
	if code, _ := f.write(t, f.cred, "batch-0006", []byte("m a=1\n"), false); code != 200 || f.count(t, "m") != 1 {
		t.Fatalf("good batch after bad ones: %d", code)
	}
}

func TestRevokedAgent(t *testing.T) {
	f := newFixture(t, 0)
	a, err := f.st.AgentByCredential(context.Background(), store.HashSecret(f.cred))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.st.RevokeAgent(context.Background(), a.ID); err != nil {
		t.Fatal(err)
	}
	if code, _ := f.write(t, f.cred, "batch-0007", []byte("m a=1\n"), false); code != 401 {
		t.Fatalf("revoked agent wrote: %d", code)
	}
}

func TestReadRoutes(t *testing.T) {
	f := newFixture(t, 0)
	get := func(path string) (int, string) {
		req, _ := http.NewRequest("GET", f.srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+readerSecret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/api/v1/sites"); code != 200 || !strings.Contains(body, `"id": "oak"`) {
		t.Fatalf("sites: %d %s", code, body)
	}
	if code, _ := get("/api/v1/sites/missing/verdicts"); code != 404 {
		t.Fatalf("unknown site: %d", code)
	}
	if code, body := get("/api/v1/sites/111/verdicts"); code != 200 || strings.TrimSpace(body) != "[]" {
		t.Fatalf("verdicts by URN: %d %s", code, body)
	}
	if code, body := get("/healthz"); code != 200 || !strings.Contains(body, "ok") {
		t.Fatalf("healthz: %d %s", code, body)
	}
	f.write(t, f.cred, "batch-0008", []byte("m a=1\n"), false)
	code, body := get("/metrics")
	if code != 200 || !strings.Contains(body, `probity_ingest_batches_total{result="stored"} 1`) ||
		!strings.Contains(body, "probity_store_points 1") || !strings.Contains(body, `probity_enrolments_total{result="ok"} 1`) {
		t.Fatalf("metrics: %d\n%s", code, body)
	}
}

// failingWrites is the real store whose WriteBatch fails as fail says,
// for the handler's answer to each kind of failure.
type failingWrites struct {
	store.Store
	fail func(ctx context.Context) error
}

func (s failingWrites) WriteBatch(ctx context.Context, _ store.Batch, _ time.Time) (bool, error) {
	return false, s.fail(ctx)
}

// A batch not stored because its request ended first (the agent hung up,
// or the collector is stopping) is not a store failure: it is logged at
// info, and a store that fails is logged as an error. Both are answered
// 503 with Retry-After, so the agent sends the batch again.
func TestWriteNotStored(t *testing.T) {
	var logs bytes.Buffer
	var cancel context.CancelFunc
	var failure func(ctx context.Context) error // each case's
	f := newFixtureWith(t, func(s *Server) {
		s.Store = failingWrites{Store: s.Store, fail: func(ctx context.Context) error { return failure(ctx) }}
		s.Log = slog.New(slog.NewJSONHandler(&logs, nil))
	})
	for _, tc := range []struct {
		name, level, msg, answer string
		fail                     func(ctx context.Context) error
	}{
		{"store fails", "ERROR", "storing batch", "store unavailable", func(context.Context) error { return errors.New("disk I/O error") }},
		{"request ends first", "INFO", "batch not stored: request ended first", "request ended before the batch was stored",
			func(ctx context.Context) error {
				cancel()
				<-ctx.Done()
				return fmt.Errorf("sqlite: write batch: %w", ctx.Err())
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs.Reset()
			failure = tc.fail
			ctx, c := context.WithCancel(context.Background())
			defer c()
			cancel = c
			req := httptest.NewRequestWithContext(ctx, "POST", wire.WritePath, strings.NewReader("m a=1\n"))
			req.Header.Set("Authorization", "Bearer "+f.cred)
			req.Header.Set(wire.HeaderBatchID, "batch-"+strings.ReplaceAll(tc.name, " ", "-"))
			rec := httptest.NewRecorder()
			f.srv.Config.Handler.ServeHTTP(rec, req)
			var wr wire.WriteResponse
			_ = json.NewDecoder(rec.Body).Decode(&wr)
			if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" || !strings.Contains(wr.Error, tc.answer) {
				t.Fatalf("answer %d (Retry-After %q) %+v, want 503 with Retry-After and %q", rec.Code, rec.Header().Get("Retry-After"), wr, tc.answer)
			}
			var line struct{ Level, Msg string }
			for _, l := range bytes.Split(bytes.TrimSpace(logs.Bytes()), []byte("\n")) {
				if err := json.Unmarshal(l, &line); err == nil && strings.Contains(line.Msg, "batch") {
					break
				}
			}
			if line.Level != tc.level || line.Msg != tc.msg {
				t.Fatalf("logged %s %q, want %s %q; log:\n%s", line.Level, line.Msg, tc.level, tc.msg, logs.String())
			}
		})
	}
}
