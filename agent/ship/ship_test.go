package ship

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/probity-edu/probity/agent/spool"
	"github.com/probity-edu/probity/internal/point"
)

var t0 = time.Date(2025, 9, 1, 8, 0, 0, 0, time.UTC)

// mkPoints returns n points numbered by their "seq" field from first.
func mkPoints(first, n int) []point.Point {
	pts := make([]point.Point, n)
	for i := range pts {
		pts[i] = point.New("ping", map[string]string{"target": "gw"},
			map[string]any{"seq": int64(first + i), "rtt_avg_ms": 1.5},
			t0.Add(time.Duration(first+i)*time.Second))
	}
	return pts
}

func seqs(from, to int) []int64 {
	var s []int64
	for i := from; i < to; i++ {
		s = append(s, int64(i))
	}
	return s
}

func newSpool(t *testing.T) *spool.Queue {
	t.Helper()
	q, err := spool.Open(t.TempDir(), spool.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}

func put(t *testing.T, q *spool.Queue, pts []point.Point) spool.Batch {
	t.Helper()
	b, err := q.Put(pts)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sleeps records the back-offs a shipper asks for instead of waiting.
type sleeps struct {
	mu      sync.Mutex
	ds      []time.Duration
	onSleep func(n int) error // optional: called with the count so far
}

func (s *sleeps) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.ds = append(s.ds, d)
	n := len(s.ds)
	s.mu.Unlock()
	if s.onSleep != nil {
		return s.onSleep(n)
	}
	return nil
}

func (s *sleeps) got() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.ds)
}

