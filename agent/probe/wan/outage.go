package wan

import (
	"time"

	"github.com/probity-edu/probity/agent/probe"
)

// minOutageAttempts is how many consecutive failed attempts make an
// outage: one lost connect is a blip, counted in failures only.
const minOutageAttempts = 2

// attempt is one TCP connect.
type attempt struct {
	At      time.Time     // when it started
	Took    time.Duration // connect time when it succeeded; time to failure otherwise
	Outcome probe.Outcome // probe.OK, or why it failed
}

// streak is a run of consecutive failed attempts.
type streak struct {
	start   time.Time // start of its first failed attempt
	lastEnd time.Time // end of its last failed attempt
	n       int       // failed attempts in it
}

// summary is what one run saw.
type summary struct {
	Attempts, Failures int
	rttSum, RTTMax     time.Duration // over successful attempts
	Outages            int           // outages that ended in this run
	Longest            time.Duration // longest of them
	LastFailure        probe.Outcome // outcome of the last failed attempt; empty when none failed
	Ongoing            bool          // an outage was still going when the run ended
	OngoingFor         time.Duration // its length so far
}

// tracker turns attempts into outages. It outlives runs: a streak still
// going at the end of one run carries into the next.
type tracker struct {
	// maxGap is the longest time two attempts may be apart for a streak to
	// carry across them; beyond it nothing was observed in between, and
	// the streak is closed at its last failed attempt.
	maxGap time.Duration

	cur    streak    // n == 0 when the last attempt succeeded
	lastAt time.Time // start of the last attempt; zero before the first
	gap    time.Duration
	hasGap bool // gap holds the most recent streak ended since takeGap
	run    summary
}

// record adds one attempt, in the order they were made.
func (t *tracker) record(a attempt) {
	if t.cur.n > 0 && !t.lastAt.IsZero() && a.At.Sub(t.lastAt) > t.maxGap {
		t.close(t.cur.lastEnd)
	}
	t.lastAt = a.At
	s := &t.run
	s.Attempts++
	if a.Outcome == probe.OK {
		s.rttSum += a.Took
		s.RTTMax = max(s.RTTMax, a.Took)
		if t.cur.n > 0 {
			t.close(a.At)
		}
		return
	}
	s.Failures++
	s.LastFailure = a.Outcome
	if t.cur.n == 0 {
		t.cur.start = a.At
	}
	t.cur.n++
	t.cur.lastEnd = a.At.Add(a.Took)
}

// close ends the current streak at end. Every streak is remembered for the
// failover gap; only those of minOutageAttempts or more are outages.
func (t *tracker) close(end time.Time) {
	d := end.Sub(t.cur.start)
	t.gap, t.hasGap = d, true
	if t.cur.n >= minOutageAttempts {
		t.run.Outages++
		t.run.Longest = max(t.run.Longest, d)
	}
	t.cur = streak{}
}

// finish returns the run's summary and starts a new one; the current
// streak carries on.
func (t *tracker) finish() summary {
	s := t.run
	if t.cur.n >= minOutageAttempts {
		s.Ongoing = true
		s.OngoingFor = t.cur.lastEnd.Sub(t.cur.start)
	}
	t.run = summary{}
	return s
}

// takeGap returns the length of the most recent failure streak that ended
// since the last call (0 when none did) and forgets it.
func (t *tracker) takeGap() time.Duration {
	g := time.Duration(0)
	if t.hasGap {
		g = t.gap
	}
	t.gap, t.hasGap = 0, false
	return g
}

// fields are the reachability point's fields, without the whoami ones.
func (s summary) fields() map[string]any {
	f := map[string]any{
		"attempts":         int64(s.Attempts),
		"failures":         int64(s.Failures),
		"outages":          int64(s.Outages),
		"longest_outage_s": s.Longest.Seconds(),
		"outage_ongoing":   s.Ongoing,
		"ok":               s.Failures < s.Attempts,
		"result":           string(probe.OK),
	}
	if s.Attempts > 0 {
		f["loss_pct"] = float64(s.Failures) / float64(s.Attempts) * 100
	}
	if ok := s.Attempts - s.Failures; ok > 0 {
		f["rtt_avg_ms"] = probe.Ms(s.rttSum) / float64(ok)
		f["rtt_max_ms"] = probe.Ms(s.RTTMax)
	}
	if s.LastFailure != "" {
		f["result"] = string(s.LastFailure)
	}
	if s.Ongoing {
		f["ongoing_outage_s"] = s.OngoingFor.Seconds()
	}
	return f
}

// pathState is the last public address seen, in memory only.
type pathState struct {
	addr string
	seen bool
}

// change is one wan_path observation.
type change struct {
	Address, Previous string
	Changed           bool          // false for the first observation
	Gap               time.Duration // the failure streak before it; 0 for none
}

// observe records addr; ok is false when it is the address already known.
// gap is the most recent failure streak since the previous observation.
func (ps *pathState) observe(addr string, gap time.Duration) (c change, ok bool) {
	if ps.seen && addr == ps.addr {
		return change{}, false
	}
	c = change{Address: addr, Previous: ps.addr, Changed: ps.seen}
	if c.Changed {
		c.Gap = gap
	}
	ps.addr, ps.seen = addr, true
	return c, true
}

func (c change) fields() map[string]any {
	return map[string]any{
		"address":  c.Address,
		"previous": c.Previous,
		"changed":  c.Changed,
		"gap_s":    c.Gap.Seconds(),
	}
}
