package throughput

import (
	"math"
	"testing"
	"time"
)

func series(rates ...float64) []Sample {
	s := make([]Sample, len(rates))
	for i, r := range rates {
		s[i] = Sample{At: time.Duration(i+1) * 100 * time.Millisecond, Mbps: r}
	}
	return s
}

func repeat(v float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func TestEstimateDiscardsRamp(t *testing.T) {
	// Slow start: 10, 20, 40, 80 then a steady 95 for 96 samples.
	rs := append([]float64{10, 20, 40, 80}, repeat(95, 96)...)
	e := EstimateRate(series(rs...), 200*time.Millisecond, 0, 0)
	if e.Mbps != 95 || e.P90 != 95 {
		t.Fatalf("estimate = %+v, want 95 steady", e)
	}
	if e.Ramp != 400*time.Millisecond || e.Steady != 96 || e.Unstable {
		t.Fatalf("ramp %v steady %d unstable %v, want 400ms 96 false", e.Ramp, e.Steady, e.Unstable)
	}
}

func TestEstimateGraceAlwaysDiscarded(t *testing.T) {
	// A spike in the grace period (a shaper's full bucket) must not count.
	rs := append([]float64{900, 900}, repeat(100, 50)...)
	e := EstimateRate(series(rs...), time.Second, 0, 0)
	if e.Mbps != 100 || e.Ramp != time.Second {
		t.Fatalf("estimate = %+v, want 100 after a 1s ramp", e)
	}
}

func TestEstimateTrimsBursts(t *testing.T) {
	// A token bucket's burst (200) and a stall (0) that balance each other
	// leave the estimate at the line's 100.
	var rs []float64
	for i := 0; i < 100; i++ {
		switch i % 20 {
		case 5:
			rs = append(rs, 0)
		case 15:
			rs = append(rs, 200)
		default:
			rs = append(rs, 100)
		}
	}
	e := EstimateRate(series(rs...), 0, 0, 0)
	if math.Abs(e.Mbps-100) > 0.01 {
		t.Fatalf("trimmed mean = %v, want 100", e.Mbps)
	}
	// One bad half-second (a loss recovery) is trimmed away whole.
	rs = append(repeat(100, 50), 10, 10, 10, 10, 10)
	rs = append(rs, repeat(100, 45)...)
	if e := EstimateRate(series(rs...), 0, 0, 0); math.Abs(e.Mbps-100) > 0.01 {
		t.Fatalf("with a stalled half-second: %v, want 100", e.Mbps)
	}
}

func TestEstimateLumpySamplesUnbiased(t *testing.T) {
	// A reader woken every 25 ms sees 95 Mbit/s as four samples of 90 and
	// one of 115. Trimming single samples would cut more 115s than 90s and
	// read low; half-second blocks read the true 95.
	var rs []float64
	for i := 0; i < 20; i++ {
		rs = append(rs, 90, 90, 90, 90, 115)
	}
	e := EstimateRate(series(rs...), 0, 0, 0)
	if math.Abs(e.Mbps-95) > 0.01 {
		t.Fatalf("estimate = %v, want 95", e.Mbps)
	}
	if naive := trimmedMean(rs, trim); naive >= 94.5 {
		t.Fatalf("per-sample trimmed mean %v: the case no longer shows the bias it guards against", naive)
	}
}

func TestEstimateUnstableUsesEverything(t *testing.T) {
	// A rate that climbs all the way never reaches 90% of the second half's
	// median within a 10-sample window early on... but a sawtooth does.
	rs := []float64{}
	for i := 0; i < 30; i++ {
		rs = append(rs, float64(i*10))
	}
	e := EstimateRate(series(rs...), 0, 0, 0)
	if e.Steady == 0 || e.Mbps == 0 {
		t.Fatalf("estimate = %+v, want a value", e)
	}
	// Too few samples for any window: everything after the grace is used.
	e = EstimateRate(series(50, 60, 70), 0, 0, 0)
	if !e.Unstable || e.Steady != 3 || e.Mbps != 60 {
		t.Fatalf("short test = %+v, want unstable, 3 samples, 60", e)
	}
}

func TestEstimateMeanAndEmpty(t *testing.T) {
	e := EstimateRate(nil, time.Second, 125_000_000, 10*time.Second)
	if e.Mean != 100 || e.Mbps != 0 || e.Steady != 0 {
		t.Fatalf("estimate = %+v, want mean 100 and no steady state", e)
	}
}

func TestQuantile(t *testing.T) {
	xs := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	if q := quantile(xs, 0.9); math.Abs(q-9.1) > 1e-9 {
		t.Fatalf("p90 = %v, want 9.1", q)
	}
	if q := quantile(xs, 0.5); q != 5.5 {
		t.Fatalf("median = %v, want 5.5", q)
	}
}
