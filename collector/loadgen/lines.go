package loadgen

import (
	"fmt"
	"sort"
	"strconv"

	"github.com/influxdata/line-protocol/v2/lineprotocol"

	"github.com/probity-edu/probity/internal/point"
)

// The load generator shares the machine with the collector it measures,
// so it writes line protocol directly rather than building point.Point
// maps and encoding them: every series of the mix is a shape, its
// measurement, tags and constant fields rendered once, and a run appends
// only the values that vary and the timestamp.

// shape is one series' line: "measurement,tags fields timestamp", with the
// tags and fields in sorted key order and escaped as point.Encode writes
// them. The fields a run varies are slots, filled in the order the shape
// declared them.
type shape struct {
	segs  []seg  // the text up to each slot, in the line's order
	tail  string // the text after the last slot, up to the timestamp
	slots int
}

// seg is the constant text before a slot, and the slot.
type seg struct {
	lit  string
	slot int
}

// field is one field of a shape: a constant (float64, int64, bool or
// string), or slot when each run gives its value.
type field struct {
	key string
	val any
}

// slotMark is the type of slot.
type slotMark struct{}

// slot marks a field whose value each run gives.
var slot slotMark

// placeholder stands for a slot's value while a shape is rendered, to be
// cut out of the text.
const placeholder = "false"

// newShape renders a series once. It uses the encoder point.Encode uses,
// so escaping and number formatting are those of the agent's batches. A
// field or tag line protocol cannot carry is a mistake in the mix: it
// panics.
func newShape(measurement string, tagSet map[string]string, fields ...field) *shape {
	slotOf := map[string]int{}
	sorted := make([]field, 0, len(fields))
	for _, f := range fields {
		if _, ok := f.val.(slotMark); ok {
			slotOf[f.key] = len(slotOf)
		}
		sorted = append(sorted, f)
	}
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].key < sorted[j].key })

	var enc lineprotocol.Encoder
	enc.SetPrecision(lineprotocol.Nanosecond)
	enc.StartLine(measurement)
	for _, k := range point.SortedKeys(tagSet) {
		if tagSet[k] != "" { // as point.Encode: line protocol has no empty tag values
			enc.AddTag(k, tagSet[k])
		}
	}
	sh := &shape{slots: len(slotOf)}
	mark := 0
	for _, f := range sorted {
		n, isSlot := slotOf[f.key]
		v, ok := lineprotocol.BoolValue(false), true // renders as placeholder
		if !isSlot {
			v, ok = lineprotocol.NewValue(f.val)
		}
		if !ok {
			panic(fmt.Sprintf("loadgen: %s field %s: unsupported value %v (%T)", measurement, f.key, f.val, f.val))
		}
		enc.AddField(f.key, v)
		mustEncode(&enc, measurement)
		if isSlot {
			b := enc.Bytes()
			sh.segs = append(sh.segs, seg{lit: string(b[mark : len(b)-len(placeholder)]), slot: n})
			mark = len(b)
		}
	}
	mustEncode(&enc, measurement)
	sh.tail = string(enc.Bytes()[mark:]) + " "
	return sh
}

func mustEncode(enc *lineprotocol.Encoder, measurement string) {
	if err := enc.Err(); err != nil {
		panic(fmt.Sprintf("loadgen: %s: %v", measurement, err))
	}
}

// append appends one line of the shape at ns (Unix nanoseconds), vals
// filling its slots in the order they were declared.
func (sh *shape) append(b []byte, ns int64, vals ...val) []byte {
	if len(vals) != sh.slots {
		panic(fmt.Sprintf("loadgen: %d values for %d slots", len(vals), sh.slots))
	}
	for _, s := range sh.segs {
		b = append(b, s.lit...)
		b = vals[s.slot].append(b)
	}
	b = append(b, sh.tail...)
	b = strconv.AppendInt(b, ns, 10)
	return append(b, '\n')
}

// val is a field value of a run: a typed union, so that passing values
// to shape.append boxes nothing.
type val struct {
	kind valKind
	f    float64
	i    int64 // also a bool, 0 or 1
	s    string
}

type valKind uint8

const (
	floatVal valKind = iota
	intVal
	boolVal
	stringVal
)

func fval(x float64) val { return val{kind: floatVal, f: x} }
func ival(x int64) val   { return val{kind: intVal, i: x} }
func sval(x string) val  { return val{kind: stringVal, s: x} }

func bval(x bool) val {
	v := val{kind: boolVal}
	if x {
		v.i = 1
	}
	return v
}

// append formats v as lineprotocol.Value.AppendBytes does. Floats are
// finite: the mix draws none that are not.
func (v val) append(b []byte) []byte {
	switch v.kind {
	case floatVal:
		return strconv.AppendFloat(b, v.f, 'g', -1, 64)
	case intVal:
		return append(strconv.AppendInt(b, v.i, 10), 'i')
	case boolVal:
		if v.i != 0 {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	default:
		return appendString(b, v.s)
	}
}

// appendString appends s as a quoted string field, escaping what line
// protocol escapes there (backslash, quote, and \n, \r, \t as letters).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\', '"':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
