// Package health builds the agent measurement: the agent's own state (its
// queue, what it dropped, failed deliveries and probe runs), shipped with
// its data so the collector can tell a quiet school from a broken agent.
package health

import (
	"time"

	"github.com/probity-edu/probity/agent/schedule"
	"github.com/probity-edu/probity/agent/ship"
	"github.com/probity-edu/probity/agent/spool"
	"github.com/probity-edu/probity/internal/point"
)

// Point is one agent sample. Counters are cumulative: dropped points since
// the spool was created (the spool keeps its counters across restarts),
// everything else since the agent process started.
func Point(now time.Time, version string, q spool.Stats, s ship.Stats, sc schedule.Stats) point.Point {
	return point.New("agent", map[string]string{"version": version}, map[string]any{
		"queued_batches":  int64(q.Batches),
		"queued_bytes":    q.Bytes,
		"dropped_points":  q.DroppedPoints + s.RejectedPoints,
		"ship_failures":   s.Failures,
		"probe_failures":  sc.ProbeFailures,
		"shipped_batches": s.Sent,
	}, now)
}
