package schedule

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/probity-edu/probity/internal/point"
)

// listPlan plans the given times, then nothing more.
type listPlan []time.Time

func (l listPlan) Next(after time.Time) time.Time {
	for _, t := range l {
		if t.After(after) {
			return t
		}
	}
	return time.Time{}
}

// hourly plans every full hour of the clock it is asked with.
type hourly struct{}

func (hourly) Next(after time.Time) time.Time { return after.Truncate(time.Hour).Add(time.Hour) }

// recorder is a probe that notes the clock's time at each start.
type recorder struct {
	now  func() time.Time
	mu   sync.Mutex
	runs []time.Time
}

func (r *recorder) Run(context.Context) ([]point.Point, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.runs = append(r.runs, r.now())
	return nil, nil
}

func TestPlannedJobRunsAtPlannedTimes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		at := func(d time.Duration) time.Time { return start.Add(d) }
		p := listPlan{at(-time.Minute), at(90 * time.Second), at(2 * time.Hour), at(2*time.Hour + 5*time.Second), at(26 * time.Hour)}
		r := &recorder{now: time.Now}
		s := newScheduler(t, []Job{{Name: "tp", Kind: "throughput", Probe: r, Plan: p, Timeout: time.Second}}, nil, Options{})
		runFor(t, s, 30*time.Hour)
		// The past time is skipped; the plan's end ends the job's loop
		// (Run returning at all shows runFor's wait did not hang).
		want := []time.Time{at(90 * time.Second), at(2 * time.Hour), at(2*time.Hour + 5*time.Second), at(26 * time.Hour)}
		if !slices.EqualFunc(r.runs, want, time.Time.Equal) {
			t.Fatalf("runs at %v, want %v", r.runs, want)
		}
		if st := s.Stats().Jobs["tp"]; st.Runs != 4 || st.Skipped != 0 {
			t.Fatalf("stats %+v", st)
		}
	})
}

func TestWindowsPlanInScheduler(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// synctest's clock starts at 2000-01-01 00:00 UTC, a Saturday.
		start := time.Now()
		c := WindowsConfig{Days: []string{"mon-fri"}, Windows: []string{"08:30-12:00", "13:00-15:30"}, PerDay: 3, Timezone: "UTC"}
		w, err := c.Planner(seeded(11))
		if err != nil {
			t.Fatal(err)
		}
		shared, err := c.Planner(seeded(12))
		if err != nil {
			t.Fatal(err)
		}
		var busy, most atomic.Int64
		slow := func(ctx context.Context) ([]point.Point, error) {
			if n := busy.Add(1); n > most.Load() {
				most.Store(n)
			}
			defer busy.Add(-1)
			time.Sleep(2 * time.Minute)
			return nil, nil
		}
		r := &recorder{now: time.Now}
		s := newScheduler(t, []Job{
			{Name: "tp", Probe: r, Plan: w, Timeout: time.Minute},
			// Two heavy probes on one plan: both want each start, and the
			// exclusive slot makes them take turns.
			{Name: "tp2", Probe: probeFunc(slow), Plan: shared, Timeout: 5 * time.Minute, Exclusive: true},
			{Name: "tp3", Probe: probeFunc(slow), Plan: shared, Timeout: 5 * time.Minute, Exclusive: true},
		}, nil, Options{})
		runFor(t, s, 14*24*time.Hour)
		if len(r.runs) != 10*3 {
			t.Fatalf("%d runs in two weeks, want 30", len(r.runs))
		}
		same, _ := c.Planner(seeded(11))
		if want := plan(same, start, start.Add(14*24*time.Hour)); !slices.EqualFunc(r.runs, want, time.Time.Equal) {
			t.Fatalf("runs at %v, want the plan's times %v", r.runs, want)
		}
		for _, p := range r.runs {
			c := clock(p)
			in := (c >= 8*time.Hour+30*time.Minute && c < 12*time.Hour) || (c >= 13*time.Hour && c < 15*time.Hour+30*time.Minute)
			if p.Weekday() == time.Saturday || p.Weekday() == time.Sunday || !in {
				t.Errorf("run at %s (%s), outside the plan", p, p.Weekday())
			}
		}
		if most.Load() != 1 {
			t.Fatalf("%d exclusive planned runs at once", most.Load())
		}
		st := s.Stats().Jobs
		if st["tp2"].Runs != 30 || st["tp3"].Runs != 30 {
			t.Fatalf("exclusive planned jobs did not all run: %+v", st)
		}
	})
}

func TestPlannedJobClockJumps(t *testing.T) {
	for _, tc := range []struct {
		name string
		skew time.Duration
		want time.Duration // first run, as the skewed clock reads it, after the start
	}{
		// The clock jumps ahead by 10h30m at 00:30: the 01:00 start is
		// long past, so the plan is asked again and the job runs at 12:00.
		{"forward", 10*time.Hour + 30*time.Minute, 12 * time.Hour},
		// The clock goes back 5h at 00:30 (to 19:30 the day before): the
		// job runs at the next full hour of the new clock, not 5h later.
		{"back", -5 * time.Hour, -4 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				start := time.Now()
				var skew atomic.Int64
				now := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
				r := &recorder{now: now}
				s := newScheduler(t, []Job{{Name: "tp", Probe: r, Plan: hourly{}, Timeout: time.Second}}, nil, Options{Now: now})
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan error)
				go func() { done <- s.Run(ctx) }()
				time.Sleep(30 * time.Minute)
				skew.Store(int64(tc.skew))
				time.Sleep(3 * time.Hour)
				cancel()
				<-done
				if len(r.runs) < 2 {
					t.Fatalf("runs at %v", r.runs)
				}
				for i, p := range r.runs {
					want := start.Add(tc.want + time.Duration(i)*time.Hour)
					if !p.Equal(want) {
						t.Errorf("run %d at %s (clock), want %s", i, p, want)
					}
				}
			})
		})
	}
}

func TestNewChecksPlannedJobs(t *testing.T) {
	p := sleeper(0)
	out := func(Job, []point.Point) {}
	for name, j := range map[string]Job{
		"jitter":     {Name: "a", Probe: p, Plan: hourly{}, Timeout: time.Second, Jitter: time.Second, Interval: time.Hour},
		"no timeout": {Name: "a", Probe: p, Plan: hourly{}},
		"negative":   {Name: "a", Probe: p, Plan: hourly{}, Timeout: -time.Second},
	} {
		if _, err := New([]Job{j}, out, Options{}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	s, err := New([]Job{
		{Name: "a", Probe: p, Plan: hourly{}, Timeout: time.Minute},
		{Name: "b", Probe: p, Plan: hourly{}, Interval: 10 * time.Minute},
	}, out, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.jobs[0].Timeout != time.Minute || s.jobs[1].Timeout != 8*time.Minute {
		t.Fatalf("timeouts %s and %s, want 1m and 8m", s.jobs[0].Timeout, s.jobs[1].Timeout)
	}
}
