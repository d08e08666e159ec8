// Package influx forwards what the collector stores to InfluxDB (2.x,
// Cloud, 3, or 1.8+ through its v2-compatible API) through
// influxdb-client-go/v2: every raw point as agents sent it, with the
// school's trust as a tag, and the verdicts after each scoring run
// (exporter.go). InfluxDB is optional and never in the way: points wait in
// a bounded queue of their own, a slow or down InfluxDB is retried with
// back-off, and past the bound the oldest points are dropped, counted and
// logged once. The store keeps everything either way.
package influx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"
	"github.com/influxdata/influxdb-client-go/v2/api"
	ihttp "github.com/influxdata/influxdb-client-go/v2/api/http"
	"github.com/influxdata/influxdb-client-go/v2/api/write"
	influxlog "github.com/influxdata/influxdb-client-go/v2/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/probity-edu/probity/internal/point"
)

// Config says where to write and how patiently.
type Config struct {
	URL   string
	Token string // InfluxDB 1.8: "user:password", or empty with auth off
	Org   string // ignored by 1.8
	// Bucket is the bucket (2.x, Cloud), database (3) or "db/rp" (1.8).
	Bucket string
	// QueueSize bounds the points waiting for InfluxDB.
	QueueSize int
	// BatchSize is the most points in one write request.
	BatchSize int
	// FlushInterval is how long a partial batch waits for more points.
	FlushInterval time.Duration
	// Timeout bounds one write request.
	Timeout time.Duration
	// MinBackoff and MaxBackoff bound the wait between retries of a
	// failed write; it doubles from one to the other.
	MinBackoff, MaxBackoff time.Duration
}

// withDefaults fills what is zero.
func (c Config) withDefaults() Config {
	if c.QueueSize <= 0 {
		c.QueueSize = 100_000
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 5000
	}
	if c.FlushInterval <= 0 {
		c.FlushInterval = time.Second
	}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = time.Second
	}
	if c.MaxBackoff < c.MinBackoff {
		c.MaxBackoff = max(time.Minute, c.MinBackoff)
	}
	return c
}

// Drop reasons, as the dropped-points counter labels them.
const (
	DropQueueFull = "queue_full" // InfluxDB fell too far behind
	DropRejected  = "rejected"   // InfluxDB refused the points as invalid
	DropShutdown  = "shutdown"   // still queued when the collector stopped
)

// Sink queues points and writes them to InfluxDB from one goroutine (Run).
type Sink struct {
	cfg    Config
	log    *slog.Logger
	client influxdb2.Client
	write  api.WriteAPIBlocking
	tags   *TagCache

	mu       sync.Mutex
	queue    []point.Point // FIFO: queue[head:] waits
	head     int
	wake     chan struct{}
	dropping bool // a queue_full episode is under way (logged once)
	dropped  int  // points dropped in that episode

	written   prometheus.Counter
	droppedC  *prometheus.CounterVec
	failures  prometheus.Counter
	queued    prometheus.GaugeFunc
	up        prometheus.Gauge
	lastWrite prometheus.Gauge
}

// New builds a sink; tags adds each school's trust to its points (nil:
// no trust tag). Nothing is sent until Run.
func New(cfg Config, tags *TagCache, log *slog.Logger) *Sink {
	cfg = cfg.withDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// The client logs through a package-level logger of its own; ours
	// says what matters through slog, once.
	influxlog.Log = nil
	opts := influxdb2.DefaultOptions().SetHTTPRequestTimeout(uint(cfg.Timeout.Seconds() + 0.5)).
		SetApplicationName("probity-collector")
	client := influxdb2.NewClientWithOptions(cfg.URL, cfg.Token, opts)
	s := &Sink{cfg: cfg, log: log, client: client, write: client.WriteAPIBlocking(cfg.Org, cfg.Bucket), tags: tags,
		wake: make(chan struct{}, 1)}
	s.written = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "probity_influx_points_written_total", Help: "Points written to InfluxDB."})
	s.droppedC = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "probity_influx_points_dropped_total", Help: "Points never written to InfluxDB, by reason (queue_full, rejected, shutdown); the store still has them."},
		[]string{"reason"})
	for _, r := range []string{DropQueueFull, DropRejected, DropShutdown} {
		s.droppedC.WithLabelValues(r)
	}
	s.failures = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "probity_influx_write_failures_total", Help: "Write requests to InfluxDB that failed (each retry counts)."})
	s.queued = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "probity_influx_queue_points", Help: "Points waiting to be written to InfluxDB."},
		func() float64 { return float64(s.Queued()) })
	s.up = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "probity_influx_up", Help: "1 if the last write to InfluxDB succeeded, 0 if it failed."})
	s.lastWrite = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "probity_influx_last_write_timestamp_seconds", Help: "When a write to InfluxDB last succeeded (Unix time)."})
	return s
}

