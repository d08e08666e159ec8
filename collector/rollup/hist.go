package rollup

import (
	"math"
	"slices"
	"sort"
)

// Histogram parameters; see the package documentation for the error they
// give.
const (
	// Alpha is the relative error of a value read from a bin.
	Alpha = 0.01
	// Gamma is the ratio of a bin's upper and lower bounds.
	Gamma = (1 + Alpha) / (1 - Alpha)
	// MinMagnitude: smaller magnitudes count in the zero bin.
	MinMagnitude = 1e-9
	// MaxExact is how many distinct values a stored bucket keeps exactly.
	MaxExact = 32
)

var lnGamma = math.Log(Gamma)

// ValueCount is one distinct value and how many samples had it.
type ValueCount struct {
	V float64
	N int64
}

type bin struct {
	i int32
	n int64
}

// Hist is the mergeable distribution of a number field: exact values while
// there are few, then fixed log-scale bins. The zero value is empty.
type Hist struct {
	exact  []ValueCount // ascending, distinct; only while !binned
	binned bool
	zero   int64 // |v| < MinMagnitude
	neg    []bin // bins of -v for negative v, ascending index
	pos    []bin // ascending index
}

// binIndex is the bin of a magnitude m >= MinMagnitude: (Gamma^(i-1), Gamma^i].
func binIndex(m float64) int32 {
	return int32(math.Ceil(math.Log(m) / lnGamma))
}

func binLow(i int32) float64  { return math.Pow(Gamma, float64(i-1)) }
func binHigh(i int32) float64 { return math.Pow(Gamma, float64(i)) }

// binMid is the value a bin stands for: within Alpha of every magnitude in it.
func binMid(i int32) float64 { return 2 * math.Pow(Gamma, float64(i)) / (Gamma + 1) }

// Add counts n samples of v. While the histogram is exact and would hold
// more than maxExact distinct values, it turns into bins.
func (h *Hist) Add(v float64, n int64, maxExact int) {
	if n <= 0 {
		return
	}
	if !h.binned {
		i := sort.Search(len(h.exact), func(k int) bool { return h.exact[k].V >= v })
		if i < len(h.exact) && h.exact[i].V == v {
			h.exact[i].N += n
			return
		}
		if len(h.exact) < maxExact {
			h.exact = slices.Insert(h.exact, i, ValueCount{v, n})
			return
		}
		h.toBins()
	}
	h.addBin(v, n)
}

func (h *Hist) toBins() {
	ex := h.exact
	h.exact, h.binned = nil, true
	for _, e := range ex {
		h.addBin(e.V, e.N)
	}
}

func (h *Hist) addBin(v float64, n int64) {
	m := math.Abs(v)
	if m < MinMagnitude {
		h.zero += n
		return
	}
	if v > 0 {
		h.pos = addTo(h.pos, binIndex(m), n)
	} else {
		h.neg = addTo(h.neg, binIndex(m), n)
	}
}

func addTo(bs []bin, i int32, n int64) []bin {
	k := sort.Search(len(bs), func(k int) bool { return bs[k].i >= i })
	if k < len(bs) && bs[k].i == i {
		bs[k].n += n
		return bs
	}
	return slices.Insert(bs, k, bin{i, n})
}

// Merge adds o's samples. Both exact with at most maxExact distinct values
// together stays exact; anything else is binned.
func (h *Hist) Merge(o *Hist, maxExact int) {
	if o == nil {
		return
	}
	if !o.binned && !h.binned {
		h.exact = mergeExact(h.exact, o.exact)
		if len(h.exact) > maxExact {
			h.toBins()
		}
		return
	}
	if !o.binned {
		for _, e := range o.exact {
			h.addBin(e.V, e.N)
		}
		return
	}
	if !h.binned {
		h.toBins()
	}
	h.zero += o.zero
	for _, b := range o.neg {
		h.neg = addTo(h.neg, b.i, b.n)
	}
	for _, b := range o.pos {
		h.pos = addTo(h.pos, b.i, b.n)
	}
}

// Exact reports whether the histogram still holds its samples exactly.
func (h *Hist) Exact() bool { return h == nil || !h.binned }

