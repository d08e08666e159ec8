package influx

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/probity-edu/probity/collector/api"
	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/collector/store/sqlite"
	"github.com/probity-edu/probity/internal/point"
	"github.com/probity-edu/probity/internal/testenv"
	"github.com/probity-edu/probity/internal/wire"
)

// logBuffer collects the sink's log lines for assertions.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.b.String(), s)
}

func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(within); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
	}
}

func countIn(t *testing.T, db *testenv.InfluxDB, q string) int {
	t.Helper()
	series, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	if len(series) == 0 || len(series[0].Values) == 0 {
		return 0
	}
	n, _ := series[0].Values[0][1].(float64) // JSON numbers
	return int(n)
}

// collectorFixture is a real collector API over SQLite forwarding to a
// sink, with one enrolled agent.
type collectorFixture struct {
	st   store.Store
	srv  *httptest.Server
	cred string
	sink *Sink
	logs *logBuffer
}

func newCollector(t *testing.T, cfg Config) *collectorFixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "p.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tr, err := st.CreateTrust(ctx, "Oak Learning Trust")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateSite(ctx, store.Site{ID: "oak", TrustID: tr.ID, Name: "Oak Primary", Phase: "primary"}); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateEnrolToken(ctx, "oak", store.HashSecret("tok"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	f := &collectorFixture{st: st, logs: &logBuffer{}}
	log := slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	f.sink = New(cfg, &TagCache{Dir: st}, log)
	srv := &api.Server{Store: st, OnWrite: f.sink.Enqueue, Collectors: f.sink.Collectors(), Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	f.srv = httptest.NewServer(srv.Handler())
	t.Cleanup(f.srv.Close)
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); f.sink.Run(runCtx) }()
	t.Cleanup(func() { stop(); <-done })

	resp, err := http.Post(f.srv.URL+wire.EnrolPath, "application/json", strings.NewReader(`{"token":"tok","hostname":"pi"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var er wire.EnrolResponse
	if err := jsonDecode(resp.Body, &er); err != nil || er.Credential == "" {
		t.Fatalf("enrol: %v %+v", err, er)
	}
	f.cred = er.Credential
	return f
}

// post sends n points of measurement m as one agent batch and fails the
// test unless the collector stores them.
func (f *collectorFixture) post(t *testing.T, m string, from, n int) {
	t.Helper()
	var body strings.Builder
	now := time.Now()
	for i := range n {
		fmt.Fprintf(&body, "%s,probe=p v=%d %d\n", m, from+i, now.Add(time.Duration(from+i)*time.Microsecond).UnixNano())
	}
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+wire.WritePath, strings.NewReader(body.String()))
	req.Header.Set("Authorization", "Bearer "+f.cred)
	req.Header.Set(wire.HeaderBatchID, wire.NewBatchID())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("write: %d %s", resp.StatusCode, b)
	}
}

func (f *collectorFixture) stored(t *testing.T) int64 {
	t.Helper()
	s, err := f.st.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s.Points
}

func metric(c prometheus.Collector) float64 { return testutil.ToFloat64(c) }

// TestIntegrationSinkSurvivesInfluxDBOutage runs the real collector API
// with the sink against a real InfluxDB 1.8: points reach InfluxDB with
// the trust tag; with InfluxDB stopped mid-run every write is still
// stored, the queue fills and the oldest points are dropped and counted,
// logged once; once InfluxDB is back the queue drains and everything
// not dropped is there.
func TestIntegrationSinkSurvivesInfluxDBOutage(t *testing.T) {
	testenv.RequireIntegration(t, "real influxd")
	db := testenv.StartInfluxDB(t, "probity")
	f := newCollector(t, Config{URL: db.URL, Bucket: "probity/autogen", QueueSize: 500, BatchSize: 100,
		FlushInterval: 20 * time.Millisecond, Timeout: 2 * time.Second, MinBackoff: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})

	for i := range 3 {
		f.post(t, "probe_a", i*100, 100)
	}
	eventually(t, 20*time.Second, "300 points in InfluxDB", func() bool {
		return countIn(t, db, `SELECT count(v) FROM probe_a`) == 300
	})
	tagged := countIn(t, db, `SELECT count(v) FROM probe_a WHERE "trust" = 'Oak Learning Trust' AND "site" = 'oak' AND "probe" = 'p'`)
	if tagged != 300 {
		t.Fatalf("points with trust, site and their own tags: %d of 300", tagged)
	}
	if got := metric(f.sink.up); got != 1 {
		t.Fatalf("probity_influx_up = %v after writes", got)
	}

	db.Stop()
	before := f.stored(t)
	for i := range 10 {
		f.post(t, "probe_b", i*100, 100)
	}
	if got := f.stored(t) - before; got != 1000 {
		t.Fatalf("store took %d of 1000 points while InfluxDB was down", got)
	}
	eventually(t, 20*time.Second, "a failed write noticed", func() bool { return metric(f.sink.failures) > 0 })
	dropped := metric(f.sink.droppedC.WithLabelValues(DropQueueFull))
	// The queue holds 500; a batch of up to 100 may be out being retried.
	if dropped < 400 || dropped > 500 {
		t.Fatalf("dropped %v of 1000 points with a queue of 500", dropped)
	}
	if q := f.sink.Queued(); q != 500 {
		t.Fatalf("queue holds %d, want its bound 500", q)
	}
	if metric(f.sink.up) != 0 {
		t.Fatal("probity_influx_up still 1 while InfluxDB is down")
	}
	if n := f.logs.count("queue is full"); n != 1 {
		t.Fatalf("queue-full warning logged %d times, want once:\n%s", n, f.logs.b.String())
	}
	if n := f.logs.count("writing to InfluxDB failed"); n != 1 {
		t.Fatalf("write failure logged %d times, want once per outage", n)
	}
	// /metrics carries the counters.
	resp, err := http.Get(f.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	mb, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := fmt.Sprintf(`probity_influx_points_dropped_total{reason="queue_full"} %v`, dropped); !strings.Contains(string(mb), want) {
		t.Fatalf("/metrics lacks %q", want)
	}

	db.Start()
	want := 1000 - int(dropped)
	eventually(t, 30*time.Second, "the queue drained into InfluxDB", func() bool {
		return f.sink.Queued() == 0 && countIn(t, db, `SELECT count(v) FROM probe_b`) == want
	})
	if got := metric(f.sink.written); got != float64(300+want) {
		t.Fatalf("written counter %v, want %d", got, 300+want)
	}
	// The newest points survived: the last one sent is there.
	if n := countIn(t, db, `SELECT count(v) FROM probe_b WHERE v = 999`); n != 1 {
		t.Fatalf("the newest point is missing after the outage")
	}
	eventually(t, 5*time.Second, "recovery logged", func() bool { return f.logs.count("points were dropped while it was behind") == 1 })

	// Ingest never waited: after all that, the store still has every point.
	if got := f.stored(t); got != 1300 {
		t.Fatalf("store holds %d points, want 1300", got)
	}
}

// TestIntegrationSinkDropsRejectedBatch: InfluxDB refuses a batch whose
// field type conflicts with what it holds (400); the sink drops that batch,
// counts it, and goes on with the next.
func TestIntegrationSinkDropsRejectedBatch(t *testing.T) {
	testenv.RequireIntegration(t, "real influxd")
	db := testenv.StartInfluxDB(t, "probity")
	logs := &logBuffer{}
	s := New(Config{URL: db.URL, Bucket: "probity", BatchSize: 10, FlushInterval: 10 * time.Millisecond, MinBackoff: 10 * time.Millisecond},
		nil, slog.New(slog.NewTextHandler(logs, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	defer func() { cancel(); <-done }()

	now := time.Now()
	s.Enqueue([]point.Point{point.New("conf", map[string]string{"site": "oak"}, map[string]any{"x": 1.5}, now)})
	eventually(t, 10*time.Second, "the first point written", func() bool { return metric(s.written) == 1 })
	s.Enqueue([]point.Point{point.New("conf", map[string]string{"site": "oak"}, map[string]any{"x": "text"}, now.Add(time.Second))})
	eventually(t, 10*time.Second, "the conflicting batch dropped", func() bool { return metric(s.droppedC.WithLabelValues(DropRejected)) == 1 })
	s.Enqueue([]point.Point{point.New("conf", map[string]string{"site": "oak"}, map[string]any{"x": 2.5}, now.Add(2*time.Second))})
	eventually(t, 10*time.Second, "the next point written", func() bool { return metric(s.written) == 2 })
	if n := countIn(t, db, `SELECT count(x) FROM conf`); n != 2 {
		t.Fatalf("InfluxDB holds %d points, want 2", n)
	}
	if logs.count("refused a batch as invalid") != 1 {
		t.Fatalf("rejection not logged:\n%s", logs.b.String())
	}
}

// TestIntegrationSinkFlushesOnStop: points queued when the collector
// stops are written before Run returns.
func TestIntegrationSinkFlushesOnStop(t *testing.T) {
	testenv.RequireIntegration(t, "real influxd")
	db := testenv.StartInfluxDB(t, "probity")
	s := New(Config{URL: db.URL, Bucket: "probity", BatchSize: 1000, FlushInterval: time.Hour}, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	var pts []point.Point
	now := time.Now()
	for i := range 250 {
		pts = append(pts, point.New("late", nil, map[string]any{"v": int64(i)}, now.Add(time.Duration(i)*time.Millisecond)))
	}
	s.Enqueue(pts)
	cancel()
	<-done
	if n := countIn(t, db, `SELECT count(v) FROM late`); n != 250 {
		t.Fatalf("after stop InfluxDB holds %d of 250 queued points", n)
	}
	if d := metric(s.droppedC.WithLabelValues(DropShutdown)); d != 0 {
		t.Fatalf("%v points counted as dropped at shutdown", d)
	}
}

// TestIntegrationSinkShutdownWithInfluxDBDown: with InfluxDB gone, stopping
// does not hang past the timeout and counts what was left.
func TestIntegrationSinkShutdownWithInfluxDBDown(t *testing.T) {
	testenv.RequireIntegration(t, "real influxd")
	db := testenv.StartInfluxDB(t, "probity")
	db.Stop()
	s := New(Config{URL: db.URL, Bucket: "probity", BatchSize: 10, FlushInterval: 10 * time.Millisecond, Timeout: time.Second,
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 50 * time.Millisecond}, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	s.Enqueue([]point.Point{point.New("gone", nil, map[string]any{"v": 1.0}, time.Now()), point.New("gone", nil, map[string]any{"v": 2.0}, time.Now())})
	eventually(t, 10*time.Second, "a failed write", func() bool { return metric(s.failures) > 0 })
	cancel()
	<-done
	if d := metric(s.droppedC.WithLabelValues(DropShutdown)); d != 2 {
		t.Fatalf("dropped at shutdown %v, want 2", d)
	}
}

func jsonDecode(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }
