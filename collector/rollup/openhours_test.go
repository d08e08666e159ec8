package rollup

import (
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
