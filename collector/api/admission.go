package api

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"sync/atomic"
	"time"
)

// Admission control for writes. Without it, a collector sent more than its
// store can commit queues every write behind the store's writer: latency
// grows to many seconds, agents time out and send again, and what is
// accepted falls towards nothing. With it, writes past a limit are refused
// early and cheaply (503 with Retry-After, before the body is read), so the
// writes it does take are answered in bounded time; agents keep refused
// batches in their spool and send them later.

// DefaultMaxInflightWrites bounds writes in progress when Server sets none.
// SQLite's group writer commits up to 512 batches a transaction, so 1,024
// is one group committing and a full one waiting: the writer never starves,
// and a write waits at most about two commits. In normal operation (2,000
// schools send about 1,000 batches a second, each answered in a few ms)
// only tens are in progress, so the limit is only reached under overload.
const DefaultMaxInflightWrites = 1024

const (
	// admissionWait is how long a write waits for a slot before it is
	// refused. A group commit frees hundreds of slots at once, so a burst
	// that arrives just before one ends need not be refused; 100 ms is
	// about one commit and bounds the waiters to a tenth of a second of
	// arrivals.
	admissionWait = 100 * time.Millisecond
	// busyRetryMin and busyRetryMax bound the Retry-After of a refusal, in
	// seconds. Agents wait exactly what they are told, so it is random:
	// a burst refused together comes back spread over a few seconds, not
	// in step. Agents ship every 2 s and keep refused batches, so a few
	// seconds costs them nothing.
	busyRetryMin = 2
	busyRetryMax = 5
	// busyLogEvery spaces the log lines of an overload: one line every so
	// often with the refusals since the last, not one per request.
	busyLogEvery = 5 * time.Second
)

// admission bounds writes in progress: from admission until the store
// has answered.
type admission struct {
	slots chan struct{} // nil: no limit
	wait  time.Duration
	log   *slog.Logger

	refused atomic.Int64 // since the last log line
	lastLog atomic.Int64 // unix nanoseconds of the last log line
}

// newAdmission limits writes in progress to limit (none when limit <= 0),
// each waiting up to wait for a slot.
func newAdmission(limit int, wait time.Duration, log *slog.Logger) *admission {
	a := &admission{wait: wait, log: log}
	if limit > 0 {
		a.slots = make(chan struct{}, limit)
	}
	return a
}

// limit is the most writes in progress; 0 for no limit.
func (a *admission) limit() int { return cap(a.slots) }

// inProgress is the writes admitted and not yet released.
func (a *admission) inProgress() int { return len(a.slots) }

// acquire takes a slot, waiting up to a.wait (or until ctx ends); false
// means the caller must refuse the write. A true must be paired with
// release.
func (a *admission) acquire(ctx context.Context) bool {
	if a.slots == nil {
		return true
	}
	select {
	case a.slots <- struct{}{}:
		return true
	default:
	}
	if a.wait <= 0 {
		a.refuse()
		return false
	}
	t := time.NewTimer(a.wait)
	defer t.Stop()
	select {
	case a.slots <- struct{}{}:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	a.refuse()
	return false
}

// release gives back a slot taken by acquire.
func (a *admission) release() {
	if a.slots != nil {
		<-a.slots
	}
}

// refuse counts a refusal and logs the refusals at most every
// busyLogEvery, so an overload is a few lines, not one per request.
func (a *admission) refuse() {
	a.refused.Add(1)
	now := time.Now().UnixNano()
	last := a.lastLog.Load()
	if now-last < int64(busyLogEvery) || !a.lastLog.CompareAndSwap(last, now) {
		return
	}
	n := a.refused.Swap(0)
	a.log.Warn("collector busy: refusing writes with 503; agents keep them and send them later",
		"refused", n, "in_progress", a.inProgress(), "max_inflight_writes", a.limit())
}

// retryAfter is the Retry-After of a refusal, in seconds.
func retryAfter() int {
	return busyRetryMin + rand.IntN(busyRetryMax-busyRetryMin+1)
}

// busy counts a refused write on /metrics and says what to tell its
// sender: the writes in progress (the limit, reached) and Retry-After.
func (s *Server) busy() (inProgress, retryAfterSecs int) {
	s.m.rejected.WithLabelValues("busy").Inc()
	return s.adm.limit(), retryAfter()
}
