package health

import (
	"testing"
	"time"

	"github.com/probity-edu/probity/agent/schedule"
	"github.com/probity-edu/probity/agent/ship"
	"github.com/probity-edu/probity/agent/spool"
)

func TestPoint(t *testing.T) {
	now := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	p := Point(now, "1.2.3", spool.Stats{Batches: 3, Bytes: 4096, DroppedPoints: 7},
		ship.Stats{Sent: 10, Failures: 2, RejectedPoints: 5}, schedule.Stats{ProbeFailures: 1})
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"queued_batches": 3, "queued_bytes": 4096, "dropped_points": 12, "ship_failures": 2, "probe_failures": 1, "shipped_batches": 10}
	for k, v := range want {
		if p.Fields[k] != v {
			t.Errorf("%s = %v, want %d", k, p.Fields[k], v)
		}
	}
	if p.Measurement != "agent" || p.Tags["version"] != "1.2.3" || !p.Time.Equal(now) {
		t.Errorf("point %+v", p)
	}
}
