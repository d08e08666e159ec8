package rollup

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// An open hour waits twenty times as long as its last rebuild took when
// that was over OpenHourQuick, and at least OpenHourEvery after a rebuild
// from OpenHourBig points; Forget drops the hours that have ended.
func TestOpenHoursWait(t *testing.T) {
	var o OpenHours
	h := t0
	if o.Waits(h, t0) {
		t.Error("an hour never rebuilt waits")
	}
	o.Rebuilt(h, t0, 100, 30*time.Second)
	for _, c := range []struct {
		after time.Duration
		want  bool
	}{{time.Minute, true}, {9 * time.Minute, true}, {10 * time.Minute, false}, {time.Hour, false}} {
		if got := o.Waits(h, t0.Add(c.after)); got != c.want {
			t.Errorf("30 s rebuild, %v later: waits = %v, want %v", c.after, got, c.want)
		}
	}
	o.Rebuilt(h, t0, OpenHourBig, time.Second)
	if !o.Waits(h, t0.Add(14*time.Minute)) || o.Waits(h, t0.Add(OpenHourEvery)) {
		t.Error("a rebuild from OpenHourBig points does not wait OpenHourEvery")
	}
	o.Rebuilt(h, t0, 100, OpenHourQuick-time.Millisecond)
	if o.Waits(h, t0) {
		t.Error("a rebuild under OpenHourQuick is throttled")
	}
	o.Rebuilt(h, t0, OpenHourBig, time.Minute)
	o.Forget(t0.Add(time.Hour))
	if o.Waits(h, t0.Add(time.Minute)) {
		t.Error("an hour forgotten still waits")
	}
}

// RebuildPending rebuilds every pending hour but an open one the throttle
// holds back, and names the hour that failed.
func TestRebuildPending(t *testing.T) {
	o := OpenHours{Big: 1}
	closed, open := t0, t0.Add(time.Hour)
	now := open.Add(10 * time.Minute)
	var got []time.Time
	rebuild := func(h time.Time) (int64, error) { got = append(got, h); return 5, nil }
	if err := o.RebuildPending([]time.Time{closed, open}, now, rebuild); err != nil || len(got) != 2 {
		t.Fatalf("first run rebuilt %v, %v; want both hours", got, err)
	}
	got = nil
	if err := o.RebuildPending([]time.Time{closed, open}, now.Add(time.Minute), rebuild); err != nil || len(got) != 1 || !got[0].Equal(closed) {
		t.Errorf("a minute later rebuilt %v, %v; want the ended hour only", got, err)
	}
	err := o.RebuildPending([]time.Time{closed}, now, func(time.Time) (int64, error) { return 0, errors.New("disk full") })
	if err == nil || !strings.Contains(err.Error(), closed.Format(time.RFC3339)) {
		t.Errorf("error = %v, want it to name the hour", err)
	}
}
