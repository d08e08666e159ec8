package rollup

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// quantile7 is the reference: type 7 of Hyndman and Fan over the samples.
func quantile7(vs []float64, q float64) float64 {
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

func histOf(vs []float64, maxExact int) *Hist {
	h := &Hist{}
	for _, v := range vs {
		h.Add(v, 1, maxExact)
	}
	return h
}

var dists = map[string]func(r *rand.Rand) float64{
	"rtt ms, log-normal":    func(r *rand.Rand) float64 { return math.Exp(2.5 + 0.8*r.NormFloat64()) },
	"mbps, uniform":         func(r *rand.Rand) float64 { return 20 + 980*r.Float64() },
	"loss %, mostly zero":   func(r *rand.Rand) float64 { return math.Max(0, 10*r.NormFloat64()-12) },
	"dBm, negative":         func(r *rand.Rand) float64 { return -90 + 40*r.Float64() },
	"status codes, integer": func(r *rand.Rand) float64 { return float64([]int{200, 200, 200, 204, 301, 404, 503}[r.IntN(7)]) },
}

// The documented error: within Alpha of the exact quantile for samples of
// one sign, the extremes exact.
func TestQuantileError(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for name, gen := range dists {
		for _, n := range []int{1, 2, 5, 33, 1000, 20000} {
			vs := make([]float64, n)
			for i := range vs {
				vs[i] = gen(r)
			}
			h := histOf(vs, MaxExact)
			lo, hi := slices.Min(vs), slices.Max(vs)
			if h.Total() != int64(n) {
				t.Fatalf("%s n=%d: total %d", name, n, h.Total())
			}
			for _, q := range []float64{0, 0.1, 0.25, 0.5, 0.9, 0.99, 1} {
				want := quantile7(vs, q)
				got := h.Quantile(q, lo, hi)
				if err := math.Abs(got - want); err > Alpha*math.Abs(want)+MinMagnitude {
					t.Errorf("%s n=%d q=%v: got %v, want %v (error %.3g%%)", name, n, q, got, want, 100*err/math.Abs(want))
				}
				if h.Exact() && got != want && math.Abs(got-want) > 1e-12*math.Abs(want) {
					t.Errorf("%s n=%d q=%v: exact histogram gave %v, want %v", name, n, q, got, want)
				}
			}
		}
	}
}

// Mixed signs: the error is bounded by Alpha of the largest magnitude of
// the two ranks interpolated.
func TestQuantileMixedSigns(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	vs := make([]float64, 5000)
	for i := range vs {
		vs[i] = 10 * r.NormFloat64()
	}
	vs[7] = 0
	h := histOf(vs, MaxExact)
	s := slices.Sorted(slices.Values(vs))
	for _, q := range []float64{0.1, 0.3, 0.5, 0.7, 0.9} {
		want := quantile7(vs, q)
		k := int(q * float64(len(s)-1))
		bound := Alpha*math.Max(math.Abs(s[k]), math.Abs(s[k+1])) + MinMagnitude
		if got := h.Quantile(q, s[0], s[len(s)-1]); math.Abs(got-want) > bound {
			t.Errorf("q=%v: got %v, want %v ± %v", q, got, want, bound)
		}
	}
}

func TestExactUntilMaxExact(t *testing.T) {
	h := &Hist{}
	for i := range MaxExact {
		h.Add(float64(i), 2, MaxExact)
	}
	if !h.Exact() || len(h.Values()) != MaxExact {
		t.Fatalf("%d distinct values: exact %v, %d values", MaxExact, h.Exact(), len(h.Values()))
	}
	h.Add(5, 1, MaxExact) // a known value does not bin
	if !h.Exact() {
		t.Fatal("a repeated value turned the histogram into bins")
	}
	h.Add(1000, 1, MaxExact)
	if h.Exact() || h.Values() != nil || h.Total() != 2*MaxExact+2 {
		t.Errorf("after %d distinct: exact %v, total %d", MaxExact+1, h.Exact(), h.Total())
	}
}

// Merging in any order, or in pieces, gives the same counts as adding
// every sample to one histogram.
func TestMergeIsOrderFree(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var all []float64
	var parts []*Hist
	for range 24 {
		vs := make([]float64, r.IntN(60))
		for i := range vs {
			vs[i] = dists["rtt ms, log-normal"](r) - 5
		}
		all = append(all, vs...)
		parts = append(parts, histOf(vs, MaxExact))
	}
	want := histOf(all, MaxExact)
	fwd, back := &Hist{}, &Hist{}
	for i := range parts {
		fwd.Merge(parts[i], MaxExact)
		back.Merge(parts[len(parts)-1-i], MaxExact)
	}
	if !fwd.Equal(want) || !back.Equal(want) {
		t.Error("merged histograms differ from the histogram of all samples")
	}
	// Few distinct values merge exactly.
	a, b := histOf([]float64{1, 2, 3}, MaxExact), histOf([]float64{3, 4}, MaxExact)
	a.Merge(b, MaxExact)
	if !slices.Equal(a.Values(), []ValueCount{{1, 1}, {2, 1}, {3, 2}, {4, 1}}) {
		t.Errorf("exact merge: %v", a.Values())
	}
	// An unlimited merge stays exact however many values it holds.
	u := &Hist{}
	for i := range 100 {
		u.Merge(histOf([]float64{float64(i)}, MaxExact), math.MaxInt)
	}
	if !u.Exact() || u.Quantile(0.5, 0, 99) != 49.5 {
		t.Errorf("unlimited merge: exact %v, median %v", u.Exact(), u.Quantile(0.5, 0, 99))
	}
}

// CountBelow is exact when no bin straddles the threshold, and otherwise
// wrong only about samples within a bin's width of it.
func TestCountBelow(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	vs := make([]float64, 3000)
	for i := range vs {
		vs[i] = dists["rtt ms, log-normal"](r)
	}
	h := histOf(vs, MaxExact)
	lo, hi := slices.Min(vs), slices.Max(vs)
	for _, thr := range []float64{0.5, 5, 12.18, 30, 100, 1e6} {
		for _, incl := range []bool{false, true} {
			var want, near int64
			for _, v := range vs {
				if v < thr || incl && v == thr {
					want++
				}
				if math.Abs(v-thr) <= 2*Alpha*thr {
					near++
				}
			}
			got, certain := h.CountBelow(thr, incl, lo, hi)
			if d := got - want; d > near || -d > near {
				t.Errorf("below %v (incl %v): %d, want %d ± %d", thr, incl, got, want, near)
			}
			if certain && got != want {
				t.Errorf("below %v: certain but %d, want %d", thr, got, want)
			}
		}
	}
	// Clamping to min and max settles a bin the range lies inside.
	one := histOf([]float64{99.5, 99.6}, 0) // binned from the start
	if n, certain := one.CountBelow(99.55, false, 99.5, 99.6); n > 2 || certain {
		t.Errorf("straddling: %d, certain %v", n, certain)
	}
	if n, certain := one.CountBelow(99.4, false, 99.5, 99.6); n != 0 || !certain {
		t.Errorf("below the minimum: %d, certain %v", n, certain)
	}
	ex := histOf([]float64{200, 200, 404}, MaxExact)
	if n, certain := ex.CountBelow(200, true, 200, 404); n != 2 || !certain {
		t.Errorf("exact: %d, certain %v", n, certain)
	}
}

func TestQuantileEmpty(t *testing.T) {
	var h *Hist
	if !math.IsNaN(h.Quantile(0.5, 0, 0)) || !(&Hist{}).Equal(nil) {
		t.Error("empty histogram")
	}
}
