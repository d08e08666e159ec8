package schedule

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // Europe/London without the system's zoneinfo

	"github.com/probity-edu/probity/internal/config/cfgerr"
)

// seeded is a deterministic random source for the planner.
func seeded(seed uint64) func(int64) int64 { return rand.New(rand.NewPCG(seed, 1)).Int64N }

func london(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func planner(t *testing.T, c WindowsConfig, seed uint64) *Windows {
	t.Helper()
	w, err := c.Planner(seeded(seed))
	if err != nil {
		t.Fatalf("Planner(%+v): %v", c, err)
	}
	return w
}

// plan follows Next from from until until, as the scheduler does.
func plan(w *Windows, from, until time.Time) []time.Time {
	var out []time.Time
	for t := w.Next(from); t.Before(until); t = w.Next(t) {
		out = append(out, t)
	}
	return out
}

// clock is the local time of day of t in minutes and seconds past midnight.
func clock(t time.Time) time.Duration {
	h, m, s := t.Clock()
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second
}

// checkPlan asserts that ts are increasing, fall on the configured days
// inside the windows (of the location's clock), and number exactly perDay
// on every configured day between from and until.
func checkPlan(t *testing.T, ts []time.Time, loc *time.Location, days []time.Weekday, windows [][2]time.Duration,
	perDay int, from, until time.Time) {
	t.Helper()
	perDate := map[string]int{}
	for i, p := range ts {
		if i > 0 && !p.After(ts[i-1]) {
			t.Fatalf("times not increasing: %s then %s", ts[i-1], p)
		}
		l := p.In(loc)
		if !slices.Contains(days, l.Weekday()) {
			t.Errorf("%s is a %s, not a configured day", l, l.Weekday())
		}
		in := false
		for _, w := range windows {
			if c := clock(l); c >= w[0] && c < w[1] {
				in = true
			}
		}
		if !in {
			t.Errorf("%s is outside the windows %v", l, windows)
		}
		perDate[l.Format(time.DateOnly)]++
	}
	for d := from.In(loc); d.Before(until); d = d.AddDate(0, 0, 1) {
		want := 0
		if slices.Contains(days, d.Weekday()) {
			want = perDay
		}
		if got := perDate[d.Format(time.DateOnly)]; got != want {
			t.Errorf("%s (%s): %d tests, want %d", d.Format(time.DateOnly), d.Weekday(), got, want)
		}
	}
}

var schoolDays = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}

func TestWindowsDefaultsEightWeeks(t *testing.T) {
	c := WindowsDefaults
	c.Timezone = "Europe/London"
	w := planner(t, c, 1)
	loc := london(t)
	// Eight weeks from a Monday midnight, across the March clock change.
	from := time.Date(2025, 3, 3, 0, 0, 0, 0, loc)
	until := from.AddDate(0, 0, 56)
	ts := plan(w, from, until)
	if len(ts) != 8*5*4 {
		t.Fatalf("%d tests in eight weeks, want %d", len(ts), 8*5*4)
	}
	checkPlan(t, ts, loc, schoolDays, [][2]time.Duration{{8*time.Hour + 30*time.Minute, 15*time.Hour + 30*time.Minute}}, 4, from, until)

	// A fresh draw each day: the times of day differ from day to day.
	seen := map[time.Duration]bool{}
	for _, p := range ts {
		seen[clock(p.In(loc))] = true
	}
	if len(seen) < len(ts)*9/10 {
		t.Errorf("only %d distinct times of day in %d tests: days share a draw", len(seen), len(ts))
	}
	// Tests of one day are kept apart (15 minutes with these windows).
	for i := 1; i < len(ts); i++ {
		if ts[i].In(loc).Day() == ts[i-1].In(loc).Day() && ts[i].Sub(ts[i-1]) < maxGap {
			t.Errorf("tests at %s and %s are closer than %s", ts[i-1], ts[i], maxGap)
		}
	}
}

