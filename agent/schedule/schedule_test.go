package schedule

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/probity-edu/probity/internal/point"
)

// probeFunc adapts a function to probe.Probe.
type probeFunc func(ctx context.Context) ([]point.Point, error)

func (f probeFunc) Run(ctx context.Context) ([]point.Point, error) { return f(ctx) }

// gauge tracks how many runs are in progress and the most ever seen.
type gauge struct{ cur, max atomic.Int64 }

func (g *gauge) enter() {
	n := g.cur.Add(1)
	for {
		m := g.max.Load()
		if n <= m || g.max.CompareAndSwap(m, n) {
			return
		}
	}
}
func (g *gauge) leave() { g.cur.Add(-1) }

// sleeper is a probe that takes d (or until ctx ends) and is counted in gs.
func sleeper(d time.Duration, gs ...*gauge) probeFunc {
	return func(ctx context.Context) ([]point.Point, error) {
		for _, g := range gs {
			g.enter()
			defer g.leave()
		}
		select {
		case <-time.After(d):
			return []point.Point{point.New("t", nil, map[string]any{"ok": true}, time.Time{})}, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// collect is an output function that keeps everything it is given.
type collect struct {
	mu  sync.Mutex
	pts map[string][]point.Point
}

func (c *collect) out(j Job, pts []point.Point) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pts == nil {
		c.pts = map[string][]point.Point{}
	}
	c.pts[j.Name] = append(c.pts[j.Name], pts...)
}

func newScheduler(t *testing.T, jobs []Job, out func(Job, []point.Point), o Options) *Scheduler {
	t.Helper()
	if out == nil {
		out = func(Job, []point.Point) {}
	}
	s, err := New(jobs, out, o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// runFor runs s for d of (fake) time, then stops it and waits for it.
func runFor(t *testing.T, s *Scheduler, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	time.Sleep(d)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func TestIntervalsAndPointTimes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		fixed := start.Add(-time.Hour)
		var mu sync.Mutex
		var runs []time.Duration
		p := probeFunc(func(ctx context.Context) ([]point.Point, error) {
			mu.Lock()
			runs = append(runs, time.Since(start))
			mu.Unlock()
			time.Sleep(time.Second) // the stamp is the start, not the end
			return []point.Point{
				point.New("t", nil, map[string]any{"v": int64(1)}, time.Time{}),
				point.New("t", nil, map[string]any{"v": int64(2)}, fixed),
			}, nil
		})
		c := &collect{}
		s := newScheduler(t, []Job{{Name: "gw", Kind: "ping", Probe: p, Interval: 10 * time.Second}}, c.out, Options{})
		runFor(t, s, 35*time.Second)

		want := []time.Duration{0, 10 * time.Second, 20 * time.Second, 30 * time.Second}
		if !slices.Equal(runs, want) {
			t.Fatalf("runs at %v, want %v", runs, want)
		}
		pts := c.pts["gw"]
		if len(pts) != 8 {
			t.Fatalf("out got %d points, want 8", len(pts))
		}
		for i, p := range pts {
			want := fixed
			if i%2 == 0 {
				want = start.Add(runs[i/2])
			}
			if !p.Time.Equal(want) {
				t.Errorf("point %d time %s, want %s", i, p.Time, want)
			}
		}
		st := s.Stats().Jobs["gw"]
		if st.Runs != 4 || st.Failures != 0 || st.Skipped != 0 || st.LastDuration != time.Second {
			t.Fatalf("stats = %+v", st)
		}
	})
}

func TestJitterWithinBounds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const interval, jitter = 10 * time.Second, 4 * time.Second
		start := time.Now()
		var mu sync.Mutex
		var offsets []time.Duration
		p := probeFunc(func(context.Context) ([]point.Point, error) {
			mu.Lock()
			defer mu.Unlock()
			k := time.Duration(len(offsets))
			offsets = append(offsets, time.Since(start)-k*interval)
			return nil, nil
		})
		s := newScheduler(t, []Job{{Name: "j", Probe: p, Interval: interval, Jitter: jitter}}, nil, Options{})
		runFor(t, s, 1000*time.Second+time.Millisecond)

		if len(offsets) != 100 {
			t.Fatalf("%d runs in 100 intervals, want 100", len(offsets))
		}
		distinct := map[time.Duration]bool{}
		for k, off := range offsets {
			if off < 0 || off >= jitter {
				t.Fatalf("run %d started %s into its interval, want [0, %s)", k, off, jitter)
			}
			distinct[off] = true
		}
		if len(distinct) < 50 {
			t.Fatalf("only %d distinct start offsets in 100 runs: jitter not applied", len(distinct))
		}
	})
}

