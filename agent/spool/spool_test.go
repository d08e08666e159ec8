package spool

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/influxdata/line-protocol/v2/lineprotocol"

	"github.com/probity-edu/probity/internal/point"
)

var t0 = time.Date(2025, 9, 1, 8, 0, 0, 0, time.UTC)

// mkPoints returns n valid points whose "seq" field numbers them from first.
func mkPoints(first, n int) []point.Point {
	pts := make([]point.Point, n)
	for i := range pts {
		pts[i] = point.New("ping",
			map[string]string{"target": "gw", "role": "gateway"},
			map[string]any{"seq": int64(first + i), "loss_pct": 0.5, "rtt_avg_ms": 1.25},
			t0.Add(time.Duration(first+i)*time.Second))
	}
	return pts
}

// clock is a settable Now for bound tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func open(t *testing.T, dir string, o Options) *Queue {
	t.Helper()
	q, err := Open(dir, o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}

func put(t *testing.T, q *Queue, pts []point.Point) Batch {
	t.Helper()
	b, err := q.Put(pts)
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	return b
}

func decode(t *testing.T, body []byte) []point.Point {
	t.Helper()
	pts, err := point.Decode(body, lineprotocol.Nanosecond, time.Time{})
	if err != nil {
		t.Fatalf("decode body: %v", err)
	}
	return pts
}

