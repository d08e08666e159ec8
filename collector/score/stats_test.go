package score

import (
	"math"
	"testing"
	"time"

	"github.com/probity-edu/probity/collector/standards"
)

func samplesOf(vs ...float64) []sample {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ss := make([]sample, len(vs))
	for i, v := range vs {
		ss[i] = sample{t: t0.Add(time.Duration(i) * time.Minute), v: v}
	}
	return ss
}

// Known answers, checked against numpy.percentile (linear) by hand:
// percentile(range(1, 11), 10) = 1.9, (.., 90) = 9.1, median([1,2,3,4]) = 2.5.
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
		{standards.StatShare, []float64{1, 1, 0, 1}, 75},
		{standards.StatShare, []float64{0, 0}, 0},
	} {
		got := statistic(c.stat, samplesOf(c.in...))
		if math.Abs(got-c.want) > 1e-9 {
			t.Errorf("%s(%v) = %v, want %v", c.stat, c.in, got, c.want)
		}
	}
}

// A share of 990 in 1000 must compare equal to 99, or a 99% threshold
// would fail a site that met it exactly.
func TestShareIsExact(t *testing.T) {
	vs := make([]float64, 1000)
	for i := range 990 {
		vs[i] = 1
	}
	if got := statistic(standards.StatShare, samplesOf(vs...)); got != 99 {
		t.Errorf("share = %v, want exactly 99", got)
	}
}

// last is by time, not by input order; ties go to the later input.
func TestLastByTime(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ss := []sample{{t0.Add(2 * time.Hour), 20}, {t0, 99}, {t0.Add(time.Hour), 10}}
	if got := statistic(standards.StatLast, ss); got != 20 {
		t.Errorf("last = %v, want 20", got)
	}
	ss = []sample{{t0, 1}, {t0, 2}}
	if got := statistic(standards.StatLast, ss); got != 2 {
		t.Errorf("last of a tie = %v, want 2", got)
	}
}

func TestQuantileLeavesInput(t *testing.T) {
	in := []float64{3, 1, 2}
	quantile(in, 0.5)
	if in[0] != 3 || in[1] != 1 || in[2] != 2 {
		t.Errorf("quantile sorted its input: %v", in)
	}
}
