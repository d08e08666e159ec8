package standards

import (
	"bytes"
	"fmt"
	"slices"
	"sync"

	"gopkg.in/yaml.v3"
)

// Field types of measurements.yaml.
const (
	TypeFloat  = "float"
	TypeInt    = "int"
	TypeBool   = "bool"
	TypeString = "string"
)

// Units a field may have; empty is for bool and string fields.
var Units = []string{"ms", "s", "min", "%", "Mbit/s", "bit/s", "bytes", "days", "°C", "W", "dBm", "/s", "packets", "count"}

// Table is every measurement the agent produces.
type Table struct {
	CommonTags   []Tag         `yaml:"common_tags" json:"common_tags"` // on every point: site, agent
	Measurements []Measurement `yaml:"measurements" json:"measurements"`
}

// Measurement is one measurement with its tags and fields.
type Measurement struct {
	Name   string  `yaml:"name" json:"name"`
	Doc    string  `yaml:"doc" json:"doc"`
	Noun   string  `yaml:"noun" json:"noun"` // what one point is called: "lookups"
	Tags   []Tag   `yaml:"tags" json:"tags"`
	Fields []Field `yaml:"fields" json:"fields"`
}

// Tag is one tag key. Values, when set, are all the values it takes.
type Tag struct {
	Name   string   `yaml:"name" json:"name"`
	Doc    string   `yaml:"doc" json:"doc"`
	Values []string `yaml:"values" json:"values,omitempty"`
}

// Field is one field with its type and unit.
type Field struct {
	Name   string   `yaml:"name" json:"name"`
	Type   string   `yaml:"type" json:"type"`
	Unit   string   `yaml:"unit" json:"unit,omitempty"`
	Doc    string   `yaml:"doc" json:"doc"`
	Values []string `yaml:"values" json:"values,omitempty"`
}

// Numeric reports whether statistics other than share make sense on f.
func (f Field) Numeric() bool { return f.Type == TypeFloat || f.Type == TypeInt }

// Lookup returns the measurement called name.
func (t Table) Lookup(name string) (Measurement, bool) {
	for _, m := range t.Measurements {
		if m.Name == name {
			return m, true
		}
	}
	return Measurement{}, false
}

// Tag returns the tag key of m or a common tag.
func (t Table) Tag(m Measurement, name string) (Tag, bool) {
	for _, tg := range append(slices.Clip(m.Tags), t.CommonTags...) {
		if tg.Name == name {
			return tg, true
		}
	}
	return Tag{}, false
}

// Field returns the field called name.
func (m Measurement) Field(name string) (Field, bool) {
	for _, f := range m.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

var embedded = sync.OnceValues(func() (Table, error) { return parseTable(measurementsYAML) })

// Measurements returns the embedded measurement table (a copy: callers may
// not change the package's). It panics if the embedded file is invalid,
// which TestMeasurementsLoad rules out.
func Measurements() Table {
	t, err := embedded()
	if err != nil {
		panic(err)
	}
	return t.clone()
}

func (t Table) clone() Table {
	out := Table{CommonTags: cloneTags(t.CommonTags)}
	for _, m := range t.Measurements {
		m.Tags = cloneTags(m.Tags)
		m.Fields = slices.Clone(m.Fields)
		for i := range m.Fields {
			m.Fields[i].Values = slices.Clone(m.Fields[i].Values)
		}
		out.Measurements = append(out.Measurements, m)
	}
	return out
}

func cloneTags(ts []Tag) []Tag {
	ts = slices.Clone(ts)
	for i := range ts {
		ts[i].Values = slices.Clone(ts[i].Values)
	}
	return ts
}

// parseTable decodes measurements.yaml strictly and checks it is coherent.
func parseTable(data []byte) (Table, error) {
	var t Table
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&t); err != nil {
		return Table{}, fmt.Errorf("measurements.yaml: %w", err)
	}
	seen := map[string]bool{}
	for _, tg := range t.CommonTags {
		seen["tag "+tg.Name] = true
	}
	for _, m := range t.Measurements {
		if m.Name == "" || m.Noun == "" || m.Doc == "" || len(m.Fields) == 0 {
			return Table{}, fmt.Errorf("measurements.yaml: measurement %q needs name, doc, noun and fields", m.Name)
		}
		if seen[m.Name] {
			return Table{}, fmt.Errorf("measurements.yaml: measurement %s listed twice", m.Name)
		}
		seen[m.Name] = true
		names := map[string]bool{}
		for _, tg := range append(slices.Clip(m.Tags), t.CommonTags...) {
			if tg.Name == "" || tg.Doc == "" || names[tg.Name] {
				return Table{}, fmt.Errorf("measurements.yaml: %s: tag %q is unnamed, undocumented or repeated", m.Name, tg.Name)
			}
			names[tg.Name] = true
		}
		fields := map[string]bool{}
		for _, f := range m.Fields {
			if f.Name == "" || f.Doc == "" || fields[f.Name] {
				return Table{}, fmt.Errorf("measurements.yaml: %s: field %q is unnamed, undocumented or repeated", m.Name, f.Name)
			}
			fields[f.Name] = true
			switch f.Type {
			case TypeFloat, TypeInt:
				if !slices.Contains(Units, f.Unit) {
					return Table{}, fmt.Errorf("measurements.yaml: %s.%s: unit %q is not one of %v", m.Name, f.Name, f.Unit, Units)
				}
			case TypeBool, TypeString:
				if f.Unit != "" {
					return Table{}, fmt.Errorf("measurements.yaml: %s.%s: a %s field has no unit", m.Name, f.Name, f.Type)
				}
			default:
				return Table{}, fmt.Errorf("measurements.yaml: %s.%s: type %q is not float, int, bool or string", m.Name, f.Name, f.Type)
			}
		}
		if f, ok := m.Field("ok"); ok && f.Type != TypeBool {
			return Table{}, fmt.Errorf("measurements.yaml: %s.ok must be a bool", m.Name)
		}
	}
	return t, nil
}