func files(t *testing.T, dir, suffix string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*"+suffix))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestDurableAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	q := open(t, dir, Options{})
	in := [][]point.Point{mkPoints(0, 3), mkPoints(3, 5), mkPoints(8, 1)}
	var put1 []Batch
	for _, pts := range in {
		put1 = append(put1, put(t, q, pts))
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Put(mkPoints(9, 1)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Put after Close: %v, want ErrClosed", err)
	}

	q2 := open(t, dir, Options{})
	if st := q2.Stats(); st.Batches != 3 {
		t.Fatalf("after reopen: %+v, want 3 batches", st)
	}
	for i, want := range put1 {
		got, ok, err := q2.Oldest()
		if err != nil || !ok {
			t.Fatalf("Oldest %d: ok=%v err=%v", i, ok, err)
		}
		if got.ID != want.ID || got.Points != want.Points || !bytes.Equal(got.Body, want.Body) || !got.Created.Equal(want.Created) {
			t.Fatalf("batch %d after reopen = %+v, want %+v", i, got, want)
		}
		if diff := cmp.Diff(in[i], decode(t, got.Body)); diff != "" {
			t.Fatalf("batch %d points (-put +read):\n%s", i, diff)
		}
		if err := q2.Ack(got.ID); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok, _ := q2.Oldest(); ok {
		t.Fatal("queue not empty after acking everything")
	}
	if st := q2.Stats(); st != (Stats{}) {
		t.Fatalf("stats of empty queue = %+v", st)
	}
}

func TestOrderSurvivesClockStepBack(t *testing.T) {
	c := &clock{t: t0}
	dir := t.TempDir()
	q := open(t, dir, Options{Now: c.Now})
	var ids []string
	for i := range 12 {
		ids = append(ids, put(t, q, mkPoints(i, 1)).ID)
		if i == 5 {
			c.Add(-time.Hour) // NTP correction: order must still follow Put
		}
	}
	q.Close()
	q = open(t, dir, Options{Now: c.Now})
	for i, want := range ids {
		b, ok, err := q.Oldest()
		if !ok || err != nil || b.ID != want {
			t.Fatalf("Oldest #%d = %q ok=%v err=%v, want %q", i, b.ID, ok, err, want)
		}
		if err := q.Ack(b.ID); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAck(t *testing.T) {
	q := open(t, t.TempDir(), Options{})
	a := put(t, q, mkPoints(0, 2))
	b := put(t, q, mkPoints(2, 2))
	before := q.Stats()

	// Acking out of order and acking twice are both fine.
	if err := q.Ack(b.ID); err != nil {
		t.Fatal(err)
	}
	if err := q.Ack(b.ID); err != nil {
		t.Fatalf("second Ack: %v", err)
	}
	if err := q.Ack("unknown-id"); err != nil {
		t.Fatalf("Ack unknown: %v", err)
	}
	st := q.Stats()
	if st.Batches != 1 || st.Bytes >= before.Bytes || st.Bytes <= 0 {
		t.Fatalf("stats after ack = %+v (before %+v)", st, before)
	}
	got, ok, _ := q.Oldest()
	if !ok || got.ID != a.ID {
		t.Fatalf("Oldest = %q, want %q", got.ID, a.ID)
	}
	if n := len(files(t, q.dir, batchExt)); n != 1 {
		t.Fatalf("%d batch files on disk, want 1", n)
	}
	if st.DroppedPoints != 0 || st.DroppedBatches != 0 {
		t.Fatalf("ack counted as drop: %+v", st)
	}
}

func TestMaxBytesDropsOldestAndCounts(t *testing.T) {
	dir := t.TempDir()
	probe := open(t, t.TempDir(), Options{})
	size := probe.Stats().Bytes
	put(t, probe, mkPoints(10, 4))
	size = probe.Stats().Bytes - size // every 4-point batch below has this size (2-digit seq)

	q := open(t, dir, Options{MaxBytes: 3 * size})
	var ids []string
	for i := range 5 {
		ids = append(ids, put(t, q, mkPoints(10+i*4, 4)).ID)
	}
	st := q.Stats()
	want := Stats{Batches: 3, Bytes: 3 * size, DroppedPoints: 8, DroppedBatches: 2}
	if st != want {
		t.Fatalf("stats = %+v, want %+v", st, want)
	}
	b, _, _ := q.Oldest()
	if b.ID != ids[2] {
		t.Fatalf("oldest = %s, want the third batch %s", b.ID, ids[2])
	}
	// The totals survive a restart, and a smaller bound applies on Open.
	q.Close()
	q = open(t, dir, Options{MaxBytes: size})
	want = Stats{Batches: 1, Bytes: size, DroppedPoints: 16, DroppedBatches: 4}
	if st := q.Stats(); st != want {
		t.Fatalf("after reopen with smaller bound: %+v, want %+v", st, want)
	}
	if b, _, _ := q.Oldest(); b.ID != ids[4] {
		t.Fatalf("survivor = %s, want the newest %s", b.ID, ids[4])
	}
}

func TestTooLargeBatchIsCountedNotStored(t *testing.T) {
	q := open(t, t.TempDir(), Options{MaxBytes: 200})
	_, err := q.Put(mkPoints(0, 50))
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Put = %v, want ErrTooLarge", err)
	}
	if st := q.Stats(); st != (Stats{DroppedPoints: 50, DroppedBatches: 1}) {
		t.Fatalf("stats = %+v", st)
	}
	if n := len(files(t, q.dir, "")); n != 2 { // lock and counters.json only
		t.Fatalf("files left behind: %v", files(t, q.dir, ""))
	}
}

func TestMaxAge(t *testing.T) {
	c := &clock{t: t0}
	dir := t.TempDir()
	q := open(t, dir, Options{MaxAge: 24 * time.Hour, Now: c.Now})
	put(t, q, mkPoints(0, 3)) // t0
	c.Add(12 * time.Hour)
	mid := put(t, q, mkPoints(3, 2)) // t0+12h
	c.Add(13 * time.Hour)
	last := put(t, q, mkPoints(5, 1)) // t0+25h: the first is now too old
	if st := q.Stats(); st.Batches != 2 || st.DroppedPoints != 3 || st.DroppedBatches != 1 {
		t.Fatalf("after Put at +25h: %+v", st)
	}
	if b, _, _ := q.Oldest(); b.ID != mid.ID {
		t.Fatalf("oldest = %s, want %s", b.ID, mid.ID)
	}

	// Open enforces the bound too: an agent that was off for a day comes
	// back with only the batch that is still young enough.
	q.Close()
	c.Add(12 * time.Hour) // +37h: mid (+12h) expired, last (+25h) not
	q = open(t, dir, Options{MaxAge: 24 * time.Hour, Now: c.Now})
	if st := q.Stats(); st.Batches != 1 || st.DroppedPoints != 5 || st.DroppedBatches != 2 {
		t.Fatalf("after reopen at +37h: %+v", st)
	}
	if b, _, _ := q.Oldest(); b.ID != last.ID {
		t.Fatalf("oldest = %s, want %s", b.ID, last.ID)
	}
}

func TestCorruptFilesAreMovedAsideAndCounted(t *testing.T) {
	var logs bytes.Buffer
	dir := t.TempDir()
	q := open(t, dir, Options{})
	a := put(t, q, mkPoints(0, 1))
	b := put(t, q, mkPoints(1, 7))
	c := put(t, q, mkPoints(8, 2))
	d := put(t, q, mkPoints(10, 3))
	q.Close()

	byID := func(id string) string {
		for _, f := range files(t, dir, batchExt) {
			if strings.Contains(f, id) {
				return f
			}
		}
		t.Fatalf("no file for %s", id)
		return ""
	}
	// b: a flipped bit in the body; c: torn to half its length; plus junk
	// that is not ours to parse and a temp file left by a crash.
	data, _ := os.ReadFile(byID(b.ID))
	data[len(data)-3] ^= 0x20
	os.WriteFile(byID(b.ID), data, 0o600)
	data, _ = os.ReadFile(byID(c.ID))
	os.WriteFile(byID(c.ID), data[:len(data)/2], 0o600)
	os.WriteFile(filepath.Join(dir, "garbage.batch"), []byte("x"), 0o600)
	os.WriteFile(filepath.Join(dir, "put-123.tmp"), []byte("half a batch"), 0o600)

	q = open(t, dir, Options{Log: slog.New(slog.NewTextHandler(&logs, nil))})
	if n := len(files(t, dir, tempExt)); n != 0 {
		t.Fatalf("stale temp files not removed: %d", n)
	}
	var got []string
	for {
		bt, ok, err := q.Oldest()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		decode(t, bt.Body)
		got = append(got, bt.ID)
		q.Ack(bt.ID)
	}
	if diff := cmp.Diff([]string{a.ID, d.ID}, got); diff != "" {
		t.Fatalf("delivered batches (-want +got):\n%s", diff)
	}
	// garbage.batch has no known point count: a batch, zero points.
	want := Stats{DroppedPoints: 9, DroppedBatches: 3}
	if st := q.Stats(); st != want {
		t.Fatalf("stats = %+v, want %+v", st, want)
	}
	if n := len(files(t, dir, badExt)); n != 3 {
		t.Fatalf("%d .bad files, want 3", n)
	}
	if !strings.Contains(logs.String(), "checksum mismatch") || !strings.Contains(logs.String(), b.ID) {
		t.Fatalf("log does not name the corrupt batch:\n%s", logs.String())
	}
}

func TestCorruptCountersStartFromZero(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, countersFile), []byte("{not json"), 0o600)
	q := open(t, dir, Options{})
	if st := q.Stats(); st != (Stats{}) {
		t.Fatalf("stats = %+v", st)
	}
}

func TestSecondOpenIsRefused(t *testing.T) {
	dir := t.TempDir()
	q := open(t, dir, Options{})
	if _, err := Open(dir, Options{}); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open = %v, want ErrLocked", err)
	}
	q.Close()
	q2 := open(t, dir, Options{}) // released by Close
	q2.Close()
}