func TestWindowsSeveralWindowsAndDays(t *testing.T) {
	c := WindowsConfig{
		Days:     []string{"Mon", "wednesday", "sat-sun"},
		Windows:  []string{"13:00-15:00", "7:45-08:15", "22:00-24:00"},
		PerDay:   6,
		Timezone: "UTC",
	}
	w := planner(t, c, 7)
	from := time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC)
	until := from.AddDate(0, 0, 28)
	ts := plan(w, from, until)
	windows := [][2]time.Duration{
		{7*time.Hour + 45*time.Minute, 8*time.Hour + 15*time.Minute},
		{13 * time.Hour, 15 * time.Hour},
		{22 * time.Hour, 24 * time.Hour},
	}
	days := []time.Weekday{time.Monday, time.Wednesday, time.Saturday, time.Sunday}
	checkPlan(t, ts, time.UTC, days, windows, 6, from, until)
}

func TestWindowsDeterministicAndStable(t *testing.T) {
	c := WindowsDefaults
	c.Timezone = "UTC"
	from := time.Date(2025, 1, 6, 0, 0, 0, 0, time.UTC)
	a := plan(planner(t, c, 42), from, from.AddDate(0, 0, 14))
	b := plan(planner(t, c, 42), from, from.AddDate(0, 0, 14))
	if !slices.Equal(a, b) {
		t.Fatalf("same seed, different plans:\n%v\n%v", a, b)
	}
	if d := plan(planner(t, c, 43), from, from.AddDate(0, 0, 14)); slices.Equal(a, d) {
		t.Fatal("a different seed gave the same plan")
	}

	// Asking again gives the same answer: a day is drawn once.
	w := planner(t, c, 5)
	noon := time.Date(2025, 1, 8, 12, 0, 0, 0, time.UTC) // a Wednesday
	first := w.Next(noon)
	for range 3 {
		if again := w.Next(noon); !again.Equal(first) {
			t.Fatalf("Next(%s) = %s, then %s", noon, first, again)
		}
	}
	// Past times of the day are skipped, not moved: what comes after noon
	// is exactly the day's draw after noon.
	day := w.Day(noon)
	if len(day) != 4 {
		t.Fatalf("Day(%s) has %d times, want 4", noon, len(day))
	}
	var after []time.Time
	for _, p := range day {
		if p.After(noon) {
			after = append(after, p)
		}
	}
	got := plan(w, noon, time.Date(2025, 1, 9, 0, 0, 0, 0, time.UTC))
	if !slices.Equal(got, after) {
		t.Fatalf("after noon: planned %v, want the rest of the day's draw %v", got, after)
	}
}

func TestWindowsUniform(t *testing.T) {
	c := WindowsConfig{Days: []string{"mon-sun"}, Windows: []string{"09:00-11:00", "12:00-16:00"}, PerDay: 3, Timezone: "UTC"}
	w := planner(t, c, 3)
	from := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	ts := plan(w, from, from.AddDate(0, 0, 2000))
	// Six hours of windows: each hour should get a sixth of the tests.
	perHour := map[int]int{}
	for _, p := range ts {
		perHour[p.Hour()]++
	}
	mean := float64(len(ts)) / 6
	for _, h := range []int{9, 10, 12, 13, 14, 15} {
		if n := float64(perHour[h]); n < 0.85*mean || n > 1.15*mean {
			t.Errorf("hour %02d: %v tests, want about %.0f (all: %v)", h, n, mean, perHour)
		}
	}
	if len(perHour) != 6 {
		t.Errorf("tests in hours %v, want only 9, 10, 12-15", perHour)
	}
}

func TestWindowsFridayToMonday(t *testing.T) {
	c := WindowsDefaults
	c.Timezone = "Europe/London"
	w := planner(t, c, 9)
	loc := london(t)
	fri := time.Date(2025, 5, 16, 0, 0, 0, 0, loc)
	day := w.Day(fri)
	last := day[len(day)-1]
	for _, after := range []time.Time{last, fri.Add(15*time.Hour + 30*time.Minute), fri.Add(20 * time.Hour)} {
		next := w.Next(after).In(loc)
		if next.Weekday() != time.Monday || next.Day() != 19 || clock(next) < 8*time.Hour+30*time.Minute {
			t.Errorf("Next(%s) = %s (%s), want Monday 19th in school hours", after, next, next.Weekday())
		}
	}
}

