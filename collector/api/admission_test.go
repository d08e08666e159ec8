package api

import (
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
	"sync/atomic"
	"testing"
	"time"

	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/internal/testenv"
	"github.com/probity-edu/probity/internal/wire"
)

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestAdmissionLimit(t *testing.T) {
	a := newAdmission(2, time.Hour, 20*time.Millisecond, discard)
	ctx := context.Background()
	for range 2 {
		if _, ok := a.acquire(ctx); !ok {
			t.Fatal("under the limit: refused")
		}
	}
	if a.inProgress() != 2 || a.limit() != 2 {
		t.Fatalf("in progress %d of %d, want 2 of 2", a.inProgress(), a.limit())
	}
	t0 := time.Now()
	if _, ok := a.acquire(ctx); ok {
		t.Fatal("over the limit: admitted")
	}
	if d := time.Since(t0); d < 20*time.Millisecond || d > 2*time.Second {
		t.Errorf("refused after %s, want after the 20ms wait", d)
	}
	// A slot freed during the wait is taken.
	big := newAdmission(1, time.Hour, 5*time.Second, discard)
	at, _ := big.acquire(ctx)
	go func() { time.Sleep(5 * time.Millisecond); big.release(at) }()
	if _, ok := big.acquire(ctx); !ok {
		t.Fatal("a slot freed while waiting was not taken")
	}
	// A request that goes away stops waiting.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, ok := big.acquire(cctx); ok {
		t.Fatal("admitted with its context ended")
	}
	if big.inProgress() != 1 || big.waiters.Len() != 0 {
		t.Errorf("after a refusal: %d in progress, %d waiting; want 1 and 0", big.inProgress(), big.waiters.Len())
	}
	// No limit.
	none := newAdmission(0, time.Hour, 0, discard)
	for range 10_000 {
		if _, ok := none.acquire(ctx); !ok {
			t.Fatal("no limit: refused")
		}
	}
	none.release(time.Now())
	if none.limit() != 0 || none.inProgress() != 9_999 {
		t.Errorf("no limit: limit %d, %d in progress", none.limit(), none.inProgress())
	}
}

func TestAdmissionNoWait(t *testing.T) {
	a := newAdmission(1, time.Hour, 0, discard)
	a.acquire(context.Background())
	t0 := time.Now()
	if _, ok := a.acquire(context.Background()); ok {
		t.Fatal("over the limit: admitted")
	}
	if d := time.Since(t0); d > time.Second {
		t.Errorf("no wait took %s", d)
	}
}

// TestAdmissionWaitersInTurn: slots freed go to waiters oldest first, one
// each, and never past the limit, however many acquire and release at once.
func TestAdmissionWaitersInTurn(t *testing.T) {
	ctx := context.Background()
	a := newAdmission(1, time.Hour, 5*time.Second, discard)
	at, _ := a.acquire(ctx)
	order := make(chan int, 3)
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			at, ok := a.acquire(ctx)
			if !ok {
				t.Error("waiter refused")
				return
			}
			order <- i
			a.release(at)
		}()
		// Each in the queue before the next starts.
		for deadline := time.Now().Add(5 * time.Second); ; {
			a.mu.Lock()
			n := a.waiters.Len()
			a.mu.Unlock()
			if n == i+1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("waiter %d never queued", i)
			}
			time.Sleep(time.Millisecond)
		}
	}
	a.release(at)
	wg.Wait()
	close(order)
	var got []int
	for i := range order {
		got = append(got, i)
	}
	if fmt.Sprint(got) != "[0 1 2]" {
		t.Errorf("waiters admitted in order %v, want [0 1 2]", got)
	}

	// Many at once, some waiting, some refused: never more than the limit.
	b := newAdmission(4, time.Hour, time.Millisecond, discard)
	var inside, most atomic.Int64
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				at, ok := b.acquire(ctx)
				if !ok {
					continue
				}
				n := inside.Add(1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				time.Sleep(10 * time.Microsecond)
				inside.Add(-1)
				b.release(at)
			}
		}()
	}
	wg.Wait()
	if most.Load() > 4 || b.inProgress() != 0 || b.waiters.Len() != 0 {
		t.Errorf("at most %d inside (limit 4), %d in progress and %d waiting after", most.Load(), b.inProgress(), b.waiters.Len())
	}
}

// fakeClock is the adaptive limit's clock in tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newFakeAdmission is an admission on a fake clock that refuses at once
// past its limit, with a target of 100ms.
func newFakeAdmission(maxInflight int) (*admission, *fakeClock) {
	clk := &fakeClock{t: time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)}
	a := newAdmission(maxInflight, 100*time.Millisecond, 0, discard)
	a.now = clk.now
	a.since = clk.now()
	return a, clk
}

