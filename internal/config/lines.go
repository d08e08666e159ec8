package config

import (
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// keyIndex remembers, for each key in a YAML document, its path and line.
type keyIndex []struct {
	path string
	name string
	line int
}

func keyLines(root *yaml.Node) keyIndex {
	var idx keyIndex
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i]
				p := k.Value
				if path != "" {
					p = path + "." + k.Value
				}
				idx = append(idx, struct {
					path string
					name string
					line int
				}{p, k.Value, k.Line})
				walk(n.Content[i+1], p)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, path+"["+strconv.Itoa(i)+"]")
			}
		}
	}
	walk(root, "")
	return idx
}

// find returns the path of the key name on line, or name itself.
func (idx keyIndex) find(line int, name string) string {
	for _, k := range idx {
		if k.line == line && k.name == name {
			return k.path
		}
	}
	return name
}

// valueAt returns the path of the last key on line (the one whose value is there).
func (idx keyIndex) valueAt(line int) string {
	p := ""
	for _, k := range idx {
		if k.line == line {
			p = k.path
		}
	}
	return p
}

// lineOf finds the line of a key path, or of its nearest ancestor present in
// the file; 0 when nothing of it is in the file.
func lineOf(root *yaml.Node, path string) int {
	if root == nil || path == "" {
		return 0
	}
	idx := keyLines(root)
	for p := path; p != ""; p = parent(p) {
		for _, k := range idx {
			if k.path == p {
				return k.line
			}
		}
		// A list element has no key of its own: use the line of its first key.
		for _, k := range idx {
			if strings.HasPrefix(k.path, p+".") {
				return k.line
			}
		}
	}
	return 0
}

func parent(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

// NodeAt returns the value node at a key path such as probes[1].ping, or nil.
func NodeAt(root *yaml.Node, path string) *yaml.Node {
	n := root
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	for _, part := range splitPath(path) {
		if n == nil {
			return nil
		}
		if i, err := strconv.Atoi(part); err == nil && n.Kind == yaml.SequenceNode {
			if i < 0 || i >= len(n.Content) {
				return nil
			}
			n = n.Content[i]
			continue
		}
		if n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for j := 0; j+1 < len(n.Content); j += 2 {
			if n.Content[j].Value == part {
				next = n.Content[j+1]
			}
		}
		n = next
	}
	return n
}

// splitPath turns probes[1].ping into [probes 1 ping].
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