// Collectors are the sink's metrics, for /metrics.
func (s *Sink) Collectors() []prometheus.Collector {
	return []prometheus.Collector{s.written, s.droppedC, s.failures, s.queued, s.up, s.lastWrite}
}

// Enqueue hands points over for InfluxDB without blocking: when the queue
// is full the oldest waiting points make room. The caller must not change
// the points afterwards.
func (s *Sink) Enqueue(pts []point.Point) {
	if len(pts) == 0 {
		return
	}
	s.mu.Lock()
	if s.head > 0 && s.head >= len(s.queue)/2 {
		// Reuse the consumed front rather than grow for ever.
		s.queue = append(s.queue[:0], s.queue[s.head:]...)
		s.head = 0
	}
	s.queue = append(s.queue, pts...)
	over := len(s.queue) - s.head - s.cfg.QueueSize
	if over > 0 {
		clear(s.queue[s.head : s.head+over])
		s.head += over
		s.dropped += over
		first := !s.dropping
		s.dropping = true
		s.mu.Unlock()
		s.droppedC.WithLabelValues(DropQueueFull).Add(float64(over))
		if first {
			s.log.Warn("InfluxDB is behind and its queue is full: dropping the oldest points until it catches up (the store keeps them)",
				"queue_size", s.cfg.QueueSize, "url", s.cfg.URL)
		}
	} else {
		s.mu.Unlock()
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Queued is how many points wait.
func (s *Sink) Queued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue) - s.head
}

// take removes up to n points from the front.
func (s *Sink) take(n int) []point.Point {
	s.mu.Lock()
	defer s.mu.Unlock()
	n = min(n, len(s.queue)-s.head)
	out := make([]point.Point, n)
	copy(out, s.queue[s.head:s.head+n])
	clear(s.queue[s.head : s.head+n])
	s.head += n
	if s.head == len(s.queue) {
		s.queue, s.head = s.queue[:0], 0
	}
	return out
}

// Run writes queued points until ctx ends, then makes one last attempt to
// write what is left (within the timeout) and counts the rest as dropped.
func (s *Sink) Run(ctx context.Context) {
	defer s.client.Close()
	s.ping(ctx)
	for {
		if !s.waitBatch(ctx) {
			s.drain()
			return
		}
		for s.Queued() > 0 && ctx.Err() == nil {
			batch := s.take(s.cfg.BatchSize)
			if !s.writeRetrying(ctx, batch) {
				break
			}
		}
	}
}

// waitBatch waits until a full batch is queued, or some points have waited
// FlushInterval; false when ctx ended.
func (s *Sink) waitBatch(ctx context.Context) bool {
	var flush <-chan time.Time
	for {
		n := s.Queued()
		if n >= s.cfg.BatchSize {
			return true
		}
		if n > 0 && flush == nil {
			t := time.NewTimer(s.cfg.FlushInterval)
			defer t.Stop()
			flush = t.C
		}
		select {
		case <-ctx.Done():
			return false
		case <-flush:
			return true
		case <-s.wake:
		}
	}
}

// writeRetrying writes one batch, retrying with back-off while InfluxDB
// is unreachable or failing; it gives up only when ctx ends (the batch goes
// back to the front of the queue for the final drain) or InfluxDB refuses
// the points as invalid (they are dropped and counted).
func (s *Sink) writeRetrying(ctx context.Context, batch []point.Point) bool {
	wps := s.convert(ctx, batch)
	backoff := s.cfg.MinBackoff
	failing := false
	for {
		err := s.send(ctx, wps)
		if err == nil {
			s.written.Add(float64(len(batch)))
			s.up.Set(1)
			s.lastWrite.SetToCurrentTime()
			if failing {
				s.log.Info("InfluxDB writes resumed", "url", s.cfg.URL)
			}
			s.endDropping()
			return true
		}
		if ctx.Err() != nil {
			s.requeue(batch)
			return false
		}
		s.failures.Inc()
		s.up.Set(0)
		var he *ihttp.Error
		if errors.As(err, &he) && permanent(he.StatusCode) {
			s.droppedC.WithLabelValues(DropRejected).Add(float64(len(batch)))
			s.log.Warn("InfluxDB refused a batch as invalid; dropped it (the store keeps it)", "points", len(batch), "status", he.StatusCode, "err", err)
			return true
		}
		wait := backoff
		if errors.As(err, &he) && he.RetryAfter > 0 {
			wait = min(time.Duration(he.RetryAfter)*time.Second, s.cfg.MaxBackoff)
		}
		if !failing {
			s.log.Warn("writing to InfluxDB failed; retrying with back-off while ingest into the store goes on",
				"url", s.cfg.URL, "bucket", s.cfg.Bucket, "err", describe(err), "retry_in", wait.String())
			failing = true
		} else {
			s.log.Debug("InfluxDB write retry failed", "err", err, "retry_in", wait.String())
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			s.requeue(batch)
			return false
		case <-t.C:
		}
		backoff = min(backoff*2, s.cfg.MaxBackoff)
	}
}