func TestJitterUsesInjectedRand(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var asked []int64
		var starts []time.Duration
		rnd := func(n int64) int64 { asked = append(asked, n); return n / 2 }
		p := probeFunc(func(context.Context) ([]point.Point, error) {
			starts = append(starts, time.Since(start))
			return nil, nil
		})
		s := newScheduler(t, []Job{{Name: "j", Probe: p, Interval: 10 * time.Second, Jitter: 3 * time.Second}},
			nil, Options{Rand: rnd})
		runFor(t, s, 25*time.Second)
		want := []time.Duration{1500 * time.Millisecond, 11500 * time.Millisecond, 21500 * time.Millisecond}
		if !slices.Equal(starts, want) {
			t.Fatalf("starts %v, want %v", starts, want)
		}
		for _, n := range asked {
			if n != int64(3*time.Second) {
				t.Fatalf("Rand asked for [0, %d), want [0, 3s)", n)
			}
		}
	})
}

func TestTimeoutCancelsSlowProbe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stuck := probeFunc(func(ctx context.Context) ([]point.Point, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		})
		s := newScheduler(t, []Job{
			{Name: "default", Probe: stuck, Interval: 10 * time.Second}, // 80%: 8s
			{Name: "explicit", Probe: stuck, Interval: 10 * time.Second, Timeout: 3 * time.Second},
		}, nil, Options{})
		res := s.RunOnce(context.Background())
		for i, want := range []time.Duration{8 * time.Second, 3 * time.Second} {
			if res[i].Duration != want || !errors.Is(res[i].Err, context.DeadlineExceeded) {
				t.Errorf("%s: duration %s err %v; want %s and a deadline error", res[i].Job.Name, res[i].Duration, res[i].Err, want)
			}
		}
		st := s.Stats()
		if st.ProbeFailures != 2 || !strings.Contains(st.Jobs["default"].LastError, "8s timeout") ||
			st.Jobs["default"].LastDuration != 8*time.Second {
			t.Fatalf("stats = %+v", st)
		}
	})
}

func TestConcurrencyBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var g gauge
		var jobs []Job
		for i := range 10 {
			jobs = append(jobs, Job{Name: fmt.Sprint("j", i), Probe: sleeper(time.Second, &g), Interval: 10 * time.Second})
		}
		s := newScheduler(t, jobs, nil, Options{Concurrency: 3})
		runFor(t, s, 25*time.Second)
		if g.max.Load() != 3 {
			t.Fatalf("at most %d jobs ran at once, want exactly the bound 3", g.max.Load())
		}
		for name, st := range s.Stats().Jobs {
			if st.Runs != 3 || st.Skipped != 0 {
				t.Errorf("%s: %+v, want 3 runs and no skips", name, st)
			}
		}

		var g2 gauge
		for i := range jobs {
			jobs[i].Probe = sleeper(time.Second, &g2)
		}
		s = newScheduler(t, jobs, nil, Options{Concurrency: 3})
		start := time.Now()
		res := s.RunOnce(context.Background())
		if g2.max.Load() != 3 || time.Since(start) != 4*time.Second || len(res) != 10 {
			t.Fatalf("RunOnce: max %d at once over %s; want 3 at once, 4 waves of 1s", g2.max.Load(), time.Since(start))
		}
	})
}

func TestExclusiveJobsNeverOverlap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var excl, all gauge
		s := newScheduler(t, []Job{
			{Name: "throughput-a", Probe: sleeper(4*time.Second, &excl, &all), Interval: 10 * time.Second, Exclusive: true},
			{Name: "throughput-b", Probe: sleeper(4*time.Second, &excl, &all), Interval: 10 * time.Second, Exclusive: true},
			{Name: "ping", Probe: sleeper(4*time.Second, &all), Interval: 10 * time.Second},
		}, nil, Options{})
		runFor(t, s, 35*time.Second)
		if excl.max.Load() != 1 {
			t.Fatalf("%d exclusive jobs ran at once", excl.max.Load())
		}
		if all.max.Load() < 2 {
			t.Fatalf("a plain job was held back by an exclusive one (max %d at once)", all.max.Load())
		}
		st := s.Stats().Jobs
		if st["throughput-a"].Runs < 3 || st["throughput-b"].Runs < 3 {
			t.Fatalf("exclusive jobs starved: %+v", st)
		}
	})
}

