package throughput

import (
	"math"
	"slices"
	"time"
)

// Estimate is what the estimator makes of one transfer's rate samples.
type Estimate struct {
	Mbps     float64       // trimmed mean of the steady state, in half-second blocks
	P90      float64       // 90th percentile of the steady-state samples
	Mean     float64       // all bytes over all time, ramp included (what most tools print)
	Ramp     time.Duration // discarded from the start
	Steady   int           // samples in the steady state
	Samples  int           // samples in all
	Unstable bool          // the rate never settled: the whole test after the grace period was used
}

// Estimator settings. The reasoning is in docs/throughput.md.
const (
	// stableWindow is how many consecutive samples must agree before the
	// ramp is declared over.
	stableWindow = 10
	// stableShare: a window is stable when its mean is at least this share
	// of the median of the second half of the test, which by then is past
	// any slow start.
	stableShare = 0.9
	// trim is the share cut from each end before averaging: it drops the
	// bursts a shaper's token bucket releases and the stalls of a loss
	// recovery without the bias a median has on two-level (bursty) data.
	trim = 0.1
	// block is how many samples are summed before trimming. Single 100 ms
	// samples are lumpy (a reader woken every 10–25 ms, a token bucket's
	// bursts), and a trimmed mean of lumpy, skewed samples is biased low by
	// a few per cent; half-second blocks smooth the lumps, and trimming then
	// drops only whole outlying half-seconds.
	block = 5
)

// Sample is the rate of one sampling interval.
type Sample struct {
	At   time.Duration // end of the interval, from the start of the transfer
	Mbps float64
}

// EstimateRate finds the steady state in samples (equal intervals, in
// order) and summarises it. The first grace of the transfer is always
// discarded; after that the ramp ends at the first sample that reaches
// stableShare of the median of the second half and starts stableWindow
// samples whose mean does too. totalBytes over total gives Mean.
func EstimateRate(samples []Sample, grace time.Duration, totalBytes int64, total time.Duration) Estimate {
	e := Estimate{Samples: len(samples)}
	if total > 0 {
		e.Mean = float64(totalBytes) * 8 / total.Seconds() / 1e6
	}
	first := 0
	for first < len(samples) && samples[first].At <= grace {
		first++
	}
	rest := samples[first:]
	if len(rest) == 0 {
		return e
	}
	ref := median(rates(rest[len(rest)/2:]))
	start := -1
	for i := 0; i+stableWindow <= len(rest); i++ {
		if rest[i].Mbps >= stableShare*ref && mean(rates(rest[i:i+stableWindow])) >= stableShare*ref {
			start = i
			break
		}
	}
	if start < 0 {
		start, e.Unstable = 0, true
	}
	steady := rates(rest[start:])
	if first+start > 0 {
		e.Ramp = samples[first+start-1].At
	}
	e.Steady = len(steady)
	e.Mbps = trimmedMean(blocks(rest[start:]), trim)
	e.P90 = quantile(steady, 0.9)
	return e
}

// blocks averages consecutive runs of block samples, weighting each by its
// interval; a short last run is merged into the one before it.
func blocks(s []Sample) []float64 {
	if len(s) < 2*block {
		return rates(s)
	}
	var out []float64
	for i := 0; i < len(s); i += block {
		j := i + block
		if len(s)-j < block {
			j = len(s)
		}
		var bits, secs float64
		for k := i; k < j; k++ {
			d := s[k].At
			if k > 0 {
				d -= s[k-1].At
			}
			bits += s[k].Mbps * d.Seconds()
			secs += d.Seconds()
		}
		out = append(out, bits/secs)
		if j == len(s) {
			break
		}
	}
	return out
}

func rates(s []Sample) []float64 {
	out := make([]float64, len(s))
	for i, x := range s {
		out[i] = x.Mbps
	}
	return out
}

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

func median(xs []float64) float64 { return quantile(xs, 0.5) }

// quantile interpolates linearly between order statistics (type 7, as R
// and numpy do by default).
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	pos := q * float64(len(s)-1)
	lo := int(math.Floor(pos))
	hi := int(math.Ceil(pos))
	return s[lo] + (s[hi]-s[lo])*(pos-float64(lo))
}

// trimmedMean drops floor(share*n) values from each end and averages the
// rest.
func trimmedMean(xs []float64, share float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	k := int(share * float64(len(s)))
	return mean(s[k : len(s)-k])
}
