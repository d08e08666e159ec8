package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/internal/wire"
)

func TestAdmissionLimit(t *testing.T) {
	a := newAdmission(2, 20*time.Millisecond, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx := context.Background()
	for range 2 {
		if !a.acquire(ctx) {
			t.Fatal("under the limit: refused")
		}
	}
	if a.inProgress() != 2 || a.limit() != 2 {
		t.Fatalf("in progress %d of %d, want 2 of 2", a.inProgress(), a.limit())
	}
	t0 := time.Now()
	if a.acquire(ctx) {
		t.Fatal("over the limit: admitted")
	}
	if d := time.Since(t0); d < 20*time.Millisecond || d > 2*time.Second {
		t.Errorf("refused after %s, want after the 20ms wait", d)
	}
	// A slot freed during the wait is taken.
	big := newAdmission(1, 5*time.Second, a.log)
	big.acquire(ctx)
	go func() { time.Sleep(5 * time.Millisecond); big.release() }()
	if !big.acquire(ctx) {
		t.Fatal("a slot freed while waiting was not taken")
	}
	// A request that goes away stops waiting.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if big.acquire(cctx) {
		t.Fatal("admitted with its context ended")
	}
	// No limit.
	none := newAdmission(0, 0, a.log)
	for range 10_000 {
		if !none.acquire(ctx) {
			t.Fatal("no limit: refused")
		}
	}
	none.release()
	if none.limit() != 0 {
		t.Errorf("no limit: limit %d", none.limit())
	}
}

func TestAdmissionNoWait(t *testing.T) {
	a := newAdmission(1, 0, slog.New(slog.NewTextHandler(io.Discard, nil)))
	a.acquire(context.Background())
	t0 := time.Now()
	if a.acquire(context.Background()) {
		t.Fatal("over the limit: admitted")
	}
	if d := time.Since(t0); d > time.Second {
		t.Errorf("no wait took %s", d)
	}
}

// TestAdmissionLogsOnce: an overload is one log line every busyLogEvery,
// with the refusals counted, not a line a request.
func TestAdmissionLogsOnce(t *testing.T) {
	var buf syncBuffer
	a := newAdmission(1, 0, slog.New(slog.NewTextHandler(&buf, nil)))
	a.acquire(context.Background())
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				a.acquire(context.Background())
			}
		}()
	}
	wg.Wait()
	if n := strings.Count(buf.String(), "collector busy"); n != 1 {
		t.Fatalf("%d log lines for 800 refusals, want 1:\n%s", n, buf.String())
	}
	if !strings.Contains(buf.String(), "max_inflight_writes=1") {
		t.Errorf("log line: %s", buf.String())
	}
	// The next line, once due, counts the refusals the first did not:
	// between them, every one.
	a.lastLog.Store(time.Now().Add(-busyLogEvery).UnixNano())
	a.acquire(context.Background())
	total := 0
	for _, m := range regexp.MustCompile(`refused=(\d+)`).FindAllStringSubmatch(buf.String(), -1) {
		n, _ := strconv.Atoi(m[1])
		total += n
	}
	if n := strings.Count(buf.String(), "collector busy"); n != 2 || total != 801 {
		t.Errorf("%d lines counting %d refusals, want 2 lines counting 801:\n%s", n, total, buf.String())
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRetryAfterRange(t *testing.T) {
	seen := map[int]bool{}
	for range 1000 {
		s := retryAfter()
		if s < busyRetryMin || s > busyRetryMax {
			t.Fatalf("Retry-After %d outside [%d, %d]", s, busyRetryMin, busyRetryMax)
		}
		seen[s] = true
	}
	if len(seen) < 2 {
		t.Errorf("Retry-After always %v: refused agents would return in step", seen)
	}
}

// gatedStore is the real store whose first holds writes wait for release
// before going on: writes in progress the test controls. Later writes go
// straight through, so a write admitted past the limit shows as stored
// rather than hanging the test.
type gatedStore struct {
	store.Store
	holds   int
	entered chan string   // a held batch's id, as it reaches the store
	release chan struct{} // closed by open to let held writes through
	once    sync.Once
	mu      sync.Mutex
	calls   []string
}

func (g *gatedStore) WriteBatch(ctx context.Context, b store.Batch, now time.Time) (bool, error) {
	g.mu.Lock()
	g.calls = append(g.calls, b.ID)
	held := len(g.calls) <= g.holds
	g.mu.Unlock()
	if held {
		g.entered <- b.ID
		<-g.release
	}
	return g.Store.WriteBatch(ctx, b, now)
}

func (g *gatedStore) open() { g.once.Do(func() { close(g.release) }) }

func (g *gatedStore) called(id string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, c := range g.calls {
		if c == id {
			return true
		}
	}
	return false
}

// newGatedFixture serves the API over HTTP with MaxInflightWrites 2 on a
// real SQLite store whose writes the test holds.
func newGatedFixture(t *testing.T) (*fixture, *gatedStore) {
	t.Helper()
	var g *gatedStore
	f := newFixtureWith(t, func(s *Server) {
		g = &gatedStore{Store: s.Store, holds: 2, entered: make(chan string, 2), release: make(chan struct{})}
		s.Store = g
		s.MaxInflightWrites = 2
	})
	// A failing test must not leave writes held: the server's Close
	// waits for them.
	t.Cleanup(g.open)
	return f, g
}

// hold starts n writes with send and waits until each is in the store.
func hold(t *testing.T, g *gatedStore, n int, send func(i int)) *sync.WaitGroup {
	t.Helper()
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() { defer wg.Done(); send(i) }()
	}
	for range n {
		select {
		case <-g.entered:
		case <-time.After(10 * time.Second):
			t.Fatal("held writes never reached the store")
		}
	}
	return &wg
}

