package score

import (
	"math"
	"time"

	"github.com/probity-edu/probity/collector/rollup"
	"github.com/probity-edu/probity/collector/standards"
)

// groupAcc merges the buckets of one group of a condition.
type groupAcc struct {
	n      int64
	hits   int64 // share: samples the match holds for
	approx bool  // share: some count was read from bins or an Other count
	// excluded counts samples Condition.Exclude left out.
	excluded int64
	series   map[string]bool

	// Numbers.
	min, max, sum float64
	last          float64
	lastT         time.Time
	hist          rollup.Hist
}

// addNumbers merges a number bucket. The histogram keeps every distinct
// value while the buckets it merges are exact, so a median over a week of
// a few tests a day is exact.
func (a *groupAcc) addNumbers(b *rollup.Bucket) {
	if a.n == 0 {
		a.min, a.max = b.Min, b.Max
	}
	a.min, a.max = min(a.min, b.Min), max(a.max, b.Max)
	a.n += b.Count
	a.sum += b.Sum
	if !b.LastTime.Before(a.lastT) { // ties: the later bucket
		a.last, a.lastT = b.Last, b.LastTime
	}
	a.hist.Merge(b.Hist, math.MaxInt)
}

// statistic computes stat over at least one sample. For share the result
// is a percentage. approx is true when it was read from histogram bins.
func (a *groupAcc) statistic(stat string) (v float64, approx bool) {
	switch stat {
	case standards.StatShare:
		// Multiply first so 990 of 1000 is exactly 99, not 98.99999999999999.
		return float64(100*a.hits) / float64(a.n), a.approx
	case standards.StatLast:
		return a.last, false
	case standards.StatMin:
		return a.min, false
	case standards.StatMax:
		return a.max, false
	case standards.StatMean:
		return a.sum / float64(a.n), false
	case standards.StatMedian:
		return a.quantile(0.5)
	case standards.StatP10:
		return a.quantile(0.1)
	case standards.StatP90:
		return a.quantile(0.9)
	}
	return math.NaN(), false
}

// quantile interpolates linearly between the closest ranks (type 7 of
// Hyndman and Fan: numpy's default, Excel's PERCENTILE.INC), exactly when
// the merged buckets held their values exactly.
func (a *groupAcc) quantile(q float64) (float64, bool) {
	return a.hist.Quantile(q, a.min, a.max), !a.hist.Exact()
}
