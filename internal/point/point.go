// Package point is the data model shared by the agent and the collector: one
// measurement with tags, fields and a time, as InfluxDB defines it, encoded on
// the wire as line protocol through influxdata/line-protocol/v2.
package point

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"time"
)

// Point is one observation. Tags identify the series (low cardinality);
// fields carry the values. Field values are float64, int64, uint64, bool or
// string only.
type Point struct {
	Measurement string
	Tags        map[string]string
	Fields      map[string]any
	Time        time.Time
}

// New builds a point, copying nothing: callers hand over the maps.
func New(measurement string, tags map[string]string, fields map[string]any, t time.Time) Point {
	if tags == nil {
		tags = map[string]string{}
	}
	return Point{Measurement: measurement, Tags: tags, Fields: fields, Time: t}
}

// ErrInvalid is wrapped by every validation error of this package.
var ErrInvalid = errors.New("point: invalid")

// Validate checks what line protocol and the store need: a measurement, at
// least one field, field values of a supported type, a time.
func (p Point) Validate() error {
	if p.Measurement == "" {
		return fmt.Errorf("%w: empty measurement", ErrInvalid)
	}
	if len(p.Fields) == 0 {
		return fmt.Errorf("%w: %s has no fields", ErrInvalid, p.Measurement)
	}
	for k, v := range p.Fields {
		if k == "" {
			return fmt.Errorf("%w: %s has an empty field key", ErrInvalid, p.Measurement)
		}
		switch x := v.(type) {
		case int64, uint64, bool, string:
		case float64:
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return fmt.Errorf("%w: %s field %s is %v", ErrInvalid, p.Measurement, k, x)
			}
		default:
			return fmt.Errorf("%w: %s field %s has unsupported type %T", ErrInvalid, p.Measurement, k, v)
		}
	}
	for k := range p.Tags {
		if k == "" {
			return fmt.Errorf("%w: %s has an empty tag key", ErrInvalid, p.Measurement)
		}
	}
	if p.Time.IsZero() {
		return fmt.Errorf("%w: %s has no time", ErrInvalid, p.Measurement)
	}
	return nil
}

// Float returns a numeric or boolean field as float64 (true is 1).
func (p Point) Float(field string) (float64, bool) {
	return AsFloat(p.Fields[field])
}

// AsFloat converts a field value to float64 where that makes sense.
func AsFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	case int:
		return float64(x), true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// SortedKeys returns the keys of m in lexical order; line protocol wants tags
// sorted, and stable output makes tests and diffs readable.
func SortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// SeriesKey identifies a series: measurement and sorted tags, in line
// protocol's own syntax (unescaped; for grouping, not for parsing).
func (p Point) SeriesKey() string {
	s := p.Measurement
	for _, k := range SortedKeys(p.Tags) {
		s += "," + k + "=" + p.Tags[k]
	}
	return s
}
