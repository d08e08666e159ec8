package spool

import (
	"log/slog"
	"sync"
	"time"

	"github.com/probity-edu/probity/internal/point"
)

// MaxGather is the most points a Gather holds before it puts them at once.
const MaxGather = 5000

// Gather collects probe results in memory for up to a window and puts them
// in the queue as one batch, as Telegraf's flush_interval does: one spool
// write (and fsync, on a Pi's SD card) and one POST for all the probes that
// finished meanwhile, rather than one each. A crash loses at most a
// window's results; a clean stop calls Flush.
type Gather struct {
	q      *Queue
	every  time.Duration
	onPut  func() // after a batch is put: wakes the shipper
	log    *slog.Logger
	mu     sync.Mutex
	pts    []point.Point
	timer  *time.Timer
	closed bool
}

// NewGather gathers for q over windows of every; onPut, when set, is
// called after each batch is put.
func NewGather(q *Queue, every time.Duration, onPut func(), log *slog.Logger) *Gather {
	if log == nil {
		log = slog.Default()
	}
	return &Gather{q: q, every: every, onPut: onPut, log: log}
}

// Add gathers pts. The first points after a put start the window; points
// past MaxGather are put at once.
func (g *Gather) Add(pts []point.Point) {
	if len(pts) == 0 {
		return
	}
	g.mu.Lock()
	g.pts = append(g.pts, pts...)
	full := len(g.pts) >= MaxGather
	if !full && g.timer == nil && !g.closed {
		g.timer = time.AfterFunc(g.every, g.Flush)
	}
	g.mu.Unlock()
	if full {
		g.Flush()
	}
}

// Flush puts what is gathered now, as one batch.
func (g *Gather) Flush() {
	g.mu.Lock()
	pts := g.pts
	g.pts = nil
	if g.timer != nil {
		g.timer.Stop()
		g.timer = nil
	}
	g.mu.Unlock()
	if len(pts) == 0 {
		return
	}
	// The fsync happens outside the lock, so probes finishing meanwhile
	// are not held up.
	if _, err := g.q.Put(pts); err != nil {
		g.log.Error("spooling results", "points", len(pts), "err", err)
		return
	}
	if g.onPut != nil {
		g.onPut()
	}
}

// Close puts what is gathered and stops the window: later points are put
// only by Flush.
func (g *Gather) Close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	g.Flush()
}