func newShipper(t *testing.T, url string, q Queue, logs *bytes.Buffer, mod func(*Options)) *Shipper {
	t.Helper()
	o := Options{URL: url, Token: testToken, Queue: q, Version: testVersion, Idle: 10 * time.Millisecond}
	if logs != nil {
		o.Log = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if mod != nil {
		mod(&o)
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// runUntil runs the shipper until done holds, then stops it.
func runUntil(t *testing.T, s *Shipper, done func() bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- s.Run(ctx) }()
	deadline := time.Now().Add(20 * time.Second)
	for !done() {
		if time.Now().After(deadline) {
			cancel()
			<-errc
			t.Fatal("shipper did not reach the expected state")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func empty(q *spool.Queue) func() bool { return func() bool { return q.Stats().Batches == 0 } }

func TestHappyPath(t *testing.T) {
	c := newCollector(t)
	srv := c.start()
	q := newSpool(t)
	want := []string{put(t, q, mkPoints(0, 5)).ID, put(t, q, mkPoints(5, 1)).ID, put(t, q, mkPoints(6, 10)).ID}
	s := newShipper(t, srv.URL+"/", q, nil, nil) // a trailing slash is fine

	if err := s.SendAll(context.Background()); err != nil {
		t.Fatalf("SendAll: %v", err)
	}
	c.received(t, seqs(0, 16))
	if ids, _ := c.snapshot(); !slices.Equal(ids, want) {
		t.Fatalf("batch ids at the collector = %v, want %v (spool order)", ids, want)
	}
	if st := s.Stats(); st != (Stats{Sent: 3}) {
		t.Fatalf("stats = %+v", st)
	}
	if st := q.Stats(); st.Batches != 0 {
		t.Fatalf("spool not emptied: %+v", st)
	}
}

func TestLostAckIsAnsweredDuplicate(t *testing.T) {
	c := newCollector(t)
	// The first write is stored but its answer is lost behind a proxy.
	c.before = func(n int, id string, pts []point.Point) (int, http.Header, bool) {
		if n == 1 {
			return http.StatusBadGateway, nil, true
		}
		return 0, nil, false
	}
	srv := c.start()
	q := newSpool(t)
	b := put(t, q, mkPoints(0, 4))
	sl := &sleeps{}
	s := newShipper(t, srv.URL, q, nil, func(o *Options) { o.Sleep = sl.Sleep })

	runUntil(t, s, empty(q))
	c.received(t, seqs(0, 4))
	ids, statuses := c.snapshot()
	if !slices.Equal(ids, []string{b.ID, b.ID}) || !slices.Equal(statuses, []int{502, 200}) || c.dups != 1 {
		t.Fatalf("exchanges: ids %v statuses %v dups %d; want the same id twice, 502 then 200 duplicate", ids, statuses, c.dups)
	}
	if st := s.Stats(); st != (Stats{Sent: 1, Failures: 1}) {
		t.Fatalf("stats = %+v", st)
	}
	if len(sl.got()) != 1 {
		t.Fatalf("back-offs = %v, want one", sl.got())
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	c := newCollector(t)
	c.before = func(n int, id string, pts []point.Point) (int, http.Header, bool) {
		switch n {
		case 1:
			return http.StatusServiceUnavailable, http.Header{"Retry-After": {"7"}}, false
		case 2:
			at := time.Now().Add(2 * time.Minute).UTC().Format(http.TimeFormat)
			return http.StatusTooManyRequests, http.Header{"Retry-After": {at}}, false
		}
		return 0, nil, false
	}
	srv := c.start()
	q := newSpool(t)
	put(t, q, mkPoints(0, 3))
	sl := &sleeps{}
	s := newShipper(t, srv.URL, q, nil, func(o *Options) { o.Sleep = sl.Sleep })

	runUntil(t, s, empty(q))
	c.received(t, seqs(0, 3))
	got := sl.got()
	if len(got) != 2 || got[0] != 7*time.Second {
		t.Fatalf("requested delays = %v, want [7s, ~2m]", got)
	}
	// The HTTP date has one-second resolution and the clock moved on a little.
	if got[1] < 100*time.Second || got[1] > 2*time.Minute {
		t.Fatalf("delay for an HTTP-date Retry-After = %s, want just under 2m", got[1])
	}
	if st := s.Stats(); st != (Stats{Sent: 1, Failures: 2}) {
		t.Fatalf("stats = %+v", st)
	}
}

func TestSplitOn413(t *testing.T) {
	c := newCollector(t)
	c.maxPoints = 3
	// Fail the second half once: the retry must resend the stored first
	// half under the same derived ids, so nothing is stored twice.
	failed := false
	c.before = func(n int, id string, pts []point.Point) (int, http.Header, bool) {
		if strings.HasSuffix(id, "-2-2") && !failed {
			failed = true
			return http.StatusServiceUnavailable, nil, false
		}
		return 0, nil, false
	}
	srv := c.start()
	q := newSpool(t)
	b := put(t, q, mkPoints(0, 20))
	put(t, q, mkPoints(20, 2))
	s := newShipper(t, srv.URL, q, nil, nil)

	err := s.SendAll(context.Background())
	if err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("first SendAll = %v, want the 503", err)
	}
	if q.Stats().Batches != 2 {
		t.Fatalf("batch acked before all its parts were stored")
	}
	if err := s.SendAll(context.Background()); err != nil {
		t.Fatalf("second SendAll: %v", err)
	}
	c.received(t, seqs(0, 22))

	c.mu.Lock()
	defer c.mu.Unlock()
	var parts int
	for id, n := range c.batches {
		if n > 3 {
			t.Errorf("collector stored %d points under %s, above its limit", n, id)
		}
		if strings.HasPrefix(id, b.ID+"-") {
			parts++
		}
	}
	if parts < 7 { // 20 points in parts of at most 3
		t.Errorf("%d stored parts of the split batch, want at least 7", parts)
	}
	if c.dups == 0 {
		t.Errorf("the retry of the split batch saw no duplicates: ids were not deterministic")
	}
	if st := s.Stats(); st != (Stats{Sent: 2, Failures: 1}) {
		t.Errorf("stats = %+v", st)
	}
}

func TestSinglePointStillTooLargeIsDropped(t *testing.T) {
	c := newCollector(t)
	c.maxBody = 600
	srv := c.start()
	q := newSpool(t)
	pts := mkPoints(0, 7)
	pts[3].Fields["detail"] = strings.Repeat("x", 2000)
	put(t, q, pts)
	var logs bytes.Buffer
	s := newShipper(t, srv.URL, q, &logs, nil)

	if err := s.SendAll(context.Background()); err != nil {
		t.Fatalf("SendAll: %v", err)
	}
	c.received(t, []int64{0, 1, 2, 4, 5, 6})
	if st := s.Stats(); st != (Stats{Sent: 1, RejectedPoints: 1}) {
		t.Fatalf("stats = %+v", st)
	}
	if q.Stats().Batches != 0 {
		t.Fatal("spool not emptied")
	}
	if n := strings.Count(logs.String(), "single point as too large"); n != 1 {
		t.Fatalf("drop logged %d times, want once:\n%s", n, logs.String())
	}
}

func TestRejected400MovesOn(t *testing.T) {
	c := newCollector(t)
	srv := c.start()
	q := newSpool(t)
	bad := mkPoints(0, 3)
	bad[1].Measurement = "bad"
	badBatch := put(t, q, bad)
	put(t, q, mkPoints(3, 2))
	var logs bytes.Buffer
	s := newShipper(t, srv.URL, q, &logs, nil)

	if err := s.SendAll(context.Background()); err != nil {
		t.Fatalf("SendAll: %v", err)
	}
	c.received(t, seqs(3, 5))
	if st := s.Stats(); st != (Stats{Sent: 1, RejectedPoints: 3}) {
		t.Fatalf("stats = %+v", st)
	}
	if q.Stats().Batches != 0 {
		t.Fatal("the rejected batch blocks the queue")
	}
	var lines []string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "level=ERROR") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 || !strings.Contains(lines[0], `reason="measurement bad is not known"`) ||
		!strings.Contains(lines[0], "line=2") || !strings.Contains(lines[0], badBatch.ID) {
		t.Fatalf("want one error line with the reason, line 2 and the batch id; got:\n%s", logs.String())
	}
}

func TestUnauthorizedKeepsData(t *testing.T) {
	c := newCollector(t)
	srv := c.start()
	q := newSpool(t)
	put(t, q, mkPoints(0, 2))
	put(t, q, mkPoints(2, 2))
	var logs bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sl := &sleeps{onSleep: func(n int) error {
		if n == 4 {
			cancel()
			return ctx.Err()
		}
		return nil
	}}
	s := newShipper(t, srv.URL, q, &logs, func(o *Options) { o.Token = "revoked"; o.Sleep = sl.Sleep })

	if err := s.Run(ctx); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if st := q.Stats(); st.Batches != 2 || st.DroppedPoints != 0 {
		t.Fatalf("spool after 401s: %+v, want both batches kept", st)
	}
	if st := s.Stats(); st != (Stats{Failures: 4}) {
		t.Fatalf("stats = %+v", st)
	}
	for i, d := range sl.got() {
		if d < time.Second || d > 5*time.Minute {
			t.Fatalf("back-off %d = %s, outside [1s, 5m]", i, d)
		}
	}
	if n := strings.Count(logs.String(), "unknown or was revoked"); n != 1 {
		t.Fatalf("credential problem logged %d times, want once per streak:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "level=ERROR") {
		t.Fatalf("credential problem not logged as an error:\n%s", logs.String())
	}
	err := newShipper(t, srv.URL, q, nil, func(o *Options) { o.Token = "revoked" }).SendAll(context.Background())
	if !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("SendAll with a revoked credential = %v, want ErrUnauthorized", err)
	}

	// Re-enrolled: everything kept arrives.
	if err := newShipper(t, srv.URL, q, nil, nil).SendAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	c.received(t, seqs(0, 4))
}

func TestCollectorDownThenUp(t *testing.T) {
	// Reserve a loopback port and leave it closed: connections are refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()

	q := newSpool(t)
	put(t, q, mkPoints(0, 3))
	put(t, q, mkPoints(3, 3))
	c := newCollector(t)
	srv := httptest.NewUnstartedServer(c)
	t.Cleanup(srv.Close)
	var logs bytes.Buffer
	sl := &sleeps{onSleep: func(n int) error {
		if n == 3 { // the collector comes back during the third back-off
			srv.Listener.Close()
			l, err := net.Listen("tcp", addr)
			if err != nil {
				return err
			}
			srv.Listener = l
			srv.Start()
		}
		return nil
	}}
	s := newShipper(t, "http://"+addr, q, &logs, func(o *Options) { o.Sleep = sl.Sleep })

	if err := s.SendAll(context.Background()); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("SendAll to a closed port = %v, want connection refused", err)
	}
	if st := q.Stats(); st.Batches != 2 {
		t.Fatalf("spool lost data while the collector was down: %+v", st)
	}

	runUntil(t, s, empty(q))
	c.received(t, seqs(0, 6))
	if st := s.Stats(); st != (Stats{Sent: 2, Failures: 4}) {
		t.Fatalf("stats = %+v, want 2 sent and 4 failures (1 SendAll + 3 Run)", st)
	}
	if n := strings.Count(logs.String(), "level=WARN"); n != 1 {
		t.Fatalf("outage logged %d times at warn, want once:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "collector accepting batches again") {
		t.Fatalf("recovery not logged:\n%s", logs.String())
	}
}

func TestWakeEndsIdleWait(t *testing.T) {
	c := newCollector(t)
	srv := c.start()
	q := newSpool(t)
	s := newShipper(t, srv.URL, q, nil, func(o *Options) { o.Idle = time.Hour })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- s.Run(ctx) }()
	put(t, q, mkPoints(0, 2))
	for q.Stats().Batches != 0 { // only Wake can end an hour of idling
		s.Wake()
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	c.received(t, seqs(0, 2))
}

func TestNewChecksOptions(t *testing.T) {
	q := newSpool(t)
	for name, o := range map[string]Options{
		"no url":       {Token: "t", Queue: q},
		"bad scheme":   {URL: "ftp://x", Token: "t", Queue: q},
		"no host":      {URL: "http://", Token: "t", Queue: q},
		"no token":     {URL: "http://127.0.0.1:1", Queue: q},
		"no queue":     {URL: "http://127.0.0.1:1", Token: "t"},
		"backoff flip": {URL: "http://127.0.0.1:1", Token: "t", Queue: q, MinBackoff: time.Minute, MaxBackoff: time.Second},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("%s: New accepted %+v", name, o)
		}
	}
}