func TestPutRejectsEmptyAndInvalid(t *testing.T) {
	q := open(t, t.TempDir(), Options{})
	if _, err := q.Put(nil); !errors.Is(err, ErrEmpty) {
		t.Fatalf("Put(nil) = %v", err)
	}
	bad := mkPoints(0, 2)
	bad[1].Time = time.Time{}
	if _, err := q.Put(bad); !errors.Is(err, point.ErrInvalid) {
		t.Fatalf("Put(invalid) = %v, want point.ErrInvalid", err)
	}
	if st := q.Stats(); st != (Stats{}) {
		t.Fatalf("stats = %+v", st)
	}
}

func TestConcurrentPutAndAck(t *testing.T) {
	q := open(t, t.TempDir(), Options{})
	const producers, each = 4, 25
	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			for i := range each {
				pts := mkPoints(0, 2)
				pts[0].Tags["producer"] = fmt.Sprint(p)
				pts[1].Fields["i"] = int64(i)
				if _, err := q.Put(pts); err != nil {
					t.Errorf("Put: %v", err)
					return
				}
			}
		})
	}
	seen := map[string]bool{}
	next := make([]int64, producers) // per producer, batches arrive in Put order
	for len(seen) < producers*each && !t.Failed() {
		b, ok, err := q.Oldest()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			continue
		}
		if seen[b.ID] {
			t.Fatalf("batch %s offered after its Ack", b.ID)
		}
		seen[b.ID] = true
		pts := decode(t, b.Body)
		var p int
		fmt.Sscan(pts[0].Tags["producer"], &p)
		if i := pts[1].Fields["i"].(int64); i != next[p] {
			t.Fatalf("producer %d: got batch %d, want %d", p, i, next[p])
		}
		next[p]++
		if err := q.Ack(b.ID); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	if st := q.Stats(); st.Batches != 0 || st.Bytes != 0 || st.DroppedPoints != 0 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestParseName(t *testing.T) {
	e := entry{seq: 42, created: t0, points: 1000, id: "0123abcd-1-2"}
	got, err := parseName(e.name())
	if err != nil {
		t.Fatal(err)
	}
	if got.seq != e.seq || !got.created.Equal(e.created) || got.points != e.points || got.id != e.id {
		t.Fatalf("round trip = %+v, want %+v", got, e)
	}
	for _, bad := range []string{"x.batch", "0000000000000001-1-1.batch", "zz00000000000001-1-1-id.batch",
		"0000000000000001-1--4-id.batch", "0000000000000001-1-1-.batch"} {
		if _, err := parseName(bad); err == nil {
			t.Errorf("parseName(%q) accepted", bad)
		}
	}
}