const (
	slowWrite = 300 * time.Millisecond // over newFakeAdmission's target
	fastWrite = 10 * time.Millisecond  // under it
)

// interval offers a writes at the start of one adaptEvery, each taking lat
// (under adaptEvery), and moves the clock to the next interval. Offered
// more than its limit, the limit is binding. It returns the limit after
// the interval and the writes refused in it.
func interval(a *admission, clk *fakeClock, offered int, lat time.Duration) (limit, refused int) {
	var admitted []time.Time
	for range offered {
		if at, ok := a.acquire(context.Background()); ok {
			admitted = append(admitted, at)
		} else {
			refused++
		}
	}
	clk.add(lat)
	for _, at := range admitted {
		a.release(at)
	}
	clk.add(adaptEvery - lat)
	return a.limit(), refused
}

// TestAdaptiveLimitFalls: slow writes shrink the limit by a quarter an
// interval, down to the floor and no further.
func TestAdaptiveLimitFalls(t *testing.T) {
	a, clk := newFakeAdmission(1024)
	if a.limit() != 1024 {
		t.Fatalf("starts at %d, want the maximum 1024", a.limit())
	}
	want := []int{768, 576, 432}
	for i, w := range want {
		if got, _ := interval(a, clk, 2000, slowWrite); got != w {
			t.Fatalf("slow interval %d: limit %d, want %d", i+1, got, w)
		}
	}
	last := 432
	for i := range 30 {
		got, refused := interval(a, clk, 2000, slowWrite)
		if got > last || got < a.floor {
			t.Fatalf("slow interval %d: limit %d after %d, want at most that and at least %d", i+4, got, last, a.floor)
		}
		if refused != 2000-last {
			t.Fatalf("slow interval %d: %d of 2000 refused at limit %d", i+4, refused, last)
		}
		last = got
	}
	if last != a.floor || a.floor != 1024/adaptFloorShare {
		t.Errorf("after 33 slow intervals: limit %d, want the floor %d, a quarter of the maximum", last, a.floor)
	}
	// Slow when not binding shrinks it too: the writes are slow anyway.
	b, clk := newFakeAdmission(1024)
	if got, _ := interval(b, clk, 10, slowWrite); got != 768 {
		t.Errorf("slow, not binding: limit %d, want 768", got)
	}
}

// TestAdaptiveLimitRecovers: fast writes held back by the limit grow it by
// an eighth an interval, back to the maximum and never past it.
func TestAdaptiveLimitRecovers(t *testing.T) {
	a, clk := newFakeAdmission(1024)
	for range 20 {
		interval(a, clk, 2000, slowWrite)
	}
	if a.limit() != a.floor {
		t.Fatalf("limit %d after slow writes, want %d", a.limit(), a.floor)
	}
	if got, _ := interval(a, clk, 2000, fastWrite); got != a.floor+a.floor/adaptIncreaseDiv {
		t.Fatalf("fast and binding: limit %d, want %d", got, a.floor+a.floor/adaptIncreaseDiv)
	}
	last, n := a.floor+a.floor/adaptIncreaseDiv, 1
	for last < 1024 {
		got, _ := interval(a, clk, 2000, fastWrite)
		if got <= last || got > 1024 {
			t.Fatalf("fast interval %d: limit %d after %d, want more, up to 1024", n+1, got, last)
		}
		last, n = got, n+1
	}
	if n > 40 {
		t.Errorf("%d intervals from the floor back to 1024, want at most 40", n)
	}
	for range 5 {
		if got, _ := interval(a, clk, 2000, fastWrite); got != 1024 {
			t.Fatalf("past the maximum: %d", got)
		}
	}
}

// TestAdaptiveLimitNotBinding: fast writes that the limit did not hold back
// leave it where it is, as do intervals without writes.
func TestAdaptiveLimitNotBinding(t *testing.T) {
	a, clk := newFakeAdmission(1024)
	for range 3 {
		interval(a, clk, 2000, slowWrite)
	}
	if a.limit() != 432 {
		t.Fatalf("limit %d, want 432", a.limit())
	}
	for i := range 10 {
		if got, refused := interval(a, clk, 400, fastWrite); got != 432 || refused != 0 {
			t.Fatalf("fast interval %d under the limit: limit %d, %d refused; want 432, 0", i, got, refused)
		}
	}
	// No writes for a while, then none again: unchanged.
	clk.add(time.Hour)
	if a.limit() != 432 {
		t.Errorf("after an idle hour: limit %d, want 432", a.limit())
	}
	if got, _ := interval(a, clk, 0, fastWrite); got != 432 {
		t.Errorf("after an interval without writes: limit %d, want 432", got)
	}
	// Fast writes that had to wait for a slot count as binding: one
	// refused is enough.
	if got, refused := interval(a, clk, 433, fastWrite); got != 432+54 || refused != 1 {
		t.Errorf("fast interval one over the limit: limit %d, %d refused; want %d, 1", got, refused, 432+54)
	}
}

