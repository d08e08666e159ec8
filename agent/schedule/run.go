package schedule

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/probity-edu/probity/agent/probe"
	"github.com/probity-edu/probity/internal/point"
)

// loop starts j at every tick of its interval, each start delayed by a
// fresh jitter. Starts are k*Interval + jitter_k, so jitter never drifts
// the schedule.
func (s *Scheduler) loop(ctx context.Context, j *job, wg *sync.WaitGroup) {
	if j.Plan != nil {
		s.planLoop(ctx, j, wg)
		return
	}
	t := time.NewTicker(j.Interval)
	defer t.Stop()
	for {
		if !wait(ctx, s.jitter(j.Jitter)) {
			return
		}
		s.launch(ctx, j, wg)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Planned jobs wait for the wall clock in steps of at most clockCheck.
// A start found more than clockCheck late, or a clock now behind the time
// the start was planned from, means the clock jumped (or the machine
// slept): the start is dropped and the plan asked again, so a test never
// runs at a moment its plan did not choose.
const clockCheck = time.Minute

// planLoop starts j at each time its plan gives, until the plan runs out
// or ctx ends.
func (s *Scheduler) planLoop(ctx context.Context, j *job, wg *sync.WaitGroup) {
	from := s.o.Now()
	next := j.Plan.Next(from)
	for !next.IsZero() {
		j.log.Debug("next run planned", "at", next)
		launched := false
		for !launched {
			now := s.o.Now()
			if now.Before(from) || now.Sub(next) > clockCheck {
				j.log.Warn("clock jumped; planning again", "planned", next, "now", now)
				break
			}
			if d := next.Sub(now); d > 0 {
				if !wait(ctx, min(d, clockCheck)) {
					return
				}
				continue
			}
			s.launch(ctx, j, wg)
			launched = true
		}
		from = s.o.Now()
		if launched && from.Before(next) {
			from = next // never the same start twice, whatever the clock does
		}
		next = j.Plan.Next(from)
	}
	j.log.Info("plan has no more runs")
}

func (s *Scheduler) jitter(max time.Duration) time.Duration {
	if max <= 0 {
		return 0
	}
	return time.Duration(s.o.Rand(int64(max)))
}

// launch starts one run of j unless the previous one is still going.
func (s *Scheduler) launch(ctx context.Context, j *job, wg *sync.WaitGroup) {
	if !j.busy.CompareAndSwap(false, true) {
		s.mu.Lock()
		j.stats.Skipped++
		first := !j.skipping
		j.skipping = true
		s.mu.Unlock()
		if first {
			j.log.Warn("previous run still going at the next start; run skipped", "interval", j.Interval)
		}
		return
	}
	s.mu.Lock()
	j.skipping = false
	s.mu.Unlock()
	wg.Go(func() {
		defer j.busy.Store(false)
		if r, done := s.execute(ctx, j); done && len(r.Points) > 0 {
			s.out(j.Job, r.Points)
		}
	})
}

// execute waits for a slot, runs the probe under its deadline and records
// the outcome. done is false when ctx ended first; nothing is recorded then.
func (s *Scheduler) execute(ctx context.Context, j *job) (r Result, done bool) {
	r.Job = j.Job
	if j.Exclusive {
		select {
		case s.excl <- struct{}{}:
			defer func() { <-s.excl }()
		case <-ctx.Done():
			r.Err = ctx.Err()
			return r, false
		}
	}
	if !j.Continuous {
		select {
		case s.sem <- struct{}{}:
			defer func() { <-s.sem }()
		case <-ctx.Done():
			r.Err = ctx.Err()
			return r, false
		}
	}

	start := s.o.Now()
	began := time.Now() // monotonic, for the duration
	rctx, cancel := context.WithTimeout(ctx, j.Timeout)
	pts, err := j.run(rctx)
	cancel()
	r.Duration = time.Since(began)
	if ctx.Err() != nil {
		r.Err = ctx.Err()
		return r, false
	}
	if err != nil && errors.Is(rctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("run exceeded its %s timeout: %w", j.Timeout, err)
	}
	for i := range pts {
		if pts[i].Time.IsZero() {
			pts[i].Time = start
		}
	}
	r.Points, r.Err = pts, err
	s.record(j, r)
	return r, true
}

// run calls the probe, turning a panic into an error: a bug in one probe
// must not stop the agent.
func (j *job) run(ctx context.Context) (pts []point.Point, err error) {
	defer func() {
		if v := recover(); v != nil {
			j.log.Error("probe panicked", "panic", v, "stack", string(debug.Stack()))
			pts, err = nil, fmt.Errorf("probe panicked: %v", v)
		}
	}()
	return j.Probe.Run(ctx)
}

// record keeps the run's totals and logs a failure streak once.
func (s *Scheduler) record(j *job, r Result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := &j.stats
	st.Runs++
	st.LastDuration = r.Duration
	ms := probe.Ms(r.Duration)
	if r.Err == nil {
		if j.streak > 0 {
			j.log.Info("probe recovered", "failed_runs", j.streak, "duration_ms", ms)
		}
		j.streak = 0
		st.LastError = ""
		return
	}
	st.Failures++
	s.failures++
	st.LastError = r.Err.Error()
	j.streak++
	if j.streak == 1 {
		j.log.Error("probe failed", "err", r.Err, "duration_ms", ms)
	} else {
		j.log.Debug("probe still failing", "err", r.Err, "failed_runs", j.streak)
	}
}

// wait sleeps for d unless ctx ends first; it reports whether to go on.
func wait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
