// Package ship sends spooled batches to the collector.
//
// Delivery is at least once from the agent and exactly once at the
// collector: every batch carries its spool id, a retried batch is answered
// "duplicate", and a batch is removed from the spool only after the
// collector stored it. Bodies are gzip-compressed line protocol.
//
// Answers and what the shipper does:
//   - 200: stored or duplicate; the batch is acknowledged in the spool.
//   - 413: the batch is split in two at a line boundary and each half sent
//     with a derived id (id-1, id-2, recursively), so retries stay
//     idempotent; a single point still too large is dropped and counted.
//   - 400: the body can never be accepted; the collector's reason is logged
//     once, the points are counted as rejected and the queue moves on.
//   - 401/403: the credential is unknown or revoked; the data is kept and
//     the shipper backs off.
//   - 429, 5xx, network errors: exponential back-off with full jitter
//     between MinBackoff and MaxBackoff, honouring Retry-After.
package ship

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/probity-edu/probity/agent/spool"
	"github.com/probity-edu/probity/internal/version"
	"github.com/probity-edu/probity/internal/wire"
)

// Queue is what the shipper needs from the spool.
type Queue interface {
	Oldest() (spool.Batch, bool, error)
	Ack(id string) error
}

// Options configure a Shipper. Zero values take the defaults.
type Options struct {
	URL     string // collector base URL, e.g. https://collector.example.org
	Token   string // the agent credential, sent as "Authorization: Bearer"
	Queue   Queue
	Client  *http.Client // default: a client with a one-minute timeout
	Version string       // agent build, default version.Version

	MinBackoff time.Duration // default 1s
	MaxBackoff time.Duration // default 5m
	// Idle is how long to wait before looking at an empty queue again;
	// Wake cuts it short. Default 2s.
	Idle time.Duration
	// Sleep waits out a back-off; it returns early with an error when ctx
	// ends. Tests replace it to record the delays.
	Sleep func(ctx context.Context, d time.Duration) error
	Log   *slog.Logger
}

// Stats are running totals since New.
type Stats struct {
	Sent           int64 // batches taken by the collector and removed from the spool
	Failures       int64 // attempts that failed and will be retried
	RejectedPoints int64 // points the collector can never accept (400, or one point still 413)
}

// Shipper moves batches from a Queue to the collector.
type Shipper struct {
	o    Options
	url  string
	log  *slog.Logger
	wake chan struct{}
	rand func(int64) int64

	sent, failures, rejected atomic.Int64
}

// New checks the options and fills the defaults.
func New(o Options) (*Shipper, error) {
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("ship: collector URL %q: want http(s)://host[:port]", o.URL)
	}
	if o.Token == "" {
		return nil, errors.New("ship: no agent credential (enrol the agent first)")
	}
	if o.Queue == nil {
		return nil, errors.New("ship: no queue")
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: time.Minute}
	}
	if o.Version == "" {
		o.Version = version.Version
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 5 * time.Minute
	}
	if o.MaxBackoff < o.MinBackoff {
		return nil, fmt.Errorf("ship: max backoff %s is below min backoff %s", o.MaxBackoff, o.MinBackoff)
	}
	if o.Idle <= 0 {
		o.Idle = 2 * time.Second
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Shipper{
		o:    o,
		url:  strings.TrimRight(o.URL, "/") + wire.WritePath,
		log:  o.Log,
		wake: make(chan struct{}, 1),
		rand: defaultRand,
	}, nil
}

// Stats returns the running totals.
func (s *Shipper) Stats() Stats {
	return Stats{Sent: s.sent.Load(), Failures: s.failures.Load(), RejectedPoints: s.rejected.Load()}
}

// Wake ends an idle wait at once, typically right after a Put. It never
// shortens a back-off.
func (s *Shipper) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run ships batches until ctx ends, backing off on failures. It returns nil
// when ctx ends and an error only when the queue itself fails.
func (s *Shipper) Run(ctx context.Context) error {
	attempt := 0
	var last string // the last failure logged, so a streak logs once
	for ctx.Err() == nil {
		b, ok, err := s.o.Queue.Oldest()
		if err != nil {
			return fmt.Errorf("ship: read queue: %w", err)
		}
		if !ok {
			s.idle(ctx)
			continue
		}
		err = s.shipBatch(ctx, b)
		if err == nil {
			if attempt > 0 {
				s.log.Info("collector accepting batches again", "failed_attempts", attempt)
			}
			attempt, last = 0, ""
			continue
		}
		if ctx.Err() != nil {
			return nil
		}
		attempt++
		s.failures.Add(1)
		d := s.delay(attempt, err)
		key := failureKey(err)
		switch {
		case key == last:
			s.log.Debug("batch not delivered, backing off", "batch", b.ID, "attempt", attempt, "retry_in", d, "err", err)
		case errors.Is(err, ErrUnauthorized):
			s.log.Error("collector refuses the agent credential: it is unknown or was revoked; re-enrol the agent. Data is kept",
				"batch", b.ID, "retry_in", d, "err", err)
		default:
			s.log.Warn("batch not delivered, backing off", "batch", b.ID, "attempt", attempt, "retry_in", d, "err", err)
		}
		last = key
		if s.o.Sleep(ctx, d) != nil {
			return nil
		}
	}
	return nil
}

