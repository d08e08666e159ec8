// Package rowcodec encodes a point's series key, tags and fields as the
// stores keep them (JSON text columns), and decodes them back fast: the
// SQLite and PostgreSQL stores share it so both hold the same bytes.
package rowcodec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
	"unsafe"

	"github.com/probity-edu/probity/collector/rollup"
	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/internal/point"
)

// The collector's own tags are columns of their own, so the series key
// leaves them out.
const (
	tagSite  = store.TagSite
	tagAgent = store.TagAgent
)

// Codec encodes one point's series key, tags and fields, reusing its
// buffers across the points of a batch.
type Codec struct {
	keys   []string
	series []byte
	tags   []byte
	fields []byte
}

// SeriesKey is point.SeriesKey without the site and agent tags.
func (c *Codec) SeriesKey(measurement string, tags map[string]string) string {
	c.sortedTagKeys(tags)
	return c.seriesKey(measurement, tags)
}

func (c *Codec) seriesKey(measurement string, tags map[string]string) string {
	c.series = c.appendSeriesKey(c.series[:0], measurement, tags)
	return string(c.series)
}

func (c *Codec) appendSeriesKey(b []byte, measurement string, tags map[string]string) []byte {
	b = append(b, measurement...)
	for _, k := range c.keys {
		if k == tagSite || k == tagAgent {
			continue
		}
		b = append(b, ',')
		b = append(b, k...)
		b = append(b, '=')
		b = append(b, tags[k]...)
	}
	return b
}

// TagsJSON is a JSON object of strings in key order.
func (c *Codec) TagsJSON(tags map[string]string) string {
	c.sortedTagKeys(tags)
	return c.tagsJSON(tags)
}

// tagsJSON encodes tags in the order of c.keys.
func (c *Codec) tagsJSON(tags map[string]string) string {
	b := append(c.tags[:0], '{')
	for i, k := range c.keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		b = appendString(b, tags[k])
	}
	b = append(b, '}')
	c.tags = b
	return string(b)
}

// FieldsJSON encodes fields so each value keeps its Go type: a JSON number
// is a float64, {"i":n} an int64, {"u":n} a uint64, and bools and strings
// are themselves. (Builder writes the same for the ingest path; this is
// the plain form, kept as the tests' reference.)
func (c *Codec) FieldsJSON(fields map[string]any) (string, error) {
	b := c.fields[:0]
	c.keys = c.keys[:0]
	for k := range fields {
		c.keys = append(c.keys, k)
	}
	slices.Sort(c.keys)
	b = append(b, '{')
	for i, k := range c.keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		switch v := fields[k].(type) {
		case float64:
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return "", fmt.Errorf("field %s is %v", k, v)
			}
			b = strconv.AppendFloat(b, v, 'g', -1, 64)
		case int64:
			b = strconv.AppendInt(append(b, `{"i":`...), v, 10)
			b = append(b, '}')
		case int:
			b = strconv.AppendInt(append(b, `{"i":`...), int64(v), 10)
			b = append(b, '}')
		case uint64:
			b = strconv.AppendUint(append(b, `{"u":`...), v, 10)
			b = append(b, '}')
		case bool:
			b = strconv.AppendBool(b, v)
		case string:
			b = appendString(b, v)
		default:
			return "", fmt.Errorf("field %s has unsupported type %T", k, v)
		}
	}
	c.fields = append(b, '}')
	return string(c.fields), nil
}

func (c *Codec) sortedTagKeys(tags map[string]string) {
	c.keys = c.keys[:0]
	for k := range tags {
		c.keys = append(c.keys, k)
	}
	slices.Sort(c.keys)
}

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD,
// as encoding/json does, because both SQLite's JSON functions and
// PostgreSQL text need valid UTF-8.
func appendString[S string | []byte](b []byte, s S) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := decodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func decodeRune[S string | []byte](s S) (rune, int) {
	if b, ok := any(s).([]byte); ok {
		return utf8.DecodeRune(b)
	}
	return utf8.DecodeRuneInString(string(s))
}

// Decoder reads tags and fields columns. It parses the JSON this package
// writes directly and hands anything else to encoding/json; it interns
// strings, since tag keys and values repeat on every row of a series.
type Decoder struct {
	intern map[string]string
}

// maxIntern bounds the intern table of one query.
const maxIntern = 4096

