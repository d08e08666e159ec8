package config

import (
	"reflect"
	"time"

	"gopkg.in/yaml.v3"
)

// Redacted is what a secret looks like in printed configuration.
const Redacted = "<redacted>"

// Print renders v as YAML with every non-empty field tagged `secret:"true"`
// replaced by <redacted>, durations written as 30s rather than nanoseconds.
// This is what --config.check shows.
func Print(v any) (string, error) {
	n := toNode(reflect.ValueOf(v), false)
	b, err := yaml.Marshal(n)
	return string(b), err
}

func toNode(v reflect.Value, secret bool) *yaml.Node {
	for v.Kind() == reflect.Ptr || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
		}
		v = v.Elem()
	}
	if secret && v.Kind() == reflect.String && v.String() != "" {
		return &yaml.Node{Kind: yaml.ScalarNode, Value: Redacted}
	}
	if v.Type() == durationType {
		return &yaml.Node{Kind: yaml.ScalarNode, Value: time.Duration(v.Int()).String()}
	}
	if m, ok := v.Interface().(yaml.Marshaler); ok {
		out, err := m.MarshalYAML()
		if err == nil {
			var n yaml.Node
			if n.Encode(out) == nil {
				return &n
			}
		}
	}
	switch v.Kind() {
	case reflect.Struct:
		n := &yaml.Node{Kind: yaml.MappingNode}
		addFields(n, v)
		return n
	case reflect.Slice, reflect.Array:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		for i := 0; i < v.Len(); i++ {
			n.Content = append(n.Content, toNode(v.Index(i), secret))
		}
		return n
	case reflect.Map:
		n := &yaml.Node{Kind: yaml.MappingNode}
		iter := v.MapRange()
		for iter.Next() {
			var k yaml.Node
			_ = k.Encode(iter.Key().Interface())
			n.Content = append(n.Content, &k, toNode(iter.Value(), secret))
		}
		return n
	}
	var n yaml.Node
	_ = n.Encode(v.Interface())
	return &n
}

func addFields(n *yaml.Node, v reflect.Value) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		name, inline := yamlKey(sf)
		if inline {
			addFields(n, v.Field(i))
			continue
		}
		if name == "" {
			continue
		}
		fv := v.Field(i)
		if (fv.Kind() == reflect.Ptr || fv.Kind() == reflect.Map || fv.Kind() == reflect.Slice) && fv.IsNil() {
			continue
		}
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: name},
			toNode(fv, sf.Tag.Get("secret") == "true"))
	}
}
