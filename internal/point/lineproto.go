package point

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/influxdata/line-protocol/v2/lineprotocol"
)

// Encode appends pts to buf as line protocol with nanosecond timestamps.
func Encode(buf []byte, pts []Point) ([]byte, error) {
	var enc lineprotocol.Encoder
	enc.SetBuffer(buf)
	enc.SetPrecision(lineprotocol.Nanosecond)
	for i, p := range pts {
		if err := p.Validate(); err != nil {
			return nil, fmt.Errorf("point %d: %w", i, err)
		}
		enc.StartLine(p.Measurement)
		for _, k := range SortedKeys(p.Tags) {
			if p.Tags[k] == "" {
				continue // line protocol has no empty tag values; absent means empty
			}
			enc.AddTag(k, p.Tags[k])
		}
		for _, k := range SortedKeys(p.Fields) {
			v, ok := lineprotocol.NewValue(normalise(p.Fields[k]))
			if !ok {
				return nil, fmt.Errorf("point %d: %w: field %s", i, ErrInvalid, k)
			}
			enc.AddField(k, v)
		}
		enc.EndLine(p.Time)
		if err := enc.Err(); err != nil {
			return nil, fmt.Errorf("point %d (%s): %w", i, p.Measurement, err)
		}
	}
	return enc.Bytes(), nil
}

func normalise(v any) any {
	if i, ok := v.(int); ok {
		return int64(i)
	}
	return v
}

// DecodeError says which line of a body could not be decoded and why.
type DecodeError struct {
	Line int
	Err  error
}

func (e *DecodeError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *DecodeError) Unwrap() error { return e.Err }

// Decode parses a line protocol body. Lines without a timestamp get now.
// The first bad line stops decoding: a batch is accepted whole or not at all.
func Decode(body []byte, prec lineprotocol.Precision, now time.Time) ([]Point, error) {
	dec := lineprotocol.NewDecoderWithBytes(body)
	pts := make([]Point, 0, bytes.Count(body, []byte{'\n'})+1)
	in := strs{}
	line := 0
	for dec.Next() {
		line++
		p, _, err := decodeLine(dec, prec, now, in)
		if err != nil {
			return nil, LineError(err, line)
		}
		pts = append(pts, p)
	}
	if err := dec.Err(); err != nil {
		return nil, LineError(err, line)
	}
	return pts, nil
}

// LineError is err, met decoding a body, as a *DecodeError: at the
// decoder's own line when it has one, else at line (the entry count).
func LineError(err error, line int) error {
	var de *lineprotocol.DecodeError
	if errors.As(err, &de) {
		return &DecodeError{Line: int(de.Line), Err: de.Err}
	}
	return &DecodeError{Line: line, Err: err}
}

// decodeLine decodes the decoder's current line. A line without a
// timestamp gets untimed and reports timed false.
func decodeLine(dec *lineprotocol.Decoder, prec lineprotocol.Precision, untimed time.Time, in strs) (Point, bool, error) {
	m, err := dec.Measurement()
	if err != nil {
		return Point{}, false, err
	}
	if len(m) == 0 {
		return Point{}, false, fmt.Errorf("%w: empty measurement", ErrInvalid)
	}
	p := Point{Measurement: in.of(m), Tags: map[string]string{}, Fields: map[string]any{}}
	for {
		k, v, err := dec.NextTag()
		if err != nil {
			return Point{}, false, err
		}
		if k == nil {
			break
		}
		if len(k) == 0 {
			return Point{}, false, fmt.Errorf("%w: %s has an empty tag key", ErrInvalid, p.Measurement)
		}
		p.Tags[in.of(k)] = string(v)
	}
	// What Validate checks, as the fields go by rather than in another
	// pass over the maps: decoding yields only the supported types.
	for {
		k, v, err := dec.NextField()
		if err != nil {
			return Point{}, false, err
		}
		if k == nil {
			break
		}
		if len(k) == 0 {
			return Point{}, false, fmt.Errorf("%w: %s has an empty field key", ErrInvalid, p.Measurement)
		}
		x := v.Interface()
		if f, ok := x.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
			return Point{}, false, fmt.Errorf("%w: %s field %s is %v", ErrInvalid, p.Measurement, k, f)
		}
		p.Fields[in.of(k)] = x
	}
	if len(p.Fields) == 0 {
		return Point{}, false, fmt.Errorf("%w: %s has no fields", ErrInvalid, p.Measurement)
	}
	// The zero time cannot be a timestamp of line protocol (int64
	// nanoseconds either side of 1970), so it marks a line without one.
	t, err := dec.Time(prec, time.Time{})
	if err != nil {
		return Point{}, false, err
	}
	timed := !t.IsZero()
	if !timed {
		t = untimed
	}
	if t.IsZero() {
		return Point{}, false, fmt.Errorf("%w: %s has no time", ErrInvalid, p.Measurement)
	}
	p.Time = t
	return p, timed, nil
}

// strs hands out one string for each distinct name in a body. A batch
// repeats its measurements, tag keys and field keys on every line, and a
// new string for each was most of decoding's allocations. Tag values are
// not interned: most differ from line to line (an interface's name), and
// interning them cost more than it saved.
type strs map[string]string

func (s strs) of(b []byte) string {
	if v, ok := s[string(b)]; ok {
		return v
	}
	v := string(b)
	s[v] = v
	return v
}