func TestWindowsClockChangeDays(t *testing.T) {
	loc := london(t)
	// Every day, with a window across the small hours when the clocks go
	// forward (01:00 GMT becomes 02:00 BST) and back (02:00 BST becomes
	// 01:00 GMT), and a school-day window.
	c := WindowsConfig{Days: []string{"mon-sun"}, Windows: []string{"00:30-03:00", "08:30-15:30"}, PerDay: 8, Timezone: "Europe/London"}
	windows := [][2]time.Duration{{30 * time.Minute, 3 * time.Hour}, {8*time.Hour + 30*time.Minute, 15*time.Hour + 30*time.Minute}}
	all := []time.Weekday{time.Sunday, time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday}
	for _, change := range []time.Time{
		time.Date(2025, 3, 30, 12, 0, 0, 0, loc),
		time.Date(2025, 10, 26, 12, 0, 0, 0, loc),
	} {
		for seed := range uint64(20) {
			w := planner(t, c, seed)
			from := time.Date(change.Year(), change.Month(), change.Day()-1, 0, 0, 0, 0, loc)
			until := from.AddDate(0, 0, 3)
			ts := plan(w, from, until)
			checkPlan(t, ts, loc, all, windows, 8, from, until)
		}
		// The school-day window is at the same local clock on both sides
		// of the change, so an hour apart in UTC.
		w := planner(t, WindowsConfig{Days: []string{"mon-sun"}, Windows: []string{"08:30-15:30"}, PerDay: 4, Timezone: "Europe/London"}, 1)
		for _, d := range []time.Time{change.AddDate(0, 0, -1), change, change.AddDate(0, 0, 1)} {
			for _, p := range w.Day(d) {
				if p.In(loc).Day() != d.Day() || clock(p.In(loc)) < 8*time.Hour+30*time.Minute || clock(p.In(loc)) >= 15*time.Hour+30*time.Minute {
					t.Errorf("%s: planned %s, outside 08:30-15:30 local", d.Format(time.DateOnly), p.In(loc))
				}
			}
		}
	}
	// The spring-forward window 00:30-03:00 lasts 1h30 of real time; the
	// draws cover it with no test in the missing hour (there is none to
	// be in: 01:xx does not exist that night).
	w := planner(t, WindowsConfig{Days: []string{"sun"}, Windows: []string{"00:30-03:00"}, PerDay: 90, Timezone: "Europe/London"}, 4)
	day := w.Day(time.Date(2025, 3, 30, 12, 0, 0, 0, loc))
	if len(day) != 90 {
		t.Fatalf("spring-forward day: %d tests, want 90", len(day))
	}
	start := time.Date(2025, 3, 30, 0, 30, 0, 0, loc)
	for _, p := range day {
		if d := p.Sub(start); d < 0 || d >= 90*time.Minute {
			t.Errorf("spring-forward day: %s is %s after 00:30, outside the 1h30 the window lasts", p.In(loc), d)
		}
	}
}

