package score

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/probity-edu/probity/collector/rollup"
	"github.com/probity-edu/probity/collector/standards"
	"github.com/probity-edu/probity/internal/point"
)

// accOf merges the hourly buckets of samples step apart, as the engine
// does.
func accOf(step time.Duration, vs ...float64) *groupAcc {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var pts []point.Point
	for i, v := range vs {
		pts = append(pts, point.New("m", nil, map[string]any{"f": v}, t0.Add(time.Duration(i)*step)))
	}
	a := &groupAcc{series: map[string]bool{}}
	for _, b := range rollup.FromPoints("s", pts) {
		if b.Res == rollup.Hour {
			a.addNumbers(&b)
		}
	}
	return a
}

// Known answers, checked against numpy.percentile (linear) by hand:
// percentile(range(1, 11), 10) = 1.9, (.., 90) = 9.1, median([1,2,3,4]) = 2.5.
// Few values: exact, whichever hours they fall in.
func TestStatistic(t *testing.T) {
	for _, c := range []struct {
		stat string
		in   []float64
		want float64
	}{
		{standards.StatMedian, []float64{1, 2, 3, 4}, 2.5},
		{standards.StatMedian, []float64{5, 1, 3}, 3},
		{standards.StatMedian, []float64{7}, 7},
		{standards.StatP10, []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 1.9},
		{standards.StatP90, []float64{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, 9.1},
		{standards.StatP10, []float64{10, 20}, 11},
		{standards.StatP90, []float64{10, 20}, 19},
		{standards.StatP10, []float64{42}, 42},
		{standards.StatP10, []float64{80, 95, 100, 120, 150, 200, 210, 220, 230, 240}, 93.5},
		{standards.StatMin, []float64{3, -1, 2}, -1},
		{standards.StatMax, []float64{3, -1, 2}, 3},
		{standards.StatMean, []float64{1, 2, 3, 4}, 2.5},
		{standards.StatLast, []float64{1, 2, 3, 4}, 4},
	} {
		got, approx := accOf(61*time.Minute, c.in...).statistic(c.stat)
		if math.Abs(got-c.want) > 1e-9 || approx {
			t.Errorf("%s(%v) = %v (approximate %v), want %v exactly", c.stat, c.in, got, approx, c.want)
		}
	}
}

// Many distinct values: percentiles come from the bins, within the
// documented 1%, and say so.
func TestPercentilesFromBins(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	vs := make([]float64, 24*60)
	for i := range vs {
		vs[i] = math.Exp(3 + 0.6*r.NormFloat64())
	}
	a := accOf(time.Second, vs...)
	s := slices.Sorted(slices.Values(vs))
	for stat, q := range map[string]float64{standards.StatP10: 0.1, standards.StatMedian: 0.5, standards.StatP90: 0.9} {
		h := q * float64(len(s)-1)
		i := int(h)
		want := s[i] + (h-float64(i))*(s[i+1]-s[i])
		got, approx := a.statistic(stat)
		if !approx || math.Abs(got-want) > rollup.Alpha*want {
			t.Errorf("%s = %v (approximate %v), want %v within %v%%", stat, got, approx, want, 100*rollup.Alpha)
		}
	}
	if got, approx := a.statistic(standards.StatMin); got != s[0] || approx {
		t.Errorf("min %v, want %v exactly", got, s[0])
	}
}

// A share of 990 in 1000 must compare equal to 99, or a 99% threshold
// would fail a site that met it exactly.
func TestShareIsExact(t *testing.T) {
	a := &groupAcc{n: 1000, hits: 990}
	if got, _ := a.statistic(standards.StatShare); got != 99 {
		t.Errorf("share = %v, want exactly 99", got)
	}
}

// last is by time, not by input order; ties go to the later bucket.
func TestLastByTime(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b := func(at time.Time, v float64) *rollup.Bucket {
		return &rollup.Bucket{Kind: rollup.Number, Count: 1, Min: v, Max: v, Sum: v, Last: v, LastTime: at}
	}
	a := &groupAcc{}
	for _, x := range []*rollup.Bucket{b(t0.Add(2*time.Hour), 20), b(t0, 99), b(t0.Add(time.Hour), 10)} {
		a.addNumbers(x)
	}
	if got, _ := a.statistic(standards.StatLast); got != 20 {
		t.Errorf("last = %v, want 20", got)
	}
	a = &groupAcc{}
	a.addNumbers(b(t0, 1))
	a.addNumbers(b(t0, 2))
	if got, _ := a.statistic(standards.StatLast); got != 2 {
		t.Errorf("last of a tie = %v, want 2", got)
	}
}