// TestAdaptiveLimitShrinksBelowInProgress: writes admitted under a larger
// limit stay admitted, and new ones are refused until those in progress
// fall below the new limit.
func TestAdaptiveLimitShrinksBelowInProgress(t *testing.T) {
	a, clk := newFakeAdmission(64)
	ctx := context.Background()
	var held []time.Time
	for range 64 {
		at, _ := a.acquire(ctx)
		held = append(held, at)
	}
	// One slow write answered: the interval's mean is over the target.
	clk.add(slowWrite)
	a.release(held[0])
	clk.add(adaptEvery)
	if got := a.limit(); got != 48 {
		t.Fatalf("limit %d, want 48", got)
	}
	// The clock stands still from here: no further interval.
	for _, at := range held[1:16] {
		a.release(at)
	}
	if _, ok := a.acquire(ctx); ok {
		t.Fatalf("%d in progress at a limit of 48: admitted", a.inProgress())
	}
	a.release(held[16])
	if _, ok := a.acquire(ctx); !ok {
		t.Fatalf("%d in progress under a limit of 48: refused", a.inProgress())
	}
}

// TestAdaptiveLimitGrowthAdmitsWaiter: a limit grown lets in a write
// already waiting, without a release.
func TestAdaptiveLimitGrowthAdmitsWaiter(t *testing.T) {
	a, clk := newFakeAdmission(64)
	a.wait = 5 * time.Second
	a.cur = 16
	ctx := context.Background()
	for range 15 {
		a.acquire(ctx)
	}
	// One fast write answered and its slot taken again: 16 in progress.
	at, _ := a.acquire(ctx)
	clk.add(fastWrite)
	a.release(at)
	at, _ = a.acquire(ctx)
	done := make(chan bool)
	go func() { _, ok := a.acquire(ctx); done <- ok }()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		a.mu.Lock()
		n := a.waiters.Len()
		a.mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the write never waited")
		}
	}
	clk.add(adaptEvery)
	if got := a.limit(); got != 18 {
		t.Fatalf("limit %d after a fast binding interval, want 18", got)
	}
	select {
	case ok := <-done:
		if !ok || a.inProgress() != 17 {
			t.Fatalf("waiter admitted %v, %d in progress; want true and 17", ok, a.inProgress())
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the waiter was not admitted when the limit grew")
	}
	a.release(at)
}

// TestAdaptiveLimitBounds: no limit stays none, and a maximum under the
// floor is the limit whatever the writes' latency.
func TestAdaptiveLimitBounds(t *testing.T) {
	none, clk := newFakeAdmission(0)
	for range 5 {
		if got, refused := interval(none, clk, 5000, slowWrite); got != 0 || refused != 0 {
			t.Fatalf("no limit: limit %d, %d refused", got, refused)
		}
	}
	small, clk := newFakeAdmission(4)
	for range 5 {
		if got, _ := interval(small, clk, 10, slowWrite); got != 4 {
			t.Fatalf("maximum 4, slow writes: limit %d", got)
		}
	}
}

func TestNextLimit(t *testing.T) {
	for _, c := range []struct {
		cur           int
		slow, binding bool
		want          int
	}{
		{1024, true, true, 768},
		{1024, true, false, 768},
		{17, true, true, 16},
		{16, true, true, 16},
		{16, false, true, 18},
		{7, false, true, 8},
		{1000, false, true, 1024},
		{1024, false, true, 1024},
		{500, false, false, 500},
	} {
		lo, hi := 16, 1024
		if c.cur < lo {
			lo = 1
		}
		if got := nextLimit(c.cur, lo, hi, c.slow, c.binding); got != c.want {
			t.Errorf("nextLimit(%d, slow %v, binding %v) = %d, want %d", c.cur, c.slow, c.binding, got, c.want)
		}
	}
}

// TestAdmissionLogsOnce: an overload is one log line every busyLogEvery,
// with the refusals counted, not a line a request.
func TestAdmissionLogsOnce(t *testing.T) {
	var buf testenv.SyncBuffer
	a := newAdmission(1, time.Hour, 0, slog.New(slog.NewTextHandler(&buf, nil)))
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
	if !strings.Contains(buf.String(), "limit=1 max_inflight_writes=1") {
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
	want := fmt.Sprintf("collector busy: 2 writes in progress, limit 2; retry after %d s", after)
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
	for _, w := range []string{`probity_ingest_rejected_total{reason="busy"} 1`, "probity_ingest_writes_in_progress 2", "probity_ingest_max_inflight_writes 2", "probity_ingest_inflight_limit 2"} {
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
	want := fmt.Sprintf("collector busy: 2 writes in progress, limit 2; retry after %d s", after)
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
