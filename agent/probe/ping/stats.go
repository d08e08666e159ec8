package ping

import (
	"math"
	"slices"
	"time"
)

// summary holds the RTT statistics of one target's run.
type summary struct {
	Min, Avg, Max, P95 time.Duration
	Jitter             time.Duration
	HasJitter          bool // jitter needs at least two replies
}

// summarize computes the statistics of rtts, given in the order the
// replies arrived. ok is false when there are none.
func summarize(rtts []time.Duration) (s summary, ok bool) {
	if len(rtts) == 0 {
		return s, false
	}
	sorted := slices.Clone(rtts)
	slices.Sort(sorted)
	var sum time.Duration
	for _, r := range rtts {
		sum += r
	}
	s.Min, s.Max = sorted[0], sorted[len(sorted)-1]
	s.Avg = sum / time.Duration(len(rtts))
	s.P95 = percentile(sorted, 95)
	s.Jitter, s.HasJitter = jitter(rtts)
	return s, true
}

// percentile returns the q-th percentile of sorted by the nearest-rank
// method: the smallest value with at least q% of the values at or below
// it. No interpolation, so it is always an RTT that was observed.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(q / 100 * float64(len(sorted))))
	rank = max(1, min(rank, len(sorted)))
	return sorted[rank-1]
}

// jitter is the mean absolute difference between consecutive RTTs, in the
// order the replies arrived (the mean of |rtt[i] - rtt[i-1]|). It is the
// unsmoothed form of RFC 3550's interarrival jitter.
func jitter(rtts []time.Duration) (time.Duration, bool) {
	if len(rtts) < 2 {
		return 0, false
	}
	var sum time.Duration
	for i := 1; i < len(rtts); i++ {
		d := rtts[i] - rtts[i-1]
		if d < 0 {
			d = -d
		}
		sum += d
	}
	return sum / time.Duration(len(rtts)-1), true
}
