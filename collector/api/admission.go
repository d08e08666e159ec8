package api

import (
	"container/list"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
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

// DefaultMaxInflightWrites bounds writes in progress when Server sets none;
// the adaptive limit starts there and never passes it. SQLite's group
// writer commits up to 512 batches a transaction, so 1,024 is one group
// committing and a full one waiting: the writer never starves. In normal
// operation (2,000 schools send about 1,000 batches a second, each
// answered in a few ms) only tens are in progress, so the limit is only
// reached under overload.
const DefaultMaxInflightWrites = 1024

// DefaultWriteLatencyTarget is the mean write latency (admission to the
// store's answer) the limit adapts to keep, when Server sets none. Agents
// ship every 2 s, so a write answered in a quarter of that keeps each in
// step; a healthy store answers in a few ms, so only writes queueing
// behind an overloaded store come near it.
const DefaultWriteLatencyTarget = 500 * time.Millisecond

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

	// adaptEvery is how often the limit is reconsidered. Under overload a
	// second holds hundreds of writes, enough for a steady mean, and is
	// about two latencies at the target, so a change shows in the next
	// interval's writes before the limit moves again.
	adaptEvery = time.Second
	// adaptFloor is the least the limit falls to (or max_inflight_writes,
	// if smaller), and never below a quarter of the maximum
	// (adaptFloorShare). Writes are also slow when the store is starved of
	// CPU (a rollup beside it) rather than queued: then shrinking the limit
	// cannot bring latency down, and a load benchmark showed a limit
	// driven to 16 make each group commit so small that throughput fell to
	// a sixth. A quarter of the default maximum is still a group commit of
	// hundreds of batches, and bounds a write's wait to that many commits.
	adaptFloor      = 16
	adaptFloorShare = 4
	// A slow interval multiplies the limit by 3/4: gentler than halving,
	// because the latencies measured lag the limit by up to an interval
	// and halving on stale news overshoots; still 1,024 falls to about
	// 430 (the 500 ms target at 870 batches a second) in three intervals.
	adaptDecreaseNum, adaptDecreaseDen = 3, 4
	// A fast interval in which the limit was binding grows it by an
	// eighth: a small step past the last good limit (a big one would
	// overshoot into a slow interval at once), yet proportional, so it
	// climbs from the floor back to 1,024 in 37 intervals rather than
	// 1,000 of +1.
	adaptIncreaseDiv = 8
)

// admission bounds writes in progress: from admission until the store
// has answered. The bound adapts to the store: each admitted write's
// latency (admission to release) is measured, and once per adaptEvery the
// limit shrinks if the interval's mean was over the target, or grows if it
// was not and the limit made a write wait or refused it. By Little's law
// the writes in progress are the store's rate times their latency, so one
// fixed number cannot suit a Raspberry Pi and a server: at the configured
// maximum a slow store makes every admitted write wait seconds.
type admission struct {
	max    int // the configured bound, which the limit never passes; 0: no limit
	floor  int // the limit never falls below this
	wait   time.Duration
	target time.Duration
	now    func() time.Time // time.Now; a fake clock in tests
	log    *slog.Logger

	mu      sync.Mutex
	cur     int       // the limit now, floor to max
	n       int       // admitted and not yet released
	waiters list.List // of chan struct{}, oldest first; closed when given a slot
	// The interval since the limit was last reconsidered: the writes
	// released in it, their summed latency, and whether the limit made a
	// write wait or refused one.
	since   time.Time
	done    int
	total   time.Duration
	binding bool

	refused atomic.Int64 // since the last log line
	lastLog atomic.Int64 // unix nanoseconds of the last log line
}

// newAdmission limits writes in progress to at most maxInflight (none when
// it is 0 or less), adapting the limit to keep their mean latency near
// target; each write waits up to wait for a slot.
func newAdmission(maxInflight int, target, wait time.Duration, log *slog.Logger) *admission {
	maxInflight = max(maxInflight, 0)
	floor := max(min(adaptFloor, maxInflight), maxInflight/adaptFloorShare)
	a := &admission{max: maxInflight, floor: floor, wait: wait, target: target, now: time.Now, log: log}
	a.cur = a.max
	a.since = a.now()
	return a
}