func (d *Decoder) str(b []byte) string {
	if s, ok := d.intern[string(b)]; ok {
		return s
	}
	s := string(b)
	if d.intern == nil {
		d.intern = map[string]string{}
	}
	if len(d.intern) < maxIntern {
		d.intern[s] = s
	}
	return s
}

// DecodeTags reads a tags column.
func (d *Decoder) DecodeTags(js []byte) (map[string]string, error) {
	if tags, ok := d.fastTags(js); ok {
		return tags, nil
	}
	tags := map[string]string{}
	if err := json.Unmarshal(js, &tags); err != nil {
		return nil, fmt.Errorf("tags: %w", err)
	}
	return tags, nil
}

// DecodeFields reads a fields column back into typed values.
func (d *Decoder) DecodeFields(js []byte) (map[string]any, error) {
	if fields, ok := d.fastFields(js); ok {
		return fields, nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(js, &raw); err != nil {
		return nil, fmt.Errorf("fields: %w", err)
	}
	fields := make(map[string]any, len(raw))
	for k, v := range raw {
		x, err := decodeValue(v)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", k, err)
		}
		fields[k] = x
	}
	return fields, nil
}

// Samples reads a fields column as rollup samples, into dst (reused), in
// the column's order (by name where it falls back to DecodeFields) and
// without a map: the rollups' path. Field and Text point into js, or into
// memory of the decoder's, until the next call.
func (d *Decoder) Samples(js []byte, dst []rollup.Sample) ([]rollup.Sample, error) {
	if out, ok := fastSamples(js, dst[:0]); ok {
		return out, nil
	}
	fields, err := d.DecodeFields(js)
	if err != nil {
		return nil, err
	}
	out := dst[:0]
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		s := rollup.Sample{Field: []byte(k)}
		switch v := fields[k].(type) {
		case string:
			s.Kind, s.Text = rollup.String, []byte(v)
		case bool:
			s.Kind, s.Text = rollup.Bool, []byte(strconv.FormatBool(v))
			if v {
				s.Num = 1
			}
		default:
			x, ok := point.AsFloat(v)
			if !ok {
				continue // not a kind rollups keep
			}
			s.Kind, s.Num = rollup.Number, x
		}
		out = append(out, s)
	}
	return out, nil
}

var (
	textTrue  = []byte("true")
	textFalse = []byte("false")
)

// fastSamples is fastFields for Samples.
func fastSamples(js []byte, out []rollup.Sample) ([]rollup.Sample, bool) {
	ok := eachFastField(js, func(k []byte, v *fastValue) {
		s := rollup.Sample{Field: k, Kind: rollup.Number}
		switch v.kind {
		case 'f':
			s.Num = v.f
		case 'i':
			s.Num = float64(v.i)
		case 'u':
			s.Num = float64(v.u)
		case 'b':
			s.Kind, s.Text = rollup.Bool, textFalse
			if v.b {
				s.Num, s.Text = 1, textTrue
			}
		case 's':
			s.Kind, s.Text = rollup.String, v.s
		}
		out = append(out, s)
	})
	return out, ok
}

// fastValue is one field's value as eachFastField reads it: kind is 'f'
// (f), 'i' (i), 'u' (u), 'b' (b) or 's' (s, pointing into the column).
type fastValue struct {
	kind byte
	f    float64
	i    int64
	u    uint64
	b    bool
	s    []byte
}

