package schedule

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/probity-edu/probity/internal/config/cfgerr"
)

// Planner decides when a planned job runs next, for jobs that do not run
// on a fixed interval (heavy probes in school hours).
type Planner interface {
	// Next returns the first planned start strictly after after, or the
	// zero time when nothing more is planned.
	Next(after time.Time) time.Time
}

// MaxPerDay bounds WindowsConfig.PerDay: one test every 15 minutes of a
// whole day is already far more than a heavy probe should run.
const MaxPerDay = 96

// maxGap is the spacing aimed for between two tests of one day. A
// throughput test takes a minute or so; two drawn seconds apart would run
// back to back on a busy line, and the second would be skipped by the
// scheduler while the first is still going. On short windows the spacing
// shrinks to half the mean spacing so the draw still covers the windows.
const maxGap = 15 * time.Minute

// WindowsConfig is the configuration section of a Windows plan. A probe
// kind embeds it and starts from WindowsDefaults.
type WindowsConfig struct {
	// Days are the days to test on: mon..sun (or full names), or ranges
	// such as mon-fri.
	Days []string `yaml:"days"`
	// Windows are "HH:MM-HH:MM" spans of local time; the end may be 24:00.
	Windows []string `yaml:"windows"`
	// PerDay is the number of tests on each of Days, 1 to MaxPerDay.
	PerDay int `yaml:"per_day"`
	// Timezone is an IANA name such as Europe/London; empty means the
	// machine's local time zone.
	Timezone string `yaml:"timezone"`
}

// WindowsDefaults are the values a windows section starts from: four
// tests a school day, inside the school day.
var WindowsDefaults = WindowsConfig{
	Days:    []string{"mon-fri"},
	Windows: []string{"08:30-15:30"},
	PerDay:  4,
}

// Validate checks the section; error paths are relative to it (days[1]).
func (c WindowsConfig) Validate() error {
	_, err := c.parse()
	return err
}

// Planner builds the plan. rnd returns a number in [0, n), n > 0, and
// draws the times; nil means math/rand/v2.Int64N.
func (c WindowsConfig) Planner(rnd func(n int64) int64) (*Windows, error) {
	w, err := c.parse()
	if err != nil {
		return nil, err
	}
	if rnd == nil {
		rnd = rand.Int64N
	}
	w.rnd = rnd
	return w, nil
}

var dayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
}

// weekOrder puts Monday first, so that mon-fri and sat-sun are ranges.
func weekOrder(d time.Weekday) int { return (int(d) + 6) % 7 }

func parseDay(s string) (time.Weekday, error) {
	d, ok := dayNames[strings.ToLower(strings.TrimSpace(s))]
	if !ok {
		return 0, fmt.Errorf("unknown day %q (use mon, tue, wed, thu, fri, sat, sun)", strings.TrimSpace(s))
	}
	return d, nil
}

// parseClock reads HH:MM (00:00 to 24:00) as minutes since midnight.
func parseClock(s string) (int, error) {
	hs, ms, ok := strings.Cut(strings.TrimSpace(s), ":")
	h, errH := strconv.Atoi(hs)
	m, errM := strconv.Atoi(ms)
	if !ok || errH != nil || errM != nil || len(hs) < 1 || len(hs) > 2 || len(ms) != 2 ||
		h < 0 || h > 24 || m < 0 || m > 59 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("%q is not a time of day HH:MM", strings.TrimSpace(s))
	}
	return h*60 + m, nil
}

// span is a window in minutes since local midnight, [start, end).
type span struct{ start, end int }

func (s span) String() string {
	return fmt.Sprintf("%02d:%02d-%02d:%02d", s.start/60, s.start%60, s.end/60, s.end%60)
}

