package loadgen

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
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

// TestRunAgainstCollector enrols two schools with the real API handler
// over a SQLite store, alternating between two listeners of it as between
// two collectors, runs a few seconds of their load 120 times faster than
// real, and checks that what the run says it delivered is what the store
// holds.
func TestRunAgainstCollector(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a few thousand points to SQLite")
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "p.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	srv := &api.Server{Store: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	h := srv.Handler()
	var writesA, writesB atomic.Int64
	counting := func(n *atomic.Int64) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == wire.WritePath {
				n.Add(1)
			}
			h.ServeHTTP(w, r)
		})
	}
	a, b := httptest.NewServer(counting(&writesA)), httptest.NewServer(counting(&writesB))
	t.Cleanup(a.Close)
	t.Cleanup(b.Close)
	tr, err := st.CreateTrust(ctx, "Load")
	if err != nil {
		t.Fatal(err)
	}
	var agents []Agent
	for i, url := range []string{a.URL, b.URL} {
		id := fmt.Sprintf("load-%d", i)
		if _, err := st.CreateSite(ctx, store.Site{ID: id, TrustID: tr.ID, Name: id, Phase: "primary"}); err != nil {
			t.Fatal(err)
		}
		tok := api.NewSecret()
		if err := st.CreateEnrolToken(ctx, id, store.HashSecret(tok), time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		ag, err := Enrol(ctx, a.Client(), url, tok, "loadgen-test")
		if err != nil {
			t.Fatal(err)
		}
		if ag.Site != id || ag.Credential == "" {
			t.Fatalf("enrolled %+v", ag)
		}
		agents = append(agents, ag)
	}
	if _, err := Enrol(ctx, a.Client(), a.URL, "not-a-token", "x"); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("enrol with a bad token: %v", err)
	}

	var progress strings.Builder
	r, err := Run(ctx, Options{Collectors: []string{a.URL, b.URL}, Agents: agents, Speedup: 120, Duration: 3 * time.Second,
		BatchEvery: 500 * time.Millisecond, Progress: &progress, ProgressEvery: time.Second, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s\nprogress:\n%s", r, progress.String())
	if r.OfferedPoints == 0 || r.AcceptedPoints != r.OfferedPoints || r.Backlog != 0 || len(r.Errors) != 0 {
		t.Fatalf("not everything was delivered: %+v", r)
	}
	if r.Batches != r.BatchesOK || r.Batches < 4 || r.P50ms <= 0 || r.P50ms > r.P95ms || r.P95ms > r.P99ms {
		t.Fatalf("batches and latencies: %+v", r)
	}
	// Each school alternates between the two collectors batch by batch.
	if d := writesA.Load() - writesB.Load(); writesA.Load()+writesB.Load() != r.Batches || d < -2 || d > 2 {
		t.Errorf("writes to the two collectors: %d and %d of %d batches", writesA.Load(), writesB.Load(), r.Batches)
	}
	if !strings.Contains(progress.String(), "points/s") {
		t.Errorf("no progress lines: %q", progress.String())
	}
	// Three seconds at 120x are six simulated minutes: every school wrote
	// its switches, APs and pings several times.
	var stored int
	for _, ag := range agents {
		for m := range specPerMinute {
			pts, err := st.Points(ctx, store.PointQuery{Site: ag.Site, Measurement: m, From: time.Now().Add(-time.Hour), To: time.Now().Add(time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			stored += len(pts)
			if (m == "snmp_if" || m == "wifi_ap" || m == "ping") && len(pts) == 0 {
				t.Errorf("%s: no %s points stored", ag.Site, m)
			}
			for _, p := range pts {
				if p.Tags[store.TagAgent] != ag.AgentID {
					t.Fatalf("%s point of %s tagged agent %q, want %q", m, ag.Site, p.Tags[store.TagAgent], ag.AgentID)
				}
			}
		}
	}
	if int64(stored) != r.AcceptedPoints {
		t.Fatalf("store holds %d points, the run says %d were accepted", stored, r.AcceptedPoints)
	}
}

// TestRunHonoursRetryAfter: a school refused with 503 and Retry-After
// keeps its batches and sends again no sooner than it was told, as
// probity-agent does, rather than at its next shipping time.
func TestRunHonoursRetryAfter(t *testing.T) {
	var mu sync.Mutex
	var times []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		times = append(times, time.Now())
		first := len(times) == 1
		mu.Unlock()
		if first {
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	r, err := Run(context.Background(), Options{Collectors: []string{srv.URL}, Agents: []Agent{{Site: "s", AgentID: "a", Credential: "c"}},
		Speedup: 120, Duration: 3 * time.Second, BatchEvery: 200 * time.Millisecond, Drain: 5 * time.Second, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(times) < 2 || times[1].Sub(times[0]) < 2*time.Second-50*time.Millisecond {
		t.Fatalf("retried after %v, want after Retry-After's 2s (%d requests)", times[1].Sub(times[0]), len(times))
	}
	if r.Errors["503"] != 1 || len(r.Errors) != 1 || r.AcceptedPoints != r.OfferedPoints || r.Backlog != 0 {
		t.Fatalf("refused once, then everything delivered: %+v", r)
	}
	if !strings.Contains(r.String(), "errors 503: 1") {
		t.Errorf("summary does not show the refusal: %s", r)
	}
	for h, want := range map[string]time.Duration{"": 0, "x": 0, "-1": 0, "0": time.Second, "3": 3 * time.Second, "86400": 5 * time.Minute} {
		if got := retryAfter(h); got != want {
			t.Errorf("retryAfter(%q) = %s, want %s", h, got, want)
		}
	}
}