// eachFastField calls fn with each field of what FieldsJSON writes when
// no string needs escaping, numbers parsed in place; false means use the
// slow path (fn may have been called for some fields already).
func eachFastField(js []byte, fn func(k []byte, v *fastValue)) bool {
	if len(js) < 2 || js[0] != '{' || js[len(js)-1] != '}' {
		return false
	}
	var v fastValue
	rest := js[1 : len(js)-1]
	for len(rest) > 0 {
		k, r, ok := plainString(rest)
		if !ok || len(r) == 0 || r[0] != ':' {
			return false
		}
		r = r[1:]
		var err error
		switch {
		case len(r) == 0:
			return false
		case r[0] == '"':
			v.kind = 's'
			if v.s, r, ok = plainString(r); !ok {
				return false
			}
		case bytes.HasPrefix(r, textTrue):
			v.kind, v.b, r = 'b', true, r[4:]
		case bytes.HasPrefix(r, textFalse):
			v.kind, v.b, r = 'b', false, r[5:]
		case bytes.HasPrefix(r, []byte(`{"i":`)), bytes.HasPrefix(r, []byte(`{"u":`)):
			end := bytes.IndexByte(r, '}')
			if end < 0 {
				return false
			}
			if v.kind = r[2]; v.kind == 'i' {
				v.i, err = strconv.ParseInt(view(r[5:end]), 10, 64)
			} else {
				v.u, err = strconv.ParseUint(view(r[5:end]), 10, 64)
			}
			r = r[end+1:]
		case r[0] == '-' || r[0] >= '0' && r[0] <= '9':
			end := bytes.IndexByte(r, ',')
			if end < 0 {
				end = len(r)
			}
			v.kind = 'f'
			v.f, err = strconv.ParseFloat(view(r[:end]), 64)
			r = r[end:]
		default:
			return false
		}
		if err != nil {
			return false
		}
		fn(k, &v)
		if rest = r; len(rest) > 0 {
			if rest[0] != ',' || len(rest) == 1 {
				return false
			}
			rest = rest[1:]
		}
	}
	return true
}

// view is b as a string without copying it, for strconv's parsers: a
// number a field in every point of an hour would otherwise be a string
// made and dropped. Nothing keeps it; the parsers' errors, which would,
// are dropped unread.
func view(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// fastTags parses {"k":"v",...} with no whitespace and no escapes, as
// TagsJSON writes it for ordinary tags; ok=false means use the slow path.
func (d *Decoder) fastTags(js []byte) (map[string]string, bool) {
	if len(js) < 2 || js[0] != '{' || js[len(js)-1] != '}' {
		return nil, false
	}
	tags := make(map[string]string, 6)
	rest := js[1 : len(js)-1]
	for len(rest) > 0 {
		k, r, ok := plainString(rest)
		if !ok || len(r) == 0 || r[0] != ':' {
			return nil, false
		}
		v, r, ok := plainString(r[1:])
		if !ok {
			return nil, false
		}
		tags[d.str(k)] = d.str(v)
		if rest = r; len(rest) > 0 {
			if rest[0] != ',' || len(rest) == 1 {
				return nil, false
			}
			rest = rest[1:]
		}
	}
	return tags, true
}

// fastFields parses what FieldsJSON writes when no string needs escaping.
func (d *Decoder) fastFields(js []byte) (map[string]any, bool) {
	fields := make(map[string]any, 8)
	ok := eachFastField(js, func(k []byte, v *fastValue) {
		var x any
		switch v.kind {
		case 'f':
			x = v.f
		case 'i':
			x = v.i
		case 'u':
			x = v.u
		case 'b':
			x = v.b
		case 's':
			x = d.str(v.s)
		}
		fields[d.str(k)] = x
	})
	if !ok {
		return nil, false
	}
	return fields, true
}

// plainString reads a JSON string without escapes or control characters
// at the start of b and returns its contents and the rest of b.
func plainString(b []byte) (s, rest []byte, ok bool) {
	if len(b) == 0 || b[0] != '"' {
		return nil, nil, false
	}
	for i := 1; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return b[1:i], b[i+1:], true
		case c == '\\' || c < 0x20:
			return nil, nil, false
		}
	}
	return nil, nil, false
}

var errBadValue = errors.New("not a stored field value")

func decodeValue(v []byte) (any, error) {
	if len(v) == 0 {
		return nil, errBadValue
	}
	switch v[0] {
	case '"':
		var s string
		err := json.Unmarshal(v, &s)
		return s, err
	case 't', 'f':
		var b bool
		err := json.Unmarshal(v, &b)
		return b, err
	case '{':
		var w struct {
			I *json.Number `json:"i"`
			U *json.Number `json:"u"`
		}
		if err := json.Unmarshal(v, &w); err != nil {
			return nil, err
		}
		switch {
		case w.I != nil && w.U == nil:
			return strconv.ParseInt(w.I.String(), 10, 64)
		case w.U != nil && w.I == nil:
			return strconv.ParseUint(w.U.String(), 10, 64)
		}
		return nil, fmt.Errorf("%w: %s", errBadValue, v)
	case 'n':
		return nil, fmt.Errorf("%w: %s", errBadValue, v)
	}
	return strconv.ParseFloat(string(bytes.TrimSpace(v)), 64)
}
