package yamlpath

import (
	"testing"

	"gopkg.in/yaml.v3"
)

const doc = `name: x
probes:
  - name: a
    ping:
      count: 5
  - {name: b, kind: dns}
`

func TestPaths(t *testing.T) {
	var root yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &root); err != nil {
		t.Fatal(err)
	}
	lines := map[string]int{"name": 1, "probes": 2, "probes[0]": 3, "probes[0].ping.count": 5, "probes[1].kind": 6, "probes[1].missing": 6, "nothing": 0}
	for path, want := range lines {
		if got := LineOf(&root, path); got != want {
			t.Errorf("LineOf(%s) = %d, want %d", path, got, want)
		}
	}
	if n := NodeAt(&root, "probes[0].ping.count"); n == nil || n.Value != "5" {
		t.Errorf("NodeAt count: %v", n)
	}
	if NodeAt(&root, "probes[7]") != nil {
		t.Error("NodeAt out of range")
	}
	if got := PathAt(&root, 6, "kind"); got != "probes[1].kind" {
		t.Errorf("PathAt = %q", got)
	}
	if got := PathAt(&root, 5, ""); got != "probes[0].ping.count" {
		t.Errorf("PathAt last key = %q", got)
	}
	if got := Parent("a.b[2].c"); got != "a.b[2]" {
		t.Errorf("Parent = %q", got)
	}
}
