package rollup

import (
	"fmt"
	"sync"
	"time"
)

// OpenHours throttles a store's rebuilding of an hour that is still
// filling. Every rollup and scoring run rebuilds each pending hour from its
// raw points so that verdicts see every point stored; for the open hour of
// a large collector (hundreds of schools with full SNMP: ten million points
// by the half hour, about a minute of a core a rebuild) that is much of a
// core when scoring runs every 5 minutes. So an open hour is rebuilt again
// only after OpenHourCost times as long as its last rebuild took, if that
// was over OpenHourQuick (rebuilding open hours then takes at most a
// twentieth of a core), and one last rebuilt from OpenHourBig points or
// more at most every OpenHourEvery. Verdicts may miss its newest points for
// that long; a small collector's open hour, and every hour that has ended,
// is rebuilt on every run. The zero value is ready to use.
type OpenHours struct {
	// Big, when not 0, replaces OpenHourBig (for tests).
	Big int64

	mu   sync.Mutex
	last map[int64]openHour // by hour start, ns
}

type openHour struct {
	at   time.Time     // the run's now
	read int64         // points the rebuild read
	took time.Duration // how long the rebuild took
}

// The throttle's parameters; see OpenHours.
const (
	OpenHourBig   = 10_000_000
	OpenHourEvery = 15 * time.Minute
	OpenHourCost  = 20
	OpenHourQuick = time.Second
)

// Waits reports whether open hour h was rebuilt too recently before now to
// be rebuilt again.
func (o *OpenHours) Waits(h, now time.Time) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	l, ok := o.last[h.UnixNano()]
	if !ok {
		return false
	}
	big := o.Big
	if big == 0 {
		big = OpenHourBig
	}
	var wait time.Duration
	if l.took >= OpenHourQuick {
		wait = OpenHourCost * l.took
	}
	if l.read >= big {
		wait = max(wait, OpenHourEvery)
	}
	return now.Sub(l.at) < wait
}

// Rebuilt records a rebuild of open hour h by the run at now: how many
// points it read and how long it took.
func (o *OpenHours) Rebuilt(h, now time.Time, read int64, took time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.last == nil {
		o.last = map[int64]openHour{}
	}
	o.last[h.UnixNano()] = openHour{now, read, took}
}

// RebuildPending rebuilds each pending hour (starts, oldest first) with
// rebuild, which says how many points it read, except an open hour the
// throttle holds back (it stays pending for a later run); then it forgets
// the hours that have ended. It stops at the first error, naming the hour.
func (o *OpenHours) RebuildPending(hours []time.Time, now time.Time, rebuild func(h time.Time) (read int64, err error)) error {
	for _, h := range hours {
		open := h.Add(time.Hour).After(now)
		if open && o.Waits(h, now) {
			continue
		}
		began := time.Now()
		read, err := rebuild(h)
		if err != nil {
			return fmt.Errorf("rollup hour %s: %w", h.Format(time.RFC3339), err)
		}
		if open {
			o.Rebuilt(h, now, read, time.Since(began))
		}
	}
	o.Forget(now)
	return nil
}

// Forget drops the hours before the one holding now: they are no longer
// open.
func (o *OpenHours) Forget(now time.Time) {
	current := Hour.Truncate(now).UnixNano()
	o.mu.Lock()
	defer o.mu.Unlock()
	for h := range o.last {
		if h < current {
			delete(o.last, h)
		}
	}
}
