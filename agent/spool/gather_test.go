package spool

import (
	"sync/atomic"
	"testing"
	"time"
)

// Results gathered within a window become one batch, in the order added.
func TestGatherPutsOneBatchAWindow(t *testing.T) {
	q := open(t, t.TempDir(), Options{})
	var puts atomic.Int32
	g := NewGather(q, time.Hour, func() { puts.Add(1) }, nil)
	g.Add(mkPoints(0, 3))
	g.Add(nil)
	g.Add(mkPoints(3, 2))
	if n := q.Stats().Batches; n != 0 {
		t.Fatalf("%d batches spooled inside the window, want 0", n)
	}
	g.Close()
	if n := q.Stats().Batches; n != 1 || puts.Load() != 1 {
		t.Fatalf("after Close: %d batches, %d wakes; want 1 and 1", n, puts.Load())
	}
	b, ok, err := q.Oldest()
	if err != nil || !ok || b.Points != 5 {
		t.Fatalf("batch %+v, %v, %v; want 5 points", b, ok, err)
	}
	// After Close, points wait for Flush (the agent's last record).
	g.Add(mkPoints(5, 1))
	g.Flush()
	if n := q.Stats().Batches; n != 2 {
		t.Fatalf("%d batches after a Flush, want 2", n)
	}
}

// The window ends by itself: the points are put and the shipper woken.
func TestGatherWindowEnds(t *testing.T) {
	q := open(t, t.TempDir(), Options{})
	woke := make(chan struct{}, 1)
	g := NewGather(q, 10*time.Millisecond, func() { woke <- struct{}{} }, nil)
	defer g.Close()
	g.Add(mkPoints(0, 2))
	select {
	case <-woke:
	case <-time.After(10 * time.Second):
		t.Fatal("the window never ended")
	}
	if b, ok, _ := q.Oldest(); !ok || b.Points != 2 {
		t.Fatalf("batch %+v, %v; want 2 points", b, ok)
	}
}

// A full gather is put at once, whatever the window.
func TestGatherFullPutsAtOnce(t *testing.T) {
	q := open(t, t.TempDir(), Options{})
	g := NewGather(q, time.Hour, nil, nil)
	defer g.Close()
	g.Add(mkPoints(0, MaxGather))
	if n := q.Stats().Batches; n != 1 {
		t.Fatalf("%d batches after %d points, want 1", n, MaxGather)
	}
}
