package rollup

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
)

// The distribution of a bucket (its Hist or its value counts) is stored as
// one compact binary value, so a store needs a single column for it:
//
//	exact values:  'e' n (float64 little-endian, uvarint count)*n
//	bins:          'b' zero nneg (varint index delta, uvarint count)*nneg npos (...)*npos
//	value counts:  'v' other n (uvarint length, bytes, uvarint count)*n, keys ascending
//
// Counts, lengths and zero are uvarints; the first index delta is from 0.
const (
	tagExact  = 'e'
	tagBins   = 'b'
	tagValues = 'v'
)

var errDist = errors.New("rollup: malformed distribution")

// AppendDist appends the encoded distribution of b: its Hist for numbers,
// its value counts otherwise.
func AppendDist(dst []byte, b *Bucket) []byte {
	if b.Kind == Number {
		return b.Hist.appendBinary(dst)
	}
	dst = append(dst, tagValues)
	dst = binary.AppendUvarint(dst, uint64(b.Other))
	dst = binary.AppendUvarint(dst, uint64(len(b.Values)))
	keys := make([]string, 0, len(b.Values))
	for k := range b.Values {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		dst = binary.AppendUvarint(dst, uint64(len(k)))
		dst = append(dst, k...)
		dst = binary.AppendUvarint(dst, uint64(b.Values[k]))
	}
	return dst
}

func (h *Hist) appendBinary(dst []byte) []byte {
	if h == nil || !h.binned {
		dst = append(dst, tagExact)
		var ex []ValueCount
		if h != nil {
			ex = h.exact
		}
		dst = binary.AppendUvarint(dst, uint64(len(ex)))
		for _, e := range ex {
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(e.V))
			dst = binary.AppendUvarint(dst, uint64(e.N))
		}
		return dst
	}
	dst = append(dst, tagBins)
	dst = binary.AppendUvarint(dst, uint64(h.zero))
	for _, bs := range [][]bin{h.neg, h.pos} {
		dst = binary.AppendUvarint(dst, uint64(len(bs)))
		prev := int32(0)
		for _, b := range bs {
			dst = binary.AppendVarint(dst, int64(b.i-prev))
			dst = binary.AppendUvarint(dst, uint64(b.n))
			prev = b.i
		}
	}
	return dst
}

// DecodeDist reads what AppendDist wrote into b, by b.Kind. It checks the
// encoding strictly: counts are positive, values and indexes ascending,
// nothing trails.
func DecodeDist(b *Bucket, data []byte) error {
	r := reader{data: data}
	if b.Kind == Number {
		h, err := r.hist()
		if err != nil {
			return err
		}
		b.Hist, b.Values, b.Other = h, nil, 0
		return r.end()
	}
	if r.byte() != tagValues {
		return fmt.Errorf("%w: want value counts", errDist)
	}
	b.Other = r.count(true)
	n := r.length()
	b.Values = make(map[string]int64, n)
	prev := ""
	for i := 0; i < n && r.err == nil; i++ {
		k := r.str()
		c := r.count(false)
		if i > 0 && k <= prev {
			r.fail("value keys out of order")
		}
		b.Values[k], prev = c, k
	}
	b.Hist = nil
	return r.end()
}

type reader struct {
	data []byte
	err  error
}

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s", errDist, what)
	}
	r.data = nil
}

func (r *reader) byte() byte {
	if len(r.data) == 0 {
		r.fail("truncated")
		return 0
	}
	c := r.data[0]
	r.data = r.data[1:]
	return c
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.data)
	if n <= 0 {
		r.fail("bad uvarint")
		return 0
	}
	r.data = r.data[n:]
	return v
}

// count is a sample count; zero is allowed only where the format says so.
func (r *reader) count(zeroOK bool) int64 {
	v := r.uvarint()
	if v > math.MaxInt64 || v == 0 && !zeroOK && r.err == nil {
		r.fail("bad count")
		return 0
	}
	return int64(v)
}

// length is a number of entries, bounded by the bytes left so a corrupt
// value cannot make us allocate much.
func (r *reader) length() int {
	v := r.uvarint()
	if v > uint64(len(r.data)) {
		r.fail("length past the end")
		return 0
	}
	return int(v)
}

func (r *reader) str() string {
	n := r.length()
	if r.err != nil {
		return ""
	}
	s := string(r.data[:n])
	r.data = r.data[n:]
	return s
}

func (r *reader) end() error {
	if r.err == nil && len(r.data) > 0 {
		r.fail("trailing bytes")
	}
	return r.err
}

func (r *reader) hist() (*Hist, error) {
	h := &Hist{}
	switch r.byte() {
	case tagExact:
		n := r.length()
		for i := 0; i < n && r.err == nil; i++ {
			if len(r.data) < 8 {
				r.fail("truncated value")
				break
			}
			v := math.Float64frombits(binary.LittleEndian.Uint64(r.data))
			r.data = r.data[8:]
			c := r.count(false)
			if math.IsNaN(v) || math.IsInf(v, 0) || i > 0 && v <= h.exact[i-1].V {
				r.fail("exact values not finite and ascending")
				break
			}
			h.exact = append(h.exact, ValueCount{v, c})
		}
	case tagBins:
		h.binned = true
		h.zero = r.count(true)
		for _, side := range []*[]bin{&h.neg, &h.pos} {
			n := r.length()
			prev := int64(0)
			for i := 0; i < n && r.err == nil; i++ {
				d, k := binary.Varint(r.data)
				if k <= 0 || i > 0 && d <= 0 || prev+d < math.MinInt32 || prev+d > math.MaxInt32 {
					r.fail("bad bin index")
					break
				}
				r.data = r.data[k:]
				prev += d
				*side = append(*side, bin{int32(prev), r.count(false)})
			}
		}
	default:
		r.fail("want exact values or bins")
	}
	return h, r.err
}