// Total is the number of samples.
func (h *Hist) Total() int64 {
	if h == nil {
		return 0
	}
	n := h.zero
	for _, e := range h.exact {
		n += e.N
	}
	for _, b := range h.neg {
		n += b.n
	}
	for _, b := range h.pos {
		n += b.n
	}
	return n
}

// walk visits the samples in ascending order, one entry per distinct value
// or bin: the value it stands for, the range its samples lie in, and its
// count. It stops when fn returns false.
func (h *Hist) walk(fn func(v, lo, hi float64, n int64) bool) {
	if h == nil {
		return
	}
	for _, e := range h.exact {
		if !fn(e.V, e.V, e.V, e.N) {
			return
		}
	}
	for k := len(h.neg) - 1; k >= 0; k-- {
		b := h.neg[k]
		if !fn(-binMid(b.i), -binHigh(b.i), -binLow(b.i), b.n) {
			return
		}
	}
	if h.zero > 0 && !fn(0, -MinMagnitude, MinMagnitude, h.zero) {
		return
	}
	for _, b := range h.pos {
		if !fn(binMid(b.i), binLow(b.i), binHigh(b.i), b.n) {
			return
		}
	}
}

// Quantile estimates the q-quantile (0..1), interpolating linearly between
// the closest ranks (numpy's default, Excel's PERCENTILE.INC). lo and hi
// are the exact minimum and maximum of the samples: the extreme ranks are
// them, and every estimate is clamped to them. Exact histograms give the
// exact answer. An empty histogram gives NaN.
func (h *Hist) Quantile(q, lo, hi float64) float64 {
	n := h.Total()
	if n == 0 {
		return math.NaN()
	}
	r := q * float64(n-1)
	k := int64(math.Floor(r))
	f := r - float64(k)
	a := h.valueAt(k, n, lo, hi)
	if f == 0 || k+1 >= n {
		return a
	}
	return a + f*(h.valueAt(k+1, n, lo, hi)-a)
}

func (h *Hist) valueAt(rank, n int64, lo, hi float64) float64 {
	switch rank {
	case 0:
		return lo
	case n - 1:
		return hi
	}
	var out float64
	var seen int64
	h.walk(func(v, _, _ float64, c int64) bool {
		seen += c
		if rank < seen {
			out = v
			return false
		}
		return true
	})
	return clamp(out, lo, hi)
}

func clamp(v, lo, hi float64) float64 {
	return math.Max(lo, math.Min(hi, v))
}

// CountBelow counts the samples under t (or at most t when inclusive).
// lo and hi are the samples' exact minimum and maximum. certain is false
// when a bin straddles t: its samples are then judged by its midpoint.
func (h *Hist) CountBelow(t float64, inclusive bool, lo, hi float64) (n int64, certain bool) {
	below := func(x float64) bool {
		if inclusive {
			return x <= t
		}
		return x < t
	}
	certain = true
	h.walk(func(v, a, b float64, c int64) bool {
		a, b = clamp(a, lo, hi), clamp(b, lo, hi)
		switch {
		case below(b) && below(a):
			n += c
		case !below(a) && !below(b):
		default:
			certain = false
			if below(clamp(v, a, b)) {
				n += c
			}
		}
		return true
	})
	return n, certain
}

// Equal reports whether two histograms hold the same counts (go-cmp uses
// it). Nil equals empty.
func (h *Hist) Equal(o *Hist) bool {
	if h == nil || o == nil {
		return h.Total() == 0 && o.Total() == 0
	}
	return h.binned == o.binned && h.zero == o.zero && slices.Equal(h.exact, o.exact) &&
		slices.Equal(h.neg, o.neg) && slices.Equal(h.pos, o.pos)
}

// Values returns the exact distinct values and counts, or nil once binned.
func (h *Hist) Values() []ValueCount {
	if h == nil || h.binned {
		return nil
	}
	return slices.Clone(h.exact)
}

// mergeExact merges two ascending lists of distinct values in one pass, so
// merging a window's buckets stays linear however many values they hold.
func mergeExact(a, b []ValueCount) []ValueCount {
	if len(b) == 0 {
		return a
	}
	out := make([]ValueCount, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i].V < b[j].V:
			out = append(out, a[i])
			i++
		case b[j].V < a[i].V:
			out = append(out, b[j])
			j++
		default:
			out = append(out, ValueCount{a[i].V, a[i].N + b[j].N})
			i, j = i+1, j+1
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}
