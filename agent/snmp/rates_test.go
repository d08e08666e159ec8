package snmp

import (
	"math"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)

func at(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }

// ticks is sysUpTime for a device that booted `boot` seconds before t0.
func ticks(boot, s int) uint32 { return uint32((boot + s) * 100) }

func TestRateBasics(t *testing.T) {
	r := NewRates()
	r.Uptime("sw1", ticks(1000, 0), at(0))
	if _, ok := r.Rate("sw1", "ifInOctets.1", 1000, 32, at(0)); ok {
		t.Error("first sample must give no rate")
	}
	r.Uptime("sw1", ticks(1000, 60), at(60))
	got, ok := r.Rate("sw1", "ifInOctets.1", 7000, 32, at(60))
	if !ok || got != 100 {
		t.Errorf("rate = %v %v, want 100/s", got, ok)
	}
	// Keys are separate per device and per OID.
	if _, ok := r.Rate("sw2", "ifInOctets.1", 9000, 32, at(60)); ok {
		t.Error("another device's first sample must give no rate")
	}
	if _, ok := r.Rate("sw1", "ifInOctets.2", 9000, 32, at(60)); ok {
		t.Error("another row's first sample must give no rate")
	}
	// Same time again: no division by zero.
	if _, ok := r.Rate("sw1", "ifInOctets.1", 8000, 32, at(60)); ok {
		t.Error("zero elapsed time must give no rate")
	}
}

func TestRateWrap(t *testing.T) {
	r := NewRates()
	r.Rate("d", "c32", math.MaxUint32-499, 32, at(0))
	got, ok := r.Rate("d", "c32", 500, 32, at(10))
	if !ok || got != 100 {
		t.Errorf("Counter32 wrap: %v %v, want 1000 octets / 10 s = 100", got, ok)
	}
	r.Rate("d", "c64", math.MaxUint64-99, 64, at(0))
	got, ok = r.Rate("d", "c64", 100, 64, at(10))
	if !ok || got != 20 {
		t.Errorf("Counter64 wrap: %v %v, want 20", got, ok)
	}
	// A 64-bit decrease from a small value is a reset, not a wrap.
	r.Rate("d", "c64b", 5_000_000, 64, at(0))
	if got, ok := r.Rate("d", "c64b", 1000, 64, at(10)); ok {
		t.Errorf("Counter64 reset gave rate %v", got)
	}
	// A Counter32 decrease that would need more than half the range to be
	// a wrap is a reset.
	r.Rate("d", "c32b", 1000, 32, at(0))
	if got, ok := r.Rate("d", "c32b", 10, 32, at(10)); ok {
		t.Errorf("Counter32 reset gave rate %v", got)
	}
	// After the reset the new value is the baseline.
	if got, ok := r.Rate("d", "c32b", 110, 32, at(20)); !ok || got != 10 {
		t.Errorf("after reset: %v %v, want 10", got, ok)
	}
	// A counter changing width (ifHCInOctets replacing ifInOctets) starts over.
	if _, ok := r.Rate("d", "c32b", 5000, 64, at(30)); ok {
		t.Error("changed width must give no rate")
	}
}

func TestRateReboot(t *testing.T) {
	r := NewRates()
	if r.Uptime("sw1", ticks(100_000, 0), at(0)) {
		t.Error("first uptime is not a reboot")
	}
	r.Rate("sw1", "if1", 4_000_000_000, 32, at(0))
	r.Rate("sw1", "if2", 1_000_000, 64, at(0))
	// The device rebooted 20 s ago: uptime went back, counters restarted
	// near zero. A naive Counter32 wrap would be a huge spike.
	if !r.Uptime("sw1", 2000, at(60)) {
		t.Fatal("uptime going back must be a reboot")
	}
	if got, ok := r.Rate("sw1", "if1", 5000, 32, at(60)); ok {
		t.Errorf("rate across a reboot: %v", got)
	}
	if got, ok := r.Rate("sw1", "if2", 7000, 64, at(60)); ok {
		t.Errorf("rate across a reboot: %v", got)
	}
	// The next cycle has rates again.
	if r.Uptime("sw1", 8000, at(120)) {
		t.Error("a steady uptime is no reboot")
	}
	if got, ok := r.Rate("sw1", "if1", 11000, 32, at(120)); !ok || got != 100 {
		t.Errorf("after the reboot: %v %v, want 100", got, ok)
	}
	// Uptime shorter than the interval: the device rebooted in between
	// even though the uptime value itself went up.
	r2 := NewRates()
	r2.Uptime("ap", 100, at(0)) // 1 s after boot
	r2.Rate("ap", "x", 10, 32, at(0))
	if !r2.Uptime("ap", 3000, at(300)) { // 30 s of uptime after 300 s
		t.Error("uptime shorter than the interval must be a reboot")
	}
	if _, ok := r2.Rate("ap", "x", 20, 32, at(300)); ok {
		t.Error("no rate in the reboot cycle")
	}
}

func TestRatePrune(t *testing.T) {
	r := NewRates()
	r.Uptime("old", 100, at(0))
	r.Rate("old", "x", 1, 64, at(0))
	r.Rate("new", "x", 1, 64, at(100))
	r.Prune(at(50))
	if _, ok := r.samples[rateKey{"old", "x"}]; ok {
		t.Error("old sample kept")
	}
	if _, ok := r.uptime["old"]; ok {
		t.Error("old uptime kept")
	}
	if _, ok := r.samples[rateKey{"new", "x"}]; !ok {
		t.Error("new sample pruned")
	}
}
