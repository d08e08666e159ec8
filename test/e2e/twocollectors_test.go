package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/collector/store/postgres"
	"github.com/probity-edu/probity/internal/testenv"
	"github.com/probity-edu/probity/internal/wire"
)

// TestIntegrationTwoCollectors runs two real collectors on one real
// PostgreSQL behind a round-robin proxy, the way a load balancer spreads
// an agent's requests: the agent enrols through one and ships through
// both, and every point it produced is stored exactly once (or still
// queued on its disk when it stopped). The same batch sent to both
// collectors at once is stored once, and each background job runs on one
// collector per round (whichever holds its turn).
func TestIntegrationTwoCollectors(t *testing.T) {
	testenv.RequireIntegration(t, "PostgreSQL and both binaries")
	pg := testenv.StartPostgres(t)
	dsn := pg.NewDatabase(t)
	agentBin, collectorBin := binaries(t)
	dir := t.TempDir()

	var bases []string
	var collectors []*proc
	var cfgs []string
	for i := range 2 {
		port := freePort(t)
		cfg := filepath.Join(dir, fmt.Sprintf("collector-%d.yaml", i))
		writeFile(t, cfg, fmt.Sprintf(`listen: 127.0.0.1:%d
data_dir: %s
store: {driver: postgres, dsn: %q}
log: {level: debug, format: json}
jobs: {score_every: 1s, rollup_every: 1s, prune_every: 1h}
`, port, filepath.Join(dir, fmt.Sprintf("data-%d", i)), dsn))
		cfgs = append(cfgs, cfg)
		base := fmt.Sprintf("http://127.0.0.1:%d", port)
		e := &env{collectorBin: collectorBin, base: base, collectorArgs: []string{"--config", cfg}, dir: dir}
		e.startCollector(t)
		bases = append(bases, base)
		collectors = append(collectors, e.collector)
	}
	cli := func(args ...string) string { return run(t, collectorBin, append(args, "--config", cfgs[0])...) }
	cli("trust", "add", "E2E Trust")
	cli("site", "add", "--trust", "E2E Trust", "--name", "E2E Academy", "--phase", "secondary", "--id", "e2e-academy")
	token := strings.TrimSpace(cli("agent", "token", "--site", "e2e-academy"))

	// The load balancer: each request to the next collector in turn.
	var next, served0, served1 atomic.Int64
	var targets []*url.URL
	for _, b := range bases {
		u, _ := url.Parse(b)
		targets = append(targets, u)
	}
	lb := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		i := next.Add(1) % 2
		if i == 0 {
			served0.Add(1)
		} else {
			served1.Add(1)
		}
		r.SetURL(targets[i])
	}}
	lbPort := freePort(t)
	lbSrv := &http.Server{Addr: fmt.Sprintf("127.0.0.1:%d", lbPort), Handler: lb}
	go func() { _ = lbSrv.ListenAndServe() }()
	t.Cleanup(func() { lbSrv.Close() })
	lbURL := fmt.Sprintf("http://127.0.0.1:%d", lbPort)
	eventually(t, 10*time.Second, "the load balancer", func() bool {
		resp, err := http.Get(lbURL + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	})

	acfg := filepath.Join(dir, "agent.yaml")
	writeFile(t, acfg, fmt.Sprintf(`state_dir: %s
log: {level: debug, format: json}
schedule: {stats_interval: 1s}
ship: {min_backoff: 200ms, max_backoff: 1s, batch_every: 200ms}
probes:
  - name: resolver
    kind: dns
    interval: 1s
    dns: {resolvers: ["%s"], queries: [{name: www.google.com}, {name: www.bing.com}], timeout: 1s}
  - name: collector
    kind: http
    interval: 1s
    http: {targets: [{url: "%s/healthz", name: collector-health}], timeout: 2s}
  - name: host
    kind: host
    interval: 1s
`, filepath.Join(dir, "agent"), schoolResolver(t), lbURL))
	if out := run(t, agentBin, "enrol", "--no-check", "--config", acfg, "--collector", lbURL, "--token", token); !strings.Contains(out, "Enrolled as agent") {
		t.Fatalf("enrol output: %s", out)
	}
	agent := start(t, "agent", agentBin, "run", "--config", acfg)
	time.Sleep(8 * time.Second)
	agent.stop(t)
	if served0.Load() < 3 || served1.Load() < 3 {
		t.Fatalf("the load balancer sent %d and %d requests to the two collectors: both should have served", served0.Load(), served1.Load())
	}
	stopped := logLine(agent.output(), "agent stopped")
	if stopped == nil {
		t.Fatalf("agent did not log its stop:\n%s", agent.output())
	}
	produced := int(stopped["produced_points"].(float64))

	ctx := context.Background()
	st, err := postgres.Open(ctx, dsn, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	stored, rows := map[string]int{}, 0
	for _, m := range []string{"dns", "http", "host", "agent"} {
		pts, err := st.Points(ctx, store.PointQuery{Site: "e2e-academy", Measurement: m, From: time.Unix(0, 0), To: time.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pts {
			stored[key(p)]++
			rows++
		}
	}
	for k, n := range stored {
		if n > 1 {
			t.Errorf("point stored %d times: %s", n, k)
		}
	}
	union := map[string]bool{}
	for k := range stored {
		union[k] = true
	}
	queued := drainSpool(t, filepath.Join(dir, "agent", "spool"), union)
	t.Logf("produced %d points; stored %d rows (%d distinct) through %d+%d requests; %d still queued", produced, rows, len(stored), served0.Load(), served1.Load(), queued)
	if rows == 0 || len(union) != produced {
		t.Fatalf("produced %d points but stored ∪ queued holds %d distinct points", produced, len(union))
	}

	// The same batch, sent to both collectors at the same moment, is
	// stored once: one answers stored, the other duplicate.
	cred := readCredential(t, filepath.Join(dir, "agent", "credential.json"))
	var body bytes.Buffer
	zw := gzip.NewWriter(&body)
	fmt.Fprintf(zw, "probe_twice,t=x v=1 %d\nprobe_twice,t=x v=2 %d\n", time.Now().UnixNano(), time.Now().Add(time.Millisecond).UnixNano())
	zw.Close()
	batch := wire.NewBatchID()
	var wg sync.WaitGroup
	statuses := make([]string, 2)
	for i, b := range bases {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodPost, b+wire.WritePath, bytes.NewReader(body.Bytes()))
			req.Header.Set("Authorization", "Bearer "+cred)
			req.Header.Set(wire.HeaderBatchID, batch)
			req.Header.Set("Content-Encoding", "gzip")
			var wr wire.WriteResponse
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			_ = jsonDecode(resp.Body, &wr)
			statuses[i] = wr.Status
		})
	}
	wg.Wait()
	if !(statuses[0] == wire.StatusStored && statuses[1] == wire.StatusDuplicate || statuses[0] == wire.StatusDuplicate && statuses[1] == wire.StatusStored) {
		t.Errorf("one batch sent to both collectors: answers %v, want one stored and one duplicate", statuses)
	}
	pts, err := st.Points(ctx, store.PointQuery{Site: "e2e-academy", Measurement: "probe_twice", From: time.Unix(0, 0), To: time.Now().Add(time.Hour)})
	if err != nil || len(pts) != 2 {
		t.Errorf("the batch sent twice holds %d points (%v), want 2", len(pts), err)
	}

	// Both collectors run the background jobs, each round on whichever
	// holds its turn (TryLead, tested in collector/store/postgres).
	for i, c := range collectors {
		if !strings.Contains(c.output(), `"msg":"job done"`) {
			t.Errorf("collector %d never ran a job", i)
		}
	}
}

func readCredential(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Secret string `json:"credential"`
	}
	if err := json.Unmarshal(b, &c); err != nil || c.Secret == "" {
		t.Fatalf("credential file %s: %v", path, err)
	}
	return c.Secret
}

func jsonDecode(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }
