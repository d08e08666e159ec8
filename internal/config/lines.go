package config

import (
	"gopkg.in/yaml.v3"

	"github.com/probity-edu/probity/internal/yamlpath"
)

// keyPath is the path of the key name on line, or name itself when the
// document has no such key there.
func keyPath(root *yaml.Node, line int, name string) string {
	if p := yamlpath.PathAt(root, line, name); p != "" {
		return p
	}
	return name
}