// TestWriteBusy: with two writes held in the store and a limit of two, a
// third is answered 503 with Retry-After and nothing of it is stored; once
// the held ones are answered, they are stored and the refused batch sent
// again is stored, once.
func TestWriteBusy(t *testing.T) {
	f, g := newGatedFixture(t)
	codes := make([]int, 2)
	wg := hold(t, g, 2, func(i int) {
		codes[i], _ = f.write(t, f.cred, fmt.Sprintf("batch-held-%d", i), []byte(fmt.Sprintf("held a=%d\n", i)), true)
	})

	req, _ := http.NewRequest("POST", f.srv.URL+wire.WritePath, strings.NewReader("refused a=1\n"))
	req.Header.Set("Authorization", "Bearer "+f.cred)
	req.Header.Set(wire.HeaderBatchID, "batch-refused")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var wr wire.WriteResponse
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	_ = json.Unmarshal(raw, &wr)
	after, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if resp.StatusCode != http.StatusServiceUnavailable || err != nil || after < busyRetryMin || after > busyRetryMax {
		t.Fatalf("over the limit: %d, Retry-After %q; want 503 with %d-%d s\n%s", resp.StatusCode, resp.Header.Get("Retry-After"), busyRetryMin, busyRetryMax, raw)
	}
	want := fmt.Sprintf("collector busy: 2 writes in progress; retry after %d s", after)
	if wr.Batch != "batch-refused" || wr.Error != want || wr.Status != "" {
		t.Fatalf("refusal body %+v, want batch-refused and %q", wr, want)
	}
	if g.called("batch-refused") {
		t.Fatal("the refused batch reached the store")
	}
	// A request that is wrong anyway is told so, busy or not.
	if code, wr := f.write(t, f.cred, "", []byte("m a=1\n"), false); code != http.StatusBadRequest {
		t.Errorf("no batch id while busy: %d %+v, want 400", code, wr)
	}
	m := f.metrics(t)
	for _, w := range []string{`probity_ingest_rejected_total{reason="busy"} 1`, "probity_ingest_writes_in_progress 2", "probity_ingest_max_inflight_writes 2"} {
		if !strings.Contains(m, w) {
			t.Errorf("metrics lack %q", w)
		}
	}

	g.open()
	wg.Wait()
	if codes[0] != 200 || codes[1] != 200 || f.count(t, "held") != 2 {
		t.Fatalf("held writes: %v, %d points stored; want 200, 200 and 2", codes, f.count(t, "held"))
	}
	if f.count(t, "refused") != 0 {
		t.Fatal("the refused batch was stored")
	}
	// The agent sends it again later, as it does after Retry-After.
	if code, wr := f.write(t, f.cred, "batch-refused", []byte("refused a=1\n"), true); code != 200 || wr.Status != wire.StatusStored {
		t.Fatalf("retry of the refused batch: %d %+v", code, wr)
	}
	if code, wr := f.write(t, f.cred, "batch-refused", []byte("refused a=1\n"), true); code != 200 || wr.Status != wire.StatusDuplicate {
		t.Fatalf("second retry: %d %+v, want duplicate", code, wr)
	}
	if n := f.count(t, "refused"); n != 1 {
		t.Fatalf("refused batch stored %d times, want once", n)
	}
	if !strings.Contains(f.metrics(t), "probity_ingest_writes_in_progress 0") {
		t.Error("slots not given back after the writes were answered")
	}
}

// TestInfluxWriteBusy: the same on /api/v2/write, in InfluxDB's error shape.
func TestInfluxWriteBusy(t *testing.T) {
	f, g := newGatedFixture(t)
	auth := "Token " + f.cred
	codes := make([]int, 2)
	wg := hold(t, g, 2, func(i int) {
		codes[i] = influxPost(t, f.srv.URL, auth, "?org=o&bucket=b", []byte(fmt.Sprintf("held a=%d 1764844800000000000\n", i)), true).code
	})
	body := []byte("refused a=1 1764844800000000000\n")
	a := influxPost(t, f.srv.URL, auth, "?org=o&bucket=b", body, true)
	after, err := strconv.Atoi(a.header.Get("Retry-After"))
	if a.code != http.StatusServiceUnavailable || err != nil || after < busyRetryMin || after > busyRetryMax {
		t.Fatalf("over the limit: %d, Retry-After %q; want 503\n%s", a.code, a.header.Get("Retry-After"), a.raw)
	}
	want := fmt.Sprintf("collector busy: 2 writes in progress; retry after %d s", after)
	if a.err.Code != influxUnavailable || a.err.Message != want {
		t.Fatalf("refusal %+v, want code %q message %q", a.err, influxUnavailable, want)
	}
	if a.header.Get("X-Influxdb-Version") == "" {
		t.Error("refusal without X-Influxdb-Version")
	}
	g.open()
	wg.Wait()
	if codes[0] != http.StatusNoContent || codes[1] != http.StatusNoContent || f.count(t, "held") != 2 {
		t.Fatalf("held writes: %v, %d points; want 204, 204 and 2", codes, f.count(t, "held"))
	}
	if f.count(t, "refused") != 0 {
		t.Fatal("the refused write was stored")
	}
	for i := range 2 { // Telegraf's retry, and one more: stored once
		if a := influxPost(t, f.srv.URL, auth, "?org=o&bucket=b", body, true); a.code != http.StatusNoContent {
			t.Fatalf("retry %d: %d %s", i, a.code, a.raw)
		}
	}
	if n := f.count(t, "refused"); n != 1 {
		t.Fatalf("refused write stored %d times, want once", n)
	}
}
