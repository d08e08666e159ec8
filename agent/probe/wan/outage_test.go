package wan

import (
	"testing"
	"time"

	"github.com/probity-edu/probity/agent/probe"
)

// feed records attempts one second apart from t0+from seconds: 'o' a
// success taking 10ms, 't' a timeout and 'u' an unreachable (both taking
// 100ms).
func feed(tr *tracker, t0 time.Time, from int, pattern string) {
	for i, c := range pattern {
		a := attempt{At: t0.Add(time.Duration(from+i) * time.Second)}
		switch c {
		case 'o':
			a.Outcome, a.Took = probe.OK, 10*time.Millisecond
		case 't':
			a.Outcome, a.Took = probe.Timeout, 100*time.Millisecond
		case 'u':
			a.Outcome, a.Took = probe.Unreachable, 100*time.Millisecond
		}
		tr.record(a)
	}
}

func newTracker() *tracker { return &tracker{maxGap: time.Second + time.Second + carrySlack} }

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func TestSummaryAllGood(t *testing.T) {
	tr := newTracker()
	tr.record(attempt{At: t0, Took: 10 * time.Millisecond, Outcome: probe.OK})
	tr.record(attempt{At: t0.Add(time.Second), Took: 30 * time.Millisecond, Outcome: probe.OK})
	f := tr.finish().fields()
	want := map[string]any{
		"attempts": int64(2), "failures": int64(0), "loss_pct": 0.0, "outages": int64(0),
		"longest_outage_s": 0.0, "outage_ongoing": false, "ok": true, "result": "ok",
		"rtt_avg_ms": 20.0, "rtt_max_ms": 30.0,
	}
	checkFields(t, f, want)
	if len(f) != len(want) {
		t.Errorf("fields %v, want exactly %v", f, want)
	}
	if g := tr.takeGap(); g != 0 {
		t.Errorf("gap %s with no failure", g)
	}
}

func TestSummaryBlipIsNotAnOutage(t *testing.T) {
	tr := newTracker()
	feed(tr, t0, 0, "ootoo")
	f := tr.finish().fields()
	checkFields(t, f, map[string]any{
		"attempts": int64(5), "failures": int64(1), "loss_pct": 20.0, "outages": int64(0),
		"longest_outage_s": 0.0, "ok": true, "result": "timeout", "outage_ongoing": false,
	})
	// The blip still counts as the gap before a path change: a failover
	// can be faster than two attempts.
	if g := tr.takeGap(); g != time.Second {
		t.Errorf("gap = %s, want 1s (from the failed attempt to the next success)", g)
	}
	if g := tr.takeGap(); g != 0 {
		t.Errorf("gap not forgotten after takeGap: %s", g)
	}
}

func TestSummaryOutageWithinRun(t *testing.T) {
	tr := newTracker()
	// Outages of 3s (t t u) and 2s (t t), and a blip.
	feed(tr, t0, 0, "ottuoottootoo")
	s := tr.finish()
	checkFields(t, s.fields(), map[string]any{
		"attempts": int64(13), "failures": int64(6), "outages": int64(2),
		"longest_outage_s": 3.0, "ok": true, "result": "timeout", "outage_ongoing": false,
	})
	if g := tr.takeGap(); g != time.Second {
		t.Errorf("gap = %s, want the most recent streak (the 1s blip)", g)
	}
}

func TestSummaryAllFailed(t *testing.T) {
	tr := newTracker()
	feed(tr, t0, 0, "tttu")
	f := tr.finish().fields()
	checkFields(t, f, map[string]any{
		"attempts": int64(4), "failures": int64(4), "loss_pct": 100.0, "outages": int64(0),
		"ok": false, "result": "unreachable", "outage_ongoing": true,
		// From the start of the first failed attempt to the end of the last.
		"ongoing_outage_s": 3.1,
	})
	for _, k := range []string{"rtt_avg_ms", "rtt_max_ms"} {
		if _, ok := f[k]; ok {
			t.Errorf("%s present with no successful connect", k)
		}
	}
}