// limit is the most writes in progress now; 0 for no limit.
func (a *admission) limit() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	// An idle collector's last interval is judged here too, so /metrics
	// shows the limit its writes earned.
	a.adaptLocked(a.now())
	return a.cur
}

// inProgress is the writes admitted and not yet released.
func (a *admission) inProgress() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.n
}

// acquire takes a slot, waiting up to a.wait (or until ctx ends); false
// means the caller must refuse the write. A true must be paired with
// release, given the time returned.
func (a *admission) acquire(ctx context.Context) (time.Time, bool) {
	a.mu.Lock()
	now := a.now()
	a.adaptLocked(now)
	// Waiters first: a slot freed goes to the oldest, so a write that
	// arrives now does not overtake one that has waited.
	if a.max == 0 || (a.n < a.cur && a.waiters.Len() == 0) {
		a.n++
		a.mu.Unlock()
		return now, true
	}
	a.binding = true
	if a.wait <= 0 {
		a.mu.Unlock()
		a.refuse()
		return time.Time{}, false
	}
	// Each waiter has its own channel, closed when release hands it a
	// slot: one release wakes one waiter, not all of them.
	ready := make(chan struct{})
	e := a.waiters.PushBack(ready)
	a.mu.Unlock()
	t := time.NewTimer(a.wait)
	defer t.Stop()
	select {
	case <-ready:
		return a.now(), true
	case <-t.C:
	case <-ctx.Done():
	}
	a.mu.Lock()
	select {
	case <-ready: // given a slot as the wait ended: it is taken, so use it
		a.mu.Unlock()
		return a.now(), true
	default:
	}
	a.waiters.Remove(e)
	a.mu.Unlock()
	a.refuse()
	return time.Time{}, false
}

// release gives back a slot taken by acquire at admitted, counting the
// write's latency towards the limit.
func (a *admission) release(admitted time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	a.adaptLocked(now)
	a.n--
	if a.max > 0 {
		a.done++
		a.total += now.Sub(admitted)
		a.grantLocked()
	}
}

// grantLocked hands free slots to waiters, oldest first.
func (a *admission) grantLocked() {
	for a.n < a.cur && a.waiters.Len() > 0 {
		close(a.waiters.Remove(a.waiters.Front()).(chan struct{}))
		a.n++
	}
}

// adaptLocked reconsiders the limit once adaptEvery has passed since it
// last did, from the writes released since.
func (a *admission) adaptLocked(now time.Time) {
	if a.max == 0 || now.Sub(a.since) < adaptEvery {
		return
	}
	if a.done > 0 {
		mean := a.total / time.Duration(a.done)
		old := a.cur
		a.cur = nextLimit(a.cur, a.floor, a.max, mean > a.target, a.binding)
		if a.cur != old {
			a.log.Debug("write limit adapted", "limit", a.cur, "was", old, "mean_write", mean, "writes", a.done, "target", a.target)
		}
		a.grantLocked()
	}
	a.since, a.done, a.total, a.binding = now, 0, 0, false
}

// nextLimit is the limit after an interval whose writes were slow (mean
// latency over the target) or not, and in which the limit was binding (a
// write waited or was refused) or not; it stays within lo to hi.
func nextLimit(cur, lo, hi int, slow, binding bool) int {
	switch {
	case slow:
		return max(lo, cur*adaptDecreaseNum/adaptDecreaseDen)
	case binding:
		return min(hi, cur+max(1, cur/adaptIncreaseDiv))
	}
	// Not binding: the limit was not what held writes back, so their
	// latency says nothing about a larger one.
	return cur
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
		"refused", n, "in_progress", a.inProgress(), "limit", a.limit(), "max_inflight_writes", a.max)
}

// retryAfter is the Retry-After of a refusal, in seconds.
func retryAfter() int {
	return busyRetryMin + rand.IntN(busyRetryMax-busyRetryMin+1)
}

// busy counts a refused write on /metrics and says what to tell its
// sender, with Retry-After set on w.
func (s *Server) busy(w http.ResponseWriter) string {
	s.m.rejected.WithLabelValues("busy").Inc()
	after := retryAfter()
	w.Header().Set("Retry-After", strconv.Itoa(after))
	return fmt.Sprintf("collector busy: %d writes in progress, limit %d; retry after %d s", s.adm.inProgress(), s.adm.limit(), after)
}