func TestWindowsConfigValidate(t *testing.T) {
	if err := WindowsDefaults.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	ok := func(mod func(*WindowsConfig)) WindowsConfig {
		c := WindowsDefaults
		mod(&c)
		return c
	}
	for _, tc := range []struct {
		name     string
		c        WindowsConfig
		path, in string
	}{
		{"bad day", ok(func(c *WindowsConfig) { c.Days = []string{"mon", "fry"} }), "days[1]", `unknown day "fry"`},
		{"bad range", ok(func(c *WindowsConfig) { c.Days = []string{"fri-mon"} }), "days[0]", "runs backwards"},
		{"day twice", ok(func(c *WindowsConfig) { c.Days = []string{"mon-fri", "wed"} }), "days[1]", "wed is listed twice"},
		{"no days", ok(func(c *WindowsConfig) { c.Days = nil }), "days", "at least one day"},
		{"end before start", ok(func(c *WindowsConfig) { c.Windows = []string{"15:30-08:30"} }), "windows[0]", "ends before it starts"},
		{"empty window", ok(func(c *WindowsConfig) { c.Windows = []string{"09:00-09:00"} }), "windows[0]", "ends before it starts"},
		{"not a window", ok(func(c *WindowsConfig) { c.Windows = []string{"08:30"} }), "windows[0]", "not a window HH:MM-HH:MM"},
		{"bad clock", ok(func(c *WindowsConfig) { c.Windows = []string{"08:30-25:00"} }), "windows[0]", `"25:00" is not a time of day`},
		{"bad minutes", ok(func(c *WindowsConfig) { c.Windows = []string{"8:3-09:00"} }), "windows[0]", `"8:3" is not a time of day`},
		{"overlap", ok(func(c *WindowsConfig) { c.Windows = []string{"12:00-14:00", "08:30-12:30"} }), "windows[0]", "12:00-14:00 overlaps windows[1] (08:30-12:30)"},
		{"no windows", ok(func(c *WindowsConfig) { c.Windows = nil }), "windows", "at least one window"},
		{"per_day 0", ok(func(c *WindowsConfig) { c.PerDay = 0 }), "per_day", "between 1 and 96, not 0"},
		{"per_day 97", ok(func(c *WindowsConfig) { c.PerDay = 97 }), "per_day", "between 1 and 96, not 97"},
		{"too short", ok(func(c *WindowsConfig) { c.Windows = []string{"09:00-09:30"}; c.PerDay = 40 }), "per_day", "do not fit in 30 minutes"},
		{"timezone", ok(func(c *WindowsConfig) { c.Timezone = "Europe/Lndon" }), "timezone", `unknown time zone "Europe/Lndon"`},
	} {
		err := tc.c.Validate()
		if err == nil {
			t.Errorf("%s: %+v accepted", tc.name, tc.c)
			continue
		}
		var fe *cfgerr.Error
		errs := cfgerr.Flatten(err)
		if len(errs) != 1 || !errors.As(errs[0], &fe) || fe.Path != tc.path || !strings.Contains(fe.Msg, tc.in) {
			t.Errorf("%s: error %q, want one error at %s containing %q", tc.name, err, tc.path, tc.in)
		}
		if _, perr := tc.c.Planner(nil); perr == nil {
			t.Errorf("%s: Planner accepted what Validate rejects", tc.name)
		}
	}
	// Touching windows, a window to midnight and mixed-case full names are fine.
	good := WindowsConfig{Days: []string{"Saturday", "MON-wed"}, Windows: []string{"00:00-08:00", "08:00-24:00"}, PerDay: 96}
	if err := good.Validate(); err != nil {
		t.Fatalf("%+v: %v", good, err)
	}
	// Errors in several keys are all reported, each with its path.
	bad := WindowsConfig{Days: []string{"noday"}, Windows: []string{"x"}, PerDay: -1, Timezone: "Nowhere/Town"}
	var paths []string
	for _, e := range cfgerr.Flatten(bad.Validate()) {
		var fe *cfgerr.Error
		if errors.As(e, &fe) {
			paths = append(paths, fe.Path)
		}
	}
	if want := []string{"days[0]", "windows[0]", "per_day", "timezone"}; !slices.Equal(paths, want) {
		t.Fatalf("error paths %v, want %v", paths, want)
	}
	// A section embedded in a probe's config gets the probe's prefix.
	if err := cfgerr.Prefix("probes[2].throughput.schedule", bad.Validate()); !strings.Contains(err.Error(), "probes[2].throughput.schedule.per_day: ") {
		t.Fatalf("prefixed: %v", err)
	}
}

func TestWindowsLocalByDefault(t *testing.T) {
	w := planner(t, WindowsDefaults, 1)
	if w.Location() != time.Local {
		t.Fatalf("location %v, want time.Local", w.Location())
	}
}