func TestOverlappingRunIsSkipped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs bytes.Buffer
		var g gauge
		var runs atomic.Int64
		// Ignores ctx (a buggy probe): takes 25s whatever the deadline.
		slow := probeFunc(func(context.Context) ([]point.Point, error) {
			g.enter()
			defer g.leave()
			runs.Add(1)
			time.Sleep(25 * time.Second)
			return nil, nil
		})
		s := newScheduler(t, []Job{{Name: "slow", Probe: slow, Interval: 10 * time.Second}}, nil,
			Options{Log: slog.New(slog.NewTextHandler(&logs, nil))})
		runFor(t, s, 35*time.Second) // starts at 0 and 30; 10 and 20 skipped
		st := s.Stats().Jobs["slow"]
		if st.Skipped != 2 || runs.Load() != 2 {
			t.Fatalf("skipped %d, started %d; want 2 and 2 (%+v)", st.Skipped, runs.Load(), st)
		}
		if g.max.Load() != 1 {
			t.Fatalf("%d runs of one job at once", g.max.Load())
		}
		if st.Runs != 1 {
			t.Fatalf("recorded %d runs; the one cut short by shutdown must not count", st.Runs)
		}
		if n := strings.Count(logs.String(), "run skipped"); n != 1 {
			t.Fatalf("skip streak logged %d times, want once:\n%s", n, logs.String())
		}
	})
}

func TestFailureStreakLoggedOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs bytes.Buffer
		fails := []bool{true, true, true, false, true, false}
		var n atomic.Int64
		p := probeFunc(func(context.Context) ([]point.Point, error) {
			i := n.Add(1) - 1
			pt := point.New("t", nil, map[string]any{"ok": !fails[i]}, time.Time{})
			if fails[i] {
				return []point.Point{pt}, fmt.Errorf("no raw socket (run %d)", i+1)
			}
			return []point.Point{pt}, nil
		})
		c := &collect{}
		s := newScheduler(t, []Job{{Name: "gw", Kind: "ping", Probe: p, Interval: 10 * time.Second}}, c.out,
			Options{Log: slog.New(slog.NewTextHandler(&logs, nil))})
		runFor(t, s, 55*time.Second)

		st := s.Stats()
		js := st.Jobs["gw"]
		if st.ProbeFailures != 4 || js.Failures != 4 || js.Runs != 6 || js.LastError != "" {
			t.Fatalf("stats = %+v", st)
		}
		if len(c.pts["gw"]) != 6 {
			t.Fatalf("%d points out; a failed run's points must still be kept", len(c.pts["gw"]))
		}
		out := logs.String()
		failed := strings.Count(out, `msg="probe failed"`)
		recovered := strings.Count(out, `msg="probe recovered"`)
		if failed != 2 || recovered != 2 {
			t.Fatalf("logged %d failures and %d recoveries, want 2 and 2:\n%s", failed, recovered, out)
		}
		if !strings.Contains(out, "probe=gw") || !strings.Contains(out, "no raw socket (run 1)") ||
			!strings.Contains(out, "no raw socket (run 5)") || strings.Contains(out, "run 2)") {
			t.Fatalf("log lines should name the job and the first error of each streak only:\n%s", out)
		}
	})
}

func TestPanickingProbeIsAFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := probeFunc(func(context.Context) ([]point.Point, error) { panic("nil map") })
		s := newScheduler(t, []Job{
			{Name: "bad", Probe: p, Interval: 10 * time.Second},
			{Name: "good", Probe: sleeper(time.Second), Interval: 10 * time.Second},
		}, nil, Options{})
		runFor(t, s, 15*time.Second)
		st := s.Stats().Jobs
		if st["bad"].Failures != 2 || !strings.Contains(st["bad"].LastError, "panicked: nil map") || st["good"].Runs != 2 {
			t.Fatalf("stats = %+v", st)
		}
	})
}