func (s *Sink) send(ctx context.Context, wps []*write.Point) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	return s.write.WritePoint(ctx, wps...)
}

// requeue puts a batch back at the front, ahead of newer points.
func (s *Sink) requeue(batch []point.Point) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rest := s.queue[s.head:]
	s.queue = append(append(make([]point.Point, 0, len(batch)+len(rest)), batch...), rest...)
	s.head = 0
}

func (s *Sink) endDropping() {
	s.mu.Lock()
	was, n := s.dropping, s.dropped
	s.dropping, s.dropped = false, 0
	s.mu.Unlock()
	if was {
		s.log.Warn("InfluxDB caught up; points were dropped while it was behind", "dropped", n)
	}
}

// drain makes one attempt per batch to write what is left, bounded by the
// timeout overall, and counts the rest as dropped.
func (s *Sink) drain() {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.Timeout)
	defer cancel()
	for s.Queued() > 0 {
		batch := s.take(s.cfg.BatchSize)
		if err := s.send(ctx, s.convert(ctx, batch)); err != nil {
			left := len(batch) + s.Queued()
			s.take(s.Queued())
			s.droppedC.WithLabelValues(DropShutdown).Add(float64(left))
			s.log.Warn("collector stopping: points not written to InfluxDB (the store keeps them)", "points", left, "err", describe(err))
			return
		}
		s.written.Add(float64(len(batch)))
	}
}

// ping logs once at start whether InfluxDB answers, so a wrong URL shows
// at once rather than at the first write.
func (s *Sink) ping(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	ok, err := s.client.Ping(ctx)
	if err != nil || !ok {
		s.log.Warn("InfluxDB does not answer yet; points will queue until it does", "url", s.cfg.URL, "err", describe(err))
		return
	}
	s.log.Info("InfluxDB reachable", "url", s.cfg.URL, "bucket", s.cfg.Bucket)
}

// permanent says whether a write answered with status will fail the same
// way when retried: the points themselves are wrong. Auth, a missing
// bucket or database, limits and server errors may be mended, so they are
// retried.
func permanent(status int) bool {
	return status == http.StatusBadRequest || status == http.StatusUnprocessableEntity
}

// describe adds the fix to the errors people meet setting it up.
func describe(err error) string {
	if err == nil {
		return "no answer"
	}
	var he *ihttp.Error
	if errors.As(err, &he) {
		switch he.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			return fmt.Sprintf("%v (check influx.token: a token with write access to the bucket; on 1.8, user:password)", err)
		case http.StatusNotFound:
			return fmt.Sprintf("%v (check influx.bucket and influx.org; on 1.8 create the database first: CREATE DATABASE <db>)", err)
		}
	}
	return err.Error()
}

// convert turns points into the client's, adding the trust tag.
func (s *Sink) convert(ctx context.Context, pts []point.Point) []*write.Point {
	out := make([]*write.Point, 0, len(pts))
	for _, p := range pts {
		wp := write.NewPointWithMeasurement(p.Measurement).SetTime(p.Time)
		for k, v := range p.Tags {
			wp.AddTag(k, v)
		}
		if s.tags != nil {
			if _, ok := p.Tags[TagTrust]; !ok {
				if trust := s.tags.Trust(ctx, p.Tags[TagSite]); trust != "" {
					wp.AddTag(TagTrust, trust)
				}
			}
		}
		for k, v := range p.Fields {
			wp.AddField(k, v)
		}
		out = append(out, wp)
	}
	return out
}