// An outage that crosses the end of a run is counted whole in the run
// where it ends, and reported as ongoing by the run before.
func TestOutageCarriesAcrossRuns(t *testing.T) {
	tr := newTracker()
	feed(tr, t0, 0, "oooott")
	first := tr.finish()
	if !first.Ongoing || first.Outages != 0 || first.OngoingFor != 1100*time.Millisecond {
		t.Errorf("first run: %+v, want ongoing for 1.1s and no outage counted", first)
	}
	// The next run starts 3s after the last attempt: within maxGap.
	feed(tr, t0, 8, "tto")
	second := tr.finish()
	checkFields(t, second.fields(), map[string]any{
		"attempts": int64(3), "failures": int64(2), "outages": int64(1),
		"longest_outage_s": 6.0, "outage_ongoing": false,
	})
	if g := tr.takeGap(); g != 6*time.Second {
		t.Errorf("gap = %s, want 6s (t0+4 to t0+10)", g)
	}
}

// A single failure at the end of a run is not an ongoing outage; if the
// next run starts with a failure, the two make one.
func TestSingleFailureAtRunEnd(t *testing.T) {
	tr := newTracker()
	feed(tr, t0, 0, "oot")
	if s := tr.finish(); s.Ongoing || s.Outages != 0 {
		t.Errorf("first run: %+v, want no outage", s)
	}
	feed(tr, t0, 5, "to")
	if s := tr.finish(); s.Outages != 1 || s.Longest != 4*time.Second {
		t.Errorf("second run: %+v, want one outage of 4s (t0+2 to t0+6)", s)
	}
}

// When nothing was observed for longer than maxGap (a skipped run, a
// restart of the schedule), the streak is closed at its last failed
// attempt rather than stretched over time nobody watched.
func TestStreakDoesNotCarryOverUnobservedTime(t *testing.T) {
	tr := newTracker()
	feed(tr, t0, 0, "ottt")
	tr.finish()
	feed(tr, t0, 3+60, "tto")
	s := tr.finish()
	if s.Outages != 2 || s.Longest != 2100*time.Millisecond {
		t.Errorf("%+v, want two outages: the closed one of 2.1s and a new one of 2s", s)
	}
}

func TestPathState(t *testing.T) {
	var ps pathState
	c, ok := ps.observe("192.0.2.10", 5*time.Second)
	if !ok || c != (change{Address: "192.0.2.10"}) {
		t.Errorf("first observation = %+v, %v; want address only, changed=false, no gap", c, ok)
	}
	if _, ok := ps.observe("192.0.2.10", time.Second); ok {
		t.Error("the same address was reported again")
	}
	c, ok = ps.observe("198.51.100.7", 3*time.Second)
	if !ok || c != (change{Address: "198.51.100.7", Previous: "192.0.2.10", Changed: true, Gap: 3 * time.Second}) {
		t.Errorf("change = %+v, %v", c, ok)
	}
	f := c.fields()
	checkFields(t, f, map[string]any{"address": "198.51.100.7", "previous": "192.0.2.10", "changed": true, "gap_s": 3.0})
	// Back to the primary: another change.
	if c, ok := ps.observe("192.0.2.10", 0); !ok || !c.Changed || c.Previous != "198.51.100.7" {
		t.Errorf("fail-back = %+v, %v", c, ok)
	}
}

func checkFields(t *testing.T, got, want map[string]any) {
	t.Helper()
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("field %s missing (want %v)", k, w)
			continue
		}
		if gf, isF := g.(float64); isF {
			if wf, _ := w.(float64); gf-wf > 1e-9 || wf-gf > 1e-9 {
				t.Errorf("%s = %v, want %v", k, g, w)
			}
			continue
		}
		if g != w {
			t.Errorf("%s = %v (%T), want %v (%T)", k, g, g, w, w)
		}
	}
}
