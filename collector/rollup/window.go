package rollup

import "time"

// DailyAbove: a window longer than this reads daily buckets for the whole
// days inside it, and hourly ones for the hours at either end.
const DailyAbove = 7 * 24 * time.Hour

// Span selects the buckets of Res whose Start is in [From, To).
type Span struct {
	Res      Res
	From, To time.Time
}

// Window returns the spans that cover the window of length w ending at
// now: whole hours from the hour holding now-w up to and including the
// hour holding now (which is still filling). Its first span starts at
// WindowStart.
func Window(now time.Time, w time.Duration) []Span {
	now = now.UTC()
	from := WindowStart(now, w)
	if w <= DailyAbove {
		return []Span{{Hour, from, now}}
	}
	d1 := Day.Truncate(from)
	if d1.Before(from) {
		d1 = d1.Add(24 * time.Hour)
	}
	d2 := Day.Truncate(now)
	if !d1.Before(d2) {
		return []Span{{Hour, from, now}}
	}
	var out []Span
	if from.Before(d1) {
		out = append(out, Span{Hour, from, d1})
	}
	out = append(out, Span{Day, d1, d2})
	if d2.Before(now) {
		out = append(out, Span{Hour, d2, now})
	}
	return out
}

// WindowStart is where the window of length w ending at now starts: the
// start of the hour holding now-w.
func WindowStart(now time.Time, w time.Duration) time.Time {
	return Hour.Truncate(now.Add(-w))
}

// Covers reports whether b is one of the buckets the spans select.
func Covers(spans []Span, b *Bucket) bool {
	for _, s := range spans {
		if b.Res == s.Res && !b.Start.Before(s.From) && b.Start.Before(s.To) {
			return true
		}
	}
	return false
}
