package rowcodec

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/internal/point"
)

// Builder appends points to store.Rows a part at a time, as a line
// protocol decoder meets them, so that ingest never builds a point's maps
// only for the store to encode them again. Series keys and tags are the
// bytes Codec writes (a series must not get a second key) and fields read
// back the same, though a number given as text keeps its spelling: keys
// sorted, and the last of a repeated key wins, as it would in a map.
type Builder struct {
	rows *store.Rows
	// site and agent, when set, replace any site and agent tags: what an
	// agent's credential says, never its body.
	site, agent string

	measurement string
	ns          int64
	scratch     []byte // the keys and string values of the point being built
	tags        []part
	fields      []part
	names       map[string]string
}

// part is one tag or field of the point being built: its key is
// scratch[k0:k1], its value scratch[v0:v1] (a tag's or a string field's)
// or num and kind.
type part struct {
	k0, k1, v0, v1 int
	// 't' tag, 'f' float, 'i' int, 'u' uint, 'b' bool, 's' string, and
	// 'F', 'I' and 'U' for numbers given as text (scratch[v0:v1]).
	kind byte
	num  uint64
}

// NewBuilder starts rows; site and agent, when not empty, become every
// point's site and agent tags whatever the point said.
func NewBuilder(rows *store.Rows, site, agent string) *Builder {
	return &Builder{rows: rows, site: site, agent: agent, names: map[string]string{}}
}

// Start begins a point.
func (b *Builder) Start(measurement []byte, ns int64) {
	if b.measurement != string(measurement) {
		if s, ok := b.names[string(measurement)]; ok {
			b.measurement = s
		} else {
			b.measurement = string(measurement)
			b.names[b.measurement] = b.measurement
		}
	}
	b.ns = ns
	b.scratch, b.tags, b.fields = b.scratch[:0], b.tags[:0], b.fields[:0]
}

// Time sets the point's time (for a decoder that meets it last).
func (b *Builder) Time(ns int64) { b.ns = ns }

func (b *Builder) key(k []byte) (int, int) {
	k0 := len(b.scratch)
	b.scratch = append(b.scratch, k...)
	return k0, len(b.scratch)
}

// Tag adds a tag.
func (b *Builder) Tag(k, v []byte) {
	k0, k1 := b.key(k)
	b.scratch = append(b.scratch, v...)
	b.tags = append(b.tags, part{k0: k0, k1: k1, v0: k1, v1: len(b.scratch), kind: 't'})
}

// Float adds a float field; NaN and infinities are the caller's to refuse.
func (b *Builder) Float(k []byte, v float64) {
	k0, k1 := b.key(k)
	b.fields = append(b.fields, part{k0: k0, k1: k1, kind: 'f', num: math.Float64bits(v)})
}

// Int adds an integer field.
func (b *Builder) Int(k []byte, v int64) {
	k0, k1 := b.key(k)
	b.fields = append(b.fields, part{k0: k0, k1: k1, kind: 'i', num: uint64(v)})
}

// Uint adds an unsigned integer field.
func (b *Builder) Uint(k []byte, v uint64) {
	k0, k1 := b.key(k)
	b.fields = append(b.fields, part{k0: k0, k1: k1, kind: 'u', num: v})
}

// Bool adds a boolean field.
func (b *Builder) Bool(k []byte, v bool) {
	k0, k1 := b.key(k)
	var n uint64
	if v {
		n = 1
	}
	b.fields = append(b.fields, part{k0: k0, k1: k1, kind: 'b', num: n})
}

// RawFloat adds a float field given as a JSON number, which the caller has
// checked is one and is finite.
func (b *Builder) RawFloat(k, text []byte) { b.raw(k, text, 'F') }

// RawInt adds an integer field given as decimal digits, which the caller
// has checked fit an int64.
func (b *Builder) RawInt(k, text []byte) { b.raw(k, text, 'I') }

// RawUint adds an unsigned integer field given as decimal digits, which
// the caller has checked fit a uint64.
func (b *Builder) RawUint(k, text []byte) { b.raw(k, text, 'U') }

func (b *Builder) raw(k, text []byte, kind byte) {
	k0, k1 := b.key(k)
	b.scratch = append(b.scratch, text...)
	b.fields = append(b.fields, part{k0: k0, k1: k1, v0: k1, v1: len(b.scratch), kind: kind})
}

// String adds a string field.
func (b *Builder) String(k, v []byte) {
	k0, k1 := b.key(k)
	b.scratch = append(b.scratch, v...)
	b.fields = append(b.fields, part{k0: k0, k1: k1, v0: k1, v1: len(b.scratch), kind: 's'})
}

// errNoFields is End's refusal of a point without fields.
var errNoFields = errors.New("no fields")