// parse validates c and returns the plan without its random source.
func (c WindowsConfig) parse() (*Windows, error) {
	w := &Windows{perDay: c.PerDay, drawn: map[date][]time.Time{}}
	var errs []error
	if len(c.Days) == 0 {
		errs = append(errs, cfgerr.Errorf("days", "at least one day is required (for example mon-fri)"))
	}
	for i, d := range c.Days {
		path := fmt.Sprintf("days[%d]", i)
		from, to, isRange := strings.Cut(d, "-")
		a, err := parseDay(from)
		if err != nil {
			errs = append(errs, cfgerr.Errorf(path, "%v", err))
			continue
		}
		b := a
		if isRange {
			if b, err = parseDay(to); err != nil {
				errs = append(errs, cfgerr.Errorf(path, "%v", err))
				continue
			}
			if weekOrder(b) < weekOrder(a) {
				errs = append(errs, cfgerr.Errorf(path, "range %q runs backwards (the week starts on monday)", d))
				continue
			}
		}
		for k := weekOrder(a); k <= weekOrder(b); k++ {
			wd := time.Weekday((k + 1) % 7)
			if w.days[wd] {
				errs = append(errs, cfgerr.Errorf(path, "%s is listed twice", strings.ToLower(wd.String()[:3])))
			}
			w.days[wd] = true
		}
	}

	if len(c.Windows) == 0 {
		errs = append(errs, cfgerr.Errorf("windows", "at least one window is required (for example 08:30-15:30)"))
	}
	type indexed struct {
		span
		i int
	}
	var spans []indexed
	for i, s := range c.Windows {
		path := fmt.Sprintf("windows[%d]", i)
		a, b, ok := strings.Cut(s, "-")
		if !ok {
			errs = append(errs, cfgerr.Errorf(path, "%q is not a window HH:MM-HH:MM", s))
			continue
		}
		start, err1 := parseClock(a)
		end, err2 := parseClock(b)
		if err := errors.Join(err1, err2); err != nil {
			errs = append(errs, cfgerr.Errorf(path, "%q: %v", s, strings.ReplaceAll(err.Error(), "\n", "; ")))
			continue
		}
		if end <= start {
			errs = append(errs, cfgerr.Errorf(path, "%q ends before it starts (windows cannot cross midnight; split it in two)", s))
			continue
		}
		spans = append(spans, indexed{span{start, end}, i})
	}
	slices.SortFunc(spans, func(a, b indexed) int { return a.start - b.start })
	total := 0
	for k, s := range spans {
		if k > 0 && s.start < spans[k-1].end {
			errs = append(errs, cfgerr.Errorf(fmt.Sprintf("windows[%d]", s.i), "%s overlaps windows[%d] (%s)",
				s.span, spans[k-1].i, spans[k-1].span))
			continue
		}
		w.spans = append(w.spans, s.span)
		total += s.end - s.start
	}

	switch {
	case c.PerDay < 1 || c.PerDay > MaxPerDay:
		errs = append(errs, cfgerr.Errorf("per_day", "must be between 1 and %d, not %d", MaxPerDay, c.PerDay))
	case len(w.spans) > 0 && total < c.PerDay:
		errs = append(errs, cfgerr.Errorf("per_day", "%d tests do not fit in %d minutes of windows (at least a minute each)",
			c.PerDay, total))
	}

	w.loc = time.Local
	if c.Timezone != "" {
		loc, err := time.LoadLocation(c.Timezone)
		if err != nil {
			errs = append(errs, cfgerr.Errorf("timezone", "unknown time zone %q (use an IANA name such as Europe/London)", c.Timezone))
		}
		w.loc = loc
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return w, nil
}

// date is a calendar day in the plan's time zone.
type date struct {
	y int
	m time.Month
	d int
}

// Windows plans PerDay tests on each configured day at random times inside
// the configured windows of local time. Each day gets a fresh draw, made
// when Next first reaches it and kept, so asking again gives the same
// answer. The draw is uniform over the real time inside the windows (a
// window across a daylight-saving change is as long as the clock says it
// is), with the times kept apart by min(15m, half the mean spacing); times
// already past when a day is reached are skipped, not moved.
//
// Build it with WindowsConfig.Planner. It is safe for concurrent use.
type Windows struct {
	days   [7]bool // by time.Weekday
	spans  []span  // sorted, disjoint
	perDay int
	loc    *time.Location
	rnd    func(n int64) int64

	mu    sync.Mutex
	drawn map[date][]time.Time
}

var _ Planner = (*Windows)(nil)

// Next returns the first planned time strictly after after. It never
// returns the zero time: a valid plan has a day in every week.
func (w *Windows) Next(after time.Time) time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	local := after.In(w.loc)
	today := date{local.Year(), local.Month(), local.Day()}
	// Days before today are never asked for again unless the clock goes
	// back; forget them so the cache stays small.
	for d := range w.drawn {
		if dayBefore(d, today) {
			delete(w.drawn, d)
		}
	}
	// Eight days reach the same weekday next week even when every time of
	// today is already past.
	for i := range 8 {
		t := time.Date(today.y, today.m, today.d+i, 12, 0, 0, 0, w.loc)
		for _, p := range w.day(date{t.Year(), t.Month(), t.Day()}) {
			if p.After(after) {
				return p
			}
		}
	}
	return time.Time{}
}

