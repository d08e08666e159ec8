// Package yamlpath finds nodes and lines in a parsed YAML document by key
// path (requirements[3].rule.conditions[0].field), so that errors found on
// decoded values can name the file line a person has to fix.
package yamlpath

import (
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// NodeAt returns the value node at path, or nil.
func NodeAt(root *yaml.Node, path string) *yaml.Node {
	n, _ := walk(root, path)
	return n
}

// LineOf returns the line of the key at path, or of its nearest ancestor in
// the file (a missing required key is reported where its parent is).
func LineOf(root *yaml.Node, path string) int {
	for p := path; ; p = Parent(p) {
		if p == "" {
			return 0 // nothing of the path is in the document
		}
		if n, key := walk(root, p); n != nil {
			if key != nil {
				return key.Line
			}
			return n.Line
		}
	}
}

// walk follows path from root; it returns the value node and, when the last
// step was a mapping key, the key node.
func walk(root *yaml.Node, path string) (val, key *yaml.Node) {
	n := root
	if n == nil {
		return nil, nil
	}
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return nil, nil
		}
		n = n.Content[0]
	}
	for _, part := range splitPath(path) {
		key = nil
		if i, err := strconv.Atoi(part); err == nil && n.Kind == yaml.SequenceNode {
			if i < 0 || i >= len(n.Content) {
				return nil, nil
			}
			n = n.Content[i]
			continue
		}
		if n.Kind != yaml.MappingNode {
			return nil, nil
		}
		var next *yaml.Node
		for j := 0; j+1 < len(n.Content); j += 2 {
			if n.Content[j].Value == part {
				key, next = n.Content[j], n.Content[j+1]
			}
		}
		if next == nil {
			return nil, nil
		}
		n = next
	}
	return n, key
}

// PathAt finds the path of the key called name on line (the decoder names
// unknown keys by line and name); without a name, the last key on the line.
func PathAt(root *yaml.Node, line int, name string) string {
	found := ""
	var visit func(n *yaml.Node, path string)
	visit = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				visit(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i]
				p := k.Value
				if path != "" {
					p = path + "." + k.Value
				}
				if k.Line == line && (name == "" || k.Value == name) {
					found = p
				}
				visit(n.Content[i+1], p)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				visit(c, path+"["+strconv.Itoa(i)+"]")
			}
		}
	}
	if root != nil {
		visit(root, "")
	}
	return found
}

func Parent(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

// splitPath turns a[1].b into [a 1 b].
func splitPath(p string) []string {
	p = strings.NewReplacer("[", ".", "]", "").Replace(p)
	var out []string
	for _, s := range strings.Split(p, ".") {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
