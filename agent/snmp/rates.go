package snmp

import (
	"math"
	"sync"
	"time"
)

// Rates turns counter samples into per-second rates. Samples are keyed by
// device and OID (column plus row index). It gives no rate for the first
// sample of a key, after a device reboot, or across a decrease that is not a
// plausible wrap, so a reboot or a counter reset never shows as a spike.
// Safe for concurrent use.
type Rates struct {
	mu      sync.Mutex
	samples map[rateKey]rateSample
	uptime  map[string]uptimeSample
}

type rateKey struct{ device, oid string }

type rateSample struct {
	value uint64
	bits  int
	at    time.Time
	epoch uint64 // device epoch when taken; a reboot starts a new one
}

type uptimeSample struct {
	ticks uint32 // sysUpTime, hundredths of a second
	at    time.Time
	epoch uint64
}

// NewRates returns an empty Rates.
func NewRates() *Rates {
	return &Rates{samples: map[rateKey]rateSample{}, uptime: map[string]uptimeSample{}}
}

// Uptime records a device's sysUpTime (TimeTicks) read at `at`, once per
// cycle before its counters, and reports whether the device rebooted since
// the last cycle: uptime went back, or is shorter than the time since the
// last cycle. After a reboot the device's next counter samples are new
// baselines. (sysUpTime itself wraps after 497 days; that wrap reads as a
// reboot and costs one cycle of rates.)
func (r *Rates) Uptime(device string, ticks uint32, at time.Time) (rebooted bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	prev, ok := r.uptime[device]
	cur := uptimeSample{ticks: ticks, at: at, epoch: prev.epoch}
	if ok {
		elapsed := at.Sub(prev.at)
		up := time.Duration(ticks) * 10 * time.Millisecond
		if ticks < prev.ticks || (elapsed > 0 && up < elapsed) {
			rebooted = true
			cur.epoch++
		}
	}
	r.uptime[device] = cur
	return rebooted
}

// Rate records a counter value (bits is 32 or 64) read at `at` and returns
// the per-second rate since the previous sample of the same key, if there
// is a meaningful one.
func (r *Rates) Rate(device, oid string, value uint64, bits int, at time.Time) (rate float64, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := rateKey{device, oid}
	epoch := r.uptime[device].epoch
	prev, seen := r.samples[k]
	r.samples[k] = rateSample{value: value, bits: bits, at: at, epoch: epoch}
	if !seen || prev.epoch != epoch || prev.bits != bits {
		return 0, false
	}
	elapsed := at.Sub(prev.at).Seconds()
	if elapsed <= 0 {
		return 0, false
	}
	delta, ok := counterDelta(prev.value, value, bits)
	if !ok {
		return 0, false
	}
	return float64(delta) / elapsed, true
}

// counterDelta is the increase from prev to cur of a counter of the given
// width. A decrease is taken as one wrap when the wrapped increase is under
// half the counter's range; a bigger one is more likely a reset (cleared
// counters, a replaced line card), for which no rate can be given.
func counterDelta(prev, cur uint64, bits int) (uint64, bool) {
	if bits != 32 && bits != 64 {
		return 0, false
	}
	if bits == 32 && (prev > math.MaxUint32 || cur > math.MaxUint32) {
		return 0, false
	}
	if cur >= prev {
		return cur - prev, true
	}
	var d uint64
	if bits == 32 {
		d = (math.MaxUint32 - prev) + cur + 1
		return d, d < 1<<31
	}
	d = (math.MaxUint64 - prev) + cur + 1
	return d, d < 1<<63
}

// Prune forgets samples older than before (devices or rows that are gone).
func (r *Rates) Prune(before time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, s := range r.samples {
		if s.at.Before(before) {
			delete(r.samples, k)
		}
	}
	for d, s := range r.uptime {
		if s.at.Before(before) {
			delete(r.uptime, d)
		}
	}
}