// Day returns the times planned on the calendar day of t in the plan's
// time zone, drawing them if that day has not been drawn yet.
func (w *Windows) Day(t time.Time) []time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	t = t.In(w.loc)
	return slices.Clone(w.day(date{t.Year(), t.Month(), t.Day()}))
}

// Location is the time zone the windows are read in.
func (w *Windows) Location() *time.Location { return w.loc }

func dayBefore(a, b date) bool {
	if a.y != b.y {
		return a.y < b.y
	}
	if a.m != b.m {
		return a.m < b.m
	}
	return a.d < b.d
}

// day returns the draw for d, making it on first use. w.mu is held.
func (w *Windows) day(d date) []time.Time {
	if ts, ok := w.drawn[d]; ok {
		return ts
	}
	ts := w.draw(d)
	w.drawn[d] = ts
	return ts
}

// draw picks the times of day d: PerDay points on the windows laid end to
// end, at least gap apart, uniformly among all such placements (draw n
// points on a line shortened by (n-1)*gap, sort them, push the k-th on by
// k*gap), then mapped back onto the windows.
func (w *Windows) draw(d date) []time.Time {
	if !w.days[time.Date(d.y, d.m, d.d, 12, 0, 0, 0, w.loc).Weekday()] {
		return nil
	}
	type piece struct {
		start time.Time
		secs  int64
	}
	var rs []piece
	var total int64
	for _, s := range w.spans {
		// Hour 24 normalises to the next midnight; a clock time that a
		// daylight-saving change skips normalises to a real instant, so
		// a window's real length may differ from its clock length.
		a := time.Date(d.y, d.m, d.d, s.start/60, s.start%60, 0, 0, w.loc)
		b := time.Date(d.y, d.m, d.d, s.end/60, s.end%60, 0, 0, w.loc)
		if secs := int64(b.Sub(a) / time.Second); secs > 0 {
			rs = append(rs, piece{a, secs})
			total += secs
		}
	}
	n := int64(w.perDay)
	if total < n {
		return nil // windows that a clock change swallowed
	}
	gap := min(int64(maxGap/time.Second), total/(2*n))
	room := total - (n-1)*gap
	xs := make([]int64, n)
	for k := range xs {
		xs[k] = w.rnd(room)
	}
	slices.Sort(xs)
	out := make([]time.Time, 0, n)
	for k, x := range xs {
		x += int64(k) * gap
		for _, r := range rs {
			if x < r.secs {
				out = append(out, r.start.Add(time.Duration(x)*time.Second))
				break
			}
			x -= r.secs
		}
	}
	return out
}