// SendAll ships until the queue is empty (nil) or an attempt fails (its
// error); it does not retry.
func (s *Shipper) SendAll(ctx context.Context) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		b, ok, err := s.o.Queue.Oldest()
		if err != nil {
			return fmt.Errorf("ship: read queue: %w", err)
		}
		if !ok {
			return nil
		}
		if err := s.shipBatch(ctx, b); err != nil {
			s.failures.Add(1)
			return err
		}
	}
}

// shipBatch delivers one spooled batch and acknowledges it.
func (s *Shipper) shipBatch(ctx context.Context, b spool.Batch) error {
	stored, err := s.deliver(ctx, b.ID, b.Body, b.Points)
	if err != nil {
		return err
	}
	if err := s.o.Queue.Ack(b.ID); err != nil {
		// The resend will be answered "duplicate": nothing is stored twice.
		return fmt.Errorf("ship: ack batch %s: %w", b.ID, err)
	}
	if stored > 0 {
		s.sent.Add(1)
	}
	return nil
}

// deliver sends body (points lines) under id and returns how many points the
// collector now holds. A nil error means the body needs no more attempts.
func (s *Shipper) deliver(ctx context.Context, id string, body []byte, points int) (int, error) {
	r := s.post(ctx, id, body)
	switch r.kind {
	case accepted:
		s.log.Debug("batch delivered", "batch", id, "points", points, "status", r.resp.Status)
		return points, nil
	case tooLarge:
		n := lines(body)
		if n <= 1 {
			s.rejected.Add(int64(points))
			s.log.Error("collector refuses a single point as too large; dropped",
				"batch", id, "bytes", len(body), "points", points)
			return 0, nil
		}
		a, b, na, nb := split(body, n)
		s.log.Debug("collector says batch too large; splitting", "batch", id, "points", n, "bytes", len(body))
		sa, err := s.deliver(ctx, id+"-1", a, na)
		if err != nil {
			return 0, err
		}
		sb, err := s.deliver(ctx, id+"-2", b, nb)
		return sa + sb, err
	case rejected:
		s.rejected.Add(int64(points))
		s.log.Error("collector rejected batch; dropped", "batch", id, "points", points,
			"reason", r.resp.Error, "line", r.resp.Line)
		return 0, nil
	}
	return 0, &sendError{status: r.status, wait: r.wait, hasWait: r.hasWait, err: r.err}
}

// sendError is a failed attempt: the HTTP status (0 when no answer came)
// and the collector's Retry-After, when it gave one.
type sendError struct {
	status  int
	wait    time.Duration
	hasWait bool
	err     error
}

func (e *sendError) Error() string { return e.err.Error() }
func (e *sendError) Unwrap() error { return e.err }

// delay picks the back-off before the next attempt: the collector's
// Retry-After when it gave one, clamped to [MinBackoff, MaxBackoff] so a
// bad header can neither spin nor park the agent for days; otherwise
// exponential with full jitter.
func (s *Shipper) delay(attempt int, err error) time.Duration {
	var se *sendError
	if errors.As(err, &se) && se.hasWait {
		return min(max(se.wait, s.o.MinBackoff), s.o.MaxBackoff)
	}
	return backoff(attempt, s.o.MinBackoff, s.o.MaxBackoff, s.rand)
}

// failureKey groups failures for logging: one log line per change of HTTP
// status, so a long outage is logged once, not once per attempt.
func failureKey(err error) string {
	var se *sendError
	if errors.As(err, &se) {
		return fmt.Sprint("status ", se.status)
	}
	return err.Error()
}

func (s *Shipper) idle(ctx context.Context) {
	t := time.NewTimer(s.o.Idle)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-s.wake:
	case <-t.C:
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