func TestRunOnceOrderAndExclusive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var jobs []Job
		for i, d := range []int{4, 3, 2, 1} { // the first job finishes last
			jobs = append(jobs, Job{Name: fmt.Sprint("j", i), Probe: sleeper(time.Duration(d) * time.Second), Interval: time.Minute})
		}
		jobs = append(jobs,
			Job{Name: "x1", Probe: sleeper(2 * time.Second), Interval: time.Minute, Exclusive: true},
			Job{Name: "x2", Probe: sleeper(2 * time.Second), Interval: time.Minute, Exclusive: true},
			Job{Name: "fails", Probe: probeFunc(func(context.Context) ([]point.Point, error) { return nil, errors.New("boom") }), Interval: time.Minute},
		)
		s := newScheduler(t, jobs, nil, Options{Concurrency: 8})
		res := s.RunOnce(context.Background())

		var names []string
		for _, r := range res {
			names = append(names, r.Job.Name)
		}
		if want := []string{"j0", "j1", "j2", "j3", "x1", "x2", "fails"}; !slices.Equal(names, want) {
			t.Fatalf("results in order %v, want %v", names, want)
		}
		for i, d := range []int{4, 3, 2, 1} {
			if res[i].Duration != time.Duration(d)*time.Second || len(res[i].Points) != 1 || res[i].Err != nil {
				t.Errorf("%s: %+v", res[i].Job.Name, res[i])
			}
		}
		// The exclusive pair ran one after the other: the later one's points
		// carry its own start, 2s after the first.
		t1, t2 := res[4].Points[0].Time.Sub(start), res[5].Points[0].Time.Sub(start)
		if !((t1 == 0 && t2 == 2*time.Second) || (t2 == 0 && t1 == 2*time.Second)) {
			t.Errorf("exclusive jobs started at +%s and +%s, want 0 and 2s", t1, t2)
		}
		if res[6].Err == nil || res[6].Err.Error() != "boom" {
			t.Errorf("fails: err %v", res[6].Err)
		}
	})
}

func TestNewChecksJobs(t *testing.T) {
	p := sleeper(0)
	out := func(Job, []point.Point) {}
	for name, jobs := range map[string][]Job{
		"no name":     {{Probe: p, Interval: time.Second}},
		"duplicate":   {{Name: "a", Probe: p, Interval: time.Second}, {Name: "a", Probe: p, Interval: time.Second}},
		"no probe":    {{Name: "a", Interval: time.Second}},
		"no interval": {{Name: "a", Probe: p}},
		"jitter":      {{Name: "a", Probe: p, Interval: time.Second, Jitter: 2 * time.Second}},
		"timeout":     {{Name: "a", Probe: p, Interval: time.Second, Timeout: -1}},
	} {
		if _, err := New(jobs, out, Options{}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// A nil output is fine for RunOnce (the check command) but not for Run.
	once, err := New([]Job{{Name: "a", Probe: p, Interval: time.Second}}, nil, Options{})
	if err != nil {
		t.Fatalf("nil out for RunOnce: %v", err)
	}
	if res := once.RunOnce(context.Background()); len(res) != 1 || res[0].Err != nil {
		t.Fatalf("RunOnce = %+v", res)
	}
	if err := once.Run(context.Background()); err == nil {
		t.Error("Run without an output function accepted")
	}
	s, err := New([]Job{{Name: "a", Probe: p, Interval: 10 * time.Second}}, out, Options{})
	if err != nil || s.jobs[0].Timeout != 8*time.Second || cap(s.sem) != DefaultConcurrency {
		t.Fatalf("defaults not applied: %v", err)
	}
}

func TestContinuousJobsTakeNoSlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var all gauge
		s := newScheduler(t, []Job{
			{Name: "heavy", Probe: sleeper(9*time.Second, &all), Interval: 10 * time.Second},
			{Name: "wan", Probe: sleeper(9*time.Second, &all), Interval: 10 * time.Second, Continuous: true},
		}, nil, Options{Concurrency: 1})
		runFor(t, s, 35*time.Second)
		if all.max.Load() != 2 {
			t.Fatalf("the continuous job waited for the only slot (max %d at once)", all.max.Load())
		}
		if st := s.Stats().Jobs["wan"]; st.Runs != 3 || st.Skipped != 0 {
			t.Fatalf("wan: %+v, want 3 runs back to back and no skips", st)
		}
	})
}
