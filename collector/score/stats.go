package score

import (
	"math"
	"slices"

	"github.com/probity-edu/probity/collector/standards"
)

// statistic computes stat over at least one sample. For share the samples
// are 1 (match) or 0 and the result is a percentage.
func statistic(stat string, ss []sample) float64 {
	switch stat {
	case standards.StatLast:
		last := ss[0]
		for _, s := range ss[1:] {
			if !s.t.Before(last.t) { // ties: the later in input order
				last = s
			}
		}
		return last.v
	case standards.StatShare:
		hits := 0
		for _, s := range ss {
			if s.v == 1 {
				hits++
			}
		}
		// Multiply first so 990 of 1000 is exactly 99, not 98.99999999999999.
		return float64(100*hits) / float64(len(ss))
	}
	vs := make([]float64, len(ss))
	for i, s := range ss {
		vs[i] = s.v
	}
	switch stat {
	case standards.StatMin:
		return slices.Min(vs)
	case standards.StatMax:
		return slices.Max(vs)
	case standards.StatMean:
		sum := 0.0
		for _, v := range vs {
			sum += v
		}
		return sum / float64(len(vs))
	case standards.StatMedian:
		return quantile(vs, 0.5)
	case standards.StatP10:
		return quantile(vs, 0.1)
	case standards.StatP90:
		return quantile(vs, 0.9)
	}
	return math.NaN()
}

// quantile interpolates linearly between the closest ranks (type 7 of
// Hyndman and Fan: numpy's default, Excel's PERCENTILE.INC). vs is not
// modified.
func quantile(vs []float64, q float64) float64 {
	s := slices.Clone(vs)
	slices.Sort(s)
	h := q * float64(len(s)-1)
	lo := math.Floor(h)
	i := int(lo)
	if i+1 >= len(s) {
		return s[len(s)-1]
	}
	return s[i] + (h-lo)*(s[i+1]-s[i])
}
