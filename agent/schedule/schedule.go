// Package schedule runs probe jobs, in the manner of tailscale's
// prober.Prober and node_exporter's execute().
//
// The scheduler owns time: each job runs every Interval, after a random
// delay in [0, Jitter) so agents started together do not probe in step, and
// under a deadline of Timeout (default 80% of Interval) carried by ctx. At
// most Concurrency jobs run at once; Exclusive jobs (throughput tests) never
// overlap each other; a job never overlaps itself: a start that finds the
// previous run still going is skipped and counted.
//
// A job with a Plan (a Windows plan of school hours, say) runs at the times
// the plan gives instead: Interval and Jitter are not used, and the
// wall clock is checked at least once a minute, so a clock that jumps (a
// Raspberry Pi setting its time from NTP after boot) moves the next run to
// the plan's next time rather than to a moment outside it.
//
// Every point a probe returns without a time gets the run's start time.
// A probe error is counted and logged once per failure streak (the first
// failure and the recovery), with the job's name.
package schedule

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/probity-edu/probity/agent/probe"
	"github.com/probity-edu/probity/internal/point"
)

// Job is one scheduled probe instance.
type Job struct {
	Name, Kind string
	Probe      probe.Probe
	Interval   time.Duration // between run starts; unused with a Plan
	Jitter     time.Duration // random delay in [0, Jitter) before each run; at most Interval; none with a Plan
	Timeout    time.Duration // per-run deadline; default 80% of Interval (required with a Plan and no Interval)
	Exclusive  bool          // never overlaps another Exclusive job
	// Continuous jobs watch all the time at a trickle (the wan probe's
	// one connect a second): they take no concurrency slot, so they never
	// wait behind heavy probes and their windows follow each other.
	Continuous bool
	// Plan, when set, gives the start times instead of Interval: the job
	// runs at Plan.Next(now), again and again, until it returns the zero
	// time.
	Plan Planner
}

// Options tune a Scheduler. Zero values take the defaults.
type Options struct {
	// Concurrency bounds the jobs running at once. Default 4.
	Concurrency int
	Log         *slog.Logger
	// Now stamps points that come back without a time. Default time.Now.
	Now func() time.Time
	// Rand returns a number in [0, n), n > 0; it draws the jitter.
	// Default math/rand/v2.Int64N.
	Rand func(n int64) int64
}

// DefaultConcurrency is the default bound on jobs running at once.
const DefaultConcurrency = 4

// Result is the outcome of one run of one job.
type Result struct {
	Job      Job
	Points   []point.Point
	Err      error
	Duration time.Duration
}

// JobStats are the running totals of one job.
type JobStats struct {
	Runs         int64 // completed runs, failed ones included
	Failures     int64 // runs whose probe returned an error
	Skipped      int64 // starts skipped because the previous run was still going
	LastDuration time.Duration
	LastError    string // error of the last run; empty when it succeeded
}

// Stats are the scheduler's totals, per job by name.
type Stats struct {
	ProbeFailures int64
	Jobs          map[string]JobStats
}

// job is a Job with its state.
type job struct {
	Job
	log  *slog.Logger
	busy atomic.Bool // a run is waiting for a slot or running

	// Guarded by Scheduler.mu.
	stats    JobStats
	streak   int64 // consecutive failures
	skipping bool
}

// Scheduler runs jobs. Build it with New.
type Scheduler struct {
	jobs []*job
	out  func(Job, []point.Point)
	o    Options
	sem  chan struct{} // one token per running job
	excl chan struct{} // held by the running Exclusive job

	running atomic.Bool

	mu       sync.Mutex
	failures int64
}

// New checks the jobs, fills their defaults and returns a Scheduler that
// hands every run's points to out. out may be nil for a scheduler used
// only through RunOnce.
func New(jobs []Job, out func(job Job, pts []point.Point), o Options) (*Scheduler, error) {
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Rand == nil {
		o.Rand = rand.Int64N
	}
	s := &Scheduler{
		out:  out,
		o:    o,
		sem:  make(chan struct{}, o.Concurrency),
		excl: make(chan struct{}, 1),
	}
	seen := map[string]bool{}
	var errs []error
	for i, j := range jobs {
		if err := check(j, seen); err != nil {
			errs = append(errs, fmt.Errorf("schedule: job %d (%q): %w", i, j.Name, err))
			continue
		}
		seen[j.Name] = true
		if j.Timeout == 0 {
			j.Timeout = j.Interval * 8 / 10
		}
		s.jobs = append(s.jobs, &job{Job: j, log: o.Log.With("probe", j.Name, "kind", j.Kind)})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return s, nil
}

func check(j Job, seen map[string]bool) error {
	switch {
	case j.Name == "":
		return errors.New("no name")
	case seen[j.Name]:
		return errors.New("name used twice")
	case j.Probe == nil:
		return errors.New("no probe")
	case j.Plan != nil:
		switch {
		case j.Interval < 0:
			return errors.New("interval must not be negative")
		case j.Jitter != 0:
			return errors.New("jitter is not used with a plan (the plan draws its own times)")
		case j.Timeout < 0:
			return errors.New("timeout must not be negative")
		case j.Timeout == 0 && j.Interval == 0:
			return errors.New("a planned job needs a timeout (or an interval to take 80% of)")
		}
		return nil
	case j.Interval <= 0:
		return errors.New("interval must be positive")
	case j.Jitter < 0 || j.Jitter > j.Interval:
		return errors.New("jitter must be between 0 and the interval")
	case j.Timeout < 0:
		return errors.New("timeout must not be negative")
	}
	return nil
}

// Run runs every job on its schedule until ctx ends, then waits for the
// runs in progress and returns nil. Runs cut short by ctx are discarded:
// their points would report a timeout that never happened.
func (s *Scheduler) Run(ctx context.Context) error {
	if s.out == nil {
		return errors.New("schedule: Run needs an output function")
	}
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("schedule: already running")
	}
	defer s.running.Store(false)
	var wg sync.WaitGroup
	for _, j := range s.jobs {
		wg.Go(func() { s.loop(ctx, j, &wg) })
	}
	wg.Wait()
	return nil
}

// RunOnce runs every job once, concurrently within the same bounds as Run,
// and returns the results in job order. Points are returned, not handed to
// the output function.
func (s *Scheduler) RunOnce(ctx context.Context) []Result {
	res := make([]Result, len(s.jobs))
	var wg sync.WaitGroup
	for i, j := range s.jobs {
		wg.Go(func() { res[i], _ = s.execute(ctx, j) })
	}
	wg.Wait()
	return res
}

// Stats returns a copy of the totals.
func (s *Scheduler) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{ProbeFailures: s.failures, Jobs: make(map[string]JobStats, len(s.jobs))}
	for _, j := range s.jobs {
		st.Jobs[j.Name] = j.stats
	}
	return st
}