// End encodes the point begun by Start into the rows.
func (b *Builder) End() error {
	if len(b.fields) == 0 {
		return errNoFields
	}
	if b.site != "" {
		b.Tag([]byte(store.TagSite), []byte(b.site))
	}
	if b.agent != "" {
		b.Tag([]byte(store.TagAgent), []byte(b.agent))
	}
	b.tags = b.lastOfEach(b.tags)
	b.fields = b.lastOfEach(b.fields)
	r := store.Row{Measurement: b.measurement, NS: b.ns}
	buf := b.rows.Buf
	r.Series = len(buf)
	buf = append(buf, b.measurement...)
	for _, t := range b.tags {
		if k := b.scratch[t.k0:t.k1]; string(k) == store.TagSite || string(k) == store.TagAgent {
			continue
		}
		buf = append(buf, ',')
		buf = append(buf, b.scratch[t.k0:t.k1]...)
		buf = append(buf, '=')
		buf = append(buf, b.scratch[t.v0:t.v1]...)
	}
	r.Tags = len(buf)
	buf = append(buf, '{')
	for i, t := range b.tags {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendString(buf, b.scratch[t.k0:t.k1])
		buf = append(buf, ':')
		buf = appendString(buf, b.scratch[t.v0:t.v1])
	}
	buf = append(buf, '}')
	r.Fields = len(buf)
	buf = append(buf, '{')
	for i, f := range b.fields {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendString(buf, b.scratch[f.k0:f.k1])
		buf = append(buf, ':')
		switch f.kind {
		case 'f':
			buf = strconv.AppendFloat(buf, math.Float64frombits(f.num), 'g', -1, 64)
		case 'i':
			buf = strconv.AppendInt(append(buf, `{"i":`...), int64(f.num), 10)
			buf = append(buf, '}')
		case 'u':
			buf = strconv.AppendUint(append(buf, `{"u":`...), f.num, 10)
			buf = append(buf, '}')
		case 'b':
			buf = strconv.AppendBool(buf, f.num == 1)
		case 's':
			buf = appendString(buf, b.scratch[f.v0:f.v1])
		case 'F':
			buf = append(buf, b.scratch[f.v0:f.v1]...)
		case 'I':
			buf = append(append(buf, `{"i":`...), b.scratch[f.v0:f.v1]...)
			buf = append(buf, '}')
		case 'U':
			buf = append(append(buf, `{"u":`...), b.scratch[f.v0:f.v1]...)
			buf = append(buf, '}')
		}
	}
	buf = append(buf, '}')
	r.End = len(buf)
	b.rows.Buf = buf
	b.rows.Rows = append(b.rows.Rows, r)
	return nil
}

// lastOfEach sorts parts by key, keeping only the last given of a key.
// Parts mostly come sorted already (agents and Telegraf sort them), and
// the few that do not are short: an insertion sort is the cheap case.
func (b *Builder) lastOfEach(ps []part) []part {
	cmpKey := func(x, y part) int { return bytes.Compare(b.scratch[x.k0:x.k1], b.scratch[y.k0:y.k1]) }
	if len(ps) > 16 {
		slices.SortStableFunc(ps, cmpKey)
	} else {
		for i := 1; i < len(ps); i++ {
			for j := i; j > 0 && cmpKey(ps[j-1], ps[j]) > 0; j-- {
				ps[j-1], ps[j] = ps[j], ps[j-1]
			}
		}
	}
	out := ps[:0]
	for i, p := range ps {
		if i+1 < len(ps) && cmpKey(p, ps[i+1]) == 0 {
			continue
		}
		out = append(out, p)
	}
	return out
}

// Rows encodes points (whose site and agent tags are already theirs) as
// the stores keep them. A point without a measurement, time or fields, or
// with a field value of an unsupported type, NaN or infinite, is refused
// with point.ErrInvalid.
func Rows(pts []point.Point) (*store.Rows, error) {
	rows := &store.Rows{Rows: make([]store.Row, 0, len(pts))}
	b := NewBuilder(rows, "", "")
	for i, p := range pts {
		fail := func(format string, a ...any) (*store.Rows, error) {
			return nil, fmt.Errorf("point %d (%s): %w: %s", i, p.Measurement, point.ErrInvalid, fmt.Sprintf(format, a...))
		}
		if p.Measurement == "" || p.Time.IsZero() {
			return fail("needs a measurement and a time")
		}
		b.Start([]byte(p.Measurement), NS(p.Time))
		for k, v := range p.Tags {
			b.Tag([]byte(k), []byte(v))
		}
		for k, v := range p.Fields {
			kb := []byte(k)
			switch x := v.(type) {
			case float64:
				if math.IsNaN(x) || math.IsInf(x, 0) {
					return fail("field %s is %v", k, x)
				}
				b.Float(kb, x)
			case int64:
				b.Int(kb, x)
			case int:
				b.Int(kb, int64(x))
			case uint64:
				b.Uint(kb, x)
			case bool:
				b.Bool(kb, x)
			case string:
				b.String(kb, []byte(x))
			default:
				return fail("field %s has unsupported type %T", k, v)
			}
		}
		if err := b.End(); err != nil {
			return fail("%v", err)
		}
	}
	return rows, nil
}

// RowsOf is a batch's rows: its Rows as ingest decoded them, or its
// Points encoded.
func RowsOf(b store.Batch) (*store.Rows, error) {
	if b.Rows != nil {
		return b.Rows, nil
	}
	return Rows(b.Points)
}

// Points decodes rows back into points, for what wants a batch as maps
// (the InfluxDB forwarder).
func (d *Decoder) Points(rows *store.Rows) ([]point.Point, error) {
	pts := make([]point.Point, len(rows.Rows))
	for i, r := range rows.Rows {
		tags, err := d.DecodeTags(rows.TagsJSON(i))
		if err != nil {
			return nil, err
		}
		fields, err := d.DecodeFields(rows.FieldsJSON(i))
		if err != nil {
			return nil, err
		}
		pts[i] = point.Point{Measurement: r.Measurement, Tags: tags, Fields: fields, Time: time.Unix(0, r.NS).UTC()}
	}
	return pts, nil
}

// The times a nanosecond count can hold.
var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

// NS is t in nanoseconds since 1970, held to what an int64 can count.
func NS(t time.Time) int64 {
	switch {
	case t.Before(minTime):
		return math.MinInt64
	case t.After(maxTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// Hour is the start of ns's hour, in nanoseconds since 1970, held to what
// an int64 can count.
func Hour(ns int64) int64 {
	const h = int64(time.Hour)
	q := ns / h
	if ns%h < 0 {
		q--
	}
	if q < math.MinInt64/h {
		return math.MinInt64
	}
	return q * h
}
